/*
 * test_boxes.c - box parsing, coordinate conventions, IoU / GIoU and the
 * single-box rewards (iou, giou, grounding).
 *
 * Expected values: the torchvision test_ops.py IoU / GIoU matrices
 * (apis_metrics.md B5), hand computation with the arithmetic in the
 * comments, and end to end through the public API.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "e2e.h"
#include "test.h"
#include "vision/boxes.h"

/* A bare call context for the internal functions. */
typedef struct tctx {
  rk__arena arena;
  rk__budget budget;
  rk__buf err;
  rk__call c;
} tctx;

static void tctx_init(tctx *t, uint64_t limit) {
  memset(t, 0, sizeof *t);
  rk__arena_init(&t->arena, 0);
  t->budget.limit = limit;
  rk__buf_init(&t->err, 4096);
  t->c.arena = &t->arena;
  t->c.budget = &t->budget;
  t->c.error = &t->err;
}
static void tctx_done(tctx *t) {
  rk__arena_release(&t->arena);
  rk__buf_release(&t->err);
}

static rk__box B(double x1, double y1, double x2, double y2) {
  rk__box b;
  memset(&b, 0, sizeof b);
  b.x1 = x1, b.y1 = y1, b.x2 = x2, b.y2 = y2;
  b.conf = NAN;
  b.area = NAN;
  return b;
}

/* Scans text and returns the list (arena of t). */
static rk__boxes scan(tctx *t, const char *s) {
  rk__boxes bs;
  rk_status st = rk__boxes_scan(&t->c, s, strlen(s), 0, &bs);
  ASSERT_EQ_INT(st, RK_STATUS_OK);
  return bs;
}

/* --------------------------------------------------- torchvision vectors */

TEST(torchvision_int_boxes) {
  /* pytorch/vision test/test_ops.py: [[0,0,100,100],[0,0,50,50],
   * [200,200,300,300]] against themselves. */
  rk__box b[3] = {B(0, 0, 100, 100), B(0, 0, 50, 50), B(200, 200, 300, 300)};
  const double iou[3][3] = {{1, .25, 0}, {.25, 1, 0}, {0, 0, 1}};
  const double giou[3][3] = {{1, .25, -.7778}, {.25, 1, -.8611}, {-.7778, -.8611, 1}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      ASSERT_NEAR(rk__box_iou(&b[i], &b[j]), iou[i][j], 1e-4);
      ASSERT_NEAR(rk__box_giou(&b[i], &b[j]), giou[i][j], 1e-4);
    }
  /* Exact: box 0 vs 2: C = 300*300 = 90000, U = 20000; -(70000/90000) =
   * -0.77777...; box 1 vs 2: C = 90000, U = 12500; -(77500/90000). */
  ASSERT_NEAR(rk__box_giou(&b[0], &b[2]), -7.0 / 9.0, 1e-15);
  ASSERT_NEAR(rk__box_giou(&b[1], &b[2]), -77500.0 / 90000.0, 1e-15);
  /* torchvision's 4th box [0,0,25,25]: IoU .0625 .25 0, GIoU .0625 .25
   * -.8819 (C = 90000, U = 10625). */
  rk__box q = B(0, 0, 25, 25);
  const double qi[3] = {.0625, .25, 0}, qg[3] = {.0625, .25, -.8819};
  for (int j = 0; j < 3; j++) {
    ASSERT_NEAR(rk__box_iou(&q, &b[j]), qi[j], 1e-4);
    ASSERT_NEAR(rk__box_giou(&q, &b[j]), qg[j], 1e-4);
  }
}

TEST(torchvision_float_boxes) {
  rk__box b[3] = {B(285.3538, 185.5758, 1193.5110, 851.4551),
                  B(285.1472, 188.7374, 1192.4984, 851.0669),
                  B(279.2440, 197.9812, 1189.4746, 849.2019)};
  /* torchvision checks these at atol 1e-3 for float32/float64 (the 4-digit
   * values are rounded; GIoU of boxes 0 and 2 is .96713, IoU .96728). */
  const double m[3][3] = {{1, .9933, .9673}, {.9933, 1, .9737}, {.9673, .9737, 1}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      ASSERT_NEAR(rk__box_iou(&b[i], &b[j]), m[i][j], 1e-3);
      ASSERT_NEAR(rk__box_giou(&b[i], &b[j]), m[i][j], 1e-3);
    }
  /* Unrounded, by hand in double: I = 904.2670*651.2207, U = A + B - I,
   * C = 914.2670*665.8793 (Python: IoU .9672750679628969, GIoU
   * .9671279550043596). */
  ASSERT_NEAR(rk__box_iou(&b[0], &b[2]), 0.9672750679628969, 1e-12);
  ASSERT_NEAR(rk__box_giou(&b[0], &b[2]), 0.9671279550043596, 1e-12);
}

