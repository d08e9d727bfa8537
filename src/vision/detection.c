/*
 * detection.c - multi-object rewards on matched box sets:
 *   `detection`            greedy matching; mode vlm_r1 (VLM-R1
 *                          detection_score: alpha*pos + beta*label +
 *                          gamma*completeness) or visual_rft (Visual-RFT
 *                          IoU reward + confidence reward);
 *   `detection_hungarian`  Vision-R1: Hungarian matching on
 *                          L1 - class match - GIoU, precision / recall with
 *                          the progressive thresholds by training step;
 *   `detection_prf`        precision / recall / F1 at IoU thresholds and
 *                          DIP-R1-style weighted P/R.
 * Formulas: apis_metrics.md B7, seed_formulas.md §14, next to the code.
 *
 * Not for: COCO AP (coco_map.c), one box (iou.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "vision/detection.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
/* AVX2 and AVX-512 cost matrices for detection_hungarian, chosen at run
 * time; -DDET_WIDE=0 leaves them out (to test the SSE2 one). */
#ifndef DET_WIDE
#if defined(__x86_64__) && defined(__GNUC__) && defined(__SSE2__)
#define DET_WIDE 1
#else
#define DET_WIDE 0
#endif
#endif
#if DET_WIDE
#include <immintrin.h>
#endif

/* --------------------------------------------------------- helpers */

typedef struct xkey {
  double x1;
  uint32_t j;
} xkey;

/* Bottom-up merge sort by x1 (runs of 8 by insertion): no indirect
 * calls. */
static void xkey_msort(xkey *v, size_t n, xkey *tmp) {
  for (size_t lo = 0; lo < n; lo += 8) {
    size_t hi = lo + 8 < n ? lo + 8 : n;
    for (size_t k = lo + 1; k < hi; k++) {
      xkey x = v[k];
      size_t q = k;
      while (q > lo && x.x1 < v[q - 1].x1) v[q] = v[q - 1], q--;
      v[q] = x;
    }
  }
  for (size_t w = 8; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = v[j].x1 < v[i].x1 ? v[j++] : v[i++];
      while (i < mid) tmp[k++] = v[i++];
      while (j < hi) tmp[k++] = v[j++];
    }
    memcpy(v, tmp, n * sizeof *v);
  }
}

/* The GTs by x1, in n buckets of equal width between the smallest and
 * largest x1, each sorted: the bucket of a value is monotone in it, so
 * the buckets are in order and the array is sorted. Sorting by a
 * counting pass then insertion is about four times faster than the merge
 * sort alone on spread-out boxes (whose comparisons are coin flips to the
 * branch predictor), and a bound is found from its bucket instead of by
 * a binary search (a chain of dependent loads). A large bucket (a skewed
 * spread) is merge sorted and binary searched: O(n log n) and O(log n) at
 * worst. */
typedef struct xindex {
  double mn, sc;    /* bucket of x: (x - mn) * sc, clamped to [0, n - 1] */
  size_t n;
  const double *x;  /* sorted x1 (set by the caller once sorted) */
  uint32_t *end;    /* end[b]: one past the last index of bucket b */
} xindex;

static inline size_t xindex_bucket(const xindex *xi, double v) {
  double d = (v - xi->mn) * xi->sc;
  return d > 0 ? (d < (double)(xi->n - 1) ? (size_t)d : xi->n - 1) : 0;
}

/* Sorts v[0..n) (n >= 1) by x1 into buckets. end: n entries, bk: n. */
static void xkey_sort(xkey *v, size_t n, xkey *tmp, uint32_t *end, uint32_t *bk,
                      xindex *xi) {
  double mn = v[0].x1, mx = v[0].x1;
  for (size_t i = 1; i < n; i++) mn = rk__mn(mn, v[i].x1), mx = rk__mx(mx, v[i].x1);
  double sc = mx > mn ? (double)n / (mx - mn) : 0;
  if (!(sc <= 1e300)) sc = 0; /* a subnormal spread: one bucket */
  xi->mn = mn, xi->sc = sc, xi->n = n, xi->end = end, xi->x = NULL;
  memset(end, 0, n * sizeof *end);
  for (size_t i = 0; i < n; i++) {
    size_t b = xindex_bucket(xi, v[i].x1);
    bk[i] = (uint32_t)b;
    end[b]++;
  }
  for (size_t b = 0, sum = 0; b < n; b++) { /* end[b] = start of b for now */
    size_t c = end[b];
    end[b] = (uint32_t)sum;
    sum += c;
  }
  for (size_t i = 0; i < n; i++) tmp[end[bk[i]]++] = v[i];
  memcpy(v, tmp, n * sizeof *v);
  for (size_t b = 0, lo = 0; b < n; lo = end[b++]) {
    size_t hi = end[b];
    if (hi - lo > 32) {
      xkey_msort(v + lo, hi - lo, tmp);
      continue;
    }
    for (size_t k = lo + 1; k < hi; k++) {
      xkey x = v[k];
      size_t q = k;
      while (q > lo && x.x1 < v[q - 1].x1) v[q] = v[q - 1], q--;
      v[q] = x;
    }
  }
}

/* First index k with x[k] >= key (upper 0) or x[k] > key (upper 1), or
 * n. Every x in an earlier bucket than key's is below it, every x in a
 * later one above: only key's bucket is searched. */
static inline size_t xindex_bound(const xindex *xi, double key, int upper) {
  size_t b = xindex_bucket(xi, key);
  size_t lo = b ? xi->end[b - 1] : 0, hi = xi->end[b];
  const double *x = xi->x;
  if (hi - lo <= 4) { /* the usual: count without branches (x has 4 of padding) */
    size_t sz = hi - lo, c = 0;
    for (size_t j = 0; j < 4; j++)
      c += (size_t)((j < sz) & (upper ? x[lo + j] <= key : x[lo + j] < key));
    return lo + c;
  }
  if (hi - lo > 16) { /* binary search */
    size_t len = hi - lo;
    while (len > 0) {
      size_t half = len / 2;
      double y = x[lo + half];
      if (upper ? y <= key : y < key) lo += half + 1, len -= half + 1;
      else len = half;
    }
    return lo;
  }
  while (lo < hi && (upper ? x[lo] <= key : x[lo] < key)) lo++;
  return lo;
}

