/*
 * levenshtein.c - bit-parallel edit distances over 32-bit symbols and the
 * code-point helpers of the edit metrics (see levenshtein.h).
 *
 * Levenshtein: G. Myers, "A fast bit-vector algorithm for approximate
 * string matching based on dynamic programming", JACM 46(3), 1999, with the
 * block decomposition of its section 5 (horizontal deltas carried from one
 * 64-row block to the next). LCS: L. Allison and T. Dix (1986), as written
 * by H. Hyyrö: S' = (S + (S & M)) | (S & ~M), with the addition carried
 * across blocks. Both are checked against the textbook DP by the unit tests
 * and by fuzz/fuzz_edit.c. Small distances first try the diagonal method
 * (Ukkonen 1985; see its section below), which gives the same numbers.
 */
#include "metrics/levenshtein.h"

#include <string.h>
#include <utf8proc.h>

#include "json/json.h"
#include "metrics/wide.h"
#include "text/pycase.h"

/* ------------------------------------------------------- code points */

/* metrics/wide.h */
int rk__wide = 1;
unsigned rk__wide_caps;

#if RK_WIDE
__attribute__((constructor)) static void wide_caps_init(void) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("bmi") ||
      !__builtin_cpu_supports("bmi2"))
    return;
  rk__wide_caps = RK__WIDE_BASE | (__builtin_cpu_supports("avx512vbmi") ? RK__WIDE_VBMI : 0) |
                  (__builtin_cpu_supports("avx512vbmi2") ? RK__WIDE_VBMI2 : 0);
}
#endif

uint32_t rk__cp_next(const unsigned char *s, const unsigned char *e, size_t *len) {
  unsigned c = *s;
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  size_t k = rk__utf8_seq(s, e);
  *len = k ? k : 1;
  if (k == 2) return (uint32_t)(c & 0x1F) << 6 | (s[1] & 0x3F);
  if (k == 3) return (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
  if (k == 4)
    return (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
           (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
  return 0xFFFD;
}

size_t rk__cp_decode(const char *p, size_t n, uint32_t *out) {
  const unsigned char *s = (const unsigned char *)p, *e = s + n;
  size_t k = 0;
  while (s < e) {
    /* ASCII runs eight bytes at a time. */
    while (e - s >= 8) {
      uint64_t w;
      memcpy(&w, s, 8);
      if (w & 0x8080808080808080ull) break;
      for (int i = 0; i < 8; i++) out[k + (size_t)i] = s[i];
      k += 8, s += 8;
    }
    if (s >= e) break;
    if (*s < 0x80) {
      out[k++] = *s++;
      continue;
    }
    size_t len;
    out[k++] = rk__cp_next(s, e, &len);
    s += len;
  }
  return k;
}

int rk__cp_decode_arena(rk__arena *a, rk__str s, rk__seq *out) {
  out->v = rk__arena_alloc(a, (s.n ? s.n : 1) * sizeof(uint32_t));
  if (!out->v) return -1;
  out->n = rk__cp_decode(s.p, s.n, out->v);
  return 0;
}

#if RK_WIDE
/* rk__cp_narrow 64 bytes a step (AVX-512 VBMI2): a lead byte C2/C3 must
 * be followed by exactly one continuation byte and every other byte must
 * be ASCII; each pair becomes one byte and the leads are squeezed out
 * (vpcompressb). A pair cut by the end of a step is left to the next. */
__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,bmi,bmi2"))) static size_t
cp_narrow_w(const unsigned char *s, size_t n, uint8_t *buf, const uint8_t **out) {
  __m512i any = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) any = _mm512_or_si512(any, _mm512_loadu_si512(s + i));
  any = _mm512_or_si512(any, _mm512_maskz_loadu_epi8(_bzhi_u64(~(uint64_t)0, (unsigned)(n - i)),
                                                     s + i));
  if (!_mm512_movepi8_mask(any)) {
    *out = s;
    return n;
  }
  const __m512i fe = _mm512_set1_epi8((char)0xFE), c2 = _mm512_set1_epi8((char)0xC2);
  const __m512i c0 = _mm512_set1_epi8((char)0xC0), x80 = _mm512_set1_epi8((char)0x80);
  /* idx[j] = j - 1: each byte's predecessor */
  const __m512i prev_idx = _mm512_sub_epi8(
      _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45,
                      44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26,
                      25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
                      5, 4, 3, 2, 1, 0),
      _mm512_set1_epi8(1));
  size_t k = 0;
  i = 0;
  while (i < n) {
    const size_t left = n - i;
    uint64_t in = _bzhi_u64(~(uint64_t)0, left < 64 ? (unsigned)left : 64u);
    const __m512i v = _mm512_maskz_loadu_epi8(in, s + i);
    const uint64_t hi = _mm512_movepi8_mask(v);
    uint64_t lead = _mm512_cmpeq_epi8_mask(_mm512_and_si512(v, fe), c2);
    const uint64_t cont = _mm512_mask_cmpeq_epi8_mask(hi, _mm512_and_si512(v, c0), x80);
    /* A lead as the step's last byte waits for the next step. */
    if (left > 64 && lead >> 63) lead &= ~((uint64_t)1 << 63), in &= ~((uint64_t)1 << 63);
    if ((hi & ~(lead | cont) & in) || cont != ((lead << 1) & in) || (lead & ~(in >> 1)))
      return SIZE_MAX;
    /* continuation byte j: ((v[j-1] & 3) << 6) | (v[j] & 0x3F) */
    const __m512i pv = _mm512_permutexvar_epi8(prev_idx, v);
    const __m512i hi2 = _mm512_slli_epi16(pv, 6);
    const __m512i w = _mm512_ternarylogic_epi32(v, c0, hi2, 0xB8); /* c0 ? hi2 : v */
    const __m512i r = _mm512_mask_blend_epi8(cont, v, w);
    const uint64_t keep = in & ~lead;
    _mm512_storeu_si512(buf + k, _mm512_maskz_compress_epi8(keep, r));
    k += (size_t)__builtin_popcountll(keep);
    i += (size_t)__builtin_popcountll(in);
  }
  *out = buf;
  return k;
}
#endif

size_t rk__cp_narrow(const char *p, size_t n, uint8_t *buf, const uint8_t **out) {
  const unsigned char *s = (const unsigned char *)p;
#if RK_WIDE
  if (rk__wide_on(RK__WIDE_VBMI | RK__WIDE_VBMI2)) return cp_narrow_w(s, n, buf, out);
#endif
  size_t i = 0;
  /* The ASCII prefix, a word at a time, copied as it goes (cheaper than
   * a second pass); all-ASCII text is then used in place. */
  while (i + 8 <= n) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if (w & 0x8080808080808080ull) break;
    memcpy(buf + i, &w, 8);
    i += 8;
  }
  while (i < n && s[i] < 0x80) buf[i] = s[i], i++;
  if (i == n) {
    *out = s;
    return n;
  }
  size_t k = i;
  while (i < n) {
    if (i + 8 <= n) {
      /* Copy a whole word, keep its ASCII head (buf has 8 bytes of room
       * past n for the tail that the next store overwrites). */
      uint64_t w, hi;
      memcpy(&w, s + i, 8);
      memcpy(buf + k, &w, 8);
      hi = w & 0x8080808080808080ull;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      size_t a = hi ? (size_t)__builtin_ctzll(hi) >> 3 : 8;
#else
      size_t a = 0;
      while (a < 8 && s[i + a] < 0x80) a++;
#endif
      i += a, k += a;
      if (a == 8) continue;
    } else if (s[i] < 0x80) {
      buf[k++] = s[i++];
      continue;
    }
    /* U+0080..U+00FF are exactly the two-byte sequences led by C2 and C3;
     * any other byte >= 0x80 is a wider code point or U+FFFD. */
    unsigned c = s[i];
    if ((c != 0xC2 && c != 0xC3) || i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
      return SIZE_MAX;
    buf[k++] = (uint8_t)((c & 0x03) << 6 | (s[i + 1] & 0x3F));
    i += 2;
  }
  *out = buf;
  return k;
}

int rk__cp_encode_arena(rk__arena *a, const uint32_t *v, size_t n, rk__str *out) {
  char *b = rk__arena_alloc(a, 4 * n + 1);
  if (!b) return -1;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t c = v[i];
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;
    if (c <= 0x10FFFF)
      k = (size_t)((char *)rk__utf8_put((unsigned char *)b + k, c) - b);
    else
      b[k++] = '?';
  }
  b[k] = '\0';
  out->p = b;
  out->n = k;
  return 0;
}

