/*
 * iou.c - single-box rewards: `iou`, `giou` and `grounding` (referring
 * expression comprehension: one predicted box against the reference box).
 * The prediction is the last box of the answer region (arg "pick"); when
 * the reference lists several boxes the best one counts.
 *
 * Not for: several objects (detection.c, coco_map.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vision/boxes.h"

enum { M_IOU, M_GIOU, M_IOU_VLMR1 };
enum { PICK_LAST, PICK_FIRST, PICK_BEST };
enum { SC_RAW, SC_UNIT, SC_SHIFTED };

typedef struct one_cfg {
  rk__boxargs box;
  int metric, pick, scale;
  int thresholded;
  double threshold;
} one_cfg;

static void one_free(void *v) {
  one_cfg *cfg = v;
  if (!cfg) return;
  rk__boxargs_free(&cfg->box);
  free(cfg);
}

static const char *const pick_names[] = {"last", "first", "best", NULL};
static const char *const metric_names[] = {"iou", "giou", "iou_vlm_r1", NULL};
static const char *const scale_names[] = {"raw", "unit", "shifted", NULL};

/* which: M_IOU for `iou`, M_GIOU for `giou`, -1 for `grounding`. */
static int one_compile(rk__argctx *ac, void **out, int which) {
  one_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  int rc = rk__boxargs_compile(ac, &cfg->box, 100000) ||
           rk__arg_enum(ac, "pick", pick_names, PICK_LAST, &cfg->pick);
  if (!rc && which == M_IOU) {
    static const char *const variants[] = {"standard", "vlm_r1", NULL};
    int var = 0;
    rc = rk__arg_enum(ac, "variant", variants, 0, &var);
    cfg->metric = var ? M_IOU_VLMR1 : M_IOU;
  } else if (!rc && which == M_GIOU) {
    cfg->metric = M_GIOU;
    rc = rk__arg_enum(ac, "scale", scale_names, SC_RAW, &cfg->scale);
  } else if (!rc) {
    rc = rk__arg_enum(ac, "metric", metric_names, M_IOU, &cfg->metric);
    if (!rc && rk__arg_raw(ac, "threshold")) {
      cfg->thresholded = 1;
      rc = rk__arg_num_range(ac, "threshold", 0.5, -1, 1, &cfg->threshold);
    }
  }
  if (rc) {
    one_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

static int iou_compile(rk__argctx *ac, void **out) { return one_compile(ac, out, M_IOU); }
static int giou_compile(rk__argctx *ac, void **out) { return one_compile(ac, out, M_GIOU); }
static int grounding_compile(rk__argctx *ac, void **out) { return one_compile(ac, out, -1); }

static double metric_of(int m, const rk__box *a, const rk__box *b) {
  switch (m) {
    case M_GIOU: return rk__box_giou_safe(a, b);
    case M_IOU_VLMR1: return rk__box_iou_vlmr1(a, b);
    default: return rk__box_iou_safe(a, b);
  }
}

static rk_status one_score(const void *v, rk__call *c, double *value) {
  const one_cfg *cfg = v;
  rk__boxes pred, ref;
  rk__box store[2];
  const char *how = NULL;
  *value = 0;
  rk_status st = rk__boxes_load(&cfg->box, c, &pred, &ref, &how, store);
  if (st != RK_STATUS_OK) return st;
  char pd[200];
  pd[0] = '\0';
  if (rk__explaining(c)) rk__boxes_describe(&pred, "predicted", pd, sizeof pd);
  if (ref.n == 0) {
    rk__explain(c, "reference has no box");
    return RK_STATUS_INVALID_REFERENCE;
  }
  if (pred.n == 0) {
    rk__explain(c, "%s from %s: no box to score", pd, how ? how : "response");
    return RK_STATUS_UNPARSEABLE;
  }
  /* An IoU / GIoU takes about as long as 8 steps of byte scanning
   * (pick "best" over thousands of boxes a side is the costly case). */
  if (!rk__spend(c, 8 * (uint64_t)pred.n * ref.n + 1)) return RK_STATUS_TIMEOUT;
  const char *mname = metric_names[cfg->metric];
  double best = -INFINITY;
  size_t bp = 0, br = 0;
  size_t p0 = cfg->pick == PICK_FIRST ? 0 : pred.n - 1, p1 = p0 + 1;
  if (cfg->pick == PICK_BEST) p0 = 0, p1 = pred.n;
  for (size_t i = p0; i < p1; i++)
    for (size_t j = 0; j < ref.n; j++) {
      double m = metric_of(cfg->metric, &pred.b[i], &ref.b[j]);
      if (m > best) best = m, bp = i, br = j;
    }
  double val = best;
  if (cfg->metric == M_GIOU && cfg->scale == SC_UNIT) val = (best + 1) / 2;
  if (cfg->metric == M_GIOU && cfg->scale == SC_SHIFTED) val = best + 1;
  if (cfg->thresholded) val = best >= cfg->threshold ? 1.0 : 0.0;
  *value = val == 0 ? 0.0 : val;
  if (rk__explaining(c)) {
    char a[32], t[32];
    rk__fmt_double(a, best);
    const rk__box *p = &pred.b[bp], *g = &ref.b[br];
    char pb[160];
    snprintf(pb, sizeof pb, "[%.6g,%.6g,%.6g,%.6g] vs ref [%.6g,%.6g,%.6g,%.6g]", p->x1, p->y1,
             p->x2, p->y2, g->x1, g->y1, g->x2, g->y2);
    if (cfg->thresholded) {
      rk__fmt_double(t, cfg->threshold);
      rk__explain(c, "%s from %s; %s box %s; %s %s %s %s", pd, how, pick_names[cfg->pick], pb,
                  mname, a, best >= cfg->threshold ? ">=" : "<", t);
    } else {
      rk__explain(c, "%s from %s; %s box %s; %s %s", pd, how, pick_names[cfg->pick], pb, mname,
                  a);
    }
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_iou = {
    .name = "iou",
    .summary = "IoU of the last predicted box with the reference box (variant vlm_r1: VLM-R1 REC pixel convention)",
    .compile = iou_compile,
    .score = one_score,
    .free = one_free,
};

const rk__fn rk__fn_giou = {
    .name = "giou",
    .summary = "GIoU of the last predicted box with the reference box, raw [-1,1], unit (g+1)/2 or shifted g+1",
    .compile = giou_compile,
    .score = one_score,
    .free = one_free,
};

const rk__fn rk__fn_grounding = {
    .name = "grounding",
    .summary = "box grounding: IoU / GIoU of the predicted box, continuous or 1 at >= threshold",
    .compile = grounding_compile,
    .score = one_score,
    .free = one_free,
};
