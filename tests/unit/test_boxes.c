/*
 * test_boxes.c - box parsing, coordinate conventions, IoU / GIoU and the
 * single-box rewards (iou, giou, grounding).
 *
 * Expected values: the torchvision test_ops.py IoU / GIoU matrices
 * (apis_metrics.md B5), hand computation with the arithmetic in the
 * comments, and end to end through the public API.
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "e2e.h"
#include "json/json.h"
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

TEST(iou_extreme_sizes) {
  /* Boxes whose areas underflow or overflow a double. The plain
   * products give 0 (or 0/0, inf/inf) there; IoU and GIoU are ratios of
   * areas and do not depend on the unit, so the answers are the same as
   * for the boxes in units of u. With u = 2^-700 the values below are
   * exact in binary. */
  double u = 0x1p-700;
  /* Identical boxes: IoU 1, GIoU 1 (C = U = I). */
  rk__box t = B(0, 0, 1e-200, 1e-200);
  ASSERT_NEAR(rk__box_iou_safe(&t, &t), 1, 0);
  ASSERT_NEAR(rk__box_giou_safe(&t, &t), 1, 0);
  /* [0,0,2u,u] vs [u,0,3u,u]: I = u*u, areas 2u^2 each, U = 3u^2, IoU 1/3;
   * C = 3u * u = U, so GIoU = IoU = 1/3. */
  rk__box a = B(0, 0, 2 * u, u), b = B(u, 0, 3 * u, u);
  ASSERT_NEAR(rk__box_iou_safe(&a, &b), 1.0 / 3.0, 0);
  ASSERT_NEAR(rk__box_giou_safe(&a, &b), 1.0 / 3.0, 0);
  /* Disjoint [0,0,u,u] vs [2u,0,3u,u]: I = 0, U = 2u^2, C = 3u^2:
   * GIoU = 0 - (3 - 2)/3 = -1/3 (the plain products: U = C = 0, GIoU 0). */
  rk__box c = B(0, 0, u, u), d = B(2 * u, 0, 3 * u, u);
  ASSERT_NEAR(rk__box_iou_safe(&c, &d), 0, 0);
  ASSERT_NEAR(rk__box_giou_safe(&c, &d), -1.0 / 3.0, 0);
  /* A sliver of width u and height 2^600 (area 2^-100, normal) inside a
   * 2^600 square: I = area of the sliver = 2^-100, U = 2^1200 overflows
   * the plain sum; IoU = 2^-100 / 2^1200 = 2^-1300, which is below the
   * smallest double: 0 is the right rounding. The square against itself
   * (area 2^1200 = inf in plain products) is 1. */
  rk__box sq = B(0, 0, 0x1p600, 0x1p600), sl = B(0, 0, u, 0x1p600);
  ASSERT_NEAR(rk__box_iou_safe(&sq, &sl), 0, 0);
  ASSERT_NEAR(rk__box_iou_safe(&sq, &sq), 1, 0);
  ASSERT_NEAR(rk__box_giou_safe(&sq, &sq), 1, 0);
  /* Coordinates at the ends of the double range: the extent 2e308 itself
   * overflows. [-1e308, 0, 1e308, 1] vs [0, 0, 1e308, 1]: I = 1e308 * 1,
   * U = 2e308 * 1, IoU = 1/2; C = U, GIoU = 1/2. */
  rk__box h = B(-1e308, 0, 1e308, 1), hh = B(0, 0, 1e308, 1);
  ASSERT_NEAR(rk__box_iou_safe(&h, &hh), 0.5, 0);
  ASSERT_NEAR(rk__box_giou_safe(&h, &hh), 0.5, 0);
  ASSERT_NEAR(rk__box_iou_safe(&h, &h), 1, 0);
  /* Zero-area boxes stay as the plain formula has them (see hand_iou):
   * two equal points 0, a zero-width box inside a square 0. */
  rk__box p = B(3e-200, 3e-200, 3e-200, 3e-200);
  ASSERT_NEAR(rk__box_iou_safe(&p, &p), 0, 0);
  ASSERT_NEAR(rk__box_giou_safe(&p, &p), 0, 0);
}

TEST(iou_safe_same_bits_as_plain) {
  /* On ordinary boxes (sides from 1e-3 to 2e15) the safe helpers are the
   * plain ones bit for bit: the published vectors above stay what they
   * were. 20000 random pairs, memcmp (so -0 and +0 would differ). */
  unsigned s = 12345;
  for (int it = 0; it < 20000 && !rk_t_failed_; it++) {
    double x[8];
    for (int q = 0; q < 8; q++) {
      s = s * 1103515245u + 12345u;
      double r = (double)(s >> 8) / 16777216.0;
      x[q] = it % 3 == 0 ? r * 2e15 - 1e15 : it % 3 == 1 ? (double)((s >> 8) % 7) : r * 1e-1;
    }
    rk__box a = B(fmin(x[0], x[2]), fmin(x[1], x[3]), fmax(x[0], x[2]), fmax(x[1], x[3]));
    rk__box b = B(fmin(x[4], x[6]), fmin(x[5], x[7]), fmax(x[4], x[6]), fmax(x[5], x[7]));
    double i0 = rk__box_iou(&a, &b), i1 = rk__box_iou_safe(&a, &b);
    double g0 = rk__box_giou(&a, &b), g1 = rk__box_giou_safe(&a, &b);
    if (memcmp(&i0, &i1, sizeof i0) || memcmp(&g0, &g1, sizeof g0))
      RK_T_FAIL_("pair %d: iou %a vs %a, giou %a vs %a", it, i0, i1, g0, g1);
  }
}

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
  /* Cut inside the box array: nothing of it is usable; counted as
   * truncated (the object lost its box). */
  bs = scan(&t, "[{\"bbox_2d\": [1,2,3,4]}, {\"bbox_2d\": [5,6,");
  ASSERT_EQ_INT(bs.n, 1);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_TRUNCATED], 1);
  ASSERT_EQ_INT(bs.ndropped, 1);
  /* Unterminated string. */
  bs = scan(&t, "[{\"bbox_2d\": [1,2,3,4], \"label\": \"ca");
  ASSERT_EQ_INT(bs.n, 0);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_TRUNCATED], 1);
  tctx_done(&t);
}

/* Scans s, converts (xyxy, factors 1) and checks the kept count and the
 * drops by reason: want_n boxes, nonfinite / not4 / truncated drops and
 * no others. */
static void expect_drops(tctx *t, const char *s, size_t want_n, size_t nonfinite, size_t not4,
                         size_t truncated) {
  int before = rk_t_failed_; /* name only the cases that fail */
  rk_t_failed_ = 0;
  rk__boxes bs = scan(t, s);
  rk__boxes_convert(&bs, RK__BOX_XYXY, 1, 1);
  ASSERT_EQ_INT(bs.n, want_n);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_NONFINITE], nonfinite);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_NOT4], not4);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_TRUNCATED], truncated);
  ASSERT_EQ_INT(bs.ndropped, nonfinite + not4 + truncated);
  if (rk_t_failed_) fprintf(stderr, "  case %s\n", s);
  rk_t_failed_ |= before;
}

