/*
 * fuzz_boxes.c - libFuzzer target for the box scanner and everything
 * that consumes its output: conventions, IoU / GIoU, COCO evaluation, the
 * Hungarian algorithm, and every box reward end to end (the input is the
 * response; the reference is a fixed box list).
 *
 * Oracles, beyond "no crash, no sanitizer report":
 * - scanned labels lie inside the input (also those of [label, box]
 *   pairs), unless decoded from JSON escapes; at most max_boxes boxes
 *   kept; boxes come out in source order;
 * - converted boxes are finite with x1 <= x2, y1 <= y2;
 * - IoU in [0, 1], GIoU in [-1, 1], IoU(a, a) = 1 for positive area;
 * - COCO statistics are -1 or in [0, 1];
 * - the Hungarian total equals brute force on a small matrix from the
 *   input bytes;
 * - the one-box path takes only what the general one reads the same way
 *   (status, steps, region, boxes);
 * - every reward is finite or the status says why not; scored twice, with
 *   a reference of {"bbox_2d", "label"} objects and the same boxes as
 *   Vision-R1 [label, box] pairs, and once without the image size, when
 *   a spec converting units must not come out "ok".
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
    "{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"coords\": \"1000\","
    " \"output\": \"pr_mean\"}}}",
    "{\"reward\": {\"fn\": \"detection_prf\", \"args\": {\"coords\": \"unit\", \"ref_coords\": \"1000\"}}}",
    "{\"reward\": {\"fn\": \"detection_hungarian\", \"args\": {\"parser\": \"vision_r1\","
    " \"output\": \"vision_r1\"}}}",
    "{\"reward\": {\"fn\": \"detection\", \"args\": {\"strict_json\": true}}}",
    "{\"reward\": {\"fn\": \"coco_map\", \"args\": {\"strict_json\": true, \"length_penalty\": true}}}",
    NULL};

/* Specs whose units need the image size (scored "error" without it). */
static int needs_size(int i) { return i == 2 || i == 3 || i == 10 || i == 11; }