int rk__box_pairs(const rk__box *p, size_t P, const rk__box *g, size_t G, double t,
                  rk__arena *a, uint64_t max_work, rk__pair **out, size_t *n,
                  uint64_t *work) {
  *out = NULL;
  *n = 0;
  *work = (uint64_t)(P + G) * 8;
  if (!P || !G) return 0;
  if (!(t > 0)) {
    *work += (uint64_t)P * G;
    if (*work > max_work) return -2;
  }
  size_t cap = t > 0 ? 4 * (P + G) : P * G, cnt = 0;
  rk__pair *ps = rk__arena_alloc(a, cap * sizeof *ps);
  if (!ps) return -1;
  if (!(t > 0)) {
    for (size_t i = 0; i < P; i++)
      for (size_t j = 0; j < G; j++)
        ps[cnt].i = (uint32_t)i, ps[cnt].j = (uint32_t)j, ps[cnt].iou = rk__box_iou(&p[i], &g[j]),
        cnt++;
    *out = ps, *n = cnt;
    return 0;
  }
  /* The GTs sorted by x1, as columns (the window scan reads consecutive
   * memory), with their areas computed once. */
  xkey *xs = rk__arena_alloc(a, G * sizeof *xs);
  xkey *xt = rk__arena_alloc(a, G * sizeof *xt);
  double *col = rk__arena_alloc(a, 5 * (G + 4) * sizeof *col);
  uint32_t *gj = rk__arena_alloc(a, 3 * G * sizeof *gj);
  if (!xs || !xt || !col || !gj) return -1;
  for (size_t j = 0; j < G; j++) xs[j].x1 = g[j].x1, xs[j].j = (uint32_t)j;
  xindex xi;
  xkey_sort(xs, G, xt, gj + G, gj + 2 * G, &xi);
  /* Each column has 4 entries of padding after the G boxes (read and
   * masked off by the two-at-a-time loop and by xindex_bound). */
  double *gx1 = col, *gy1 = col + (G + 4), *gx2 = col + 2 * (G + 4), *gy2 = col + 3 * (G + 4),
         *ga = col + 4 * (G + 4);
  for (size_t k = G; k < G + 4; k++) gx1[k] = gy1[k] = gx2[k] = gy2[k] = ga[k] = 0;
  for (size_t k = 0; k < G; k++) {
    const rk__box *q = &g[xs[k].j];
    gx1[k] = q->x1, gy1[k] = q->y1, gx2[k] = q->x2, gy2[k] = q->y2;
    ga[k] = (q->x2 - q->x1) * (q->y2 - q->y1);
    gj[k] = xs[k].j;
  }
  xi.x = gx1;
  /* A pair passes v >= t only if I >= t U (1 - 2^-53) (one rounding in
   * I / U); tc U with tc = t (1 - 1e-9) is below that whenever U > 0. So
   * a first pass over the window keeps, without a branch, the candidates
   * with iw > 0, ih > 0 and I >= tc U (every pair that can pass, and few
   * others), and the exact test runs on those. */
  const double tc = t * (1 - 1e-9);
  uint32_t *cand = rk__arena_alloc(a, (G + 1) * sizeof *cand);
  uint32_t *win = rk__arena_alloc(a, 2 * P * sizeof *win);
  if (!cand || !win) return -1;
  /* The windows first, all of them: the lookups of different predictions
   * do not wait on one another, and an input over the budget stops
   * before any IoU. */
  for (size_t i = 0; i < P; i++) {
    const rk__box *b = &p[i];
    double w = b->x2 - b->x1;
    double slack = 1e-9 * (fabs(b->x1) + fabs(b->x2) + w / t + 1);
    double lo = b->x1 + t * w - w / t - slack, hi = b->x2 - t * w + slack;
    size_t l = xindex_bound(&xi, lo, 0), k = xindex_bound(&xi, hi, 1);
    if (k < l) k = l;
    win[2 * i] = (uint32_t)l, win[2 * i + 1] = (uint32_t)k;
    *work += k - l + 8;
    if (*work > max_work) return -2;
  }
  for (size_t i = 0; i < P; i++) {
    const rk__box *b = &p[i];
    size_t l = win[2 * i], k = win[2 * i + 1];
    size_t first = cnt, nc = 0;
    const double bx1 = b->x1, by1 = b->y1, bx2 = b->x2, by2 = b->y2;
    const double ba = (bx2 - bx1) * (by2 - by1);
    size_t q = l;
#ifdef __SSE2__
    /* Two GTs a step (SSE2 is part of x86-64): the same arithmetic
     * (minpd / maxpd pick like rk__mn / rk__mx), the three tests as a
     * 2-bit mask; past the window's end the second lane reads the
     * padding and is masked off. */
    const __m128d vx1 = _mm_set1_pd(bx1), vy1 = _mm_set1_pd(by1), vx2 = _mm_set1_pd(bx2),
                  vy2 = _mm_set1_pd(by2), va = _mm_set1_pd(ba), vtc = _mm_set1_pd(tc),
                  zero = _mm_setzero_pd();
    for (; q < k; q += 2) {
      __m128d iw = _mm_sub_pd(_mm_min_pd(vx2, _mm_loadu_pd(gx2 + q)),
                              _mm_max_pd(vx1, _mm_loadu_pd(gx1 + q)));
      __m128d ih = _mm_sub_pd(_mm_min_pd(vy2, _mm_loadu_pd(gy2 + q)),
                              _mm_max_pd(vy1, _mm_loadu_pd(gy1 + q)));
      __m128d inter = _mm_mul_pd(iw, ih);
      __m128d u = _mm_sub_pd(_mm_add_pd(va, _mm_loadu_pd(ga + q)), inter);
      __m128d ok = _mm_and_pd(_mm_and_pd(_mm_cmpgt_pd(iw, zero), _mm_cmpgt_pd(ih, zero)),
                              _mm_cmpge_pd(inter, _mm_mul_pd(vtc, u)));
      unsigned m = (unsigned)_mm_movemask_pd(ok) & (q + 1 < k ? 3u : 1u);
      cand[nc] = (uint32_t)q;
      nc += m & 1;
      cand[nc] = (uint32_t)q + 1;
      nc += m >> 1;
    }
#else
    for (; q < k; q++) {
      /* rk__box_iou on the columns (same operations, same result). */
      double iw = rk__mn(bx2, gx2[q]) - rk__mx(bx1, gx1[q]);
      double ih = rk__mn(by2, gy2[q]) - rk__mx(by1, gy1[q]);
      double inter = iw * ih;
      double u = ba + ga[q] - inter;
      cand[nc] = (uint32_t)q;
      nc += (size_t)((iw > 0) & (ih > 0) & (inter >= tc * u));
    }
#endif
    for (size_t c = 0; c < nc; c++) {
      size_t x = cand[c];
      /* rk__box_iou on the columns (same operations, same result). */
      double iw = rk__mn(bx2, gx2[x]) - rk__mx(bx1, gx1[x]);
      double ih = rk__mn(by2, gy2[x]) - rk__mx(by1, gy1[x]);
      double inter = iw * ih;
      double u = ba + ga[x] - inter;
      double v = u > 0 ? inter / u : 0.0;
      if (!(v >= t)) continue;
      if (cnt == cap) {
        size_t nc2 = cap * 2;
        rk__pair *np = rk__arena_alloc(a, nc2 * sizeof *np);
        if (!np) return -1;
        memcpy(np, ps, cnt * sizeof *ps);
        ps = np, cap = nc2;
      }
      ps[cnt].i = (uint32_t)i, ps[cnt].j = gj[x], ps[cnt].iou = v;
      cnt++;
    }
    for (size_t s2 = first + 1; s2 < cnt; s2++) { /* this row by j (few items) */
      rk__pair x = ps[s2];
      size_t y = s2;
      while (y > first && ps[y - 1].j > x.j) ps[y] = ps[y - 1], y--;
      ps[y] = x;
    }
  }
  *out = ps, *n = cnt;
  return 0;
}

/* rk__box_pairs under the record's budget: OK, TIMEOUT, or ERROR. */
static rk_status pairs_budgeted(rk__call *c, const rk__box *p, size_t P, const rk__box *g,
                                size_t G, double t, rk__pair **out, size_t *n) {
  uint64_t left = c->budget->used < c->budget->limit ? c->budget->limit - c->budget->used : 0;
  uint64_t work = 0;
  int rc = rk__box_pairs(p, P, g, G, t, c->arena, left, out, n, &work);
  if (!rk__spend(c, work + *n * 8) || rc == -2) {
    rk__spend(c, left + 1);
    return RK_STATUS_TIMEOUT;
  }
  return rc ? rk__fail(c, "out of memory") : RK_STATUS_OK;
}

/* pairs_budgeted with VLM-R1's IoU (rk__box_iou_vlmr1): its
 * intersection is the standard one where both overlaps exceed one pixel
 * and 0 elsewhere, its union the standard one, so every pair it scores at
 * or above t is among the standard pairs at or above t (1 - 1e-6) (the
 * two intersections differ by rounding only, far below that margin);
 * those are rescored and kept when the variant reaches t. Same (i, j)
 * order. */
static rk_status pairs_vlmr1(rk__call *c, const rk__box *p, size_t P, const rk__box *g,
                             size_t G, double t, rk__pair **out, size_t *n) {
  rk_status st = pairs_budgeted(c, p, P, g, G, t > 0 ? t * (1 - 1e-6) : t, out, n);
  if (st != RK_STATUS_OK) return st;
  size_t k = 0;
  for (size_t q = 0; q < *n; q++) {
    rk__pair x = (*out)[q];
    x.iou = rk__box_iou_vlmr1(&p[x.i], &g[x.j]);
    if (x.iou >= t) (*out)[k++] = x;
  }
  *n = k;
  return RK_STATUS_OK;
}

/* Stable bottom-up merge sort of pairs by IoU, largest first (runs of 8
 * by insertion). On pairs in (i, j) order this is the order (IoU desc, i
 * asc, j asc). */
static void pairs_sort_iou(rk__pair *v, size_t n, rk__pair *tmp) {
  for (size_t lo = 0; lo < n; lo += 8) {
    size_t hi = lo + 8 < n ? lo + 8 : n;
    for (size_t k = lo + 1; k < hi; k++) {
      rk__pair x = v[k];
      size_t q = k;
      while (q > lo && x.iou > v[q - 1].iou) v[q] = v[q - 1], q--;
      v[q] = x;
    }
  }
  for (size_t w = 8; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = v[j].iou > v[i].iou ? v[j++] : v[i++];
      while (i < mid) tmp[k++] = v[i++];
      while (j < hi) tmp[k++] = v[j++];
    }
    memcpy(v, tmp, n * sizeof *v);
  }
}

/* rk__greedy_match (detection.h). Most pairs need no sort: a pair that
 * comes first in the order among all pairs of its prediction and of its
 * GT is taken by the pass (nothing before it can use either end), and
 * every other pair of those two ends is then refused. So these "locally
 * dominant" pairs are taken in one linear round; the pass then runs,
 * sorted, on the pairs left with both ends free, which is what it would
 * do with them after the rest. */
