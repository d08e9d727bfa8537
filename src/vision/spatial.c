/*
 * spatial.c - `iou3d` (axis-aligned 3D boxes, 3D-R1's perception reward)
 * and `action_distance` (L1/L2 deviation of a predicted action vector from
 * the reference, NORA-1.5-style deviation reward, with tolerance-based
 * variants).
 *
 * Numbers come from the answer through vision/numlist.c: 3D boxes are the
 * innermost groups of exactly 6 numbers; action vectors are bracket groups
 * or, failing that, every number of the answer.
 *
 * Not for: oriented 3D boxes (no rotation angle is read) or 2D boxes.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/extract.h"
#include "vision/boxes.h" /* rk__rescale_axis */
#include "vision/geometry.h"

/* ---------------------------------------------------------- formulas */

/* The plain 3D IoU of corners a, b: 3D-R1's formula. */
static double iou3d_plain(const double a[6], const double b[6], int *range_ok) {
  /* Axis-aligned 3D IoU (3D-R1 reward_functions.py): per axis overlap
   * max(0, min(hi) - max(lo)); I = product; U = vol(a) + vol(b) - I. */
  *range_ok = 1;
  double inter = 1.0;
  for (int k = 0; k < 3; k++) {
    double lo = fmax(a[k], b[k]), hi = fmin(a[k + 3], b[k + 3]);
    double o = hi - lo;
    if (!(o > 0)) return 0.0;
    inter *= o;
  }
  double va = (a[3] - a[0]) * (a[4] - a[1]) * (a[5] - a[2]);
  double vb = (b[3] - b[0]) * (b[4] - b[1]) * (b[5] - b[2]);
  double u = va + vb - inter;
  /* Each box is at least as long as the overlap on every axis, so every
   * side is > 0 here and each volume is >= I: an I below DBL_MIN means
   * the products underflowed (sides of 1e-110: I = 1e-330 rounds to 0;
   * sides near 1e-105 leave a subnormal I with few bits), and a U above
   * DBL_MAX (or NaN, inf - inf) that they overflowed (sides of 1e103). */
  *range_ok = inter >= DBL_MIN && u <= DBL_MAX;
  return u > 0 ? inter / u : 0.0;
}

double rk__geo_iou3d(const double a[6], const double b[6]) {
  int ok;
  double v = iou3d_plain(a, b, &ok);
  if (ok) return v; /* every box of ordinary size: the plain bits */
  /* IoU is a ratio of volumes; scaling axis k by s_k multiplies every
   * volume (I, both boxes, U) by s_x s_y s_z, so it does not change the
   * ratio. With each axis' enclosing extent in [1, 2) nothing overflows,
   * and nothing underflows unless the IoU itself is below about 2^-340
   * (the longer side on each axis is >= 1/2 of the extent, so IoU >= t
   * needs I >= t^3 / 8). Identical boxes score exactly 1. */
  double x[6], y[6];
  memcpy(x, a, sizeof x);
  memcpy(y, b, sizeof y);
  for (int k = 0; k < 3; k++) rk__rescale_axis(&x[k], &x[k + 3], &y[k], &y[k + 3]);
  return iou3d_plain(x, y, &ok);
}

/* --------------------------------------------------------------- iou3d */

enum { I3_MEAN_MAX, I3_MAX, I3_LAST };
static const char *const i3_modes[] = {"mean_max", "max", "last", NULL};
static const char *const i3_fmts[] = {"xyzxyz", "cxcyczwhd", NULL};

typedef struct i3_cfg {
  rk__extract_cfg ex;
  int mode, fmt, ref_fmt;
  double threshold;
  long max_boxes;
} i3_cfg;