int rk__cp_digit(uint32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9' ? (int)(c - '0') : -1;
  if (c > 0x10FFFF || utf8proc_category((utf8proc_int32_t)c) != UTF8PROC_CATEGORY_ND) return -1;
  /* Decimal digits are encoded in runs of ten, 0 to 9, and runs that
   * touch (the mathematical digits U+1D7CE..U+1D7FF) start at multiples
   * of ten from the first: the value is the distance from the start of
   * the block of Nd code points, modulo 10. */
  uint32_t z = c;
  while (z > 0 && c - z < 60 && utf8proc_category((utf8proc_int32_t)(z - 1)) == UTF8PROC_CATEGORY_ND)
    z--;
  return (int)((c - z) % 10);
}

uint32_t rk__cp_lower(uint32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  if (c > 0x10FFFF) return c;
  return (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
}

size_t rk__cp_lower_seq(const uint32_t *s, size_t n, uint32_t *out) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == 0x130) { /* Python: 'İ'.lower() == 'i̇' (two code points) */
      out[k++] = 'i';
      out[k++] = 0x307;
    } else if (s[i] == RK__SIGMA_CAPITAL) {
      out[k++] = rk__pycase_sigma(s, n, i);
    } else {
      out[k++] = rk__cp_lower(s[i]);
    }
  }
  return k;
}

/* ------------------------------------------------------------- cost */

uint64_t rk__lev_cost(size_t n, size_t m) {
  size_t lo = n < m ? n : m, hi = n < m ? m : n;
  uint64_t blocks = ((uint64_t)lo + 63) / 64, w;
  /* (no division: this runs for every pair) */
  if (__builtin_mul_overflow(blocks, (uint64_t)hi, &w) || w > UINT64_MAX / 4)
    return UINT64_MAX / 2;
  return w + (uint64_t)n + (uint64_t)m + 1;
}

/* ----------------------------------------------- pattern match vectors */

/* The match vectors Peq[c] of a pattern: for each distinct symbol a bit
 * per pattern position. Symbols below 256 (ASCII and Latin-1, most text)
 * are found through a direct table; others through a small open-addressing
 * hash. Small tables are dense (distinct x blocks words); large ones keep
 * each symbol's positions and build the column's vector on demand, so
 * memory stays O(m) for any alphabet. */
typedef struct peq {
  size_t m, blocks;
  uint32_t *direct;   /* 256 entries: distinct index + 1, 0 = absent */
  uint32_t mask;      /* hash capacity - 1 (0: no hash, no symbol >= 256) */
  unsigned shift;     /* home slot = peq_home(sym) >> shift */
  uint32_t *keys;     /* symbol of each slot */
  uint32_t *slot;     /* distinct index + 1, 0 = empty */
  size_t distinct;
  uint64_t *flat;     /* 256 * blocks, indexed by symbol, or NULL */
  uint64_t *dense;    /* distinct * blocks, or NULL */
  uint32_t *start;    /* sparse: positions of symbol d are pos[start[d]..start[d+1]) */
  uint32_t *pos;
  uint64_t *scratch;  /* sparse: the current column's vector */
  long cur;           /* sparse: symbol whose bits are in scratch, -1 none */
  const uint64_t *zero;
} peq;

#define DENSE_MAX_WORDS ((size_t)1 << 17) /* 1 MiB of match vectors */

/* Home slot of a symbol: the top bits of a multiply by the random odd
 * key of rk__hk (multiply-shift hashing), so that a text cannot choose
 * code points that share one probe run (the low bits of a fixed multiply
 * depend only on the low bits of the code point). */
static inline uint32_t peq_home(const peq *q, uint32_t sym) {
  return (uint32_t)(((uint64_t)sym * rk__hk.tab) >> q->shift);
}

static inline long peq_find(const peq *q, uint32_t sym) {
  if (sym < 256) return (long)q->direct[sym] - 1;
  if (!q->mask) return -1;
  uint32_t h = peq_home(q, sym);
  for (;;) {
    uint32_t s = q->slot[h];
    if (!s) return -1;
    if (q->keys[h] == sym) return (long)s - 1;
    h = (h + 1) & q->mask;
  }
}

static int peq_build(peq *q, const uint32_t *pat, size_t m, rk__arena *a) {
  memset(q, 0, sizeof *q);
  q->m = m;
  q->blocks = (m + 63) / 64;
  q->cur = -1;
  size_t wide = 0;
  for (size_t i = 0; i < m; i++) wide += pat[i] >= 256;
  if (!wide && q->blocks <= 4) {
    /* Flat: one row per byte value, filled in one pass (<= 8 KiB). */
    size_t B = q->blocks;
    q->flat = rk__arena_alloc(a, (256 * B + B) * sizeof *q->flat);
    if (!q->flat) return -1;
    memset(q->flat, 0, (256 * B + B) * sizeof *q->flat);
    q->zero = q->flat + 256 * B;
    for (size_t i = 0; i < m; i++) q->flat[pat[i] * B + i / 64] |= (uint64_t)1 << (i % 64);
    return 0;
  }
  q->direct = rk__arena_alloc(a, 256 * sizeof *q->direct);
  uint32_t *idx = rk__arena_alloc(a, (m ? m : 1) * sizeof *idx);
  uint64_t *zero = rk__arena_alloc(a, q->blocks * sizeof *zero + 8);
  if (!q->direct || !idx || !zero) return -1;
  memset(q->direct, 0, 256 * sizeof *q->direct);
  memset(zero, 0, q->blocks * sizeof *zero + 8);
  q->zero = zero;
  if (wide) {
    size_t cap = 16;
    while (cap < 2 * wide) cap <<= 1;
    q->mask = (uint32_t)(cap - 1);
    q->shift = 64 - (unsigned)__builtin_ctzll((unsigned long long)cap);
    q->keys = rk__arena_alloc(a, cap * sizeof *q->keys);
    q->slot = rk__arena_alloc(a, cap * sizeof *q->slot);
    if (!q->keys || !q->slot) return -1;
    memset(q->slot, 0, cap * sizeof *q->slot);
  }
  for (size_t i = 0; i < m; i++) {
    uint32_t c = pat[i];
    if (c < 256) {
      if (!q->direct[c]) q->direct[c] = (uint32_t)++q->distinct;
      idx[i] = q->direct[c] - 1u;
      continue;
    }
    uint32_t h = peq_home(q, c);
    for (;;) {
      if (!q->slot[h]) {
        q->keys[h] = c;
        q->slot[h] = (uint32_t)++q->distinct;
        break;
      }
      if (q->keys[h] == c) break;
      h = (h + 1) & q->mask;
    }
    idx[i] = q->slot[h] - 1;
  }
  if (q->distinct * q->blocks <= DENSE_MAX_WORDS) {
    size_t words = q->distinct * q->blocks;
    q->dense = rk__arena_alloc(a, (words ? words : 1) * sizeof *q->dense);
    if (!q->dense) return -1;
    memset(q->dense, 0, (words ? words : 1) * sizeof *q->dense);
    for (size_t i = 0; i < m; i++)
      q->dense[(size_t)idx[i] * q->blocks + i / 64] |= (uint64_t)1 << (i % 64);
    return 0;
  }
  q->start = rk__arena_alloc(a, (q->distinct + 1) * sizeof *q->start);
  q->pos = rk__arena_alloc(a, m * sizeof *q->pos);
  q->scratch = rk__arena_alloc(a, q->blocks * sizeof *q->scratch);
  uint32_t *fill = rk__arena_alloc(a, (q->distinct ? q->distinct : 1) * sizeof *fill);
  if (!q->start || !q->pos || !q->scratch || !fill) return -1;
  memset(q->start, 0, (q->distinct + 1) * sizeof *q->start);
  memset(q->scratch, 0, q->blocks * sizeof *q->scratch);
  for (size_t i = 0; i < m; i++) q->start[idx[i] + 1]++;
  for (size_t d = 0; d < q->distinct; d++) q->start[d + 1] += q->start[d];
  memcpy(fill, q->start, q->distinct * sizeof *fill);
  for (size_t i = 0; i < m; i++) q->pos[fill[idx[i]]++] = (uint32_t)i;
  return 0;
}

size_t rk__lev_peq_probes(rk__arena *a, const uint32_t *pat, size_t m, const uint32_t *sym,
                          size_t n) {
  peq q;
  if (peq_build(&q, pat, m, a)) return SIZE_MAX;
  size_t probes = 0;
  for (size_t i = 0; i < n; i++) {
    if (sym[i] < 256 || !q.mask) continue;
    /* peq_find's walk, counted */
    for (uint32_t h = peq_home(&q, sym[i]); q.slot[h] && q.keys[h] != sym[i]; h = (h + 1) & q.mask)
      probes++;
  }
  return probes;
}