TEST(scan_dropped_counted) {
  tctx t;
  tctx_init(&t, 1000000);
  /* A box array cut by the end of the text inside a list: the two
   * complete boxes kept, the cut one counted as truncated. Cut under a
   * box key: the object counted once, whether it had no box yet or
   * already a keyed one; an object with only a fallback box ("foo") keeps
   * that box and the cut keyed one is counted. A cut [label, box] pair,
   * and the two-corner form cut in its second corner: one each. */
  expect_drops(&t, "[[1,2,3,4],[5,6,7,8],[9,10,11", 2, 0, 0, 1);
  expect_drops(&t, "[[1,2,3,4],[5,6,7,8],[NaN, 10", 2, 0, 0, 1);
  expect_drops(&t, "{\"bbox_2d\": [5,6,", 0, 0, 0, 1);
  expect_drops(&t, "{\"bbox_2d\": [1,2,3,4], \"bbox\": [5,", 0, 0, 0, 1);
  expect_drops(&t, "{\"foo\": [1,2,3,4], \"bbox_2d\": [5,6", 1, 0, 0, 1);
  expect_drops(&t, "[[\"cat\", [1,2,3,4]], [\"dog\", [5,6", 1, 0, 0, 1);
  expect_drops(&t, "[[[1,2],[3,4]], [[5,6],[7", 1, 0, 0, 1);
  /* Not counted: every item complete (only the list is cut), nothing of
   * the next item read yet, a bracket in prose at the top level, and an
   * array closed by an outer closer rather than cut by the end. */
  expect_drops(&t, "[[1,2,3,4],[5,6,7,8]", 2, 0, 0, 0);
  expect_drops(&t, "[[1,2,3,4],[", 1, 0, 0, 0);
  expect_drops(&t, "as shown in [1", 0, 0, 0, 0);
  expect_drops(&t, "[1, 2, 3", 0, 0, 0, 0);
  expect_drops(&t, "[{\"bbox_2d\": [5,6}, [0,0,1,1]]", 1, 0, 0, 0);
  /* Non-finite coordinates as words (Python's json: NaN, Infinity,
   * -Infinity; Python's float repr: nan, inf, -inf): a box dropped as
   * not finite, under a box key, bare, in a [label, box] pair, or as
   * two corners. */
  expect_drops(&t, "{\"bbox_2d\": [NaN, 0, 10, 10]}", 0, 1, 0, 0);
  expect_drops(&t, "[{\"bbox_2d\": [0, 0, Infinity, 10], \"label\": \"a\"}]", 0, 1, 0, 0);
  expect_drops(&t, "[Infinity, 0, 10, 10]", 0, 1, 0, 0);
  expect_drops(&t, "[-Infinity, 0, 10, 10]", 0, 1, 0, 0);
  expect_drops(&t, "the box is [nan, 0, 10, 10].", 0, 1, 0, 0);
  expect_drops(&t, "[0, 0, inf, 10] [0, -inf, 10, 10]", 0, 2, 0, 0);
  expect_drops(&t, "[[\"cat\", [NaN, 0, 10, 10]], [\"dog\", [0, 0, 1, 1]]]", 1, 1, 0, 0);
  expect_drops(&t, "[[NaN, 0], [10, 10]]", 0, 1, 0, 0);
  /* Under a box key but not 4 items: not 4 numbers, as before. */
  expect_drops(&t, "{\"bbox_2d\": [NaN, 0, 10]}", 0, 0, 1, 0);
  /* Not boxes: other words, other spellings (NAN, -nan: not what Python
   * writes), a longer word, 3 or 5 items outside a box key. */
  expect_drops(&t, "[nan, bread, milk, eggs]", 0, 0, 0, 0);
  expect_drops(&t, "[NAN, 0, 1, 1] [-nan, 0, 1, 1] [Infinityx, 0, 1, 1]", 0, 0, 0, 0);
  expect_drops(&t, "[NaN, 1, 2] [nan, 0, 1, 1, 2]", 0, 0, 0, 0);
  /* The explanation names them. */
  rk__boxes bs = scan(&t, "[[1,2,3,4],[5,6,7,8],[9,10,11");
  rk__boxes_convert(&bs, RK__BOX_XYXY, 1, 1);
  char d[200];
  rk__boxes_describe(&bs, "predicted", d, sizeof d);
  ASSERT_EQ_STR(d, "2 predicted boxes (1 invalid dropped: 1 truncated)");
  bs = scan(&t, "{\"bbox_2d\": [NaN, 0, 10, 10]}");
  rk__boxes_convert(&bs, RK__BOX_XYXY, 1, 1);
  rk__boxes_describe(&bs, "predicted", d, sizeof d);
  ASSERT_EQ_STR(d, "0 predicted boxes (1 invalid dropped: 1 not finite or |x| > 1e15)");
  tctx_done(&t);
  /* End to end, in detection's explanation: GT [0,0,10,10]; the answer's
   * kept box [0,0,10,10] matches (IoU 1), pos 1; the dropped box is a
   * prediction that matches nothing (VLM-R1 counts every item of the
   * list): false alarms 1/2, completeness 1 - (0 + 1/2)/2 = 0.75;
   * 0.7 * 1 + 0.3 * 0.75 = 0.925. */
  e2e_result r = e2e_score(e2e_spec("detection", ""),
                           e2e_rec("[[0,0,10,10]]", "[[0,0,10,10],[5,6,7"));
  ASSERT_E2E(r, 0.925, "ok");
  ASSERT_CONTAINS(r.explain, "1 predicted box (1 invalid dropped: 1 truncated)");
  ASSERT_CONTAINS(r.explain, "false alarms include 1 invalid box and 0 list items without a box");
  r = e2e_score(e2e_spec("detection", ""),
                e2e_rec("[[0,0,10,10]]", "[0,0,10,10] [NaN, 0, 10, 10]"));
  ASSERT_E2E(r, 0.925, "ok");
  ASSERT_CONTAINS(r.explain, "1 predicted box (1 invalid dropped: 1 not finite or |x| > 1e15)");
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

/* ------------------------------------------------- scanner, randomised */

static unsigned long long g_rs = 88172645463325252ULL;
static unsigned rnd_u(void) { /* xorshift64 */
  g_rs ^= g_rs << 13, g_rs ^= g_rs >> 7, g_rs ^= g_rs << 17;
  return (unsigned)(g_rs >> 11);
}
static unsigned rnd_n(unsigned n) { return rnd_u() % n; }

/* Appends with a bound (the generators stop growing at the end). */
typedef struct sbuf {
  char p[60000];
  size_t n;
} sbuf;
static void sb_put(sbuf *b, const char *s) {
  size_t k = strlen(s);
  if (b->n + k < sizeof b->p) memcpy(b->p + b->n, s, k), b->n += k;
  b->p[b->n] = '\0';
}
static void sb_ws(sbuf *b) {
  static const char *const ws[] = {"", "", " ", "  ", "\n", "\t", " \r\n "};
  sb_put(b, ws[rnd_n(7)]);
}

/* A random number token of the scanner's grammar (sign, digits, point,
 * digits, exponent; at least one digit), written to tok. With json, only
 * JSON numbers. */
static void gen_number(char *tok, size_t cap, int json) {
  size_t o = 0;
  int kind = (int)rnd_n(10);
  if (rnd_n(4) == 0) tok[o++] = '-';
  else if (!json && rnd_n(12) == 0) tok[o++] = '+';
  size_t ni = kind < 6 ? 1 + rnd_n(4) : rnd_n(kind == 9 ? 40 : 20);
  if (json && ni == 0) ni = 1;
  for (size_t k = 0; k < ni && o < cap - 40; k++)
    tok[o++] = (char)('0' + (json && k == 0 && ni > 1 ? 1 + rnd_n(9) : rnd_n(10)));
  size_t nf = 0;
  if (kind >= 3 && (rnd_n(3) || ni == 0)) {
    tok[o++] = '.';
    nf = kind == 9 ? rnd_n(60) : rnd_n(25);
    if ((json || ni == 0) && nf == 0) nf = 1;
    for (size_t k = 0; k < nf && o < cap - 12; k++) tok[o++] = (char)('0' + rnd_n(10));
  }
  if (kind >= 7 && rnd_n(2)) {
    tok[o++] = rnd_n(2) ? 'e' : 'E';
    if (rnd_n(2)) tok[o++] = rnd_n(2) ? '-' : '+';
    size_t ne = 1 + rnd_n(json ? 2 : 3); /* JSON rejects overflow (1e400) */
    for (size_t k = 0; k < ne; k++) tok[o++] = (char)('0' + rnd_n(10));
  }
  tok[o] = '\0';
}

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

TEST(scan_numbers_like_strtod) {
  /* Number tokens in box arrays (in lists, as object members, at the end
   * of the text, next to other tokens) read as strtod reads them; tokens
   * of 64 bytes or more as NaN (unusable). 20000 arrays. */
  tctx t;
  tctx_init(&t, UINT64_MAX);
  static sbuf b;
  int bad = 0;
  for (int it = 0; it < 5000 && !bad; it++) {
    char tok[4][200];
    b.n = 0;
    int form = (int)rnd_n(4);
    if (form == 1) sb_put(&b, "[{\"bbox_2d\":");
    if (form == 2) sb_put(&b, "prose [");
    sb_ws(&b);
    sb_put(&b, "[");
    for (int k = 0; k < 4; k++) {
      gen_number(tok[k], sizeof tok[k], 0);
      if (k) sb_put(&b, rnd_n(4) ? "," : " ,");
      sb_ws(&b);
      sb_put(&b, tok[k]);
      sb_ws(&b);
    }
    sb_put(&b, "]");
    if (form == 1) sb_put(&b, rnd_n(2) ? ", \"label\": \"cat\"}]" : "}");
    if (form == 2) sb_put(&b, rnd_n(2) ? "]" : "");
    if (form == 3 && rnd_n(2)) sb_put(&b, " and so on, until the end of the text");
    rk__arena_reset(&t.arena);
    rk__boxes bs;
    ASSERT_EQ_INT(rk__boxes_scan(&t.c, b.p, b.n, 0, &bs), RK_STATUS_OK);
    ASSERT_EQ_INT(bs.n, 1);
    if (bs.n != 1) {
      bad = 1;
      break;
    }
    const double got[4] = {bs.b[0].x1, bs.b[0].y1, bs.b[0].x2, bs.b[0].y2};
    for (int k = 0; k < 4; k++) {
      double want = strlen(tok[k]) < 64 ? strtod(tok[k], NULL) : NAN;
      if (!same_double(got[k], want) && !(isnan(got[k]) && isnan(want))) {
        fprintf(stderr, "  token '%s' in '%s': %.17g, strtod %.17g\n", tok[k], b.p, got[k], want);
        ASSERT_TRUE(same_double(got[k], want));
        bad = 1;
      }
    }
  }
  tctx_done(&t);
}

TEST(scan_flat_arrays) {
  /* Arrays of 0-6 numbers (ints of 1-9 digits, negative, decimal), in a
   * list, as box members of objects and as Vision-R1 corner pairs, with
   * random spacing: a box exactly where there are 4 numbers (or two
   * [x, y] pairs); a box member with another count is dropped as "not 4
   * numbers". Values as strtod. (No lone 2-number items in the list: two
   * of them and nothing else would be a box of corners.) */
  tctx t;
  tctx_init(&t, UINT64_MAX);
  static sbuf b;
  for (int it = 0; it < 3000; it++) {
    b.n = 0;
    double want[64][4];
    int wantn = 0, wantbad = 0;
    int nitems = 1 + (int)rnd_n(12);
    sb_put(&b, "[");
    for (int k = 0; k < nitems; k++) {
      if (k) sb_put(&b, ",");
      sb_ws(&b);
      int cnt = (int)rnd_n(7), obj = (int)rnd_n(3), pairs = rnd_n(6) == 0;
      if (pairs) cnt = 4;
      if (cnt == 2 && !obj) cnt = 3; /* two [x, y] items alone would be a box */
      if (obj) sb_put(&b, obj == 1 ? "{\"bbox_2d\":" : "{\"label\": \"x\", \"box\": ");
      sb_ws(&b);
      sb_put(&b, "[");
      double v[6];
      for (int q = 0; q < cnt; q++) {
        char tok[40];
        int kind = (int)rnd_n(4);
        unsigned long long mag = 1;
        for (unsigned d = rnd_n(9); d > 0; d--) mag *= 10;
        if (kind == 3)
          snprintf(tok, sizeof tok, "%llu.%u", rnd_u() % mag, rnd_n(1000));
        else
          snprintf(tok, sizeof tok, "%s%llu", kind == 2 ? "-" : "", rnd_u() % mag);
        v[q] = strtod(tok, NULL);
        if (pairs && q % 2 == 0) sb_put(&b, q ? ", [" : "[");
        else if (q) sb_put(&b, rnd_n(2) ? "," : ", ");
        sb_ws(&b);
        sb_put(&b, tok);
        sb_ws(&b);
        if (pairs && q % 2 == 1) sb_put(&b, "]");
      }
      sb_put(&b, "]");
      if (obj) sb_put(&b, "}");
      if (cnt == 4) memcpy(want[wantn++], v, sizeof want[0]);
      else if (obj) wantbad++;
    }
    sb_put(&b, "]");
    rk__arena_reset(&t.arena);
    rk__boxes bs;
    ASSERT_EQ_INT(rk__boxes_scan(&t.c, b.p, b.n, 0, &bs), RK_STATUS_OK);
    ASSERT_EQ_INT(bs.n, wantn);
    ASSERT_EQ_INT(bs.dropped[RK__DROP_NOT4], wantbad);
    for (int k = 0; k < wantn && (size_t)k < bs.n; k++) {
      const double got[4] = {bs.b[k].x1, bs.b[k].y1, bs.b[k].x2, bs.b[k].y2};
      for (int q = 0; q < 4; q++)
        if (!same_double(got[q], want[k][q])) {
          fprintf(stderr, "  box %d value %d: %.17g, want %.17g\n", k, q, got[q], want[k][q]);
          ASSERT_TRUE(same_double(got[q], want[k][q]));
        }
    }
    if (rk_t_failed_) {
      fprintf(stderr, "  text: %s\n", b.p);
      break;
    }
  }
  tctx_done(&t);
}

/* A random JSON value for the tree-versus-text comparison: objects with
 * box, label, confidence, area, crowd and other keys (any case), lists,
 * [label, box] pairs, corner pairs, strings with escapes, numbers of every
 * JSON form, literals, and now and then a nesting past the scanner's 64
 * levels. */
static void gen_json(sbuf *b, int depth) {
  static const char *const keys[] = {
      "bbox_2d", "BBox", "box", "position", "Coordinates", "label", "Label", "class",
      "name",    "category_name", "confidence", "score", "area", "iscrowd", "other", "x"};
  static const char *const strs[] = {"cat", " Dog ", "a\\\"b", "\\u00e9t\\u00e9", "0.75", "12",
                                     "", "x\\\\", "\\n", "multi word label"};
  int r = (int)rnd_n(depth > 4 ? 4 : 10);
  char tok[200];
  if (r == 0) {
    gen_number(tok, sizeof tok, 1);
    sb_put(b, tok);
  } else if (r == 1) {
    sb_put(b, "\"");
    sb_put(b, strs[rnd_n(10)]);
    sb_put(b, "\"");
  } else if (r == 2) {
    static const char *const lits[] = {"true", "false", "null"};
    sb_put(b, lits[rnd_n(3)]);
  } else if (r == 3 || r == 4) { /* a box of numbers, or 2-6 of them */
    int cnt = r == 3 ? 4 : (int)rnd_n(7);
    sb_put(b, "[");
    for (int k = 0; k < cnt; k++) {
      if (k) sb_put(b, ",");
      sb_ws(b);
      gen_number(tok, sizeof tok, 1);
      sb_put(b, tok);
    }
    sb_put(b, "]");
  } else if (r == 5) { /* [label, box] or corner pairs */
    sb_put(b, rnd_n(2) ? "[\"cat\", [1, 2, 3, 4]]" : "[[1.5, 2], [3, 4.25]]");
  } else if (r == 6 && rnd_n(20) == 0) { /* past MAX_DEPTH */
    int d = 60 + (int)rnd_n(10);
    for (int k = 0; k < d; k++) sb_put(b, "[");
    gen_json(b, depth + 1);
    for (int k = 0; k < d; k++) sb_put(b, "]");
  } else if (r <= 7) { /* object */
    int cnt = (int)rnd_n(5);
    sb_put(b, "{");
    for (int k = 0; k < cnt; k++) {
      if (k) sb_put(b, ",");
      sb_ws(b);
      sb_put(b, "\"");
      sb_put(b, keys[rnd_n(16)]);
      sb_put(b, "\":");
      sb_ws(b);
      gen_json(b, depth + 1);
    }
    sb_ws(b);
    sb_put(b, "}");
  } else { /* list */
    int cnt = (int)rnd_n(6);
    sb_put(b, "[");
    for (int k = 0; k < cnt; k++) {
      if (k) sb_put(b, ",");
      sb_ws(b);
      gen_json(b, depth + 1);
    }
    sb_ws(b);
    sb_put(b, "]");
  }
}

TEST(scan_json_tree_same_as_text) {
  /* rk__boxes_scan_json on a parsed value gives what rk__boxes_scan gives
   * on its raw text: boxes (every field, labels pointing at the same
   * bytes), drop counts and the charge, on 4000 random JSON values. */
  tctx t;
  tctx_init(&t, UINT64_MAX);
  static sbuf b;
  int done = 0;
  for (int it = 0; it < 4000; it++) {
    b.n = 0;
    sb_put(&b, rnd_n(2) ? "[" : "{\"objects\": [");
    int cnt = (int)rnd_n(8);
    for (int k = 0; k < cnt; k++) {
      if (k) sb_put(&b, ", ");
      gen_json(&b, 0);
    }
    sb_put(&b, b.p[0] == '[' ? "]" : "]}");
    rk__arena_reset(&t.arena);
    rk__jval *root = NULL;
    if (rk__json_parse(b.p, b.n, &t.arena, NULL, &root, NULL) != 0) {
      fprintf(stderr, "  not JSON: %s\n", b.p);
      ASSERT_TRUE(0);
      break;
    }
    rk__boxes x, y;
    t.budget.used = 0;
    ASSERT_EQ_INT(rk__boxes_scan(&t.c, b.p, b.n, 0, &x), RK_STATUS_OK);
    uint64_t used_text = t.budget.used;
    t.budget.used = 0;
    ASSERT_EQ_INT(rk__boxes_scan_json(&t.c, root, 0, &y), RK_STATUS_OK);
    ASSERT_EQ_INT(t.budget.used, used_text);
    ASSERT_EQ_INT(y.n, x.n);
    ASSERT_EQ_INT(y.ndropped, x.ndropped);
    for (int k = 0; k < RK__DROP__COUNT; k++) ASSERT_EQ_INT(y.dropped[k], x.dropped[k]);
    for (size_t i = 0; i < x.n && i < y.n; i++) {
      const rk__box *p = &x.b[i], *q = &y.b[i];
      int same = same_double(p->x1, q->x1) && same_double(p->y1, q->y1) &&
                 same_double(p->x2, q->x2) && same_double(p->y2, q->y2) &&
                 (same_double(p->conf, q->conf) || (isnan(p->conf) && isnan(q->conf))) &&
                 (same_double(p->area, q->area) || (isnan(p->area) && isnan(q->area))) &&
                 p->has_label == q->has_label && p->crowd == q->crowd && p->at == q->at &&
                 p->label.n == q->label.n &&
                 (!p->label.n || memcmp(p->label.p, q->label.p, p->label.n) == 0);
      ASSERT_TRUE(same);
    }
    done += x.n > 0;
    if (rk_t_failed_) {
      fprintf(stderr, "  text: %s\n", b.p);
      break;
    }
  }
  ASSERT_TRUE(done > 1000); /* most cases have boxes */
  tctx_done(&t);
}

/* The answer region as it was found before one memchr pass replaced the
 * memmem loops: the last "<answer>", up to the first "</answer>" after
 * it or to the end. */
static rk__str region_ref(rk__str t, const char **how) {
  const char *o = NULL;
  for (const char *q = t.p; t.n - (size_t)(q - t.p) >= 8;) {
    const char *f = memmem(q, t.n - (size_t)(q - t.p), "<answer>", 8);
    if (!f) break;
    o = f;
    q = f + 8;
  }
  *how = "whole response";
  if (!o) return t;
  const char *s = o + 8, *e = t.p + t.n;
  const char *cl = memmem(s, (size_t)(e - s), "</answer>", 9);
  *how = cl ? "answer tag" : "unclosed answer tag";
  return rk__str_make(s, (size_t)((cl ? cl : e) - s));
}

/* rk__boxes_region on a record whose response is p[0..n) (rec is set up
 * and left as t's record) equals region_ref, span and mode; returns it. */
static rk__str region_agrees(tctx *t, const rk__boxargs *ba, rk__record *rec, const char *p,
                             size_t n) {
  memset(rec, 0, sizeof *rec);
  rec->has_response = 1;
  rec->response = rk__str_make(p, n);
  t->c.rec = rec;
  rk__str got, want;
  const char *hg = NULL, *hw = NULL;
  ASSERT_EQ_INT(rk__boxes_region(ba, &t->c, &got, &hg), RK_STATUS_OK);
  want = region_ref(rec->response, &hw);
  ASSERT_TRUE(got.p == want.p && got.n == want.n);
  ASSERT_EQ_STR(hg, hw);
  return want;
}

TEST(answer_region_and_fences) {
  /* On 5000 random mixes of tags, partial tags, backticks and boxes: the
   * region is the reference one above, and the boxes are those of the
   * last ``` block when it has any (else of the region), as the memmem
   * version found them. */
  static const char *const parts[] = {"<answer>", "</answer>", "<answer", "</answer",
                                      "<",        "answer>",   "<<answer>>", "```",
                                      "``",       "`",         "````",       "[1, 2, 3, 4]",
                                      "[5,6,7,8]", "text ",    "\n",         "```json\n"};
  tctx t;
  tctx_init(&t, UINT64_MAX);
  static sbuf b;
  rk__boxargs ba;
  memset(&ba, 0, sizeof ba);
  ba.max_boxes = 1000;
  for (int it = 0; it < 5000; it++) {
    b.n = 0;
    int cnt = (int)rnd_n(14);
    for (int k = 0; k < cnt; k++) sb_put(&b, parts[rnd_n(16)]);
    rk__record rec;
    rk__str want = region_agrees(&t, &ba, &rec, b.p, b.n);
    /* The fence: the last ``` block (closing fence or the end), by memmem. */
    const char *f0 = NULL, *f1 = NULL;
    size_t nf = 0;
    for (const char *q = want.p, *e = want.p + want.n; (size_t)(e - q) >= 3;) {
      const char *f = memmem(q, (size_t)(e - q), "```", 3);
      if (!f) break;
      f0 = f1, f1 = f, nf++;
      q = f + 3;
    }
    rk__str blk = want;
    if (nf) blk = nf % 2 == 0 ? rk__str_make(f0 + 3, (size_t)(f1 - f0 - 3))
                              : rk__str_make(f1 + 3, (size_t)(want.p + want.n - f1 - 3));
    rk__boxes wb;
    ASSERT_EQ_INT(rk__boxes_scan(&t.c, blk.p, blk.n, 1001, &wb), RK_STATUS_OK);
    if (!nf || (wb.n == 0 && wb.ndropped == 0))
      ASSERT_EQ_INT(rk__boxes_scan(&t.c, want.p, want.n, 1001, &wb), RK_STATUS_OK);
    /* rk__boxes_load reads the reference too: an empty list. */
    rk__jval ref;
    memset(&ref, 0, sizeof ref);
    ref.type = RK__JARR;
    ref.raw = rk__str_make("[]", 2);
    rec.reference = &ref;
    rk__boxes pb, rb;
    const char *hl = NULL;
    ASSERT_EQ_INT(rk__boxes_load(&ba, &t.c, &pb, &rb, &hl, NULL), RK_STATUS_OK);
    ASSERT_EQ_INT(pb.n, wb.n);
    for (size_t i = 0; i < pb.n && i < wb.n; i++) ASSERT_TRUE(pb.b[i].at == wb.b[i].at);
    if (rk_t_failed_) {
      fprintf(stderr, "  text: %s\n", b.p);
      break;
    }
  }
  tctx_done(&t);
}

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

TEST(e2e_single_box_edges) {
  /* Tiny boxes end to end: [0,0,1e-200,1e-200] against itself is IoU 1
   * and GIoU 1 (identical boxes), whatever the unit; the plain products
   * (area 1e-400 = 0) gave 0. */
  const char *tiny = "{\"response\": \"[0,0,1e-200,1e-200]\", \"reference\": [0,0,1e-200,1e-200]}";
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"iou\"}}", tiny);
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"giou\"}}", tiny);
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\", \"args\": {\"threshold\": 0.5}}}", tiny);
  ASSERT_E2E(r, 1, "ok");
  /* [0,0,1e-200,1e-200] vs [2e-200,0,3e-200,1e-200]: I = 0, U = 2e-400,
   * C = 3e-200 * 1e-200 = 3e-400; GIoU = 0 - (3 - 2)/3 = -1/3 (to the
   * rounding of the decimal inputs). */
  r = e2e_score("{\"reward\": {\"fn\": \"giou\"}}",
                "{\"response\": \"[0,0,1e-200,1e-200]\", \"reference\": [2e-200,0,3e-200,1e-200]}");
  ASSERT_E2E(r, -1.0 / 3.0, "ok");
  /* giou and grounding with no box in the answer: unparseable, 0 (also
   * with the shifted scale, where a real answer scores >= 0). */
  const char *nobox = "{\"response\": \"<answer>I cannot find it</answer>\", \"reference\": [0,0,1,1]}";
  r = e2e_score("{\"reward\": {\"fn\": \"giou\"}}", nobox);
  ASSERT_E2E(r, 0, "unparseable");
  ASSERT_CONTAINS(r.explain, "no box to score");
  r = e2e_score("{\"reward\": {\"fn\": \"giou\", \"args\": {\"scale\": \"shifted\"}}}", nobox);
  ASSERT_E2E(r, 0, "unparseable");
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\"}}", nobox);
  ASSERT_E2E(r, 0, "unparseable");
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\", \"args\": {\"threshold\": 0.5}}}", nobox);
  ASSERT_E2E(r, 0, "unparseable");
  /* A reference without a usable box: a word, or only an inverted box
   * (x2 < x1, dropped). */
  r = e2e_score("{\"reward\": {\"fn\": \"giou\"}}",
                "{\"response\": \"[0,0,1,1]\", \"reference\": \"nothing\"}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "reference is a string with no box in it (\"nothing\")");
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\"}}",
                "{\"response\": \"[0,0,1,1]\", \"reference\": [5,5,1,1]}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\", \"args\": {\"metric\": \"giou\"}}}",
                "{\"response\": \"[0,0,1,1]\", \"reference\": []}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
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

/* ------------------------------------------------ quick path, pinned */

/* Box i of bs is (x1, y1, x2, y2), exactly. */
static void expect_box(const rk__boxes *bs, size_t i, double x1, double y1, double x2,
                       double y2) {
  ASSERT_TRUE(i < bs->n);
  if (i >= bs->n) return;
  const rk__box *b = &bs->b[i];
  ASSERT_NEAR(b->x1, x1, 0);
  ASSERT_NEAR(b->y1, y1, 0);
  ASSERT_NEAR(b->x2, x2, 0);
  ASSERT_NEAR(b->y2, y2, 0);
}

TEST(scan_quick_shapes) {
  /* Texts that are one object, one box array or one list of objects
   * (the scanner's quick path); values read off the text. */
  tctx t;
  tctx_init(&t, UINT64_MAX);
  rk__boxes bs = scan(&t, "{\"bbox_2d\": [12, 34, 56, 78], \"label\": \"cup\"}");
  ASSERT_EQ_INT(bs.n, 1);
  expect_box(&bs, 0, 12, 34, 56, 78);
  ASSERT_EQ_SPAN(bs.b[0].label.p, bs.b[0].label.n, "cup");
  ASSERT_TRUE(isnan(bs.b[0].conf));
  ASSERT_EQ_INT(bs.b[0].at, 12); /* the '[' of the box */
  /* Keyed box, a box member of 3 numbers (dropped), a fallback box that
   * a later 3-number box key does not spoil. */
  bs = scan(&t, " [ {\"bbox_2d\": [1,2,3,4], \"score\": 0.5}, {\"box\": [1,2,3]},\n"
                "{\"foo\": [5, 6, 7, 8], \"bbox\": [1, 2, 3]} ] ");
  ASSERT_EQ_INT(bs.n, 2);
  expect_box(&bs, 0, 1, 2, 3, 4);
  ASSERT_NEAR(bs.b[0].conf, 0.5, 0);
  expect_box(&bs, 1, 5, 6, 7, 8);
  ASSERT_EQ_INT(bs.ndropped, 1);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_NOT4], 1);
  /* Numbers of 1-4 digits (converted four at once), 5 and 8 (one at a
   * time), 9 and more (the general number path), leading zeros; the
   * first number near the start of the text (fewer than 3 bytes before
   * its last digit: read one at a time). */
  bs = scan(&t, "[0, 9999, 10000, 99999999]");
  expect_box(&bs, 0, 0, 9999, 10000, 99999999);
  bs = scan(&t, "[0012, 7, 123456789, 1]");
  expect_box(&bs, 0, 12, 7, 123456789, 1);
  bs = scan(&t, "[1,2,3,4]");
  expect_box(&bs, 0, 1, 2, 3, 4);
  bs = scan(&t, "[12,3,4,5]");
  expect_box(&bs, 0, 12, 3, 4, 5);
  bs = scan(&t, "[123,4,5,6]");
  expect_box(&bs, 0, 123, 4, 5, 6);
  bs = scan(&t, "[1234,1,22,333]");
  expect_box(&bs, 0, 1234, 1, 22, 333);
  bs = scan(&t, "[5, 6]  [7, 8, 9]");
  ASSERT_EQ_INT(bs.n, 0);
  /* Arrays of other counts next to a box: the box alone. */
  bs = scan(&t, "{\"a\": [1, 2], \"b\": [3, 4, 5, 6], \"c\": []}");
  ASSERT_EQ_INT(bs.n, 1);
  expect_box(&bs, 0, 3, 4, 5, 6);
  /* 20 objects (more than the quick path takes): all, in order. */
  static sbuf b;
  b.n = 0;
  sb_put(&b, "[");
  for (int k = 0; k < 20; k++) {
    char item[64];
    snprintf(item, sizeof item, "%s{\"bbox_2d\": [%d, %d, %d, %d]}", k ? ", " : "", k, k,
             k + 1, k + 2);
    sb_put(&b, item);
  }
  sb_put(&b, "]");
  bs = scan(&t, b.p);
  ASSERT_EQ_INT(bs.n, 20);
  for (int k = 0; k < 20; k++) expect_box(&bs, (size_t)k, k, k, k + 1, k + 2);
  /* An object the quick path cannot read in the middle of a list (corner
   * pairs), then prose with a box after the list: read on by the text
   * loop, nothing twice. */
  bs = scan(&t, "[{\"box\": [1,1,2,2]}, {\"box\": [[0, 0], [3, 3]]}, {\"box\": [4,4,5,5]}]"
                " and [6, 6, 7, 7]");
  ASSERT_EQ_INT(bs.n, 4);
  expect_box(&bs, 0, 1, 1, 2, 2);
  expect_box(&bs, 1, 0, 0, 3, 3);
  expect_box(&bs, 2, 4, 4, 5, 5);
  expect_box(&bs, 3, 6, 6, 7, 7);
  /* The box limit: 2 kept, the third counted. */
  const char *three = "[{\"box\": [1,1,2,2]}, {\"box\": [2,2,3,3]}, {\"box\": [3,3,4,4]}]";
  ASSERT_EQ_INT(rk__boxes_scan(&t.c, three, strlen(three), 2, &bs), RK_STATUS_OK);
  ASSERT_EQ_INT(bs.n, 2);
  ASSERT_EQ_INT(bs.dropped[RK__DROP_LIMIT], 1);
  expect_box(&bs, 1, 2, 2, 3, 3);
  tctx_done(&t);
}

