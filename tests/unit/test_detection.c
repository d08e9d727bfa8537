/*
 * test_detection.c - COCO mAP (the pycocotools cases of apis_metrics.md
 * B6), the Hungarian algorithm against brute force on small random
 * matrices, the greedy detection rewards (VLM-R1 detection_score,
 * Visual-RFT IoU + confidence), Vision-R1 Hungarian precision / recall,
 * detection_prf and count, with empty and degenerate inputs.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "e2e.h"
#include "test.h"
#include "vision/detection.h"

static rk__box XYWH(double x, double y, double w, double h, double score) {
  rk__box b;
  memset(&b, 0, sizeof b);
  b.x1 = x, b.y1 = y, b.x2 = x + w, b.y2 = y + h;
  b.conf = score;
  b.area = NAN;
  return b;
}

static void coco(const rk__box *gt, size_t ng, const rk__box *dt, size_t nd, double *stats) {
  rk__arena a;
  rk__arena_init(&a, 0);
  int gc[64] = {0}, dc[256] = {0};
  ASSERT_EQ_INT(rk__coco_eval(gt, gc, ng, dt, dc, nd, 1, &a, stats), 0);
  rk__arena_release(&a);
}

/* ------------------------------------------------------------- COCO */

TEST(coco_reference_table) {
  /* B6 row 1: 3 GTs, 4 detections. */
  rk__box gt[3] = {XYWH(10, 10, 20, 20, 0), XYWH(50, 50, 30, 30, 0), XYWH(0, 0, 5, 5, 0)};
  rk__box dt[4] = {XYWH(10, 10, 20, 20, .9), XYWH(52, 52, 30, 30, .8),
                   XYWH(70, 0, 10, 10, .7), XYWH(1, 1, 5, 5, .6)};
  const double want[12] = {.532673, .663366, .663366, .532673, -1, -1,
                           .333333, .533333, .533333, .533333, -1, -1};
  double s[12];
  coco(gt, 3, dt, 4, s);
  for (int i = 0; i < 12; i++) ASSERT_NEAR(s[i], want[i], 5e-7);
  /* Row 2: every score 1.0, stable sort keeps the order: identical. */
  for (int i = 0; i < 4; i++) dt[i].conf = 1.0;
  coco(gt, 3, dt, 4, s);
  for (int i = 0; i < 12; i++) ASSERT_NEAR(s[i], want[i], 5e-7);
}

TEST(coco_small_cases) {
  double s[12];
  rk__box g = XYWH(10, 10, 20, 20, 0);
  /* Exact match: AP 1 - 1e-16: pycocotools' precision is tp / (tp + fp +
   * np.spacing(1)) = 1 / (1 + 2.2e-16) = 0.9999999999999998 (and so it
   * prints "1.000"); hence the 1e-15 tolerances on "1" below. */
  rk__box d = XYWH(10, 10, 20, 20, 1);
  coco(&g, 1, &d, 1, s);
  ASSERT_NEAR(s[0], 1, 1e-15);
  ASSERT_NEAR(s[8], 1, 0);
  /* IoU 0.6 (300/500): matched at .50 .55 .60, not above: AP = 3/10 =
   * .3; AP50 1; AP75 0. */
  d = XYWH(15, 10, 20, 20, 1);
  coco(&g, 1, &d, 1, s);
  ASSERT_NEAR(s[0], 0.3, 1e-15);
  ASSERT_NEAR(s[1], 1, 1e-15);
  ASSERT_NEAR(s[2], 0, 0);
  /* TP then a duplicate: precision 1 at recall 1 before the FP -> 1. */
  rk__box dd[2] = {XYWH(10, 10, 20, 20, .9), XYWH(10, 10, 20, 20, .8)};
  coco(&g, 1, dd, 2, s);
  ASSERT_NEAR(s[0], 1, 1e-15);
  /* Two GTs, an FP ranked first then one TP: rc = [0, .5], pr = [0, .5];
   * recall thresholds 0..0.5 (51 of 101) read .5 -> 51 * .5 / 101. */
  rk__box g2[2] = {XYWH(10, 10, 20, 20, 0), XYWH(100, 100, 20, 20, 0)};
  rk__box fp[2] = {XYWH(300, 300, 10, 10, .9), XYWH(10, 10, 20, 20, .8)};
  coco(g2, 2, fp, 2, s);
  ASSERT_NEAR(s[0], 51 * .5 / 101, 1e-15);
  /* No detections: AP 0, AR 0. No GT: every statistic -1. */
  coco(&g, 1, NULL, 0, s);
  ASSERT_NEAR(s[0], 0, 0);
  ASSERT_NEAR(s[8], 0, 0);
  coco(NULL, 0, &d, 1, s);
  for (int i = 0; i < 12; i++) ASSERT_NEAR(s[i], -1, 0);
  /* A crowd GT: IoU over the detection's area; a detection inside it is
   * matched to an ignored GT and so ignored: no GT left -> -1. */
  rk__box cg = XYWH(0, 0, 100, 100, 0);
  cg.crowd = 1;
  rk__box in = XYWH(10, 10, 20, 20, 1);
  coco(&cg, 1, &in, 1, s);
  ASSERT_NEAR(s[0], -1, 0);
}

TEST(coco_categories_and_maxdets) {
  /* Two categories, each with one exact detection: AP 1; a detection of
   * a category without GT (-1) is ignored. */
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__box gt[2] = {XYWH(0, 0, 10, 10, 0), XYWH(50, 50, 10, 10, 0)};
  rk__box dt[3] = {XYWH(0, 0, 10, 10, 1), XYWH(50, 50, 10, 10, 1), XYWH(80, 80, 5, 5, 1)};
  int gc[2] = {0, 1}, dc[3] = {0, 1, -1};
  double s[12];
  ASSERT_EQ_INT(rk__coco_eval(gt, gc, 2, dt, dc, 3, 2, &a, s), 0);
  ASSERT_NEAR(s[0], 1, 1e-15);
  /* Swapped categories: nothing matches: AP 0. */
  int dc2[3] = {1, 0, -1};
  ASSERT_EQ_INT(rk__coco_eval(gt, gc, 2, dt, dc2, 3, 2, &a, s), 0);
  ASSERT_NEAR(s[0], 0, 0);
  /* 120 exact detections of 120 GTs (areas 4*4 = 16 small): only the
   * top 100 count: recall .8333 at every threshold; AR@1 = 1/120,
   * AR@10 = 10/120; precision 1 up to recall 100/120: AP = 84/101
   * (recall thresholds 0 .. .83). */
  rk__box g3[120], d3[120];
  int gc3[120] = {0}, dc3[120] = {0};
  for (int i = 0; i < 120; i++) {
    g3[i] = XYWH(i * 10, 0, 4, 4, 0);
    d3[i] = XYWH(i * 10, 0, 4, 4, 1.0 - i * 1e-3);
  }
  ASSERT_EQ_INT(rk__coco_eval(g3, gc3, 120, d3, dc3, 120, 1, &a, s), 0);
  ASSERT_NEAR(s[8], 100.0 / 120, 1e-15);
  ASSERT_NEAR(s[6], 1.0 / 120, 1e-15);
  ASSERT_NEAR(s[7], 10.0 / 120, 1e-15);
  ASSERT_NEAR(s[0], 84.0 / 101, 1e-15);
  ASSERT_NEAR(s[3], 84.0 / 101, 1e-15); /* all small */
  ASSERT_NEAR(s[4], -1, 0);
  rk__arena_release(&a);
}

TEST(e2e_coco_map) {
  /* VLM-R1 style: labels, no scores -> all 1.0; B6 row 1 boxes in xyxy. */
  const char *rec =
      "{\"response\": \"<answer>```json\\n["
      "{\\\"bbox_2d\\\": [10,10,30,30], \\\"label\\\": \\\"a\\\"},"
      "{\\\"bbox_2d\\\": [52,52,82,82], \\\"label\\\": \\\"a\\\"},"
      "{\\\"bbox_2d\\\": [70,0,80,10], \\\"label\\\": \\\"a\\\"},"
      "{\\\"bbox_2d\\\": [1,1,6,6], \\\"label\\\": \\\"a\\\"},"
      "{\\\"bbox_2d\\\": [1,1,6,6], \\\"label\\\": \\\"zebra\\\"}]\\n```</answer>\","
      " \"reference\": [{\"bbox_2d\": [10,10,30,30], \"label\": \"a\"},"
      " {\"bbox_2d\": [50,50,80,80], \"label\": \"a\"}, {\"bbox_2d\": [0,0,5,5], \"label\": \"a\"}]}";
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"coco_map\"}}", rec);
  ASSERT_EQ_STR(r.status, "ok");
  ASSERT_NEAR(r.reward, .532673, 5e-7);
  ASSERT_CONTAINS(r.explain, "5 predicted boxes from code block in answer "
                             "(1 with labels not in the reference ignored)");
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"metric\": \"ap50\"}}}", rec);
  ASSERT_NEAR(r.reward, .663366, 5e-7);
  /* ap_medium is -1 in pycocotools (no medium GT): reward 0. */
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"metric\": \"ap_medium\"}}}", rec);
  ASSERT_NEAR(r.reward, 0, 0);
  ASSERT_CONTAINS(r.explain, "pycocotools -1");
  /* odLength: 3 gt < 5 predicted -> x 3/5. */
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"length_penalty\": true}}}", rec);
  ASSERT_NEAR(r.reward, .532673 * 0.6, 5e-7);
  /* Empty cases (VLM-R1): both empty 1, one empty 0. */
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\"}}", "{\"response\": \"[]\", \"reference\": []}");
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\"}}",
                "{\"response\": \"None\", \"reference\": [[0,0,1,1]]}");
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\"}}",
                "{\"response\": \"[0,0,1,1]\", \"reference\": []}");
  ASSERT_E2E(r, 0, "ok");
  char buf[512];
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"metric\": \"map\"}}}",
                                 buf, sizeof buf),
                  "metric");
}

/* -------------------------------------------------------- Hungarian */

/* Minimum over all injective maps of the smaller side into the larger. */
static double brute(const double *c, int n, int m, int i, unsigned used, double acc) {
  if (n <= m) {
    if (i == n) return acc;
    double best = INFINITY;
    for (int j = 0; j < m; j++)
      if (!(used >> j & 1)) {
        double x = brute(c, n, m, i + 1, used | 1u << j, acc + c[i * m + j]);
        if (x < best) best = x;
      }
    return best;
  }
  /* More rows than columns: assign each column a distinct row. */
  if (i == m) return acc;
  double best = INFINITY;
  for (int r = 0; r < n; r++)
    if (!(used >> r & 1)) {
      double x = brute(c, n, m, i + 1, used | 1u << r, acc + c[r * m + i]);
      if (x < best) best = x;
    }
  return best;
}

TEST(hungarian_scipy_example) {
  /* scipy linear_sum_assignment docstring: [[4,1,3],[2,0,5],[3,2,2]] ->
   * rows 0 1 2 to columns 1 0 2, total 1 + 2 + 2 = 5. */
  rk__arena a;
  rk__arena_init(&a, 0);
  const double c[9] = {4, 1, 3, 2, 0, 5, 3, 2, 2};
  long rc[3];
  ASSERT_EQ_INT(rk__hungarian(c, 3, 3, rc, &a), 0);
  ASSERT_EQ_INT(rc[0], 1);
  ASSERT_EQ_INT(rc[1], 0);
  ASSERT_EQ_INT(rc[2], 2);
  /* Empty and non-finite. */
  ASSERT_EQ_INT(rk__hungarian(c, 0, 3, rc, &a), 0);
  const double bad[1] = {NAN};
  ASSERT_EQ_INT(rk__hungarian(bad, 1, 1, rc, &a), -1);
  rk__arena_release(&a);
}

/* The SIMD levels this build can run (rk__hungarian_simd and
 * rk__vr1_costs fall back to the widest below a level the processor
 * lacks, so every level is valid everywhere). */
static const int simd_levels[] = {RK__SIMD_SCALAR, RK__SIMD_SSE2, RK__SIMD_AVX2, RK__SIMD_AVX512,
                                  RK__SIMD_BEST};
#define NLEVELS (int)(sizeof simd_levels / sizeof simd_levels[0])

