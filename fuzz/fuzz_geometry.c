/*
 * fuzz_geometry.c - libFuzzer target for the geometry family's parsers on
 * arbitrary bytes: the number scanner, maze grids (text and, when the
 * input is JSON, matrices), maze paths, the walk, BFS, point in polygon
 * and the rotation parser.
 *
 * Oracles, beyond "no crash, no sanitizer report":
 * - scanner tuples lie inside nums[], every count within the caps;
 * - BFS agrees with an independent fixed-point relaxation of distances on
 *   grids up to 400 cells;
 * - a walked path that is valid and reaches the goal is never shorter
 *   than BFS, and "reached" implies "valid";
 * - inside by even-odd implies inside by nonzero (odd winding != 0);
 * - rotation angles are in [0, 360);
 * - the point rewards (point_in_box, point_in_polygon, keypoint_distance)
 *   with coordinate conventions end to end: the reward of an "ok" record
 *   is in [0, 1]; with the image size (and model input size) in the record
 *   no record is an "error"; without them, a spec converting units never
 *   comes out "ok" (it must not compare raw numbers).
 *
 * Input: the bytes up to the first 0x00 are the grid, the rest the path
 * (and the polygon's and the rotation parser's text). For the point
 * rewards the grid part is the reference (a string), the rest the
 * response; the first byte picks the image size (or none).
 *
 *   build-fuzz/fuzz_geometry fuzz/corpus/geometry -max_total_time=120
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "json/json.h"
#include "rewardkit.h"
#include "vision/geometry.h"

#define CHECK(c)                \
  do {                          \
    if (!(c)) __builtin_trap(); \
  } while (0)

static rk__arena g_arena;
static int g_init;
static rk_ctx *g_ctx;

/* Point rewards with unit conversions; needs[i]: converts units, so it
 * needs the image size (1), or not (0: same units on both sides). */
static const char *const g_spec_text[] = {
    "{\"reward\": {\"fn\": \"point_in_box\", \"args\": {\"coords\": \"1000\"}}}",
    "{\"reward\": {\"fn\": \"point_in_box\", \"args\": {\"ref_coords\": \"unit\","
    " \"box_format\": \"xywh\", \"mode\": \"any\"}}}",
    "{\"reward\": {\"fn\": \"point_in_polygon\", \"args\": {\"coords\": \"grid\","
    " \"rule\": \"nonzero\"}}}",
    "{\"reward\": {\"fn\": \"point_in_polygon\", \"args\": {\"coords\": \"unit\","
    " \"ref_coords\": \"unit\"}}}",
    "{\"reward\": {\"fn\": \"keypoint_distance\", \"args\": {\"coords\": 1000,"
    " \"ref_coords\": \"unit\", \"reward\": \"gaussian\", \"match\": \"nearest\"}}}",
    "{\"reward\": {\"fn\": \"keypoint_distance\", \"args\": {\"coords\": \"1000\","
    " \"ref_coords\": \"1000\", \"reward\": \"linear\", \"threshold\": 20}}}",
    "{\"reward\": {\"fn\": \"keypoint_distance\", \"args\": {\"normalize\": \"diag\","
    " \"coords\": \"grid\", \"width_field\": \"img.w\", \"height_field\": \"img.h\"}}}",
    /* 3D boxes and action vectors (no units): in range, never an error,
     * at any size (the rescaled and hypot-style paths) */
    "{\"reward\": {\"fn\": \"iou3d\"}}",
    "{\"reward\": {\"fn\": \"action_distance\", \"args\": {\"norm\": \"l2\", \"reward\": \"exp\"}}}",
    "{\"reward\": {\"fn\": \"action_distance\", \"args\": {\"norm\": \"rmse\"}}}",
    NULL};
static const int g_needs[] = {1, 1, 1, 0, 1, 0, 1, 0, 0, 0};
static rk_spec *g_specs[12];

/* Scores every point spec on one record; size_pick chooses the sizes the
 * record carries (0, 1: image and model input sizes; 2, 3: none usable). */
