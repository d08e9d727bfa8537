/*
 * fuzz_boxes.c - libFuzzer target for the box scanner and everything
 * that consumes its output: conventions, IoU / GIoU, COCO evaluation, the
 * Hungarian algorithm, and every box reward end to end (the input is the
 * response; the reference is a fixed box list).
 *
 * Oracles, beyond "no crash, no sanitizer report":
 * - scanned labels lie inside the input; at most max_boxes boxes kept;
 * - converted boxes are finite with x1 <= x2, y1 <= y2;
 * - IoU in [0, 1], GIoU in [-1, 1], IoU(a, a) = 1 for positive area;
 * - COCO statistics are -1 or in [0, 1];
 * - the Hungarian total equals brute force on a small matrix from the
 *   input bytes;
 * - every reward is finite or the status says why not.
 *
 *   build-fuzz/fuzz_boxes fuzz/corpus/boxes -max_total_time=120
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "json/json.h"
#include "rewardkit.h"
#include "vision/detection.h"

#define CHECK(c)                \
  do {                          \
    if (!(c)) __builtin_trap(); \
  } while (0)

static rk__arena g_arena;
static rk_ctx *g_ctx;
static rk_spec *g_specs[16];
static int g_nspecs;

static const char *const g_spec_text[] = {
    "{\"reward\": {\"fn\": \"iou\"}}",
    "{\"reward\": {\"fn\": \"giou\", \"args\": {\"scale\": \"unit\", \"pick\": \"best\"}}}",
    "{\"reward\": {\"fn\": \"grounding\", \"args\": {\"threshold\": 0.5, \"coords\": \"1000\"}}}",
    "{\"reward\": {\"fn\": \"iou\", \"args\": {\"coords\": \"grid\", \"format\": \"cxcywh\"}}}",
    "{\"reward\": {\"fn\": \"coco_map\"}}",
    "{\"reward\": {\"fn\": \"detection\"}}",
    "{\"reward\": {\"fn\": \"detection\", \"args\": {\"mode\": \"visual_rft\"}}}",
    "{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"step_field\": \"step\"}}}",
    "{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"matching\": \"hungarian\","
    " \"thresholds\": [0.3, 0.5, 0.7]}}}",
    "{\"reward\": {\"fn\": \"count\"}}",
    NULL};

static void init(void) {
  rk__arena_init(&g_arena, (size_t)256 << 20);
  rk_ctx_options co = {1};
  CHECK(rk_ctx_create(&co, &g_ctx) == RK_OK);
  char err[512];
  for (int i = 0; g_spec_text[i]; i++)
    CHECK(rk_spec_compile(g_spec_text[i], strlen(g_spec_text[i]), &g_specs[g_nspecs++], err,
                          sizeof err) == RK_OK);
}

static double brute(const double *c, int n, int m, int i, unsigned used, double acc) {
  if (i == n) return acc;
  double best = INFINITY;
  for (int j = 0; j < m; j++)
    if (!(used >> j & 1)) {
      double x = brute(c, n, m, i + 1, used | 1u << j, acc + c[i * m + j]);
      if (x < best) best = x;
    }
  return best;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) init(), ready = 1;
  const char *p = (const char *)data;
  rk__arena_reset(&g_arena);
  rk__budget budget = {0, 100000000};
  rk__buf err;
  rk__buf_init(&err, 4096);
  rk__call c;
  memset(&c, 0, sizeof c);
  c.arena = &g_arena;
  c.budget = &budget;
  c.error = &err;

  rk__boxes bs;
  CHECK(rk__boxes_scan(&c, p, size, 64, &bs) == RK_STATUS_OK);
  CHECK(bs.n <= 64);
  for (size_t i = 0; i < bs.n; i++)
    if (bs.b[i].has_label && bs.b[i].label.n)
      CHECK(bs.b[i].label.p >= p && bs.b[i].label.p + bs.b[i].label.n <= p + size);
  rk__boxes_convert(&bs, (rk__box_layout)(size % 3), 1.0, 1.0);
  for (size_t i = 0; i < bs.n; i++) {
    const rk__box *b = &bs.b[i];
    CHECK(isfinite(b->x1) && isfinite(b->x2) && b->x1 <= b->x2 && b->y1 <= b->y2);
    for (size_t j = 0; j < bs.n && j < 16; j++) {
      double iou = rk__box_iou(b, &bs.b[j]), g = rk__box_giou(b, &bs.b[j]);
      CHECK(iou >= 0 && iou <= 1 + 1e-12);
      CHECK(g >= -1 - 1e-12 && g <= 1 + 1e-12);
      double v = rk__box_iou_vlmr1(b, &bs.b[j]);
      CHECK(!isnan(v));
    }
    if ((b->x2 - b->x1) * (b->y2 - b->y1) > 0) CHECK(fabs(rk__box_iou(b, b) - 1) < 1e-12);
  }
  /* COCO: the first half is GT, the rest detections. */
  if (bs.n >= 2) {
    size_t ng = bs.n / 2;
    int gc[64] = {0}, dc[64] = {0};
    for (size_t i = 0; i < bs.n; i++)
      if (isnan(bs.b[i].conf)) bs.b[i].conf = 1;
    for (size_t i = 0; i < ng; i++) bs.b[i].area = NAN;
    double st[RK__COCO_NSTATS];
    CHECK(rk__coco_eval(bs.b, gc, ng, bs.b + ng, dc, bs.n - ng, 1, &g_arena, st) == 0);
    for (int k = 0; k < RK__COCO_NSTATS; k++) CHECK(st[k] == -1 || (st[k] >= 0 && st[k] <= 1));
  }
  /* Hungarian against brute force on up to 5 x 5 costs from the bytes. */
  if (size >= 2) {
    int n = 1 + data[0] % 5, m = 1 + data[1] % 5;
    double cm[25], tr[25];
    for (int k = 0; k < n * m; k++) cm[k] = (double)(2 + (size_t)k < size ? data[2 + k] : k) - 100;
    long rc[5];
    CHECK(rk__hungarian(cm, (size_t)n, (size_t)m, rc, &g_arena) == 0);
    double tot = 0;
    for (int i = 0; i < n; i++)
      if (rc[i] >= 0) tot += cm[i * m + rc[i]];
    double want;
    if (n <= m) {
      want = brute(cm, n, m, 0, 0, 0);
    } else {
      for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) tr[j * n + i] = cm[i * m + j];
      want = brute(tr, m, n, 0, 0, 0);
    }
    CHECK(fabs(tot - want) < 1e-9);
  }
  rk__buf_release(&err);

  /* Every reward end to end: the input is the response. */
  rk__buf rec;
  rk__buf_init(&rec, 0);
  rk__buf_puts(&rec, "{\"response\": ");
  rk__json_put_str(&rec, p, size);
  rk__buf_puts(&rec, ", \"reference\": [{\"bbox_2d\": [10, 10, 50, 60], \"label\": \"cat\"},"
                     " {\"bbox_2d\": [0, 0, 5, 5], \"label\": \"dog\"}],"
                     " \"width\": 640, \"height\": 480, \"input_width\": 448,"
                     " \"input_height\": 336, \"step\": 2000}");
  CHECK(!rec.oom);
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.explain = 1;
  for (int i = 0; i < g_nspecs; i++) {
    char *out = NULL;
    size_t n = 0;
    if (rk_score_one(g_ctx, g_specs[i], &so, rec.p, rec.n, &out, &n) == RK_OK) {
      CHECK(out && n > 0);
      /* An "ok" record always has a number for its reward. */
      if (memmem(out, n, "\"status\":\"ok\"", 13)) CHECK(!memmem(out, n, "\"reward\":null", 13));
      rk_free(out);
    }
  }
  rk__buf_release(&rec);
  return 0;
}