/* Match vector of sym (blocks words). */
static inline const uint64_t *peq_row(peq *q, uint32_t sym) {
  if (q->flat) return sym < 256 ? q->flat + (size_t)sym * q->blocks : q->zero;
  long d = peq_find(q, sym);
  if (q->dense) return d < 0 ? q->zero : q->dense + (size_t)d * q->blocks;
  if (d == q->cur) return d < 0 ? q->zero : q->scratch;
  if (q->cur >= 0)
    for (uint32_t k = q->start[q->cur]; k < q->start[q->cur + 1]; k++)
      q->scratch[q->pos[k] / 64] = 0;
  q->cur = d;
  if (d < 0) return q->zero;
  for (uint32_t k = q->start[d]; k < q->start[d + 1]; k++)
    q->scratch[q->pos[k] / 64] |= (uint64_t)1 << (q->pos[k] % 64);
  return q->scratch;
}

/* ------------------------------------------- Ukkonen / Landau-Vishkin */

/* For the small distances of most reward pairs (a response close to its
 * reference) the diagonal method beats the bit-parallel one: E. Ukkonen,
 * "Algorithms for approximate string matching", Information and Control
 * 64, 1985, and G. Landau and U. Vishkin, "Fast parallel and serial
 * approximate string matching", J. Algorithms 10, 1989. On diagonal
 * k = j - i (i indexes x, j indexes y), L(e, k) is the last row i with
 * D[i][i + k] <= e. Because D never decreases along a diagonal and
 * neighbouring cells differ by at most one,
 *
 *   L(e, k) = slide(max(L(e-1, k) + s, L(e-1, k-1), L(e-1, k+1) + 1))
 *
 * clipped to the matrix, where slide() follows equal symbols down the
 * diagonal and s = 1 for Levenshtein (a substitution) or 0 for the
 * insert/delete distance (no substitution: the row is only carried). The
 * distance is the first e with L(e, ny - nx) = nx. The work is about
 * (d + 1)^2 diagonal steps plus the slides, which compare a machine word
 * of symbols at a time. Past a step budget (lv_budget) the bit-parallel
 * code takes over, so the worst case stays O(n m / 64) plus a bounded
 * waste. */

#define LV_EMAX 254                /* the most rounds the diagonal method runs */
#define LV_STACK (2 * LV_EMAX + 3) /* its diagonals, on the stack */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LV_LITTLE 1
#else
#define LV_LITTLE 0
#endif

/* slide(): from row i of diagonal k, the first row where x[i] differs from
 * y[i + k], capped at lim (the diagonal's last row). Words of symbols are
 * compared whole; on a little-endian machine the first differing symbol
 * is at the lowest set bit of their xor.
 *
 * Byte symbols are read from padded copies (LV_PAD readable bytes after
 * each end), so that the loop needs no bounds test but the cap: a match
 * that runs into the padding is cut back to lim. */
#define LV_PAD 8

static inline long slide8(const uint8_t *x, const uint8_t *y, long i, long k, long lim) {
#if LV_LITTLE
  for (;;) {
    uint64_t u, v;
    memcpy(&u, x + i, 8);
    memcpy(&v, y + i + k, 8);
    if (u != v) {
      i += __builtin_ctzll(u ^ v) >> 3;
      break;
    }
    i += 8;
    if (i >= lim) break;
  }
  return i < lim ? i : lim;
#else
  while (i < lim && x[i] == y[i + k]) i++;
  return i;
#endif
}

static inline long slide32(const uint32_t *x, const uint32_t *y, long i, long k, long lim) {
#if LV_LITTLE
  while (i + 2 <= lim) {
    uint64_t u, v;
    memcpy(&u, x + i, 8);
    memcpy(&v, y + i + k, 8);
    if (u != v) return i + (__builtin_ctzll(u ^ v) >> 5);
    i += 2;
  }
#endif
  while (i < lim && x[i] == y[i + k]) i++;
  return i;
}

/* The diagonal method for one symbol width: the distance, or -1 once it
 * has spent `budget` diagonal steps (or LV_EMAX rounds) without reaching
 * the end. fr has LV_STACK entries; only the diagonals a round reads are
 * initialised. s = 1: Levenshtein, every diagonal every round. s = 0:
 * insert/delete distance; there a cell on diagonal k always has a
 * distance of k's parity (it is i + j - 2 LCS), so round e only moves the
 * diagonals k = e (mod 2) and the others keep their value (Myers 1986,
 * "An O(ND) difference algorithm"); L(e-1, k) is then the value of round
 * e - 2, still in place.
 *
 * GIVE_UP > 0: from round GIVE_UP on, also return -1 when the distance
 * projected from the rows reached so far (e rounds for the furthest row
 * `far` of n: about e n / far in all) would take more steps than the
 * budget has left. Edits spread over a text (a model early in training)
 * show after a few rounds; the caller's bit-parallel code then starts
 * without the budget spent first. */
#define LV_DEFINE(ATTR, NAME, T, SLIDE, GIVE_UP)                               \
  ATTR static long NAME(const T *x, size_t nx, const T *y, size_t ny, long s, \
                        long budget, long *fr) {                               \
    const long n = (long)nx, m = (long)ny, kf = m - n, NEG = -n - m - 4;       \
    if (kf > LV_EMAX || -kf > LV_EMAX || kf * kf / 2 > budget) return -1;     \
    long *L = fr + LV_EMAX + 1;                                                \
    L[-1] = L[1] = NEG;                                                        \
    L[0] = SLIDE(x, y, 0, 0, n < m ? n : m);                                   \
    if (kf == 0 && L[0] == n) return 0;                                        \
    for (long e = 1; e <= LV_EMAX; e++) {                                      \
      long lo = e < n ? -e : -n, hi = e < m ? e : m, step = 1, far = 1;        \
      L[-e - 1] = L[e + 1] = NEG;                                              \
      if (!s) {                                                                \
        step = 2;                                                              \
        if ((lo ^ e) & 1) lo++;                                                \
      }                                                                        \
      long prev = L[lo - 1];                                                   \
      for (long k = lo; k <= hi; k += step) {                                  \
        long cur = L[k], i = cur + s, next = L[k + 1] + 1;                     \
        if (prev > i) i = prev;                                                \
        if (next > i) i = next;                                                \
        long lim = n < m - k ? n : m - k;                                      \
        if (i > lim) i = lim;                                                  \
        prev = s ? cur : L[k + 1];                                             \
        L[k] = SLIDE(x, y, i, k, lim);                                         \
        if (GIVE_UP) far = L[k] > far ? L[k] : far;                            \
      }                                                                        \
      if (kf >= lo && kf <= hi && L[kf] == n) return e;                        \
      budget -= (hi - lo) / step + 1;                                          \
      if (budget < 0) return -1;                                               \
      if (GIVE_UP && e >= GIVE_UP) {                                           \
        const long de_ = e * n / far + 1;                                      \
        if (de_ * de_ - (e + 1) * (e + 1) > budget) return -1;                 \
      }                                                                        \
    }                                                                          \
    return -1;                                                                 \
  }
LV_DEFINE(, lv8, uint8_t, slide8, 0)
LV_DEFINE(, lv32, uint32_t, slide32, 0)

/* The longest pattern of the short byte kernels ("bit-parallel on short
 * byte patterns" below). */
#define LB_MAX 128

#if RK_WIDE
#define LB_AVX512 __attribute__((target("avx512f,avx512bw,bmi,bmi2")))
/* slide8 with AVX-512BW: 64 symbols a compare, on copies padded with
 * LB_PAD bytes (lv_pad_w). One compare settles almost every slide of a
 * short text, which keeps the branch predictable (slide8's "did the 8
 * bytes match" is not, on text with an edit every dozen symbols) and lets
 * the independent slides of a round overlap. A match that runs into the
 * padding is cut back to lim. */
#define LB_PAD 64
LB_AVX512 static inline long slide8w(const uint8_t *x, const uint8_t *y, long i, long k,
                                     long lim) {
  for (;;) {
    const uint64_t ne = (uint64_t)_mm512_cmpneq_epi8_mask(_mm512_loadu_si512(x + i),
                                                           _mm512_loadu_si512(y + i + k));
    const long t = i + (long)_tzcnt_u64(ne);
    if (ne || t >= lim) return t < lim ? t : lim;
    i = t;
  }
}
/* Levenshtein: with GIVE_UP where the short kernels take over (a far
 * pair of 90 characters, distance ~16: 1.2 -> 1.6 M pairs/s; near pairs
 * unchanged); longer texts keep the plain budget, their fallback being
 * slower. */
#define LV_GIVE_UP_ROUND 4
LV_DEFINE(LB_AVX512 __attribute__((always_inline)) inline, lv8w_any, uint8_t, slide8w, 0)
LV_DEFINE(LB_AVX512 __attribute__((always_inline)) inline, lv8w_give_up, uint8_t, slide8w,
          LV_GIVE_UP_ROUND)