TEST(hungarian_brute_force) {
  /* 3000 random matrices up to 8 x 8 (including 0 rows or columns and
   * rectangular both ways), at every SIMD level: the total cost equals
   * the brute force minimum and the assignment is a valid matching of
   * min(n, m) pairs. Costs: random reals, small integers (many ties),
   * all equal, -0 / +0 / 1, and 1e12 + small integers (exact sums). */
  rk__arena a;
  rk__arena_init(&a, 0);
  unsigned seed = 12345;
  for (int it = 0; it < 3000; it++) {
    seed = seed * 1103515245u + 12345u;
    int n = (int)(seed >> 16) % 9;
    seed = seed * 1103515245u + 12345u;
    int m = (int)(seed >> 16) % 9;
    double c[64];
    for (int k = 0; k < n * m; k++) {
      seed = seed * 1103515245u + 12345u;
      unsigned r = seed >> 16;
      switch (it % 5) {
        case 0: c[k] = (double)((seed >> 8) & 0xffff) / 655.36 - 50; break;
        case 1: c[k] = (double)(r % 5); break;
        case 2: c[k] = 3.5; break;
        case 3: c[k] = r % 3 == 0 ? -0.0 : r % 3 == 1 ? 0.0 : 1.0; break;
        default: c[k] = 1e12 + (double)(r % 4); break;
      }
    }
    double want = brute(c, n, m, 0, 0, 0);
    for (int l = 0; l < NLEVELS; l++) {
      long rc[8];
      rk__arena_reset(&a);
      ASSERT_EQ_INT(rk__hungarian_simd(c, (size_t)n, (size_t)m, rc, &a, simd_levels[l]), 0);
      double tot = 0;
      int pairs = 0;
      unsigned cols = 0;
      for (int i = 0; i < n; i++) {
        if (rc[i] < 0) continue;
        ASSERT_TRUE(rc[i] < m && !(cols >> rc[i] & 1));
        cols |= 1u << rc[i];
        tot += c[i * m + rc[i]];
        pairs++;
      }
      ASSERT_EQ_INT(pairs, n < m ? n : m);
      ASSERT_NEAR(tot, want, 1e-9);
      if (rk_t_failed_) {
        fprintf(stderr, "  case %d: %d x %d, SIMD level %d\n", it, n, m, simd_levels[l]);
        rk__arena_release(&a);
        return;
      }
    }
  }
  rk__arena_release(&a);
}

/* The tie-heavy matrices of hungarian_tie_break: matrix it into c (at
 * most 39 x 39), from the LCG state *s. */
static unsigned tie_next(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 16;
}

static void tie_matrix(int it, unsigned *s, double *c, size_t *n, size_t *m) {
  *n = tie_next(s) % (it % 4 == 0 ? 40 : 10);
  *m = tie_next(s) % (it % 4 == 0 ? 40 : 10);
  int kind = it % 6;
  for (size_t k = 0; k < *n * *m; k++) {
    unsigned r = tie_next(s);
    c[k] = kind == 0   ? (double)(r % 3)                                 /* few values */
           : kind == 1 ? 0.0                                             /* all equal */
           : kind == 2 ? (r % 3 == 0 ? -0.0 : r % 3 == 1 ? 0.0 : 1.0)    /* signed zeros */
           : kind == 3 ? (r % 4 ? 0.0 : -(double)(r % 100) / 100)        /* -IoU or 0 */
           : kind == 4 ? 1e15 + (double)(r % 4)                          /* large, exact */
                       : (double)(r % 7) * 0.1 - 0.3;                    /* inexact sums */
  }
}

TEST(hungarian_tie_break) {
  /* Which of several optimal assignments comes out (the rewards read the
   * matched pairs) is pinned to the implementation before the SIMD
   * rewrite (git ec03baf, run outside this test), at every level. Small
   * cases with several optima: */
  static const struct {
    size_t n, m;
    double c[12];
    long want[4];
  } cases[] = {
      /* zero cost also by {2, 0, 1} and {0, 2, 1} */
      {3, 3, {-0.0, 0, 0, -0.0, 1, -0.0, 0, -0.0, 0}, {1, 0, 2}},
      /* zero cost also by {2, 0, 1} and {2, 1, 0} */
      {3, 3, {1, -0.0, 0, -0.0, -0.0, -0.0, 0, 0, 1}, {1, 2, 0}},
      /* rows 0 and 1 or 2 and 1, both cost 0 */
      {3, 2, {0, 2, 1, 0, 0, 2}, {0, 1, -1}},
      /* all equal: the first rows take the first columns */
      {4, 3, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 1, 2, -1}},
      {2, 4, {0, -0.08, -0.32, 0, 0, -0.28, 0, 0}, {2, 1}},
  };
  rk__arena a;
  rk__arena_init(&a, 0);
  for (int l = 0; l < NLEVELS; l++) {
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      long rc[4];
      rk__arena_reset(&a);
      ASSERT_EQ_INT(rk__hungarian_simd(cases[k].c, cases[k].n, cases[k].m, rc, &a,
                                       simd_levels[l]), 0);
      for (size_t i = 0; i < cases[k].n; i++) ASSERT_EQ_INT(rc[i], cases[k].want[i]);
    }
    /* 1200 tie-heavy matrices up to 39 x 39 (0 to 39 rows or columns):
     * the FNV-1a hash of every row's column + 1. */
    static double c[40 * 40];
    unsigned s = 2024;
    uint64_t h = 14695981039346656037ull;
    for (int it = 0; it < 1200; it++) {
      size_t n, m;
      long rc[40];
      tie_matrix(it, &s, c, &n, &m);
      rk__arena_reset(&a);
      ASSERT_EQ_INT(rk__hungarian_simd(c, n, m, rc, &a, simd_levels[l]), 0);
      for (size_t i = 0; i < n; i++) h = (h ^ (uint64_t)(rc[i] + 1)) * 1099511628211ull;
    }
    if (h != 0x04d800a845cad245ull)
      RK_T_FAIL_("SIMD level %d: hash %016llx, want 04d800a845cad245", simd_levels[l],
                 (unsigned long long)h);
    if (rk_t_failed_) break;
  }
  rk__arena_release(&a);
}

TEST(hungarian_levels_agree) {
  /* Every SIMD level gives the scalar level's assignment and return
   * code, on 600 matrices up to 45 x 45 (vector loops, their tails and
   * the transposed case), some with +inf and NaN entries (unreachable
   * pairs, or -1 when a row has nothing finite). */
  rk__arena a;
  rk__arena_init(&a, 0);
  unsigned s = 77;
  static double c[45 * 45];
  for (int it = 0; it < 600 && !rk_t_failed_; it++) {
    size_t n = tie_next(&s) % 46, m = tie_next(&s) % 46;
    for (size_t k = 0; k < n * m; k++) {
      unsigned r = tie_next(&s);
      c[k] = it % 3 == 0 ? (double)(r % 4) : (double)r / 65536.0 * 200 - 100;
      if (it % 7 == 0 && r % 29 == 0) c[k] = r % 2 ? INFINITY : NAN;
    }
    long want[45], got[45];
    rk__arena_reset(&a);
    int rc0 = rk__hungarian_simd(c, n, m, want, &a, RK__SIMD_SCALAR);
    for (int l = 1; l < NLEVELS; l++) {
      rk__arena_reset(&a);
      ASSERT_EQ_INT(rk__hungarian_simd(c, n, m, got, &a, simd_levels[l]), rc0);
      for (size_t i = 0; i < n; i++) ASSERT_EQ_INT(got[i], want[i]);
      if (rk_t_failed_) {
        fprintf(stderr, "  case %d: %zu x %zu, SIMD level %d\n", it, n, m, simd_levels[l]);
        break;
      }
    }
  }
  rk__arena_release(&a);
}

/* Vision-R1's cost as detection.c computed it before rk__vr1_costs
 * (git ec03baf): the reference for every level. */
static double vr1_ref(const rk__box *a, int pa, const rk__box *b, int gb) {
  double l1 = fabs(a->x1 - b->x1) + fabs(a->y1 - b->y1) + fabs(a->x2 - b->x2) +
              fabs(a->y2 - b->y2);
  double g = rk__box_giou(a, b);
  double cc = l1 - (pa >= 0 && pa == gb ? 1.0 : 0.0) - g;
  return isfinite(cc) ? cc : 1e300;
}

TEST(vr1_costs_levels) {
  /* rk__vr1_costs at every SIMD level and in both shapes equals vr1_ref
   * bit for bit (memcmp: -0 and +0 differ) on 1500 random box sets of 1
   * to 40 per side: small integer grids (touching, nested, identical and
   * zero-width boxes), -0 coordinates, coordinates near 1e15, tiny ones,
   * exact copies of GT boxes, predictions without a category (-1). */
  rk__arena a;
  rk__arena_init(&a, 0);
  unsigned s = 99;
  static rk__box pb[40], gb[40];
  static int pc[40], gc[40];
  static double got[1600];
  for (int it = 0; it < 1500 && !rk_t_failed_; it++) {
    size_t P = 1 + tie_next(&s) % 40, G = 1 + tie_next(&s) % 40;
    int kind = it % 5;
    for (size_t k = 0; k < P + G; k++) {
      rk__box *b = k < P ? &pb[k] : &gb[k - P];
      double x[4];
      for (int q = 0; q < 4; q++) {
        unsigned r = tie_next(&s);
        x[q] = kind == 0   ? (double)(r % 6)
               : kind == 1 ? (r % 3 ? (double)(r % 2) : -0.0)
               : kind == 2 ? ((double)r / 65536.0 - 0.5) * 2e15
               : kind == 3 ? (double)r * 1e-300
                           : (double)(r % 1000) / 7;
      }
      memset(b, 0, sizeof *b);
      b->x1 = x[0] < x[2] ? x[0] : x[2], b->x2 = x[0] < x[2] ? x[2] : x[0];
      b->y1 = x[1] < x[3] ? x[1] : x[3], b->y2 = x[1] < x[3] ? x[3] : x[1];
      if (k < P) pc[k] = (int)(tie_next(&s) % 4) - 1;
      else gc[k - P] = (int)(tie_next(&s) % 3);
    }
    for (size_t i = 0; i < P && i < G; i++)
      if (tie_next(&s) % 3 == 0) pb[i] = gb[tie_next(&s) % G];
    rk__boxes pred = {pb, P, {0}, 0, 0}, gt = {gb, G, {0}, 0, 0};
    for (int l = 0; l < NLEVELS && !rk_t_failed_; l++)
      for (int by_gt = 0; by_gt < 2; by_gt++) {
        rk__arena_reset(&a);
        ASSERT_EQ_INT(rk__vr1_costs(&pred, pc, &gt, gc, by_gt, &a, got, simd_levels[l]), 0);
        for (size_t i = 0; i < P; i++)
          for (size_t j = 0; j < G; j++) {
            double want = vr1_ref(&pb[i], pc[i], &gb[j], gc[j]);
            double x = by_gt ? got[j * P + i] : got[i * G + j];
            if (memcmp(&x, &want, sizeof x) != 0) {
              RK_T_FAIL_("case %d (kind %d) level %d by_gt %d pair (%zu, %zu): %a, want %a", it,
                         kind, simd_levels[l], by_gt, i, j, x, want);
              i = P, j = G;
            }
          }
      }
  }
  rk__arena_release(&a);
}

static double lcg(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (double)((*s >> 8) & 0xffff) / 65536.0;
}

TEST(pairs_window_vs_brute_force) {
  /* rk__box_pairs skips pairs through the x1 window; on 400 random sets
   * (sizes 1-60, thresholds .05-.95, many near-identical and degenerate
   * boxes) it returns exactly the pairs with IoU >= t, in (i, j) order. */
  rk__arena a;
  rk__arena_init(&a, 0);
  unsigned seed = 99;
#define RND() lcg(&seed)
  for (int it = 0; it < 400; it++) {
    rk__box p[60], g[60];
    size_t P = 1 + (size_t)(RND() * 60), G = 1 + (size_t)(RND() * 60);
    double t = 0.05 + 0.9 * RND();
    for (size_t k = 0; k < 60; k++) {
      double x = RND() * 100, y = RND() * 100, w = RND() * 40, h = RND() * 40;
      if (k % 7 == 0) w = 0; /* degenerate */
      g[k] = XYWH(x, y, w, h, 1);
      double dx = RND() * 4 - 2, dy = RND() * 4 - 2, dw = RND() * 3;
      double rx = RND() * 100, ry = RND() * 100, rw = RND() * 40, rh = RND() * 40;
      p[k] = k % 3 ? XYWH(x + dx, y + dy, w + dw, h, 1) : XYWH(rx, ry, rw, rh, 1);
      if (k % 11 == 0) p[k] = g[k]; /* identical */
    }
    rk__pair *ps = NULL;
    size_t np = 0;
    uint64_t work = 0;
    rk__arena_reset(&a);
    ASSERT_EQ_INT(rk__box_pairs(p, P, g, G, t, &a, UINT64_MAX, &ps, &np, &work), 0);
    size_t k = 0;
    int bad = 0;
    for (size_t i = 0; i < P; i++)
      for (size_t j = 0; j < G; j++) {
        double v = rk__box_iou(&p[i], &g[j]);
        if (!(v >= t)) continue;
        if (k >= np || ps[k].i != i || ps[k].j != j || ps[k].iou != v) bad = 1;
        k++;
      }
    ASSERT_EQ_INT(k, np);
    ASSERT_TRUE(!bad);
    if (rk_t_failed_) {
      fprintf(stderr, "  case %d: P %zu G %zu t %g\n", it, P, G, t);
      break;
    }
  }
#undef RND
  rk__arena_release(&a);
}