long rk__greedy_match(rk__pair *ps, size_t np, size_t P, size_t G, double thr,
                      const int *pc, const int *gc, rk__arena *a, long *match_gt,
                      double *match_iou) {
  unsigned char *gused = rk__arena_alloc(a, G + 1);
  size_t *colbest = rk__arena_alloc(a, (G + 1) * sizeof *colbest);
  if (!gused || !colbest) return -1;
  size_t w = 0;
  for (size_t k = 0; k < np; k++)
    if (ps[k].iou >= thr && (!pc || pc[ps[k].i] == gc[ps[k].j])) ps[w++] = ps[k];
  memset(gused, 0, G);
  for (size_t i = 0; i < P; i++) match_gt[i] = -1;
  /* The first pair of each GT in the order: scanning in (i, j) order, a
   * later pair replaces it only with a larger IoU. */
  for (size_t j = 0; j < G; j++) colbest[j] = SIZE_MAX;
  for (size_t k = 0; k < w; k++) {
    size_t *cb = &colbest[ps[k].j];
    if (*cb == SIZE_MAX || ps[k].iou > ps[*cb].iou) *cb = k;
  }
  long nm = 0;
  for (size_t r0 = 0, r1; r0 < w; r0 = r1) { /* each prediction's pairs, by j */
    size_t best = r0;
    for (r1 = r0 + 1; r1 < w && ps[r1].i == ps[r0].i; r1++)
      if (ps[r1].iou > ps[best].iou) best = r1;
    if (colbest[ps[best].j] != best) continue;
    match_gt[ps[best].i] = (long)ps[best].j;
    if (match_iou) match_iou[ps[best].i] = ps[best].iou;
    gused[ps[best].j] = 1;
    nm++;
  }
  size_t rest = 0;
  for (size_t k = 0; k < w; k++)
    if (match_gt[ps[k].i] < 0 && !gused[ps[k].j]) ps[rest++] = ps[k];
  if (rest > 1) {
    rk__pair *tmp = rk__arena_alloc(a, rest * sizeof *tmp);
    if (!tmp) return -1;
    pairs_sort_iou(ps, rest, tmp);
  }
  for (size_t k = 0; k < rest; k++) {
    size_t i = ps[k].i, j = ps[k].j;
    if (match_gt[i] >= 0 || gused[j]) continue;
    match_gt[i] = (long)j;
    if (match_iou) match_iou[i] = ps[k].iou;
    gused[j] = 1;
    nm++;
  }
  return nm;
}

static double *iou_matrix(const rk__boxes *pred, const rk__boxes *gt, rk__arena *a) {
  double *m = rk__arena_alloc(a, (pred->n * gt->n + 1) * sizeof *m);
  if (!m) return NULL;
  for (size_t i = 0; i < pred->n; i++)
    for (size_t j = 0; j < gt->n; j++) m[i * gt->n + j] = rk__box_iou(&pred->b[i], &gt->b[j]);
  return m;
}

/* ------------------------------------------------------------ labels */

int rk__box_labels_used(const rk__boxes *gt, int use_labels) {
  int any = 0;
  for (size_t i = 0; i < gt->n && use_labels && !any; i++) any = gt->b[i].has_label;
  return any;
}

int rk__box_same_label(const rk__box *p, const rk__box *g, int labelled, int fold) {
  /* Categories are the classes of GT labels under rk__box_label_eq;
   * a prediction is in the class its label falls in, or in none (-1). So
   * the ids are equal exactly when the prediction has a label and it
   * compares equal to the GT's (which may be empty: a GT without one). */
  return !labelled || (p->has_label && rk__box_label_eq(p->label, g->label, fold));
}

/* ------------------------------------------------------- detection */

enum { MODE_VLMR1, MODE_VRFT };
enum { VO_SUM, VO_IOU, VO_CONF };

typedef struct det_cfg {
  rk__boxargs box;
  int mode, output, use_labels, fold, iou_vlmr1;
  double thr, alpha, beta, gamma;
} det_cfg;

static void det_free(void *v) {
  det_cfg *cfg = v;
  if (!cfg) return;
  rk__boxargs_free(&cfg->box);
  free(cfg);
}

