/*
 * hungarian.c - minimum-cost assignment (the Hungarian method in its
 * shortest-augmenting-path form with row and column potentials, Kuhn 1955
 * / Jonker-Volgenant 1987), the matching scipy's linear_sum_assignment
 * does for Vision-R1's detection reward.
 *
 * Rows are added one at a time; each addition runs a Dijkstra-like search
 * over reduced costs c[i][j] - u[i] - v[j] >= 0 for an augmenting path to
 * a free column, then updates the potentials. O(R^2 * C) for R <= C rows
 * (the matrix is transposed when it has more rows than columns).
 *
 * Not for: greedy matchings (detection.c).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "vision/detection.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
/* The AVX2 and AVX-512 kernels, chosen at run time; -DHUNG_WIDE=0 leaves
 * them out (to test the SSE2 ones on a machine that has both). */
#ifndef HUNG_WIDE
#if defined(__x86_64__) && defined(__GNUC__) && defined(__SSE2__)
#define HUNG_WIDE 1
#else
#define HUNG_WIDE 0
#endif
#endif
#if HUNG_WIDE
#include <immintrin.h>
#endif

/* Which optimal assignment comes out when there are several (ties), and
 * which near-optimal one when rounding decides, follows from the exact
 * sequence of floating-point operations and comparisons; the rewards
 * (detection_hungarian, detection_prf) read the matched pairs, so this
 * file keeps the sequence of the textbook loop it replaced (ec03baf),
 * in which every step of a search
 *   - scans the row just reached: for each column not on the tree yet,
 *     cur = (c[i][j] - u[i]) - v[j], and minv[j] = cur, prev[j] = the
 *     column the row was reached by, when cur < minv[j] (strictly);
 *   - takes delta = the smallest minv[j] of those columns, the first
 *     column on ties (only a strictly smaller one replaces it);
 *   - adds delta to u of every row on the tree (the new row and the rows
 *     of the tree's columns), subtracts it from v of the tree's columns
 *     and from minv of the other columns.
 * The same operations, with less work around them:
 *   - minv of the other columns is reduced by the next step's scan (the
 *     same subtraction, before the value is read);
 *   - u and v of the tree are written but not read until the search ends
 *     (a row's u is read once, when it is scanned, before its first
 *     delta), so the deltas are kept by step and applied at the end, in
 *     step order (tree_update);
 *   - the scan leaves the tree's columns out of the minimum by a mask
 *     (AVX-512) or by storing +inf as their minv (the others), and finds
 *     delta's column as the smallest column holding the smallest value
 *     (== matches -0 to +0, as the strict scan keeps the first of them;
 *     delta is then that column's own value);
 *   - it does 2 (SSE2), 4 (AVX2) or 8 (AVX-512) columns at a time: subpd,
 *     minpd and the comparisons round and pick exactly like the scalar
 *     code, and a blend or masked move only moves bits;
 *   - the tree is a bitset written a byte at a time, so no narrow store
 *     is followed by a wide load of the same bytes (a stall on x86).
 * The matrix is read by contiguous rows. */

/* -------------------------------------------------------------- scan */

/* One step's scan: row `row` (its u is ui), reached by column j0 (-1:
 * the row being added), after the previous step's delta dprev (0 for
 * the first step). Column j is on the tree when bit j % 8 of tb[j / 8]
 * is set. */
typedef struct scan_args {
  const double *row;
  size_t C;
  double ui, dprev;
  int64_t j0;
  double *minv;
  const double *v;
  int64_t *prev;
  const uint8_t *tb;
} scan_args;

/* Returns the first column of the smallest minv off the tree, or
 * SIZE_MAX when every such minv is +inf (nothing reachable: non-finite
 * costs); *delta = that minv. */
typedef size_t (*scan_fn)(const scan_args *s, double *delta);

static inline int on_tree(const uint8_t *tb, size_t j) { return tb[j / 8] >> (j % 8) & 1; }

/* Columns [j, C) one at a time (the tree's get minv = +inf); *best =
 * their smallest minv if smaller (strictly) than *best, *bj its first
 * column. */
static void scan_scalar(const scan_args *s, size_t j, double *best, size_t *bj) {
  for (; j < s->C; j++) {
    double m = INFINITY;
    if (!on_tree(s->tb, j)) {
      m = s->minv[j] - s->dprev;
      double cur = s->row[j] - s->ui - s->v[j];
      if (cur < m) m = cur, s->prev[j] = s->j0;
    }
    s->minv[j] = m;
    if (m < *best) *best = m, *bj = j;
  }
}