TEST(hand_iou) {
  /* [0,0,10,10] vs [5,5,15,15]: I = 25, U = 175, IoU = 1/7 = .142857;
   * C = 225, GIoU = 1/7 - 50/225 = .142857 - .222222 = -.079365. */
  rk__box a = B(0, 0, 10, 10), b = B(5, 5, 15, 15);
  ASSERT_NEAR(rk__box_iou(&a, &b), 1.0 / 7.0, 1e-15);
  ASSERT_NEAR(rk__box_giou(&a, &b), 1.0 / 7.0 - 50.0 / 225.0, 1e-15);
  /* Touching: I = 0 -> 0; C = 200, U = 200 -> GIoU 0. */
  rk__box c = B(10, 0, 20, 10);
  ASSERT_NEAR(rk__box_iou(&a, &c), 0, 0);
  ASSERT_NEAR(rk__box_giou(&a, &c), 0, 1e-15);
  /* Degenerate: two identical points: U = 0, C = 0 -> 0, no NaN. */
  rk__box p = B(3, 3, 3, 3);
  ASSERT_NEAR(rk__box_iou(&p, &p), 0, 0);
  ASSERT_NEAR(rk__box_giou(&p, &p), 0, 0);
  /* A zero-width box inside a 10x10: I = 0, U = 100 -> 0; C = 100 -> 0. */
  rk__box l = B(5, 0, 5, 10);
  ASSERT_NEAR(rk__box_iou(&a, &l), 0, 0);
  ASSERT_NEAR(rk__box_giou(&a, &l), 0, 0);
}

TEST(vlmr1_iou) {
  /* VLM-R1: [0,0,10,10] vs itself: inter (9-0+1)^2 = 100, U = 100 -> 1. */
  rk__box a = B(0, 0, 10, 10), b = B(5, 5, 15, 15);
  ASSERT_NEAR(rk__box_iou_vlmr1(&a, &a), 1.0, 0);
  /* vs [5,5,15,15]: x: max 5, min(9, 14) = 9, inter (9-5+1)^2 = 25;
   * U = 100 + 100 - 25 = 175 -> 1/7 (same as standard here). */
  ASSERT_NEAR(rk__box_iou_vlmr1(&a, &b), 25.0 / 175.0, 1e-15);
  /* 1x1 box against itself: max 0 < min(0) fails -> inter 0 -> 0. */
  rk__box one = B(0, 0, 1, 1);
  ASSERT_NEAR(rk__box_iou_vlmr1(&one, &one), 0, 0);
  /* [0,0,10,10] vs [9,0,19,10]: x: 9 < 9 fails -> 0 (standard: 10/190). */
  rk__box d = B(9, 0, 19, 10);
  ASSERT_NEAR(rk__box_iou_vlmr1(&a, &d), 0, 0);
  ASSERT_NEAR(rk__box_iou(&a, &d), 10.0 / 190.0, 1e-15);
}

/* -------------------------------------------------------------- scanner */

TEST(scan_json_list) {
  tctx t;
  tctx_init(&t, 1000000);
  rk__boxes bs = scan(&t,
                      "[{\"bbox_2d\": [10, 20, 30, 40], \"label\": \"cat\"},"
                      " {\"label\": \"dog\", \"bbox_2d\": [1.5, 2, 3e1, 4]}]");
  ASSERT_EQ_INT(bs.n, 2);
  ASSERT_NEAR(bs.b[0].x1, 10, 0);
  ASSERT_NEAR(bs.b[0].y2, 40, 0);
  ASSERT_EQ_SPAN(bs.b[0].label.p, bs.b[0].label.n, "cat");
  ASSERT_NEAR(bs.b[1].x1, 1.5, 0);
  ASSERT_NEAR(bs.b[1].x2, 30, 0);
  ASSERT_EQ_SPAN(bs.b[1].label.p, bs.b[1].label.n, "dog");
  ASSERT_TRUE(isnan(bs.b[1].conf));
  ASSERT_EQ_INT(bs.ndropped, 0);
  tctx_done(&t);
}

