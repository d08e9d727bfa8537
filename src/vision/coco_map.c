/*
 * coco_map.c - COCO box AP / AR for one image exactly as pycocotools
 * (cocodataset/cocoapi PythonAPI/pycocotools/cocoeval.py) computes it, and
 * the `coco_map` reward (VLM-R1's map / od_ap / od_ap50 / odLength
 * rewards: one image, categories from the GT labels, every score 1.0
 * unless the prediction gives a confidence).
 *
 * Parameters as pycocotools: iouThrs = linspace(.5, .95, 10), recThrs =
 * linspace(0, 1, 101), maxDets 1 / 10 / 100, area ranges all / small /
 * medium / large with inclusive bounds (apis_metrics.md B6).
 *
 * Not for: greedy or Hungarian matching rewards (detection.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/levenshtein.h" /* code points: rk__cp_next, rk__cp_lower */
#include "text/pycase.h"
#include "vision/detection.h"

#define NT 10
#define NR 101
#define MAXDET 100

const char *const rk__coco_stat_names[RK__COCO_NSTATS + 1] = {
    "ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large",
    "ar1", "ar10", "ar100", "ar_small", "ar_medium", "ar_large", NULL};

/* numpy.linspace(start, stop, num): y[i] = i * ((stop - start) / (num - 1))
 * + start, and y[num-1] = stop exactly. iouThrs[8] is 0.8999999999999999. */
static void linspace(double start, double stop, int num, double *y) {
  double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; i++) y[i] = i * step + start;
  y[num - 1] = stop;
}

static double box_area(const rk__box *b) { return (b->x2 - b->x1) * (b->y2 - b->y1); }

/* maskApi.c bbIou on xywh boxes: for a crowd GT the union is the
 * detection's area. */
static double coco_iou(const rk__box *d, const rk__box *g) {
  double iw = fmin(d->x2, g->x2) - fmax(d->x1, g->x1);
  if (iw <= 0) return 0;
  double ih = fmin(d->y2, g->y2) - fmax(d->y1, g->y1);
  if (ih <= 0) return 0;
  double i = iw * ih;
  double u = g->crowd ? box_area(d) : box_area(d) + box_area(g) - i;
  return u > 0 ? i / u : 0; /* maskApi divides; 0/0 never reaches here */
}

/* Stable sort of indices by descending score (numpy mergesort of -score). */
static void sort_by_score(size_t *idx, size_t n, const rk__box *dt, size_t *tmp) {
  for (size_t w = 1; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = dt[idx[j]].conf > dt[idx[i]].conf ? idx[j++] : idx[i++];
      while (i < mid) tmp[k++] = idx[i++];
      while (j < hi) tmp[k++] = idx[j++];
    }
    memcpy(idx, tmp, n * sizeof *idx);
  }
}

/* evaluate + accumulate + summarize for the area ranges in amask and the
 * maxDets in mmask (bits); statistics that need others stay -1. */
