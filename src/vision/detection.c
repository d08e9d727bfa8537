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

/* --------------------------------------------------------- helpers */

typedef struct xsort {
  double x1, y1, x2, y2; /* a copy of the GT box: the window scan reads */
  uint32_t j;            /* consecutive memory */
} xsort;

static inline int xsort_lt(const xsort *x, const xsort *y) {
  return x->x1 < y->x1 || (x->x1 == y->x1 && x->j < y->j);
}

/* Bottom-up merge sort (runs of 8 by insertion): no indirect calls. */
static void xsort_sort(xsort *v, size_t n, xsort *tmp) {
  for (size_t lo = 0; lo < n; lo += 8) {
    size_t hi = lo + 8 < n ? lo + 8 : n;
    for (size_t k = lo + 1; k < hi; k++) {
      xsort x = v[k];
      size_t q = k;
      while (q > lo && xsort_lt(&x, &v[q - 1])) v[q] = v[q - 1], q--;
      v[q] = x;
    }
  }
  for (size_t w = 8; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = xsort_lt(&v[j], &v[i]) ? v[j++] : v[i++];
      while (i < mid) tmp[k++] = v[i++];
      while (j < hi) tmp[k++] = v[j++];
    }
    memcpy(v, tmp, n * sizeof *v);
  }
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
  xsort *xs = rk__arena_alloc(a, G * sizeof *xs);
  xsort *xt = rk__arena_alloc(a, G * sizeof *xt);
  if (!xs || !xt) return -1;
  for (size_t j = 0; j < G; j++)
    xs[j].x1 = g[j].x1, xs[j].y1 = g[j].y1, xs[j].x2 = g[j].x2, xs[j].y2 = g[j].y2,
    xs[j].j = (uint32_t)j;
  xsort_sort(xs, G, xt);
  for (size_t i = 0; i < P; i++) {
    const rk__box *b = &p[i];
    double w = b->x2 - b->x1;
    double slack = 1e-9 * (fabs(b->x1) + fabs(b->x2) + w / t + 1);
    double lo = b->x1 + t * w - w / t - slack, hi = b->x2 - t * w + slack;
    size_t l = 0, r = G; /* first xs[k].x1 >= lo */
    while (l < r) {
      size_t m = (l + r) / 2;
      if (xs[m].x1 < lo) l = m + 1; else r = m;
    }
    size_t first = cnt;
    const double bx1 = b->x1, by1 = b->y1, bx2 = b->x2, by2 = b->y2;
    const double ba = (bx2 - bx1) * (by2 - by1);
    size_t k = l;
    for (; k < G && xs[k].x1 <= hi; k++) {
      const xsort *q = &xs[k];
      /* rk__box_iou inlined on the copy (same operations, same result). */
      double iw = rk__mn(bx2, q->x2) - rk__mx(bx1, q->x1);
      double ih = rk__mn(by2, q->y2) - rk__mx(by1, q->y1);
      if (!(iw > 0) || !(ih > 0)) continue;
      double inter = iw * ih;
      double u = ba + (q->x2 - q->x1) * (q->y2 - q->y1) - inter;
      double v = u > 0 ? inter / u : 0.0;
      if (!(v >= t)) continue;
      if (cnt == cap) {
        size_t nc = cap * 2;
        rk__pair *np = rk__arena_alloc(a, nc * sizeof *np);
        if (!np) return -1;
        memcpy(np, ps, cnt * sizeof *ps);
        ps = np, cap = nc;
      }
      ps[cnt].i = (uint32_t)i, ps[cnt].j = xs[k].j, ps[cnt].iou = v;
      cnt++;
    }
    *work += k - l + 8;
    if (*work > max_work) return -2;
    for (size_t s2 = first + 1; s2 < cnt; s2++) { /* this row by j (few items) */
      rk__pair x = ps[s2];
      size_t q = s2;
      while (q > first && ps[q - 1].j > x.j) ps[q] = ps[q - 1], q--;
      ps[q] = x;
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

static int pair_cmp(const void *a, const void *b) {
  const rk__pair *x = a, *y = b;
  if (x->iou != y->iou) return x->iou > y->iou ? -1 : 1;
  if (x->i != y->i) return x->i < y->i ? -1 : 1;
  return x->j < y->j ? -1 : x->j > y->j;
}

/* VLM-R1's matching: repeatedly take the unmatched (pred, gt) pair of
 * largest IoU (first in row-major order on ties) until it is < thr.
 * Equivalent to one pass over the pairs >= thr sorted by (IoU desc,
 * row-major index asc). The pairs are sorted in place. match_gt[i] = gt
 * of pred i or -1, match_iou[i] its IoU. With pc / gc, pairs of different
 * categories are not matchable. Returns the number of matches, -1 on
 * arena exhaustion. */
static long greedy_global(rk__pair *ps, size_t np, size_t P, size_t G, double thr,
                          const int *pc, const int *gc, rk__arena *a, long *match_gt,
                          double *match_iou) {
  unsigned char *gused = rk__arena_alloc(a, G + 1);
  if (!gused) return -1;
  size_t w = 0;
  for (size_t k = 0; k < np; k++)
    if (ps[k].iou >= thr && (!pc || pc[ps[k].i] == gc[ps[k].j])) ps[w++] = ps[k];
  qsort(ps, w, sizeof *ps, pair_cmp);
  memset(gused, 0, G);
  for (size_t i = 0; i < P; i++) match_gt[i] = -1;
  long nm = 0;
  for (size_t k = 0; k < w; k++) {
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

/* ------------------------------------------------------- detection */

enum { MODE_VLMR1, MODE_VRFT };
enum { VO_SUM, VO_IOU, VO_CONF };

typedef struct det_cfg {
  rk__boxargs box;
  int mode, output, use_labels, fold;
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
  if (rk__boxargs_compile(ac, &cfg->box, 100000) ||
      rk__arg_enum(ac, "mode", modes, MODE_VLMR1, &cfg->mode) ||
      rk__arg_num_range(ac, "iou_threshold", 0.5, 0, 1, &cfg->thr) ||
      rk__arg_bool(ac, "ignore_case", 0, &cfg->fold)) {
    det_free(cfg);
    return -1;
  }
  int rc = 0;
  if (cfg->mode == MODE_VLMR1) {
    rc = rk__arg_num_range(ac, "alpha", 0.7, 0, 1e9, &cfg->alpha) ||
         rk__arg_num_range(ac, "beta", 0.0, 0, 1e9, &cfg->beta) ||
         rk__arg_num_range(ac, "gamma", 0.3, 0, 1e9, &cfg->gamma) ||
         rk__arg_bool(ac, "use_labels", 1, &cfg->use_labels);
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
 * greedy global-max matching at IoU >= thr; a label mismatch keeps the
 * match but scores IoU 0; pos = sum IoU / n_gt, label = correct / n_gt,
 * completeness = 1 - (miss_rate + false_alarm_rate) / 2, score =
 * (alpha pos + beta label + gamma completeness) / (alpha + beta + gamma). */
static rk_status vlmr1_score(const det_cfg *cfg, rk__call *c, const rk__boxes *pred,
                             const rk__boxes *gt, const char *pd, const char *how,
                             double *value) {
  size_t P = pred->n, G = gt->n;
  if (G == 0 || P == 0) {
    *value = G == 0 && P == 0 ? 1.0 : 0.0;
    rk__explain(c, "%s from %s; %zu reference boxes; %s", pd, how, G,
                G == 0 ? (P == 0 ? "no objects, none predicted: 1" : "no objects but boxes predicted: 0")
                       : "nothing predicted: 0");
    return RK_STATUS_OK;
  }
  rk__pair *ps = NULL;
  size_t np = 0;
  long *mg = rk__arena_alloc(c->arena, P * sizeof *mg);
  double *mi = rk__arena_alloc(c->arena, P * sizeof *mi);
  int *gc = NULL, *pc = NULL;
  if (!mg || !mi ||
      rk__box_categories(gt, pred, cfg->use_labels, cfg->fold, c->arena, &gc, &pc) < 0)
    return rk__fail(c, "out of memory");
  rk_status st = pairs_budgeted(c, pred->b, P, gt->b, G, cfg->thr, &ps, &np);
  if (st != RK_STATUS_OK) return st;
  long nm = greedy_global(ps, np, P, G, cfg->thr, NULL, NULL, c->arena, mg, mi);
  if (nm < 0) return rk__fail(c, "out of memory");
  double iou_sum = 0;
  size_t correct = 0;
  for (size_t i = 0; i < P; i++) {
    if (mg[i] < 0) continue;
    if (pc[i] == gc[mg[i]]) {
      iou_sum += mi[i];
      correct++;
    }
  }
  double pos = iou_sum / (double)G, lab = (double)correct / (double)G;
  double miss = (double)(G - (size_t)nm) / (double)G, fa = (double)(P - (size_t)nm) / (double)P;
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
  size_t U = 0;
  for (size_t i = 0; i < P; i++) {
    const rk__box *b = &pred->b[i];
    int dup = 0;
    for (size_t k = 0; k < U && !dup; k++) {
      const rk__box *q = &pred->b[ord[k]];
      dup = q->x1 == b->x1 && q->y1 == b->y1 && q->x2 == b->x2 && q->y2 == b->y2;
    }
    if (dup) continue;
    if (isnan(pred->b[i].conf)) pred->b[i].conf = 1.0;
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
    rk__explain(c, "%s from %s (%zu after dropping duplicates); matched %zu of %zu gt at IoU>%s; "
                   "R_iou %s, R_conf %s",
                pd, how, P, nm, G, t, a, b);
  }
  return RK_STATUS_OK;
}

static rk_status det_score(const void *v, rk__call *c, double *value) {
  const det_cfg *cfg = v;
  rk__boxes pred, gt;
  const char *how = NULL;
  *value = 0;
  rk_status st = rk__boxes_load(&cfg->box, c, &pred, &gt, &how);
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
  hun_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  cfg->has_step = rk__arg_raw(ac, "step") != NULL;
  cfg->box.drop_degenerate = 1; /* Vision-R1 keeps only x1 < x2 and y1 < y2 */
  if (rk__boxargs_compile(ac, &cfg->box, 300) ||
      rk__arg_enum(ac, "output", outs, HO_VISION_R1, &cfg->output) ||
      rk__arg_bool(ac, "use_labels", 1, &cfg->use_labels) ||
      rk__arg_bool(ac, "ignore_case", 1, &cfg->fold) ||
      rk__arg_num_range(ac, "step", 0, 0, 1e18, &cfg->step) ||
      rk__arg_str(ac, "step_field", NULL, &cfg->step_field) ||
      rk__arg_num_range(ac, "step_switch", 1500, 0, 1e18, &cfg->step_switch)) {
    hun_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

/* Vision-R1's clamp map: 0 below lo, 1 above hi, else the value. */
static double vr1_map(double x, double lo, double hi) { return x < lo ? 0 : x > hi ? 1 : x; }

/* Vision-R1 dual_format_reward: the text without ```json fences parses as
 * JSON, and every list item with "bbox_2d" and "label" has a 4-element
 * bbox_2d list. Inverted when there is no object. */
static double vr1_format(rk__call *c, rk__str region, size_t n_gt) {
  char *buf = rk__arena_alloc(c->arena, region.n + 1);
  if (!buf) return 0;
  size_t w = 0;
  for (size_t i = 0; i < region.n;) {
    if (region.n - i >= 8 && memcmp(region.p + i, "```json\n", 8) == 0) {
      i += 8;
      continue;
    }
    if (region.n - i >= 4 && memcmp(region.p + i, "\n```", 4) == 0) {
      i += 4;
      continue;
    }
    buf[w++] = region.p[i++];
  }
  rk__jval *root = NULL;
  rk__json_limits lim = {64, 0};
  double ok = rk__json_parse(buf, w, c->arena, &lim, &root, NULL) == 0 ? 1.0 : 0.0;
  if (ok && root->type == RK__JARR)
    for (size_t i = 0; i < root->u.arr.n; i++) {
      const rk__jval *it = &root->u.arr.items[i];
      if (it->type != RK__JOBJ) continue;
      const rk__jval *bb = rk__json_get(it, "bbox_2d");
      if (!bb || !rk__json_get(it, "label")) continue;
      if (bb->type != RK__JARR || bb->u.arr.n != 4) ok = 0;
    }
  return n_gt > 0 ? ok : 1 - ok;
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
static rk_status hun_score(const void *v, rk__call *c, double *value) {
  const hun_cfg *cfg = v;
  rk__boxes pred, gt;
  const char *how = NULL;
  *value = 0;
  rk_status st = rk__boxes_load(&cfg->box, c, &pred, &gt, &how);
  if (st != RK_STATUS_OK) return st;
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
    double *cost = rk__arena_alloc(c->arena, P * G * sizeof *cost);
    double *gi = rk__arena_alloc(c->arena, P * G * sizeof *gi);
    long *rc = rk__arena_alloc(c->arena, P * sizeof *rc);
    int *gc = NULL, *pc = NULL;
    if (!cost || !gi || !rc ||
        rk__box_categories(&gt, &pred, cfg->use_labels, cfg->fold, c->arena, &gc, &pc) < 0)
      return rk__fail(c, "out of memory");
    for (size_t j = 0; j < G && cfg->use_labels; j++) labelled |= gt.b[j].has_label;
    for (size_t i = 0; i < P; i++)
      for (size_t j = 0; j < G; j++) {
        const rk__box *a = &pred.b[i], *b = &gt.b[j];
        double l1 = fabs(a->x1 - b->x1) + fabs(a->y1 - b->y1) + fabs(a->x2 - b->x2) +
                    fabs(a->y2 - b->y2);
        double g = rk__box_giou(a, b);
        double cc = l1 - (pc[i] >= 0 && pc[i] == gc[j] ? 1.0 : 0.0) - g;
        gi[i * G + j] = g;
        cost[i * G + j] = isfinite(cc) ? cc : 1e300;
      }
    if (rk__hungarian(cost, P, G, rc, c->arena)) return rk__fail(c, "assignment failed");
    double tp = 0, ps = 0;
    for (size_t i = 0; i < P; i++) {
      if (rc[i] < 0) continue;
      double g = gi[i * G + (size_t)rc[i]];
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
    fmt = st == RK_STATUS_OK ? vr1_format(c, region, G) : (G ? 0 : 1);
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
  for (int i = 0; i < cfg->nthr; i++)
    if (!(cfg->thr[i] >= 0 && cfg->thr[i] <= 1)) bad = 1;
  if (bad) {
    prf_free(cfg);
    return rk__arg_error(ac, "thresholds",
                         "expected an IoU in [0, 1] or a list of 1 to %d of them", MAX_THR);
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
  rk_status st = rk__boxes_load(&cfg->box, c, &pred, &gt, &how);
  if (st != RK_STATUS_OK) return st;
  size_t P = pred.n, G = gt.n;
  if (P > (size_t)cfg->box.max_boxes || G > (size_t)cfg->box.max_boxes)
    return rk__fail(c, "%zu predicted / %zu reference boxes: more than max_boxes=%ld", P, G,
                    cfg->box.max_boxes);
  char pd[200];
  pd[0] = '\0';
  if (rk__explaining(c)) rk__boxes_describe(&pred, "predicted", pd, sizeof pd);
  if (P == 0 || G == 0) {
    *value = P == 0 && G == 0 ? 1.0 : 0.0;
    rk__explain(c, "%s from %s; %zu reference boxes; %s", pd, how, G,
                *value ? "both empty: 1" : "one side empty: 0");
    return RK_STATUS_OK;
  }
  double tmin = cfg->thr[0];
  for (int k = 1; k < cfg->nthr; k++) tmin = rk__mn(tmin, cfg->thr[k]);
  long *mg = rk__arena_alloc(c->arena, P * sizeof *mg);
  int *gc = NULL, *pc = NULL;
  if (!mg || rk__box_categories(&gt, &pred, cfg->use_labels, cfg->fold, c->arena, &gc, &pc) < 0)
    return rk__fail(c, "out of memory");
  double *m = NULL;
  rk__pair *ps = NULL, *work = NULL;
  size_t np = 0;
  if (cfg->matching == 1) {
    if (!rk__spend(c, (uint64_t)P * G * (P < G ? P : G) + (uint64_t)P * G * 4 + 1))
      return RK_STATUS_TIMEOUT;
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
      long nm = greedy_global(work, np, P, G, cfg->thr[k], pc, gc, c->arena, mg, NULL);
      if (nm < 0) return rk__fail(c, "out of memory");
      tp = (size_t)nm;
    }
    double pr = (double)tp / (double)P, rc = (double)tp / (double)G;
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