TEST(pairs_skewed_and_work) {
  /* Larger and skewed GT sets (clusters of equal x1, one far outlier that
   * puts the rest in one bucket, all equal): still exactly the pairs with
   * IoU >= t in (i, j) order, and the work charged is (P + G) * 8 plus,
   * per prediction, 8 and the number of GTs whose x1 lies in its window
   * [x1 + t w - w / t - s, x2 - t w + s], s = 1e-9 (|x1| + |x2| + w / t +
   * 1), counted here by brute force. */
  rk__arena a;
  rk__arena_init(&a, 0);
  unsigned seed = 7;
#define RND() lcg(&seed)
  static rk__box p[300], g[400];
  for (int it = 0; it < 120; it++) {
    size_t P = 1 + (size_t)(RND() * 300), G = 1 + (size_t)(RND() * 400);
    double t = it % 10 == 0 ? 1.0 : it % 10 == 1 ? 1e-3 : 0.05 + 0.9 * RND();
    int shape = it % 4;
    for (size_t k = 0; k < G; k++) {
      double x = shape == 1 ? (double)(int)(RND() * 6) * 10 : shape == 3 ? 5 : RND() * 1000;
      if (shape == 2 && k == 0) x = 1e9;
      g[k] = XYWH(x, RND() * 1000, 1 + RND() * 80, 1 + RND() * 80, 1);
    }
    for (size_t k = 0; k < P; k++) {
      const rk__box *q = &g[(size_t)(RND() * (double)G)];
      p[k] = k % 4 ? XYWH(q->x1 + RND() * 6 - 3, q->y1 + RND() * 6 - 3, q->x2 - q->x1 + RND() * 4,
                          q->y2 - q->y1, 1)
                   : XYWH(RND() * 1000, RND() * 1000, RND() * 90, RND() * 90, 1);
      if (k % 13 == 0) p[k] = *q;
    }
    rk__pair *ps = NULL;
    size_t np = 0;
    uint64_t work = 0, want_work = (uint64_t)(P + G) * 8;
    rk__arena_reset(&a);
    ASSERT_EQ_INT(rk__box_pairs(p, P, g, G, t, &a, UINT64_MAX, &ps, &np, &work), 0);
    size_t k = 0;
    int bad = 0;
    for (size_t i = 0; i < P; i++) {
      double w = p[i].x2 - p[i].x1;
      double slack = 1e-9 * (fabs(p[i].x1) + fabs(p[i].x2) + w / t + 1);
      double lo = p[i].x1 + t * w - w / t - slack, hi = p[i].x2 - t * w + slack;
      want_work += 8;
      for (size_t j = 0; j < G; j++) {
        want_work += g[j].x1 >= lo && g[j].x1 <= hi;
        double v = rk__box_iou(&p[i], &g[j]);
        if (!(v >= t)) continue;
        if (k >= np || ps[k].i != i || ps[k].j != j || ps[k].iou != v) bad = 1;
        k++;
      }
    }
    ASSERT_EQ_INT(k, np);
    ASSERT_TRUE(!bad);
    ASSERT_EQ_INT(work, want_work);
    /* Over a budget below that: stopped. */
    rk__arena_reset(&a);
    ASSERT_EQ_INT(rk__box_pairs(p, P, g, G, t, &a, want_work - 1, &ps, &np, &work), -2);
    if (rk_t_failed_) {
      fprintf(stderr, "  case %d: P %zu G %zu t %g shape %d\n", it, P, G, t, shape);
      break;
    }
  }
#undef RND
  rk__arena_release(&a);
}

/* VLM-R1's matching as grpo_jsonl.py writes it, on the full IoU matrix:
 * repeatedly the largest IoU among unmatched rows and columns (the first
 * in row-major order on ties, as np.argmax), until it is below thr; with
 * categories, other-category cells do not count. */
static long greedy_ref(const rk__box *p, size_t P, const rk__box *g, size_t G, double thr,
                       const int *pc, const int *gc, long *mg, double *mi) {
  static unsigned char ru[64], cu[64];
  memset(ru, 0, sizeof ru), memset(cu, 0, sizeof cu);
  for (size_t i = 0; i < P; i++) mg[i] = -1;
  long nm = 0;
  for (;;) {
    double best = -1;
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < P; i++)
      for (size_t j = 0; j < G; j++) {
        if (ru[i] || cu[j] || (pc && pc[i] != gc[j])) continue;
        double v = rk__box_iou(&p[i], &g[j]);
        if (v > best) best = v, bi = i, bj = j;
      }
    if (best < 0 || best < thr) break;
    mg[bi] = (long)bj, mi[bi] = best, ru[bi] = cu[bj] = 1, nm++;
  }
  return nm;
}

TEST(greedy_vs_reference) {
  /* rk__greedy_match (dominant pairs first, then a sort of the rest) on
   * 600 random images against greedy_ref: boxes on a 12 x 12 grid, so
   * that many IoUs tie, thresholds 0 to 1, with and without categories
   * (-1: a prediction whose label is not a GT label). */
  rk__arena a;
  rk__arena_init(&a, 0);
  unsigned seed = 2024;
#define RND() lcg(&seed)
  static const double thrs[] = {0, 0.1, 0.25, 1.0 / 3, 0.5, 0.7, 1};
  for (int it = 0; it < 600; it++) {
    rk__box p[64], g[64];
    size_t P = (size_t)(RND() * 40), G = (size_t)(RND() * 40);
    for (size_t k = 0; k < G; k++)
      g[k] = XYWH((int)(RND() * 12), (int)(RND() * 12), 1 + (int)(RND() * 4), 1 + (int)(RND() * 4), 1);
    for (size_t k = 0; k < P; k++) {
      p[k] = G && RND() < .7 ? g[(size_t)(RND() * (double)G)]
                            : XYWH((int)(RND() * 12), (int)(RND() * 12), 1 + (int)(RND() * 4),
                                   1 + (int)(RND() * 4), 1);
      if (RND() < .3) p[k].x2 += 1;
    }
    int pc[64], gc[64], cats = it % 2;
    for (size_t k = 0; k < G; k++) gc[k] = (int)(RND() * 3);
    for (size_t k = 0; k < P; k++) pc[k] = (int)(RND() * 4) - 1;
    double thr = thrs[it % 7];
    long want[64], got[64];
    double wi[64], gi[64];
    long wn = greedy_ref(p, P, g, G, thr, cats ? pc : NULL, gc, want, wi);
    rk__pair *ps = NULL;
    size_t np = 0;
    uint64_t work = 0;
    rk__arena_reset(&a);
    ASSERT_EQ_INT(rk__box_pairs(p, P, g, G, thr, &a, UINT64_MAX, &ps, &np, &work), 0);
    long gn = rk__greedy_match(ps, np, P, G, thr, cats ? pc : NULL, gc, &a, got, gi);
    ASSERT_EQ_INT(gn, wn);
    for (size_t i = 0; i < P; i++) {
      ASSERT_EQ_INT(got[i], want[i]);
      if (got[i] >= 0 && want[i] >= 0) ASSERT_TRUE(gi[i] == wi[i]);
    }
    if (rk_t_failed_) {
      fprintf(stderr, "  case %d: P %zu G %zu thr %g categories %d\n", it, P, G, thr, cats);
      break;
    }
  }
#undef RND
  rk__arena_release(&a);
}

TEST(same_label_vs_categories) {
  /* rk__box_same_label(p, g) is rk__box_categories' "pc[i] == gc[j]" (the
   * test detection and detection_prf make) for every pair of 2000 random
   * label sets: spaces to trim, mixed case, empty and missing labels,
   * labels in no GT, labels alike in their first 8 bytes only, with and
   * without folding and use_labels. */
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__budget bud = {0, UINT64_MAX};
  rk__call call = {.arena = &a, .budget = &bud};
  unsigned seed = 11;
#define RND() lcg(&seed)
  static const char *const words[] = {"cat",  "Cat",    "CAT",     " cat\t", "dog", "d",
                                      "Do",   "traffic light", "TRAFFIC LIGHT ", "",
                                      " ",    "person", "persoN",  "12",     "cup\n", "chair",
                                      /* equal in the first 8 bytes, not after */
                                      "traffic night", "Traffic Light", "cupboard", "cupboarD",
                                      "zebra Z", "ZEBRA z"};
  const size_t nw = sizeof words / sizeof words[0];
  for (int it = 0; it < 2000; it++) {
    rk__box gb[30], pb[30];
    size_t G = (size_t)(RND() * 30), P = (size_t)(RND() * 30);
    for (size_t k = 0; k < G + P; k++) {
      rk__box *b = k < G ? &gb[k] : &pb[k - G];
      *b = XYWH(0, 0, 1, 1, 1);
      const char *w = words[(size_t)(RND() * (double)nw)];
      b->has_label = RND() < (it % 3 ? .9 : .2);
      /* A missing label as "" rather than the scanner's NULL: coco_map.c's
       * label_eq passes it to memcmp even when empty (UBSan objects). */
      b->label = b->has_label ? rk__str_make(w, strlen(w)) : rk__str_make("", 0);
    }
    rk__boxes gt = {gb, G, {0}, 0, 0}, pred = {pb, P, {0}, 0, 0};
    int use = it % 5 != 0, fold = it % 2;
    int *gc, *pc;
    rk__arena_reset(&a);
    ASSERT_TRUE(rk__box_categories(&call, &gt, &pred, use, fold, &gc, &pc) >= 1);
    int labelled = rk__box_labels_used(&gt, use);
    for (size_t i = 0; i < P; i++)
      for (size_t j = 0; j < G; j++)
        ASSERT_EQ_INT(rk__box_same_label(&pb[i], &gb[j], labelled, fold), pc[i] == gc[j]);
    if (rk_t_failed_) {
      fprintf(stderr, "  case %d: G %zu P %zu use %d fold %d\n", it, G, P, use, fold);
      break;
    }
  }
#undef RND
  rk__arena_release(&a);
}

TEST(categories_past_64) {
  /* 70 GT labels "c0".."c69" (first-seen ids 0..69), then " C5 " and
   * "c68\n" again; predictions " c69\t", "C0", "c70", "c6 9" and none.
   * By hand, folding: GT ids 0..69, 5, 68; predictions 69, 0, -1, -1,
   * -1. Ids past 63 are those the label cache of rk__box_categories does
   * not hold. */
  static char names[70][8];
  rk__box gb[72], pb[5];
  for (int k = 0; k < 72; k++) {
    gb[k] = XYWH(0, 0, 1, 1, 1);
    gb[k].has_label = 1;
    if (k < 70) {
      snprintf(names[k], sizeof names[k], "c%d", k);
      gb[k].label = rk__str_make(names[k], strlen(names[k]));
    }
  }
  gb[70].label = rk__str_make(" C5 ", 4);
  gb[71].label = rk__str_make("c68\n", 4);
  static const char *const pl[4] = {" c69\t", "C0", "c70", "c6 9"};
  for (int k = 0; k < 5; k++) {
    pb[k] = XYWH(0, 0, 1, 1, 1);
    pb[k].has_label = k < 4;
    pb[k].label = k < 4 ? rk__str_make(pl[k], strlen(pl[k])) : rk__str_make("", 0);
  }
  rk__boxes gt = {gb, 72, {0}, 0, 0}, pred = {pb, 5, {0}, 0, 0};
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__budget bud = {0, UINT64_MAX};
  rk__call call = {.arena = &a, .budget = &bud};
  int *gc, *pc;
  ASSERT_EQ_INT(rk__box_categories(&call, &gt, &pred, 1, 1, &gc, &pc), 70);
  for (int k = 0; k < 70; k++) ASSERT_EQ_INT(gc[k], k);
  ASSERT_EQ_INT(gc[70], 5);
  ASSERT_EQ_INT(gc[71], 68);
  const int want[5] = {69, 0, -1, -1, -1};
  for (int k = 0; k < 5; k++) ASSERT_EQ_INT(pc[k], want[k]);
  /* Without folding " C5 " and "C0" are new / unknown: 71 categories. */
  ASSERT_EQ_INT(rk__box_categories(&call, &gt, &pred, 1, 0, &gc, &pc), 71);
  ASSERT_EQ_INT(gc[70], 70);
  ASSERT_EQ_INT(gc[71], 68);
  ASSERT_EQ_INT(pc[0], 69);
  ASSERT_EQ_INT(pc[1], -1);
  /* The comparisons are charged: GT label k (2 or 3 bytes) is compared
   * with the k categories before it, k * (length + 1) + 1 steps, so the
   * 72 GT labels alone cost more than 5,000 (k * 3 + 1 for k < 10, k * 4
   * + 1 up to 69, then 70 * 5 + 1 twice): a budget of 5,000 runs out
   * (-2, TIMEOUT) instead of comparing on unbounded. */
  bud.used = 0;
  bud.limit = 5000;
  ASSERT_EQ_INT(rk__box_categories(&call, &gt, &pred, 1, 1, &gc, &pc), -2);
  rk__arena_release(&a);
}

/* ------------------------------------------------ detection (greedy) */