static void i3_free(void *v) {
  i3_cfg *cfg = v;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int i3_compile(rk__argctx *ac, void **out) {
  i3_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__geo_extract_compile(ac, &cfg->ex) ||
      rk__arg_enum(ac, "mode", i3_modes, I3_MEAN_MAX, &cfg->mode) ||
      rk__arg_enum(ac, "box_format", i3_fmts, 0, &cfg->fmt) ||
      rk__arg_enum(ac, "ref_format", i3_fmts, cfg->fmt, &cfg->ref_fmt) ||
      rk__arg_num_range(ac, "threshold", 0, 0, 1, &cfg->threshold) ||
      rk__arg_int(ac, "max_boxes", 100, 1, 1L << 16, &cfg->max_boxes)) {
    i3_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

/* Why a 3D box is invalid. */
enum { I3_OK, I3_BAD_SIZE, I3_BAD_RANGE };

/* To corners (lo, hi per axis); I3_BAD_SIZE when a size is not positive
 * (a flat box), I3_BAD_RANGE when
 * a corner is beyond 1e15 in absolute value. The 2D boxes drop the same
 * coordinates (vision/boxes.c): no scene is that large in any unit, and
 * such numbers in an answer are junk, not a box. */
static int to_corners(const double *in, int fmt, double out[6]) {
  if (fmt == 1) {
    for (int k = 0; k < 3; k++) {
      out[k] = in[k] - in[k + 3] / 2;
      out[k + 3] = in[k] + in[k + 3] / 2;
    }
  } else {
    /* Two opposite corners in either order: 3D-R1 builds the 8 corners
     * and takes the min and max of each axis, so [2,2,2,0,0,0] is the
     * box [0,0,0,2,2,2] there too. */
    for (int k = 0; k < 3; k++) {
      out[k] = fmin(in[k], in[k + 3]);
      out[k + 3] = fmax(in[k], in[k + 3]);
      if (isnan(in[k]) || isnan(in[k + 3])) out[k] = out[k + 3] = NAN;
    }
  }
  for (int k = 0; k < 6; k++)
    if (!(fabs(out[k]) <= 1e15)) return I3_BAD_RANGE;
  for (int k = 0; k < 3; k++)
    if (!(out[k + 3] > out[k])) return I3_BAD_SIZE;
  return I3_OK;
}

/* Valid 6-number boxes of a scan; nbad[0] counts the boxes with a size
 * <= 0, nbad[1] those with a coordinate beyond 1e15. */
static double *boxes6(rk__call *c, const rk__nl *nl, int fmt, size_t *nb, size_t nbad[2],
                      size_t *ntotal) {
  *nb = nbad[0] = nbad[1] = *ntotal = 0;
  double *b = rk__arena_alloc(c->arena, (nl->ntup + 1) * 6 * sizeof *b);
  if (!b) return NULL;
  for (size_t i = 0; i < nl->ntup; i++) {
    if (nl->tup[i].len != 6) continue;
    ++*ntotal;
    int why = to_corners(nl->nums + nl->tup[i].off, fmt, b + 6 * *nb);
    if (why == I3_OK)
      ++*nb;
    else
      ++nbad[why == I3_BAD_RANGE];
  }
  return b;
}

/* 3D-R1's ground truth gives each box as its 8 corners ([[x, y, z] x 8],
 * its `gt_box_corners`), of which it takes the min and max per axis: the
 * same here, for a reference in that form. Walks the JSON value v (depth
 * at most 64; a box is an array of exactly 8 arrays of 3 numbers),
 * storing up to cap boxes in b (6 numbers each, checked as to_corners
 * does: nbad as boxes6) and returning how many boxes of that form it
 * holds in all. */
static size_t corner_boxes(const rk__jval *v, int depth, double *b, size_t cap, size_t *nb,
                           size_t nbad[2]) {
  if (depth > 64) return 0;
  if (v->type == RK__JARR && v->u.arr.n == 8) {
    double lohi[6] = {INFINITY, INFINITY, INFINITY, -INFINITY, -INFINITY, -INFINITY};
    int corners = 1;
    for (size_t i = 0; i < 8 && corners; i++) {
      const rk__jval *p = &v->u.arr.items[i];
      corners = p->type == RK__JARR && p->u.arr.n == 3;
      for (size_t k = 0; k < 3 && corners; k++) {
        const rk__jval *x = &p->u.arr.items[k];
        corners = x->type == RK__JNUM;
        if (corners) {
          lohi[k] = fmin(lohi[k], x->u.num);
          lohi[k + 3] = fmax(lohi[k + 3], x->u.num);
        }
      }
    }
    if (corners) {
      if (b) {
        int why = to_corners(lohi, 0, b + 6 * *nb);
        if (why == I3_OK)
          ++*nb;
        else
          ++nbad[why == I3_BAD_RANGE];
      }
      return 1;
    }
  }
  size_t found = 0;
  if (v->type == RK__JARR)
    for (size_t i = 0; i < v->u.arr.n && (!b || found < cap); i++)
      found += corner_boxes(&v->u.arr.items[i], depth + 1, b, cap - found, nb, nbad);
  else if (v->type == RK__JOBJ)
    for (size_t i = 0; i < v->u.obj.n && (!b || found < cap); i++)
      found += corner_boxes(&v->u.obj.items[i].val, depth + 1, b, cap - found, nb, nbad);
  return found;
}

/* The reference's boxes into *out: its 6-number groups (boxes6) and,
 * when it is JSON, its boxes given as 8 corners (a reference string is
 * parsed for them, charged one more step per byte). */
static rk_status ref_boxes(rk__call *c, const rk__nl *nl, int fmt, double **out, size_t *nb,
                           size_t nbad[2], size_t *ntotal) {
  double *b6 = boxes6(c, nl, fmt, nb, nbad, ntotal);
  if (!b6) return rk__fail(c, "out of scratch memory");
  *out = b6;
  const rk__jval *r = c->rec->reference;
  if (!r) return RK_STATUS_OK;
  if (r->type == RK__JSTR && !rk__spend(c, r->u.str.n + 1)) return RK_STATUS_TIMEOUT;
  const rk__jval *v = rk__geo_ref_json(r, c->arena, NULL);
  size_t none[2] = {0, 0}, nc = v ? corner_boxes(v, 0, NULL, 0, nb, none) : 0;
  if (!nc) return RK_STATUS_OK;
  double *b = rk__arena_alloc(c->arena, (*nb + nc) * 6 * sizeof *b);
  if (!b) return rk__fail(c, "out of scratch memory");
  memcpy(b, b6, *nb * 6 * sizeof *b);
  corner_boxes(v, 0, b, nc, nb, nbad);
  *ntotal += nc;
  *out = b;
  return RK_STATUS_OK;
}

/* "1 with a size <= 0, 1 with |coordinate| > 1e15" into buf. */
static void describe_bad(const size_t nbad[2], char *buf, size_t cap) {
  int o = 0;
  buf[0] = '\0';
  if (nbad[0]) o = snprintf(buf, cap, "%zu with a size <= 0", nbad[0]);
  if (nbad[1] && o >= 0 && (size_t)o < cap)
    snprintf(buf + o, cap - (size_t)o, "%s%zu with |coordinate| > 1e15", o ? ", " : "", nbad[1]);
}

static rk_status i3_score(const void *v, rk__call *c, double *value) {
  const i3_cfg *cfg = v;
  *value = 0;
  rk__nl ref, ans;
  rk_status st = rk__geo_ref_scan(c, c->rec->reference, &ref);
  if (st != RK_STATUS_OK) return st;
  size_t ng, ngbad[2], ngt;
  double *g = NULL;
  if ((st = ref_boxes(c, &ref, cfg->ref_fmt, &g, &ng, ngbad, &ngt)) != RK_STATUS_OK) return st;
  if (ng == 0) {
    char why[96] = "";
    describe_bad(ngbad, why, sizeof why);
    rk__explain(c, "reference has no valid 3D box (6 numbers or 8 corners)%s%s%s", why[0] ? " (all invalid: " : "",
                why, why[0] ? ")" : "");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__str text;
  st = rk__geo_answer(&cfg->ex, c, &text, &ans);
  if (st != RK_STATUS_OK) return st;
  size_t np, npbad[2], npt;
  double *p = boxes6(c, &ans, cfg->fmt, &np, npbad, &npt);
  if (!p) return rk__fail(c, "out of scratch memory");
  if (npt == 0) {
    rk__explain(c, "no 3D box of 6 numbers in the answer");
    return RK_STATUS_UNPARSEABLE;
  }
  if ((long)npt > cfg->max_boxes) {
    rk__explain(c, "%zu boxes, over max_boxes %ld: reward 0", npt, cfg->max_boxes);
    return RK_STATUS_OK;
  }
  /* A 3D IoU (two volumes, a division) takes about as long as 16 steps
   * of byte scanning: charged so, ~120M pairs would run 3 s as "ok". */
  if (!rk__spend(c, 16 * (uint64_t)np * ng + 1)) return RK_STATUS_TIMEOUT;
  /* 3D-R1 perception: mean over predicted boxes of the best IoU with any
   * reference box. Invalid predicted boxes count as IoU 0 in the mean, so
   * adding junk boxes never raises the reward. */
  double sum = 0, best = 0, last = 0;
  for (size_t i = 0; i < np; i++) {
    double m = 0;
    for (size_t j = 0; j < ng; j++) m = fmax(m, rk__geo_iou3d(p + 6 * i, g + 6 * j));
    if (cfg->threshold > 0) m = m >= cfg->threshold ? 1.0 : 0.0;
    sum += m;
    best = fmax(best, m);
    last = m;
  }
  if (cfg->mode == I3_MEAN_MAX)
    *value = sum / (double)npt;
  else if (cfg->mode == I3_MAX)
    *value = best;
  else
    *value = np ? last : 0; /* the last valid box */
  if (rk__explaining(c)) {
    char a[32], b[32];
    rk__fmt_double(a, best);
    rk__fmt_double(b, *value);
    char bad[160] = "", why[96];
    describe_bad(npbad, why, sizeof why);
    if (npbad[0] + npbad[1])
      snprintf(bad, sizeof bad, " (%zu invalid, counted 0: %s)", npbad[0] + npbad[1], why);
    rk__explain(c, "%zu predicted box%s%s vs %zu reference; best IoU %s; %s%s %s", npt,
                npt == 1 ? "" : "es", bad, ng, a, i3_modes[cfg->mode],
                cfg->threshold > 0 ? " of thresholded IoU" : "", b);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_iou3d = {
    .name = "iou3d",
    .summary = "axis-aligned 3D IoU; 3D-R1 perception: mean over predicted boxes of the best IoU",
    .compile = i3_compile,
    .score = i3_score,
    .free = i3_free,
};

/* ----------------------------------------------------- action_distance */

enum { AN_L1, AN_L2, AN_MEAN_ABS, AN_RMSE, AN_LINF };
static const char *const an_names[] = {"l1", "l2", "mean_abs", "rmse", "linf", NULL};
enum { AR_NEG, AR_THRESHOLD, AR_LINEAR, AR_EXP };
static const char *const ar_names[] = {"neg", "threshold", "linear", "exp", NULL};

typedef struct act_cfg {
  rk__extract_cfg ex;
  int norm, reward;
  double tol, fail_value;
} act_cfg;

static void act_free(void *v) {
  act_cfg *cfg = v;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int act_compile(rk__argctx *ac, void **out) {
  act_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__geo_extract_compile(ac, &cfg->ex) ||
      rk__arg_enum(ac, "norm", an_names, AN_L1, &cfg->norm) ||
      rk__arg_enum(ac, "reward", ar_names, AR_LINEAR, &cfg->reward) ||
      rk__arg_num_range(ac, "tol", cfg->reward == AR_NEG ? 0 : 0.1, 0, 1e300, &cfg->tol)) {
    act_free(cfg);
    return -1;
  }
  if (cfg->reward != AR_NEG && !(cfg->tol > 0)) {
    int r = cfg->reward;
    act_free(cfg);
    return rk__arg_error(ac, "tol", "must be > 0 for reward \"%s\"", ar_names[r]);
  }
  /* With reward "neg" every answer scores <= 0, so 0 for a missing action
   * would reward not answering: the penalty must be chosen explicitly. */
  if (cfg->reward == AR_NEG && !rk__arg_raw(ac, "fail_value")) {
    act_free(cfg);
    return rk__arg_error(ac, "fail_value",
                         "required with reward \"neg\": the reward of an answer without a "
                         "usable action vector (e.g. -2)");
  }
  if (rk__arg_num(ac, "fail_value", 0, &cfg->fail_value)) {
    act_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

/* l2, rmse or mean_abs of a - b with every difference scaled by 2^-e, e
 * the exponent of the largest one, and the result scaled back, as hypot
 * does: no square overflows or underflows unless it is negligible next
 * to the largest (below 2^-1022 of it). For the few vectors where the
 * plain sums leave the double range. */
static double act_dist_scaled(int norm, const double *a, const double *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
  if (m == 0 || isinf(m)) return m; /* equal vectors; or a difference past DBL_MAX */
  int e = ilogb(m);
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = ldexp(fabs(a[i] - b[i]), -e);
    s += norm == AN_MEAN_ABS ? d : d * d;
  }
  if (norm == AN_L2) return ldexp(sqrt(s), e);
  if (norm == AN_RMSE) return ldexp(sqrt(s / (double)n), e);
  return ldexp(s / (double)n, e); /* mean_abs */
}

static double act_dist(int norm, const double *a, const double *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(a[i] - b[i]);
    if (norm == AN_L2 || norm == AN_RMSE)
      s += d * d;
    else if (norm == AN_LINF)
      s = fmax(s, d);
    else
      s += d;
  }
  /* A sum of squares overflows for differences from about 1e154 on (l2
   * of [1e200] and [0] is 1e200, not inf), and underflows below about
   * 1e-154 (l2 of [1e-200] and [0] is 1e-200, not 0); a mean of absolute
   * differences can overflow in the sum although the mean is finite.
   * Those take the scaled way; every other vector keeps the plain bits.
   * For l1 and linf an overflowed sum is the true value: past DBL_MAX. */
  if ((norm == AN_L2 || norm == AN_RMSE) && !(s >= DBL_MIN && s <= DBL_MAX))
    return act_dist_scaled(norm, a, b, n);
  if (norm == AN_MEAN_ABS && !(s <= DBL_MAX)) return act_dist_scaled(norm, a, b, n);
  if (norm == AN_L2) return sqrt(s);
  if (norm == AN_RMSE) return sqrt(s / (double)n);
  if (norm == AN_MEAN_ABS) return s / (double)n;
  return s;
}

static rk_status act_score(const void *v, rk__call *c, double *value) {
  const act_cfg *cfg = v;
  *value = cfg->fail_value;
  rk__nl ref, ans;
  rk_status st = rk__geo_ref_scan(c, c->rec->reference, &ref);
  if (st != RK_STATUS_OK) return st;
  if (ref.nflat == 0) {
    rk__explain(c, "reference has no numbers");
    return RK_STATUS_INVALID_REFERENCE;
  }
  size_t n = ref.nflat;
  rk__str text;
  st = rk__geo_answer(&cfg->ex, c, &text, &ans);
  if (st != RK_STATUS_OK) return st;
  *value = cfg->fail_value;
  /* Candidates, first of the reference length wins: all bracket groups
   * together (an action chunk [[..],[..]]), the last group, every number. */
  const double *pred = NULL;
  const char *from = NULL;
  if (ans.nnums == n) {
    pred = ans.nums, from = ans.ntup > 1 ? "bracket groups" : "bracket group";
  } else if (ans.ntup && ans.tup[ans.ntup - 1].len == n) {
    pred = ans.nums + ans.tup[ans.ntup - 1].off, from = "last bracket group";
  } else if (ans.nflat == n) {
    pred = ans.flat, from = "numbers of the answer";
  }
  if (ans.nflat == 0) {
    rk__explain(c, "no numbers in the answer");
    return RK_STATUS_UNPARSEABLE;
  }
  if (!pred) {
    size_t got = ans.ntup ? ans.tup[ans.ntup - 1].len : ans.nflat;
    rk__explain(c, "predicted %zu numbers, reference has %zu", got, n);
    return RK_STATUS_UNPARSEABLE;
  }
  if (!rk__spend(c, n + 1)) return RK_STATUS_TIMEOUT;
  double d = act_dist(cfg->norm, pred, ref.flat, n);
  /* Only numbers near the ends of the double range (differences or sums
   * past 1.8e308) get here: the distance itself is not a double. The
   * bounded rewards have a limit (0); -d has none, so that is an error
   * that says why rather than a reward of -inf. */
  if (isinf(d) && cfg->reward == AR_NEG) {
    rk__explain(c, "%zu-dim action from %s; %s distance beyond the double range (> 1.8e308): no "
                   "finite neg reward",
                n, from, an_names[cfg->norm]);
    return rk__fail(c, "%s distance beyond the double range (> 1.8e308)", an_names[cfg->norm]);
  }
  switch (cfg->reward) {
    case AR_NEG: /* NORA-1.5 deviation: -d, with a dead zone of tol */
      *value = d > cfg->tol ? -(d - cfg->tol) : 0.0;
      break;
    case AR_THRESHOLD:
      *value = d <= cfg->tol ? 1.0 : 0.0;
      break;
    case AR_LINEAR:
      *value = d >= cfg->tol ? 0.0 : 1.0 - d / cfg->tol;
      break;
    default:
      *value = exp(-d / cfg->tol);
      break;
  }
  if (rk__explaining(c)) {
    char a[32], b[32], t[32];
    if (isinf(d))
      snprintf(a, sizeof a, "> 1.8e308");
    else
      rk__fmt_double(a, d);
    rk__fmt_double(b, *value);
    rk__fmt_double(t, cfg->tol);
    rk__explain(c, "%zu-dim action from %s; %s distance %s (tol %s); %s %s", n, from,
                an_names[cfg->norm], a, t, ar_names[cfg->reward], b);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_action_distance = {
    .name = "action_distance",
    .summary = "L1/L2 deviation of the predicted action vector from the reference, as -d or with a tolerance",
    .compile = act_compile,
    .score = act_score,
    .free = act_free,
};
