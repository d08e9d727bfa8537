/*
 * hungarian.c - minimum-cost assignment (the Hungarian method in its
 * shortest-augmenting-path form with row and column potentials, Kuhn 1955
 * / Jonker-Volgenant 1987), the matching scipy's linear_sum_assignment
 * does for Vision-R1's detection reward.
 *
 * Rows are added one at a time; each addition runs a Dijkstra-like search
 * over reduced costs c[i][j] - u[i] - v[j] >= 0 for an augmenting path to
 * a free column, then updates the potentials. O(R^2 * C) for R <= C rows
 * (the matrix is transposed when it has more rows than columns).
 *
 * Not for: greedy matchings (detection.c).
 */
#include <math.h>
#include <string.h>

#include "vision/detection.h"

int rk__hungarian(const double *cost, size_t n, size_t m, long *row_col, rk__arena *a) {
  for (size_t i = 0; i < n; i++) row_col[i] = -1;
  if (n == 0 || m == 0) return 0;
  int tr = n > m;
  size_t R = tr ? m : n, C = tr ? n : m;
  /* 1-based arrays; column 0 is the virtual start of each search. */
  double *u = rk__arena_alloc(a, (R + 1) * sizeof *u);
  double *v = rk__arena_alloc(a, (C + 1) * sizeof *v);
  double *minv = rk__arena_alloc(a, (C + 1) * sizeof *minv);
  size_t *owner = rk__arena_alloc(a, (C + 1) * sizeof *owner); /* row of column j, 0 = free */
  size_t *prev = rk__arena_alloc(a, (C + 1) * sizeof *prev);   /* path back-pointers */
  unsigned char *done = rk__arena_alloc(a, C + 1);
  unsigned char *start = rk__arena_alloc(a, R + 1);
  if (!u || !v || !minv || !owner || !prev || !done || !start) return -1;
  memset(u, 0, (R + 1) * sizeof *u);
  memset(v, 0, (C + 1) * sizeof *v);
  memset(owner, 0, (C + 1) * sizeof *owner);
  memset(start, 0, R + 1);
  /* Row reduction and a greedy start (as in Jonker-Volgenant): u[i] =
   * min_j c[i][j] with v = 0 keeps every reduced cost >= 0 and v <= 0
   * (what optimality needs when there are more columns than rows); a row
   * whose cheapest column is still free takes it, on a tight edge. The
   * searches below then start only from the rows left, which for boxes
   * (most predictions near one GT) is a few. */
  for (size_t i = 1; i <= R; i++) {
    double best = INFINITY;
    size_t bj = 0;
    for (size_t j = 1; j <= C; j++) {
      double cij = tr ? cost[(j - 1) * m + (i - 1)] : cost[(i - 1) * m + (j - 1)];
      if (cij < best) best = cij, bj = j;
    }
    if (!bj || !isfinite(best)) return -1; /* non-finite costs */
    u[i] = best;
    if (!owner[bj]) owner[bj] = i, start[i] = 1;
  }
  for (size_t i = 1; i <= R; i++) {
    if (start[i]) continue;
    owner[0] = i;
    size_t j0 = 0;
    for (size_t j = 0; j <= C; j++) minv[j] = INFINITY;
    memset(done, 0, C + 1);
    do {
      done[j0] = 1;
      size_t i0 = owner[j0], j1 = 0;
      double delta = INFINITY;
      const double ui = u[i0];
      for (size_t j = 1; j <= C; j++) {
        if (done[j]) continue;
        double cij = tr ? cost[(j - 1) * m + (i0 - 1)] : cost[(i0 - 1) * m + (j - 1)];
        double cur = cij - ui - v[j];
        if (cur < minv[j]) minv[j] = cur, prev[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      if (j1 == 0) return -1; /* non-finite costs: no column reachable */
      for (size_t j = 0; j <= C; j++) {
        if (done[j]) {
          u[owner[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (owner[j0] != 0);
    /* Flip the augmenting path. */
    do {
      size_t j1 = prev[j0];
      owner[j0] = owner[j1];
      j0 = j1;
    } while (j0);
  }
  for (size_t j = 1; j <= C; j++) {
    if (!owner[j]) continue;
    size_t r = owner[j] - 1, col = j - 1;
    if (tr)
      row_col[col] = (long)r;
    else
      row_col[r] = (long)col;
  }
  return 0;
}
