/*
 * bench_overlap.c - throughput of f1, rouge (L and 2), bleu, chrf and
 * cider_d against the Python a user runs today (bench/baseline_overlap.py:
 * nltk for BLEU and chrF, ports of rouge-score, SQuAD and pycocoevalcap),
 * on the same generated sentence pairs, in the same run, one core each.
 *
 * Two rewardkit figures: the metric alone on strings in memory (as the
 * Python baseline is timed: same tokenizers and scoring calls as the
 * reward function), and end to end through the public API (rk_score_batch,
 * one thread: JSON records in, JSON lines out, which adds parsing and
 * number formatting). CPU time of the process, best of `passes`. The per-pair scores are
 * compared too: where the baseline computes the same quantity (rouge-score,
 * SQuAD, CIDEr-D ports; nltk BLEU = bleu with tokenize none and effective
 * order off; nltk chrF = chrf with eps smoothing) the largest difference is
 * printed.
 *
 *   build/bench_overlap [pairs] [passes] [outdir]   (default 2000 3 bench/out;
 *   use 30 passes: a pass of 2000 pairs is 1-5 ms, and best of 5 moved
 *   by up to 1.7x from run to run, best of 30 by a few per cent)
 *   run from the repository root (needs /usr/bin/python3 with python3-nltk)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "metrics/ovl.h"
#include "rewardkit.h"
#include "text/normalize.h"

/* Process CPU time: the cores are shared with other work, so wall time
 * would measure the neighbours; the baseline uses time.process_time(). */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *const vocab[] = {
    "the", "a", "man", "woman", "dog", "cat", "is", "are", "sitting", "standing", "on", "in",
    "of", "with", "table", "street", "bench", "park", "red", "blue", "green", "small", "large",
    "two", "three", "people", "riding", "bike", "horse", "near", "water", "beach", "playing",
    "ball", "frisbee", "grass", "field", "holding", "umbrella", "while", "walking", "down",
    "road", "car", "bus", "train", "station", "kitchen", "cooking", "food", "plate", "pizza",
    "eating", "sandwich", "child", "young", "old", "group", "watching", "television", "room",
    "living", "white", "black", "wooden", "building", "tall", "city", "night", "light", "snow",
    "skiing", "mountain", "surfing", "wave", "ocean", "boat", "river", "bridge", "flying",
    "kite", "sky", "cloudy", "sunny", "day", "looking", "at", "camera", "smiling", "wearing",
    "hat", "shirt", "jacket", "Running", "Jumps", "quickly", "slowly", "very", "next", "to",
    "behind", "front", "its", "their", "his", "her", "an", "apple", "orange", "banana", "bowl",
    "cup", "coffee", "tea", "laptop", "computer", "desk", "phone", "talking", "reading", "book",
    "newspaper", "clock", "tower", "window", "door", "open", "closed", "2", "10", "3.5"};
#define NV (sizeof vocab / sizeof vocab[0])

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

/* A caption-like reference and a perturbed hypothesis. */
static void make_pair(char *hyp, char *ref, size_t cap) {
  unsigned len = 12 + rnd(17);
  unsigned words[40];
  size_t o = 0;
  for (unsigned i = 0; i < len; i++) {
    words[i] = rnd(NV);
    o += (size_t)snprintf(ref + o, cap - o, "%s%s%s", i ? " " : "", vocab[words[i]],
                          rnd(12) == 0 ? "," : "");
  }
  snprintf(ref + o, cap - o, ".");
  o = 0;
  for (unsigned i = 0; i < len; i++) {
    unsigned r = rnd(100);
    if (r < 10) continue;                                  /* drop */
    unsigned w = r < 35 ? rnd(NV) : words[i];              /* substitute */
    o += (size_t)snprintf(hyp + o, cap - o, "%s%s", o ? " " : "", vocab[w]);
    if (r >= 90) o += (size_t)snprintf(hyp + o, cap - o, " %s", vocab[rnd(NV)]); /* insert */
  }
  snprintf(hyp + o, cap - o, ".");
}