TEST(e2e_detection_vlmr1) {
  /* B7: 2 GT, one exact correctly-labelled prediction: pos = 1/2,
   * completeness = 1 - (1/2 + 0)/2 = .75; .7 * .5 + .3 * .75 = .575. */
  const char *ref = "\"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"cat\"},"
                    " {\"bbox_2d\": [50,50,60,60], \"label\": \"dog\"}]}";
  char rec[1024];
  snprintf(rec, sizeof rec, "{\"response\": \"```json\\n[{\\\"bbox_2d\\\": [0,0,10,10], "
                            "\\\"label\\\": \\\"cat\\\"}]\\n```\", %s", ref);
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}", rec);
  ASSERT_E2E(r, 0.575, "ok");
  ASSERT_CONTAINS(r.explain, "matched 1 of 2 gt at IoU>=0.5 (1 with the right label)");
  /* Wrong label: matched with IoU 0: .7 * 0 + .3 * .75 = .225. */
  snprintf(rec, sizeof rec, "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], "
                            "\\\"label\\\": \\\"dog\\\"}]\", %s", ref);
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}", rec);
  ASSERT_E2E(r, 0.225, "ok");
  /* beta 1 (label score), alpha 0, gamma 0: label = 1/2 / 1... with the
   * right label: correct/n_gt = .5. */
  snprintf(rec, sizeof rec, "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], "
                            "\\\"label\\\": \\\"cat\\\"}]\", %s", ref);
  r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"alpha\": 0, \"beta\": 1,"
                " \"gamma\": 0}}}", rec);
  ASSERT_E2E(r, 0.5, "ok");
  /* IoU .6 ([0,0,10,10] vs [0,0,10,6]... area 60/100 = .6), 1 GT, 1 pred:
   * pos .6, completeness 1: .7 * .6 + .3 = .72. Below the threshold
   * (IoU .25 with [0,0,5,5]): unmatched: completeness 1 - (1 + 1)/2 = 0. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                "{\"response\": \"[0,0,10,6]\", \"reference\": [[0,0,10,10]]}");
  ASSERT_E2E(r, 0.7 * 0.6 + 0.3, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                "{\"response\": \"[0,0,5,5]\", \"reference\": [[0,0,10,10]]}");
  ASSERT_E2E(r, 0, "ok");
  /* Empty GT: 1 with no predictions, else 0; no predictions: 0. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}", "{\"response\": \"None\", \"reference\": []}");
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                "{\"response\": \"[1,1,2,2]\", \"reference\": []}");
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                "{\"response\": \"nothing\", \"reference\": [[1,1,2,2]]}");
  ASSERT_E2E(r, 0, "ok");
}

/* VLM-R1's own conventions, the defaults of mode vlm_r1: labels
 * lower-cased as Python's str.lower() does, and its iou(): intersection
 * (min(x2 - 1) - max(x1) + 1) * (...) only when max(x1) < min(x2 - 1) (and
 * the same for y), union from the plain areas. One GT, one prediction. */
TEST(e2e_detection_vlmr1_conventions) {
  const char *spec = "{\"reward\": {\"fn\": \"detection\"}}";
  /* "Cat" vs "cat": lower-cased equal: pos 1, completeness 1: 1.
   * Compared exactly (ignore_case false): the match counts IoU 0: .3. */
  const char *rec = "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"Cat\\\"}]\","
                    " \"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"cat\"}]}";
  e2e_result r = e2e_score(spec, rec);
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"ignore_case\": false}}}", rec);
  ASSERT_E2E(r, 0.3, "ok");
  /* Beyond ASCII: "ÄPFEL".lower() == "äpfel" (1); "İstanbul".lower() is
   * "i" + U+0307 + "stanbul", not "istanbul" (.3). */
  r = e2e_score(spec, "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": "
                      "\\\"\xc3\x84PFEL\\\"}]\", \"reference\": [{\"bbox_2d\": [0,0,10,10], "
                      "\"label\": \"\xc3\xa4pfel\"}]}");
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(spec, "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": "
                      "\\\"\xc4\xb0stanbul\\\"}]\", \"reference\": [{\"bbox_2d\": [0,0,10,10], "
                      "\"label\": \"istanbul\"}]}");
  ASSERT_E2E(r, 0.3, "ok");
  r = e2e_score(spec, "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": "
                      "\\\"\xc4\xb0stanbul\\\"}]\", \"reference\": [{\"bbox_2d\": [0,0,10,10], "
                      "\"label\": \"i\xcc\x87stanbul\"}]}");
  ASSERT_E2E(r, 1, "ok");
  /* [0,0,1,1] against itself: VLM-R1's iou() has max(x1) = 0, not below
   * min(x2 - 1) = 0: intersection 0, IoU 0 < .5: no match, completeness
   * 1 - (1 + 1)/2 = 0: 0. The standard IoU is 1: score 1. */
  rec = "{\"response\": \"[0,0,1,1]\", \"reference\": [[0,0,1,1]]}";
  r = e2e_score(spec, rec);
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"variant\": \"standard\"}}}", rec);
  ASSERT_E2E(r, 1, "ok");
  /* [0,0,3,3] vs [0,1,3,3]: VLM-R1: x 0..2 -> 3, y from 1 to 2 -> 2:
   * intersection 6, union 9 + 6 - 6 = 9: IoU 2/3 (standard: 3 * 2 = 6,
   * the same). Score .7 * 2/3 + .3. [0,0,3,3] vs [0,2,3,3] (overlap of
   * one pixel row): VLM-R1 0 (2 is not below min(3, 3) - 1 = 2), standard
   * 3 / (9 + 3 - 3) = 1/3: both below .5: 0. */
  r = e2e_score(spec, "{\"response\": \"[0,0,3,3]\", \"reference\": [[0,1,3,3]]}");
  ASSERT_E2E(r, 0.7 * (2.0 / 3.0) + 0.3, "ok");
  /* At threshold 0.3 the one-row overlap matches only under the standard
   * IoU: .7 / 3 + .3; VLM-R1's gives 0 (unmatched). */
  rec = "{\"response\": \"[0,0,3,3]\", \"reference\": [[0,2,3,3]]}";
  r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"iou_threshold\": 0.3}}}", rec);
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"iou_threshold\": 0.3, "
                "\"variant\": \"standard\"}}}", rec);
  ASSERT_E2E(r, 0.7 / 3.0 + 0.3, "ok");
  /* visual_rft takes neither: no "variant", labels unused. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\", "
                "\"variant\": \"standard\"}}}", rec);
  ASSERT_TRUE(!r.ok);
}

/* Labels compared as Python's lower() of each: a capital sigma that ends
 * a word lowers to ς (text/pycase.h). From python3: "ΟΔΟΣ".lower() ==
 * "οδος", "AΣ".lower() == "aς" (the context reaches into an ASCII
 * prefix), "Σ".lower() == "σ", "ΑΣ'Α".lower() == "ασ'α",
 * " ΑΣ ".lower() == " ας ". */
TEST(label_final_sigma) {
  static const struct {
    const char *a, *b;
    int eq;
  } cases[] = {
      {"\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82", 1},
      {"\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x83", 0},
      {"A\xce\xa3", "a\xcf\x82", 1},
      {"A\xce\xa3", "a\xcf\x83", 0},
      {"\xce\xa3", "\xcf\x83", 1},
      {"\xce\xa3", "\xcf\x82", 0},
      {"\xce\x91\xce\xa3'\xce\x91", "\xce\xb1\xcf\x83'\xce\xb1", 1},
      {" \xce\x91\xce\xa3 ", "\xce\xb1\xcf\x82", 1},
      {"\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\x9f\xce\x94\xce\x9f\xce\xa3", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rk__str a = rk__str_make(cases[i].a, strlen(cases[i].a));
    rk__str b = rk__str_make(cases[i].b, strlen(cases[i].b));
    if (rk__box_label_eq(a, b, 1) != cases[i].eq || rk__box_label_eq(b, a, 1) != cases[i].eq)
      RK_T_FAIL_("case %zu: '%s' vs '%s' should be %s", i, cases[i].a, cases[i].b,
                 cases[i].eq ? "equal" : "different");
  }
  /* detection (vlm_r1): label "ΟΔΟΣ" against GT "οδος": 1 (a wrong label
   * would score .3, as in e2e_detection_vlmr1_conventions). The labels
   * are raw UTF-8 in the record, as in that test. */
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                           "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": "
                           "\\\"\xce\x9f\xce\x94\xce\x9f\xce\xa3\\\"}]\", \"reference\": "
                           "[{\"bbox_2d\": [0,0,10,10], \"label\": \"\xce\xbf\xce\xb4\xce\xbf\xcf\x82\"}]}");
  ASSERT_E2E(r, 1, "ok");
  /* coco_map with ignore_case: the label is the GT's category, not one of
   * its own (which would leave the box out: AP 0) */
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"ignore_case\": true}}}",
                "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": "
                "\\\"\xce\x9f\xce\x94\xce\x9f\xce\xa3\\\"}]\", \"reference\": "
                "[{\"bbox_2d\": [0,0,10,10], \"label\": \"\xce\xbf\xce\xb4\xce\xbf\xcf\x82\"}]}");
  ASSERT_E2E(r, 1, "ok");
}

TEST(e2e_detection_visual_rft) {
  /* B7: GT [0,0,10,10]; predictions [0,0,10,10]@.9, [50,50,60,60]@.5 ->
   * R_iou = 1 / max(1, 2) = .5, R_conf = (.9 + (1 - .5)) / 2 = .7. A
   * duplicate of the first position is dropped first. */
  const char *rec = "{\"response\": \"<answer>[{'Position': [50,50,60,60], 'Confidence': 0.5},"
                    " {'Position': [0,0,10,10], 'Confidence': 0.9},"
                    " {'Position': [50,50,60,60], 'Confidence': 0.2}]</answer>\","
                    " \"reference\": [[0,0,10,10]]}";
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\","
                           " \"output\": \"iou\"}}}", rec);
  ASSERT_E2E(r, 0.5, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\","
                " \"output\": \"confidence\"}}}", rec);
  ASSERT_E2E(r, 0.7, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\"}}}", rec);
  ASSERT_E2E(r, 1.2, "ok");
  ASSERT_CONTAINS(r.explain, "(2 after dropping duplicates); matched 1 of 1 gt at IoU>0.5");
  /* IoU exactly .5 does not match (strict): [0,0,10,5] vs [0,0,10,10]. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\","
                " \"output\": \"iou\"}}}",
                "{\"response\": \"[0,0,10,5]\", \"reference\": [[0,0,10,10]]}");
  ASSERT_E2E(r, 0, "ok");
  /* Both empty: 1 + 1. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\"}}}",
                "{\"response\": \"[]\", \"reference\": []}");
  ASSERT_E2E(r, 2, "ok");
}

TEST(e2e_visual_rft_confidences) {
  const char *conf = "{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\","
                     " \"output\": \"confidence\"}}}";
  const char *iou = "{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\","
                    " \"output\": \"iou\"}}}";
  const char *sum = "{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\"}}}";
  /* Above 1, clamped to 1: GT [0,0,10,10]; [0,0,10,10]@1.5 matched, earns
   * 1 (not 1.5); [50,50,60,60]@.5 unmatched, earns 1 - .5:
   * R_conf = (1 + .5) / 2 = .75 (unclamped: (1.5 + .5) / 2 = 1). */
  e2e_result r = e2e_score(conf, e2e_rec("[[0,0,10,10]]",
                                         "[{'Position': [0,0,10,10], 'Confidence': 1.5},"
                                         " {'Position': [50,50,60,60], 'Confidence': 0.5}]"));
  ASSERT_E2E(r, 0.75, "ok");
  ASSERT_CONTAINS(r.explain, "R_conf 0.75 (1 confidence outside [0, 1] clamped)");
  /* Below 0, clamped to 0: [0,0,10,10]@.5 matched earns .5;
   * [50,50,60,60]@-1 unmatched earns 1 - 0 = 1 (not 1 - (-1) = 2):
   * R_conf = (.5 + 1) / 2 = .75 (unclamped: 2.5 / 2, clipped to 1). */
  r = e2e_score(conf, e2e_rec("[[0,0,10,10]]",
                              "[{'Position': [0,0,10,10], 'Confidence': 0.5},"
                              " {'Position': [50,50,60,60], 'Confidence': -1}]"));
  ASSERT_E2E(r, 0.75, "ok");
  /* Clamped before the order: [0,0,10,8]@1 (IoU .8) then [0,0,10,9]@5
   * (IoU .9) are both at 1, visited in the answer's order: the first
   * takes the GT, R_iou = .8 / max(1, 2) = .4 (unclamped, the 5 goes
   * first: .9 / 2 = .45). */
  r = e2e_score(iou, e2e_rec("[[0,0,10,10]]",
                             "[{'Position': [0,0,10,8], 'Confidence': 1},"
                             " {'Position': [0,0,10,9], 'Confidence': 5}]"));
  ASSERT_E2E(r, 0.4, "ok");
  /* Not a number ("high"): counts as missing, 1. GT [0,0,10,10],
   * [20,20,30,30]; [0,0,10,10]@"high" matched earns 1, [50,50,60,60]@.25
   * unmatched earns .75: R_conf = 1.75 / 2 = .875; R_iou = 1 / max(2, 2)
   * = .5; sum 1.375. */
  r = e2e_score(sum, e2e_rec("[[0,0,10,10], [20,20,30,30]]",
                             "[{'Position': [0,0,10,10], 'Confidence': 'high'},"
                             " {'Position': [50,50,60,60], 'Confidence': 0.25}]"));
  ASSERT_E2E(r, 1.375, "ok");
  /* Empty GT, boxes predicted: nothing matches; R_iou = 0 / max(0, 2) =
   * 0; R_conf = ((1 - .2) + (1 - .6)) / 2 = .6: sum .6. Without a
   * confidence (1): R_conf = 1 - 1 = 0, sum 0. */
  r = e2e_score(sum, e2e_rec("[]", "[{'Position': [0,0,10,10], 'Confidence': 0.2},"
                                   " {'Position': [50,50,60,60], 'Confidence': 0.6}]"));
  ASSERT_E2E(r, 0.6, "ok");
  r = e2e_score(sum, e2e_rec("[]", "[0,0,10,10]"));
  ASSERT_E2E(r, 0, "ok");
  /* An empty answer against a GT: R_iou = 0 / max(1, 0) = 0; R_conf = 0
   * (no prediction to average): 0. */
  r = e2e_score(sum, e2e_rec("[[0,0,10,10]]", ""));
  ASSERT_E2E(r, 0, "ok");
  /* Zero-area prediction [5,5,5,9]@.3: IoU 0 with [0,0,10,10], unmatched:
   * R_iou 0, R_conf 1 - .3 = .7. */
  r = e2e_score(sum, e2e_rec("[[0,0,10,10]]", "[{'Position': [5,5,5,9], 'Confidence': 0.3}]"));
  ASSERT_E2E(r, 0.7, "ok");
}

