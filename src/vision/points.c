/*
 * points.c - affordance-style point rewards: `point_in_box` (predicted
 * points inside the reference box or boxes), `point_in_polygon` (inside a
 * reference polygon, even-odd or nonzero rule) and `keypoint_distance`
 * (normalised distance to reference keypoints, thresholded or decaying).
 *
 * Points come from the answer as innermost number pairs: "(x, y)",
 * "[x, y]", {"point_2d": [x, y]} (vision/numlist.c). Coordinates follow
 * the box rewards' conventions (coords / ref_coords: pixel, unit, 1000,
 * grid, with the image size from the record): both sides are brought to
 * one unit by vision/boxes.c's rk__coordargs_scale before comparing.
 *
 * Not for: box-vs-box overlap (vision/boxes.c) or 3D (spatial.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/extract.h"
#include "vision/boxes.h"
#include "vision/geometry.h"

/* ---------------------------------------------------------- formulas */

int rk__geo_point_in_box(double x, double y, const double b[4], int inclusive) {
  double x1 = fmin(b[0], b[2]), x2 = fmax(b[0], b[2]);
  double y1 = fmin(b[1], b[3]), y2 = fmax(b[1], b[3]);
  if (inclusive) return x >= x1 && x <= x2 && y >= y1 && y <= y2;
  return x > x1 && x < x2 && y > y1 && y < y2;
}

int rk__geo_point_in_polygon(double x, double y, const double *xy, size_t k,
                             rk__pip_rule rule) {
  /* Winding number by signed edge crossings (Sunday 2001, "Inclusion of a
   * point in a polygon"): an upward edge with the point strictly left adds
   * 1, a downward edge with the point strictly right subtracts 1. Each
   * event is one crossing of the ray to +x, so the crossing count has the
   * parity of the winding number: even-odd = wn odd, nonzero = wn != 0.
   * Half-open edges (y1 <= y < y2) count a vertex on the ray once. A point
   * with a zero cross product inside an edge's bounding box is on the
   * boundary (exact arithmetic on the given doubles). */
  long wn = 0;
  for (size_t i = 0; i < k; i++) {
    size_t j = i + 1 == k ? 0 : i + 1;
    double x1 = xy[2 * i], y1 = xy[2 * i + 1], x2 = xy[2 * j], y2 = xy[2 * j + 1];
    double cr = (x2 - x1) * (y - y1) - (x - x1) * (y2 - y1);
    if (cr == 0 && x >= fmin(x1, x2) && x <= fmax(x1, x2) && y >= fmin(y1, y2) &&
        y <= fmax(y1, y2))
      return 2;
    if (y1 <= y) {
      if (y2 > y && cr > 0) wn++;
    } else if (y2 <= y && cr < 0) {
      wn--;
    }
  }
  return rule == RK__PIP_NONZERO ? wn != 0 : (wn & 1) != 0;
}

/* Error-free transformations (Knuth's TwoSum; TwoProduct with one fused
 * multiply-add): a + b = *s + *e and a * b = *p + *e exactly, barring
 * overflow and products so small that their error is below 2^-1074. */
static void two_sum(double a, double b, double *s, double *e) {
  double x = a + b, bv = x - a, av = x - bv;
  *s = x;
  *e = (a - av) + (b - bv);
}

static void two_prod(double a, double b, double *p, double *e) {
  *p = a * b;
  *e = fma(a, b, -*p);
}

/* Adds b to the expansion h[0..n) (nonoverlapping, increasing magnitude,
 * no zeros) exactly, keeping those properties; returns the new length.
 * Shewchuk's GROW-EXPANSION with zero elimination ("Adaptive precision
 * floating-point arithmetic and fast robust geometric predicates", 1997).
 * Such an expansion sums to 0 only when it is empty. */
static size_t grow_expansion(double *h, size_t n, double b) {
  double q = b;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    double e;
    two_sum(q, h[i], &q, &e);
    if (e != 0) h[m++] = e;
  }
  if (q != 0) h[m++] = q;
  return m;
}