static int det_compile(rk__argctx *ac, void **out) {
  static const char *const modes[] = {"vlm_r1", "visual_rft", NULL};
  static const char *const outs[] = {"sum", "iou", "confidence", NULL};
  det_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  /* VLM-R1 lower-cases both labels (.lower()) and computes IoU with its
   * own pixel convention: both are its defaults here; Visual-RFT uses
   * neither. */
  if (rk__boxargs_compile(ac, &cfg->box, 100000) ||
      rk__arg_enum(ac, "mode", modes, MODE_VLMR1, &cfg->mode) ||
      rk__arg_num_range(ac, "iou_threshold", 0.5, 0, 1, &cfg->thr) ||
      rk__arg_bool(ac, "ignore_case", cfg->mode == MODE_VLMR1, &cfg->fold)) {
    det_free(cfg);
    return -1;
  }
  int rc = 0;
  if (cfg->mode == MODE_VLMR1) {
    static const char *const variants[] = {"vlm_r1", "standard", NULL};
    int var = 0, strict = 0;
    rc = rk__arg_enum(ac, "variant", variants, 0, &var) ||
         rk__arg_num_range(ac, "alpha", 0.7, 0, 1e9, &cfg->alpha) ||
         rk__arg_num_range(ac, "beta", 0.0, 0, 1e9, &cfg->beta) ||
         rk__arg_num_range(ac, "gamma", 0.3, 0, 1e9, &cfg->gamma) ||
         rk__arg_bool(ac, "use_labels", 1, &cfg->use_labels) ||
         rk__arg_bool(ac, "strict_json", 0, &strict);
    cfg->iou_vlmr1 = var == 0;
    cfg->box.first_json_fence = 1; /* detection_score's re.search */
    cfg->box.strict_json = strict ? RK__STRICT_FIRST : 0;
    if (!rc && !(cfg->alpha + cfg->beta + cfg->gamma > 0))
      rc = rk__arg_error(ac, "alpha", "alpha + beta + gamma must be > 0");
  } else {
    rc = rk__arg_enum(ac, "output", outs, VO_SUM, &cfg->output);
  }
  if (rc) {
    det_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

/* VLM-R1 grpo_jsonl.py detection_score (apis_metrics.md B7):
 * IoU by VLM-R1's iou() (variant "vlm_r1", default) or the standard one,
 * labels lower-cased (ignore_case, default here);
 * greedy global-max matching at IoU >= thr; a label mismatch keeps the
 * match but scores IoU 0; pos = sum IoU / n_gt, label = correct / n_gt,
 * completeness = 1 - (miss_rate + false_alarm_rate) / 2, score =
 * (alpha pos + beta label + gamma completeness) / (alpha + beta + gamma). */
static rk_status vlmr1_score(const det_cfg *cfg, rk__call *c, const rk__boxes *pred,
                             const rk__boxes *gt, const char *pd, const char *how,
                             double *value) {
  /* VLM-R1 keeps every item of the answer's list, a broken box or an
   * object without one too (its IoU is 0): unmatched predictions (false
   * alarms). */
  size_t P = pred->n, G = gt->n, Pall = rk__boxes_predicted(pred);
  if (G == 0 || P == 0) {
    *value = G == 0 && Pall == 0 ? 1.0 : 0.0;
    rk__explain(c, "%s from %s; %zu reference boxes; %s", pd, how, G,
                G == 0 ? (Pall == 0 ? "no objects, none predicted: 1" : "no objects but something predicted: 0")
                       : "nothing predicted: 0");
    return RK_STATUS_OK;
  }
  rk__pair *ps = NULL;
  size_t np = 0;
  long *mg = rk__arena_alloc(c->arena, P * sizeof *mg);
  double *mi = rk__arena_alloc(c->arena, P * sizeof *mi);
  if (!mg || !mi) return rk__fail(c, "out of memory");
  rk_status st = cfg->iou_vlmr1 ? pairs_vlmr1(c, pred->b, P, gt->b, G, cfg->thr, &ps, &np)
                                 : pairs_budgeted(c, pred->b, P, gt->b, G, cfg->thr, &ps, &np);
  if (st != RK_STATUS_OK) return st;
  long nm = rk__greedy_match(ps, np, P, G, cfg->thr, NULL, NULL, c->arena, mg, mi);
  if (nm < 0) return rk__fail(c, "out of memory");
  double iou_sum = 0;
  size_t correct = 0;
  /* The label check only where it counts, on the matched pairs: the same
   * as comparing rk__box_categories ids (rk__box_same_label). */
  int labelled = rk__box_labels_used(gt, cfg->use_labels);
  for (size_t i = 0; i < P; i++) {
    if (mg[i] < 0) continue;
    if (rk__box_same_label(&pred->b[i], &gt->b[mg[i]], labelled, cfg->fold)) {
      iou_sum += mi[i];
      correct++;
    }
  }
  double pos = iou_sum / (double)G, lab = (double)correct / (double)G;
  double miss = (double)(G - (size_t)nm) / (double)G,
         fa = (double)(Pall - (size_t)nm) / (double)Pall;
  double compl = 1 - (miss + fa) / 2;
  *value = (cfg->alpha * pos + cfg->beta * lab + cfg->gamma * compl) /
           (cfg->alpha + cfg->beta + cfg->gamma);
  if (rk__explaining(c)) {
    char a[32], b[32], d[32], t[32];
    rk__fmt_double(a, pos);
    rk__fmt_double(b, compl);
    rk__fmt_double(d, *value);
    rk__fmt_double(t, cfg->thr);
    rk__explain(c, "%s from %s; matched %ld of %zu gt at IoU>=%s (%zu with the right label); "
                   "pos %s, completeness %s; score %s",
                pd, how, nm, G, t, correct, a, b, d);
    size_t inv = rk__boxes_invalid(pred), nobox = Pall - P - inv;
    if (Pall > P)
      rk__explain(c, "false alarms include %zu invalid box%s and %zu list item%s without a box",
                  inv, inv == 1 ? "" : "es", nobox, nobox == 1 ? "" : "s");
  }
  return RK_STATUS_OK;
}

/* Visual-RFT grpo.py accuracy_reward_iou / confidence reward (B7):
 * exact-duplicate positions dropped; predictions by descending
 * confidence, each to the unmatched GT of highest IoU, a match needs
 * IoU > thr (strict). R_iou = min(1, sum IoU / max(n_gt, n_pred));
 * R_conf = mean(c if matched else 1 - c), clipped to [0, 1]. A missing
 * confidence counts as 1. */
static rk_status vrft_score(const det_cfg *cfg, rk__call *c, rk__boxes *pred,
                            const rk__boxes *gt, const char *pd, const char *how,
                            double *value) {
  size_t P = pred->n, G = gt->n;
  if (!rk__spend(c, (uint64_t)P * P / 2 + (uint64_t)(P + G) * 8 + 1)) return RK_STATUS_TIMEOUT;
  /* Candidate pairs (IoU >= thr: only those can match), then the order:
   * duplicates of an earlier position dropped, a stable sort by
   * descending confidence. */
  rk__pair *ps = NULL;
  size_t np = 0;
  size_t *ord = rk__arena_alloc(c->arena, (P + 1) * sizeof *ord);
  size_t *row = rk__arena_alloc(c->arena, (P + 1) * sizeof *row);
  unsigned char *used = rk__arena_alloc(c->arena, G + 1);
  if (!ord || !row || !used) return rk__fail(c, "out of memory");
  rk_status st = pairs_budgeted(c, pred->b, P, gt->b, G, cfg->thr, &ps, &np);
  if (st != RK_STATUS_OK) return st;
  for (size_t i = 0, k = 0; i <= P; i++) { /* row[i]: first pair of pred i */
    while (k < np && ps[k].i < i) k++;
    row[i] = k;
  }
  size_t U = 0, clamped = 0;
  for (size_t i = 0; i < P; i++) {
    rk__box *b = &pred->b[i];
    int dup = 0;
    for (size_t k = 0; k < U && !dup; k++) {
      const rk__box *q = &pred->b[ord[k]];
      dup = q->x1 == b->x1 && q->y1 == b->y1 && q->x2 == b->x2 && q->y2 == b->y2;
    }
    if (dup) continue;
    /* A confidence outside [0, 1] is clamped to it, before the order is
     * taken: otherwise a matched box at 5 (or an unmatched one at -5,
     * earning 1 - c = 6) would pay for other boxes' shortfall in the
     * mean, and a box above 1 would be visited before honest boxes at 1.
     * (Visual-RFT clips only the mean.) Missing or not a number: 1. */
    if (isnan(b->conf)) {
      b->conf = 1.0;
    } else if (!(b->conf >= 0 && b->conf <= 1)) {
      b->conf = b->conf > 1 ? 1.0 : 0.0;
      clamped++;
    }
    size_t k = U++; /* insertion: stable by descending confidence */
    while (k > 0 && pred->b[ord[k - 1]].conf < b->conf) ord[k] = ord[k - 1], k--;
    ord[k] = i;
  }
  double r_iou, r_conf;
  size_t nm = 0;
  if (U == 0 && G == 0) {
    r_iou = r_conf = 1;
  } else {
    memset(used, 0, G + 1);
    double s_iou = 0, s_conf = 0;
    for (size_t u = 0; u < U; u++) {
      size_t i = ord[u];
      double best = -1;
      long bj = -1;
      for (size_t k = row[i]; k < row[i + 1]; k++) /* GT index order: first max wins */
        if (!used[ps[k].j] && ps[k].iou > best) best = ps[k].iou, bj = (long)ps[k].j;
      double cf = pred->b[i].conf;
      if (bj >= 0 && best > cfg->thr) {
        used[bj] = 1;
        s_iou += best;
        s_conf += cf;
        nm++;
      } else {
        s_conf += 1 - cf;
      }
    }
    size_t den = G > U ? G : U;
    r_iou = rk__mn(1.0, s_iou / (double)den);
    r_conf = U ? s_conf / (double)U : 0;
    r_conf = r_conf > 1 ? 1 : r_conf >= 0 ? r_conf : 0;
  }
  P = U;
  *value = cfg->output == VO_IOU ? r_iou : cfg->output == VO_CONF ? r_conf : r_iou + r_conf;
  if (rk__explaining(c)) {
    char a[32], b[32], t[32];
    rk__fmt_double(a, r_iou);
    rk__fmt_double(b, r_conf);
    rk__fmt_double(t, cfg->thr);
    char cl[64] = "";
    if (clamped)
      snprintf(cl, sizeof cl, " (%zu confidence%s outside [0, 1] clamped)", clamped,
               clamped == 1 ? "" : "s");
    rk__explain(c, "%s from %s (%zu after dropping duplicates); matched %zu of %zu gt at IoU>%s; "
                   "R_iou %s, R_conf %s%s",
                pd, how, P, nm, G, t, a, b, cl);
  }
  return RK_STATUS_OK;
}

static rk_status det_score(const void *v, rk__call *c, double *value) {
  const det_cfg *cfg = v;
  rk__boxes pred, gt;
  const char *how = NULL;
  *value = 0;
  rk_status st = rk__boxes_load(&cfg->box, c, &pred, &gt, &how, NULL);
  if (st != RK_STATUS_OK) return st;
  if (pred.n > (size_t)cfg->box.max_boxes)
    return rk__fail(c, "more than max_boxes=%ld predicted boxes", cfg->box.max_boxes);
  char pd[200];
  pd[0] = '\0';
  if (rk__explaining(c)) rk__boxes_describe(&pred, "predicted", pd, sizeof pd);
  if (cfg->mode == MODE_VRFT) return vrft_score(cfg, c, &pred, &gt, pd, how, value);
  return vlmr1_score(cfg, c, &pred, &gt, pd, how, value);
}

const rk__fn rk__fn_detection = {
    .name = "detection",
    .summary = "greedy-matched detection reward: VLM-R1 detection_score (alpha/beta/gamma) or Visual-RFT IoU + confidence",
    .compile = det_compile,
    .score = det_score,
    .free = det_free,
};

/* ------------------------------------------------ detection_hungarian */

enum { HO_VISION_R1, HO_PRECISION, HO_RECALL, HO_PR_MEAN };

typedef struct hun_cfg {
  rk__boxargs box;
  int output, use_labels, fold, has_step;
  int vr1_reader; /* parser "vision_r1": Vision-R1's own box reader */
  double step, step_switch;
  char *step_field;
} hun_cfg;

static void hun_free(void *v) {
  hun_cfg *cfg = v;
  if (!cfg) return;
  rk__boxargs_free(&cfg->box);
  free(cfg->step_field);
  free(cfg);
}

static int hun_compile(rk__argctx *ac, void **out) {
  static const char *const outs[] = {"vision_r1", "precision", "recall", "pr_mean", NULL};
  static const char *const parsers[] = {"lenient", "vision_r1", NULL};
  hun_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  cfg->has_step = rk__arg_raw(ac, "step") != NULL;
  cfg->box.drop_degenerate = 1; /* Vision-R1 keeps only x1 < x2 and y1 < y2 */
  if (rk__boxargs_compile(ac, &cfg->box, 300) ||
      rk__arg_enum(ac, "output", outs, HO_VISION_R1, &cfg->output) ||
      rk__arg_enum(ac, "parser", parsers, 0, &cfg->vr1_reader) ||
      rk__arg_bool(ac, "use_labels", 1, &cfg->use_labels) ||
      rk__arg_bool(ac, "ignore_case", 1, &cfg->fold) ||
      rk__arg_num_range(ac, "step", 0, 0, 1e18, &cfg->step) ||
      rk__arg_str(ac, "step_field", NULL, &cfg->step_field) ||
      rk__arg_num_range(ac, "step_switch", 1500, 0, 1e18, &cfg->step_switch)) {
    hun_free(cfg);
    return -1;
  }
  cfg->box.own_reader = cfg->vr1_reader; /* its boxes replace the scanner's */
  *out = cfg;
  return 0;
}

/* Vision-R1's clamp map: 0 below lo, 1 above hi, else the value. */
static double vr1_map(double x, double lo, double hi) { return x < lo ? 0 : x > hi ? 1 : x; }

/* Vision-R1's matching cost of prediction a (category ca) and GT b
 * (category cb >= 0): L1(box) - [ca == cb] - GIoU(a, b), 1e300 when not
 * finite. */
static inline double vr1_cost(const rk__box *a, int ca, const rk__box *b, int cb) {
  double l1 = fabs(a->x1 - b->x1) + fabs(a->y1 - b->y1) + fabs(a->x2 - b->x2) +
              fabs(a->y2 - b->y2);
  double cc = l1 - (ca >= 0 && ca == cb ? 1.0 : 0.0) - rk__box_giou(a, b);
  return isfinite(cc) ? cc : 1e300;
}

/* The columns of a cost matrix as arrays: x1, y1, x2, y2, area = (x2 -
 * x1) * (y2 - y1) (as rk__box_giou computes it), category. */
typedef struct vr1_cols {
  const double *x1, *y1, *x2, *y2, *ar, *cat;
} vr1_cols;

#ifdef __SSE2__
/* vr1_cost of two pairs: prediction lanes a, GT lanes b, category match
 * lanes eq (all ones or zero). The same operations in the same order as
 * vr1_cost: minpd / maxpd pick like rk__mn / rk__mx (the prediction as
 * first operand), a comparison mask ANDed with a value gives the +0.0 of
 * the scalar branches. IoU's division is skipped when neither pair
 * overlaps (I = +0 gives IoU = +0 either way), which is most of them. */
static inline __m128d vr1_cost2(__m128d ax1, __m128d ay1, __m128d ax2, __m128d ay2, __m128d aar,
                                __m128d bx1, __m128d by1, __m128d bx2, __m128d by2, __m128d bar,
                                __m128d eq) {
  const __m128d sign = _mm_set1_pd(-0.0), zero = _mm_setzero_pd();
  __m128d l1 = _mm_add_pd(_mm_add_pd(_mm_add_pd(_mm_andnot_pd(sign, _mm_sub_pd(ax1, bx1)),
                                                _mm_andnot_pd(sign, _mm_sub_pd(ay1, by1))),
                                     _mm_andnot_pd(sign, _mm_sub_pd(ax2, bx2))),
                          _mm_andnot_pd(sign, _mm_sub_pd(ay2, by2)));
  __m128d iw = _mm_sub_pd(_mm_min_pd(ax2, bx2), _mm_max_pd(ax1, bx1));
  __m128d ih = _mm_sub_pd(_mm_min_pd(ay2, by2), _mm_max_pd(ay1, by1));
  __m128d ov = _mm_and_pd(_mm_cmpgt_pd(iw, zero), _mm_cmpgt_pd(ih, zero));
  __m128d inter = _mm_and_pd(ov, _mm_mul_pd(iw, ih));
  __m128d u = _mm_sub_pd(_mm_add_pd(aar, bar), inter);
  __m128d iou = zero;
  if (_mm_movemask_pd(ov)) iou = _mm_and_pd(_mm_cmpgt_pd(u, zero), _mm_div_pd(inter, u));
  __m128d cw = _mm_sub_pd(_mm_max_pd(ax2, bx2), _mm_min_pd(ax1, bx1));
  __m128d ch = _mm_sub_pd(_mm_max_pd(ay2, by2), _mm_min_pd(ay1, by1));
  __m128d cc = _mm_mul_pd(cw, ch);
  __m128d enc = _mm_cmpgt_pd(cc, zero);
  __m128d g = _mm_sub_pd(iou, _mm_div_pd(_mm_sub_pd(cc, u), cc));
  g = _mm_or_pd(_mm_and_pd(enc, g), _mm_andnot_pd(enc, iou));
  __m128d v = _mm_sub_pd(_mm_sub_pd(l1, _mm_and_pd(eq, _mm_set1_pd(1.0))), g);
  __m128d fin = _mm_cmple_pd(_mm_andnot_pd(sign, v), _mm_set1_pd(1.7976931348623157e308));
  return _mm_or_pd(_mm_and_pd(fin, v), _mm_andnot_pd(fin, _mm_set1_pd(1e300)));
}

/* Row r (box q, category qc) of the cost matrix, columns [0, n) two at a
 * time (n even). */
static void vr1_row_sse2(const rk__box *q, double qc, const vr1_cols *cs, size_t n, int by_gt,
                         double *out) {
  const __m128d rx1 = _mm_set1_pd(q->x1), ry1 = _mm_set1_pd(q->y1), rx2 = _mm_set1_pd(q->x2),
                ry2 = _mm_set1_pd(q->y2), rar = _mm_set1_pd((q->x2 - q->x1) * (q->y2 - q->y1)),
                rct = _mm_set1_pd(qc);
#define COL(x) _mm_loadu_pd(cs->x + j)
  if (by_gt)
    for (size_t j = 0; j < n; j += 2)
      _mm_storeu_pd(out + j, vr1_cost2(COL(x1), COL(y1), COL(x2), COL(y2), COL(ar), rx1, ry1,
                                       rx2, ry2, rar, _mm_cmpeq_pd(COL(cat), rct)));
  else
    for (size_t j = 0; j < n; j += 2)
      _mm_storeu_pd(out + j, vr1_cost2(rx1, ry1, rx2, ry2, rar, COL(x1), COL(y1), COL(x2),
                                       COL(y2), COL(ar), _mm_cmpeq_pd(rct, COL(cat))));
#undef COL
}
#endif

#if DET_WIDE
/* vr1_cost2 four pairs at a time. */
__attribute__((target("avx2"))) static inline __m256d vr1_cost4(
    __m256d ax1, __m256d ay1, __m256d ax2, __m256d ay2, __m256d aar, __m256d bx1, __m256d by1,
    __m256d bx2, __m256d by2, __m256d bar, __m256d eq) {
  const __m256d sign = _mm256_set1_pd(-0.0), zero = _mm256_setzero_pd();
  __m256d l1 = _mm256_add_pd(
      _mm256_add_pd(_mm256_add_pd(_mm256_andnot_pd(sign, _mm256_sub_pd(ax1, bx1)),
                                  _mm256_andnot_pd(sign, _mm256_sub_pd(ay1, by1))),
                    _mm256_andnot_pd(sign, _mm256_sub_pd(ax2, bx2))),
      _mm256_andnot_pd(sign, _mm256_sub_pd(ay2, by2)));
  __m256d iw = _mm256_sub_pd(_mm256_min_pd(ax2, bx2), _mm256_max_pd(ax1, bx1));
  __m256d ih = _mm256_sub_pd(_mm256_min_pd(ay2, by2), _mm256_max_pd(ay1, by1));
  __m256d ov =
      _mm256_and_pd(_mm256_cmp_pd(iw, zero, _CMP_GT_OQ), _mm256_cmp_pd(ih, zero, _CMP_GT_OQ));
  __m256d inter = _mm256_and_pd(ov, _mm256_mul_pd(iw, ih));
  __m256d u = _mm256_sub_pd(_mm256_add_pd(aar, bar), inter);
  __m256d iou = zero;
  if (_mm256_movemask_pd(ov))
    iou = _mm256_and_pd(_mm256_cmp_pd(u, zero, _CMP_GT_OQ), _mm256_div_pd(inter, u));
  __m256d cw = _mm256_sub_pd(_mm256_max_pd(ax2, bx2), _mm256_min_pd(ax1, bx1));
  __m256d ch = _mm256_sub_pd(_mm256_max_pd(ay2, by2), _mm256_min_pd(ay1, by1));
  __m256d cc = _mm256_mul_pd(cw, ch);
  __m256d g = _mm256_sub_pd(iou, _mm256_div_pd(_mm256_sub_pd(cc, u), cc));
  g = _mm256_blendv_pd(iou, g, _mm256_cmp_pd(cc, zero, _CMP_GT_OQ));
  __m256d v = _mm256_sub_pd(_mm256_sub_pd(l1, _mm256_and_pd(eq, _mm256_set1_pd(1.0))), g);
  __m256d fin = _mm256_cmp_pd(_mm256_andnot_pd(sign, v), _mm256_set1_pd(1.7976931348623157e308),
                              _CMP_LE_OQ);
  return _mm256_blendv_pd(_mm256_set1_pd(1e300), v, fin);
}

/* vr1_row_sse2 four columns at a time (n a multiple of 4). */
__attribute__((target("avx2"))) static void vr1_row_avx2(const rk__box *q, double qc,
                                                         const vr1_cols *cs, size_t n,
                                                         int by_gt, double *out) {
  const __m256d rx1 = _mm256_set1_pd(q->x1), ry1 = _mm256_set1_pd(q->y1),
                rx2 = _mm256_set1_pd(q->x2), ry2 = _mm256_set1_pd(q->y2),
                rar = _mm256_set1_pd((q->x2 - q->x1) * (q->y2 - q->y1)), rct = _mm256_set1_pd(qc);
#define COL(x) _mm256_loadu_pd(cs->x + j)
  if (by_gt)
    for (size_t j = 0; j < n; j += 4)
      _mm256_storeu_pd(out + j,
                       vr1_cost4(COL(x1), COL(y1), COL(x2), COL(y2), COL(ar), rx1, ry1, rx2, ry2,
                                 rar, _mm256_cmp_pd(COL(cat), rct, _CMP_EQ_OQ)));
  else
    for (size_t j = 0; j < n; j += 4)
      _mm256_storeu_pd(out + j,
                       vr1_cost4(rx1, ry1, rx2, ry2, rar, COL(x1), COL(y1), COL(x2), COL(y2),
                                 COL(ar), _mm256_cmp_pd(rct, COL(cat), _CMP_EQ_OQ)));
#undef COL
  _mm256_zeroupper(); /* before code without VEX encoding (GCC 12 leaves it out here) */
}
#endif

#if DET_WIDE
/* vr1_cost2 eight pairs at a time, with lane masks where vr1_cost2 ANDs
 * and blends (a masked-off lane of maskz_* is +0.0, of mask_* the
 * source's: the scalar branches' values). */
__attribute__((target("avx512f"))) static inline __m512d vr1_cost8(
    __m512d ax1, __m512d ay1, __m512d ax2, __m512d ay2, __m512d aar, __m512d bx1, __m512d by1,
    __m512d bx2, __m512d by2, __m512d bar, __mmask8 eq) {
  const __m512d zero = _mm512_setzero_pd();
  __m512d l1 = _mm512_add_pd(_mm512_add_pd(_mm512_add_pd(_mm512_abs_pd(_mm512_sub_pd(ax1, bx1)),
                                                         _mm512_abs_pd(_mm512_sub_pd(ay1, by1))),
                                           _mm512_abs_pd(_mm512_sub_pd(ax2, bx2))),
                             _mm512_abs_pd(_mm512_sub_pd(ay2, by2)));
  __m512d iw = _mm512_sub_pd(_mm512_min_pd(ax2, bx2), _mm512_max_pd(ax1, bx1));
  __m512d ih = _mm512_sub_pd(_mm512_min_pd(ay2, by2), _mm512_max_pd(ay1, by1));
  __mmask8 ov = _mm512_mask_cmp_pd_mask(_mm512_cmp_pd_mask(iw, zero, _CMP_GT_OQ), ih, zero,
                                        _CMP_GT_OQ);
  __m512d inter = _mm512_maskz_mul_pd(ov, iw, ih);
  __m512d u = _mm512_sub_pd(_mm512_add_pd(aar, bar), inter);
  __m512d iou = zero;
  if (ov) iou = _mm512_maskz_div_pd(_mm512_cmp_pd_mask(u, zero, _CMP_GT_OQ), inter, u);
  __m512d cw = _mm512_sub_pd(_mm512_max_pd(ax2, bx2), _mm512_min_pd(ax1, bx1));
  __m512d ch = _mm512_sub_pd(_mm512_max_pd(ay2, by2), _mm512_min_pd(ay1, by1));
  __m512d cc = _mm512_mul_pd(cw, ch);
  __m512d g = _mm512_mask_sub_pd(iou, _mm512_cmp_pd_mask(cc, zero, _CMP_GT_OQ), iou,
                                 _mm512_div_pd(_mm512_sub_pd(cc, u), cc));
  /* l1 - 1.0 where the categories match; l1 itself is l1 - 0.0. */
  __m512d v = _mm512_sub_pd(_mm512_mask_sub_pd(l1, eq, l1, _mm512_set1_pd(1.0)), g);
  __mmask8 fin = _mm512_cmp_pd_mask(_mm512_abs_pd(v), _mm512_set1_pd(1.7976931348623157e308),
                                    _CMP_LE_OQ);
  return _mm512_mask_mov_pd(_mm512_set1_pd(1e300), fin, v);
}

/* vr1_row_sse2 eight columns at a time, all n of them (the last ones
 * under a lane mask). */
__attribute__((target("avx512f"))) static void vr1_row_avx512(const rk__box *q, double qc,
                                                             const vr1_cols *cs, size_t n,
                                                             int by_gt, double *out) {
  const __m512d rx1 = _mm512_set1_pd(q->x1), ry1 = _mm512_set1_pd(q->y1),
                rx2 = _mm512_set1_pd(q->x2), ry2 = _mm512_set1_pd(q->y2),
                rar = _mm512_set1_pd((q->x2 - q->x1) * (q->y2 - q->y1)), rct = _mm512_set1_pd(qc);
  for (size_t j = 0; j < n; j += 8) {
    __mmask8 lm = n - j >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (n - j)) - 1);
#define COL(x) _mm512_maskz_loadu_pd(lm, cs->x + j)
    __mmask8 eq = _mm512_cmp_pd_mask(COL(cat), rct, _CMP_EQ_OQ);
    __m512d c = by_gt ? vr1_cost8(COL(x1), COL(y1), COL(x2), COL(y2), COL(ar), rx1, ry1, rx2,
                                  ry2, rar, eq)
                      : vr1_cost8(rx1, ry1, rx2, ry2, rar, COL(x1), COL(y1), COL(x2), COL(y2),
                                  COL(ar), eq);
#undef COL
    _mm512_mask_storeu_pd(out + j, lm, c);
  }
  _mm256_zeroupper();
}
#endif