LB_AVX512 static long lv8w(const uint8_t *x, size_t nx, const uint8_t *y, size_t ny, long s,
                           long budget, long *fr) {
  if (!s) return lv8w_any(x, nx, y, ny, 0, budget, fr);
  return nx <= LB_MAX ? lv8w_give_up(x, nx, y, ny, 1, budget, fr)
                      : lv8w_any(x, nx, y, ny, 1, budget, fr);
}

#endif

/* How many diagonal steps the diagonal method may take before the
 * bit-parallel code is the cheaper one: about one per block-column of the
 * latter, plus its set-up (measured: a diagonal step costs 2.5-6 ns, a
 * block-column 7-10 ns, the match table ~50 ns); half that for short
 * texts, where a large distance is common (short answers against
 * unrelated references) and the bit-parallel code is cheap. Half of the
 * budget is wasted at worst, when the distance turns out large. */
static long lv_budget(size_t nx, size_t ny) {
  size_t lo = nx < ny ? nx : ny, hi = nx < ny ? ny : nx;
  if (hi <= 48) return (long)hi / 4 + 2;
  uint64_t w = (uint64_t)hi * ((lo + 63) / 64) + 8;
  /* LV_EMAX rounds take fewer steps than this anyway. */
  return w > (uint64_t)LV_STACK * LV_STACK ? (long)LV_STACK * LV_STACK : (long)w;
}

/* --------------------------------------------------------- Myers 1999 */

/* One 64-row block, m <= 64: the common case, kept free of the block
 * bookkeeping. Same recurrences as myers_run below. */
static long myers_one(peq *q, const uint32_t *text, size_t n, int top, long stop,
                      size_t *best_end) {
  uint64_t pv = ~(uint64_t)0, mv = 0;
  const uint64_t last = (uint64_t)1 << (q->m - 1);
  long score = (long)q->m, best = score;
  if (best_end) *best_end = 0;
  /* Long texts: a flat 256-entry table of match words for the symbols
   * below 256 saves the two lookups per column (one block is always
   * dense: at most 64 distinct symbols). */
  uint64_t tab_mem[256];
  const uint64_t *tab = q->flat;
  if (!tab && n >= 256) {
    for (int c = 0; c < 256; c++) tab_mem[c] = q->direct[c] ? q->dense[q->direct[c] - 1] : 0;
    tab = tab_mem;
  }
  for (size_t j = 0; j < n; j++) {
    uint32_t c = text[j];
    uint64_t eq = tab && c < 256 ? tab[c] : peq_row(q, c)[0];
    uint64_t xv = eq | mv;
    uint64_t xh = (((eq & pv) + pv) ^ pv) | eq;
    uint64_t ph = mv | ~(xh | pv);
    uint64_t mh = pv & xh;
    /* Branch-free: on text unlike the pattern the sign of the last row's
     * delta is unpredictable. */
    score += (long)((ph & last) != 0) - (long)((mh & last) != 0);
    ph = (ph << 1) | (uint64_t)(top > 0);
    mh <<= 1;
    pv = mh | ~(xv | ph);
    mv = ph & xv;
    if (!top && score < best) {
      best = score;
      if (best_end) *best_end = j + 1;
      if (best <= stop) return best;
    }
  }
  return top ? score : best;
}

/* Runs the block algorithm of pattern q over text. top = +1 for a global
 * distance (D[0][j] = j), 0 for a search (D[0][j] = 0). Returns the final
 * score; for a search, the minimum over columns and its end position. */
static long myers_run(peq *q, const uint32_t *text, size_t n, int top, long stop,
                      size_t *best_end, rk__arena *a) {
  if (q->blocks == 1) return myers_one(q, text, n, top, stop, best_end);
  size_t B = q->blocks, m = q->m;
  uint64_t *pv = rk__arena_alloc(a, B * sizeof *pv);
  uint64_t *mv = rk__arena_alloc(a, B * sizeof *mv);
  if (!pv || !mv) return -1;
  for (size_t b = 0; b < B; b++) pv[b] = ~(uint64_t)0, mv[b] = 0;
  const uint64_t high = (uint64_t)1 << 63, last = (uint64_t)1 << ((m - 1) % 64);
  long score = (long)m, best = (long)m;
  if (best_end) *best_end = 0;
  for (size_t j = 0; j < n; j++) {
    const uint64_t *eqr = peq_row(q, text[j]);
    /* The horizontal delta entering a block, as two bits: +1 (hp) or
     * -1 (hn); branch-free. The top row adds `top` to every column. */
    uint64_t hp = (uint64_t)(top > 0), hn = 0;
    for (size_t b = 0; b < B; b++) {
      uint64_t eq = eqr[b], p = pv[b], mm = mv[b];
      uint64_t xv = eq | mm;
      eq |= hn;
      uint64_t xh = (((eq & p) + p) ^ p) | eq;
      uint64_t ph = mm | ~(xh | p);
      uint64_t mh = p & xh;
      uint64_t hb = b + 1 == B ? last : high;
      uint64_t hp_out = (ph & hb) != 0, hn_out = (mh & hb) != 0;
      ph = (ph << 1) | hp;
      mh = (mh << 1) | hn;
      pv[b] = mh | ~(xv | ph);
      mv[b] = ph & xv;
      hp = hp_out, hn = hn_out;
    }
    score += (long)hp - (long)hn;
    if (!top && score < best) {
      best = score;
      if (best_end) *best_end = j + 1;
      if (best <= stop) return best;
    }
  }
  return top ? score : best;
}

/* ---------------------------------- bit-parallel on short byte patterns */

/* Patterns of up to LB_MAX byte symbols (after the common ends are cut,
 * most reward pairs), against texts of bytes: the match vectors of the
 * pattern and of its reversal in one table indexed by byte, cleared whole
 * (4 or 8 KiB), with no copy of the texts widened to 32 bits. */

/* Bit i of the forward vector of byte c: x[i] == c; of the reverse one:
 * x[m - 1 - i] == c. Row c of w holds `words` forward words, then as
 * many reverse ones. */
#define LB_BUILD(w, x, m, words)                           \
  do {                                                     \
    memset(w, 0, sizeof w);                                \
    for (size_t i_ = 0; i_ < (m); i_++) {                  \
      uint64_t *r_ = w[(x)[i_]];                           \
      size_t j_ = (m) - 1 - i_;                            \
      r_[i_ / 64] |= (uint64_t)1 << (i_ % 64);             \
      r_[(words) + j_ / 64] |= (uint64_t)1 << (j_ % 64);   \
    }                                                      \
  } while (0)

/* One column of Myers' algorithm on one block of Hyyro's scheme, as in
 * myers_run: the horizontal delta enters as (nhp, hn) and leaves in the
 * same variables; pv, mv are updated. The +1 delta is carried
 * complemented (nhp = 1 - hp, nph = ~ph), which turns the three "a | ~(b
 * | c)" of the textbook form into and-nots: 13 operations instead of 17
 * (the kernels are bound by their count). */
#define LB_BLOCK(pv, mv, eq0, nhp, hn)                          \
  do {                                                          \
    uint64_t eq_ = (eq0), xv_ = eq_ | (mv);                     \
    eq_ |= (hn);                                                \
    uint64_t xh_ = (((eq_ & (pv)) + (pv)) ^ (pv)) | eq_;        \
    uint64_t nph_ = ~(mv) & (xh_ | (pv)), mh_ = (pv) & xh_;     \
    uint64_t nhpo_ = nph_ >> 63, hno_ = mh_ >> 63;              \
    nph_ = (nph_ << 1) | (nhp);                                 \
    mh_ = (mh_ << 1) | (hn);                                    \
    (pv) = mh_ | (~xv_ & nph_);                                 \
    (mv) = ~nph_ & xv_;                                         \
    (nhp) = nhpo_, (hn) = hno_;                                 \
  } while (0)

/* The best split of the pattern between the two halves of the text:
 * with F(i) = lev(x[..i), y[..h)) and G(i) = lev(x[m - i..), y[h..))
 * given by their last columns' vertical deltas (bit i - 1 of fp / bp:
 * +1, of fm / bm: -1; F(0) = h, G(0) = n - h), the least F(i) + G(m - i).
 * One pass: i goes up the forward deltas and down the backward ones. */
