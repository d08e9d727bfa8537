/*
 * extract.h - final-answer extraction, shared by every reward that reads an
 * answer out of a response (DESIGN §4): \boxed{}/\fbox{}, <answer> tags,
 * "Answer:" lines, "the answer is", gsm8k "####" (strict) and last number
 * (flexible), markdown bold, code blocks, JSON. Modes are tried in the
 * order given; "auto" is the default cascade (docs/extraction.md).
 *
 * Not for: normalising or comparing answers (see text/normalize.h and the
 * reward functions).
 */
#ifndef RK_TEXT_EXTRACT_H
#define RK_TEXT_EXTRACT_H

#include "core/core.h"

typedef enum rk__ex_mode {
  RK__EX_AUTO = 0,     /* boxed, answer_tag, final_answer, answer_is, answer_line, bold */
  RK__EX_NONE,         /* the whole response, trimmed */
  RK__EX_BOXED,        /* last \boxed{...} or \fbox{...}, nested braces */
  RK__EX_ANSWER_TAG,   /* last <answer>...</answer> (tag names configurable) */
  RK__EX_ANSWER_LINE,  /* last "Answer: ..." up to the end of line */
  RK__EX_ANSWER_IS,    /* last "the (final) answer is ..." */
  RK__EX_GSM8K_STRICT, /* last "#### <number>" (verl gsm8k strict) */
  RK__EX_GSM8K_FLEX,   /* last number (verl gsm8k flexible) */
  RK__EX_LAST_NUMBER,  /* last number anywhere */
  RK__EX_BOLD,         /* last **...** */
  RK__EX_CODE_BLOCK,   /* last ``` fenced block (language tag dropped) */
  RK__EX_JSON,         /* last balanced {...} or [...] that parses as JSON */
  RK__EX__COUNT
} rk__ex_mode;

#define RK__EX_MAX_MODES 8

typedef struct rk__extract_cfg {
  rk__ex_mode modes[RK__EX_MAX_MODES];
  int nmodes;
  size_t tail;         /* look only at the last `tail` bytes; 0 = each
                          mode's default (300 for the gsm8k modes, as verl;
                          else all); "tail": 0 in a spec = all (SIZE_MAX) */
  char *open_tag;      /* "<answer>" by default (answer_tag mode) */
  char *close_tag;     /* "</answer>" */
} rk__extract_cfg;

/* Reads the shared extraction arguments from a function's args:
 *   "extract": mode name or list of names (default `def`),
 *   "tail": bytes (default 0 = whole response),
 *   "answer_tag": tag name without brackets (default "answer").
 * Mode names: auto, none, boxed, answer_tag, answer_line, answer_is,
 * gsm8k_strict, gsm8k_flexible, last_number, bold, code_block, json. */
int rk__extract_cfg_compile(rk__argctx *ac, rk__ex_mode def,
                            rk__extract_cfg *cfg);
void rk__extract_cfg_free(rk__extract_cfg *cfg);

/* Extracts the answer from `in`. OK: *out borrows from `in` (trimmed), or
 * for gsm8k and last_number modes may be a cleaned copy (commas, `$`
 * removed) in c->arena, which lives as long; *how names the mode that
 * matched (static string). UNPARSEABLE: no mode
 * found an answer. TIMEOUT: budget exhausted. Adds an explanation when
 * explaining ("extracted '72' by gsm8k_strict"). */
rk_status rk__extract(const rk__extract_cfg *cfg, rk__call *c, rk__str in,
                      rk__str *out, const char **how);

/* Name of a mode ("boxed"...). */
const char *rk__ex_mode_name(rk__ex_mode m);

#endif /* RK_TEXT_EXTRACT_H */