static int coco_core(const rk__box *gt, const int *gcat, size_t ng, const rk__box *dt,
                     const int *dcat, size_t nd, int ncat, rk__arena *a, unsigned amask,
                     unsigned mmask, double stats[RK__COCO_NSTATS]) {
  static const double area_lo[4] = {0, 0, 32 * 32, 96 * 96};
  static const double area_hi[4] = {1e10, 32 * 32, 96 * 96, 1e10};
  static const int maxdets[3] = {1, 10, 100};
  double thr[NT], rec[NR];
  linspace(0.5, 0.95, NT, thr);
  linspace(0.0, 1.0, NR, rec);
  const double eps = 2.220446049250313e-16; /* np.spacing(1) */

  /* Sums and counts of the entries > -1 that summarize() averages. */
  double ap_sum[6] = {0}, ar_sum[6] = {0};
  size_t ap_cnt[6] = {0}, ar_cnt[6] = {0};

  size_t *gi = rk__arena_alloc(a, (ng + 1) * sizeof *gi);
  size_t *di = rk__arena_alloc(a, (nd + 1) * sizeof *di);
  size_t *tmp = rk__arena_alloc(a, (nd + 1) * sizeof *tmp);
  rk__box *gb = rk__arena_alloc(a, (ng + 1) * sizeof *gb);
  rk__box *db = rk__arena_alloc(a, (MAXDET + 1) * sizeof *db);
  size_t *row = rk__arena_alloc(a, (MAXDET + 2) * sizeof *row);
  unsigned char *gig = rk__arena_alloc(a, ng + 1);
  unsigned char *gtm = rk__arena_alloc(a, ng + 1);
  unsigned char *dtm = rk__arena_alloc(a, NT * MAXDET);
  unsigned char *dig = rk__arena_alloc(a, NT * MAXDET);
  double *rc = rk__arena_alloc(a, MAXDET * sizeof *rc);
  double *pr = rk__arena_alloc(a, MAXDET * sizeof *pr);
  if (!gi || !di || !tmp || !gb || !db || !row || !gig || !gtm || !dtm || !dig || !rc || !pr)
    return -1;

  for (int k = 0; k < ncat; k++) {
    size_t ngk = 0, ndk = 0;
    int crowd = 0;
    for (size_t g = 0; g < ng; g++)
      if (gcat[g] == k) gb[ngk] = gt[g], crowd |= gt[g].crowd, gi[ngk++] = g;
    for (size_t d = 0; d < nd; d++)
      if (dcat[d] == k) di[ndk++] = d;
    if (ngk == 0 && ndk == 0) continue; /* evaluateImg returns None */
    sort_by_score(di, ndk, dt, tmp);
    if (ndk > MAXDET) ndk = MAXDET; /* computeIoU keeps the top maxDets[-1] */
    for (size_t d = 0; d < ndk; d++) db[d] = dt[di[d]];
    /* IoUs that can match: >= .5, the lowest threshold. Without crowd GTs
     * they come from the x-sorted window search; with one, every pair
     * with maskApi's crowd-aware IoU. Either way per detection, by GT. */
    rk__pair *ps = NULL;
    size_t np = 0;
    if (!crowd) {
      uint64_t work;
      if (rk__box_pairs(db, ndk, gb, ngk, thr[0], a, UINT64_MAX, &ps, &np, &work)) return -1;
    } else {
      ps = rk__arena_alloc(a, (ndk * ngk + 1) * sizeof *ps);
      if (!ps) return -1;
      for (size_t d = 0; d < ndk; d++)
        for (size_t g = 0; g < ngk; g++)
          ps[np].i = (uint32_t)d, ps[np].j = (uint32_t)g, ps[np].iou = coco_iou(&db[d], &gb[g]),
          np++;
    }
    for (size_t d = 0, q = 0; d <= ndk; d++) {
      while (q < np && ps[q].i < d) q++;
      row[d] = q;
    }

    for (int ar = 0; ar < 4; ar++) {
      if (!(amask >> ar & 1)) continue;
      size_t npig = 0;
      for (size_t g = 0; g < ngk; g++) {
        double area = isnan(gb[g].area) ? box_area(&gb[g]) : gb[g].area;
        gig[g] = gb[g].crowd || area < area_lo[ar] || area > area_hi[ar];
        npig += !gig[g];
      }
      /* evaluateImg's loop visits the GTs stably sorted non-ignored first
       * and stops at the first ignored one once a non-ignored GT matched:
       * the same as a pass over the non-ignored candidates and, only if
       * it found nothing, one over the ignored. Ties go to the later GT
       * (iou >= best replaces). */
      for (int t = 0; t < NT; t++) {
        memset(gtm, 0, ngk);
        for (size_t d = 0; d < ndk; d++) {
          double best = rk__mn(thr[t], 1 - 1e-10);
          long m = -1;
          for (int pass = 0; pass < 2 && m < 0; pass++)
            for (size_t q = row[d]; q < row[d + 1]; q++) {
              size_t g = ps[q].j;
              if (gig[g] != pass) continue;
              if (gtm[g] && !gb[g].crowd) continue;
              if (ps[q].iou < best) continue;
              best = ps[q].iou;
              m = (long)g;
            }
          dtm[t * MAXDET + d] = m > -1;
          dig[t * MAXDET + d] = m > -1 ? gig[m] : 0;
          if (m > -1) gtm[m] = 1;
          /* An unmatched detection outside the area range is ignored. */
          double da = box_area(&db[d]);
          if (m < 0 && (da < area_lo[ar] || da > area_hi[ar])) dig[t * MAXDET + d] = 1;
        }
      }
      if (npig == 0) continue; /* accumulate skips: entries stay -1 */
      /* accumulate, for maxDet 1, 10, 100. */
      for (int mi = 0; mi < 3; mi++) {
        if (!(mmask >> mi & 1)) continue;
        size_t ndm = ndk < (size_t)maxdets[mi] ? ndk : (size_t)maxdets[mi];
        /* Which summary statistics read this (area, maxDet) slice. */
        int ap_all = ar == 0 && mi == 2, ap_area = ar > 0 && mi == 2;
        int ar_slot = ar == 0 ? 6 + mi : (mi == 2 ? 8 + ar : -1);
        if (!ap_all && !ap_area && ar_slot < 0) continue;
        for (int t = 0; t < NT; t++) {
          double tp = 0, fp = 0;
          for (size_t d = 0; d < ndm; d++) {
            if (!dig[t * MAXDET + d]) {
              if (dtm[t * MAXDET + d])
                tp += 1;
              else
                fp += 1;
            }
            rc[d] = tp / (double)npig;
            pr[d] = tp / (fp + tp + eps);
          }
          double recall = ndm ? rc[ndm - 1] : 0;
          if (ar_slot >= 0) {
            ar_sum[ar_slot - 6] += recall;
            ar_cnt[ar_slot - 6]++;
          }
          if (!ap_all && !ap_area) continue;
          for (size_t d = ndm; d-- > 1;)
            if (pr[d] > pr[d - 1]) pr[d - 1] = pr[d];
          double qsum = 0;
          size_t kk = 0;
          for (int r = 0; r < NR; r++) {
            while (kk < ndm && rc[kk] < rec[r]) kk++; /* searchsorted left */
            qsum += kk < ndm ? pr[kk] : 0;
          }
          if (ap_all) {
            ap_sum[0] += qsum;
            ap_cnt[0] += NR;
            if (t == 0) ap_sum[1] += qsum, ap_cnt[1] += NR;
            if (t == 5) ap_sum[2] += qsum, ap_cnt[2] += NR;
          } else {
            ap_sum[2 + ar] += qsum;
            ap_cnt[2 + ar] += NR;
          }
        }
      }
    }
  }
  for (int s = 0; s < 6; s++) {
    stats[s] = ap_cnt[s] ? ap_sum[s] / (double)ap_cnt[s] : -1;
    stats[6 + s] = ar_cnt[s] ? ar_sum[s] / (double)ar_cnt[s] : -1;
  }
  return 0;
}