static long lb_join(const uint64_t *fp, const uint64_t *fm, const uint64_t *bp,
                    const uint64_t *bm, size_t m, long h, long nb) {
  long g = nb; /* G(m) */
  for (size_t w = 0; w * 64 < m; w++) {
    uint64_t k = m - w * 64 >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << (m - w * 64)) - 1;
    g += __builtin_popcountll(bp[w] & k) - __builtin_popcountll(bm[w] & k);
  }
  long sum = h + g, best = sum; /* F(i) + G(m - i) at i = 0 */
  for (size_t i = 1; i <= m; i++) {
    size_t u = i - 1, v = m - i; /* F steps by delta u, G(m - i + 1) -> G(m - i) by delta v */
    sum += (long)(fp[u / 64] >> (u % 64) & 1) - (long)(fm[u / 64] >> (u % 64) & 1) -
           (long)(bp[v / 64] >> (v % 64) & 1) + (long)(bm[v / 64] >> (v % 64) & 1);
    best = sum < best ? sum : best;
  }
  return best;
}

/* The loops of both kernel sets, which differ only in where a byte's
 * match words come from: EQ(c, k) is word k of byte c's vector in the
 * forward pattern (k = 0, 1) or in the reversed one (k = 2, 3); W is the
 * number of words (1 or 2: a constant in each caller, so the other case
 * folds away). */

/* Levenshtein distance, 0 < m <= LB_MAX, m <= n, into `out`. A column's
 * update waits for the previous one's (about ten dependent operations),
 * so the text is cut in two halves run at once, one from each end (the
 * second against the reversed pattern): two independent chains. The
 * distance is the best split of the pattern between the halves
 * (Hirschberg 1975, lb_join). */
#define LB_LEV(m, y, n, W, EQ, JOIN, out)                                       \
  do {                                                                          \
    const size_t h_ = (n) - (n) / 2, nb_ = (n) / 2; /* y[0..h_), y[h_..n) */    \
    uint64_t fp_[2] = {~(uint64_t)0, ~(uint64_t)0}, fm_[2] = {0, 0};            \
    uint64_t bp_[2] = {~(uint64_t)0, ~(uint64_t)0}, bm_[2] = {0, 0};            \
    for (size_t s_ = 0; s_ < nb_; s_++) {                                       \
      const uint8_t c_ = (y)[s_], d_ = (y)[(n) - 1 - s_];                       \
      uint64_t hp = 0, hn = 0, kp = 0, kn = 0; /* no +1 (nhp 0), no -1 */       \
      LB_BLOCK(fp_[0], fm_[0], EQ(c_, 0), hp, hn);                              \
      LB_BLOCK(bp_[0], bm_[0], EQ(d_, 2), kp, kn);                              \
      if ((W) == 2) {                                                           \
        LB_BLOCK(fp_[1], fm_[1], EQ(c_, 1), hp, hn);                            \
        LB_BLOCK(bp_[1], bm_[1], EQ(d_, 3), kp, kn);                            \
      }                                                                         \
    }                                                                           \
    if (h_ > nb_) {                                                             \
      const uint8_t c_ = (y)[h_ - 1];                                           \
      uint64_t hp = 0, hn = 0;                                                  \
      LB_BLOCK(fp_[0], fm_[0], EQ(c_, 0), hp, hn);                              \
      if ((W) == 2) LB_BLOCK(fp_[1], fm_[1], EQ(c_, 1), hp, hn);                \
    }                                                                           \
    (out) = JOIN(fp_, fm_, bp_, bm_, (m), (long)h_, (long)nb_);                 \
  } while (0)

/* The low k bits (0 < k <= 64). */
static inline uint64_t lb_low(size_t k) {
  return k >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << k) - 1;
}

/* (t1:t0) = (a1:a0) + (b1:b0), 128 bits: with add and adc the high word
 * waits for the carry flag only, one operation (three on the column's
 * chain instead of four with the carry as a compare's result). */
#if defined(__x86_64__) && defined(__GNUC__)
#define LB_ADD2(a0, b0, a1, b1, t0, t1)                                          \
  do {                                                                          \
    uint64_t r0_ = (a0), r1_ = (a1);                                            \
    __asm__("addq %2, %0\n\tadcq %3, %1" : "+&r"(r0_), "+&r"(r1_) : "r"(b0), "r"(b1) : "cc"); \
    (t0) = r0_, (t1) = r1_;                                                     \
  } while (0)
#else
#define LB_ADD2(a0, b0, a1, b1, t0, t1)                                          \
  do {                                                                          \
    (t0) = (a0) + (b0);                                                         \
    (t1) = (a1) + (b1) + ((t0) < (a0));                                         \
  } while (0)
#endif

/* LCS length by Allison-Dix / Hyyro (as lcs_bits), 0 < m <= LB_MAX, into
 * `out`: a column is three dependent operations, one chain is enough.
 * Bits from m on are not part of the pattern and are masked off. */
#define LB_LCS(m, y, n, W, EQ, out)                                             \
  do {                                                                          \
    uint64_t S0_ = ~(uint64_t)0, S1_ = ~(uint64_t)0;                            \
    for (size_t j_ = 0; j_ < (n); j_++) {                                       \
      const uint8_t c_ = (y)[j_];                                               \
      uint64_t u0_ = S0_ & EQ(c_, 0), t0_;                                      \
      if ((W) == 2) {                                                           \
        uint64_t u1_ = S1_ & EQ(c_, 1), t1_;                                    \
        LB_ADD2(S0_, u0_, S1_, u1_, t0_, t1_);                                  \
        S1_ = t1_ | (S1_ - u1_);                                                \
      } else {                                                                  \
        t0_ = S0_ + u0_;                                                        \
      }                                                                         \
      S0_ = t0_ | (S0_ - u0_);                                                  \
    }                                                                           \
    (out) = (W) == 1 ? __builtin_popcountll(~S0_ & lb_low(m))                   \
                     : __builtin_popcountll(~S0_) +                             \
                           __builtin_popcountll(~S1_ & lb_low((m) - 64));       \
  } while (0)

/* The table set: row c of w1 (4 KiB) holds the forward word then the
 * reverse one, of w2 (8 KiB) two of each. */
#define LB_EQ1(c, k) w1[c][(k) / 2]
#define LB_EQ2(c, k) w2[c][k]

static long lev_bits8(const uint8_t *x, size_t m, const uint8_t *y, size_t n) {
  long d;
  if (m <= 64) {
    uint64_t w1[256][2];
    LB_BUILD(w1, x, m, 1);
    LB_LEV(m, y, n, 1, LB_EQ1, lb_join, d);
  } else {
    uint64_t w2[256][4];
    LB_BUILD(w2, x, m, 2);
    LB_LEV(m, y, n, 2, LB_EQ2, lb_join, d);
  }
  return d;
}

static long lcs_bits8(const uint8_t *x, size_t m, const uint8_t *y, size_t n) {
  long l;
  if (m <= 64) {
    uint64_t w1[256][2];
    LB_BUILD(w1, x, m, 1);
    LB_LCS(m, y, n, 1, LB_EQ1, l);
  } else {
    uint64_t w2[256][4];
    LB_BUILD(w2, x, m, 2);
    LB_LCS(m, y, n, 2, LB_EQ2, l);
  }
  return l;
}

#if RK_WIDE
/* x, kept in a general register: without this the compiler folds `S &
 * mask` into a compare under mask S, which puts two mask-register moves
 * on the column's chain. */
static inline uint64_t lb_gpr(uint64_t x) {
  __asm__("" : "+r"(x));
  return x;
}
/* The compare set: a match word is the column's byte compared with 64
 * pattern bytes held in a register (AVX-512BW; pv[k] as LB_EQ's k): no
 * table to clear or fill. Pattern bytes past m read as 0 and may match
 * a 0 in the text; those bits are above every bit read, and carries only
 * move up. */
#define LB_EQV(c, k) lb_gpr((uint64_t)_mm512_cmpeq_epi8_mask(pv[k], _mm512_set1_epi8((char)(c))))

/* The pattern, and for Levenshtein its reversal, into pv. */
#define LB_LOAD(pv, x, m, rev)                                                  \
  do {                                                                          \
    const __mmask64 k0_ = (__mmask64)lb_low((m) < 64 ? (m) : 64);               \
    const __mmask64 k1_ = (m) > 64 ? (__mmask64)lb_low((m) - 64) : 0;           \
    pv[0] = _mm512_maskz_loadu_epi8(k0_, (x));                                  \
    pv[1] = _mm512_maskz_loadu_epi8(k1_, (x) + 64);                             \
    if (rev) {                                                                  \
      uint8_t xr_[LB_MAX];                                                      \
      for (size_t i_ = 0; i_ < (m); i_++) xr_[i_] = (x)[(m) - 1 - i_];          \
      pv[2] = _mm512_maskz_loadu_epi8(k0_, xr_);                                \
      pv[3] = _mm512_maskz_loadu_epi8(k1_, xr_ + 64);                           \
    }                                                                           \
  } while (0)