/* ----------------------------------------------- detection_hungarian */

TEST(e2e_detection_hungarian) {
  /* GT cat [0,0,10,10], dog [20,20,30,30]; predictions cat [0,0,10,10]
   * (GIoU 1) and dog [20,20,30,40]: I = 100, U = 200, IoU .5, C = 200,
   * GIoU .5.
   * No step: recall = (m(1;.5,.5) + m(.5;.5,.5)) / 2 = (1 + .5)/2 = .75;
   * precision = (1 + .5)/2 = .75; format 1 (a valid JSON list);
   * total (.75 + .75 + 1)/3. */
  const char *rec = "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"Cat\\\"},"
                    " {\\\"bbox_2d\\\": [20,20,30,40], \\\"label\\\": \\\"dog\\\"}]\","
                    " \"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"cat\"},"
                    " {\"bbox_2d\": [20,20,30,30], \"label\": \"dog\"}], \"global_step\": 2000}";
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\"}}", rec);
  ASSERT_E2E(r, (0.75 + 0.75 + 1) / 3, "ok");
  ASSERT_CONTAINS(r.explain, "Hungarian matched 2 pairs with 2 gt; no step");
  /* Early step: recall .75 -> m(.75;.5,.75) = .75; precision
   * (m(1;.5,.75) + m(.5;.5,.75))/2 = (1 + .5)/2 = .75. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"step\": 100,"
                " \"output\": \"pr_mean\"}}}", rec);
  ASSERT_E2E(r, 0.75, "ok");
  /* Late step from the record (2000 >= 1500): recall (1 + 0)/2 = .5 ->
   * m(.5;.5,.75) = .5; precision (m(1;.75,.9) + m(.5;.75,.9))/2 = .5. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"step_field\":"
                " \"global_step\", \"output\": \"recall\"}}}", rec);
  ASSERT_E2E(r, 0.5, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"step_field\":"
                " \"global_step\", \"output\": \"precision\"}}}", rec);
  ASSERT_E2E(r, 0.5, "ok");
  /* The class term decides between two equally placed predictions:
   * both at [0,0,10,10], labels dog then cat, one GT cat: the cat
   * prediction is matched (cost 0 - 1 - 1 = -2 vs -1): precision
   * (1)/2 with GIoU 1, recall 1. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"output\": \"pr_mean\"}}}",
                "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"dog\\\"},"
                " {\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"cat\\\"}]\","
                " \"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"cat\"}]}");
  ASSERT_E2E(r, (0.5 + 1) / 2, "ok");
  /* Fewer predictions than GTs (the matrix is built with predictions as
   * rows; above, with more predictions, with GTs as rows): dog
   * [20,20,30,40] goes to the dog GT (L1 10, GIoU .5: cost 10 - 1 - .5)
   * rather than the cat (L1 90, GIoU 0 - (1200 - 300) / 1200: cost 90 -
   * 0 + .75): precision m(.5;0,1) = .5, recall m(.5;.5,.5) / 2 = .25. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"output\": \"pr_mean\"}}}",
                "{\"response\": \"[{\\\"bbox_2d\\\": [20,20,30,40], \\\"label\\\": \\\"dog\\\"}]\","
                " \"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"cat\"},"
                " {\"bbox_2d\": [20,20,30,30], \"label\": \"dog\"}]}");
  ASSERT_E2E(r, (0.5 + 0.25) / 2, "ok");
  /* Vision-R1 keeps only boxes with x1 < x2 and y1 < y2: the zero-width
   * [5,5,5,9] is dropped, leaving P = 1: precision 1, recall 1. Kept
   * (drop_degenerate false): P = 2, precision 1/2 -> (0.5 + 1)/2. */
  const char *deg = "{\"response\": \"[0,0,10,10] [5,5,5,9]\", \"reference\": [[0,0,10,10]]}";
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"output\": \"pr_mean\"}}}", deg);
  ASSERT_E2E(r, 1, "ok");
  ASSERT_CONTAINS(r.explain, "1 predicted box (1 invalid dropped: 1 zero width or height)");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"output\": \"pr_mean\","
                " \"drop_degenerate\": false}}}", deg);
  ASSERT_E2E(r, 0.75, "ok");
  /* No GT and no prediction: precision = recall = 1; the format reward is
   * inverted for empty GT ("[]" parses: 1 -> 0): (1 + 1 + 0)/3. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\"}}",
                "{\"response\": \"[]\", \"reference\": []}");
  ASSERT_E2E(r, 2.0 / 3.0, "ok");
  /* Too many boxes: a clear error. */
  static char big[20000];
  size_t o = (size_t)snprintf(big, sizeof big, "{\"response\": \"");
  for (int i = 0; i < 301; i++) o += (size_t)snprintf(big + o, sizeof big - o, "[0,0,%d,1]", i + 1);
  snprintf(big + o, sizeof big - o, "\", \"reference\": [[0,0,1,1]]}");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\"}}", big);
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.error, "max_boxes=300");
}

TEST(e2e_detection_hungarian_vr1_reader) {
  /* parser "vision_r1": Vision-R1's extract() (a JSON list of bbox_2d
   * objects, coordinates through int(), else one fixed regex) instead of
   * the box scanner. GT cat [0,0,10,10]; output precision. */
#define HUN(args) "{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"output\": " \
                  "\"precision\"" args "}}}"
#define VR1 ", \"parser\": \"vision_r1\""
#define REC(resp) "{\"response\": \"" resp "\", \"reference\": [[\"cat\", [0, 0, 10, 10]]]}"
  /* int() truncates: [0.9,0.9,10.9,10.9] is [0,0,10,10] there, GIoU 1.
   * The scanner keeps the decimals: I = 9.1^2 = 82.81, U = 200 - 82.81 =
   * 117.19, C = 10.9^2 = 118.81, GIoU = 82.81/117.19 - 1.62/118.81. */
  const char *dec = REC("[{\\\"bbox_2d\\\": [0.9, 0.9, 10.9, 10.9], \\\"label\\\": \\\"cat\\\"}]");
  e2e_result r = e2e_score(HUN(VR1), dec);
  ASSERT_E2E(r, 1, "ok");
  ASSERT_CONTAINS(r.explain, "whole response (Vision-R1's reader)");
  r = e2e_score(HUN(""), dec);
  ASSERT_E2E(r, 82.81 / 117.19 - 1.62 / 118.81, "ok");
  /* Coordinates written as strings pass int() there; the scanner does not
   * read them as numbers. */
  const char *strs = REC("[{\\\"bbox_2d\\\": [\\\"0\\\", \\\" 0\\\", \\\"1_0\\\", \\\"+10\\\"], "
                         "\\\"label\\\": \\\"cat\\\"}]");
  r = e2e_score(HUN(VR1), strs);
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(HUN(""), strs);
  ASSERT_E2E(r, 0, "ok");
  /* int() and the regex's \\d read digits of every script: fullwidth
   * "１０" (U+FF11 U+FF10) and Arabic-Indic "١٠" (U+0661 U+0660) are 10;
   * "1__0" and "10_" are not integers (the box is skipped: precision 0
   * of 0 predictions). */
  r = e2e_score(HUN(VR1), REC("[{\\\"bbox_2d\\\": [0, 0, \\\"\\uff11\\uff10\\\", "
                              "\\\"\\u0661\\u0660\\\"], \\\"label\\\": \\\"cat\\\"}]"));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(HUN(VR1), REC("Here: {\\\"bbox_2d\\\": [0, 0, \xef\xbc\x91\xef\xbc\x90, "
                              "\xd9\xa1\xd9\xa0], \\\"label\\\": \\\"cat\\\"}"));
  ASSERT_E2E(r, 1, "ok");
  ASSERT_CONTAINS(r.explain, "1 predicted box ");
  r = e2e_score(HUN(VR1), REC("[{\\\"bbox_2d\\\": [0, 0, \\\"1__0\\\", 10], \\\"label\\\": "
                              "\\\"cat\\\"}, {\\\"bbox_2d\\\": [0, 0, \\\"10_\\\", 10]}]"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "0 predicted boxes");
  /* A box in prose is not read there, neither as JSON nor by the regex
   * (it needs the exact {"bbox_2d": [a, b, c, d], "label": "..."}). */
  const char *prose = REC("The cat is at [0, 0, 10, 10].");
  r = e2e_score(HUN(VR1), prose);
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "0 predicted boxes");
  r = e2e_score(HUN(""), prose);
  ASSERT_E2E(r, 1, "ok");
  /* Not JSON as a whole: the regex finds the exact form (a second object
   * with a space missing is not found; 1000 and 1-3 digits only). */
  r = e2e_score(HUN(VR1), REC("Here: {\\\"bbox_2d\\\": [0, 0, 10, 10], \\\"label\\\": \\\"cat\\\"}, "
                              "{\\\"bbox_2d\\\": [0,0, 10, 10], \\\"label\\\": \\\"cat\\\"}"));
  ASSERT_E2E(r, 1, "ok");
  ASSERT_CONTAINS(r.explain, "1 predicted box ");
  /* Python's json reads NaN: that item fails int() and is skipped, the
   * other one counts; the format part parses too: (1 + 1 + 1) / 3. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"parser\": \"vision_r1\"}}}",
                REC("```json\\n[{\\\"bbox_2d\\\": [0, 0, NaN, 10]}, "
                    "{\\\"bbox_2d\\\": [0, 0, 10, 10], \\\"label\\\": \\\"cat\\\"}]\\n```"));
  ASSERT_E2E(r, 1, "ok");
  /* Inverted boxes are dropped before scaling; coords 1000 scales the
   * rest: [0,0,50,100] of a 200 x 100 image is [0,0,10,10]. */
  r = e2e_score(HUN(VR1 ", \"coords\": \"1000\""),
                "{\"response\": \"[{\\\"bbox_2d\\\": [0, 0, 50, 100], \\\"label\\\": \\\"cat\\\"}, "
                "{\\\"bbox_2d\\\": [50, 0, 0, 100]}]\", \"reference\": [[\"cat\", [0, 0, 10, 10]]], "
                "\"width\": 200, \"height\": 100}");
  ASSERT_E2E(r, 1, "ok");
#undef HUN
#undef VR1
#undef REC
}

TEST(e2e_labels_unescaped) {
  /* A label written with JSON escapes is its text, as json.loads gives it
   * to the original rewards: "\u732b" is the label 猫 (and "caf\u00e9"
   * is "café"), in the answer and in a reference given as JSON. With the
   * raw escapes compared, each of these scored as a wrong label: 0.3 for
   * detection (alpha * pos 0 + gamma * completeness 1), 0 for coco_map
   * and detection_prf. */
  static const char *const fns[] = {"detection", "coco_map", "detection_prf"};
  for (int k = 0; k < 3; k++) {
    char spec[128];
    snprintf(spec, sizeof spec, "{\"reward\": {\"fn\": \"%s\"}}", fns[k]);
    e2e_result r = e2e_score(spec,
                             "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": "
                             "\\\"\\\\u732b\\\"}]\", \"reference\": [{\"bbox_2d\": [0,0,10,10], "
                             "\"label\": \"\xe7\x8c\xab\"}]}");
    ASSERT_E2E(r, 1, "ok");
    /* the reference's label escaped in the record's JSON, the answer's not */
    r = e2e_score(spec, "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": "
                        "\\\"caf\xc3\xa9\\\"}]\", \"reference\": [{\"bbox_2d\": [0,0,10,10], "
                        "\"label\": \"caf\\u00e9\"}]}");
    ASSERT_E2E(r, 1, "ok");
  }
  /* An invalid escape leaves the label as written (no match with 'cat'). */
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                           "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": "
                           "\\\"c\\\\qat\\\"}]\", \"reference\": [{\"bbox_2d\": [0,0,10,10], "
                           "\"label\": \"cat\"}]}");
  ASSERT_E2E(r, 0.3, "ok");
}

