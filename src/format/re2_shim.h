/*
 * re2_shim.h - a small C interface over RE2 (libre2-dev is C++ only and
 * Debian 12 has no cre2). RE2 runs in time linear in the subject, so it is
 * the only engine that sees untrusted text or untrusted patterns
 * (DESIGN §9, reference/reliability.md §4).
 *
 * Not for: the built-in format checks (format.c scans bytes, no regex).
 *
 * Thread rules: a compiled rk__re is immutable and may be matched from any
 * number of threads at once (RE2 guards its lazily built DFA cache itself).
 * No C++ exception crosses this interface: every entry point catches them
 * and reports a failure instead.
 */
#ifndef RK_FORMAT_RE2_SHIM_H
#define RK_FORMAT_RE2_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rk__re rk__re;

typedef struct rk__re_options {
  size_t max_mem;       /* RE2 memory budget in bytes; 0 = 8 MiB */
  int dot_nl;           /* '.' also matches '\n' (Python re.DOTALL) */
  int case_insensitive; /* Python re.IGNORECASE */
  int literal;          /* the pattern is a plain string, not a regex */
} rk__re_options;

/* Why a pattern did not compile. */
typedef enum rk__re_errkind {
  RK__RE_OK = 0,
  RK__RE_UNSUPPORTED, /* valid elsewhere, not in RE2: backreferences,
                         lookaround, atomic groups, \Z, possessive ... */
  RK__RE_INVALID,     /* a syntax error in any dialect */
  RK__RE_TOO_BIG,     /* the program would not fit in max_mem */
  RK__RE_NOMEM        /* allocation failed */
} rk__re_errkind;

/* Compiles pat[0..n) (UTF-8). Returns 0 and *out (free with rk__re_free),
 * or -1 with *kind and RE2's message in err (NUL-terminated, truncated to
 * errcap; e.g. "invalid escape sequence: \1"). err may be NULL. */
int rk__re_compile(const char *pat, size_t n, const rk__re_options *opts,
                   rk__re **out, rk__re_errkind *kind, char *err,
                   size_t errcap);
void rk__re_free(rk__re *re);

/* Number of capturing groups of the pattern. */
int rk__re_groups(const rk__re *re);

/* Work per subject byte in the worst case: the size of the compiled
 * program (>= 1). RE2's DFA is linear, but when its cache overflows on an
 * adversarial pattern it falls back to the NFA, which costs bytes x
 * program size (measured: ~2 s on 1 MiB for [ab]*a[ab]{12}[ab]{0,200}c).
 * Callers charge n * rk__re_cost() to their step budget before matching,
 * so that no search can outlast the budget. */
uint64_t rk__re_cost(const rk__re *re);

/* 1 if the whole subject matches, 0 if not, -1 on an internal failure. */
int rk__re_fullmatch(const rk__re *re, const char *s, size_t n);

/* Leftmost match starting at or after `start` (the text before `start`
 * still counts as context for ^ and \b). 1 and [*mb, *me) when found,
 * 0 when not, -1 on an internal failure. mb/me may be NULL. */
int rk__re_search(const rk__re *re, const char *s, size_t n, size_t start,
                  size_t *mb, size_t *me);

/* Non-overlapping matches from left to right, like Python's re.finditer:
 * after an empty match the next search starts one character (UTF-8
 * sequence) later. Work is bounded by `budget`: each search is charged the
 * bytes it may scan (the rest of the subject, + 1) times rk__re_cost(),
 * before it runs; *spent receives the total charged.
 *
 * rk__re_count stops after max_count matches (0 = no limit).
 * rk__re_find_last returns the last match in [*mb, *me).
 * Both return 1 when at least one match was found (count: *count >= 1),
 * 0 when none, 2 when the budget ran out first (the results so far are
 * set), -1 on an internal failure. */
int rk__re_count(const rk__re *re, const char *s, size_t n, size_t max_count,
                 uint64_t budget, size_t *count, uint64_t *spent);
int rk__re_find_last(const rk__re *re, const char *s, size_t n,
                     uint64_t budget, size_t *mb, size_t *me, uint64_t *spent);

#ifdef __cplusplus
}
#endif
#endif /* RK_FORMAT_RE2_SHIM_H */
