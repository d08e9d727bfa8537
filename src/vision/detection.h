/*
 * detection.h - the matching and evaluation cores behind the detection
 * rewards: pycocotools' per-image evaluation (coco_map.c), the Hungarian
 * algorithm (hungarian.c), greedy matchings (detection.c), and label to
 * category mapping. Pure functions on arrays, no record access, so the
 * tests and the benchmark call them directly.
 */
#ifndef RK_VISION_DETECTION_H
#define RK_VISION_DETECTION_H

#include "vision/boxes.h"

/* ------------------------------------------------------------- COCO */

#define RK__COCO_NSTATS 12

/* COCOeval for one image and bbox, exactly as pycocotools evaluate() +
 * accumulate() + summarize() compute it: stats[0..11] = AP@[.5:.95], AP50,
 * AP75, AP small/medium/large, AR@1, AR@10, AR@100, AR small/medium/large,
 * -1 where pycocotools prints -1. Categories are ints in [0, ncat); a
 * detection with category < 0 is ignored (a class not in the GT). Scores
 * are dt[i].conf; GT areas are gt[i].area when not NaN, else w*h; crowd
 * GTs use gt[i].crowd. Returns 0, or -1 when the arena is exhausted. */
int rk__coco_eval(const rk__box *gt, const int *gcat, size_t ng, const rk__box *dt,
                  const int *dcat, size_t nd, int ncat, rk__arena *a,
                  double stats[RK__COCO_NSTATS]);
/* The same for one statistic only (index into stats), computing only the
 * area range and maxDets it reads. */
int rk__coco_eval_one(const rk__box *gt, const int *gcat, size_t ng, const rk__box *dt,
                      const int *dcat, size_t nd, int ncat, rk__arena *a, int stat,
                      double *out);

/* Statistic names in stats order ("ap", "ap50", ... "ar_large"). */
extern const char *const rk__coco_stat_names[RK__COCO_NSTATS + 1];

/* --------------------------------------------------------- Hungarian */

/* Minimum-cost assignment of an n x m cost matrix (row-major), like
 * scipy.optimize.linear_sum_assignment: min(n, m) pairs, each row and
 * column at most once, total cost minimal. row_col[i] = the column of row
 * i or -1. O(min^2 * max) time. Costs must be finite. Returns 0, or -1
 * when the arena is exhausted. */
int rk__hungarian(const double *cost, size_t n, size_t m, long *row_col, rk__arena *a);

/* Instruction sets of the vectorised kernels (rk__hungarian's search,
 * rk__vr1_costs): a level above what the build or the processor has
 * gives the widest below it. Every level computes the same bits; the
 * tests run each. */
enum { RK__SIMD_SCALAR, RK__SIMD_SSE2, RK__SIMD_AVX2, RK__SIMD_AVX512, RK__SIMD_BEST };

/* rk__hungarian with the kernels of level simd (RK__SIMD_*). */
int rk__hungarian_simd(const double *cost, size_t n, size_t m, long *row_col, rk__arena *a,
                       int simd);

/* Vision-R1's matching cost (detection_hungarian) of every prediction i
 * and GT j: L1(box) - [pc[i] == gc[j]] - GIoU (GT categories are >= 0,
 * a prediction's -1 matches none; rk__box_categories), 1e300 where not
 * finite. cost[i * G + j] (P x G), or cost[j * P + i] (G x P) when
 * by_gt. Returns 0, or -1 when the arena is exhausted. */
int rk__vr1_costs(const rk__boxes *pred, const int *pc, const rk__boxes *gt, const int *gc,
                  int by_gt, rk__arena *a, double *cost, int simd);

/* ------------------------------------------------------------- pairs */

typedef struct rk__pair {
  uint32_t i, j; /* prediction, ground truth */
  double iou;
} rk__pair;

/* Every (i, j) with standard IoU(p[i], g[j]) >= t, sorted by i then j,
 * without computing the P x G matrix: IoU >= t > 0 needs g.x1 within
 * [p.x1 + t w - w / t, p.x2 - t w] (w = p's width; from I >= t area(p),
 * I >= t area(g) and the intersection width), a window over the GTs
 * sorted by x1 (found from equal-width buckets of x1). t <= 0 gives all
 * pairs. *n gets the count. *work counts the steps: 8 per box, and per
 * prediction 8 plus the GTs in its window; the search stops with -2,
 * before computing any IoU, when that passes max_work (the caller's
 * remaining budget: a hostile list of identical boxes is quadratic).
 * Returns 0, -1 when the arena is exhausted, -2 past max_work. */
int rk__box_pairs(const rk__box *p, size_t P, const rk__box *g, size_t G, double t,
                  rk__arena *a, uint64_t max_work, rk__pair **out, size_t *n,
                  uint64_t *work);

/* VLM-R1's matching: repeatedly take the unmatched (pred, gt) pair of
 * largest IoU (first in row-major order on ties) until it is < thr; the
 * same as one pass over the pairs >= thr sorted by (IoU desc, i asc, j
 * asc), taking a pair when both ends are free. ps must be in (i, j)
 * order, as rk__box_pairs gives it; it is reordered in place. With pc /
 * gc, pairs of different categories are not matchable. match_gt[i] = the
 * GT of prediction i or -1; match_iou[i] its IoU (match_iou may be NULL).
 * Returns the number of matches, -1 when the arena is exhausted. */
long rk__greedy_match(rk__pair *ps, size_t np, size_t P, size_t G, double thr, const int *pc,
                      const int *gc, rk__arena *a, long *match_gt, double *match_iou);

/* ----------------------------------------------------------- labels */

/* Two labels name the same class: equal after trimming spaces, tabs and
 * newlines, bytewise or as Python's lower() of each (fold). Two missing
 * labels are equal. */
int rk__box_label_eq(rk__str a, rk__str b, int fold);

/* Category ids from labels: every distinct GT label gets an id in
 * first-seen order (gcat); a prediction gets the id of its label, or -1
 * when its label is absent or not among the GT labels. When use_labels is
 * 0 or no GT has a label, everything is category 0. Labels compare as
 * rk__box_label_eq. Each label is compared with every category found
 * before it, charged to c's budget as it goes (one step per comparison
 * and per byte of the label). Returns the number of categories (>= 1),
 * -1 when the arena is exhausted, -2 when the budget is (TIMEOUT). */
int rk__box_categories(rk__call *c, const rk__boxes *gt, const rk__boxes *pred, int use_labels,
                       int fold, int **gcat, int **pcat);

/* Whether labels are in use: use_labels and some GT has one. */
int rk__box_labels_used(const rk__boxes *gt, int use_labels);

/* Whether prediction p and GT g get the same rk__box_categories id, from
 * their two labels alone (labelled: rk__box_labels_used), so that a
 * reward checking a few matched pairs need not number every label. */
int rk__box_same_label(const rk__box *p, const rk__box *g, int labelled, int fold);

/* Vision-R1's answer reading (vision_r1.c). rk__vr1_format: its
 * dual_format_reward on the answer region (1 or 0, inverted when n_gt is
 * 0). rk__vr1_read_boxes: its extract() on text (boxes with their raw
 * coordinates, labels as written; charges 2 steps per byte). */
double rk__vr1_format(rk__call *c, rk__str region, size_t n_gt);
rk_status rk__vr1_read_boxes(rk__call *c, rk__str text, rk__boxes *out);

#endif /* RK_VISION_DETECTION_H */