TEST(scan_visual_rft) {
  tctx t;
  tctx_init(&t, 1000000);
  /* Python repr with single quotes, as Visual-RFT models often write. */
  rk__boxes bs = scan(&t, "[{'Position': [0, 0, 10, 10], 'Confidence': 0.9}, "
                          "{'Position': [50,50,60,60], 'Confidence': '0.5'}]");
  ASSERT_EQ_INT(bs.n, 2);
  ASSERT_NEAR(bs.b[0].conf, 0.9, 0);
  ASSERT_NEAR(bs.b[1].conf, 0.5, 0);
  ASSERT_NEAR(bs.b[1].x2, 60, 0);
  tctx_done(&t);
}

TEST(scan_prose_and_pairs) {
  tctx t;
  tctx_init(&t, 1000000);
  /* Apostrophes in prose are not strings; "x1" is not a number; a bare
   * list in prose is a box; [[x1,y1],[x2,y2]] is a box. */
  rk__boxes bs = scan(&t, "It's at [12, 34, 56, 78], isn't it? x1=5. "
                          "Also {\"bbox_2d\": [[1,2],[3,4]]} and (9,9,9,9) and [1,2,3].");
  ASSERT_EQ_INT(bs.n, 2);
  ASSERT_NEAR(bs.b[0].x1, 12, 0);
  ASSERT_NEAR(bs.b[0].y2, 78, 0);
  ASSERT_NEAR(bs.b[1].x1, 1, 0);
  ASSERT_NEAR(bs.b[1].y1, 2, 0);
  ASSERT_NEAR(bs.b[1].x2, 3, 0);
  ASSERT_NEAR(bs.b[1].y2, 4, 0);
  ASSERT_EQ_INT(bs.ndropped, 0);
  /* An unclosed brace in prose does not swallow the boxes after it: an
   * array where JSON expects a key is read as a free-standing box. */
  bs = scan(&t, "Let me think {about it. The boxes: [1,2,3,4] and [5,6,7,8]");
  ASSERT_EQ_INT(bs.n, 2);
  ASSERT_EQ_INT(bs.ndropped, 0);
  ASSERT_NEAR(bs.b[0].x1, 1, 0); /* source order kept: the last box is last */
  ASSERT_NEAR(bs.b[1].x1, 5, 0);
  bs = scan(&t, "\\boxed{[1,2,3,4]}");
  ASSERT_EQ_INT(bs.n, 1);
  /* A box key with the wrong count is dropped and counted. */
  bs = scan(&t, "[{\"bbox_2d\": [1,2,3]}, {\"bbox_2d\": [1,2,3,4,5]}, {\"bbox_2d\": [0,0,1,1]}]");
  ASSERT_EQ_INT(bs.n, 1);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_NOT4], 2);
  tctx_done(&t);
}