/* The 64 bits of v in reverse order. */
static inline uint64_t lb_rev64(uint64_t v) {
  v = __builtin_bswap64(v);
  v = (v >> 4 & 0x0F0F0F0F0F0F0F0Full) | (v & 0x0F0F0F0F0F0F0F0Full) << 4;
  v = (v >> 2 & 0x3333333333333333ull) | (v & 0x3333333333333333ull) << 2;
  return (v >> 1 & 0x5555555555555555ull) | (v & 0x5555555555555555ull) << 1;
}
/* Bits 0..m-1 of the 128-bit value (w[1]:w[0]) in reverse order: bit t
 * of out is bit m - 1 - t of w; bits from m on are 0 (0 < m <= 128). */
static inline void lb_rev128(const uint64_t *w, size_t m, uint64_t *out) {
  const uint64_t lo = m > 64 ? lb_rev64(w[1]) : 0, hi = lb_rev64(w[0]);
  const unsigned s = (unsigned)(128 - m); /* 0..127 */
  if (s >= 64) {
    out[0] = hi >> (s - 64), out[1] = 0;
  } else if (s) {
    out[0] = lo >> s | hi << (64 - s), out[1] = hi >> s;
  } else {
    out[0] = lo, out[1] = hi;
  }
}

/* lb_join with 32 split points a vector: F(i) + G(m - i) = h + G(m) +
 * the prefix sums of delta(t) = f(t) - b(m - 1 - t), where f and b are
 * the forward and backward deltas (+1, -1 or 0) at row t, the backward
 * ones read in reverse order. Sums stay within +-2m, 16-bit lanes. */
LB_AVX512 static long lb_join_w(const uint64_t *fp, const uint64_t *fm, const uint64_t *bp,
                                const uint64_t *bm, size_t m, long h, long nb) {
  long g = nb; /* G(m) */
  uint64_t P[2], N[2], rp[2], rn[2];
  for (size_t w = 0; w < 2; w++) {
    const uint64_t k = w * 64 < m ? lb_low(m - w * 64) : 0;
    g += __builtin_popcountll(bp[w] & k) - __builtin_popcountll(bm[w] & k);
    P[w] = fp[w] & k, N[w] = fm[w] & k;
  }
  lb_rev128(bp, m, rp);
  lb_rev128(bm, m, rn);
  const __m512i one = _mm512_set1_epi16(1), top = _mm512_set1_epi16(31);
  const __m512i iota = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
                                        18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
                                        4, 3, 2, 1, 0);
  __m512i carry = _mm512_setzero_si512(), lo = carry;
  for (size_t b = 0; b * 32 < m; b++) {
    const unsigned sh = (unsigned)(b % 2) * 32;
    const __mmask32 p = (__mmask32)(P[b / 2] >> sh), n = (__mmask32)(N[b / 2] >> sh);
    const __mmask32 q = (__mmask32)(rn[b / 2] >> sh), r = (__mmask32)(rp[b / 2] >> sh);
    __m512i v = _mm512_sub_epi16(_mm512_maskz_mov_epi16(p, one), _mm512_maskz_mov_epi16(n, one));
    v = _mm512_add_epi16(v, _mm512_sub_epi16(_mm512_maskz_mov_epi16(q, one),
                                             _mm512_maskz_mov_epi16(r, one)));
    for (int s = 1; s < 32; s *= 2) {
      const __mmask32 up = (__mmask32)(~(uint32_t)0 << s);
      const __m512i idx = _mm512_sub_epi16(iota, _mm512_set1_epi16((short)s));
      v = _mm512_add_epi16(v, _mm512_maskz_permutexvar_epi16(up, idx, v));
    }
    v = _mm512_add_epi16(v, carry);
    lo = _mm512_min_epi16(lo, v);
    carry = _mm512_permutexvar_epi16(top, v);
  }
  /* The least lane (lo starts at 0: the split i = 0). */
  __m256i l2 = _mm256_min_epi16(_mm512_castsi512_si256(lo), _mm512_extracti64x4_epi64(lo, 1));
  __m128i l1 = _mm_min_epi16(_mm256_castsi256_si128(l2), _mm256_extracti128_si256(l2, 1));
  l1 = _mm_min_epi16(l1, _mm_srli_si128(l1, 8));
  l1 = _mm_min_epi16(l1, _mm_srli_si128(l1, 4));
  l1 = _mm_min_epi16(l1, _mm_srli_si128(l1, 2));
  return h + g + (short)_mm_extract_epi16(l1, 0);
}

LB_AVX512 static long lev_bits8_avx512(const uint8_t *x, size_t m, const uint8_t *y,
                                       size_t n) {
  __m512i pv[4];
  long d;
  LB_LOAD(pv, x, m, 1);
  if (m <= 64)
    LB_LEV(m, y, n, 1, LB_EQV, lb_join_w, d);
  else
    LB_LEV(m, y, n, 2, LB_EQV, lb_join_w, d);
  _mm256_zeroupper();
  return d;
}

LB_AVX512 static long lcs_bits8_avx512(const uint8_t *x, size_t m, const uint8_t *y,
                                       size_t n) {
  __m512i pv[4];
  long l;
  LB_LOAD(pv, x, m, 0);
  if (m <= 64)
    LB_LCS(m, y, n, 1, LB_EQV, l);
  else
    LB_LCS(m, y, n, 2, LB_EQV, l);
  _mm256_zeroupper();
  return l;
}
#endif

/* The kernels above for this processor: the compare ones where
 * rk__wide_on(0), else the table ones. */
static long lev_short8(const uint8_t *x, size_t m, const uint8_t *y, size_t n) {
#if RK_WIDE
  if (rk__wide_on(0)) return lev_bits8_avx512(x, m, y, n);
#endif
  return lev_bits8(x, m, y, n);
}
static long lcs_short8(const uint8_t *x, size_t m, const uint8_t *y, size_t n) {
#if RK_WIDE
  if (rk__wide_on(0)) return lcs_bits8_avx512(x, m, y, n);
#endif
  return lcs_bits8(x, m, y, n);
}

/* Swaps so that x is the shorter sequence (the bit-parallel pattern). */
#define SHORTER_FIRST(T, x, nx, y, ny) \
  do {                                 \
    if (nx > ny) {                     \
      const T *t_ = x;                 \
      x = y, y = t_;                   \
      size_t tn_ = nx;                 \
      nx = ny, ny = tn_;               \
    }                                  \
  } while (0)

/* Myers on sequences already stripped of their common ends, nx <= ny. */
static long lev_bits(const uint32_t *x, size_t nx, const uint32_t *y, size_t ny,
                     rk__arena *a) {
  peq q;
  if (peq_build(&q, x, nx, a)) return -1;
  return myers_run(&q, y, ny, 1, -1, NULL, a);
}

/* A byte sequence widened to 32-bit symbols in the arena, for the
 * bit-parallel code; NULL when the arena is exhausted. */
static uint32_t *widen8(const uint8_t *s, size_t n, rk__arena *a) {
  uint32_t *w = rk__arena_alloc(a, (n ? n : 1) * sizeof *w);
  if (w)
    for (size_t i = 0; i < n; i++) w[i] = s[i];
  return w;
}

long rk__lev_dist(const uint32_t *x, size_t nx, const uint32_t *y, size_t ny,
                  rk__arena *a) {
  /* Common prefix and suffix never change the distance. */
  while (nx && ny && *x == *y) x++, y++, nx--, ny--;
  while (nx && ny && x[nx - 1] == y[ny - 1]) nx--, ny--;
  SHORTER_FIRST(uint32_t, x, nx, y, ny);
  if (nx == 0) return (long)ny;
  long fr[LV_STACK];
  long d = lv32(x, nx, y, ny, 1, lv_budget(nx, ny), fr);
  return d >= 0 ? d : lev_bits(x, nx, y, ny, a);
}

#if RK_WIDE
/* common_ends8 64 bytes a compare (masked loads: nothing read past the
 * ends). */
