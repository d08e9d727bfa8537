/*
 * bench_detection.c - images/s of the box rewards on one core, against the
 * Python baseline (bench/baseline_detection.py: numpy + scipy's
 * linear_sum_assignment, and a pure-Python port of the pycocotools
 * evaluation) run on the same records in the same invocation.
 *
 * Detection images have 100 ground-truth and 100 predicted boxes (5
 * classes; 80 predictions are jittered GT boxes, 20 are random), given as
 * a VLM-R1 style ```json list inside <answer>; grounding images have one
 * box. Two figures per case, one thread:
 *   reward    - the reward function on a record already parsed (what the
 *               Python reward functions do: they get the response string
 *               and the reference object): answer extraction, box parsing
 *               of the response and the reference, matching, scoring;
 *   end to end - rk_score_one on the JSONL line: record parse, the
 *               reward, the output line.
 * The baseline is timed like "reward" (records parsed beforehand).
 *
 *   build/bench_detection [seconds_per_case] [python3] [case]
 *   (defaults 1.0, /usr/bin/python3, every case; python3 "" skips the baseline)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "core/record.h"
#include "core/spec.h"
#include "json/json.h"
#include "rewardkit.h"

#define NIMG 32
/* Passes over the images between two reads of the clock (reward only). */
#define REPS 16

/* CPU time of this process, as the baseline's time.process_time(): the
 * machine's cores are shared, and wall time would count the neighbours'
 * slices on either side. */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned g_seed = 2024;
static double rnd(void) { /* LCG in [0, 1) */
  g_seed = g_seed * 1103515245u + 12345u;
  return (double)((g_seed >> 8) & 0xffffff) / 16777216.0;
}

static const char *const labels[5] = {"person", "car", "dog", "cup", "chair"};

/* One detection record into buf; returns its length. */
static size_t det_record(char *buf, size_t cap) {
  int gx1[100], gy1[100], gx2[100], gy2[100], gl[100];
  size_t o = 0;
  o += (size_t)snprintf(buf + o, cap - o, "{\"response\": \"<think>The boxes.</think><answer>```json\\n[");
  for (int i = 0; i < 100; i++) {
    int w = 10 + (int)(rnd() * 140), h = 10 + (int)(rnd() * 140);
    gx1[i] = (int)(rnd() * (1000 - w)), gy1[i] = (int)(rnd() * (1000 - h));
    gx2[i] = gx1[i] + w, gy2[i] = gy1[i] + h;
    gl[i] = (int)(rnd() * 5);
  }
  for (int i = 0; i < 100; i++) {
    int x1, y1, x2, y2, l;
    if (i < 80) {
      int j = (i * 37) % 100; /* a shuffled subset of the GT */
      int d = 1 + (int)(rnd() * 12);
      x1 = gx1[j] + (int)(rnd() * 2 * d) - d, y1 = gy1[j] + (int)(rnd() * 2 * d) - d;
      x2 = gx2[j] + (int)(rnd() * 2 * d) - d, y2 = gy2[j] + (int)(rnd() * 2 * d) - d;
      l = rnd() < 0.9 ? gl[j] : (gl[j] + 1) % 5;
    } else {
      int w = 10 + (int)(rnd() * 140), h = 10 + (int)(rnd() * 140);
      x1 = (int)(rnd() * (1000 - w)), y1 = (int)(rnd() * (1000 - h)), x2 = x1 + w, y2 = y1 + h;
      l = (int)(rnd() * 5);
    }
    o += (size_t)snprintf(buf + o, cap - o,
                          "%s{\\\"bbox_2d\\\": [%d, %d, %d, %d], \\\"label\\\": \\\"%s\\\", "
                          "\\\"confidence\\\": %.2f}",
                          i ? ", " : "", x1, y1, x2, y2, labels[l], 0.3 + 0.7 * rnd());
  }
  o += (size_t)snprintf(buf + o, cap - o, "]\\n```</answer>\", \"reference\": [");
  for (int i = 0; i < 100; i++)
    o += (size_t)snprintf(buf + o, cap - o, "%s{\"bbox_2d\": [%d, %d, %d, %d], \"label\": \"%s\"}",
                          i ? ", " : "", gx1[i], gy1[i], gx2[i], gy2[i], labels[gl[i]]);
  o += (size_t)snprintf(buf + o, cap - o, "], \"width\": 1000, \"height\": 1000}");
  return o;
}