/* Smallest nonzero |coordinate| (after the per-axis scaling below) for
 * which the products are exact: 2^-400 * 2^-400 leaves their errors far
 * above 2^-1074. */
#define PIP_EXACT_MIN 0x1p-400

int rk__geo_polygon_collinear(const double *xy, size_t k) {
  /* All vertices on one line: the orientation of (v0, vj, vi) is exactly
   * 0 for every i, vj the first vertex that is not v0. Not a test on
   * consecutive edges (a repeated vertex makes an edge of length 0, whose
   * cross product is 0 in any polygon), and not the shoelace area (a
   * bow-tie has area 0 and an inside). The orientation
   *   x0*yj - y0*xj + xj*yi - yj*xi + xi*y0 - yi*x0
   * is summed exactly: six exact products, twelve terms, one expansion;
   * no rounding can make a thin genuine polygon look collinear or the
   * reverse. First each axis is scaled by a power of two (exact; it keeps
   * lines lines) so that its largest |coordinate| is in [1, 2): nothing
   * overflows. A coordinate below 2^-400 of its axis' largest one could
   * make a product inexact; then the polygon is kept (never refused on a
   * doubt). */
  if (k == 0) return 0;
  double mx = 0, my = 0;
  for (size_t i = 0; i < k; i++) mx = fmax(mx, fabs(xy[2 * i])), my = fmax(my, fabs(xy[2 * i + 1]));
  if (mx == 0 || my == 0) return 1; /* every vertex on an axis */
  int ex = ilogb(mx), ey = ilogb(my);
  size_t j = 1;
  while (j < k && xy[2 * j] == xy[0] && xy[2 * j + 1] == xy[1]) j++;
  if (j == k) return 1; /* one point */
  for (size_t i = 0; i < k; i++) {
    double ax = fabs(ldexp(xy[2 * i], -ex)), ay = fabs(ldexp(xy[2 * i + 1], -ey));
    if ((ax != 0 && ax < PIP_EXACT_MIN) || (ay != 0 && ay < PIP_EXACT_MIN)) return 0;
  }
  double x0 = ldexp(xy[0], -ex), y0 = ldexp(xy[1], -ey);
  double xj = ldexp(xy[2 * j], -ex), yj = ldexp(xy[2 * j + 1], -ey);
  for (size_t i = j + 1; i < k; i++) {
    double xi = ldexp(xy[2 * i], -ex), yi = ldexp(xy[2 * i + 1], -ey);
    const double f[6][2] = {{x0, yj}, {-y0, xj}, {xj, yi}, {-yj, xi}, {xi, y0}, {-yi, x0}};
    double h[13];
    size_t n = 0;
    for (int t = 0; t < 6; t++) {
      double p, e;
      two_prod(f[t][0], f[t][1], &p, &e);
      n = grow_expansion(h, n, e);
      n = grow_expansion(h, n, p);
    }
    if (n) return 0;
  }
  return 1;
}

/* -------------------------------------------------- shared point config */

enum { AGG_FRACTION, AGG_ANY, AGG_ALL };
static const char *const agg_names[] = {"fraction", "any", "all", NULL};

typedef struct pts_cfg {
  rk__extract_cfg ex;
  rk__coordargs co; /* coords, ref_coords, image size (as the box rewards) */
  int agg;
  long max_points;
  int inclusive;    /* point_in_box: boundary counts; polygon: boundary inside */
  int xywh;         /* point_in_box: reference boxes are x, y, w, h */
  int rule;         /* point_in_polygon */
} pts_cfg;

static void pts_free(void *v) {
  pts_cfg *cfg = v;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  rk__coordargs_free(&cfg->co);
  free(cfg);
}

