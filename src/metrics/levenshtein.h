/*
 * levenshtein.h - edit distances over sequences of 32-bit symbols (Unicode
 * code points, or word ids from rk__lev_intern), shared by cer, wer,
 * edit_ratio, anls and the keyword rewards; plus the small code-point
 * helpers those metrics use (UTF-8 decoding that never fails, Python's
 * str.isspace on one code point and str.lower).
 *
 * The distances try Ukkonen's diagonal method first (about (d + 1)^2
 * steps for distance d: the usual case of a response close to its
 * reference), then fall back to bit-parallel code (Myers 1999 with
 * Hyyrö's block scheme for patterns longer than 64 symbols; Allison-Dix /
 * Hyyrö for LCS): about n * ceil(m / 64) word operations for lengths
 * m <= n. Byte texts whose shorter side is at most 128 symbols once the
 * common ends are cut have their own bit-parallel kernels (no table of
 * 32-bit symbols; Levenshtein runs the text from both ends at once).
 * Callers charge rk__lev_cost() steps before calling, which is how an
 * oversized input ends in RK_STATUS_TIMEOUT instead of a long stall.
 *
 * Not for: tokenisation or normalisation rules of a particular metric
 * (those live with the metric, e.g. vqa_norm.c).
 */
#ifndef RK_METRICS_LEVENSHTEIN_H
#define RK_METRICS_LEVENSHTEIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* A sequence of symbols in arena memory. */
typedef struct rk__seq {
  uint32_t *v;
  size_t n;
} rk__seq;

/* Decodes UTF-8 into code points: out needs room for n entries. Each byte
 * that does not start a valid sequence becomes U+FFFD (so invalid input is
 * compared, never rejected). Returns the number of code points. */
size_t rk__cp_decode(const char *p, size_t n, uint32_t *out);

/* The code point at s (s < e) and its length in *len: U+FFFD and 1 for a
 * byte that does not start a valid sequence. */
uint32_t rk__cp_next(const unsigned char *s, const unsigned char *e, size_t *len);

/* Decodes into a new arena array; -1 when the arena is exhausted. */
int rk__cp_decode_arena(rk__arena *a, rk__str s, rk__seq *out);

/* Latin-1 view of UTF-8 text, for the byte-wide distances: when s[0..n)
 * decodes (as rk__cp_decode does) to code points that are all below 256,
 * *out points at them one byte each and their count is returned; *out is
 * p itself for ASCII text, else buf (room for n + RK__NARROW_ROOM bytes).
 * SIZE_MAX (buf left partly written) when some code point is >= 256,
 * including the U+FFFD of invalid bytes. */
#define RK__NARROW_ROOM 64
size_t rk__cp_narrow(const char *p, size_t n, uint8_t *buf, const uint8_t **out);

/* Encodes code points as UTF-8 into arena memory (for explanations). */
int rk__cp_encode_arena(rk__arena *a, const uint32_t *v, size_t n, rk__str *out);

/* Python 3 str.isspace() for one code point: bidirectional class WS, B
 * or S, or category Zs. */