static size_t scan_plain(const scan_args *s, double *delta) {
  double best = INFINITY;
  size_t bj = SIZE_MAX;
  scan_scalar(s, 0, &best, &bj);
  *delta = best;
  return bj;
}

#ifdef __SSE2__
/* Lane masks of 2 tree bits. */
static const uint64_t tree_lanes2[4][2] __attribute__((aligned(16))) = {
    {0, 0}, {~0ull, 0}, {0, ~0ull}, {~0ull, ~0ull}};
/* The first k < n with x[k] == key (there is one). */
static size_t first_eq_sse2(const double *x, size_t n, double key) {
  const __m128d k2 = _mm_set1_pd(key);
  size_t k = 0;
  for (; k + 2 <= n; k += 2) {
    int mask = _mm_movemask_pd(_mm_cmpeq_pd(_mm_loadu_pd(x + k), k2));
    if (mask) return k + (mask & 1 ? 0 : 1);
  }
  while (x[k] != key) k++;
  return k;
}

/* Two columns at a time (four per iteration), then the rest one at a
 * time. The smallest value is kept by minpd in two accumulators, and its
 * first column found by a second pass over minv. */
static size_t scan_sse2(const scan_args *s, double *delta) {
  const size_t C = s->C;
  const double *row = s->row, *v = s->v;
  double *minv = s->minv;
  const uint8_t *tb = s->tb;
  int64_t *prev = s->prev;
  const __m128d ui = _mm_set1_pd(s->ui), dp = _mm_set1_pd(s->dprev), inf = _mm_set1_pd(INFINITY);
  const __m128i j0 = _mm_set1_epi64x(s->j0);
  __m128d b0 = inf, b1 = inf;
  size_t j = 0;
#define SCAN2(J, B)                                                                         \
  do {                                                                                      \
    __m128d m = _mm_sub_pd(_mm_loadu_pd(minv + (J)), dp);                                   \
    __m128d cur = _mm_sub_pd(_mm_sub_pd(_mm_loadu_pd(row + (J)), ui), _mm_loadu_pd(v + (J))); \
    __m128d on = _mm_load_pd((const double *)tree_lanes2[tb[(J) / 8] >> ((J) % 8) & 3]);     \
    __m128d up = _mm_andnot_pd(on, _mm_cmplt_pd(cur, m));                                   \
    m = _mm_or_pd(_mm_and_pd(up, cur), _mm_andnot_pd(up, m));                               \
    m = _mm_or_pd(_mm_and_pd(on, inf), _mm_andnot_pd(on, m));                               \
    _mm_storeu_pd(minv + (J), m);                                                           \
    __m128i k = _mm_castpd_si128(up);                                                       \
    __m128i p = _mm_loadu_si128((const __m128i *)(prev + (J)));                             \
    _mm_storeu_si128((__m128i *)(prev + (J)),                                               \
                     _mm_or_si128(_mm_and_si128(k, j0), _mm_andnot_si128(k, p)));           \
    B = _mm_min_pd(m, B);                                                                   \
  } while (0)
  for (; j + 4 <= C; j += 4) {
    SCAN2(j, b0);
    SCAN2(j + 2, b1);
  }
  if (j + 2 <= C) {
    SCAN2(j, b0);
    j += 2;
  }
#undef SCAN2
  b0 = _mm_min_pd(b0, b1);
  b0 = _mm_min_pd(b0, _mm_unpackhi_pd(b0, b0));
  double best = _mm_cvtsd_f64(b0);
  size_t jv = j, bj = SIZE_MAX;
  if (best < INFINITY) bj = first_eq_sse2(minv, jv, best);
  scan_scalar(s, jv, &best, &bj); /* strictly smaller: a later column */
  if (bj != SIZE_MAX) best = minv[bj];
  *delta = best;
  return bj;
}
#endif

#if HUNG_WIDE
/* Lane masks of 4 tree bits. */
static const uint64_t tree_lanes4[16][4] __attribute__((aligned(32))) = {
    {0, 0, 0, 0},          {~0ull, 0, 0, 0},          {0, ~0ull, 0, 0},
    {~0ull, ~0ull, 0, 0},  {0, 0, ~0ull, 0},          {~0ull, 0, ~0ull, 0},
    {0, ~0ull, ~0ull, 0},  {~0ull, ~0ull, ~0ull, 0},  {0, 0, 0, ~0ull},
    {~0ull, 0, 0, ~0ull},  {0, ~0ull, 0, ~0ull},      {~0ull, ~0ull, 0, ~0ull},
    {0, 0, ~0ull, ~0ull},  {~0ull, 0, ~0ull, ~0ull},  {0, ~0ull, ~0ull, ~0ull},
    {~0ull, ~0ull, ~0ull, ~0ull}};