TEST(e2e_invalid_boxes_count) {
  /* A predicted box dropped as invalid (here x2 < x1) was still written by
   * the model: VLM-R1 keeps every item of the list (its IoU is 0), so it
   * is a false alarm, a false positive, a prediction in the length
   * penalty; before, junk boxes cost nothing. GT cat [0,0,10,10]. */
  const char *rec = "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"cat\\\"}, "
                    "{\\\"bbox_2d\\\": [10,10,0,0], \\\"label\\\": \\\"cat\\\"}]\", "
                    "\"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"cat\"}]}";
  /* detection (vlm_r1): pos 1, completeness 1 - (0 + 1/2)/2 = .75:
   * .7 + .3 * .75 = .925 (VLM-R1's detection_score gives the same). */
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}", rec);
  ASSERT_E2E(r, 0.925, "ok");
  /* detection_prf: precision 1/2, recall 1, F1 2/3. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\"}}", rec);
  ASSERT_E2E(r, 2.0 / 3.0, "ok");
  /* coco_map with the length penalty: AP 1 times G/P = 1/2; with a
   * third box of a label not in the reference, 1/3 (VLM-R1's
   * odLength_reward). */
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"length_penalty\": true}}}", rec);
  ASSERT_E2E(r, 0.5, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"length_penalty\": true}}}",
                "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"cat\\\"}, "
                "{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"zebra\\\"}, "
                "{\\\"bbox_2d\\\": [10,10,0,0], \\\"label\\\": \\\"cat\\\"}]\", "
                "\"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"cat\"}]}");
  ASSERT_E2E(r, 1.0 / 3.0, "ok");
  /* Mode vlm_r1 reads the first ```json block, as detection_score's
   * re.search: a right first block and a wrong second one score 1 (the
   * last block would score 0.3 * (1 - (1 + 1)/2) = 0). */
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                "{\"response\": \"<answer>```json\\n[{\\\"bbox_2d\\\": [0,0,10,10], "
                "\\\"label\\\": \\\"cat\\\"}]\\n```\\nor\\n```json\\n[{\\\"bbox_2d\\\": "
                "[50,50,60,60], \\\"label\\\": \\\"cat\\\"}]\\n```</answer>\", "
                "\"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"cat\"}]}");
  ASSERT_E2E(r, 1, "ok");
  /* No objects in the image: an answer of only invalid boxes predicted
   * something (VLM-R1: 0), both rewards. */
  const char *none = "{\"response\": \"[{\\\"bbox_2d\\\": [10,10,0,0]}]\", \"reference\": []}";
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}", none);
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\"}}", none);
  ASSERT_E2E(r, 0, "ok");
}

TEST(e2e_items_without_box_count) {
  /* VLM-R1 takes every item of the answer's JSON list as a prediction
   * (`[item for item in json.loads(block)]`); one without a box gets IoU
   * 0 (its iou() raises, caught). GT cat [0,0,10,10]. */
#define ANS(items) "{\"response\": \"<answer>```json\\n[" items "]\\n```</answer>\", "
  const char *gt = "\"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"cat\"}]}";
  char rec[512];
  /* detection: the cat matches (IoU 1 by VLM-R1's iou(): 10 x 10 of 100),
   * the label-only dog is a false alarm: pos 1, completeness 1 - (0 +
   * 1/2)/2 = .75: .7 + .3 * .75 = .925; before, the dog was not counted
   * and the answer scored 1. A string item counts the same. */
  snprintf(rec, sizeof rec, ANS("{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"cat\\\"}, "
                                "{\\\"label\\\": \\\"dog\\\"}") "%s", gt);
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}", rec);
  ASSERT_E2E(r, 0.925, "ok");
  ASSERT_CONTAINS(r.explain, "false alarms include 0 invalid boxes and 1 list item without a box");
  /* coco_map with the length penalty (odLength_reward): AP 1 (the dog is
   * dropped from the COCO results, its label is not in the GT), times
   * n_gt / n_pred = 1/2. */
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"length_penalty\": true}}}", rec);
  ASSERT_E2E(r, 0.5, "ok");
  ASSERT_CONTAINS(r.explain, "(1 gt < 2 predicted)");
  snprintf(rec, sizeof rec, ANS("{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"cat\\\"}, "
                                "\\\"dog\\\"") "%s", gt);
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}", rec);
  ASSERT_E2E(r, 0.925, "ok");
  /* No objects in the image: a list holding only a label predicted
   * something: 0 for both (VLM-R1's "no GT: 1 if no predictions, else
   * 0" and map_reward's "one side empty: 0"); before, 1. */
  const char *none = ANS("{\\\"label\\\": \\\"dog\\\"}") "\"reference\": []}";
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}", none);
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "no objects but something predicted: 0");
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\"}}", none);
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "no objects but something predicted: 0");
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                ANS("") "\"reference\": []}");
  ASSERT_E2E(r, 1, "ok");
  /* A list of four numbers is read as one box, not as four items (VLM-R1
   * would count four and score 0; the scanner is more lenient here). */
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                ANS("0, 0, 10, 10") "\"reference\": [[0, 0, 10, 10]]}");
  ASSERT_E2E(r, 1, "ok");
  /* A list json.loads cannot read (a trailing comma) is still read, as
   * the scanner reads broken JSON: the cat matches and the dog is an item
   * without a box, .925 (VLM-R1 gives 0 there: no predictions; the
   * documented leniency). */
  snprintf(rec, sizeof rec, ANS("{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"cat\\\"}, "
                                "{\\\"label\\\": \\\"dog\\\"},") "%s", gt);
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}", rec);
  ASSERT_E2E(r, 0.925, "ok");
  /* Only a list the answer opens with is a list of items: bracketed
   * words in prose are not predictions; a string in the list is one. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                "{\"response\": \"I see [cat, dog] at [0,0,10,10]\", "
                "\"reference\": [[0,0,10,10]]}");
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}",
                "{\"response\": \"[[0,0,10,10], \\\"dog\\\"]\", "
                "\"reference\": [[0,0,10,10]]}");
  ASSERT_E2E(r, 0.925, "ok");
  /* Visual-RFT mode and detection_prf do not follow VLM-R1 here. */
  snprintf(rec, sizeof rec, ANS("{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"cat\\\"}, "
                                "{\\\"label\\\": \\\"dog\\\"}") "%s", gt);
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\"}}", rec);
  ASSERT_E2E(r, 1, "ok");
#undef ANS
}

TEST(e2e_strict_json) {
  /* strict_json: VLM-R1 reads only a complete ```json block that
   * json.loads reads (detection_score: the first, on the lower-cased
   * answer; map_reward: the last); anything else is no prediction.
   * GT cat [0,0,10,10]. */
#define GT "\"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"cat\"}]}"
#define CAT "{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"cat\\\"}"
  const char *det = "{\"reward\": {\"fn\": \"detection\", \"args\": {\"strict_json\": true}}}";
  const char *map = "{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"strict_json\": true}}}";
  /* A list cut by the length limit: leniently the cat and one truncated
   * box (.925); strictly nothing (0), as json.loads fails. */
  const char *cut = "{\"response\": \"<answer>```json\\n[" CAT ", {\\\"bbox_2d\\\": [5\\n```</answer>\", " GT;
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"detection\"}}", cut);
  ASSERT_E2E(r, 0.925, "ok");
  r = e2e_score(det, cut);
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "a ```json block json.loads cannot read (strict_json: no prediction)");
  r = e2e_score(map, cut);
  ASSERT_E2E(r, 0, "ok");
  /* No fence at all: leniently 1, strictly 0. */
  const char *bare = "{\"response\": \"<answer>[" CAT "]</answer>\", " GT;
  r = e2e_score(det, bare);
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "no complete ```json block");
  /* detection_score lower-cases the answer first: ```JSON is a block. */
  r = e2e_score(det, "{\"response\": \"<answer>```JSON\\n[" CAT "]\\n```</answer>\", " GT);
  ASSERT_E2E(r, 1, "ok");
  /* map_reward reads the last block: an empty first block, the cat in
   * the second: 1; the other way round, the last is [] against one cat:
   * 0 (one side empty). */
  r = e2e_score(map, "{\"response\": \"<answer>```json\\n[]\\n``` or ```json\\n[" CAT "]\\n```</answer>\", " GT);
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(map, "{\"response\": \"<answer>```json\\n[" CAT "]\\n``` or ```json\\n[]\\n```</answer>\", " GT);
  ASSERT_E2E(r, 0, "ok");
  /* Valid JSON reads as without the option (the items rule included). */
  r = e2e_score(det, "{\"response\": \"<answer>```json\\n[" CAT ", {\\\"label\\\": \\\"dog\\\"}]\\n```</answer>\", " GT);
  ASSERT_E2E(r, 0.925, "ok");
  char buf[512];
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\", "
                                 "\"strict_json\": true}}}", buf, sizeof buf),
                  "strict_json");
#undef GT
#undef CAT
}

/* ----------------------------------------------------- detection_prf */

TEST(e2e_detection_prf) {
  /* GT [0,0,10,10], [20,20,30,30]; predictions [0,0,10,10] (IoU 1),
   * [15,20,25,30] (IoU 50/150 = 1/3 with the 2nd GT), [100,100,110,110].
   * t = .5: TP 1: P 1/3, R 1/2, F1 = (1/3)/(5/6) = .4;
   * t = .3: TP 2: P 2/3, R 1, F1 = (4/3)/(5/3) = .8. */
  const char *rec = "{\"response\": \"[0,0,10,10] [15,20,25,30] [100,100,110,110]\","
                    " \"reference\": [[0,0,10,10], [20,20,30,30]]}";
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\"}}", rec);
  ASSERT_E2E(r, 0.4, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"thresholds\": [0.3, 0.5]}}}", rec);
  ASSERT_E2E(r, 0.6, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"thresholds\": 0.3,"
                " \"matching\": \"hungarian\"}}}", rec);
  ASSERT_E2E(r, 0.8, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"output\": \"precision\"}}}", rec);
  ASSERT_E2E(r, 1.0 / 3.0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"output\": \"recall\"}}}", rec);
  ASSERT_E2E(r, 0.5, "ok");
  /* weighted, lambda .25: .25 * 1/3 + .75 * 1/2 = 1/12 + 3/8 = 11/24. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"output\": \"weighted\","
                " \"lambda\": 0.25}}}", rec);
  ASSERT_E2E(r, 11.0 / 24.0, "ok");
  /* Labels must agree: same boxes, wrong label -> TP 0. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\"}}",
                "{\"response\": \"[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"b\\\"}]\","
                " \"reference\": [{\"bbox_2d\": [0,0,10,10], \"label\": \"a\"}]}");
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\"}}", "{\"response\": \"\", \"reference\": []}");
  ASSERT_E2E(r, 1, "ok");
  char buf[512];
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"thresholds\": [2]}}}",
                                 buf, sizeof buf),
                  "thresholds");
  /* A threshold of 0 is refused: [50,50,60,60] does not touch [0,0,10,10]
   * (IoU 0) and would have been a true positive (reward 1). */
  {
    e2e_result z = e2e_score("{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"thresholds\": 0}}}",
                             "{\"response\": \"[50,50,60,60]\", \"reference\": [[0,0,10,10]]}");
    ASSERT_TRUE(!z.ok);
    ASSERT_CONTAINS(z.error, "0 would count boxes that do not overlap");
  }
}

/* ------------------------------------------ empty and degenerate inputs */