int rk__coco_eval(const rk__box *gt, const int *gcat, size_t ng, const rk__box *dt,
                  const int *dcat, size_t nd, int ncat, rk__arena *a,
                  double stats[RK__COCO_NSTATS]) {
  return coco_core(gt, gcat, ng, dt, dcat, nd, ncat, a, 0xF, 0x7, stats);
}

int rk__coco_eval_one(const rk__box *gt, const int *gcat, size_t ng, const rk__box *dt,
                      const int *dcat, size_t nd, int ncat, rk__arena *a, int stat,
                      double *out) {
  /* stats 0-2: all/100; 3-5: area 1-3 / 100; 6-8: all / 1, 10, 100;
   * 9-11: area 1-3 / 100. */
  unsigned amask = 1, mmask = 4;
  if (stat >= 3 && stat <= 5) amask = 1u << (stat - 2);
  if (stat >= 6 && stat <= 8) mmask = 1u << (stat - 6);
  if (stat >= 9) amask = 1u << (stat - 8);
  double st[RK__COCO_NSTATS];
  int rc = coco_core(gt, gcat, ng, dt, dcat, nd, ncat, a, amask, mmask, st);
  *out = st[stat];
  return rc;
}

/* ------------------------------------------------------------ labels */

static rk__str trim(rk__str s) {
  while (s.n && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '\n')) s.p++, s.n--;
  while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\n')) s.n--;
  return s;
}

/* The next code point of Python's s.lower() from UTF-8 at *s (< e), one
 * source code point at a time; U+0130 lowers to two ("i" + U+0307), the
 * second kept in *pend; a capital sigma reads its neighbours in the whole
 * label, which starts at base (text/pycase.h). -1 at the end. */
static long next_lower(const unsigned char *base, const unsigned char **s,
                       const unsigned char *e, uint32_t *pend) {
  if (*pend) {
    uint32_t c = *pend;
    *pend = 0;
    return c;
  }
  if (*s >= e) return -1;
  size_t len;
  uint32_t c = rk__cp_next(*s, e, &len);
  if (c == RK__SIGMA_CAPITAL)
    c = rk__pycase_sigma_utf8((const char *)base, (size_t)(e - base), (size_t)(*s - base));
  *s += len;
  if (c == 0x130) {
    *pend = 0x307;
    return 'i';
  }
  return rk__cp_lower(c);
}