TEST(scan_label_pairs) {
  tctx t;
  tctx_init(&t, 1000000);
  /* Vision-R1's ground truth: [label, box] pairs, the box as 4 numbers or
   * as two corners; JSON or Python quotes. */
  rk__boxes bs = scan(&t, "[[\"cat\", [1, 2, 3, 4]], [\"dog\", [[5, 6], [7, 8]]], "
                          "['bird', [9, 10, 11, 12]]]");
  ASSERT_EQ_INT(bs.n, 3);
  ASSERT_EQ_INT(bs.ndropped, 0);
  ASSERT_TRUE(bs.b[0].has_label);
  ASSERT_EQ_SPAN(bs.b[0].label.p, bs.b[0].label.n, "cat");
  ASSERT_NEAR(bs.b[0].x1, 1, 0);
  ASSERT_NEAR(bs.b[0].y2, 4, 0);
  ASSERT_EQ_SPAN(bs.b[1].label.p, bs.b[1].label.n, "dog");
  ASSERT_NEAR(bs.b[1].x1, 5, 0);
  ASSERT_NEAR(bs.b[1].y2, 8, 0);
  ASSERT_EQ_SPAN(bs.b[2].label.p, bs.b[2].label.n, "bird");
  ASSERT_TRUE(isnan(bs.b[2].conf));
  /* One pair on its own, and a pair next to an object: source order. */
  bs = scan(&t, "answer: [\"cat\", [1,2,3,4]] and {\"bbox_2d\": [5,6,7,8], \"label\": \"dog\"}");
  ASSERT_EQ_INT(bs.n, 2);
  ASSERT_EQ_SPAN(bs.b[0].label.p, bs.b[0].label.n, "cat");
  ASSERT_EQ_SPAN(bs.b[1].label.p, bs.b[1].label.n, "dog");
  /* Not pairs: the boxes stand on their own, without a label, in order:
   * two boxes after the string; a third item; two strings; the box first;
   * a number as the first item; a stray closer after the box. */
  const char *not_pairs[] = {"[\"cat\", [1,2,3,4], [5,6,7,8]]", "[\"cat\", [1,2,3,4], 0.9]",
                             "[\"cat\", \"dog\", [1,2,3,4]]", "[[1,2,3,4], \"cat\"]",
                             "[3, [1,2,3,4]]", "[\"cat\", [1,2,3,4]} more"};
  const size_t want_n[] = {2, 1, 1, 1, 1, 1};
  for (size_t k = 0; k < sizeof not_pairs / sizeof not_pairs[0]; k++) {
    bs = scan(&t, not_pairs[k]);
    ASSERT_EQ_INT(bs.n, want_n[k]);
    for (size_t i = 0; i < bs.n; i++) ASSERT_TRUE(!bs.b[i].has_label);
    ASSERT_NEAR(bs.b[0].x1, 1, 0);
    ASSERT_EQ_INT(bs.ndropped, 0);
    if (rk_t_failed_) {
      fprintf(stderr, "  case %s\n", not_pairs[k]);
      break;
    }
  }
  /* A string, a box, then an object: the box first (unlabelled), then the
   * object's box with its label. */
  bs = scan(&t, "[\"cat\", [1,2,3,4], {\"bbox_2d\": [5,6,7,8], \"label\": \"dog\"}]");
  ASSERT_EQ_INT(bs.n, 2);
  ASSERT_TRUE(!bs.b[0].has_label);
  ASSERT_NEAR(bs.b[0].x1, 1, 0);
  ASSERT_EQ_SPAN(bs.b[1].label.p, bs.b[1].label.n, "dog");
  /* Cut off by the end of the text after its box: the pair may have had
   * more items, dropped like a cut-off object; the complete pair is kept. */
  bs = scan(&t, "[[\"cat\", [1,2,3,4]], [\"dog\", [5,6,7,8]");
  ASSERT_EQ_INT(bs.n, 1);
  ASSERT_EQ_SPAN(bs.b[0].label.p, bs.b[0].label.n, "cat");
  ASSERT_EQ_INT(bs.dropped[RK__DROP_TRUNCATED], 1);
  tctx_done(&t);
}

TEST(scan_truncated) {
  tctx t;
  tctx_init(&t, 1000000);
  /* Cut inside the third object: the two complete ones are kept; the cut
   * one had a complete box but its label may be missing: dropped and
   * counted as truncated. */
  rk__boxes bs = scan(&t, "```json\n[{\"bbox_2d\": [1,2,3,4], \"label\": \"a\"}, "
                          "{\"bbox_2d\": [5,6,7,8], \"label\": \"b\"}, "
                          "{\"bbox_2d\": [9,10,11,12], \"lab");
  ASSERT_EQ_INT(bs.n, 2);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_TRUNCATED], 1);
  /* Cut inside the box array: nothing of it is usable; not counted. */
  bs = scan(&t, "[{\"bbox_2d\": [1,2,3,4]}, {\"bbox_2d\": [5,6,");
  ASSERT_EQ_INT(bs.n, 1);
  /* Unterminated string. */
  bs = scan(&t, "[{\"bbox_2d\": [1,2,3,4], \"label\": \"ca");
  ASSERT_EQ_INT(bs.n, 0);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_TRUNCATED], 1);
  tctx_done(&t);
}