__attribute__((target("avx2"))) static size_t first_eq_avx2(const double *x, size_t n,
                                                            double key) {
  const __m256d k4 = _mm256_set1_pd(key);
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    unsigned mask =
        (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(x + k), k4, _CMP_EQ_OQ));
    if (mask) return k + (size_t)__builtin_ctz(mask);
  }
  while (x[k] != key) k++;
  return k;
}

/* scan_sse2 four columns at a time (eight per iteration). */
__attribute__((target("avx2"))) static size_t scan_avx2(const scan_args *s, double *delta) {
  const size_t C = s->C;
  const double *row = s->row, *v = s->v;
  double *minv = s->minv;
  const uint8_t *tb = s->tb;
  int64_t *prev = s->prev;
  const __m256d ui = _mm256_set1_pd(s->ui), dp = _mm256_set1_pd(s->dprev),
                inf = _mm256_set1_pd(INFINITY);
  const __m256d j0 = _mm256_castsi256_pd(_mm256_set1_epi64x(s->j0));
  __m256d b0 = inf, b1 = inf;
  size_t j = 0;
#define SCAN4(J, B)                                                                      \
  do {                                                                                   \
    __m256d m = _mm256_sub_pd(_mm256_loadu_pd(minv + (J)), dp);                          \
    __m256d cur = _mm256_sub_pd(_mm256_sub_pd(_mm256_loadu_pd(row + (J)), ui),          \
                                _mm256_loadu_pd(v + (J)));                               \
    __m256d on = _mm256_load_pd((const double *)tree_lanes4[tb[(J) / 8] >> ((J) % 8) & 15]); \
    __m256d up = _mm256_andnot_pd(on, _mm256_cmp_pd(cur, m, _CMP_LT_OQ));                \
    m = _mm256_blendv_pd(_mm256_blendv_pd(m, cur, up), inf, on);                         \
    _mm256_storeu_pd(minv + (J), m);                                                     \
    __m256d p = _mm256_loadu_pd((const double *)(prev + (J)));                           \
    _mm256_storeu_pd((double *)(prev + (J)), _mm256_blendv_pd(p, j0, up));               \
    B = _mm256_min_pd(m, B);                                                             \
  } while (0)
  for (; j + 8 <= C; j += 8) {
    SCAN4(j, b0);
    SCAN4(j + 4, b1);
  }
  if (j + 4 <= C) {
    SCAN4(j, b0);
    j += 4;
  }
#undef SCAN4
  b0 = _mm256_min_pd(b0, b1);
  b0 = _mm256_min_pd(b0, _mm256_permute2f128_pd(b0, b0, 1));
  b0 = _mm256_min_pd(b0, _mm256_permute_pd(b0, 5));
  double best = _mm256_cvtsd_f64(b0);
  size_t jv = j, bj = SIZE_MAX;
  if (best < INFINITY) bj = first_eq_avx2(minv, jv, best);
  /* Clean upper halves before code without VEX encoding runs (GCC 12
   * does not insert this in a target("avx2") function): without it,
   * every SSE instruction after this returns pays for a merge. */
  _mm256_zeroupper();
  scan_scalar(s, jv, &best, &bj);
  if (bj != SIZE_MAX) best = minv[bj];
  *delta = best;
  return bj;
}

/* Eight columns at a time, the last ones under a lane mask (masked-off
 * lanes are neither loaded nor stored); the tree's lanes are masked out
 * of the update and of the minimum (their minv is left stale). Two
 * (value, column) accumulators, for even and odd vectors, each lane
 * keeping its first smallest (strict <) over its columns in order; then
 * the smallest value, and the smallest column holding it. No
 * data-dependent branch: a step's latency is what limits the search. */