/* a.lower() == b.lower() in Python, for labels with a non-ASCII byte;
 * their first i bytes are ASCII and already compared. */
static int lower_eq_utf8(rk__str a, rk__str b, size_t i) {
  const unsigned char *pa = (const unsigned char *)a.p, *pb = (const unsigned char *)b.p;
  const unsigned char *p = pa + i, *q = pb + i, *pe = pa + a.n, *qe = pb + b.n;
  uint32_t pp = 0, pq = 0;
  for (;;) {
    long x = next_lower(pa, &p, pe, &pp), y = next_lower(pb, &q, qe, &pq);
    if (x != y) return 0;
    if (x < 0) return 1;
  }
}

/* rk__box_label_eq of labels already trimmed. With fold, as Python's
 * lower() on both (VLM-R1 compares labels so): ASCII bytes here, other
 * text by code point. */
static int label_eq_trimmed(rk__str a, rk__str b, int fold) {
  if (!fold) {
    if (a.n != b.n) return 0;
    return a.n == 0 || memcmp(a.p, b.p, a.n) == 0; /* no memcmp on NULL */
  }
  /* Bytewise while both are ASCII; a byte count that differs decides
   * only then (no code point lowers to nothing). */
  for (size_t i = 0; i < a.n && i < b.n; i++) {
    unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];
    if ((x | y) >= 0x80) return lower_eq_utf8(a, b, i);
    if (x >= 'A' && x <= 'Z') x |= 32;
    if (y >= 'A' && y <= 'Z') y |= 32;
    if (x != y) return 0;
  }
  return a.n == b.n;
}

int rk__box_label_eq(rk__str a, rk__str b, int fold) {
  return label_eq_trimmed(trim(a), trim(b), fold);
}

int rk__box_categories(rk__call *c, const rk__boxes *gt, const rk__boxes *pred, int use_labels,
                       int fold, int **gcat, int **pcat) {
  rk__arena *a = c->arena;
  int *gc = rk__arena_alloc(a, (gt->n + 1) * sizeof *gc);
  int *pc = rk__arena_alloc(a, (pred->n + 1) * sizeof *pc);
  size_t *first = rk__arena_alloc(a, (gt->n + 1) * sizeof *first); /* gt index per id */
  if (!gc || !pc || !first) return -1;
  *gcat = gc, *pcat = pc;
  int any = 0;
  for (size_t i = 0; i < gt->n; i++) any |= gt->b[i].has_label;
  if (!use_labels || !any) {
    for (size_t i = 0; i < gt->n; i++) gc[i] = 0;
    for (size_t i = 0; i < pred->n; i++) pc[i] = 0;
    return 1;
  }
  /* Each label is trimmed once: the first CT_MAX categories' labels are
   * kept trimmed (on the stack, so that the arena use is unchanged), any
   * further one is trimmed where it is compared. */
  enum { CT_MAX = 64 };
  rk__str ct[CT_MAX];
  int ncat = 0;
  for (size_t i = 0; i < gt->n; i++) {
    int id = -1;
    rk__str li = trim(gt->b[i].label);
    if (!rk__spend(c, (uint64_t)ncat * (li.n + 1) + 1)) return -2;
    for (int k = 0; k < ncat && id < 0; k++)
      if (label_eq_trimmed(k < CT_MAX ? ct[k] : trim(gt->b[first[k]].label), li, fold)) id = k;
    if (id < 0) {
      if (ncat < CT_MAX) ct[ncat] = li;
      first[ncat] = i, id = ncat++;
    }
    gc[i] = id;
  }
  for (size_t i = 0; i < pred->n; i++) {
    int id = -1;
    if (pred->b[i].has_label) {
      rk__str li = trim(pred->b[i].label);
      if (!rk__spend(c, (uint64_t)ncat * (li.n + 1) + 1)) return -2;
      for (int k = 0; k < ncat && id < 0; k++)
        if (label_eq_trimmed(k < CT_MAX ? ct[k] : trim(gt->b[first[k]].label), li, fold)) id = k;
    }
    pc[i] = id;
  }
  return ncat > 0 ? ncat : 1;
}

/* ------------------------------------------------------------ reward */