TEST(scan_hostile) {
  tctx t;
  tctx_init(&t, 100000000);
  /* Deep nesting, stray closers, huge numbers, lone quotes. */
  static char deep[20000];
  size_t k = 0;
  for (int i = 0; i < 5000; i++) deep[k++] = '[';
  memcpy(deep + k, "1,2,3,4", 7);
  k += 7;
  for (int i = 0; i < 5000; i++) deep[k++] = ']';
  deep[k] = '\0';
  rk__boxes bs = scan(&t, deep);
  ASSERT_TRUE(bs.n <= 1);
  bs = scan(&t, "]]]}}}[1e999, 0, 1, 1] [\"");
  ASSERT_EQ_INT(bs.n, 1); /* raw: converted later */
  rk__boxes_convert(&bs, RK__BOX_XYXY, 1, 1);
  ASSERT_EQ_INT(bs.n, 0);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_NONFINITE], 1);
  /* The budget: 10 steps for 30 bytes -> timeout. */
  tctx t2;
  tctx_init(&t2, 10);
  rk__boxes b2;
  ASSERT_EQ_INT(rk__boxes_scan(&t2.c, "[1,2,3,4] [1,2,3,4] [1,2,3,4]", 29, 0, &b2),
                RK_STATUS_TIMEOUT);
  tctx_done(&t2);
  /* The box limit. */
  rk__boxes b3;
  ASSERT_EQ_INT(rk__boxes_scan(&t.c, "[0,0,1,1][0,0,1,1][0,0,1,1]", 27, 2, &b3), RK_STATUS_OK);
  ASSERT_EQ_INT(b3.n, 2);
  ASSERT_EQ_INT(b3.dropped[RK__DROP_LIMIT], 1);
  tctx_done(&t);
}

TEST(convert) {
  tctx t;
  tctx_init(&t, 1000000);
  /* xywh [10,20,30,40] -> xyxy [10,20,40,60]; cxcywh [50,50,20,10] ->
   * [40,45,60,55]; 0-1000 on a 640x480 image: x * 0.64, y * 0.48. */
  rk__boxes bs = scan(&t, "[10,20,30,40]");
  rk__boxes_convert(&bs, RK__BOX_XYWH, 1, 1);
  ASSERT_NEAR(bs.b[0].x2, 40, 0);
  ASSERT_NEAR(bs.b[0].y2, 60, 0);
  bs = scan(&t, "[50,50,20,10]");
  rk__boxes_convert(&bs, RK__BOX_CXCYWH, 1, 1);
  ASSERT_NEAR(bs.b[0].x1, 40, 0);
  ASSERT_NEAR(bs.b[0].y1, 45, 0);
  ASSERT_NEAR(bs.b[0].x2, 60, 0);
  ASSERT_NEAR(bs.b[0].y2, 55, 0);
  bs = scan(&t, "[500,500,1000,1000] [30,0,20,10] [0,30,10,20] [0,0,0,0]");
  rk__boxes_convert(&bs, RK__BOX_XYXY, 640.0 / 1000, 480.0 / 1000);
  ASSERT_EQ_INT(bs.n, 2); /* the zero-area box stays (it scores 0) */
  ASSERT_NEAR(bs.b[0].x1, 320, 1e-12);
  ASSERT_NEAR(bs.b[0].y2, 480, 1e-12);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_X], 1);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_Y], 1);
  char d[200];
  rk__boxes_describe(&bs, "predicted", d, sizeof d);
  ASSERT_EQ_STR(d, "2 predicted boxes (2 invalid dropped: 1 x2 < x1, 1 y2 < y1)");
  tctx_done(&t);
}

/* ------------------------------------------------------------ rewards */