__attribute__((target("avx512f"))) static size_t scan_avx512(const scan_args *s,
                                                             double *delta) {
  const size_t C = s->C;
  const double *row = s->row, *v = s->v;
  double *minv = s->minv;
  const uint8_t *tb = s->tb;
  int64_t *prev = s->prev;
  const __m512d ui = _mm512_set1_pd(s->ui), dp = _mm512_set1_pd(s->dprev);
  const __m512i j0 = _mm512_set1_epi64(s->j0), step = _mm512_set1_epi64(16);
  __m512d b0 = _mm512_set1_pd(INFINITY), b1 = b0;
  __m512i i0 = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  __m512i i1 = _mm512_add_epi64(i0, _mm512_set1_epi64(8));
  __m512i x0 = _mm512_set1_epi64(-1), x1 = x0;
#define SCAN8(J, LM, B, X, I)                                                              \
  do {                                                                                   \
    __m512d m = _mm512_sub_pd(_mm512_maskz_loadu_pd(LM, minv + (J)), dp);                \
    __m512d cur = _mm512_sub_pd(_mm512_sub_pd(_mm512_maskz_loadu_pd(LM, row + (J)), ui), \
                                _mm512_maskz_loadu_pd(LM, v + (J)));                     \
    __mmask8 off = (__mmask8)((LM) & ~tb[(J) / 8]);                                      \
    __mmask8 up = _mm512_mask_cmp_pd_mask(off, cur, m, _CMP_LT_OQ);                      \
    m = _mm512_mask_mov_pd(m, up, cur);                                                  \
    _mm512_mask_storeu_pd(minv + (J), LM, m);                                            \
    _mm512_mask_storeu_epi64(prev + (J), up, j0);                                        \
    __mmask8 lt = _mm512_mask_cmp_pd_mask(off, m, B, _CMP_LT_OQ);                        \
    B = _mm512_mask_mov_pd(B, lt, m);                                                    \
    X = _mm512_mask_mov_epi64(X, lt, I);                                                 \
    I = _mm512_add_epi64(I, step);                                                       \
  } while (0)
  size_t j = 0;
  for (; j + 16 <= C; j += 16) {
    SCAN8(j, (__mmask8)0xff, b0, x0, i0);
    SCAN8(j + 8, (__mmask8)0xff, b1, x1, i1);
  }
  for (; j < C; j += 8) { /* at most two vectors left, the last maybe partial */
    __mmask8 lm = C - j >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (C - j)) - 1);
    SCAN8(j, lm, b0, x0, i0);
    i0 = _mm512_sub_epi64(i0, _mm512_set1_epi64(8)); /* SCAN8 stepped it by 16 */
  }
#undef SCAN8
  /* A lane that never took a value has +inf and column -1. */
  __mmask8 t = _mm512_cmp_pd_mask(b1, b0, _CMP_LT_OQ) |
               (_mm512_cmp_pd_mask(b1, b0, _CMP_EQ_OQ) &
                _mm512_cmp_epi64_mask(x1, x0, _MM_CMPINT_LT));
  b0 = _mm512_mask_mov_pd(b0, t, b1);
  x0 = _mm512_mask_mov_epi64(x0, t, x1);
  double best = _mm512_reduce_min_pd(b0);
  size_t bj = SIZE_MAX;
  if (best < INFINITY) {
    __mmask8 at = _mm512_cmp_pd_mask(b0, _mm512_set1_pd(best), _CMP_EQ_OQ);
    bj = (size_t)_mm512_mask_reduce_min_epi64(at, x0);
    best = minv[bj];
  }
  _mm256_zeroupper();
  *delta = best;
  return bj;
}
#endif

/* ------------------------------------------------------- row minimum */

/* The first column of the smallest entry of row[0..C) (only a strictly
 * smaller entry replaces one; NaN never does), or SIZE_MAX when none is
 * below +inf; *out = its value. The vector ones take the minimum
 * (minpd(x, b) = x < b ? x : b, the scalar test), then the first entry
 * equal to it. */
typedef size_t (*row_min_fn)(const double *row, size_t C, double *out);

static size_t row_min_plain(const double *row, size_t C, double *out) {
  double best = INFINITY;
  size_t bj = SIZE_MAX;
  for (size_t j = 0; j < C; j++)
    if (row[j] < best) best = row[j], bj = j;
  if (bj != SIZE_MAX) *out = best;
  return bj;
}