TEST(e2e_empty_and_degenerate) {
  const char *hun = "{\"reward\": {\"fn\": \"detection_hungarian\"}}";
  const char *hun_pr = "{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"output\":"
                       " \"pr_mean\"}}}";
  const char *prf = "{\"reward\": {\"fn\": \"detection_prf\"}}";
  const char *det = "{\"reward\": {\"fn\": \"detection\"}}";
  const char *det_drop = "{\"reward\": {\"fn\": \"detection\", \"args\": {\"drop_degenerate\": true}}}";
  const char *map = "{\"reward\": {\"fn\": \"coco_map\"}}";
  /* detection_hungarian, empty GT and a box predicted: precision =
   * recall = 0. The format part is inverted for empty GT: a JSON answer
   * (format 1) gives (0 + 0 + 0) / 3 = 0, an answer that is not JSON
   * (format 0, inverted 1) (0 + 0 + 1) / 3 = 1/3; pr_mean 0 either way. */
  ASSERT_E2E(e2e_score(hun, e2e_rec("[]", "[[0,0,10,10]]")), 0, "ok");
  ASSERT_E2E(e2e_score(hun, e2e_rec("[]", "I see [0,0,10,10]")), 1.0 / 3.0, "ok");
  ASSERT_E2E(e2e_score(hun_pr, e2e_rec("[]", "I see [0,0,10,10]")), 0, "ok");
  /* detection_prf: one side empty: 0 (an empty answer; an empty list of
   * GT with a box predicted). */
  e2e_result r = e2e_score(prf, e2e_rec("[[0,0,10,10]]", ""));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "one side empty: 0");
  ASSERT_E2E(e2e_score(prf, e2e_rec("[]", "[0,0,10,10]")), 0, "ok");
  /* Zero-area boxes are valid and score IoU 0.
   * detection (vlm_r1): GT [0,0,10,10], prediction [5,5,5,9] unmatched:
   * pos 0, completeness 1 - (1/1 + 1/1) / 2 = 0: 0; it is counted as a
   * prediction. The same zero-area box on both sides: IoU 0, 0. With
   * drop_degenerate it is dropped: nothing predicted, 0. */
  r = e2e_score(det, e2e_rec("[[0,0,10,10]]", "[5,5,5,9]"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "1 predicted box from");
  ASSERT_E2E(e2e_score(det, e2e_rec("[[5,5,5,9]]", "[5,5,5,9]")), 0, "ok");
  r = e2e_score(det_drop, e2e_rec("[[0,0,10,10]]", "[5,5,5,9]"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "0 predicted boxes (1 invalid dropped: 1 zero width or height)");
  /* detection_prf: [0,0,10,10] (IoU 1) and [5,5,5,9] (IoU 0) against GT
   * [0,0,10,10]: TP 1, P 1/2, R 1, F1 = 2 (1/2) / (3/2) = 2/3. */
  ASSERT_E2E(e2e_score(prf, e2e_rec("[[0,0,10,10]]", "[0,0,10,10] [5,5,5,9]")), 2.0 / 3.0, "ok");
  /* coco_map: the zero-area box first, then the exact one, both scored
   * 1.0 (answer order): a false positive, then a true positive. rc =
   * [0, 1], precision [0, 1/2] made monotone [1/2, 1/2]; every recall
   * threshold reads 1/2 (1 / (2 + eps)), at every IoU threshold: AP .5.
   * The zero-area box's area 0 lies in the "all" range [0, 1e10], so it
   * is not ignored. */
  ASSERT_E2E(e2e_score(map, e2e_rec("[[0,0,10,10]]", "[5,5,5,9] [0,0,10,10]")), 0.5, "ok");
}

/* ------------------------------------------- references with no box */

/* The multi-box rewards, each with its value when both sides are empty
 * (docs/rewards/vision.md): detection vlm_r1 1; visual_rft R_iou 1 +
 * R_conf 1 = 2; detection_hungarian precision 1, recall 1 and the format
 * part inverted for empty ground truth (the empty answer "" is not JSON:
 * format 0, inverted 1), (1 + 1 + 1) / 3 = 1; detection_prf 1; coco_map
 * 1. */
static const char *const g_multi_fn[] = {"detection", "detection", "detection_hungarian",
                                         "detection_prf", "coco_map"};
static const char *const g_multi_args[] = {"", "\"mode\": \"visual_rft\"", "", "", ""};
static const double g_multi_empty[] = {1, 2, 1, 1, 1};

TEST(e2e_reference_with_no_box) {
  /* A reference that holds no box and is not an empty list is a broken
   * row: invalid_reference, naming what it was, never "no objects" (which
   * would give the empty answer 1). */
  static const char *const bad[][2] = {
      {"null", "reference is null, not a list of boxes"},
      {"42", "reference is the number 42, not a list of boxes"},
      {"true", "reference is true, not a list of boxes"},
      {"\"garbage\"", "reference is a string with no box in it (\"garbage\")"},
      {"\"[1, 2]\"", "reference is a string with no box in it (\"[1, 2]\")"},
      {"\"[] [1]\"", "reference is a string with no box in it (\"[] [1]\")"},
      {"\"Nonexistent\"", "reference is a string with no box in it (\"Nonexistent\")"},
      {"[1, 2]", "reference is a list of 2 items with no box in it ([1, 2])"},
      {"{\"a\": 1}", "reference is an object with no box in it ({\"a\": 1})"}};
  /* Empty ground truth on purpose: an empty list, as JSON or in a string
   * (alone or in a code fence). */
  static const char *const empty[] = {"[]", "\"[]\"", "\"```json\\n[ ]\\n```\"",
                                      "\"no objects: []\"",
                                      /* VLM-R1's datasets: the solution "None" */
                                      "\"None\"", "\" none. \""};
  for (size_t f = 0; f < sizeof g_multi_fn / sizeof g_multi_fn[0]; f++) {
    static char spec[2048]; /* e2e_spec's buffer is reused by the next call */
    memcpy(spec, e2e_spec(g_multi_fn[f], g_multi_args[f]), sizeof spec);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      e2e_result r = e2e_score(spec, e2e_rec(bad[k][0], ""));
      ASSERT_EQ_STR(r.status, "invalid_reference");
      ASSERT_CONTAINS(r.explain, bad[k][1]);
      ASSERT_CONTAINS(r.explain, "an image with no objects is written []");
      if (rk_t_failed_) {
        fprintf(stderr, "  %s %s, reference %s\n", g_multi_fn[f], g_multi_args[f], bad[k][0]);
        return;
      }
    }
    for (size_t k = 0; k < sizeof empty / sizeof empty[0]; k++) {
      ASSERT_E2E(e2e_score(spec, e2e_rec(empty[k], "")), g_multi_empty[f], "ok");
      if (rk_t_failed_) {
        fprintf(stderr, "  %s %s, reference %s\n", g_multi_fn[f], g_multi_args[f], empty[k]);
        return;
      }
    }
    /* No reference at all: invalid, as before. */
    e2e_result r = e2e_score(spec, "{\"response\": \"\"}");
    ASSERT_EQ_STR(r.status, "invalid_reference");
    ASSERT_CONTAINS(r.explain, "record has no reference");
  }
}

/* ------------------------------------------ [label, box] references */

/* A record whose response is RESP (an escaped JSON string body) and whose
 * reference is REF (raw JSON); static buffer. */
static const char *rec2(const char *resp, const char *ref, const char *extra) {
  static char buf[2048];
  snprintf(buf, sizeof buf, "{\"response\": \"%s\", \"reference\": %s%s}", resp, ref, extra);
  return buf;
}

TEST(e2e_label_pairs_hungarian) {
  /* Vision-R1's ground truth [[label, box], ...]. The labels reach the
   * class term of the cost L1 - [class match] - GIoU. */
  const char *hun = "{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"output\": \"pr_mean\"}}}";
  const char *hun_nl = "{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"output\": \"pr_mean\","
                       " \"use_labels\": false}}}";
  /* A tie that only the label decides: one prediction [5,0,15,10] between
   * cat [0,0,10,10] and dog [10,0,20,10]. To each: L1 = 5 + 0 + 5 + 0 =
   * 10; I = 5*10 = 50, U = 100 + 100 - 50 = 150, IoU 1/3, C = 15*10 =
   * 150, GIoU 1/3; cost 10 - 1/3 - [label]. Labelled dog it goes to dog
   * (the explanation counts the same-label pair); either way precision
   * = 1/3, recall = m(1/3; .5, .5)/2 = 0: pr_mean 1/6. */
  const char *gt2 = "[[\"cat\", [0,0,10,10]], [\"dog\", [10,0,20,10]]]";
  e2e_result r = e2e_score(hun, rec2("[{\\\"bbox_2d\\\": [5,0,15,10], \\\"label\\\": \\\"dog\\\"}]", gt2, ""));
  ASSERT_E2E(r, 1.0 / 6.0, "ok");
  ASSERT_CONTAINS(r.explain, "1 of 1 matched pairs with the same label");
  r = e2e_score(hun, rec2("[{\\\"bbox_2d\\\": [5,0,15,10], \\\"label\\\": \\\"cat\\\"}]", gt2, ""));
  ASSERT_CONTAINS(r.explain, "1 of 1 matched pairs with the same label");
  r = e2e_score(hun, rec2("[{\\\"bbox_2d\\\": [5,0,15,10], \\\"label\\\": \\\"bird\\\"}]", gt2, ""));
  ASSERT_CONTAINS(r.explain, "0 of 1 matched pairs with the same label");
  /* The label changes the reward. GT cat [0,0,10,10]; predictions A dog
   * [0,0,10,10] (L1 0, GIoU 1) and B cat [0,0,10,10.5] (L1 .5; I = 100,
   * U = 105, C = 105: GIoU = 100/105). Costs with labels: A 0 - 0 - 1 =
   * -1, B .5 - 1 - 100/105 = -1.452: B is matched; precision (100/105)/2,
   * recall m(100/105; .5, .5) = 1: pr_mean (100/210 + 1)/2 = 31/42.
   * Without labels: A -1, B .5 - 100/105 = -.452: A is matched;
   * precision 1/2, recall 1: .75. */
  const char *ab = "[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"dog\\\"},"
                   " {\\\"bbox_2d\\\": [0,0,10,10.5], \\\"label\\\": \\\"cat\\\"}]";
  r = e2e_score(hun, rec2(ab, "[[\"cat\", [0,0,10,10]]]", ""));
  ASSERT_E2E(r, 31.0 / 42.0, "ok");
  r = e2e_score(hun_nl, rec2(ab, "[[\"cat\", [0,0,10,10]]]", ""));
  ASSERT_E2E(r, 0.75, "ok");
  /* The same reference read without its label (the old reading, or a bare
   * box list): one category, A wins: .75. */
  r = e2e_score(hun, rec2(ab, "[[0,0,10,10]]", ""));
  ASSERT_E2E(r, 0.75, "ok");
  /* Python-quoted pairs in a string reference work the same. */
  r = e2e_score(hun, rec2(ab, "\"[['cat', [0,0,10,10]]]\"", ""));
  ASSERT_E2E(r, 31.0 / 42.0, "ok");
  /* Vision-R1's setting: answers in 0-1000 (coords "1000"), GT pairs in
   * pixels of a 200x100 image: [0,0,50,100] -> [0,0,10,10], [500,0,600,100]
   * -> [100,0,120,10], both exact: precision 1, recall 1, format 1 (a
   * JSON list in a ```json fence): (1 + 1 + 1)/3. */
  r = e2e_score("{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"coords\": \"1000\"}}}",
                rec2("```json\\n[{\\\"bbox_2d\\\": [0,0,50,100], \\\"label\\\": \\\"cat\\\"},"
                     " {\\\"bbox_2d\\\": [500,0,600,100], \\\"label\\\": \\\"dog\\\"}]\\n```",
                     "[[\"cat\", [0,0,10,10]], [\"dog\", [100,0,120,10]]]",
                     ", \"width\": 200, \"height\": 100"));
  ASSERT_E2E(r, 1.0, "ok");
  ASSERT_CONTAINS(r.explain, "2 of 2 matched pairs with the same label");
}

TEST(e2e_label_pairs_greedy) {
  /* detection (VLM-R1): the label does not change the matching but a
   * wrong one scores IoU 0. GT pairs cat [0,0,10,10], dog [50,50,60,60];
   * one exact prediction: cat: pos 1/2, completeness .75: .7*.5 + .3*.75
   * = .575; dog: pos 0: .3*.75 = .225 (read without labels, both .575). */
  const char *gt = "[[\"cat\", [0,0,10,10]], [\"dog\", [50,50,60,60]]]";
  const char *det = "{\"reward\": {\"fn\": \"detection\"}}";
  e2e_result r = e2e_score(det, rec2("[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"cat\\\"}]", gt, ""));
  ASSERT_E2E(r, 0.575, "ok");
  r = e2e_score(det, rec2("[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"dog\\\"}]", gt, ""));
  ASSERT_E2E(r, 0.225, "ok");
  ASSERT_CONTAINS(r.explain, "matched 1 of 2 gt at IoU>=0.5 (0 with the right label)");
  /* The response may use the same pair shape. */
  r = e2e_score(det, rec2("[[\\\"dog\\\", [0,0,10,10]]]", gt, ""));
  ASSERT_E2E(r, 0.225, "ok");
  r = e2e_score(det, rec2("[[\\\"cat\\\", [0,0,10,10]]]", gt, ""));
  ASSERT_E2E(r, 0.575, "ok");

  /* detection_prf: greedy matching only pairs boxes of the same label.
   * GT cat [0,0,10,10], dog [2,0,12,10]; P0 dog [1,0,11,10] is equally
   * close to both (I = 9*10 = 90, U = 110: IoU 9/11 each); P1 cat
   * [-1,0,9,10]: 9/11 with cat, 70/130 = 7/13 with dog. At t = .6:
   * with labels P0-dog and P1-cat: TP 2, F1 1. Without: the first of the
   * tied 9/11 pairs in row-major order, P0-cat, then P1 has only dog
   * (7/13 < .6): TP 1, P = R = 1/2, F1 .5. */
  const char *gt3 = "[[\"cat\", [0,0,10,10]], [\"dog\", [2,0,12,10]]]";
  const char *p3 = "[{\\\"bbox_2d\\\": [1,0,11,10], \\\"label\\\": \\\"dog\\\"},"
                   " {\\\"bbox_2d\\\": [-1,0,9,10], \\\"label\\\": \\\"cat\\\"}]";
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"thresholds\": 0.6}}}",
                rec2(p3, gt3, ""));
  ASSERT_E2E(r, 1.0, "ok");
  ASSERT_CONTAINS(r.explain, "greedy matched 2 of 2 gt at IoU>=0.6");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"thresholds\": 0.6,"
                " \"use_labels\": false}}}",
                rec2(p3, gt3, ""));
  ASSERT_E2E(r, 0.5, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"thresholds\": 0.6}}}",
                rec2(p3, "[[0,0,10,10], [2,0,12,10]]", ""));
  ASSERT_E2E(r, 0.5, "ok");

  /* coco_map: categories from the pair labels. Each category exact: AP
   * 1 - 2.2e-16 (pycocotools' eps); labels swapped: nothing matches, 0;
   * swapped without labels: one category, 1. */
  const char *cm = "{\"reward\": {\"fn\": \"coco_map\"}}";
  const char *right = "[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"cat\\\"},"
                      " {\\\"bbox_2d\\\": [50,50,60,60], \\\"label\\\": \\\"dog\\\"}]";
  const char *swapped = "[{\\\"bbox_2d\\\": [0,0,10,10], \\\"label\\\": \\\"dog\\\"},"
                        " {\\\"bbox_2d\\\": [50,50,60,60], \\\"label\\\": \\\"cat\\\"}]";
  r = e2e_score(cm, rec2(right, gt, ""));
  ASSERT_NEAR(r.reward, 1, 1e-15);
  ASSERT_CONTAINS(r.explain, "2 reference boxes in 2 categories");
  r = e2e_score(cm, rec2(swapped, gt, ""));
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"use_labels\": false}}}",
                rec2(swapped, gt, ""));
  ASSERT_NEAR(r.reward, 1, 1e-15);
}