/* Predicted points: the answer's pairs. Sets *np; OK or a status. */
static rk_status answer_points(const pts_cfg *cfg, rk__call *c, double **pts,
                               size_t *np, int *too_many) {
  rk__str ans;
  rk__nl nl;
  *np = 0;
  *too_many = 0;
  rk_status st = rk__geo_answer(&cfg->ex, c, &ans, &nl);
  if (st != RK_STATUS_OK) return st;
  size_t k = 0;
  for (size_t i = 0; i < nl.ntup; i++) k += nl.tup[i].len == 2;
  if (k == 0) {
    rk__explain(c, "no (x, y) point in the answer");
    return RK_STATUS_UNPARSEABLE;
  }
  if ((long)k > cfg->max_points) {
    *too_many = 1;
    *np = k;
    return RK_STATUS_OK;
  }
  double *p = rk__arena_alloc(c->arena, 2 * k * sizeof *p);
  if (!p) return rk__fail(c, "out of scratch memory");
  k = 0;
  for (size_t i = 0; i < nl.ntup; i++) {
    if (nl.tup[i].len != 2) continue;
    p[2 * k] = nl.nums[nl.tup[i].off];
    p[2 * k + 1] = nl.nums[nl.tup[i].off + 1];
    k++;
  }
  *pts = p;
  *np = k;
  return RK_STATUS_OK;
}

/* Multiplies the x of n points xy[0..2n) by sx and the y by sy (boxes
 * x1,y1,x2,y2 are two points). */
static void scale_xy(double *xy, size_t n, double sx, double sy) {
  if (sx == 1 && sy == 1) return;
  for (size_t i = 0; i < n; i++) xy[2 * i] *= sx, xy[2 * i + 1] *= sy;
}

/* The coordinate note of the explanation ("prediction in 1000, reference
 * in pixel coordinates, compared in pixels of a 640x480 image"), if any. */
static void explain_coords(rk__call *c, const rk__coordargs *co, const rk__coordscale *sc) {
  if (!rk__explaining(c)) return;
  char d[200];
  rk__coordscale_describe(co, sc, d, sizeof d);
  if (d[0]) rk__explain(c, "%s", d);
}

static double aggregate(int agg, size_t inside, size_t n) {
  if (n == 0) return 0;
  if (agg == AGG_ANY) return inside > 0;
  if (agg == AGG_ALL) return inside == n;
  return (double)inside / (double)n;
}

static int pts_common_compile(rk__argctx *ac, pts_cfg *cfg) {
  return rk__geo_extract_compile(ac, &cfg->ex) || rk__coordargs_compile(ac, &cfg->co) ||
         rk__arg_enum(ac, "mode", agg_names, AGG_FRACTION, &cfg->agg) ||
         rk__arg_int(ac, "max_points", 100, 1, 1L << 20, &cfg->max_points);
}

/* ------------------------------------------------------- point_in_box */

