/*
 * edit_common.h - plumbing shared by the edit-distance and open-answer
 * metrics (cer, wer, edit_ratio, anls, vqa_acc, relaxed_acc, keywords,
 * keyword_chain, lang_consistency): extraction defaults, the optional
 * normaliser, reference lists, and budget-charged distances whose timeout
 * explains itself.
 *
 * Not for: metric formulas (each lives in its own file).
 */
#ifndef RK_METRICS_EDIT_COMMON_H
#define RK_METRICS_EDIT_COMMON_H

#include "core/core.h"
#include "metrics/levenshtein.h"
#include "text/extract.h"
#include "text/normalize.h"


/* Reads "extract" etc. (text/extract.h); when "extract" is absent the
 * modes are def[0..ndef) tried in order. */
int rk__edm_extract_compile(rk__argctx *ac, const rk__ex_mode *def, int ndef,
                            rk__extract_cfg *ex);

/* The record's references (refs holds RK__MAX_REFS, *nref set) and the
 * answer extracted from its response: RK_STATUS_OK, invalid_reference
 * (explained: no reference, or one of the wrong type) or the extraction's
 * status. The common start of every edit-distance metric. */
rk_status rk__edm_refs_answer(const rk__extract_cfg *ex, rk__call *c, rk__str *refs,
                              size_t *nref, rk__str *ans);

/* Optional normaliser: "normalize": "none" | "default" | "squad" (default
 * `def`), "case_sensitive" (default true for "none", false otherwise). */
typedef struct rk__edm_norm {
  int on;      /* 0: the text is used as is */
  rk__norm nm;
} rk__edm_norm;
int rk__edm_norm_compile(rk__argctx *ac, int def_on, rk__edm_norm *out);
/* Applies it (or returns in unchanged). RK_STATUS_OK, TIMEOUT or ERROR. */
rk_status rk__edm_normalize(const rk__edm_norm *n, rk__call *c, rk__str in,
                            rk__str *out);


/* Levenshtein distance (or LCS when lcs != 0) of two symbol sequences with
 * the budget charged first. On TIMEOUT the explanation says how big the
 * problem was ("edit distance of 120000 x 90000 code points ..."). */
rk_status rk__edm_lev(rk__call *c, const uint32_t *x, size_t nx,
                      const uint32_t *y, size_t ny, int lcs, const char *unit,
                      long *out);

/* The same on byte symbols (rk__cp_narrow): same charge, same result. */
rk_status rk__edm_lev8(rk__call *c, const uint8_t *x, size_t nx, const uint8_t *y,
                       size_t ny, int lcs, const char *unit, long *out);

/* One side of a distance over code points. Most texts are ASCII or
 * Latin-1: they are compared as bytes (rk__cp_narrow; ASCII in place,
 * without a copy), and decoded to code points only when the other side
 * needs it. */
typedef struct rk__edm_text {
  rk__str s;
  const uint8_t *b; /* byte symbols, or NULL when some code point is >= 256 */
  size_t n;         /* length in code points */
  size_t lo;        /* code points cut from the front by rk__edm_text_strip */
  rk__seq cp;       /* code points (from lo), cp.v NULL until decoded */
} rk__edm_text;
/* Room of the buffer rk__edm_text_prepare is given: texts of up to
 * RK__EDM_STACK - RK__NARROW_ROOM bytes use it, longer ones the arena. */
#define RK__EDM_STACK 512
/* Charges what rk__edm_decode charges (statuses and timeouts stay those
 * of decoding every text) and prepares the byte view when there is one. */
rk_status rk__edm_text_prepare(rk__call *c, rk__str s, uint8_t *buf, rk__edm_text *t);
/* Cuts Unicode whitespace from both ends (Python's str.strip()). */
void rk__edm_text_strip(rk__edm_text *t);
/* Levenshtein distance (or LCS when lcs != 0) of two prepared texts, on
 * bytes when both have them, else on code points (as rk__edm_lev). */
rk_status rk__edm_text_lev(rk__call *c, rk__edm_text *x, rk__edm_text *y, int lcs,
                           const char *unit, long *out);

/* Decodes s to code points in the arena (charging the budget). */
rk_status rk__edm_decode(rk__call *c, rk__str s, rk__seq *out);

/* Formats v with rk__fmt_double into buf (32 bytes) and returns buf. */
const char *rk__edm_num(char *buf, double v);

/* Python's float(s) (relaxed_acc.c): 1 and *out, or 0 where Python raises
 * ValueError. On code points, and on ASCII bytes (an exact fast path for
 * short decimals, else the code-point reader). */
int rk__py_float(const uint32_t *s, size_t n, double *out);
int rk__py_float_ascii(const char *p, size_t n, double *out);

#endif /* RK_METRICS_EDIT_COMMON_H */