TEST(e2e_iou) {
  /* [0,0,10,10] vs [5,5,15,15] -> 1/7; the last box counts. */
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"iou\"}}",
                           "{\"response\": \"<think>first [0,0,1,1]</think><answer>"
                           "[100,100,200,200] then {\\\"bbox_2d\\\": [0,0,10,10]}</answer>\","
                           " \"reference\": [5,5,15,15]}");
  ASSERT_EQ_STR(r.status, "ok");
  ASSERT_NEAR(r.reward, 1.0 / 7.0, 1e-12);
  ASSERT_CONTAINS(r.explain, "2 predicted boxes from answer tag");
  /* Reference as a list of objects; best reference box counts:
   * vs [0,0,10,10] -> 1. */
  r = e2e_score("{\"reward\": {\"fn\": \"iou\"}}",
                "{\"response\": \"[0,0,10,10]\", \"reference\": "
                "[{\"bbox_2d\": [50,50,60,60], \"label\": \"a\"}, {\"bbox_2d\": [0,0,10,10]}]}");
  ASSERT_NEAR(r.reward, 1.0, 0);
  /* No box -> unparseable 0; no reference box -> invalid_reference. */
  r = e2e_score("{\"reward\": {\"fn\": \"iou\"}}",
                "{\"response\": \"I cannot see it\", \"reference\": [0,0,1,1]}");
  ASSERT_EQ_STR(r.status, "unparseable");
  r = e2e_score("{\"reward\": {\"fn\": \"iou\"}}",
                "{\"response\": \"[0,0,1,1]\", \"reference\": \"nothing\"}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
  r = e2e_score("{\"reward\": {\"fn\": \"iou\"}}",
                "{\"response\": \"[0,0,1,1]\", \"reference\": [5,5,1,1]}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
  /* Inverted prediction dropped and counted. */
  r = e2e_score("{\"reward\": {\"fn\": \"iou\"}}",
                "{\"response\": \"[0,0,10,10] [9,0,1,5]\", \"reference\": [0,0,10,10]}");
  ASSERT_NEAR(r.reward, 1.0, 0);
  ASSERT_CONTAINS(r.explain, "1 predicted box (1 invalid dropped: 1 x2 < x1)");
}

TEST(e2e_conventions) {
  /* 0-1000 prediction on a 200x100 image: [250,500,500,1000] ->
   * [50,50,100,100]; reference in pixels [50,50,100,100] -> 1. */
  e2e_result r = e2e_score(
      "{\"reward\": {\"fn\": \"iou\", \"args\": {\"coords\": \"1000\"}}}",
      "{\"response\": \"[250,500,500,1000]\", \"reference\": [50,50,100,100],"
      " \"width\": 200, \"height\": 100}");
  ASSERT_NEAR(r.reward, 1.0, 1e-12);
  /* Without the size: an error naming the fields. */
  r = e2e_score("{\"reward\": {\"fn\": \"iou\", \"args\": {\"coords\": \"1000\"}}}",
                "{\"response\": \"[250,500,500,1000]\", \"reference\": [50,50,100,100]}");
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.error, "image size");
  /* Same convention on both sides needs no size (IoU is scale-free). */
  r = e2e_score("{\"reward\": {\"fn\": \"iou\", \"args\": {\"coords\": \"unit\","
                " \"ref_coords\": \"unit\"}}}",
                "{\"response\": \"[0,0,0.5,0.5]\", \"reference\": [0,0,1,1]}");
  ASSERT_NEAR(r.reward, 0.25, 1e-15);
  /* Grid (VLM-R1 REC): model input 28x28 grid cells of 14 px = 392 px;
   * image 784x392: x * 784/392 = 2x, y * 392/392 = y. [10,10,20,20] ->
   * [20,10,40,20] = reference. */
  r = e2e_score("{\"reward\": {\"fn\": \"iou\", \"args\": {\"coords\": \"grid\","
                " \"input_width\": 392, \"input_height\": 392}}}",
                "{\"response\": \"[10,10,20,20]\", \"reference\": [20,10,40,20],"
                " \"width\": 784, \"height\": 392}");
  ASSERT_NEAR(r.reward, 1.0, 1e-12);
  /* xywh prediction [0,0,10,10] = xyxy [0,0,10,10]. */
  r = e2e_score("{\"reward\": {\"fn\": \"iou\", \"args\": {\"format\": \"xywh\"}}}",
                "{\"response\": \"[5,5,10,10]\", \"reference\": [5,5,15,15]}");
  ASSERT_NEAR(r.reward, 1.0, 0);
}