/* rk__vr1_costs (detection.h): the matrix of vr1_cost bit for bit, 8
 * (AVX-512), 4 (AVX2) or 2 (SSE2) pairs at a time along a row over the
 * columns' boxes as arrays, the rest one at a time. */
int rk__vr1_costs(const rk__boxes *pred, const int *pc, const rk__boxes *gt, const int *gc,
                  int by_gt, rk__arena *ar, double *cost, int simd) {
  const rk__boxes *rs = by_gt ? gt : pred, *cs = by_gt ? pred : gt;
  const int *rcat = by_gt ? gc : pc, *ccat = by_gt ? pc : gc;
  size_t R = rs->n, C = cs->n, j0 = 0; /* columns [j0, C) are left to the scalar loop */
#ifdef __SSE2__
  if (simd >= RK__SIMD_SSE2) {
    double *col = rk__arena_alloc(ar, 6 * C * sizeof *col);
    if (!col) return -1;
    double *x1 = col, *y1 = col + C, *x2 = col + 2 * C, *y2 = col + 3 * C, *car = col + 4 * C,
           *cat = col + 5 * C;
    for (size_t k = 0; k < C; k++) {
      const rk__box *q = &cs->b[k];
      x1[k] = q->x1, y1[k] = q->y1, x2[k] = q->x2, y2[k] = q->y2;
      car[k] = (q->x2 - q->x1) * (q->y2 - q->y1);
      cat[k] = (double)ccat[k];
    }
    vr1_cols cols = {x1, y1, x2, y2, car, cat};
#if DET_WIDE
    if (simd >= RK__SIMD_AVX512 && __builtin_cpu_supports("avx512f")) {
      j0 = C;
      for (size_t r = 0; r < R; r++)
        vr1_row_avx512(&rs->b[r], (double)rcat[r], &cols, C, by_gt, cost + r * C);
    } else if (simd >= RK__SIMD_AVX2 && __builtin_cpu_supports("avx2")) {
      j0 = C & ~(size_t)3;
      for (size_t r = 0; r < R; r++)
        vr1_row_avx2(&rs->b[r], (double)rcat[r], &cols, j0, by_gt, cost + r * C);
    } else
#endif
    {
      j0 = C & ~(size_t)1;
      for (size_t r = 0; r < R; r++)
        vr1_row_sse2(&rs->b[r], (double)rcat[r], &cols, j0, by_gt, cost + r * C);
    }
  }
#else
  (void)ar, (void)simd;
#endif
  for (size_t r = 0; r < R; r++)
    for (size_t j = j0; j < C; j++)
      cost[r * C + j] = by_gt ? vr1_cost(&cs->b[j], ccat[j], &rs->b[r], rcat[r])
                              : vr1_cost(&rs->b[r], rcat[r], &cs->b[j], ccat[j]);
  return 0;
}