/* ------------------------------------------------------------- count */

TEST(e2e_count) {
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"count\"}}",
                           "{\"response\": \"<answer>There are 3 cats.</answer>\", \"reference\": 3}");
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"count\"}}",
                "{\"response\": \"I see three.\", \"reference\": \"3\"}");
  ASSERT_E2E(r, 1, "ok");
  /* Boxes counted: 2 boxes vs a reference list of 3 boxes. */
  r = e2e_score("{\"reward\": {\"fn\": \"count\"}}",
                "{\"response\": \"[0,0,1,1] [2,2,3,3]\", \"reference\": [[0,0,1,1],[1,1,2,2],[5,5,6,6]]}");
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"count\", \"args\": {\"tolerance\": 1}}}",
                "{\"response\": \"[0,0,1,1] [2,2,3,3]\", \"reference\": 3}");
  ASSERT_E2E(r, 1, "ok");
  /* relative: 1 - |4 - 5| / 5 = .8; 1 - |12 - 5|/5 < 0 -> 0. */
  r = e2e_score("{\"reward\": {\"fn\": \"count\", \"args\": {\"scoring\": \"relative\"}}}",
                "{\"response\": \"4\", \"reference\": 5}");
  ASSERT_E2E(r, 0.8, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"count\", \"args\": {\"scoring\": \"relative\"}}}",
                "{\"response\": \"12\", \"reference\": 5}");
  ASSERT_E2E(r, 0, "ok");
  /* source number ignores the boxes: "2 of them: [0,0,1,1]" ... the last
   * number is inside the box; with source boxes: 1. */
  r = e2e_score("{\"reward\": {\"fn\": \"count\", \"args\": {\"source\": \"boxes\"}}}",
                "{\"response\": \"1 of them: [0,0,1,1]\", \"reference\": 1}");
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"count\"}}", "{\"response\": \"no idea\", \"reference\": 2}");
  ASSERT_EQ_STR(r.status, "unparseable");
  r = e2e_score("{\"reward\": {\"fn\": \"count\"}}", "{\"response\": \"2\", \"reference\": \"many\"}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
  r = e2e_score("{\"reward\": {\"fn\": \"count\"}}", "{\"response\": \"0\", \"reference\": []}");
  ASSERT_E2E(r, 1, "ok");
}

/* count with one spec and a record {"response": RESP, "reference": REF}
 * (REF raw JSON). */
static e2e_result count_rec(const char *args, const char *resp, const char *ref) {
  char spec[256], rec[512];
  snprintf(spec, sizeof spec, "{\"reward\": {\"fn\": \"count\", \"args\": {%s}}}", args);
  snprintf(rec, sizeof rec, "{\"response\": \"%s\", \"reference\": %s}", resp, ref);
  return e2e_score(spec, rec);
}

TEST(e2e_count_number_words) {
  /* Compound words are read whole: "twenty-one" is 21, never its tail
   * "one" (which scored 1 against 1 and 0 against 21). */
  ASSERT_E2E(count_rec("", "There are twenty-one birds.", "1"), 0, "ok");
  e2e_result r = count_rec("", "There are twenty-one birds.", "21");
  ASSERT_E2E(r, 1, "ok");
  ASSERT_CONTAINS(r.explain, "count 21 from the last number");
  ASSERT_E2E(count_rec("", "twenty one", "21"), 1, "ok");      /* space-separated */
  ASSERT_E2E(count_rec("", "I count thirty.", "30"), 1, "ok"); /* tens alone */
  ASSERT_E2E(count_rec("", "ninety-nine", "99"), 1, "ok");
  ASSERT_E2E(count_rec("", "Forty-Two", "42"), 1, "ok");       /* any case */
  /* 100 + 5 = 105; 1000 + 1 = 1001; 3 * 100 + 20 + 1 = 321. */
  ASSERT_E2E(count_rec("", "one hundred and five", "105"), 1, "ok");
  ASSERT_E2E(count_rec("", "a thousand and one nights", "1001"), 1, "ok");
  ASSERT_E2E(count_rec("", "three hundred twenty-one", "321"), 1, "ok");
  /* A list of words is several numbers: the last one, 3. */
  ASSERT_E2E(count_rec("", "one, two three", "3"), 1, "ok");
  /* Words inside other words are not numbers ("someone", "often"). */
  ASSERT_EQ_STR(count_rec("", "someone often", "1").status, "unparseable");
  /* A number count does not read is said, not replaced by an earlier
   * one or by its first word ("two"). */
  r = count_rec("", "2 boxes, about two million grains", "2");
  ASSERT_E2E(r, 0, "unparseable");
  ASSERT_CONTAINS(r.explain, "count cannot read 'two million'");
  ASSERT_EQ_STR(count_rec("", "a dozen eggs", "12").status, "unparseable");
  /* "N and a half" (or "and one quarter") is 2.5 (1.25): not a count, 0,
   * not the 2 before it (which scored 1 against 2). "half" in prose is
   * not a number: the count before it stands. */
  r = count_rec("", "two and a half", "2");
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "2.5, is not a count");
  ASSERT_E2E(count_rec("", "2 and a half apples", "2"), 0, "ok");
  ASSERT_E2E(count_rec("", "one and one quarter", "1"), 0, "ok");
  ASSERT_E2E(count_rec("", "4 apples, half of them red", "4"), 1, "ok");
  /* "3-4" is 3 and 4, not 3 and -4 (as the geometry scanner reads it). */
  ASSERT_E2E(count_rec("", "between 3-4 cats", "4"), 1, "ok");
  /* The reference may be number words too. */
  ASSERT_E2E(count_rec("", "21", "\"twenty-one\""), 1, "ok");
  ASSERT_E2E(count_rec("", "7", "\" Seven \""), 1, "ok");
  ASSERT_EQ_STR(count_rec("", "1", "\"twenty one birds\"").status, "invalid_reference");
}

TEST(e2e_count_whole_numbers) {
  /* A count is a whole number >= 0. An answer that is not one scores 0
   * whatever the scoring: 2.5 against 3 was 1 - 0.5/3 = 0.833 relative;
   * 2.5 against 2 with tolerance 0.5 was 1; -3 against 3 with tolerance
   * 6 was 1 (|-3 - 3| = 6). */
  e2e_result r = count_rec("\"scoring\": \"relative\"", "2.5", "3");
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "2.5, is not a count (a count is a whole number >= 0)");
  ASSERT_E2E(count_rec("\"tolerance\": 0.5", "about 2.5", "2"), 0, "ok");
  ASSERT_E2E(count_rec("\"tolerance\": 6", "-3", "3"), 0, "ok");
  /* 2.0 is the whole number 2; 1,000 is 1000. */
  ASSERT_E2E(count_rec("", "2.0", "2"), 1, "ok");
  ASSERT_E2E(count_rec("", "1,000 birds", "1000"), 1, "ok");
  /* A reference that is not a whole number >= 0 is broken. */
  r = count_rec("", "3", "2.5");
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "reference 2.5 is not a count: a count is a whole number >= 0");
  ASSERT_EQ_STR(count_rec("", "3", "\"2.5\"").status, "invalid_reference");
  ASSERT_EQ_STR(count_rec("", "0", "-1").status, "invalid_reference");
  ASSERT_E2E(count_rec("", "2", "\"2.0\""), 1, "ok");
}

/* ------------------------------------------------------------ budget */

/* Scores rec with spec under a step budget; returns the status name. */
static void budget_status(const char *spec, const char *rec, uint64_t budget, char *st,
                          size_t cap) {
  rk_spec *s = NULL;
  char err[256];
  st[0] = '\0';
  if (rk_spec_compile(spec, strlen(spec), &s, err, sizeof err) != RK_OK) return;
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  rk_ctx_create(&co, &ctx);
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.step_budget = budget;
  char *out = NULL;
  size_t n = 0;
  if (rk_score_one(ctx, s, &so, rec, strlen(rec), &out, &n) == RK_OK) {
    const char *p = strstr(out, "\"status\":\"");
    if (p) snprintf(st, cap, "%.*s", (int)strcspn(p + 10, "\""), p + 10);
    rk_free(out);
  }
  rk_ctx_destroy(ctx);
  rk_spec_free(s);
}

TEST(budgets) {
  /* 250 identical predictions and 250 identical GT boxes: every pair is a
   * candidate (62500 IoUs); under a 20000-step budget every matching
   * reward stops with "timeout" instead of running on. */
  static char rec[40000];
  size_t o = (size_t)snprintf(rec, sizeof rec, "{\"response\": \"");
  for (int i = 0; i < 250; i++) o += (size_t)snprintf(rec + o, sizeof rec - o, "[0,0,10,10]");
  o += (size_t)snprintf(rec + o, sizeof rec - o, "\", \"reference\": [");
  for (int i = 0; i < 250; i++)
    o += (size_t)snprintf(rec + o, sizeof rec - o, "%s[0,0,10,10]", i ? "," : "");
  snprintf(rec + o, sizeof rec - o, "]}");
  const char *specs[] = {
      "{\"reward\": {\"fn\": \"detection\"}}",
      "{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\"}}}",
      "{\"reward\": {\"fn\": \"detection_prf\"}}",
      "{\"reward\": {\"fn\": \"detection_hungarian\"}}",
      "{\"reward\": {\"fn\": \"coco_map\"}}"};
  char st[32];
  for (int k = 0; k < 5; k++) {
    budget_status(specs[k], rec, 20000, st, sizeof st);
    ASSERT_EQ_STR(st, "timeout");
    /* With the default budget they finish: every prediction matched. */
    budget_status(specs[k], rec, 0, st, sizeof st);
    ASSERT_EQ_STR(st, "ok");
  }
}

TEST_MAIN(TEST_ENTRY(coco_reference_table), TEST_ENTRY(coco_small_cases),
          TEST_ENTRY(coco_categories_and_maxdets), TEST_ENTRY(e2e_coco_map), TEST_ENTRY(hungarian_scipy_example),
          TEST_ENTRY(hungarian_brute_force), TEST_ENTRY(hungarian_tie_break),
          TEST_ENTRY(hungarian_levels_agree), TEST_ENTRY(vr1_costs_levels),
          TEST_ENTRY(pairs_window_vs_brute_force), TEST_ENTRY(e2e_detection_vlmr1),
          TEST_ENTRY(e2e_detection_vlmr1_conventions),
          TEST_ENTRY(label_final_sigma),
          TEST_ENTRY(e2e_detection_visual_rft), TEST_ENTRY(e2e_visual_rft_confidences),
          TEST_ENTRY(e2e_detection_hungarian), TEST_ENTRY(e2e_detection_hungarian_vr1_reader),
          TEST_ENTRY(e2e_labels_unescaped), TEST_ENTRY(e2e_invalid_boxes_count), TEST_ENTRY(e2e_items_without_box_count), TEST_ENTRY(e2e_strict_json),
          TEST_ENTRY(e2e_empty_and_degenerate),
          TEST_ENTRY(e2e_detection_prf), TEST_ENTRY(e2e_reference_with_no_box),
          TEST_ENTRY(e2e_label_pairs_hungarian),
          TEST_ENTRY(e2e_label_pairs_greedy), TEST_ENTRY(e2e_count),
          TEST_ENTRY(e2e_count_number_words), TEST_ENTRY(e2e_count_whole_numbers),
          TEST_ENTRY(budgets),
          TEST_ENTRY(pairs_skewed_and_work), TEST_ENTRY(greedy_vs_reference),
          TEST_ENTRY(same_label_vs_categories), TEST_ENTRY(categories_past_64))
