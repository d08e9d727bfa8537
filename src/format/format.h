/*
 * format.h - internal entry points of the format-and-shaping family
 * (format, regex, json, overlong_dapo, soft_overlong, cosine_length,
 * repetition). The reward functions themselves are the rk__fn_* objects in
 * core/registry.h; the pure functions below compute the same results
 * without a spec or a record, for unit tests, fuzzers and benchmarks.
 *
 * Not for: answer extraction (text/extract.h) or regexes on text that a
 * built-in check can scan directly.
 */
#ifndef RK_FORMAT_FORMAT_H
#define RK_FORMAT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ------------------------------------------------ Python's whitespace */

/* Byte length of the whitespace character at p[0..n), 0 if p[0] does not
 * start one. Whitespace = Python's str.isspace() / the `\s` of a str
 * pattern: \t \n \v \f \r, \x1c-\x1f, space, U+0085, U+00A0, U+1680,
 * U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. Frameworks
 * compute their regexes and str.split() in Python, so this is the set
 * parity needs. */
size_t rk__py_space(const char *p, size_t n);
/* Byte classes for fast scans: 0 = cannot start whitespace, 1 = ASCII
 * whitespace, 2 = may start a multi-byte whitespace (0xC2, 0xE1-0xE3). */
extern const unsigned char rk__py_space_class[256];
/* rk__py_space with the common cases inlined (n >= 1). */
static inline size_t rk__py_space_fast(const char *p, size_t n) {
  unsigned k = rk__py_space_class[(unsigned char)*p];
  return k < 2 ? k : rk__py_space(p, n);
}
/* 1 if p[0..n) is empty or all whitespace. */
int rk__py_all_space(const char *p, size_t n);
/* Number of Unicode code points (bytes that are not UTF-8 continuation
 * bytes; a stray byte counts as one). */
size_t rk__utf8_count(const char *p, size_t n);

/* ------------------------------------------------------------- format */

#define RK__FMT_MAX_TAGS 8
#define RK__FMT_MAX_NAME 64

typedef enum rk__fmt_preset {
  RK__FMT_TAGS = 0, /* strict tag structure (the default) */
  RK__FMT_R1,       /* <think>.*?</think>\s*<answer>.*?</answer>, fullmatch */
  RK__FMT_GEO3K,    /* <think>.*</think>.*\\boxed\{.*\}.*, fullmatch */
  RK__FMT_RLPR,     /* 4 tags once each + <think>.*</think>.*<answer>.*</answer>.* */
  RK__FMT_THINK     /* TRL think_format_reward: ^<think>(?!.*<think>)(.*?)</think>.*$ */
} rk__fmt_preset;

typedef struct rk__fmt_cfg {
  rk__fmt_preset preset;
  size_t ntags;                          /* 1..RK__FMT_MAX_TAGS */
  char open[RK__FMT_MAX_TAGS][RK__FMT_MAX_NAME + 4];  /* "<think>" */
  char close[RK__FMT_MAX_TAGS][RK__FMT_MAX_NAME + 4]; /* "</think>" */
  size_t open_len[RK__FMT_MAX_TAGS], close_len[RK__FMT_MAX_TAGS];
  int allow_prefix;     /* text (not only whitespace) before the first tag */
  int allow_suffix;     /* ... after the last tag */
  int allow_between;    /* ... between two blocks */
  int nonempty;         /* every block holds a non-whitespace character */
  int require_boxed;    /* \boxed{...} in the last block (one tag: after it) */
  int strip_tag_spaces; /* EasyR1: re.sub(r"\s*(<|>|/)\s*", r"\1", s) first */
} rk__fmt_cfg;

/* Fills cfg for a preset with the tag names (NULL: "think", "answer").
 * Returns 0, or -1 when a name is empty, too long, holds '<', '>', '/' or
 * whitespace, or the preset needs another number of tags (r1 and rlpr: 2,
 * geo3k and think: 1); *why then says which. */
int rk__fmt_init(rk__fmt_cfg *cfg, rk__fmt_preset preset,
                 const char *const *names, size_t nnames, const char **why);

/* Checks p[0..n). Returns 1 (format ok), 0 (violation; why holds the first
 * one, e.g. "'<answer>' appears 2 times"), or -1 when the arena could not
 * hold the copy strip_tag_spaces needs. Linear time: memchr/memmem scans,
 * no regex, no backtracking. why may be NULL. */