#ifdef __SSE2__
static size_t row_min_sse2(const double *row, size_t C, double *out) {
  __m128d b0 = _mm_set1_pd(INFINITY), b1 = b0, b2 = b0, b3 = b0;
  size_t j = 0;
  for (; j + 8 <= C; j += 8) {
    b0 = _mm_min_pd(_mm_loadu_pd(row + j), b0);
    b1 = _mm_min_pd(_mm_loadu_pd(row + j + 2), b1);
    b2 = _mm_min_pd(_mm_loadu_pd(row + j + 4), b2);
    b3 = _mm_min_pd(_mm_loadu_pd(row + j + 6), b3);
  }
  b0 = _mm_min_pd(_mm_min_pd(b0, b1), _mm_min_pd(b2, b3));
  b0 = _mm_min_pd(b0, _mm_unpackhi_pd(b0, b0));
  double best = _mm_cvtsd_f64(b0);
  for (; j < C; j++)
    if (row[j] < best) best = row[j];
  if (!(best < INFINITY)) return SIZE_MAX;
  j = first_eq_sse2(row, C, best);
  *out = row[j];
  return j;
}
#endif

#if HUNG_WIDE
__attribute__((target("avx512f"))) static size_t row_min_avx512(const double *row, size_t C,
                                                                double *out) {
  __m512d b0 = _mm512_set1_pd(INFINITY), b1 = b0;
  size_t j = 0;
  for (; j + 16 <= C; j += 16) {
    b0 = _mm512_min_pd(_mm512_loadu_pd(row + j), b0);
    b1 = _mm512_min_pd(_mm512_loadu_pd(row + j + 8), b1);
  }
  for (; j < C; j += 8) {
    __mmask8 lm = C - j >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (C - j)) - 1);
    b0 = _mm512_mask_min_pd(b0, lm, _mm512_maskz_loadu_pd(lm, row + j), b0);
  }
  double best = _mm512_reduce_min_pd(_mm512_min_pd(b0, b1));
  size_t bj = SIZE_MAX;
  if (best < INFINITY) {
    const __m512d key = _mm512_set1_pd(best);
    for (j = 0; bj == SIZE_MAX; j += 8) {
      __mmask8 lm = C - j >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (C - j)) - 1);
      unsigned eq =
          _mm512_mask_cmp_pd_mask(lm, _mm512_maskz_loadu_pd(lm, row + j), key, _CMP_EQ_OQ);
      if (eq) bj = j + (size_t)__builtin_ctz(eq);
    }
    *out = row[bj];
  }
  _mm256_zeroupper();
  return bj;
}
#endif

/* The kernels of level simd (RK__SIMD_*), or of the widest level below
 * it that this build and processor have. */
static void kernels(int simd, scan_fn *scan, row_min_fn *rmin) {
  (void)simd;
  *scan = scan_plain, *rmin = row_min_plain;
#ifdef __SSE2__
  if (simd >= RK__SIMD_SSE2) *scan = scan_sse2, *rmin = row_min_sse2;
#endif
#if HUNG_WIDE
  if (simd >= RK__SIMD_AVX512 && __builtin_cpu_supports("avx512f"))
    *scan = scan_avx512, *rmin = row_min_avx512;
  else if (simd >= RK__SIMD_AVX2 && __builtin_cpu_supports("avx2"))
    *scan = scan_avx2;
#endif
}

/* ------------------------------------------------------------ solver */

/* The potentials of the tree after a search of nt + 1 steps (deltas
 * dl[0..nt]): column tree[k] joined after step k, and it and its row
 * then took the deltas of steps k + 1 .. nt, one after the other:
 * v[tree[k]] -= dl[s], u[owner[tree[k]]] += dl[s] in order of s. Two
 * columns at a time, in registers. */
static void tree_update(double *u, double *v, const long *owner, const size_t *tree, size_t nt,
                        const double *dl) {
  size_t k = 0;
#ifdef __SSE2__
  for (; k + 2 <= nt; k += 2) {
    size_t t0 = tree[k], t1 = tree[k + 1];
    __m128d pu = _mm_set_pd(u[owner[t1]], u[owner[t0]] + dl[k + 1]);
    __m128d pv = _mm_set_pd(v[t1], v[t0] - dl[k + 1]);
    for (size_t st = k + 2; st <= nt; st++) {
      __m128d d = _mm_set1_pd(dl[st]);
      pu = _mm_add_pd(pu, d), pv = _mm_sub_pd(pv, d);
    }
    u[owner[t0]] = _mm_cvtsd_f64(pu), u[owner[t1]] = _mm_cvtsd_f64(_mm_unpackhi_pd(pu, pu));
    v[t0] = _mm_cvtsd_f64(pv), v[t1] = _mm_cvtsd_f64(_mm_unpackhi_pd(pv, pv));
  }
#endif
  for (; k < nt; k++) {
    double x = u[owner[tree[k]]], y = v[tree[k]];
    for (size_t st = k + 1; st <= nt; st++) x += dl[st], y -= dl[st];
    u[owner[tree[k]]] = x, v[tree[k]] = y;
  }
}