/* Vision-R1 (jefferyZhan/Griffon visionr1.py, seed_formulas.md §14):
 * Hungarian matching on C = L1(box) - onehot(class match) - GIoU in
 * pixels; the matched value is GIoU.
 *   recall    = sum m(g; xi, xi) / n_gt, xi = 0.5 (no step or step <
 *               1500) else 0.75; with a step, recall = m(recall; .5, .75)
 *   precision = sum m(g; lo, hi) / n_pred, (lo, hi) = (0, 1) without a
 *               step, (.5, .75) before step 1500, (.75, .9) after
 *   total     = (precision + recall + format) / 3
 * m(v; lo, hi) = 0 if v < lo, 1 if v > hi, else v. No prediction: 1 if
 * there is no object, else 0. */
/* parser "vision_r1": the predicted boxes as Vision-R1's extract() reads
 * the answer region, then the same coordinate conversion as the box
 * scanner's (Vision-R1 itself keeps only x1 < x2 and y1 < y2). */
static rk_status vr1_reader_boxes(const hun_cfg *cfg, rk__call *c, rk__boxes *pred, char *how,
                                  size_t cap) {
  rk__str region;
  const char *rh;
  rk_status st = rk__boxes_region(&cfg->box, c, &region, &rh);
  if (st == RK_STATUS_OK) st = rk__vr1_read_boxes(c, region, pred);
  if (st != RK_STATUS_OK) return st;
  snprintf(how, cap, "%s (Vision-R1's reader)", rh);
  double sx = 1, sy = 1;
  if (cfg->box.co.coords != RK__COORD_PIXEL || cfg->box.co.ref_coords != RK__COORD_PIXEL) {
    rk__coordscale sc;
    if ((st = rk__coordargs_scale(&cfg->box.co, c, &sc)) != RK_STATUS_OK) return st;
    sx = sc.sx, sy = sc.sy;
  }
  rk__boxes_convert(pred, cfg->box.layout, sx, sy);
  return RK_STATUS_OK;
}