TEST(scan_quick_same_as_general) {
  /* Random texts in the quick shapes (now and then with a member, an
   * item or a tail the quick path hands over on) against the same texts
   * behind "[x] ", on which the quick path hands over at once, so that
   * the text loop reads them alone: the same boxes, drops, labels and
   * confidences, offsets shifted by the prefix. */
  static const char *const keys[] = {"bbox_2d", "label", "confidence", "x", "box", "name",
                                     "area", "iscrowd", "q\\\"k"};
  static const char *const vals[] = {"\"cup\"", "\"0.75\"", "0.5", "-3", "true", "\"a\\\\\"",
                                     "\"a very long label of more than sixteen bytes\"",
                                     /* shapes the quick path hands over on */
                                     "[[1, 2], [3, 4]]", "'single'", "[1, 2, 3, 4"};
  static const char *const tails[] = {"", "", "", " [9, 9, 10, 10]", " and [1,2,3,4] then",
                                      " {\"box\": [5, 5, 6, 6]}", "}", "]", ", {\"bbox\""};
  tctx t;
  tctx_init(&t, UINT64_MAX);
  static sbuf b;
  for (int it = 0; it < 4000; it++) {
    b.n = 0;
    sb_put(&b, "[x] ");
    if (rnd_n(4) == 0) sb_put(&b, rnd_n(2) ? "json\n" : "The box: x1 ] } 'q' ");
    int list = rnd_n(3) == 0, nobj = list ? (int)rnd_n(20) : 1;
    if (list) sb_put(&b, "[");
    for (int o = 0; o < nobj; o++) {
      if (o) sb_put(&b, ",");
      sb_ws(&b);
      int bare = !list && rnd_n(4) == 0;
      if (!bare) sb_put(&b, "{");
      int nm = bare ? 1 : (int)rnd_n(4);
      for (int m = 0; m < nm; m++) {
        if (m) sb_put(&b, ",");
        sb_ws(&b);
        if (!bare) {
          char k[32];
          snprintf(k, sizeof k, "\"%s\":", keys[rnd_n(9)]);
          sb_put(&b, k);
          sb_ws(&b);
        }
        if (bare || rnd_n(2)) {
          int cnt = rnd_n(4) ? 4 : (int)rnd_n(7);
          sb_put(&b, "[");
          for (int q = 0; q < cnt; q++) {
            char num[40];
            unsigned long long mag = 1;
            for (unsigned d = rnd_n(10); d > 0; d--) mag *= 10;
            unsigned long long x = (((unsigned long long)rnd_u() << 20) ^ rnd_u()) % mag;
            snprintf(num, sizeof num, "%s%s%llu", q ? "," : "", rnd_n(5) ? " " : "", x);
            sb_put(&b, num);
          }
          sb_put(&b, "]");
        } else {
          sb_put(&b, vals[rnd_n(rnd_n(8) ? 7 : 10)]);
        }
      }
      sb_ws(&b);
      if (!bare) sb_put(&b, "}");
    }
    if (list) sb_put(&b, "]");
    sb_ws(&b);
    sb_put(&b, tails[rnd_n(9)]);
    rk__boxes quick, gen;
    ASSERT_EQ_INT(rk__boxes_scan(&t.c, b.p + 4, b.n - 4, 0, &quick), RK_STATUS_OK);
    ASSERT_EQ_INT(rk__boxes_scan(&t.c, b.p, b.n, 0, &gen), RK_STATUS_OK);
    ASSERT_EQ_INT(quick.n, gen.n);
    ASSERT_EQ_INT(quick.ndropped, gen.ndropped);
    for (int k = 0; k < RK__DROP__COUNT; k++) ASSERT_EQ_INT(quick.dropped[k], gen.dropped[k]);
    for (size_t i = 0; i < quick.n && i < gen.n; i++) {
      const rk__box *x = &quick.b[i], *y = &gen.b[i];
      ASSERT_TRUE(memcmp(&x->x1, &y->x1, 4 * sizeof(double)) == 0);
      ASSERT_TRUE(memcmp(&x->conf, &y->conf, sizeof(double)) == 0 ||
                  (isnan(x->conf) && isnan(y->conf)));
      ASSERT_TRUE(memcmp(&x->area, &y->area, sizeof(double)) == 0 ||
                  (isnan(x->area) && isnan(y->area)));
      ASSERT_EQ_INT(x->has_label, y->has_label);
      /* The same label text (escaped labels are decoded into the arena). */
      ASSERT_TRUE(x->label.n == y->label.n &&
                  (x->label.n == 0 || memcmp(x->label.p, y->label.p, x->label.n) == 0));
      ASSERT_EQ_INT(x->crowd, y->crowd);
      ASSERT_EQ_INT(x->at + 4, y->at);
    }
    if (rk_t_failed_) {
      fprintf(stderr, "  text: %s\n", b.p);
      break;
    }
  }
  tctx_done(&t);
}