int rk__hungarian(const double *cost, size_t n, size_t m, long *row_col, rk__arena *a) {
  return rk__hungarian_simd(cost, n, m, row_col, a, RK__SIMD_BEST);
}

int rk__hungarian_simd(const double *cost, size_t n, size_t m, long *row_col, rk__arena *a,
                       int simd) {
  for (size_t i = 0; i < n; i++) row_col[i] = -1;
  if (n == 0 || m == 0) return 0;
  int tr = n > m;
  size_t R = tr ? m : n, C = tr ? n : m;
  const double *c = cost;
  if (tr) {
    double *t = rk__arena_alloc(a, R * C * sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < C; i++)
      for (size_t j = 0; j < R; j++) t[j * C + i] = cost[i * m + j];
    c = t;
  }
  double *u = rk__arena_alloc(a, R * sizeof *u);
  double *v = rk__arena_alloc(a, C * sizeof *v);
  double *minv = rk__arena_alloc(a, C * sizeof *minv);
  int64_t *prev = rk__arena_alloc(a, C * sizeof *prev); /* path: column before, -1 = start */
  long *owner = rk__arena_alloc(a, C * sizeof *owner);  /* row of column j, -1 = free */
  size_t *tree = rk__arena_alloc(a, C * sizeof *tree);  /* the tree's columns, in order */
  double *dl = rk__arena_alloc(a, (C + 1) * sizeof *dl); /* the search's deltas by step */
  uint8_t *tb = rk__arena_alloc(a, C / 8 + 1);          /* the tree as bits */
  unsigned char *start = rk__arena_alloc(a, R);
  if (!u || !v || !minv || !prev || !owner || !tree || !dl || !tb || !start) return -1;
  memset(v, 0, C * sizeof *v);
  memset(prev, 0, C * sizeof *prev);
  memset(start, 0, R);
  for (size_t j = 0; j < C; j++) owner[j] = -1;
  scan_fn scan;
  row_min_fn rmin;
  kernels(simd, &scan, &rmin);
  /* Row reduction and a greedy start (as in Jonker-Volgenant): u[i] =
   * min_j c[i][j] with v = 0 keeps every reduced cost >= 0 and v <= 0
   * (what optimality needs when there are more columns than rows); a row
   * whose cheapest column (the first on ties) is still free takes it, on
   * a tight edge. The searches below then start only from the rows left,
   * which for boxes (most predictions near one GT) is a few. */
  for (size_t i = 0; i < R; i++) {
    double best = INFINITY;
    size_t bj = rmin(c + i * C, C, &best);
    if (bj == SIZE_MAX || !isfinite(best)) return -1; /* non-finite costs */
    u[i] = best;
    if (owner[bj] < 0) owner[bj] = (long)i, start[i] = 1;
  }
  for (size_t i = 0; i < R; i++) {
    if (start[i]) continue;
    for (size_t j = 0; j < C; j++) minv[j] = INFINITY;
    memset(tb, 0, C / 8 + 1);
    scan_args s = {c + i * C, C, u[i], 0, -1, minv, v, prev, tb};
    size_t nt = 0, j1;
    double ui = u[i];
    for (;;) {
      j1 = scan(&s, &dl[nt]);
      if (j1 == SIZE_MAX) return -1; /* non-finite costs: no column reachable */
      ui += dl[nt];
      if (owner[j1] < 0) break;
      size_t i0 = (size_t)owner[j1];
      tb[j1 / 8] |= (uint8_t)(1u << (j1 % 8)), tree[nt] = j1;
      s.row = c + i0 * C, s.ui = u[i0], s.dprev = dl[nt], s.j0 = (int64_t)j1;
      nt++;
    }
    u[i] = ui;
    tree_update(u, v, owner, tree, nt, dl);
    /* Flip the augmenting path. */
    for (size_t j = j1;;) {
      int64_t p = prev[j];
      if (p < 0) {
        owner[j] = (long)i;
        break;
      }
      owner[j] = owner[p];
      j = (size_t)p;
    }
  }
  for (size_t j = 0; j < C; j++) {
    if (owner[j] < 0) continue;
    if (tr)
      row_col[j] = owner[j];
    else
      row_col[owner[j]] = (long)j;
  }
  return 0;
}