typedef struct metric {
  const char *name, *spec, *check_spec; /* check_spec: same quantity as the baseline */
  double py, rk, maxdiff, core;
} metric;

/* ------------------------------------------------------ metric cores */

/* The metric alone on strings in memory, as the Python baseline is timed:
 * the same internal calls, in the same order, as each reward function's
 * score() makes after reading the record (src/metrics/). */
typedef struct pair {
  rk__str h, r;
} pair;

static rk__cider_df *g_df;

static double core_one(int k, rk__arena *a, const pair *p) {
  rk__ovl_toks x, y;
  switch (k) {
    case 0: { /* f1 */
      size_t c;
      rk__ovl_squad_tokens(a, p->h, &x);
      rk__ovl_squad_tokens(a, p->r, &y);
      return rk__ovl_squad_f1(a, &y, &x, 0, &c);
    }
    case 1:
    case 2: { /* rougeL, rouge2 */
      rk__ovl_tokrouge(a, p->h.p, p->h.n, 0, 0, &x);
      rk__ovl_tokrouge(a, p->r.p, p->r.n, 0, 0, &y);
      rk__ovl_prf s;
      if (k == 1)
        rk__ovl_rouge_l(a, &y, &x, &s);
      else
        rk__ovl_rouge_n(a, &y, &x, 2, &s);
      return s.f;
    }
    case 3: { /* bleu: sacreBLEU sentence defaults */
      rk__str h = rk__ovl_rstrip(p->h), r = rk__ovl_rstrip(p->r);
      rk__ovl_tok13a(a, h.p, h.n, &x);
      rk__ovl_tok13a(a, r.p, r.n, &y);
      rk__bleu_stats st;
      rk__ovl_bleu_stats(a, &x, &y, 1, 4, &st);
      return rk__ovl_bleu_compute(&st, 4, RK__BLEU_EXP, 0, 1, NULL, NULL) / 100;
    }
    case 4: { /* chrf defaults */
      rk__chrf_opts o = {6, 0, 2.0, 0, 0, 0};
      rk__chrf_stats st;
      size_t best;
      rk__ovl_chrf_stats(a, &o, p->h, &p->r, 1, &st, &best);
      return rk__ovl_chrf_f(&o, &st) / 100;
    }
    default: { /* cider_d */
      double v;
      rk__ovl_split(a, p->h.p, p->h.n, &x);
      rk__ovl_split(a, p->r.p, p->r.n, &y);
      rk__ovl_cider_d(a, g_df, &x, &y, 1, 6.0, 1, &v);
      return v;
    }
  }
}

static double run_core(int k, const pair *ps, size_t n, int passes) {
  rk__arena a;
  rk__arena_init(&a, 0);
  double best = 1e30;
  volatile double sink = 0;
  for (int p = 0; p < passes; p++) {
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
      rk__arena_reset(&a);
      sink += core_one(k, &a, &ps[i]);
    }
    double dt = now_s() - t0;
    if (dt < best) best = dt;
  }
  (void)sink;
  rk__arena_release(&a);
  return (double)n / best;
}

static double load1(void) {
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = -1;
    fclose(f);
  }
  return l;
}

/* Scores every record with spec; returns pairs/s (best of passes) and
 * fills rewards. */