TEST(scan_in_masks_the_rest) {
  /* rk__boxes_scan_in may load past n but never reads it as text: an
   * array cut at n stays cut (no box), whatever digits, ']' and quotes
   * follow; the same as rk__boxes_scan of the n bytes alone. */
  static const char *const texts[] = {
      "[1, 2, 3, 4] and more text after it, padding padding padding padding",
      "{\"bbox_2d\": [10, 20, 30, 40], \"label\": \"dog\"} padding padding padding padding",
      "[[1, 2], [3, 4]] padding padding padding padding padding padding padding"};
  tctx t;
  tctx_init(&t, UINT64_MAX);
  for (size_t k = 0; k < 3; k++) {
    size_t len = strlen(texts[k]);
    for (size_t n = 0; n <= len; n++) {
      rk__boxes a, w;
      ASSERT_EQ_INT(rk__boxes_scan_in(&t.c, texts[k], n, len, 0, &a), RK_STATUS_OK);
      ASSERT_EQ_INT(rk__boxes_scan(&t.c, texts[k], n, 0, &w), RK_STATUS_OK);
      ASSERT_EQ_INT(a.n, w.n);
      ASSERT_EQ_INT(a.ndropped, w.ndropped);
      for (size_t i = 0; i < a.n && i < w.n; i++)
        ASSERT_TRUE(memcmp(&a.b[i].x1, &w.b[i].x1, 4 * sizeof(double)) == 0);
    }
  }
  /* By hand: cut before the ']' of "[1, 2, 3, 4]", nothing. */
  rk__boxes a;
  ASSERT_EQ_INT(rk__boxes_scan_in(&t.c, texts[0], 11, strlen(texts[0]), 0, &a), RK_STATUS_OK);
  ASSERT_EQ_INT(a.n, 0);
  ASSERT_EQ_INT(rk__boxes_scan_in(&t.c, texts[0], 12, strlen(texts[0]), 0, &a), RK_STATUS_OK);
  ASSERT_EQ_INT(a.n, 1);
  tctx_done(&t);
}