static inline int rk__cp_isspace(uint32_t c) {
  if (c <= 0x20) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  if (c < 0x85) return 0;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* The value of a decimal digit of any script (category Nd: what Python's
 * int() and the \d of its str patterns accept), or -1. */
int rk__cp_digit(uint32_t c);

/* Python 3 str.lower() for one code point out of context, as a single
 * code point: the simple lowercase mapping (utf8proc). Python differs for
 * U+0130 (two code points) and for U+03A3, whose lower case depends on
 * its neighbours (text/pycase.h): rk__cp_lower_seq handles both, so a
 * caller that may meet either lowers whole strings with it. */
uint32_t rk__cp_lower(uint32_t c);

/* Python's s.lower() for the whole string s[0..n), into out (room for
 * 2 * n entries: U+0130 expands to "i" + U+0307 as in Python; a capital
 * sigma at the end of a word becomes the final form, as in Python).
 * Returns the new length. */
size_t rk__cp_lower_seq(const uint32_t *s, size_t n, uint32_t *out);

/* Steps a distance between lengths n and m costs (ceil(min/64) * max plus
 * the linear set-up). Saturates instead of overflowing. */
uint64_t rk__lev_cost(size_t n, size_t m);

/* Unit-cost Levenshtein distance. Scratch from `a`; -1 when the arena is
 * exhausted. */
long rk__lev_dist(const uint32_t *x, size_t nx, const uint32_t *y, size_t ny,
                  rk__arena *a);

/* Length of the longest common subsequence; InDel distance is
 * nx + ny - 2 * lcs (python-Levenshtein's ratio() is built on it). */
long rk__lcs_len(const uint32_t *x, size_t nx, const uint32_t *y, size_t ny,
                 rk__arena *a);

/* The same two on byte symbols (rk__cp_narrow), equal to the results on
 * the sequences widened to 32 bits. */
long rk__lev_dist8(const uint8_t *x, size_t nx, const uint8_t *y, size_t ny,
                   rk__arena *a);
long rk__lcs_len8(const uint8_t *x, size_t nx, const uint8_t *y, size_t ny,
                  rk__arena *a);

/* Approximate search (Sellers): the smallest Levenshtein distance between
 * pat and any substring of text, and the end (exclusive, index into text)
 * of the first substring reaching it; early exit once a distance <= stop is
 * seen (pass -1 to scan everything). An empty pattern matches at 0 with
 * distance 0. -1 when the arena is exhausted. */
long rk__lev_search(const uint32_t *pat, size_t m, const uint32_t *text,
                    size_t n, long stop, size_t *end, rk__arena *a);

/* Textbook O(n*m) dynamic programme; the oracle for tests and fuzzing. */
long rk__lev_dist_dp(const uint32_t *x, size_t nx, const uint32_t *y,
                     size_t ny, rk__arena *a);
long rk__lcs_len_dp(const uint32_t *x, size_t nx, const uint32_t *y,
                    size_t ny, rk__arena *a);

/* Word interning: maps words (code-point runs) to small ids, equal words
 * -> equal id. Built in arena memory for one record; holds up to
 * `capacity` distinct words. The words are borrowed, not copied. */
typedef struct rk__lev_intern rk__lev_intern;
rk__lev_intern *rk__lev_intern_new(rk__arena *a, size_t capacity);
/* Id of the word (new or existing); UINT32_MAX past capacity or when
 * the arena is exhausted. The table grows as needed. */
uint32_t rk__lev_intern_id(rk__lev_intern *t, const uint32_t *w, size_t n);
/* The same with the word's hash computed by the caller while scanning:
 * h = RK__LEV_HASH0, then h = RK__LEV_HASH_STEP(h, c) per code point. */
#define RK__LEV_HASH0 2166136261u
/* rotate-xor: one cycle per code point; rk__lev_intern_idh mixes the
 * result before using it (equal words are confirmed with memcmp). */
#define RK__LEV_HASH_STEP(h, c) ((((h) << 5) | ((h) >> 27)) ^ (uint32_t)(c))
uint32_t rk__lev_intern_idh(rk__lev_intern *t, const uint32_t *w, size_t n, uint32_t h);
/* A word given as UTF-8 bytes (h stepped per byte). Do not mix byte words
 * and code-point words in one table: they never compare equal. */
uint32_t rk__lev_intern_idb(rk__lev_intern *t, const char *w, size_t n, uint32_t h);
/* A UTF-8 word with h = rk__ovl_hash(w, n) (metrics/ovl.h): words of up
 * to 8 bytes are then told apart without reading them. Do not mix with
 * the other kinds of word in one table either. */
uint32_t rk__lev_intern_idb64(rk__lev_intern *t, const char *w, size_t n, uint64_t h);
/* Slots looked at past the home slots by the lookups so far (the table
 * keys its slots with rk__hk, so this stays near the number of lookups
 * whatever the words; for the tests). */
size_t rk__lev_intern_probes(const rk__lev_intern *t);
/* Slots past the home slot that lookups of sym[0..n) walk in the match
 * vector table of pat[0..m) (cer, edit_ratio, anls, keywords); SIZE_MAX
 * when the arena is exhausted. For the tests. */
size_t rk__lev_peq_probes(rk__arena *a, const uint32_t *pat, size_t m, const uint32_t *sym,
                          size_t n);

#endif /* RK_METRICS_LEVENSHTEIN_H */