static double run_spec(rk_ctx *ctx, const char *spec_json, const char *const *recs,
                       const size_t *lens, size_t n, int passes, double *rewards) {
  rk_spec *spec = NULL;
  char err[512];
  if (rk_spec_compile(spec_json, strlen(spec_json), &spec, err, sizeof err) != RK_OK) {
    fprintf(stderr, "spec %s: %s\n", spec_json, err);
    exit(1);
  }
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.results_only = 1;
  double best = 1e30;
  for (int p = 0; p < passes; p++) {
    rk_batch *b = NULL;
    double t0 = now_s();
    if (rk_score_batch(ctx, spec, &so, recs, lens, n, &b) != RK_OK) {
      fprintf(stderr, "score: %s\n", rk_ctx_errmsg(ctx));
      exit(1);
    }
    double dt = now_s() - t0;
    if (dt < best) best = dt;
    if (rewards)
      for (size_t i = 0; i < n; i++) rewards[i] = rk_batch_reward(b, i);
    rk_batch_free(b);
  }
  rk_spec_free(spec);
  return (double)n / best;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)atol(argv[1]) : 2000;
  int passes = argc > 2 ? atoi(argv[2]) : 3;
  const char *dir = argc > 3 ? argv[3] : "bench/out";
  if (n < 1) n = 1;
  mkdir(dir, 0755);
  char pairs_path[512], df_path[512], scores_path[512], cmd[2048];
  snprintf(pairs_path, sizeof pairs_path, "%s/overlap_pairs.jsonl", dir);
  snprintf(df_path, sizeof df_path, "%s/overlap_df.json", dir);
  snprintf(scores_path, sizeof scores_path, "%s/overlap_py_scores.tsv", dir);

  char **recs = calloc(n, sizeof *recs);
  size_t *lens = calloc(n, sizeof *lens);
  FILE *f = fopen(pairs_path, "w");
  if (!recs || !lens || !f) {
    fprintf(stderr, "cannot write %s\n", pairs_path);
    return 1;
  }
  size_t bytes = 0;
  pair *ps = calloc(n, sizeof *ps);
  for (size_t i = 0; i < n; i++) {
    char hyp[1024], ref[1024];
    make_pair(hyp, ref, sizeof hyp);
    ps[i].h = rk__str_make(strdup(hyp), strlen(hyp));
    ps[i].r = rk__str_make(strdup(ref), strlen(ref));
    recs[i] = malloc(2200);
    int k = snprintf(recs[i], 2200, "{\"response\": \"%s\", \"reference\": \"%s\"}", hyp, ref);
    lens[i] = (size_t)k;
    bytes += lens[i];
    fprintf(f, "%s\n", recs[i]);
  }
  fclose(f);
  printf("bench_overlap: %zu pairs (caption-like, %.0f bytes per record), best of %d, 1 thread\n",
         n, (double)bytes / (double)n, passes);
  printf("reproduce: %s %zu %d %s   (from the repository root)\n", argv[0], n, passes, dir);

  snprintf(cmd, sizeof cmd, "/usr/bin/python3 tools/cider_df.py %s -o %s", pairs_path, df_path);
  if (system(cmd) != 0) {
    fprintf(stderr, "failed: %s\n", cmd);
    return 1;
  }
  char cider_spec[700], cider_check[700];
  snprintf(cider_spec, sizeof cider_spec,
           "{\"reward\": {\"fn\": \"cider_d\", \"args\": {\"df_file\": \"%s\"}}}", df_path);
  snprintf(cider_check, sizeof cider_check, "%s", cider_spec);
  metric m[] = {
      {"f1", "{\"reward\": {\"fn\": \"f1\"}}", "{\"reward\": {\"fn\": \"f1\"}}", 0, 0, -1},
      {"rougeL", "{\"reward\": {\"fn\": \"rouge\"}}", "{\"reward\": {\"fn\": \"rouge\"}}", 0, 0,
       -1},
      {"rouge2", "{\"reward\": {\"fn\": \"rouge\", \"args\": {\"variant\": \"rouge2\"}}}",
       "{\"reward\": {\"fn\": \"rouge\", \"args\": {\"variant\": \"rouge2\"}}}", 0, 0, -1},
      {"bleu", "{\"reward\": {\"fn\": \"bleu\"}}",
       "{\"reward\": {\"fn\": \"bleu\", \"args\": {\"tokenize\": \"none\", \"effective_order\": "
       "false}}}",
       0, 0, -1},
      {"chrf", "{\"reward\": {\"fn\": \"chrf\"}}",
       "{\"reward\": {\"fn\": \"chrf\", \"args\": {\"eps_smoothing\": true}}}", 0, 0, -1},
      {"cider_d", cider_spec, cider_check, 0, 0, -1},
  };
  size_t nm = sizeof m / sizeof m[0];

  double load_py = load1();
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 bench/baseline_overlap.py %s %s %s %d", pairs_path,
           df_path, scores_path, passes > 2 ? 2 : passes);
  FILE *py = popen(cmd, "r");
  if (!py) {
    fprintf(stderr, "failed: %s\n", cmd);
    return 1;
  }
  char line[256];
  while (fgets(line, sizeof line, py)) {
    char name[64];
    double v;
    if (sscanf(line, "%63s %lf", name, &v) != 2) continue;
    for (size_t i = 0; i < nm; i++)
      if (strcmp(name, m[i].name) == 0) m[i].py = v;
  }
  if (pclose(py) != 0) {
    fprintf(stderr, "baseline failed: %s\n", cmd);
    return 1;
  }
  /* Per-pair baseline scores, one column per metric in m[] order. */
  double *pys = calloc(n * nm, sizeof *pys);
  f = fopen(scores_path, "r");
  if (f && fgets(line, sizeof line, f)) {
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < nm; k++)
        if (fscanf(f, "%lf", &pys[i * nm + k]) != 1) pys[i * nm + k] = NAN;
    fclose(f);
  }

  {
    FILE *dfp = fopen(df_path, "rb");
    static char dfbuf[64 << 20];
    size_t dn = dfp ? fread(dfbuf, 1, sizeof dfbuf, dfp) : 0;
    if (dfp) fclose(dfp);
    char err[200];
    g_df = rk__cider_df_load(dfbuf, dn, err, sizeof err);
    if (!g_df) {
      fprintf(stderr, "%s: %s\n", df_path, err);
      return 1;
    }
  }
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  rk_ctx_create(&co, &ctx);
  double *rw = calloc(n, sizeof *rw);
  double load_rk = load1();
  for (size_t k = 0; k < nm; k++) {
    m[k].rk = run_spec(ctx, m[k].spec, (const char *const *)recs, lens, n, passes, NULL);
    m[k].core = run_core((int)k, ps, n, passes);
    run_spec(ctx, m[k].check_spec, (const char *const *)recs, lens, n, 1, rw);
    double md = 0;
    for (size_t i = 0; i < n; i++) {
      double d = fabs(rw[i] - pys[i * nm + k]);
      if (!(d <= md)) md = d; /* NaN propagates */
    }
    m[k].maxdiff = md;
  }
  rk_ctx_destroy(ctx);

  printf("\n| metric | rewardkit pairs/s (metric) | python pairs/s | ratio | rewardkit "
         "records/s (end to end) | ratio | max abs diff vs baseline |\n");
  printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (size_t k = 0; k < nm; k++)
    printf("| %s | %.0f | %.0f | %.0fx | %.0f | %.0fx | %.2g |\n", m[k].name, m[k].core,
           m[k].py, m[k].py > 0 ? m[k].core / m[k].py : 0.0, m[k].rk,
           m[k].py > 0 ? m[k].rk / m[k].py : 0.0, m[k].maxdiff);
  printf("\nload (1-min) before python %.2f, before rewardkit %.2f, after %.2f\n", load_py,
         load_rk, load1());
  printf("baselines: f1 = SQuAD evaluate-v2.0 port; rougeL/rouge2 = rouge-score port; bleu = nltk "
         "sentence_bleu method3 (rewardkit timed with sacreBLEU defaults, compared with tokenize "
         "none, effective_order off); chrf = nltk sentence_chrf beta 2 (compared with "
         "eps_smoothing); cider_d = pycocoevalcap port / 10\n");
  for (size_t i = 0; i < n; i++) free(recs[i]);
  free(recs);
  free(lens);
  free(pys);
  free(rw);
  for (size_t i = 0; i < n; i++) {
    free((char *)ps[i].h.p);
    free((char *)ps[i].r.p);
  }
  free(ps);
  rk__cider_df_free(g_df);
  return 0;
}