TEST(answer_region_long) {
  /* Long responses (the backward search goes 32 bytes a step): tags at
   * random places in up to 3000 bytes of text, against region_ref. */
  static const char *const parts[] = {"<answer>", "</answer>", "<answer", "<", "answer>", "x"};
  tctx t;
  tctx_init(&t, UINT64_MAX);
  static sbuf b;
  rk__boxargs ba;
  memset(&ba, 0, sizeof ba);
  ba.max_boxes = 1000;
  for (int it = 0; it < 3000; it++) {
    b.n = 0;
    int cnt = (int)rnd_n(5);
    for (int k = 0; k < cnt; k++) {
      for (unsigned f = rnd_n(700); f > 0; f--) sb_put(&b, rnd_n(50) ? "y" : "<");
      sb_put(&b, parts[rnd_n(6)]);
    }
    rk__record rec;
    region_agrees(&t, &ba, &rec, b.p, b.n);
    if (rk_t_failed_) break;
  }
  tctx_done(&t);
}

TEST(e2e_grounding_fast_cases) {
  /* The benchmark's shape, by hand: [100,100,200,200] vs [150,150,250,250]
   * -> I = 50*50 = 2500, U = 10000 + 10000 - 2500 = 17500, IoU 1/7. */
  e2e_result r = e2e_score(
      "{\"reward\": {\"fn\": \"grounding\"}}",
      "{\"response\": \"<think>The cup.</think><answer>{\\\"bbox_2d\\\": [100, 100, 200, 200],"
      " \\\"label\\\": \\\"cup\\\"}</answer>\", \"reference\": [150, 150, 250, 250]}");
  ASSERT_EQ_STR(r.status, "ok");
  ASSERT_NEAR(r.reward, 1.0 / 7.0, 1e-15);
  ASSERT_CONTAINS(r.explain, "1 predicted box from answer tag; last box "
                             "[100,100,200,200] vs ref [150,150,250,250]; iou 0.142857");
  /* The box at the very end of a long response, no closing tag. */
  static char rec[8192];
  size_t o = (size_t)snprintf(rec, sizeof rec, "{\"response\": \"");
  for (int k = 0; k < 5000; k++) rec[o++] = 'a';
  snprintf(rec + o, sizeof rec - o,
           "<answer>[0, 0, 10, 10] [0,0,20,20]\", \"reference\": [0, 0, 10, 10]}");
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\"}}", rec);
  ASSERT_EQ_STR(r.status, "ok");
  ASSERT_NEAR(r.reward, 0.25, 0); /* last box [0,0,20,20]: 100 / 400 */
  ASSERT_CONTAINS(r.explain, "2 predicted boxes from unclosed answer tag");
  /* A reference number token of 64 characters or more is unusable,
   * whatever its value (here 10). */
  r = e2e_score("{\"reward\": {\"fn\": \"grounding\"}}",
                "{\"response\": \"[0, 0, 10, 10]\", \"reference\": [0, 0, 10, "
                "10.000000000000000000000000000000000000000000000000000000000000000000]}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
}

