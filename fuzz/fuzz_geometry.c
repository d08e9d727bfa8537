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
 * - rotation angles are in [0, 360).
 *
 * Input: the bytes up to the first 0x00 are the grid, the rest the path
 * (and the polygon's and the rotation parser's text).
 *
 *   build-fuzz/fuzz_geometry fuzz/corpus/geometry -max_total_time=120
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "json/json.h"
#include "vision/geometry.h"

#define CHECK(c)                \
  do {                          \
    if (!(c)) __builtin_trap(); \
  } while (0)

static rk__arena g_arena;
static int g_init;

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
  return 0;
}