static size_t grounding_record(char *buf, size_t cap) {
  int w = 20 + (int)(rnd() * 300), h = 20 + (int)(rnd() * 300);
  int x1 = (int)(rnd() * (1000 - w)), y1 = (int)(rnd() * (1000 - h));
  int d = 1 + (int)(rnd() * 30);
  return (size_t)snprintf(
      buf, cap,
      "{\"response\": \"<think>The cup is on the left of the table.</think><answer>"
      "{\\\"bbox_2d\\\": [%d, %d, %d, %d], \\\"label\\\": \\\"cup\\\"}</answer>\","
      " \"reference\": [%d, %d, %d, %d]}",
      x1 + (int)(rnd() * 2 * d) - d, y1 + (int)(rnd() * 2 * d) - d, x1 + w + (int)(rnd() * 2 * d) - d,
      y1 + h + (int)(rnd() * 2 * d) - d, x1, y1, x1 + w, y1 + h);
}

typedef struct bcase {
  const char *name; /* also the baseline's case name */
  const char *spec;
  int grounding;
} bcase;

static const bcase cases[] = {
    {"grounding_iou", "{\"reward\": {\"fn\": \"grounding\"}}", 1},
    {"coco_map", "{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"use_confidence\": false}}}", 0},
    {"detection_vlm_r1", "{\"reward\": {\"fn\": \"detection\"}}", 0},
    {"detection_visual_rft", "{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\"}}}", 0},
    {"detection_hungarian", "{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"output\": \"pr_mean\"}}}", 0},
    {"detection_prf", "{\"reward\": {\"fn\": \"detection_prf\"}}", 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  const char *py = argc > 2 ? argv[2] : "/usr/bin/python3";
  const char *only = argc > 3 ? argv[3] : NULL; /* one case by name */
  static char det[NIMG][40000], gr[NIMG][1024];
  size_t detn[NIMG], grn[NIMG];
  for (int i = 0; i < NIMG; i++) detn[i] = det_record(det[i], sizeof det[i]);
  for (int i = 0; i < NIMG; i++) grn[i] = grounding_record(gr[i], sizeof gr[i]);
  char path[] = "/tmp/rk_bench_detection_XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    perror("mkstemp");
    return 1;
  }
  for (int i = 0; i < NIMG; i++) fprintf(f, "%s\n", det[i]);
  for (int i = 0; i < NIMG; i++) fprintf(f, "%s\n", gr[i]);
  fclose(f);

  printf("bench_detection: %d detection images (100 gt x 100 pred) + %d grounding images, "
         "1 thread, %.1f s per case\n", NIMG, NIMG, secs);
  printf("reproduce: %s %g %s\n", argv[0], secs, py);
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  if (rk_ctx_create(&co, &ctx) != RK_OK) return 1;
  rk_score_options so;
  memset(&so, 0, sizeof so);
  double c_rate[NCASES], c_mean[NCASES], s_rate[NCASES];
  for (size_t k = 0; k < NCASES; k++) {
    c_rate[k] = s_rate[k] = c_mean[k] = 0;
    if (only && strcmp(only, cases[k].name) != 0) continue;
    char err[512];
    rk_spec *s = NULL;
    if (rk_spec_compile(cases[k].spec, strlen(cases[k].spec), &s, err, sizeof err) != RK_OK) {
      fprintf(stderr, "%s: %s\n", cases[k].name, err);
      return 1;
    }
    /* Mean reward over the image set (checked against the baseline). */
    double sum = 0;
    for (int i = 0; i < NIMG; i++) {
      char *out = NULL;
      size_t n = 0;
      const char *r = cases[k].grounding ? gr[i] : det[i];
      size_t rn = cases[k].grounding ? grn[i] : detn[i];
      if (rk_score_one(ctx, s, &so, r, rn, &out, &n) != RK_OK) return 1;
      const char *p = strstr(out, "\"reward\":");
      sum += p ? atof(p + 9) : 0;
      rk_free(out);
    }
    c_mean[k] = sum / NIMG;
    long done = 0;
    double t0 = now_s(), t;
    do {
      for (int i = 0; i < NIMG; i++) {
        char *out = NULL;
        size_t n = 0;
        const char *r = cases[k].grounding ? gr[i] : det[i];
        size_t rn = cases[k].grounding ? grn[i] : detn[i];
        rk_score_one(ctx, s, &so, r, rn, &out, &n);
        rk_free(out);
      }
      done += NIMG;
      t = now_s() - t0;
    } while (t < secs);
    c_rate[k] = (double)done / t;
    /* Reward only: rk__spec_eval on pre-parsed records. */
    {
      rk__arena rec_arena, scratch;
      rk__arena_init(&rec_arena, 0);
      rk__arena_init(&scratch, 0);
      rk__record recs[NIMG];
      for (int i = 0; i < NIMG; i++) {
        const char *r = cases[k].grounding ? gr[i] : det[i];
        size_t rn = cases[k].grounding ? grn[i] : detn[i];
        rk__jval *root = NULL;
        if (rk__json_parse(r, rn, &rec_arena, NULL, &root, NULL)) return 1;
        rk__record_build(root, 0, &recs[i]);
      }
      double comp[64];
      rk__eval_state es = {comp, NULL, 0};
      rk__budget bud = {0, RK_DEFAULT_STEPS};
      rk__buf ebuf;
      rk__buf_init(&ebuf, 4096);
      rk__call call;
      memset(&call, 0, sizeof call);
      call.arena = &scratch;
      call.budget = &bud;
      call.error = &ebuf;
      call.engine = &es;
      done = 0;
      t0 = now_s();
      volatile double sink = 0;
      do {
        /* The clock is a system call (~0.4 us): read it every REPS
         * passes, not after every 32 one-box images (~3 us). */
        for (int rep = 0; rep < REPS; rep++)
          for (int i = 0; i < NIMG; i++) {
            double v = 0;
            rk__arena_reset(&scratch);
            bud.used = 0;
            call.rec = &recs[i];
            rk__spec_eval(s, &call, &v);
            sink += v;
          }
        done += (long)NIMG * REPS;
        t = now_s() - t0;
      } while (t < secs);
      (void)sink;
      s_rate[k] = (double)done / t;
      rk__buf_release(&ebuf);
      rk__arena_release(&scratch);
      rk__arena_release(&rec_arena);
    }
    rk_spec_free(s);
  }
  rk_ctx_destroy(ctx);

  /* The baseline, same records, same process tree. */
  double py_rate[NCASES], py_mean[NCASES];
  for (size_t k = 0; k < NCASES; k++) py_rate[k] = py_mean[k] = -1;
  if (py && *py) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s bench/baseline_detection.py %s %g", py, path, secs);
    FILE *pp = popen(cmd, "r");
    char line[512];
    while (pp && fgets(line, sizeof line, pp)) {
      char name[64];
      double rate, mean;
      if (sscanf(line, "%63s %lf %lf", name, &rate, &mean) == 3)
        for (size_t k = 0; k < NCASES; k++)
          if (strcmp(name, cases[k].name) == 0) py_rate[k] = rate, py_mean[k] = mean;
    }
    if (pp) pclose(pp);
  }
  printf("\n| case | rewardkit reward (images/s) | rewardkit end to end | Python reward | "
         "speed-up (reward) | speed-up (end to end) | mean reward C / Python |\n");
  printf("|---|---:|---:|---:|---:|---:|---|\n");
  for (size_t k = 0; k < NCASES; k++) {
    if (py_rate[k] > 0)
      printf("| %s | %.0f | %.0f | %.0f | %.*fx | %.*fx | %.6f / %.6f |\n", cases[k].name,
             s_rate[k], c_rate[k], py_rate[k], s_rate[k] / py_rate[k] < 10 ? 1 : 0,
             s_rate[k] / py_rate[k], c_rate[k] / py_rate[k] < 10 ? 1 : 0,
             c_rate[k] / py_rate[k], c_mean[k], py_mean[k]);
    else
      printf("| %s | %.0f | %.0f | - | - | - | %.6f / - |\n", cases[k].name, s_rate[k],
             c_rate[k], c_mean[k]);
  }
  remove(path);
  return 0;
}