static void score_points(const char *ref, size_t rn, const char *resp, size_t pn, int size_pick) {
  static const char *const sizes[] = {
      ", \"width\": 640, \"height\": 480, \"input_width\": 448, \"input_height\": 336,"
      " \"img\": {\"w\": 640, \"h\": 480}",
      ", \"width\": 1e-300, \"height\": 3, \"input_width\": 7, \"input_height\": 1e9,"
      " \"img\": {\"w\": 1e-300, \"h\": 3}",
      "", ", \"width\": 0, \"height\": -4, \"img\": {\"w\": \"640\"}"};
  int with_size = size_pick < 2;
  /* The record reader refuses NUL in strings (status "error" for the
   * whole record): the no-error oracle holds only without them. */
  int clean = !memchr(resp, 0, pn) && !memchr(ref, 0, rn);
  rk__buf rec;
  rk__buf_init(&rec, 0);
  rk__buf_puts(&rec, "{\"response\": ");
  rk__json_put_str(&rec, resp, pn);
  rk__buf_puts(&rec, ", \"reference\": ");
  rk__json_put_str(&rec, ref, rn);
  rk__buf_puts(&rec, sizes[size_pick]);
  rk__buf_puts(&rec, "}");
  CHECK(!rec.oom);
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.explain = 1;
  so.step_budget = 10000000;
  for (int i = 0; g_specs[i]; i++) {
    char *out = NULL;
    size_t n = 0;
    if (rk_score_one(g_ctx, g_specs[i], &so, rec.p, rec.n, &out, &n) != RK_OK) continue;
    CHECK(out && n > 0);
    int ok = memmem(out, n, "\"status\":\"ok\"", 13) != NULL;
    if (ok) {
      const char *r = memmem(out, n, "\"reward\":", 9);
      CHECK(r);
      double v = strtod(r + 9, NULL);
      CHECK(v >= 0 && v <= 1);
    }
    if (with_size && clean) CHECK(!memmem(out, n, "\"status\":\"error\"", 16));
    if (!with_size && g_needs[i]) CHECK(!ok);
    rk_free(out);
  }
  rk__buf_release(&rec);
}

/* Distances by repeated relaxation until nothing changes: O(cells^2) but
 * obviously right; -1 unreachable. */
static long relax(const rk__maze *m) {
  long n = m->rows * m->cols;
  long *d = malloc((size_t)n * sizeof *d);
  if (!d) return -3;
  for (long i = 0; i < n; i++) d[i] = -1;
  d[m->sr * m->cols + m->sc] = 0;
  for (int changed = 1; changed;) {
    changed = 0;
    for (long i = 0; i < n; i++) {
      if (m->cell[i] != RK__MAZE_OPEN || d[i] < 0) continue;
      long r = i / m->cols, c = i % m->cols;
      long nb[4] = {r > 0 ? i - m->cols : -1, r + 1 < m->rows ? i + m->cols : -1,
                    c > 0 ? i - 1 : -1, c + 1 < m->cols ? i + 1 : -1};
      for (int k = 0; k < 4; k++) {
        long j = nb[k];
        if (j < 0 || m->cell[j] != RK__MAZE_OPEN) continue;
        if (d[j] < 0 || d[j] > d[i] + 1) d[j] = d[i] + 1, changed = 1;
      }
    }
  }
  long g = d[m->gr * m->cols + m->gc];
  free(d);
  return g;
}