typedef struct map_cfg {
  rk__boxargs box;
  int metric, use_labels, fold, length_penalty, use_conf;
} map_cfg;

static void map_free(void *v) {
  map_cfg *cfg = v;
  if (!cfg) return;
  rk__boxargs_free(&cfg->box);
  free(cfg);
}

static int map_compile(rk__argctx *ac, void **out) {
  map_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__boxargs_compile(ac, &cfg->box, 100000) ||
      rk__arg_enum(ac, "metric", rk__coco_stat_names, 0, &cfg->metric) ||
      rk__arg_bool(ac, "use_labels", 1, &cfg->use_labels) ||
      rk__arg_bool(ac, "ignore_case", 0, &cfg->fold) ||
      rk__arg_bool(ac, "use_confidence", 1, &cfg->use_conf) ||
      rk__arg_bool(ac, "length_penalty", 0, &cfg->length_penalty) ||
      rk__arg_bool(ac, "strict_json", 0, &cfg->box.strict_json)) {
    map_free(cfg);
    return -1;
  }
  if (cfg->box.strict_json) cfg->box.strict_json = RK__STRICT_LAST; /* map_reward's findall[-1] */
  *out = cfg;
  return 0;
}

static rk_status map_score(const void *v, rk__call *c, double *value) {
  const map_cfg *cfg = v;
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
  const char *mname = rk__coco_stat_names[cfg->metric];
  /* VLM-R1 map_reward: both empty -> 1, one empty -> 0, where the
   * answer's list counts every item it holds (odLength_reward's length
   * too), an invalid box or an item without a box included. */
  const size_t pall = rk__boxes_predicted(&pred);
  if (gt.n == 0 || pred.n == 0) {
    *value = gt.n == 0 && pall == 0 ? 1.0 : 0.0;
    rk__explain(c, "%s from %s; %zu reference boxes; %s", pd, how, gt.n,
                *value ? "both empty: 1"
                : gt.n == 0 ? "no objects but something predicted: 0"
                            : "one side empty: 0");
    return RK_STATUS_OK;
  }
  /* pycocotools' cost: the IoU matrix per category plus 10 thresholds of
   * matching over 4 area ranges. */
  if (!rk__spend(c, (uint64_t)(pred.n < 100 ? pred.n : 100) * gt.n * 44 + pred.n * 8 + 1))
    return RK_STATUS_TIMEOUT;
  int *gc = NULL, *pc = NULL;
  int ncat = rk__box_categories(c, &gt, &pred, cfg->use_labels, cfg->fold, &gc, &pc);
  if (ncat == -2) return RK_STATUS_TIMEOUT;
  if (ncat < 0) return rk__fail(c, "out of memory");
  size_t unknown = 0, with_conf = 0;
  for (size_t i = 0; i < pred.n; i++) {
    unknown += pc[i] < 0;
    if (!cfg->use_conf || isnan(pred.b[i].conf))
      pred.b[i].conf = 1.0;
    else
      with_conf++;
  }
  double s;
  if (rk__coco_eval_one(gt.b, gc, gt.n, pred.b, pc, pred.n, ncat, c->arena, cfg->metric, &s))
    return rk__fail(c, "out of memory");
  double val = s < 0 ? 0 : s;
  double lp = 1;
  if (cfg->length_penalty && pall > gt.n) lp = (double)gt.n / (double)pall;
  *value = val * lp;
  if (rk__explaining(c)) {
    char a[32];
    rk__fmt_double(a, s);
    char extra[96] = "";
    if (unknown)
      snprintf(extra, sizeof extra, " (%zu with labels not in the reference ignored)", unknown);
    rk__explain(c, "%s from %s%s; %zu reference boxes in %d categories; scores %s; %s %s%s",
                pd, how, extra, gt.n, ncat, with_conf ? "from confidences" : "all 1.0", mname, a,
                s < 0 ? " (pycocotools -1: no GT in range; reward 0)" : "");
    if (lp != 1) {
      rk__fmt_double(a, lp);
      rk__explain(c, "length penalty x%s (%zu gt < %zu predicted)", a, gt.n, pall);
    }
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_coco_map = {
    .name = "coco_map",
    .summary = "COCO box AP@[.5:.95] / AP50 / AP75 / AR for one image, exactly as pycocotools (VLM-R1 map rewards)",
    .compile = map_compile,
    .score = map_score,
    .free = map_free,
};
