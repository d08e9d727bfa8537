/*
 * normalize.h - answer normalisation for the text rewards (exact, contains,
 * mcq option text) and small helpers those rewards share: Unicode NFKC +
 * case folding + punctuation/article/whitespace removal ("default"), the
 * SQuAD evaluate-v2.0 normaliser ("squad"), or nothing ("none").
 *
 * Not for: math equivalence (src/math) or answer extraction (extract.h).
 * Meant for short extracted answers: pure-ASCII text takes a fast path;
 * only non-ASCII runs go through utf8proc, and never through malloc.
 */
#ifndef RK_TEXT_NORMALIZE_H
#define RK_TEXT_NORMALIZE_H

#include "core/core.h"

/* Steps of the "default" normaliser, in the order they run. */
enum {
  RK__NORM_LATEX = 1u << 0,    /* drop \text \textbf \mathrm \mbox ... command names */
  RK__NORM_NFKC = 1u << 1,     /* Unicode NFKC (compatibility composition) */
  RK__NORM_CASEFOLD = 1u << 2, /* Unicode case folding */
  RK__NORM_PUNCT = 1u << 3,    /* delete punctuation (Unicode categories P*) */
  RK__NORM_ARTICLES = 1u << 4, /* whole words a / an / the -> " " */
  RK__NORM_SPACE = 1u << 5,    /* whitespace runs -> one space, trimmed */
  RK__NORM_ALL = 0x3f
};

typedef enum rk__norm_kind {
  RK__NORM_DEFAULT = 0, /* the steps above (all on by default) */
  RK__NORM_SQUAD,       /* SQuAD: lower, ASCII punctuation, articles, spaces */
  RK__NORM_NONE         /* trim only (plus case folding if asked) */
} rk__norm_kind;

typedef struct rk__norm {
  rk__norm_kind kind;
  unsigned steps; /* RK__NORM_* bits; for squad/none only CASEFOLD is read */
} rk__norm;

/* The default normaliser with every step on. */
rk__norm rk__norm_default(void);

/* Reads the normalisation arguments of a text reward:
 *   "normalize": "default" | "squad" | "none" (default "default"),
 *   "case_sensitive": bool (default false; true turns off case folding
 *       in every kind),
 *   "nfkc", "strip_punctuation", "strip_articles", "collapse_whitespace",
 *   "unwrap_latex": bools, default true, "default" kind only.
 * Returns 0, or -1 after rk__arg_error. */
int rk__norm_compile(rk__argctx *ac, rk__norm *out);

/* Normalises `in` into memory from `a` (or returns a sub-span of `in` when
 * nothing changes). Never fails on bad UTF-8: invalid bytes become U+FFFD.
 * Costs what rk__norm_steps says; callers charge that first. Returns 0,
 * or -1 when the arena is exhausted. */
int rk__normalize(const rk__norm *nm, rk__arena *a, rk__str in, rk__str *out);

/* The steps rk__normalize(nm, ., in) costs: 2 per byte, plus, with NFKC,
 * the canonical ordering of combining marks, which utf8proc does by
 * insertion (a run of k marks in descending class order takes k(k-1)/2
 * swaps, charged k^2/2: "a" + 20,000 U+0301 + 20,000 U+0316 took 7 s charged 2 steps a
 * byte). Text without combining marks costs 2 per byte. */
uint64_t rk__norm_steps(const rk__norm *nm, rk__str in);

/* Same as rk__normalize with the exact SQuAD evaluate-v2.0 recipe:
 * norm("The U.S.A. isn't") = "usa isnt". */
int rk__normalize_squad(rk__arena *a, rk__str in, rk__str *out);

/* A lower bound on the length of rk__normalize's output for s, under any
 * kind and steps: ASCII letters and digits other than those of articles
 * (a n t h e) and of LaTeX command names always survive as at least one
 * byte each. Counting stops once the bound passes `stop`, so rejecting a
 * long answer against a short reference costs a few dozen bytes. */
size_t rk__norm_min_len(rk__str s, size_t stop);

/* ------------------------------------------------------------ helpers */

/* ASCII whitespace trim (space, \t, \n, \v, \f, \r). */
rk__str rk__text_trim(rk__str s);

/* Removes what wraps a final answer (data README rule 1): surrounding
 * whitespace, markdown '*' runs at either end, one sentence-final '.',
 * and $...$, $$...$$, \(...\), \[...\] or \boxed{...} around the whole
 * answer. Returns a sub-span of s. */
rk__str rk__text_clean(rk__str s);

/* Last non-empty line of s, cleaned as above; n = 0 when there is none.
 * The fallback answer span of mcq and yes_no. */
rk__str rk__text_last_line(rk__str s);

/* For explanations: how many bytes of s to show (at most max, cut on a
 * UTF-8 boundary) and whether it was cut. Use with "'%.*s%s'". */
int rk__text_clip(rk__str s, int max, const char **ellipsis);

/* Counts whitespace-separated words (ASCII whitespace). */
size_t rk__text_words(rk__str s);

/* Reference strings of the record (rk__ref_strings) with ASCII whitespace
 * trimmed and empty ones dropped. Returns the count (<= max). *had_any is
 * set when the reference existed at all (even if every item was empty). */
size_t rk__text_refs(const rk__call *c, rk__str *out, size_t max, int *had_any);


#endif /* RK_TEXT_NORMALIZE_H */
