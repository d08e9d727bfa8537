/*
 * bench_math.c - speed of the `math` reward on a realistic RL workload:
 * 2-4 KB reasoning responses ending in a \boxed answer, 20 answer types
 * (integers, fractions, decimals, radicals, pi, big numbers, percent,
 * units, tuples, intervals, sets, +-, matrices, equations, polynomials,
 * trig, logs, text, option letters, inequalities), half of them wrong.
 * Pairs go through the public API on one thread (JSON record in, JSON
 * record out, explanations off), as `rewardkit score --threads 1` does.
 * Prints pairs/s and p50 / p99 / max per pair, then runs the Python
 * baseline (bench/baseline_math.py, sympy) on a prefix of the same pairs
 * and prints the ratio, plus the agreement between the two.
 *
 *   build/bench_math [pairs] [python_pairs]      (default 20000 300)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rewardkit.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* gold, right answer, wrong answer (JSON-escaped LaTeX) */
static const char *const kinds[][3] = {
    {"42", "42", "24"},
    {"\\\\frac{3}{8}", "0.375", "0.38"},
    {"0.625", "\\\\frac{5}{8}", "\\\\frac{5}{9}"},
    {"2\\\\sqrt{2}", "\\\\sqrt{8}", "\\\\sqrt{6}"},
    {"\\\\frac{4\\\\pi}{3}", "\\\\frac{4}{3}\\\\pi", "\\\\frac{3\\\\pi}{4}"},
    {"2^{64}", "18446744073709551616", "18446744073709551615"},
    {"25\\\\%", "0.25", "2.5"},
    {"12", "12 \\\\text{ cm}", "12t"},
    {"(1, -2)", "\\\\left(1, -2\\\\right)", "(-2, 1)"},
    {"(-\\\\infty, 3]", "(-\\\\infty, 3]", "(-\\\\infty, 3)"},
    {"\\\\{1, 2, 3\\\\}", "3, 2, 1", "1, 2"},
    {"1 \\\\pm \\\\sqrt{2}", "1+\\\\sqrt{2}, 1-\\\\sqrt{2}", "1+\\\\sqrt{2}"},
    {"\\\\begin{pmatrix} 1 & 2 \\\\\\\\ 3 & 4 \\\\end{pmatrix}",
     "\\\\begin{bmatrix} 1 & 2 \\\\\\\\ 3 & 4 \\\\end{bmatrix}",
     "\\\\begin{pmatrix} 1 & 3 \\\\\\\\ 2 & 4 \\\\end{pmatrix}"},
    {"y = 2x + 1", "2x - y + 1 = 0", "y = 2x - 1"},
    {"x^2 + 2x + 1", "(x+1)^2", "(x-1)^2"},
    {"\\\\frac{\\\\sqrt{3}}{2}", "\\\\sin\\\\frac{\\\\pi}{3}", "\\\\cos\\\\frac{\\\\pi}{3}"},
    {"\\\\log_2 5", "\\\\frac{\\\\ln 5}{\\\\ln 2}", "\\\\log_5 2"},
    {"\\\\text{Tuesday}", "Tuesday", "\\\\text{Thursday}"},
    {"B", "\\\\textbf{(B)}\\\\ 24", "C"},
    {"x \\\\le 3", "(-\\\\infty, 3]", "[3, \\\\infty)"},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static size_t make_record(char *buf, size_t cap, unsigned *seed, int k, int right) {
  static const char *const words[] = {
      "Let", "x", "be", "the", "number", "so", "$x", "+", "3", "=", "7$", "and", "therefore",
      "$\\\\frac{a}{b}$", "we", "get", "check:", "$2x", "<", "10$.", "Then", "\\\\n", "$\\\\sqrt{2}$",
      "substituting", "gives", "$(x-1)(x+2)$", "which", "simplifies", "to", "$$\\\\sum_{k=1}^{n} k$$"};
  size_t nw = sizeof words / sizeof words[0];
  size_t target = 2000 + (*seed >> 8) % 2000;
  size_t o = (size_t)snprintf(buf, cap, "{\"reference\": \"%s\", \"response\": \"", kinds[k][0]);
  while (o < target) {
    *seed = *seed * 1103515245u + 12345u;
    o += (size_t)snprintf(buf + o, cap - o, "%s ", words[(*seed >> 16) % nw]);
  }
  o += (size_t)snprintf(buf + o, cap - o, "Therefore the answer is $\\\\boxed{%s}$.\"}",
                        kinds[k][right ? 1 : 2]);
  return o;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  long npy = argc > 2 ? atol(argv[2]) : 300;
  if (n < 1) n = 1;
  char **recs = malloc(sizeof(char *) * (size_t)n);
  size_t *lens = malloc(sizeof(size_t) * (size_t)n);
  unsigned seed = 7;
  size_t bytes = 0;
  const char *path = "/tmp/rk_bench_math_pairs.jsonl";
  FILE *f = npy > 0 ? fopen(path, "w") : NULL;
  for (long i = 0; i < n; i++) {
    recs[i] = malloc(8192);
    lens[i] = make_record(recs[i], 8192, &seed, (int)(i % (long)NKINDS), (i / (long)NKINDS) % 2 == 0);
    bytes += lens[i];
    if (f && i < npy) fprintf(f, "%s\n", recs[i]);
  }
  if (f) fclose(f);

  const char *spec = "{\"reward\": {\"fn\": \"math\"}}";
  rk_spec *s = NULL;
  char err[256];
  if (rk_spec_compile(spec, strlen(spec), &s, err, sizeof err) != RK_OK) {
    fprintf(stderr, "spec: %s\n", err);
    return 1;
  }
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  rk_ctx_create(&co, &ctx);
  double *lat = malloc(sizeof(double) * (size_t)n);
  double *rw = malloc(sizeof(double) * (size_t)n);
  long ok1 = 0, st[5] = {0};
  /* warm-up */
  for (long i = 0; i < n && i < 200; i++) {
    char *out;
    size_t on;
    rk_score_one(ctx, s, NULL, recs[i], lens[i], &out, &on);
    rk_free(out);
  }
  double t_all = now_s();
  for (long i = 0; i < n; i++) {
    char *out = NULL;
    size_t on = 0;
    double t0 = now_s();
    rk_score_one(ctx, s, NULL, recs[i], lens[i], &out, &on);
    lat[i] = now_s() - t0;
    const char *p = out ? strstr(out, "\"reward\":") : NULL;
    rw[i] = p ? atof(p + 9) : -1;
    if (rw[i] == 1) ok1++;
    const char *q = out ? strstr(out, "\"status\":\"") : NULL;
    if (q) {
      q += 10;
      st[*q == 'o' ? 0 : *q == 'u' ? 1 : *q == 'i' ? 2 : *q == 't' ? 3 : 4]++;
    }
    rk_free(out);
  }
  double total = now_s() - t_all;
  /* batch throughput (no per-call overhead of rk_score_one) */
  rk_batch *b = NULL;
  double tb = now_s();
  rk_score_batch(ctx, s, NULL, (const char *const *)recs, lens, (size_t)n, &b);
  tb = now_s() - tb;
  rk_batch_free(b);
  qsort(lat, (size_t)n, sizeof(double), cmp_d);
  FILE *la = popen("uptime", "r");
  char up[256] = "";
  if (la && fgets(up, sizeof up, la)) up[strcspn(up, "\n")] = 0;
  if (la) pclose(la);
  printf("bench_math: %ld pairs, %.1f KB mean response, %zu answer types, half wrong\n", n,
         (double)bytes / (double)n / 1024.0, NKINDS);
  printf("load: %s\n", up);
  printf("rewardkit math, 1 thread, rk_score_one per pair: %.0f pairs/s; p50 %.1f us, p99 %.1f us, "
         "max %.1f us\n",
         (double)n / total, lat[n / 2] * 1e6, lat[(size_t)((double)n * 0.99)] * 1e6, lat[n - 1] * 1e6);
  printf("rewardkit math, 1 thread, rk_score_batch: %.0f pairs/s\n", (double)n / tb);
  long rk_right = 0;
  for (long i = 0; i < n; i++) rk_right += (rw[i] == 1) == ((i / (long)NKINDS) % 2 == 0);
  printf("labels: rewardkit agrees on %ld of %ld pairs\n", rk_right, n);
  printf("rewards: %ld of %ld are 1 (expected %ld); statuses ok %ld unparseable %ld "
         "invalid_reference %ld timeout %ld error %ld\n",
         ok1, n, (n / (long)NKINDS / 2) * (long)NKINDS + 0, st[0], st[1], st[2], st[3], st[4]);

  if (npy > 0) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "python3 bench/baseline_math.py %s 2>/dev/null", path);
    FILE *py = popen(cmd, "r");
    char line[512] = "";
    if (py && fgets(line, sizeof line, py)) {
      double pps = 0;
      const char *p = strstr(line, "\"pairs_per_s\":");
      if (p) pps = atof(p + 14);
      printf("python baseline (bench/baseline_math.py: last boxed, strip_string, sympy simplify), "
             "%ld pairs: %s", npy, line);
      if (pps > 0)
        printf("ratio: rewardkit %.0fx the Python baseline; %.0fx Math-Verify's published 36-42 "
               "pairs/s (not installable here)\n",
               ((double)n / total) / pps, ((double)n / total) / 39.0);
      /* agreement on the prefix */
      char rp[600];
      snprintf(rp, sizeof rp, "%s.py_rewards", path);
      FILE *r = fopen(rp, "r");
      long agree = 0, m = 0, rk_label = 0, py_label = 0;
      long py_miss[NKINDS] = {0}, py_fp[NKINDS] = {0};
      double v;
      while (r && m < npy && fscanf(r, "%lf", &v) == 1) {
        int label = (m / (long)NKINDS) % 2 == 0;
        if ((v == 1) == (rw[m] == 1)) agree++;
        if ((rw[m] == 1) == label) rk_label++;
        if ((v == 1) == label) py_label++;
        else if (label) py_miss[m % (long)NKINDS]++;
        else py_fp[m % (long)NKINDS]++;
        m++;
      }
      if (r) fclose(r);
      printf("on %ld pairs: rewardkit agrees with the labels on %ld, the Python baseline on %ld; "
             "the two agree on %ld\n", m, rk_label, py_label, agree);
      printf("python baseline errors by gold (missed right / accepted wrong):");
      for (size_t k = 0; k < NKINDS; k++)
        if (py_miss[k] || py_fp[k]) printf(" [%s] %ld/%ld", kinds[k][0], py_miss[k], py_fp[k]);
      printf("\n");
    } else {
      printf("python baseline: not run (python3 with sympy needed)\n");
    }
    if (py) pclose(py);
  }
  printf("reproduce: cmake --build build --target bench_math && build/bench_math %ld %ld\n", n, npy);
  for (long i = 0; i < n; i++) free(recs[i]);
  free(recs);
  free(lens);
  free(lat);
  free(rw);
  rk_ctx_destroy(ctx);
  rk_spec_free(s);
  return 0;
}