int rk__fmt_check(const rk__fmt_cfg *cfg, const char *p, size_t n,
                  rk__arena *arena, char *why, size_t whycap);

/* The EasyR1 whitespace strip: writes into out (capacity >= n), returns the
 * new length. */
size_t rk__fmt_strip_tag_spaces(const char *p, size_t n, char *out);

/* ------------------------------------------------------------- length */

/* verl DAPO overlong buffer (verl/workers/reward_manager/dapo.py):
 *   expected = max_len - buffer_len
 *   pen = min(-(L - expected) / buffer_len * factor, 0)
 * clamp != 0 additionally floors the penalty at -factor (OpenRLHF's
 * -min(L - expected, buffer_len) / buffer_len * factor). */
double rk__len_dapo(double L, double max_len, double buffer_len,
                    double factor, int clamp);
/* TRL get_soft_overlong_punishment (DAPO paper eq. 13):
 *   0 if L <= max - cache; (max - cache - L) / cache if L <= max; -1 beyond. */
double rk__len_soft_overlong(double L, double max_len, double cache_len);
/* Cosine length scaling (open-r1 / TRL get_cosine_scaled_reward):
 *   v = lo + 0.5 (hi - lo)(1 + cos(pi * t)),  t = L / max_len,
 * clamped to t <= 1 when clamp != 0 (open-r1 does not clamp; its cosine is
 * periodic past max_len). For a correct answer lo = min_correct and
 * hi = max_correct; for a wrong one lo = max_wrong and hi = min_wrong
 * ("swap min/max for incorrect answers"). */
typedef struct rk__cosine_cfg {
  double max_len;
  double min_wrong, max_wrong, min_correct, max_correct;
  int clamp;
} rk__cosine_cfg;
double rk__len_cosine(const rk__cosine_cfg *cfg, double L, int correct);

/* Number of whitespace-separated words (Python len(s.split())). */
size_t rk__count_words(const char *p, size_t n);

/* --------------------------------------------------------- repetition */

typedef struct rk__rep_result {
  size_t words;    /* tokens after splitting */
  size_t total;    /* n-gram windows: words - n + 1 (0 when words < n) */
  size_t unique;   /* distinct windows */
  size_t max_count;/* occurrences of the most frequent window */
} rk__rep_result;

/* Splits p[0..n) into words (separators: Python whitespace, and '_' when
 * split_underscore), optionally lowercased (Python's str.lower(),
 * rk__pylower), and counts n-gram windows.
 * Linear time: words and windows are hashed in arena tables. Returns 0,
 * -1 when the arena is exhausted. */
int rk__rep_ngrams(const char *p, size_t n, size_t ngram, int lowercase,
                   int split_underscore, rk__arena *arena,
                   rk__rep_result *out);
/* The same over pre-split tokens (e.g. token ids from a record field). */
int rk__rep_ngrams_tokens(const rk__str *toks, size_t ntoks, size_t ngram,
                          rk__arena *arena, rk__rep_result *out);
/* TRL penalty: (1 - unique/total) * max_penalty; 0 when total is 0 or
 * nothing repeats (never -0.0). */
double rk__rep_trl(const rk__rep_result *r, double max_penalty);

/* ---------------------------------------------------------------- json */

typedef enum rk__jx_mode {
  RK__JX_AUTO = 0,   /* the last fenced code block if any, else the whole text */
  RK__JX_WHOLE,      /* the whole response, trimmed */
  RK__JX_CODE_BLOCK, /* the last ``` fenced block (language tag dropped) */
  RK__JX_LAST_OBJECT /* the last balanced {...} */
} rk__jx_mode;

/* Finds the JSON candidate in p[0..n). Returns 1 and [*b, *e) (offsets into
 * p, trimmed), 0 when the mode finds nothing, -1 when the arena is
 * exhausted. *how names what was taken ("code block", "whole response",
 * "last object"). */
int rk__json_candidate(const char *p, size_t n, rk__jx_mode mode,
                       rk__arena *arena, size_t *b, size_t *e,
                       const char **how);

#endif /* RK_FORMAT_FORMAT_H */