static rk_status hun_score(const void *v, rk__call *c, double *value) {
  const hun_cfg *cfg = v;
  rk__boxes pred, gt;
  const char *how = NULL;
  *value = 0;
  rk_status st = rk__boxes_load(&cfg->box, c, &pred, &gt, &how, NULL);
  if (st != RK_STATUS_OK) return st;
  char rhow[64];
  if (cfg->vr1_reader && (st = vr1_reader_boxes(cfg, c, &pred, rhow, sizeof rhow)) != RK_STATUS_OK)
    return st;
  if (cfg->vr1_reader) how = rhow;
  size_t P = pred.n, G = gt.n;
  if (P > (size_t)cfg->box.max_boxes || G > (size_t)cfg->box.max_boxes)
    return rk__fail(c, "%zu predicted / %zu reference boxes: more than max_boxes=%ld "
                       "(Hungarian matching is cubic; raise max_boxes to allow it)",
                    P, G, cfg->box.max_boxes);
  char pd[200];
  pd[0] = '\0';
  if (rk__explaining(c)) rk__boxes_describe(&pred, "predicted", pd, sizeof pd);
  int has_step = cfg->has_step;
  double step = cfg->step;
  if (!has_step && cfg->step_field) {
    const rk__jval *sv = rk__record_field(c->rec, cfg->step_field);
    if (sv && sv->type == RK__JNUM && isfinite(sv->u.num)) has_step = 1, step = sv->u.num;
  }
  int late = has_step && step >= cfg->step_switch;
  double xi = late ? 0.75 : 0.5;
  double plo = !has_step ? 0 : late ? 0.75 : 0.5, phi = !has_step ? 1 : late ? 0.9 : 0.75;
  double prec, rec;
  size_t nm = 0, same = 0;
  int labelled = 0; /* the class term was in use (labels on the GT side) */
  if (P == 0 || G == 0) {
    prec = rec = P == 0 && G == 0 ? 1.0 : 0.0;
  } else {
    size_t mn = P < G ? P : G;
    if (!rk__spend(c, (uint64_t)P * G * mn + (uint64_t)P * G * 4 + 1)) return RK_STATUS_TIMEOUT;
    /* Rows are the smaller side: the matrix rk__hungarian would solve
     * (it transposes a taller one), built in that shape. */
    int by_gt = P > G;
    double *cost = rk__arena_alloc(c->arena, P * G * sizeof *cost);
    long *rc = rk__arena_alloc(c->arena, P * sizeof *rc);
    long *gr = rk__arena_alloc(c->arena, G * sizeof *gr);
    int *gc = NULL, *pc = NULL;
    int ncat = cost && rc && gr
                   ? rk__box_categories(c, &gt, &pred, cfg->use_labels, cfg->fold, &gc, &pc)
                   : -1;
    if (ncat == -2) return RK_STATUS_TIMEOUT;
    if (ncat < 0 || rk__vr1_costs(&pred, pc, &gt, gc, by_gt, c->arena, cost, RK__SIMD_BEST))
      return rk__fail(c, "out of memory");
    for (size_t j = 0; j < G && cfg->use_labels; j++) labelled |= gt.b[j].has_label;
    if (by_gt) {
      if (rk__hungarian(cost, G, P, gr, c->arena)) return rk__fail(c, "assignment failed");
      for (size_t i = 0; i < P; i++) rc[i] = -1;
      for (size_t j = 0; j < G; j++)
        if (gr[j] >= 0) rc[gr[j]] = (long)j;
    } else if (rk__hungarian(cost, P, G, rc, c->arena)) {
      return rk__fail(c, "assignment failed");
    }
    double tp = 0, ps = 0;
    for (size_t i = 0; i < P; i++) {
      if (rc[i] < 0) continue;
      double g = rk__box_giou(&pred.b[i], &gt.b[rc[i]]); /* as in the cost */
      tp += vr1_map(g, xi, xi);
      ps += vr1_map(g, plo, phi);
      same += pc[i] >= 0 && pc[i] == gc[rc[i]];
      nm++;
    }
    rec = tp / (double)G;
    if (has_step) rec = vr1_map(rec, 0.5, 0.75);
    prec = ps / (double)P;
  }
  double fmt = 0;
  if (cfg->output == HO_VISION_R1) {
    rk__str region;
    const char *h2;
    st = rk__boxes_region(&cfg->box, c, &region, &h2);
    if (st == RK_STATUS_TIMEOUT) return st;
    fmt = st == RK_STATUS_OK ? rk__vr1_format(c, region, G) : (G ? 0 : 1);
  }
  switch (cfg->output) {
    case HO_PRECISION: *value = prec; break;
    case HO_RECALL: *value = rec; break;
    case HO_PR_MEAN: *value = (prec + rec) / 2; break;
    default: *value = (prec + rec + fmt) / 3; break;
  }
  if (rk__explaining(c)) {
    char a[32], b[32], d[32], s[48];
    rk__fmt_double(a, prec);
    rk__fmt_double(b, rec);
    rk__fmt_double(d, fmt);
    if (has_step)
      snprintf(s, sizeof s, "step %.0f (%s)", step, late ? "late thresholds" : "early thresholds");
    else
      snprintf(s, sizeof s, "no step");
    rk__explain(c, "%s from %s; Hungarian matched %zu pairs with %zu gt; %s; precision %s, "
                   "recall %s%s%s",
                pd, how, nm, G, s, a, b, cfg->output == HO_VISION_R1 ? ", format " : "",
                cfg->output == HO_VISION_R1 ? d : "");
    if (labelled) rk__explain(c, "%zu of %zu matched pairs with the same label", same, nm);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_detection_hungarian = {
    .name = "detection_hungarian",
    .summary = "Vision-R1: Hungarian matching on L1 - class - GIoU; precision/recall with progressive thresholds by step",
    .compile = hun_compile,
    .score = hun_score,
    .free = hun_free,
};

/* ------------------------------------------------------ detection_prf */

enum { PO_F1, PO_PRECISION, PO_RECALL, PO_WEIGHTED };
#define MAX_THR 16

typedef struct prf_cfg {
  rk__boxargs box;
  int output, matching, use_labels, fold;
  double lambda;
  double thr[MAX_THR];
  int nthr;
} prf_cfg;

static void prf_free(void *v) {
  prf_cfg *cfg = v;
  if (!cfg) return;
  rk__boxargs_free(&cfg->box);
  free(cfg);
}

static int prf_compile(rk__argctx *ac, void **out) {
  static const char *const outs[] = {"f1", "precision", "recall", "weighted", NULL};
  static const char *const matchings[] = {"greedy", "hungarian", NULL};
  prf_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__boxargs_compile(ac, &cfg->box, 1000) ||
      rk__arg_enum(ac, "output", outs, PO_F1, &cfg->output) ||
      rk__arg_enum(ac, "matching", matchings, 0, &cfg->matching) ||
      rk__arg_num_range(ac, "lambda", 0.5, 0, 1, &cfg->lambda) ||
      rk__arg_bool(ac, "use_labels", 1, &cfg->use_labels) ||
      rk__arg_bool(ac, "ignore_case", 0, &cfg->fold)) {
    prf_free(cfg);
    return -1;
  }
  const rk__jval *t = rk__arg_raw(ac, "thresholds");
  int bad = 0;
  if (!t) {
    cfg->thr[0] = 0.5, cfg->nthr = 1;
  } else if (t->type == RK__JNUM) {
    cfg->thr[0] = t->u.num, cfg->nthr = 1;
  } else if (t->type == RK__JARR && t->u.arr.n >= 1 && t->u.arr.n <= MAX_THR) {
    for (size_t i = 0; i < t->u.arr.n; i++) {
      const rk__jval *x = &t->u.arr.items[i];
      if (x->type != RK__JNUM) bad = 1;
      else cfg->thr[cfg->nthr++] = x->u.num;
    }
  } else {
    bad = 1;
  }
  /* 0 would make a box that does not touch its GT (IoU 0) a true
   * positive. */
  for (int i = 0; i < cfg->nthr; i++)
    if (!(cfg->thr[i] > 0 && cfg->thr[i] <= 1)) bad = 1;
  if (bad) {
    prf_free(cfg);
    return rk__arg_error(ac, "thresholds",
                         "expected an IoU in (0, 1] or a list of 1 to %d of them (0 would count "
                         "boxes that do not overlap as matches)", MAX_THR);
  }
  *out = cfg;
  return 0;
}

/* Precision = TP / n_pred, recall = TP / n_gt at each IoU threshold
 * (TP = matched pairs at IoU >= t with the same label), F1 = 2PR/(P+R);
 * weighted = lambda P + (1 - lambda) R (DIP-R1 "weighted precision-recall
 * accuracy", seed_formulas.md §14; the paper's exact weights are not
 * published). The chosen output is averaged over the thresholds. Greedy
 * matching is VLM-R1's global-max order; Hungarian maximises total IoU. */
static rk_status prf_score(const void *v, rk__call *c, double *value) {
  const prf_cfg *cfg = v;
  rk__boxes pred, gt;
  const char *how = NULL;
  *value = 0;
  rk_status st = rk__boxes_load(&cfg->box, c, &pred, &gt, &how, NULL);
  if (st != RK_STATUS_OK) return st;
  size_t P = pred.n, G = gt.n;
  if (P > (size_t)cfg->box.max_boxes || G > (size_t)cfg->box.max_boxes)
    return rk__fail(c, "%zu predicted / %zu reference boxes: more than max_boxes=%ld", P, G,
                    cfg->box.max_boxes);
  char pd[200];
  pd[0] = '\0';
  if (rk__explaining(c)) rk__boxes_describe(&pred, "predicted", pd, sizeof pd);
  /* Invalid predicted boxes are false positives (rk__boxes_invalid). */
  size_t Pall = P + rk__boxes_invalid(&pred);
  if (P == 0 || G == 0) {
    *value = Pall == 0 && G == 0 ? 1.0 : 0.0;
    rk__explain(c, "%s from %s; %zu reference boxes; %s", pd, how, G,
                *value ? "both empty: 1" : "one side empty: 0");
    return RK_STATUS_OK;
  }
  double tmin = cfg->thr[0];
  for (int k = 1; k < cfg->nthr; k++) tmin = rk__mn(tmin, cfg->thr[k]);
  long *mg = rk__arena_alloc(c->arena, P * sizeof *mg);
  if (!mg) return rk__fail(c, "out of memory");
  double *m = NULL;
  rk__pair *ps = NULL, *work = NULL;
  size_t np = 0;
  int *gc = NULL, *pc = NULL;
  if (cfg->matching == 1) {
    /* The cubic assignment is charged first: a record over budget stops
     * before any of the work. */
    if (!rk__spend(c, (uint64_t)P * G * (P < G ? P : G) + (uint64_t)P * G * 4 + 1))
      return RK_STATUS_TIMEOUT;
    int ncat = rk__box_categories(c, &gt, &pred, cfg->use_labels, cfg->fold, &gc, &pc);
    if (ncat == -2) return RK_STATUS_TIMEOUT;
    if (ncat < 0) return rk__fail(c, "out of memory");
    m = iou_matrix(&pred, &gt, c->arena);
    double *cm = rk__arena_alloc(c->arena, P * G * sizeof *cm);
    if (!m || !cm) return rk__fail(c, "out of memory");
    for (size_t i = 0; i < P; i++)
      for (size_t j = 0; j < G; j++) cm[i * G + j] = pc[i] == gc[j] ? -m[i * G + j] : 0.0;
    if (rk__hungarian(cm, P, G, mg, c->arena)) return rk__fail(c, "assignment failed");
  } else {
    st = pairs_budgeted(c, pred.b, P, gt.b, G, tmin, &ps, &np);
    if (st != RK_STATUS_OK) return st;
    work = rk__arena_alloc(c->arena, (np + 1) * sizeof *work);
    if (!work) return rk__fail(c, "out of memory");
    if (!rk__spend(c, np * 8 * (uint64_t)cfg->nthr + 1)) return RK_STATUS_TIMEOUT;
    /* Pairs of different labels are not matchable: dropped once, for
     * every threshold (rk__box_same_label: as rk__box_categories ids). */
    int labelled = rk__box_labels_used(&gt, cfg->use_labels);
    size_t w = 0;
    for (size_t k = 0; k < np; k++)
      if (rk__box_same_label(&pred.b[ps[k].i], &gt.b[ps[k].j], labelled, cfg->fold))
        ps[w++] = ps[k];
    np = w;
  }
  double sum = 0, p_last = 0, r_last = 0;
  size_t tp_first = 0;
  for (int k = 0; k < cfg->nthr; k++) {
    size_t tp = 0;
    if (cfg->matching == 1) {
      for (size_t i = 0; i < P; i++)
        if (mg[i] >= 0 && pc[i] == gc[mg[i]] && m[i * G + (size_t)mg[i]] >= cfg->thr[k]) tp++;
    } else {
      memcpy(work, ps, np * sizeof *ps);
      long nm = rk__greedy_match(work, np, P, G, cfg->thr[k], NULL, NULL, c->arena, mg, NULL);
      if (nm < 0) return rk__fail(c, "out of memory");
      tp = (size_t)nm;
    }
    double pr = (double)tp / (double)Pall, rc = (double)tp / (double)G;
    double f1 = pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0;
    double x = cfg->output == PO_PRECISION ? pr
               : cfg->output == PO_RECALL  ? rc
               : cfg->output == PO_WEIGHTED ? cfg->lambda * pr + (1 - cfg->lambda) * rc
                                            : f1;
    sum += x;
    if (k == 0) tp_first = tp, p_last = pr, r_last = rc;
  }
  *value = sum / cfg->nthr;
  if (rk__explaining(c)) {
    char a[32], b[32], d[32], t[32];
    rk__fmt_double(a, p_last);
    rk__fmt_double(b, r_last);
    rk__fmt_double(d, *value);
    rk__fmt_double(t, cfg->thr[0]);
    rk__explain(c, "%s from %s; %s matched %zu of %zu gt at IoU>=%s (P %s, R %s)%s; reward %s", pd,
                how, cfg->matching ? "Hungarian" : "greedy", tp_first, G, t, a, b,
                cfg->nthr > 1 ? ", averaged over thresholds" : "", d);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_detection_prf = {
    .name = "detection_prf",
    .summary = "detection precision / recall / F1 (or DIP-R1 weighted P/R) at IoU thresholds, greedy or Hungarian",
    .compile = prf_compile,
    .score = prf_score,
    .free = prf_free,
};
