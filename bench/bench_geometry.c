/*
 * bench_geometry.c - speed of two geometry rewards, for comparison with
 * the pure-Python / numpy equivalents in bench/baseline_geometry.py (which
 * builds the same inputs from the same generator):
 *
 *   maze: records {"reference": "<64x64 grid text>", "response":
 *     "<answer>RRR...DDD</answer>"} scored end to end by fn `maze` through
 *     rk_score_batch on one thread (record JSON parse, grid parse, BFS,
 *     path parse and walk, output line): (maze, path) pairs per second;
 *   point_in_polygon: rk__geo_point_in_polygon (even-odd) for 1000 points
 *     against a 64-vertex star polygon: (point, polygon) pairs per second.
 *
 * Prints "name value" lines that baseline_geometry.py reads, best of
 * several passes. Never run as a test.
 *
 *   build/bench_geometry [maze_records] [passes]     (default 2000 5)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rewardkit.h"
#include "vision/geometry.h"

#define SIDE 64

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* 32-bit LCG shared with baseline_geometry.py. */
static unsigned g_s = 12345u;
static unsigned lcg(void) {
  g_s = g_s * 1103515245u + 12345u;
  return g_s >> 16;
}

/* A record: SIDE x SIDE grid, 28% walls, row 0 and the last column kept
 * open so that R^(SIDE-1) D^(SIDE-1) is a shortest path. Grid rows are
 * joined by "\n" escapes inside the JSON string. */
static size_t make_record(char *buf, size_t cap) {
  size_t o = 0;
  o += (size_t)snprintf(buf + o, cap - o, "{\"reference\": \"");
  for (int r = 0; r < SIDE; r++) {
    for (int c = 0; c < SIDE; c++) {
      char ch = (lcg() % 100) < 28 ? '#' : '.';
      if (r == 0 || c == SIDE - 1) ch = '.';
      if (r == 0 && c == 0) ch = 'S';
      if (r == SIDE - 1 && c == SIDE - 1) ch = 'G';
      buf[o++] = ch;
    }
    if (r + 1 < SIDE) buf[o++] = '\\', buf[o++] = 'n';
  }
  o += (size_t)snprintf(buf + o, cap - o, "\", \"response\": \"<answer>");
  for (int i = 0; i < SIDE - 1; i++) buf[o++] = 'R';
  for (int i = 0; i < SIDE - 1; i++) buf[o++] = 'D';
  o += (size_t)snprintf(buf + o, cap - o, "</answer>\"}");
  return o;
}

int main(int argc, char **argv) {
  size_t nrec = argc > 1 ? (size_t)atol(argv[1]) : 2000;
  int passes = argc > 2 ? atoi(argv[2]) : 5;
  if (nrec == 0 || passes <= 0) return 2;
  printf("bench_geometry: %zu maze records (%dx%d), best of %d\n", nrec, SIDE, SIDE, passes);
  printf("reproduce: %s %zu %d\n", argv[0], nrec, passes);

  /* ---- maze, end to end */
  char **recs = malloc(nrec * sizeof *recs);
  size_t *lens = malloc(nrec * sizeof *lens);
  if (!recs || !lens) return 1;
  for (size_t i = 0; i < nrec; i++) {
    recs[i] = malloc(16384);
    if (!recs[i]) return 1;
    lens[i] = make_record(recs[i], 16384);
  }
  const char *spec_txt = "{\"reward\": {\"fn\": \"maze\", \"args\": {\"mode\": \"ratio\"}}}";
  rk_spec *spec = NULL;
  char err[256];
  if (rk_spec_compile(spec_txt, strlen(spec_txt), &spec, err, sizeof err) != RK_OK) {
    fprintf(stderr, "spec: %s\n", err);
    return 1;
  }
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  if (rk_ctx_create(&co, &ctx) != RK_OK) return 1;
  double best = 1e30, sum = 0;
  for (int k = 0; k < passes; k++) {
    rk_batch *b = NULL;
    double t0 = now_s();
    if (rk_score_batch(ctx, spec, NULL, (const char *const *)recs, lens, nrec, &b) != RK_OK)
      return 1;
    double dt = now_s() - t0;
    if (dt < best) best = dt;
    sum = 0;
    for (size_t i = 0; i < rk_batch_count(b); i++) sum += rk_batch_reward(b, i);
    rk_batch_free(b);
  }
  printf("  maze %dx%d end to end: %.1f us/record, mean reward %.3f\n", SIDE, SIDE,
         best / (double)nrec * 1e6, sum / (double)nrec);
  printf("maze_pairs_per_s %.0f\n", (double)nrec / best);
  rk_ctx_destroy(ctx);
  rk_spec_free(spec);
  for (size_t i = 0; i < nrec; i++) free(recs[i]);
  free(recs);
  free(lens);

  /* ---- point in polygon */
  enum { NV = 64, NP = 1000 };
  static double poly[2 * NV], pts[2 * NP];
  for (int i = 0; i < NV; i++) {
    double ang = 2 * 3.14159265358979323846 * i / NV;
    double rad = i % 2 ? 40.0 : 100.0;
    poly[2 * i] = rad * cos(ang), poly[2 * i + 1] = rad * sin(ang);
  }
  for (int i = 0; i < NP; i++) {
    pts[2 * i] = (double)(lcg() % 20001) / 100.0 - 100.0;
    pts[2 * i + 1] = (double)(lcg() % 20001) / 100.0 - 100.0;
  }
  int reps = 200;
  best = 1e30;
  long inside = 0;
  for (int k = 0; k < passes; k++) {
    double t0 = now_s();
    inside = 0;
    for (int r = 0; r < reps; r++)
      for (int i = 0; i < NP; i++)
        inside += rk__geo_point_in_polygon(pts[2 * i], pts[2 * i + 1], poly, NV, RK__PIP_EVENODD) == 1;
    double dt = now_s() - t0;
    if (dt < best) best = dt;
  }
  printf("  point_in_polygon %d vertices: %.1f ns/pair, %ld of %d points inside\n", NV,
         best / ((double)reps * NP) * 1e9, inside / reps, NP);
  printf("pip_pairs_per_s %.0f\n", (double)reps * NP / best);
  return 0;
}