static int pib_compile(rk__argctx *ac, void **out) {
  static const char *const fmts[] = {"xyxy", "xywh", NULL};
  pts_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (pts_common_compile(ac, cfg) || rk__arg_bool(ac, "inclusive", 1, &cfg->inclusive) ||
      rk__arg_enum(ac, "box_format", fmts, 0, &cfg->xywh)) {
    pts_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

static rk_status pib_score(const void *v, rk__call *c, double *value) {
  const pts_cfg *cfg = v;
  *value = 0;
  rk__nl ref;
  rk_status st = rk__geo_ref_scan(c, c->rec->reference, &ref);
  if (st != RK_STATUS_OK) return st;
  /* Reference boxes: every group of exactly 4 numbers ([x1,y1,x2,y2], a
   * list of them, or {"bbox_2d": [...], "label": ...} objects). */
  size_t nb = 0, bad = 0;
  double *boxes = rk__arena_alloc(c->arena, (ref.ntup + 1) * 4 * sizeof *boxes);
  if (!boxes) return rk__fail(c, "out of scratch memory");
  for (size_t i = 0; i < ref.ntup; i++) {
    if (ref.tup[i].len != 4) continue;
    const double *b = ref.nums + ref.tup[i].off;
    double *o = boxes + 4 * nb;
    if (cfg->xywh) {
      o[0] = b[0], o[1] = b[1], o[2] = b[0] + b[2], o[3] = b[1] + b[3];
      if (b[2] < 0 || b[3] < 0) {
        bad++;
        continue;
      }
    } else {
      memcpy(o, b, 4 * sizeof *o);
    }
    nb++;
  }
  if (nb == 0) {
    rk__explain(c, "reference has no [x1, y1, x2, y2] box%s",
                bad ? " with a non-negative size" : "");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__coordscale sc;
  st = rk__coordargs_scale(&cfg->co, c, &sc);
  if (st != RK_STATUS_OK) return st;
  double *pts = NULL;
  size_t np = 0;
  int too_many = 0;
  st = answer_points(cfg, c, &pts, &np, &too_many);
  if (st != RK_STATUS_OK) return st;
  if (too_many) {
    rk__explain(c, "%zu points, over max_points %ld: reward 0", np, cfg->max_points);
    return RK_STATUS_OK;
  }
  if (!rk__spend(c, np * nb + np + nb + 1)) return RK_STATUS_TIMEOUT;
  scale_xy(boxes, 2 * nb, sc.rx, sc.ry);
  scale_xy(pts, np, sc.sx, sc.sy);
  size_t inside = 0, first_out = 0;
  for (size_t i = 0; i < np; i++) {
    int in = 0;
    for (size_t j = 0; j < nb && !in; j++)
      in = rk__geo_point_in_box(pts[2 * i], pts[2 * i + 1], boxes + 4 * j, cfg->inclusive);
    inside += in;
    if (!in && !first_out) first_out = i + 1;
  }
  *value = aggregate(cfg->agg, inside, np);
  if (rk__explaining(c)) {
    char a[32];
    rk__fmt_double(a, *value);
    if (first_out) {
      char x[32], y[32];
      rk__fmt_double(x, pts[2 * (first_out - 1)]);
      rk__fmt_double(y, pts[2 * (first_out - 1) + 1]);
      rk__explain(c, "%zu of %zu points inside %zu reference box%s (point %zu (%s, %s) is outside); %s %s",
                  inside, np, nb, nb == 1 ? "" : "es", first_out, x, y, agg_names[cfg->agg], a);
    } else {
      rk__explain(c, "%zu of %zu points inside %zu reference box%s; %s %s", inside, np, nb,
                  nb == 1 ? "" : "es", agg_names[cfg->agg], a);
    }
    explain_coords(c, &cfg->co, &sc);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_point_in_box = {
    .name = "point_in_box",
    .summary = "predicted (x, y) points inside the reference box(es): fraction, any or all",
    .compile = pib_compile,
    .score = pib_score,
    .free = pts_free,
};

/* --------------------------------------------------- point_in_polygon */

typedef struct poly_set {
  double *xy;     /* all vertices */
  size_t *start;  /* polygon i: vertices start[i] .. start[i+1] */
  size_t n, cap, nv, vcap;
} poly_set;

static int poly_push_vertex(poly_set *s, rk__arena *a, double x, double y) {
  if (s->nv == s->vcap) {
    size_t nc = s->vcap ? s->vcap * 2 : 64;
    double *nx = rk__arena_alloc(a, 2 * nc * sizeof *nx);
    if (!nx) return -1;
    if (s->nv) memcpy(nx, s->xy, 2 * s->nv * sizeof *nx);
    s->xy = nx, s->vcap = nc;
  }
  s->xy[2 * s->nv] = x, s->xy[2 * s->nv + 1] = y;
  s->nv++;
  return 0;
}

static int poly_close(poly_set *s, rk__arena *a, size_t from) {
  if (s->nv - from < 3) {
    s->nv = from; /* fewer than 3 vertices: not a polygon */
    return 0;
  }
  if (s->n + 2 > s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 8;
    size_t *ns = rk__arena_alloc(a, (nc + 2) * sizeof *ns);
    if (!ns) return -1;
    if (s->n) memcpy(ns, s->start, (s->n + 1) * sizeof *ns);
    s->start = ns, s->cap = nc;
  }
  s->start[s->n] = from;
  s->n++;
  s->start[s->n] = s->nv;
  return 0;
}

static int is_pair(const rk__jval *v) {
  return v->type == RK__JARR && v->u.arr.n == 2 && v->u.arr.items[0].type == RK__JNUM &&
         v->u.arr.items[1].type == RK__JNUM;
}

/* Collects polygons from a JSON value: [[x,y],...] (>= 3 pairs), a flat
 * [x1,y1,x2,y2,...] (even, >= 6 numbers), {"polygon"|"points"|
 * "segmentation"|"vertices": ...}, or an array of those. */
static int poly_collect(const rk__jval *v, poly_set *s, rk__arena *a, int depth) {
  if (depth > 8) return 0;
  if (v->type == RK__JOBJ) {
    static const char *const keys[] = {"polygon", "points", "segmentation", "vertices", "polygons"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      const rk__jval *x = rk__json_get(v, keys[i]);
      if (x) return poly_collect(x, s, a, depth + 1);
    }
    return 0;
  }
  if (v->type != RK__JARR || v->u.arr.n == 0) return 0;
  size_t n = v->u.arr.n;
  const rk__jval *it = v->u.arr.items;
  int all_pairs = 1, all_nums = 1;
  for (size_t i = 0; i < n; i++) {
    all_pairs &= is_pair(&it[i]);
    all_nums &= it[i].type == RK__JNUM;
  }
  if (all_pairs) {
    size_t from = s->nv;
    for (size_t i = 0; i < n; i++)
      if (poly_push_vertex(s, a, it[i].u.arr.items[0].u.num, it[i].u.arr.items[1].u.num))
        return -1;
    return poly_close(s, a, from);
  }
  if (all_nums) {
    if (n % 2) return 0;
    size_t from = s->nv;
    for (size_t i = 0; i + 1 < n; i += 2)
      if (poly_push_vertex(s, a, it[i].u.num, it[i + 1].u.num)) return -1;
    return poly_close(s, a, from);
  }
  for (size_t i = 0; i < n; i++)
    if (poly_collect(&it[i], s, a, depth + 1)) return -1;
  return 0;
}

static int pip_compile(rk__argctx *ac, void **out) {
  static const char *const rules[] = {"evenodd", "nonzero", NULL};
  static const char *const bnd[] = {"outside", "inside", NULL};
  pts_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (pts_common_compile(ac, cfg) || rk__arg_enum(ac, "rule", rules, 0, &cfg->rule) ||
      rk__arg_enum(ac, "boundary", bnd, 1, &cfg->inclusive)) {
    pts_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

static rk_status pip_score(const void *v, rk__call *c, double *value) {
  const pts_cfg *cfg = v;
  *value = 0;
  int is_text = 0;
  const rk__jval *ref = rk__geo_ref_json(c->rec->reference, c->arena, &is_text);
  poly_set s;
  memset(&s, 0, sizeof s);
  if (ref) {
    if (!rk__spend(c, ref->raw.n + 1)) return RK_STATUS_TIMEOUT;
    if (poly_collect(ref, &s, c->arena, 0)) return rk__fail(c, "out of scratch memory");
  } else if (is_text) {
    /* Plain text "(1,2) (3,4) (5,6)": one polygon of its pairs. */
    rk__nl nl;
    rk_status st = rk__geo_ref_scan(c, c->rec->reference, &nl);
    if (st != RK_STATUS_OK) return st;
    for (size_t i = 0; i < nl.ntup; i++)
      if (nl.tup[i].len == 2 &&
          poly_push_vertex(&s, c->arena, nl.nums[nl.tup[i].off], nl.nums[nl.tup[i].off + 1]))
        return rk__fail(c, "out of scratch memory");
    if (poly_close(&s, c->arena, 0)) return rk__fail(c, "out of scratch memory");
  }
  if (s.n == 0) {
    rk__explain(c, "reference has no polygon with 3 or more vertices");
    return RK_STATUS_INVALID_REFERENCE;
  }
  /* A polygon whose vertices are all on one line has no inside: only its
   * boundary, which would count as inside with boundary "inside". That
   * is a broken reference, not a target. */
  if (!rk__spend(c, s.nv + 1)) return RK_STATUS_TIMEOUT;
  for (size_t j = 0; j < s.n; j++)
    if (rk__geo_polygon_collinear(s.xy + 2 * s.start[j], s.start[j + 1] - s.start[j])) {
      if (s.n == 1)
        rk__explain(c, "reference polygon has zero area (its vertices are collinear)");
      else
        rk__explain(c, "reference polygon %zu of %zu has zero area (its vertices are collinear)",
                    j + 1, s.n);
      return RK_STATUS_INVALID_REFERENCE;
    }
  rk__coordscale sc;
  rk_status st = rk__coordargs_scale(&cfg->co, c, &sc);
  if (st != RK_STATUS_OK) return st;
  double *pts = NULL;
  size_t np = 0;
  int too_many = 0;
  st = answer_points(cfg, c, &pts, &np, &too_many);
  if (st != RK_STATUS_OK) return st;
  if (too_many) {
    rk__explain(c, "%zu points, over max_points %ld: reward 0", np, cfg->max_points);
    return RK_STATUS_OK;
  }
  if (!rk__spend(c, np * s.nv + np + s.nv + 1)) return RK_STATUS_TIMEOUT;
  scale_xy(s.xy, s.nv, sc.rx, sc.ry);
  scale_xy(pts, np, sc.sx, sc.sy);
  size_t inside = 0, on_edge = 0, first_out = 0;
  for (size_t i = 0; i < np; i++) {
    int in = 0;
    for (size_t j = 0; j < s.n && !in; j++) {
      int r = rk__geo_point_in_polygon(pts[2 * i], pts[2 * i + 1], s.xy + 2 * s.start[j],
                                       s.start[j + 1] - s.start[j], (rk__pip_rule)cfg->rule);
      if (r == 2) on_edge++;
      in = r == 1 || (r == 2 && cfg->inclusive);
    }
    inside += in;
    if (!in && !first_out) first_out = i + 1;
  }
  *value = aggregate(cfg->agg, inside, np);
  if (rk__explaining(c)) {
    char a[32];
    rk__fmt_double(a, *value);
    char edge[64] = "";
    if (on_edge)
      snprintf(edge, sizeof edge, ", %zu on the boundary (counted %s)", on_edge,
               cfg->inclusive ? "inside" : "outside");
    char fo[48] = "";
    if (first_out) snprintf(fo, sizeof fo, "; point %zu is outside", first_out);
    rk__explain(c, "%zu of %zu points inside %zu polygon%s (%s rule%s)%s; %s %s", inside, np,
                s.n, s.n == 1 ? "" : "s", cfg->rule ? "nonzero" : "even-odd", edge, fo,
                agg_names[cfg->agg], a);
    explain_coords(c, &cfg->co, &sc);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_point_in_polygon = {
    .name = "point_in_polygon",
    .summary = "predicted points inside the reference polygon(s), even-odd or nonzero rule",
    .compile = pip_compile,
    .score = pip_score,
    .free = pts_free,
};

/* -------------------------------------------------- keypoint_distance */

enum { KR_THRESHOLD, KR_LINEAR, KR_GAUSSIAN };
static const char *const kr_names[] = {"threshold", "linear", "gaussian", NULL};

typedef struct kp_cfg {
  rk__extract_cfg ex;
  rk__coordargs co; /* coords, ref_coords, image size (also for diag) */
  int reward, nearest, diag;
  double threshold, scale;
  long max_points;
} kp_cfg;

static void kp_free(void *v) {
  kp_cfg *cfg = v;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  rk__coordargs_free(&cfg->co);
  free(cfg);
}

static int kp_compile(rk__argctx *ac, void **out) {
  static const char *const match[] = {"order", "nearest", NULL};
  static const char *const norm[] = {"scale", "diag", NULL};
  kp_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__geo_extract_compile(ac, &cfg->ex) ||
      rk__arg_enum(ac, "reward", kr_names, KR_THRESHOLD, &cfg->reward) ||
      rk__arg_enum(ac, "match", match, 0, &cfg->nearest) ||
      rk__arg_enum(ac, "normalize", norm, 0, &cfg->diag) ||
      rk__arg_num_range(ac, "threshold", 0.05, 1e-300, 1e300, &cfg->threshold) ||
      rk__arg_num_range(ac, "scale", 1.0, 1e-300, 1e300, &cfg->scale) ||
      rk__coordargs_compile(ac, &cfg->co) ||
      rk__arg_int(ac, "max_points", 100, 1, 1L << 20, &cfg->max_points)) {
    kp_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

/* Per-keypoint credit for a normalised distance d and threshold t:
 * threshold: [d <= t]; linear: max(0, 1 - d/t); gaussian: exp(-d^2/(2 t^2))
 * (the OKS kernel with t in the place of s*k). */
static double kp_credit(int reward, double d, double t) {
  if (reward == KR_LINEAR) return d >= t ? 0.0 : 1.0 - d / t;
  if (reward == KR_GAUSSIAN) return exp(-(d * d) / (2 * t * t));
  return d <= t ? 1.0 : 0.0;
}

static rk_status kp_score(const void *v, rk__call *c, double *value) {
  const kp_cfg *cfg = v;
  *value = 0;
  double scale = cfg->scale;
  if (cfg->diag) {
    double W = rk__coord_size(c, cfg->co.width, cfg->co.width_field);
    double H = rk__coord_size(c, cfg->co.height, cfg->co.height_field);
    if (!(W > 0) || !(H > 0)) {
      rk__explain(c, "normalize \"diag\" needs the image size: positive numbers in record "
                     "fields '%s' and '%s' or args width/height",
                  cfg->co.width_field, cfg->co.height_field);
      return rk__fail(c, "normalize \"diag\" needs the image size: positive numbers in record "
                         "fields '%s' and '%s' or args width/height",
                      cfg->co.width_field, cfg->co.height_field);
    }
    scale = hypot(W, H);
  }
  rk__nl ref;
  rk_status st = rk__geo_ref_scan(c, c->rec->reference, &ref);
  if (st != RK_STATUS_OK) return st;
  size_t ng = 0;
  for (size_t i = 0; i < ref.ntup; i++) ng += ref.tup[i].len == 2;
  if (ng == 0) {
    rk__explain(c, "reference has no (x, y) keypoint");
    return RK_STATUS_INVALID_REFERENCE;
  }
  double *g = rk__arena_alloc(c->arena, 2 * ng * sizeof *g);
  if (!g) return rk__fail(c, "out of scratch memory");
  ng = 0;
  for (size_t i = 0; i < ref.ntup; i++)
    if (ref.tup[i].len == 2) {
      g[2 * ng] = ref.nums[ref.tup[i].off];
      g[2 * ng + 1] = ref.nums[ref.tup[i].off + 1];
      ng++;
    }
  rk__coordscale sc;
  st = rk__coordargs_scale(&cfg->co, c, &sc);
  if (st != RK_STATUS_OK) return st;
  pts_cfg pc;
  memset(&pc, 0, sizeof pc);
  pc.ex = cfg->ex;
  pc.max_points = cfg->max_points;
  double *p = NULL;
  size_t np = 0;
  int too_many = 0;
  st = answer_points(&pc, c, &p, &np, &too_many);
  if (st != RK_STATUS_OK) return st;
  if (too_many) {
    rk__explain(c, "%zu points, over max_points %ld: reward 0", np, cfg->max_points);
    return RK_STATUS_OK;
  }
  if (!rk__spend(c, np * ng + np + ng + 1)) return RK_STATUS_TIMEOUT;
  /* Distances are taken in the common unit: pixels whenever the image
   * size is known (so threshold and scale are in pixels, or relative to
   * the diagonal with normalize "diag"). */
  scale_xy(g, ng, sc.rx, sc.ry);
  scale_xy(p, np, sc.sx, sc.sy);
  double sum = 0, dsum = 0;
  size_t matched = 0, hits = 0, den = ng;
  if (cfg->nearest) {
    /* One point per keypoint: the closest (keypoint, point) pair first,
     * then the closest of those left (the first keypoint, then the first
     * point, on ties), each used once; the mean runs over max(points,
     * keypoints), so a point that matches no keypoint costs what a missed
     * keypoint costs and spraying points never helps. */
    const size_t m = np < ng ? np : ng;
    if (!rk__spend(c, (uint64_t)m * np * ng + 1)) return RK_STATUS_TIMEOUT;
    double *dist = rk__arena_alloc(c->arena, (np * ng + 1) * sizeof *dist);
    unsigned char *used = rk__arena_alloc(c->arena, np + ng + 1);
    if (!dist || !used) return rk__fail(c, "out of memory");
    memset(used, 0, np + ng + 1);
    for (size_t i = 0; i < ng; i++)
      for (size_t j = 0; j < np; j++)
        dist[i * np + j] = hypot(p[2 * j] - g[2 * i], p[2 * j + 1] - g[2 * i + 1]);
    for (size_t k = 0; k < m; k++) {
      double d = INFINITY;
      size_t bi = 0, bj = 0;
      for (size_t i = 0; i < ng; i++) {
        if (used[np + i]) continue;
        for (size_t j = 0; j < np; j++)
          if (!used[j] && dist[i * np + j] < d) d = dist[i * np + j], bi = i, bj = j;
      }
      if (!isfinite(d)) break;
      used[np + bi] = used[bj] = 1;
      d /= scale;
      sum += kp_credit(cfg->reward, d, cfg->threshold);
      dsum += d;
      matched++;
      hits += d <= cfg->threshold;
    }
    if (np > ng) den = np;
  } else {
    for (size_t i = 0; i < ng && i < np; i++) {
      double d = hypot(p[2 * i] - g[2 * i], p[2 * i + 1] - g[2 * i + 1]);
      if (!isfinite(d)) continue; /* missing keypoint: credit 0 */
      d /= scale;
      sum += kp_credit(cfg->reward, d, cfg->threshold);
      dsum += d;
      matched++;
      hits += d <= cfg->threshold;
    }
  }
  *value = sum / (double)den;
  if (rk__explaining(c)) {
    char a[32], b[32], t[32];
    rk__fmt_double(a, matched ? dsum / (double)matched : 0);
    rk__fmt_double(b, *value);
    rk__fmt_double(t, cfg->threshold);
    rk__explain(c, "%zu predicted, %zu reference keypoints (%s match); %zu matched, mean normalised "
                   "distance %s, %zu within %s; mean %s credit %s",
                np, ng, cfg->nearest ? "nearest" : "order", matched, a, hits, t,
                kr_names[cfg->reward], b);
    explain_coords(c, &cfg->co, &sc);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_keypoint_distance = {
    .name = "keypoint_distance",
    .summary = "mean per-keypoint credit of the normalised distance to reference keypoints",
    .compile = kp_compile,
    .score = kp_score,
    .free = kp_free,
};