LB_AVX512 static void common_ends8_w(const uint8_t *x, size_t nx, const uint8_t *y,
                                     size_t ny, size_t *pre, size_t *suf) {
  const size_t lo = nx < ny ? nx : ny;
  size_t p = 0, q = 0;
  if (lo > 0) {
    /* Usually both ends differ within their first 64 bytes: the first
     * window of each, compared at once (neither waits for the other);
     * the common suffix is then cut to what the prefix leaves. */
    const size_t w = lo < 64 ? lo : 64;
    const __mmask64 k = (__mmask64)_bzhi_u64(~(uint64_t)0, (unsigned)w);
    const uint64_t np = (uint64_t)_mm512_mask_cmpneq_epi8_mask(
        k, _mm512_maskz_loadu_epi8(k, x), _mm512_maskz_loadu_epi8(k, y));
    const uint64_t ns = (uint64_t)_mm512_mask_cmpneq_epi8_mask(
        k, _mm512_maskz_loadu_epi8(k, x + nx - w), _mm512_maskz_loadu_epi8(k, y + ny - w));
    if (np && ns) {
      p = (size_t)_tzcnt_u64(np);
      q = (size_t)__builtin_clzll(ns) - (64 - w);
      if (q > lo - p) q = lo - p;
      _mm256_zeroupper();
      *pre = p;
      *suf = q;
      return;
    }
  }
  for (;;) {
    const size_t r = lo - p;
    const __mmask64 k = (__mmask64)_bzhi_u64(~(uint64_t)0, r < 64 ? (unsigned)r : 64u);
    const uint64_t ne = (uint64_t)_mm512_mask_cmpneq_epi8_mask(
        k, _mm512_maskz_loadu_epi8(k, x + p), _mm512_maskz_loadu_epi8(k, y + p));
    if (ne) {
      p += (size_t)_tzcnt_u64(ne);
      break;
    }
    if (r <= 64) {
      p = lo;
      break;
    }
    p += 64;
  }
  /* The suffix, within what the prefix leaves: windows of w bytes that
   * end q bytes before the ends, so the first difference from the end is
   * the window's highest set bit. */
  const size_t left = lo - p;
  for (;;) {
    const size_t r = left - q, w = r < 64 ? r : 64;
    const __mmask64 k = (__mmask64)_bzhi_u64(~(uint64_t)0, (unsigned)w);
    const uint64_t ne = (uint64_t)_mm512_mask_cmpneq_epi8_mask(
        k, _mm512_maskz_loadu_epi8(k, x + nx - q - w), _mm512_maskz_loadu_epi8(k, y + ny - q - w));
    if (ne) {
      q += (size_t)__builtin_clzll(ne) - (64 - w);
      break;
    }
    if (r <= 64) {
      q = left;
      break;
    }
    q += 64;
  }
  _mm256_zeroupper();
  *pre = p;
  *suf = q;
}
#endif

/* Lengths of the common prefix and suffix of two byte sequences (the
 * suffix within what the prefix leaves), a word at a time. */
static void common_ends8(const uint8_t *x, size_t nx, const uint8_t *y, size_t ny,
                         size_t *pre, size_t *suf) {
#if RK_WIDE
  if (rk__wide_on(0)) {
    common_ends8_w(x, nx, y, ny, pre, suf);
    return;
  }
#endif
  size_t lo = nx < ny ? nx : ny, p = 0, q = 0;
#if LV_LITTLE
  while (p + 8 <= lo) {
    uint64_t u, v;
    memcpy(&u, x + p, 8);
    memcpy(&v, y + p, 8);
    if (u != v) {
      p += (size_t)__builtin_ctzll(u ^ v) >> 3;
      goto prefix_done;
    }
    p += 8;
  }
#endif
  while (p < lo && x[p] == y[p]) p++;
#if LV_LITTLE
prefix_done:
  lo -= p;
  while (q + 8 <= lo) {
    uint64_t u, v;
    memcpy(&u, x + nx - q - 8, 8);
    memcpy(&v, y + ny - q - 8, 8);
    if (u != v) {
      q += (size_t)__builtin_clzll(u ^ v) >> 3;
      goto suffix_done;
    }
    q += 8;
  }
#else
  lo -= p;
#endif
  while (q < lo && x[nx - q - 1] == y[ny - q - 1]) q++;
#if LV_LITTLE
suffix_done:
#endif
  *pre = p;
  *suf = q;
}

/* dst[0..n) = src[0..n), then LV_PAD zero bytes; inline word copies (the
 * texts are short, a library call costs more than the copy). */
static inline void copy_pad8(uint8_t *dst, const uint8_t *src, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) memcpy(dst + i, src + i, 8);
  for (; i < n; i++) dst[i] = src[i];
  memset(dst + n, 0, LV_PAD);
}

/* Padded copies of x and y for slide8, in buf (LV_BYTES bytes) or the
 * arena; 0, or -1 when the arena is exhausted. */
#define LV_BYTES 1024
static int lv_pad(const uint8_t **x, size_t nx, const uint8_t **y, size_t ny, uint8_t *buf,
                  rk__arena *a) {
  size_t need = nx + ny + 2 * LV_PAD;
  uint8_t *p = need <= LV_BYTES ? buf : rk__arena_alloc(a, need);
  if (!p) return -1;
  copy_pad8(p, *x, nx);
  copy_pad8(p + nx + LV_PAD, *y, ny);
  *x = p;
  *y = p + nx + LV_PAD;
  return 0;
}

#if RK_WIDE
/* lv_pad for slide8w: LB_PAD bytes of padding, copied 64 bytes a step. */
LB_AVX512 static void copy_pad_w(uint8_t *dst, const uint8_t *src, size_t n) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64) _mm512_storeu_si512(dst + i, _mm512_loadu_si512(src + i));
  const __mmask64 k = (__mmask64)_bzhi_u64(~(uint64_t)0, (unsigned)(n - i));
  _mm512_storeu_si512(dst + i, _mm512_maskz_loadu_epi8(k, src + i));
  if (n - i) _mm512_storeu_si512(dst + i + 64, _mm512_setzero_si512());
}
static int lv_pad_w(const uint8_t **x, size_t nx, const uint8_t **y, size_t ny, uint8_t *buf,
                    rk__arena *a) {
  size_t sx = (nx + LB_PAD + 63) & ~(size_t)63, need = sx + ny + 2 * LB_PAD;
  uint8_t *p = need <= LV_BYTES ? buf : rk__arena_alloc(a, need);
  if (!p) return -1;
  copy_pad_w(p, *x, nx);
  copy_pad_w(p + sx, *y, ny);
  *x = p;
  *y = p + sx;
  return 0;
}
#endif

/* The diagonal method (Levenshtein: s = 1; InDel: s = 0) on padded
 * copies, with this processor's slides: the distance, -1 when its budget
 * ran out, -2 when the arena did. */
static long diag8(const uint8_t *x, size_t nx, const uint8_t *y, size_t ny, long s,
                  rk__arena *a) {
  long fr[LV_STACK];
  uint8_t buf[LV_BYTES];
#if RK_WIDE
  if (rk__wide_on(0)) {
    if (lv_pad_w(&x, nx, &y, ny, buf, a)) return -2;
    return lv8w(x, nx, y, ny, s, lv_budget(nx, ny), fr);
  }
#endif
  if (lv_pad(&x, nx, &y, ny, buf, a)) return -2;
  return lv8(x, nx, y, ny, s, lv_budget(nx, ny), fr);
}

long rk__lev_dist8(const uint8_t *x, size_t nx, const uint8_t *y, size_t ny,
                   rk__arena *a) {
  size_t pre, suf;
  common_ends8(x, nx, y, ny, &pre, &suf);
  x += pre, y += pre, nx -= pre + suf, ny -= pre + suf;
  SHORTER_FIRST(uint8_t, x, nx, y, ny);
  if (nx == 0) return (long)ny;
  long d = diag8(x, nx, y, ny, 1, a);
  if (d != -1) return d == -2 ? -1 : d;
  if (nx <= LB_MAX) return lev_short8(x, nx, y, ny);
  uint32_t *wx = widen8(x, nx, a), *wy = widen8(y, ny, a);
  if (!wx || !wy) return -1;
  return lev_bits(wx, nx, wy, ny, a);
}

long rk__lev_search(const uint32_t *pat, size_t m, const uint32_t *text,
                    size_t n, long stop, size_t *end, rk__arena *a) {
  *end = 0;
  if (m == 0) return 0;
  peq q;
  if (peq_build(&q, pat, m, a)) return -1;
  return myers_run(&q, text, n, 0, stop, end, a);
}

/* ------------------------------------------------------------- LCS */

/* Allison-Dix / Hyyro on sequences stripped of their common ends,
 * 0 < nx <= ny: the LCS length of what is left. */