/* rk__boxes_load's one-box path (with store) takes exactly the answers
 * it reads as the general path does, and gives the same boxes, region and
 * steps; the coordinates are written out by hand. */
TEST(load_one_same_as_general) {
  static const struct {
    const char *resp;
    int taken;
    double x1, y1, x2, y2;
    const char *how;
  } cases[] = {
      {"<think>a</think><answer>{\"bbox_2d\": [12, 34, 56, 78], \"label\": \"cup\"}</answer>", 1,
       12, 34, 56, 78, "answer tag"},
      {"<answer> The box is [1.5, 2, 30, 40.25]. </answer>", 1, 1.5, 2, 30, 40.25, "answer tag"},
      {"<answer>```json\n[{\"Position\": [0, 0, 5, 5], \"Confidence\": 0.75}]\n```</answer>", 1,
       0, 0, 5, 5, "code block in answer"},
      {"```json\n{\"box\": [-0, 1e1, 20, 30], \"x\": \"y\"}\n```", 1, -0.0, 10, 20, 30,
       "code block"},
      {"<answer>{\"bbox_2d\": [1, 2, 3, 4]", 0, 0, 0, 0, 0, NULL},   /* cut off: dropped */
      {"<answer>[1, 2, 3, 4] and [5, 6, 7, 8]</answer>", 0, 5, 6, 7, 8, "answer tag"}, /* two */
      {"<answer>{\"bbox_2d\": [1, 2, 3, 4], \"label\": \"a\\\"b\"}</answer>", 0, 1, 2, 3, 4,
       "answer tag"},                                                                 /* escape */
      {"<answer>{\"other\": [1, 2, 3, 4]}</answer>", 0, 1, 2, 3, 4, "answer tag"},    /* no box key */
      {"<answer>[1, 2, 3, 4, 5]</answer>", 0, 0, 0, 0, 0, NULL},                     /* 5 numbers */
      {"<answer>[5, 2, 3, 4]</answer>", 0, 0, 0, 0, 0, NULL},                        /* x2 < x1 */
      {"<answer>{\"bbox_2d\": [NaN, 0, 10, 10]}</answer>", 0, 0, 0, 0, 0, NULL},    /* not finite */
      {"<answer>[1, 2, 3, 4] [-Infinity, 0, 1, 1]</answer>", 0, 1, 2, 3, 4, "answer tag"},
      {"<answer>[[1, 2, 3, 4], [5, 6", 0, 1, 2, 3, 4, "unclosed answer tag"},       /* cut */
  };
  rk__boxargs a;
  memset(&a, 0, sizeof a);
  a.max_boxes = 100000;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    tctx t1, t2;
    tctx_init(&t1, 1000000);
    tctx_init(&t2, 1000000);
    rk__jval *rv = NULL;
    const char *rt = "[0, 0, 10, 10]";
    ASSERT_EQ_INT(rk__json_parse(rt, strlen(rt), &t1.arena, NULL, &rv, NULL), 0);
    rk__record rec;
    memset(&rec, 0, sizeof rec);
    rec.response = rk__str_make(cases[k].resp, strlen(cases[k].resp));
    rec.has_response = 1;
    rec.reference = rv;
    t1.c.rec = t2.c.rec = &rec;
    rk__boxes p1, r1, p2, r2;
    rk__box store[2];
    const char *h1 = NULL, *h2 = NULL;
    rk_status s1 = RK_STATUS_ERROR, s2;
    s1 = rk__boxes_load(&a, &t1.c, &p1, &r1, &h1, store);
    int taken = s1 == RK_STATUS_OK && p1.b == &store[0];
    s2 = rk__boxes_load(&a, &t2.c, &p2, &r2, &h2, NULL);
    if (taken != cases[k].taken) fprintf(stderr, "  case %zu: %s\n", k, cases[k].resp);
    ASSERT_EQ_INT(taken, cases[k].taken);
    if (cases[k].how) {
      ASSERT_EQ_INT(s2, RK_STATUS_OK);
      ASSERT_TRUE(p2.n >= 1); /* the last box is the one the rewards score */
      ASSERT_EQ_STR(h2, cases[k].how);
      ASSERT_NEAR(p2.b[p2.n - 1].x1, cases[k].x1, 0);
      ASSERT_NEAR(p2.b[p2.n - 1].y1, cases[k].y1, 0);
      ASSERT_NEAR(p2.b[p2.n - 1].x2, cases[k].x2, 0);
      ASSERT_NEAR(p2.b[p2.n - 1].y2, cases[k].y2, 0);
    }
    if (taken) {
      ASSERT_EQ_INT(s1, s2);
      ASSERT_EQ_INT((int)t1.budget.used, (int)t2.budget.used);
      ASSERT_EQ_STR(h1, h2);
      ASSERT_TRUE(p1.n == 1 && r1.n == 1 && r2.n == 1);
      ASSERT_TRUE(!memcmp(&p1.b[0].x1, &p2.b[0].x1, 4 * sizeof(double)));
      ASSERT_TRUE(p1.b[0].at == p2.b[0].at);
      ASSERT_TRUE(!memcmp(&r1.b[0].x1, &r2.b[0].x1, 4 * sizeof(double)));
    } else {
      /* Declined: nothing charged beyond what the general path charges. */
      ASSERT_EQ_INT(s1, s2);
      ASSERT_EQ_INT((int)t1.budget.used, (int)t2.budget.used);
    }
    /* Out of steps after the region: both say timeout, having spent the same. */
    tctx_done(&t1), tctx_done(&t2);
    tctx_init(&t1, 20), tctx_init(&t2, 20);
    ASSERT_EQ_INT(rk__json_parse(rt, strlen(rt), &t1.arena, NULL, &rv, NULL), 0);
    rec.reference = rv;
    t1.c.rec = t2.c.rec = &rec;
    s1 = rk__boxes_load(&a, &t1.c, &p1, &r1, &h1, store);
    if (taken) ASSERT_EQ_INT(s1, RK_STATUS_TIMEOUT);
    ASSERT_EQ_INT(rk__boxes_load(&a, &t2.c, &p2, &r2, &h2, NULL), s1);
    ASSERT_EQ_INT((int)t1.budget.used, (int)t2.budget.used);
    tctx_done(&t1);
    tctx_done(&t2);
  }
}