static void check_maze(rk__maze *m, const char *path, size_t pn) {
  CHECK(m->rows > 0 && m->cols > 0 && m->rows * m->cols <= 4096);
  if (m->sr < 0 || m->gr < 0) return;
  m->cell[m->sr * m->cols + m->sc] = RK__MAZE_OPEN;
  m->cell[m->gr * m->cols + m->gc] = RK__MAZE_OPEN;
  uint64_t steps = 0;
  long best = rk__maze_bfs(m, &g_arena, &steps, UINT64_MAX);
  CHECK(best >= -1);
  if (m->rows * m->cols <= 400) CHECK(relax(m) == best);
  for (int xy = 0; xy < 2; xy++) {
    rk__maze_path p;
    CHECK(rk__maze_parse_path(path, pn, &g_arena, 64, xy, xy, &p) == 0);
    CHECK(p.n <= 65);
    rk__maze_walk w;
    rk__maze_walk_path(m, &p, xy, xy, &w);
    CHECK(!w.reached || w.valid);
    CHECK(w.valid || w.bad_step > 0);
    if (w.reached) CHECK(best >= 0 && (long)w.len >= best);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_init) {
    rk__arena_init(&g_arena, (size_t)256 << 20);
    rk_ctx_options co = {1};
    CHECK(rk_ctx_create(&co, &g_ctx) == RK_OK);
    char err[512];
    for (int i = 0; g_spec_text[i]; i++)
      CHECK(rk_spec_compile(g_spec_text[i], strlen(g_spec_text[i]), &g_specs[i], err,
                            sizeof err) == RK_OK);
    g_init = 1;
  }
  rk__arena_reset(&g_arena);
  const char *p = (const char *)data;
  const char *z = memchr(p, 0, size);
  size_t gn = z ? (size_t)(z - p) : size;
  const char *q = z ? z + 1 : p + size;
  size_t qn = z ? size - gn - 1 : 0;

  /* Scanner invariants. */
  rk__nl nl;
  CHECK(rk__nl_scan(p, size, &g_arena, 0, &nl) == 0);
  CHECK(nl.nflat <= size && nl.nnums <= nl.nflat);
  for (size_t i = 0; i < nl.ntup; i++) {
    CHECK(nl.tup[i].len > 0 && nl.tup[i].off + nl.tup[i].len <= nl.nnums);
    CHECK(nl.tup[i].pos < size && (p[nl.tup[i].pos] == '(' || p[nl.tup[i].pos] == '['));
    if (i) CHECK(nl.tup[i].off >= nl.tup[i - 1].off + nl.tup[i - 1].len);
  }

  /* Grids: text, and JSON when the grid part parses. */
  rk__maze m;
  char why[160];
  int r = rk__maze_parse_text(p, gn, &g_arena, 4096, &m, why, sizeof why);
  CHECK(r == 0 || r == -1);
  CHECK(r == 0 || why[0] != '\0');
  if (r == 0) check_maze(&m, q, qn);
  rk__jval *v = NULL;
  if (rk__json_parse(p, gn, &g_arena, NULL, &v, NULL) == 0) {
    r = rk__maze_parse_json(v, &g_arena, 4096, &m, why, sizeof why);
    CHECK(r == 0 || r == -1);
    if (r == 0) check_maze(&m, q, qn);
  }

  /* Point in polygon: pairs of the path part as the polygon, each pair
   * as a query point. */
  rk__nl pl;
  CHECK(rk__nl_scan(q, qn, &g_arena, 512, &pl) == 0);
  int tame = 1; /* no overflow to inf in the cross products */
  for (size_t i = 0; i < pl.nflat; i++) tame &= pl.flat[i] > -1e150 && pl.flat[i] < 1e150;
  if (pl.nflat >= 6 && tame) {
    size_t k = pl.nflat / 2;
    for (size_t i = 0; i < k && i < 16; i++) {
      double x = pl.flat[2 * i], y = pl.flat[2 * i + 1];
      /* A vertex is on the boundary, whatever the rule. */
      CHECK(rk__geo_point_in_polygon(x, y, pl.flat, k, RK__PIP_EVENODD) == 2);
      CHECK(rk__geo_point_in_polygon(x, y, pl.flat, k, RK__PIP_NONZERO) == 2);
    }
    double x = size ? (double)data[0] : 0.5, y = size > 1 ? (double)data[1] : 0.5;
    int eo = rk__geo_point_in_polygon(x, y, pl.flat, k, RK__PIP_EVENODD);
    int nz = rk__geo_point_in_polygon(x, y, pl.flat, k, RK__PIP_NONZERO);
    CHECK((eo == 2) == (nz == 2));
    if (eo == 1) CHECK(nz == 1);
  }

  /* Rotation. */
  double deg;
  int dir;
  int k = rk__rot_parse(p, size, &deg, &dir);
  CHECK(k >= 0);
  if (k) CHECK(deg >= 0 && deg < 360);
  CHECK(dir >= -1 && dir <= 1);

  /* The point rewards end to end, with and without the image size. */
  score_points(p, gn, q, qn, size ? data[0] % 4 : 2);
  return 0;
}