/* References: objects, the same boxes as [label, box] pairs (Vision-R1). */
static const char *const g_refs[] = {
    "[{\"bbox_2d\": [10, 10, 50, 60], \"label\": \"cat\"}, {\"bbox_2d\": [0, 0, 5, 5], \"label\": \"dog\"}]",
    "[[\"cat\", [10, 10, 50, 60]], [\"dog\", [[0, 0], [5, 5]]]]",
    "[10, 10, 50, 60]"}; /* one box: read straight from the parsed record */

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
  for (size_t i = 0; i < bs.n; i++) {
    /* A label lies in the input, or is the JSON-unescaped copy of one
     * written with a backslash (then in the arena). */
    if (bs.b[i].has_label && bs.b[i].label.n)
      CHECK((bs.b[i].label.p >= p && bs.b[i].label.p + bs.b[i].label.n <= p + size) ||
            memchr(p, '\\', size) != NULL);
    CHECK(bs.b[i].at < size && (p[bs.b[i].at] == '[' || p[bs.b[i].at] == '{'));
    if (i) CHECK(bs.b[i - 1].at <= bs.b[i].at);
  }
  /* Items are counted only for a text that opens with a list (after
   * whitespace and a code block's "json"). */
  if (bs.items) {
    size_t f = 0;
    while (f < size && (p[f] == ' ' || (p[f] >= '\t' && p[f] <= '\r'))) f++;
    if (size - f >= 4 && !memcmp(p + f, "json", 4))
      for (f += 4; f < size && (p[f] == ' ' || (p[f] >= '\t' && p[f] <= '\r'));) f++;
    CHECK(f < size && p[f] == '[');
  }
  /* The input as the box of a [label, box] pair: when it is one box in
   * its own right (an array of 4 numbers or 2 pairs, nothing else), the
   * pair gives that box with the label. */
  size_t close = 0; /* where the bracket opened at p[0] closes */
  for (long d = 0; close < size; close++) {
    d += p[close] == '[' ? 1 : p[close] == ']' ? -1 : 0;
    if (d == 0) break;
  }
  if (bs.n == 1 && bs.ndropped == 0 && size > 0 && p[0] == '[' && bs.b[0].at == 0 &&
      close == size - 1) {
    rk__buf w;
    rk__buf_init(&w, 0);
    rk__buf_puts(&w, "[\"lbl\", ");
    rk__buf_put(&w, p, size);
    rk__buf_puts(&w, "]");
    if (!w.oom) {
      rk__boxes pb;
      CHECK(rk__boxes_scan(&c, w.p, w.n, 64, &pb) == RK_STATUS_OK);
      if (pb.n == 1 && pb.ndropped == 0 && pb.b[0].at == 8) {
        CHECK(pb.b[0].has_label && pb.b[0].label.n == 3 && !memcmp(pb.b[0].label.p, "lbl", 3));
        CHECK(pb.b[0].x1 == bs.b[0].x1 || (isnan(pb.b[0].x1) && isnan(bs.b[0].x1)));
      }
    }
    rk__buf_release(&w);
  }
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
    /* The safe helpers: every box with positive sides is 1 against itself,
     * however small, and both stay in range. */
    if (b->x2 > b->x1 && b->y2 > b->y1) {
      CHECK(rk__box_iou_safe(b, b) == 1 && rk__box_giou_safe(b, b) == 1);
    }
    for (size_t j = 0; j < bs.n && j < 16; j++) {
      double is = rk__box_iou_safe(b, &bs.b[j]), gs = rk__box_giou_safe(b, &bs.b[j]);
      CHECK(is >= 0 && is <= 1 + 1e-12 && gs >= -1 - 1e-12 && gs <= 1 + 1e-12);
    }
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
  /* rk__boxes_load with store (its one-box path) against it without, on
   * the input as the response and a one-box reference, with a budget that
   * may run out: the same status and steps always; when the one-box path
   * took the record, the same region and boxes. */
  {
    static const char *const one_refs[] = {"[10, 10, 50, 60]", "[0.5, 1e2, 3, 200]",
                                           "[5, 5, 1, 1]", "[-0.0, 0, 0, 7]"};
    const char *rt = one_refs[size ? data[size - 1] % 4 : 0];
    rk__jval *rv = NULL;
    CHECK(rk__json_parse(rt, strlen(rt), &g_arena, NULL, &rv, NULL) == 0);
    rk__record rec;
    memset(&rec, 0, sizeof rec);
    rec.response = rk__str_make(p, size);
    rec.has_response = 1;
    rec.reference = rv;
    rk__boxargs a;
    memset(&a, 0, sizeof a);
    a.max_boxes = 100000;
    a.drop_degenerate = size % 2;
    for (int t = 0; t < 2; t++) {
      rk__budget b1 = {0, t ? size / 3 : 100000000}, b2 = b1;
      rk__call c1 = c, c2 = c;
      c1.rec = c2.rec = &rec;
      c1.budget = &b1, c2.budget = &b2;
      rk__boxes p1, r1, p2, r2;
      rk__box store[2];
      const char *h1 = NULL, *h2 = NULL;
      rk_status s1 = rk__boxes_load(&a, &c1, &p1, &r1, &h1, store);
      rk_status s2 = rk__boxes_load(&a, &c2, &p2, &r2, &h2, NULL);
      CHECK(s1 == s2 && b1.used == b2.used);
      if (s1 != RK_STATUS_OK || p1.b != &store[0]) continue;
      CHECK(p1.n == 1 && p2.n == 1 && r1.n == 1 && r2.n == 1 && !p2.ndropped && !r2.ndropped);
      CHECK(strcmp(h1, h2) == 0 && p1.b[0].at == p2.b[0].at);
      CHECK(rk__boxes_predicted(&p1) == rk__boxes_predicted(&p2));
      CHECK(!memcmp(&p1.b[0].x1, &p2.b[0].x1, 4 * sizeof(double)));
      CHECK(!memcmp(&r1.b[0].x1, &r2.b[0].x1, 4 * sizeof(double)));
    }
  }
  rk__buf_release(&err);

  /* Every reward end to end: the input is the response; the reference is
   * chosen by the input's length; the last round has no image size. */
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.explain = 1;
  for (int round = 0; round < 2; round++) {
    rk__buf rec;
    rk__buf_init(&rec, 0);
    rk__buf_puts(&rec, "{\"response\": ");
    rk__json_put_str(&rec, p, size);
    rk__buf_puts(&rec, ", \"reference\": ");
    rk__buf_puts(&rec, g_refs[(size + (size_t)round) % 3]);
    if (round == 0)
      rk__buf_puts(&rec, ", \"width\": 640, \"height\": 480, \"input_width\": 448,"
                         " \"input_height\": 336");
    rk__buf_puts(&rec, ", \"step\": 2000}");
    CHECK(!rec.oom);
    for (int i = 0; i < g_nspecs; i++) {
      char *out = NULL;
      size_t n = 0;
      if (rk_score_one(g_ctx, g_specs[i], &so, rec.p, rec.n, &out, &n) == RK_OK) {
        CHECK(out && n > 0);
        int ok = memmem(out, n, "\"status\":\"ok\"", 13) != NULL;
        /* An "ok" record always has a number for its reward. */
        if (ok) CHECK(!memmem(out, n, "\"reward\":null", 13));
        /* Units that need the missing size are never compared raw. */
        if (round == 1 && needs_size(i)) CHECK(!ok);
        rk_free(out);
      }
    }
    rk__buf_release(&rec);
  }
  return 0;
}