TEST(e2e_giou_grounding) {
  /* GIoU of [0,0,10,10] vs [5,5,15,15] = 1/7 - 50/225 (see hand_iou). */
  double g = 1.0 / 7.0 - 50.0 / 225.0;
  const char *rec = "{\"response\": \"<answer>[0,0,10,10]</answer>\", \"reference\": [5,5,15,15]}";
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"giou\"}}", rec);
  ASSERT_NEAR(r.reward, g, 1e-12);
  r = e2e_score("{\"reward\": {\"fn\": \"giou\", \"args\": {\"scale\": \"unit\"}}}", rec);
  ASSERT_NEAR(r.reward, (g + 1) / 2, 1e-12);
  r = e2e_score("{\"reward\": {\"fn\": \"giou\", \"args\": {\"scale\": \"shifted\"}}}", rec);
  ASSERT_NEAR(r.reward, g + 1, 1e-12);
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\"}}", rec);
  ASSERT_NEAR(r.reward, 1.0 / 7.0, 1e-12);
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\", \"args\": {\"threshold\": 0.5}}}", rec);
  ASSERT_NEAR(r.reward, 0.0, 0);
  ASSERT_CONTAINS(r.explain, "iou 0.14285714285714285 < 0.5");
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\", \"args\": {\"threshold\": 0.1}}}", rec);
  ASSERT_NEAR(r.reward, 1.0, 0);
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\", \"args\": {\"metric\": \"giou\"}}}", rec);
  ASSERT_NEAR(r.reward, g, 1e-12);
  /* Unclosed answer tag (truncated): the boxes after it still count. */
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\"}}",
                "{\"response\": \"<think>[50,50,60,60]</think><answer>[5,5,15,15]\","
                " \"reference\": [5,5,15,15]}");
  ASSERT_NEAR(r.reward, 1.0, 0);
  ASSERT_CONTAINS(r.explain, "unclosed answer tag");
  /* pick: first / best. */
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\", \"args\": {\"pick\": \"best\"}}}",
                "{\"response\": \"[5,5,15,15] [0,0,1,1]\", \"reference\": [5,5,15,15]}");
  ASSERT_NEAR(r.reward, 1.0, 0);
  /* iou variant vlm_r1 on a 1x1 box: 0. */
  r = e2e_score("{\"reward\": {\"fn\": \"iou\", \"args\": {\"variant\": \"vlm_r1\"}}}",
                "{\"response\": \"[0,0,1,1]\", \"reference\": [0,0,1,1]}");
  ASSERT_NEAR(r.reward, 0.0, 0);
  /* Unknown argument rejected at compile time. */
  char buf[512];
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"giou\", \"args\": {\"treshold\": 1}}}",
                                 buf, sizeof buf),
                  "treshold");
}

TEST(e2e_coords_shared) {
  /* The number 1000 is read as the convention "1000" (what `--arg
   * coords=1000` gives): [250,500,500,1000] on 200x100 -> [50,50,100,100]. */
  e2e_result r = e2e_score(
      "{\"reward\": {\"fn\": \"iou\", \"args\": {\"coords\": 1000}}}",
      "{\"response\": \"[250,500,500,1000]\", \"reference\": [50,50,100,100],"
      " \"width\": 200, \"height\": 100}");
  ASSERT_E2E(r, 1.0, "ok");
  /* Other numbers are still refused. */
  char buf[512];
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"iou\", \"args\": {\"coords\": 100}}}",
                                 buf, sizeof buf),
                  "coords");
  /* A missing size is in the explanation as well as the error. */
  r = e2e_score("{\"reward\": {\"fn\": \"iou\", \"args\": {\"ref_coords\": \"unit\"}}}",
                "{\"response\": \"[0,0,10,10]\", \"reference\": [0,0,1,1]}");
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.error, "coords \"unit\" needs the image size: record field 'width'/'height'");
  ASSERT_CONTAINS(r.explain, "needs the image size");
  /* A [label, box] reference for a single-box reward: the best box. */
  r = e2e_score("{\"reward\": {\"fn\": \"iou\"}}",
                "{\"response\": \"[0,0,10,10]\", \"reference\": [[\"a\", [50,50,60,60]],"
                " [\"b\", [0,0,10,10]]]}");
  ASSERT_E2E(r, 1.0, "ok");
}

TEST_MAIN(TEST_ENTRY(torchvision_int_boxes), TEST_ENTRY(torchvision_float_boxes),
          TEST_ENTRY(hand_iou), TEST_ENTRY(vlmr1_iou), TEST_ENTRY(scan_json_list),
          TEST_ENTRY(scan_visual_rft), TEST_ENTRY(scan_prose_and_pairs), TEST_ENTRY(scan_label_pairs),
          TEST_ENTRY(scan_truncated), TEST_ENTRY(scan_hostile), TEST_ENTRY(convert),
          TEST_ENTRY(e2e_iou), TEST_ENTRY(e2e_conventions), TEST_ENTRY(e2e_giou_grounding),
          TEST_ENTRY(e2e_coords_shared))