static long lcs_bits(const uint32_t *x, size_t nx, const uint32_t *y, size_t ny,
                     rk__arena *a) {
  peq q;
  if (peq_build(&q, x, nx, a)) return -1;
  size_t B = q.blocks;
  if (B == 1) {
    uint64_t S1 = ~(uint64_t)0;
    for (size_t j = 0; j < ny; j++) {
      uint64_t u = S1 & peq_row(&q, y[j])[0];
      S1 = (S1 + u) | (S1 - u);
    }
    uint64_t z = ~S1;
    if (nx < 64) z &= ((uint64_t)1 << nx) - 1;
    return __builtin_popcountll(z);
  }
  uint64_t *S = rk__arena_alloc(a, B * sizeof *S);
  if (!S) return -1;
  for (size_t b = 0; b < B; b++) S[b] = ~(uint64_t)0;
  for (size_t j = 0; j < ny; j++) {
    const uint64_t *eqr = peq_row(&q, y[j]);
    uint64_t carry = 0;
    for (size_t b = 0; b < B; b++) {
      uint64_t s = S[b], u = s & eqr[b];
      uint64_t t = s + u;
      uint64_t c1 = t < s;
      uint64_t t2 = t + carry;
      uint64_t c2 = t2 < t;
      S[b] = t2 | (s - u);
      carry = c1 | c2;
    }
  }
  long lcs = 0;
  for (size_t b = 0; b < B; b++) {
    uint64_t z = ~S[b];
    if (b + 1 == B && nx % 64) z &= ((uint64_t)1 << (nx % 64)) - 1;
    lcs += __builtin_popcountll(z);
  }
  return lcs;
}

long rk__lcs_len(const uint32_t *x, size_t nx, const uint32_t *y, size_t ny,
                 rk__arena *a) {
  long common = 0;
  while (nx && ny && *x == *y) x++, y++, nx--, ny--, common++;
  while (nx && ny && x[nx - 1] == y[ny - 1]) nx--, ny--, common++;
  SHORTER_FIRST(uint32_t, x, nx, y, ny);
  if (nx == 0) return common;
  long fr[LV_STACK];
  long d = lv32(x, nx, y, ny, 0, lv_budget(nx, ny), fr);
  if (d >= 0) return common + ((long)(nx + ny) - d) / 2; /* InDel = nx + ny - 2 LCS */
  long l = lcs_bits(x, nx, y, ny, a);
  return l < 0 ? -1 : l + common;
}

long rk__lcs_len8(const uint8_t *x, size_t nx, const uint8_t *y, size_t ny,
                  rk__arena *a) {
  size_t pre, suf;
  common_ends8(x, nx, y, ny, &pre, &suf);
  long common = (long)(pre + suf);
  x += pre, y += pre, nx -= pre + suf, ny -= pre + suf;
  SHORTER_FIRST(uint8_t, x, nx, y, ny);
  if (nx == 0) return common;
  /* Short patterns: three dependent operations a column, cheaper than
   * the diagonal method unless the distance is tiny (measured). */
  if (nx <= LB_MAX) return common + lcs_short8(x, nx, y, ny);
  long d = diag8(x, nx, y, ny, 0, a);
  if (d == -2) return -1;
  if (d >= 0) return common + ((long)(nx + ny) - d) / 2; /* InDel = nx + ny - 2 LCS */
  uint32_t *wx = widen8(x, nx, a), *wy = widen8(y, ny, a);
  if (!wx || !wy) return -1;
  long l = lcs_bits(wx, nx, wy, ny, a);
  return l < 0 ? -1 : l + common;
}

/* ------------------------------------------------------- DP oracles */

long rk__lev_dist_dp(const uint32_t *x, size_t nx, const uint32_t *y,
                     size_t ny, rk__arena *a) {
  size_t *row = rk__arena_alloc(a, (ny + 1) * sizeof *row);
  if (!row) return -1;
  for (size_t j = 0; j <= ny; j++) row[j] = j;
  for (size_t i = 1; i <= nx; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= ny; j++) {
      size_t up = row[j];
      size_t v = diag + (x[i - 1] != y[j - 1]);
      if (up + 1 < v) v = up + 1;
      if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
      row[j] = v;
      diag = up;
    }
  }
  return (long)row[ny];
}

long rk__lcs_len_dp(const uint32_t *x, size_t nx, const uint32_t *y,
                    size_t ny, rk__arena *a) {
  size_t *row = rk__arena_alloc(a, (ny + 1) * sizeof *row);
  if (!row) return -1;
  memset(row, 0, (ny + 1) * sizeof *row);
  for (size_t i = 1; i <= nx; i++) {
    size_t diag = 0;
    for (size_t j = 1; j <= ny; j++) {
      size_t up = row[j];
      if (x[i - 1] == y[j - 1])
        row[j] = diag + 1;
      else if (row[j - 1] > up)
        row[j] = row[j - 1];
      diag = up;
    }
  }
  return (long)row[ny];
}

/* ------------------------------------------------------- interning */

typedef struct intern_ent {
  const void *w;  /* the word's bytes (code points are stored as 4 bytes each) */
  size_t size;    /* in bytes */
  uint64_t h;
  uint32_t id1;   /* id + 1, 0 = empty slot */
} intern_ent;

struct rk__lev_intern {
  rk__arena *arena;
  intern_ent *ents;
  size_t mask, count, capacity;
  unsigned shift; /* home slot = (h * rk__hk.tab) >> shift */
  size_t probes;  /* slots looked at past the home slots (for the tests) */
};

size_t rk__lev_intern_probes(const rk__lev_intern *t) { return t->probes; }

static int intern_alloc(rk__lev_intern *t, size_t slots) {
  t->ents = rk__arena_alloc(t->arena, slots * sizeof *t->ents);
  if (!t->ents) return -1;
  memset(t->ents, 0, slots * sizeof *t->ents);
  t->mask = slots - 1;
  t->shift = 64 - (unsigned)__builtin_ctzll((unsigned long long)slots);
  return 0;
}

rk__lev_intern *rk__lev_intern_new(rk__arena *a, size_t capacity) {
  rk__lev_intern *t = rk__arena_alloc(a, sizeof *t);
  if (!t) return NULL;
  t->arena = a;
  t->count = 0;
  t->probes = 0;
  t->capacity = capacity;
  /* Start small (most texts have few distinct words) and double at half
   * load; the old table stays in the arena until the record ends. */
  return intern_alloc(t, 64) ? NULL : t;
}

/* Slot of hash h: its top bits. Both kinds of hash are keyed there: the
 * keyed rk__ovl_hash, and the 32-bit one times the random odd key of
 * rk__hk (intern_bytes); that is multiply-shift hashing of distinct
 * words, so that words a text chooses do not share one probe run. */
static inline size_t intern_slot(const rk__lev_intern *t, uint64_t h) {
  return (size_t)(h >> t->shift);
}

static void intern_put(rk__lev_intern *t, const intern_ent *e) {
  size_t k = intern_slot(t, e->h);
  while (t->ents[k].id1) k = (k + 1) & t->mask;
  t->ents[k] = *e;
}

/* Id of the word (w, size) with hash h; `exact8`: h is rk__ovl_hash, so
 * words of up to 8 bytes with equal sizes and hashes are equal. */
static inline uint32_t intern_find(rk__lev_intern *t, const void *w, size_t size, uint64_t h,
                                   int exact8) {
  size_t k = intern_slot(t, h);
  for (;;) {
    intern_ent *e = &t->ents[k];
    if (!e->id1) break;
    if (e->h == h && e->size == size &&
        ((exact8 && size <= 8) || size == 0 || memcmp(e->w, w, size) == 0))
      return e->id1 - 1;
    k = (k + 1) & t->mask;
    t->probes++;
  }
  if (t->count >= t->capacity) return UINT32_MAX;
  if (2 * (t->count + 1) > t->mask + 1) {
    intern_ent *old = t->ents;
    size_t slots = t->mask + 1;
    if (intern_alloc(t, 2 * slots)) return UINT32_MAX;
    for (size_t i = 0; i < slots; i++)
      if (old[i].id1) intern_put(t, &old[i]);
  }
  intern_ent e = {w, size, h, (uint32_t)++t->count};
  intern_put(t, &e);
  return e.id1 - 1;
}

static uint32_t intern_bytes(rk__lev_intern *t, const void *w, size_t size, uint32_t h) {
  h ^= (uint32_t)size;
  h ^= h >> 16;
  h *= 0x7feb352dU;
  h ^= h >> 15;
  h *= 0x846ca68bU;
  h ^= h >> 16;
  return intern_find(t, w, size, h * rk__hk.tab, 0);
}

uint32_t rk__lev_intern_id(rk__lev_intern *t, const uint32_t *w, size_t n) {
  uint32_t h = RK__LEV_HASH0;
  for (size_t i = 0; i < n; i++) h = RK__LEV_HASH_STEP(h, w[i]);
  return intern_bytes(t, w, n * sizeof *w, h);
}

uint32_t rk__lev_intern_idh(rk__lev_intern *t, const uint32_t *w, size_t n, uint32_t h) {
  return intern_bytes(t, w, n * sizeof *w, h);
}

uint32_t rk__lev_intern_idb(rk__lev_intern *t, const char *w, size_t n, uint32_t h) {
  return intern_bytes(t, w, n, h);
}

uint32_t rk__lev_intern_idb64(rk__lev_intern *t, const char *w, size_t n, uint64_t h) {
  return intern_find(t, w, n, h, 1);
}