TEST_MAIN(TEST_ENTRY(torchvision_int_boxes), TEST_ENTRY(torchvision_float_boxes),
          TEST_ENTRY(hand_iou), TEST_ENTRY(vlmr1_iou), TEST_ENTRY(iou_extreme_sizes),
          TEST_ENTRY(iou_safe_same_bits_as_plain), TEST_ENTRY(scan_json_list),
          TEST_ENTRY(scan_visual_rft), TEST_ENTRY(scan_prose_and_pairs), TEST_ENTRY(scan_label_pairs),
          TEST_ENTRY(scan_truncated), TEST_ENTRY(scan_dropped_counted), TEST_ENTRY(scan_hostile),
          TEST_ENTRY(convert), TEST_ENTRY(e2e_iou), TEST_ENTRY(e2e_conventions),
          TEST_ENTRY(e2e_giou_grounding), TEST_ENTRY(e2e_single_box_edges),
          TEST_ENTRY(e2e_coords_shared), TEST_ENTRY(scan_numbers_like_strtod),
          TEST_ENTRY(scan_flat_arrays), TEST_ENTRY(scan_json_tree_same_as_text),
          TEST_ENTRY(answer_region_and_fences), TEST_ENTRY(scan_quick_shapes),
          TEST_ENTRY(scan_quick_same_as_general), TEST_ENTRY(scan_in_masks_the_rest),
          TEST_ENTRY(answer_region_long), TEST_ENTRY(e2e_grounding_fast_cases),
          TEST_ENTRY(load_one_same_as_general))
