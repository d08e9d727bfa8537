/*
 * test_geometry.c - the geometry family: the number scanner, point in box
 * and polygon (even-odd and nonzero on a pentagram, boundaries, a concave
 * U with a ray through vertices), keypoint distance, axis-aligned 3D IoU
 * and action distance. Expected values are hand computations, the
 * arithmetic in the comments; end-to-end cases go through the public API.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "e2e.h"
#include "test.h"
#include "vision/geometry.h"

/* ------------------------------------------------------------ scanner */

TEST(numlist_scan) {
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__nl nl;
  const char *t = "(1, 2) [3,4,5] {\"point_2d\": [-6.5, 7e1]} x1 (a, 2) [[8,9],[10,11]] 3rd";
  ASSERT_EQ_INT(rk__nl_scan(t, strlen(t), &a, 0, &nl), 0);
  /* Tuples: [1,2] [3,4,5] [-6.5,70] [8,9] [10,11]; "(a, 2)" is not one. */
  ASSERT_EQ_INT(nl.ntup, 5);
  ASSERT_EQ_INT(nl.tup[0].len, 2);
  ASSERT_EQ_INT(nl.tup[1].len, 3);
  ASSERT_NEAR(nl.nums[nl.tup[2].off], -6.5, 0);
  ASSERT_NEAR(nl.nums[nl.tup[2].off + 1], 70, 0);
  ASSERT_NEAR(nl.nums[nl.tup[4].off + 1], 11, 0);
  /* Flat: 1 2 3 4 5 -6.5 70 2 8 9 10 11 ("point_2d", "x1", "3rd" skipped) */
  ASSERT_EQ_INT(nl.nflat, 12);
  ASSERT_NEAR(nl.flat[7], 2, 0);
  /* "3-4" is two numbers, not 3 and -4; unclosed groups are dropped. */
  ASSERT_EQ_INT(rk__nl_scan("3-4 (5, 6", 9, &a, 0, &nl), 0);
  ASSERT_EQ_INT(nl.nflat, 4);
  ASSERT_NEAR(nl.flat[1], 4, 0);
  ASSERT_EQ_INT(nl.ntup, 0);
  /* Overflowing exponents are not numbers. */
  ASSERT_EQ_INT(rk__nl_scan("[1e999, 2]", 10, &a, 0, &nl), 0);
  ASSERT_EQ_INT(nl.ntup, 0);
  ASSERT_EQ_INT(nl.nflat, 1);
  /* max_nums caps the output. */
  ASSERT_EQ_INT(rk__nl_scan("1 2 3 4", 7, &a, 2, &nl), 0);
  ASSERT_EQ_INT(nl.nflat, 2);
  ASSERT_TRUE(nl.truncated);
  rk__arena_release(&a);
}

/* ------------------------------------------------------------- points */

TEST(point_in_box_formula) {
  double b[4] = {10, 10, 50, 50};
  ASSERT_TRUE(rk__geo_point_in_box(20, 30, b, 1));
  ASSERT_TRUE(!rk__geo_point_in_box(60, 5, b, 1));
  ASSERT_TRUE(rk__geo_point_in_box(50, 50, b, 1));  /* corner, inclusive */
  ASSERT_TRUE(!rk__geo_point_in_box(50, 50, b, 0)); /* corner, exclusive */
  double r[4] = {50, 50, 10, 10};                   /* corners swapped */
  ASSERT_TRUE(rk__geo_point_in_box(20, 30, r, 1));
}

TEST(point_in_polygon_formula) {
  double sq[] = {0, 0, 10, 0, 10, 10, 0, 10};
  ASSERT_EQ_INT(rk__geo_point_in_polygon(5, 5, sq, 4, RK__PIP_EVENODD), 1);
  ASSERT_EQ_INT(rk__geo_point_in_polygon(15, 5, sq, 4, RK__PIP_EVENODD), 0);
  ASSERT_EQ_INT(rk__geo_point_in_polygon(10, 5, sq, 4, RK__PIP_EVENODD), 2); /* edge */
  ASSERT_EQ_INT(rk__geo_point_in_polygon(0, 0, sq, 4, RK__PIP_NONZERO), 2);  /* vertex */
  /* Concave U: the notch (1..2 x 1..3) is outside. */
  double u[] = {0, 0, 3, 0, 3, 3, 2, 3, 2, 1, 1, 1, 1, 3, 0, 3};
  ASSERT_EQ_INT(rk__geo_point_in_polygon(1.5, 2, u, 8, RK__PIP_EVENODD), 0);
  ASSERT_EQ_INT(rk__geo_point_in_polygon(0.5, 2, u, 8, RK__PIP_EVENODD), 1);
  ASSERT_EQ_INT(rk__geo_point_in_polygon(1.5, 0.5, u, 8, RK__PIP_EVENODD), 1);
  /* (-1, 3): the ray y = 3 runs along the top edges and through four
   * vertices; the point is outside. (-1, 1): through (1,1) and (2,1). */
  ASSERT_EQ_INT(rk__geo_point_in_polygon(-1, 3, u, 8, RK__PIP_EVENODD), 0);
  ASSERT_EQ_INT(rk__geo_point_in_polygon(-1, 1, u, 8, RK__PIP_EVENODD), 0);
  ASSERT_EQ_INT(rk__geo_point_in_polygon(2.5, 3, u, 8, RK__PIP_EVENODD), 2);
  /* Pentagram drawn P0 P2 P4 P1 P3 (P_k on a circle of radius 10): the
   * centre pentagon winds twice (even-odd: outside; nonzero: inside), a
   * tip once (inside for both). */
  double st[10];
  int order[5] = {0, 2, 4, 1, 3};
  for (int i = 0; i < 5; i++) {
    double pi = 3.14159265358979323846, ang = pi / 2 + 2 * pi * order[i] / 5;
    st[2 * i] = 10 * cos(ang), st[2 * i + 1] = 10 * sin(ang);
  }
  ASSERT_EQ_INT(rk__geo_point_in_polygon(0, 0, st, 5, RK__PIP_EVENODD), 0);
  ASSERT_EQ_INT(rk__geo_point_in_polygon(0, 0, st, 5, RK__PIP_NONZERO), 1);
  ASSERT_EQ_INT(rk__geo_point_in_polygon(0, 8, st, 5, RK__PIP_EVENODD), 1);
  ASSERT_EQ_INT(rk__geo_point_in_polygon(0, 8, st, 5, RK__PIP_NONZERO), 1);
  ASSERT_EQ_INT(rk__geo_point_in_polygon(0, 11, st, 5, RK__PIP_NONZERO), 0);
}

TEST(e2e_point_in_box) {
  e2e_result r = e2e_score(e2e_spec("point_in_box", ""),
                           e2e_rec("[10,10,50,50]", "<answer>{\\\"point_2d\\\": [20, 30]}, (60, 5)</answer>"));
  ASSERT_E2E(r, 0.5, "ok"); /* 1 of 2 inside */
  ASSERT_CONTAINS(r.explain, "1 of 2 points inside 1 reference box (point 2 (60, 5) is outside)");
  /* Several boxes as bbox_2d objects; (5,5) and (25,25) inside, (15,15) not. */
  const char *ref = "[{\"bbox_2d\": [0,0,10,10], \"label\": \"a\"}, {\"bbox_2d\": [20,20,30,30], \"label\": \"b\"}]";
  const char *resp = "(5,5) (25,25) (15,15)";
  r = e2e_score(e2e_spec("point_in_box", ""), e2e_rec(ref, resp));
  ASSERT_E2E(r, 2.0 / 3.0, "ok");
  r = e2e_score(e2e_spec("point_in_box", "\"mode\": \"any\""), e2e_rec(ref, resp));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("point_in_box", "\"mode\": \"all\""), e2e_rec(ref, resp));
  ASSERT_E2E(r, 0, "ok");
  /* Boundary point and xywh: [10,10,40,40] is xyxy [10,10,50,50]. */
  r = e2e_score(e2e_spec("point_in_box", "\"box_format\": \"xywh\""), e2e_rec("[10,10,40,40]", "(50, 50)"));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("point_in_box", "\"box_format\": \"xywh\", \"inclusive\": false"),
                e2e_rec("[10,10,40,40]", "(50, 50)"));
  ASSERT_E2E(r, 0, "ok");
  /* Reference as a string. */
  r = e2e_score(e2e_spec("point_in_box", ""), e2e_rec("\"[10,10,50,50]\"", "[20, 20]"));
  ASSERT_E2E(r, 1, "ok");
  /* Empty and degenerate inputs. */
  r = e2e_score(e2e_spec("point_in_box", ""), e2e_rec("[10,10,50,50]", "no point here"));
  ASSERT_E2E(r, 0, "unparseable");
  r = e2e_score(e2e_spec("point_in_box", ""), e2e_rec("[10,10,50,50]", ""));
  ASSERT_E2E(r, 0, "unparseable");
  r = e2e_score(e2e_spec("point_in_box", ""), e2e_rec("[1,2,3]", "(1,2)"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  r = e2e_score(e2e_spec("point_in_box", ""), e2e_rec("null", "(1,2)"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  /* Spamming points: over max_points scores 0. */
  r = e2e_score(e2e_spec("point_in_box", "\"mode\": \"any\", \"max_points\": 2"),
                e2e_rec("[10,10,50,50]", "(1,1) (2,2) (20,20)"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "over max_points");
}

TEST(e2e_point_in_polygon) {
  const char *sq = "[[0,0],[10,0],[10,10],[0,10]]";
  e2e_result r = e2e_score(e2e_spec("point_in_polygon", ""), e2e_rec(sq, "(5, 5) [10, 3] (11, 5)"));
  /* inside, boundary (inside by default), outside: 2/3 */
  ASSERT_E2E(r, 2.0 / 3.0, "ok");
  ASSERT_CONTAINS(r.explain, "1 on the boundary (counted inside)");
  r = e2e_score(e2e_spec("point_in_polygon", "\"boundary\": \"outside\""), e2e_rec(sq, "(5, 5) [10, 3] (11, 5)"));
  ASSERT_E2E(r, 1.0 / 3.0, "ok");
  /* Flat COCO-style list, two polygons (union): (5,5) in the first,
   * (25,25) in the second. */
  r = e2e_score(e2e_spec("point_in_polygon", ""),
                e2e_rec("{\"segmentation\": [[0,0,10,0,10,10,0,10],[20,20,30,20,30,30,20,30]]}",
                    "(5,5) (25,25)"));
  ASSERT_E2E(r, 1, "ok");
  /* Pentagram centre, rounded vertices (radius 10): even-odd 0, nonzero 1. */
  const char *star = "[[0,10],[5.878,-8.09],[-9.511,3.09],[9.511,3.09],[-5.878,-8.09]]";
  r = e2e_score(e2e_spec("point_in_polygon", ""), e2e_rec(star, "(0, 0)"));
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score(e2e_spec("point_in_polygon", "\"rule\": \"nonzero\""), e2e_rec(star, "(0, 0)"));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("point_in_polygon", ""), e2e_rec("[[0,0],[1,1]]", "(0, 0)"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
}

TEST(polygon_collinear_formula) {
  /* All on y = x: collinear. */
  double diag[] = {0, 0, 10, 10, 20, 20};
  ASSERT_TRUE(rk__geo_polygon_collinear(diag, 3));
  /* A segment walked back and forth, one repeated point, a vertical and a
   * horizontal line: collinear. */
  double back[] = {0, 0, 4, 2, 2, 1, 4, 2, -6, -3};
  ASSERT_TRUE(rk__geo_polygon_collinear(back, 5));
  double pt[] = {3, 3, 3, 3, 3, 3};
  ASSERT_TRUE(rk__geo_polygon_collinear(pt, 3));
  double vert[] = {0, 0, 0, 5, 0, 10}, horiz[] = {1, 7, 5, 7, 3, 7};
  ASSERT_TRUE(rk__geo_polygon_collinear(vert, 3));
  ASSERT_TRUE(rk__geo_polygon_collinear(horiz, 3));
  /* On y = 2x with coordinates near 1e300 (the plain products overflow):
   * 2e300 is exactly 2 * 1e300 in binary, so the points are exactly on
   * one line. */
  double huge[] = {1e300, 2e300, 2e300, 4e300, 4e300, 8e300};
  ASSERT_TRUE(rk__geo_polygon_collinear(huge, 3));
  /* A square with every vertex repeated: each cross product of
   * consecutive edges involves a zero edge, but it is a square. */
  double sq2[] = {0, 0, 0, 0, 10, 0, 10, 0, 10, 10, 10, 10, 0, 10, 0, 10};
  ASSERT_TRUE(!rk__geo_polygon_collinear(sq2, 8));
  /* A bow-tie: shoelace area 10*10/2 - 10*10/2 = 0, yet two triangles. */
  double bow[] = {0, 0, 10, 10, 10, 0, 0, 10};
  ASSERT_TRUE(!rk__geo_polygon_collinear(bow, 4));
  /* A tiny genuine triangle (area 5e-601, not a double) is not refused. */
  double tiny[] = {0, 0, 1e-300, 0, 0, 1e-300};
  ASSERT_TRUE(!rk__geo_polygon_collinear(tiny, 3));
  /* A thin triangle that rounding would flatten: (0,0), (1 + 2^-52, 1),
   * (1, 1 - 2^-52). Its orientation is (1 + 2^-52)(1 - 2^-52) - 1 * 1 =
   * -2^-104 exactly, but the double product rounds to 1 and the plain
   * cross product is 0. */
  double a = 1 + 0x1p-52, d = 1 - 0x1p-52;
  double thin[] = {0, 0, a, 1, 1, d};
  ASSERT_NEAR(a * d - 1.0 * 1.0, 0, 0); /* what plain arithmetic says */
  ASSERT_TRUE(!rk__geo_polygon_collinear(thin, 3));
}

TEST(e2e_point_in_polygon_degenerate) {
  /* A zero-area reference is refused with the reason (it was accepted and
   * (5, 5), on the segment, counted inside: reward 1). */
  e2e_result r = e2e_score(e2e_spec("point_in_polygon", ""), e2e_rec("[[0,0],[10,10],[20,20]]", "(5, 5)"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "polygon has zero area (its vertices are collinear)");
  r = e2e_score(e2e_spec("point_in_polygon", ""), e2e_rec("[0,0,0,5,0,10]", "(0, 1)"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  /* One broken part of several: the reference is refused, the part named. */
  r = e2e_score(e2e_spec("point_in_polygon", ""),
                e2e_rec("[[[0,0],[10,0],[0,10]], [[0,0],[1,1],[2,2]]]", "(1, 1)"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "polygon 2 of 2 has zero area");
  /* A bow-tie (shoelace area 0) is a real polygon: its edges cross at
   * (5, 5), leaving the triangles (0,0)-(5,5)-(0,10) and
   * (10,10)-(10,0)-(5,5). (2, 5) is in the first (x < y and x < 10 - y):
   * inside, 1. */
  r = e2e_score(e2e_spec("point_in_polygon", ""), e2e_rec("[[0,0],[10,10],[10,0],[0,10]]", "(2, 5)"));
  ASSERT_E2E(r, 1, "ok");
  /* A thin triangle rounding would flatten is kept: (5, 5) is far from it
   * (outside), reward 0, status ok. */
  r = e2e_score(e2e_spec("point_in_polygon", ""),
                e2e_rec("[[0,0],[1.0000000000000002,1],[1,0.9999999999999998]]", "(5, 5)"));
  ASSERT_E2E(r, 0, "ok");
  /* An empty answer: nothing to extract, unparseable 0; an answer
   * without a pair, the same with its own reason. */
  r = e2e_score(e2e_spec("point_in_polygon", ""), e2e_rec("[[0,0],[10,0],[0,10]]", ""));
  ASSERT_E2E(r, 0, "unparseable");
  ASSERT_CONTAINS(r.explain, "no answer found");
  r = e2e_score(e2e_spec("point_in_polygon", ""), e2e_rec("[[0,0],[10,0],[0,10]]", "<answer></answer>"));
  ASSERT_E2E(r, 0, "unparseable");
}

TEST(e2e_keypoint_distance_empty) {
  /* Empty answer: no point to score, unparseable 0. */
  e2e_result r = e2e_score(e2e_spec("keypoint_distance", ""), e2e_rec("[[10,10],[20,20]]", ""));
  ASSERT_E2E(r, 0, "unparseable");
  ASSERT_CONTAINS(r.explain, "no answer found");
  r = e2e_score(e2e_spec("keypoint_distance", ""), e2e_rec("[[10,10],[20,20]]", "<answer> </answer>"));
  ASSERT_E2E(r, 0, "unparseable");
  /* Empty reference (a list, a string, nothing numeric): no keypoint. */
  r = e2e_score(e2e_spec("keypoint_distance", ""), e2e_rec("[]", "(1, 2)"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "reference has no (x, y) keypoint");
  r = e2e_score(e2e_spec("keypoint_distance", ""), e2e_rec("\"\"", "(1, 2)"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
}

TEST(e2e_keypoint_distance) {
  const char *ref = "[[0.5,0.5],[0.2,0.2]]";
  const char *resp = "[(0.52, 0.5), (0.4, 0.2)]";
  /* d1 = 0.02, d2 = 0.2; threshold 0.05: (1 + 0)/2 = 0.5 */
  e2e_result r = e2e_score(e2e_spec("keypoint_distance", ""), e2e_rec(ref, resp));
  ASSERT_E2E(r, 0.5, "ok");
  /* linear: (1 - 0.02/0.05 + 0)/2 = (0.6 + 0)/2 = 0.3 */
  r = e2e_score(e2e_spec("keypoint_distance", "\"reward\": \"linear\""), e2e_rec(ref, resp));
  ASSERT_NEAR(r.reward, 0.3, 1e-12);
  /* gaussian: (exp(-0.02^2/(2*0.05^2)) + exp(-0.2^2/(2*0.05^2)))/2
   *         = (exp(-0.08) + exp(-8))/2 = (0.9231163463866358 + 0.00033546262790251185)/2 */
  r = e2e_score(e2e_spec("keypoint_distance", "\"reward\": \"gaussian\""), e2e_rec(ref, resp));
  ASSERT_NEAR(r.reward, 0.46172590450726914, 1e-12);
  /* diag: W 300, H 400 -> 500; d = hypot(30, 40) = 50 -> 0.1; linear with
   * threshold 0.2: 1 - 0.5 = 0.5 */
  r = e2e_score(e2e_spec("keypoint_distance", "\"normalize\": \"diag\", \"reward\": \"linear\", \"threshold\": 0.2"),
                "{\"reference\": [[100,100]], \"response\": \"(130, 140)\", \"width\": 300, \"height\": 400}");
  ASSERT_E2E(r, 0.5, "ok");
  r = e2e_score(e2e_spec("keypoint_distance", "\"normalize\": \"diag\""), e2e_rec("[[1,1]]", "(1,1)"));
  ASSERT_EQ_STR(r.status, "error");
  /* nearest: each point serves one keypoint, closest pairs first, and
   * the mean runs over max(points, keypoints). The second point is 0.01
   * away (credit 1); the first matches nothing and counts as a miss:
   * (1 + 0) / 2. */
  r = e2e_score(e2e_spec("keypoint_distance", "\"match\": \"nearest\""), e2e_rec("[[0,0]]", "(5,5) (0, 0.01)"));
  ASSERT_E2E(r, 0.5, "ok");
  /* One point between two keypoints 0.04 apart (0.02 from each): it
   * serves the first only: (1 + 0) / 2, not 1. */
  r = e2e_score(e2e_spec("keypoint_distance", "\"match\": \"nearest\""),
                e2e_rec("[[0,0],[0,0.04]]", "(0, 0.02)"));
  ASSERT_E2E(r, 0.5, "ok");
  /* Spraying a 10 x 10 grid (0.05, 0.15, ... 0.95 each way) over three
   * keypoints: each keypoint is within 0.05 of a grid point at best one
   * each, so at most 3 credits over max(100, 3) = 100 points: <= 0.03.
   * Keypoints on grid points make it exactly 3/100. */
  {
    char grid[2048];
    size_t o = 0;
    for (int i = 0; i < 10; i++)
      for (int j = 0; j < 10; j++)
        o += (size_t)snprintf(grid + o, sizeof grid - o, "(%.2f, %.2f) ", 0.05 + 0.1 * i,
                              0.05 + 0.1 * j);
    r = e2e_score(e2e_spec("keypoint_distance", "\"match\": \"nearest\""),
                  e2e_rec("[[0.15,0.25],[0.55,0.55],[0.95,0.05]]", grid));
    ASSERT_E2E(r, 3.0 / 100.0, "ok");
  }
  /* order: a missing second keypoint earns 0: (1 + 0)/2 */
  r = e2e_score(e2e_spec("keypoint_distance", ""), e2e_rec(ref, "(0.5, 0.5)"));
  ASSERT_E2E(r, 0.5, "ok");
  /* scale 100: pixel distance 3 -> 0.03 <= 0.05 */
  r = e2e_score(e2e_spec("keypoint_distance", "\"scale\": 100"), e2e_rec("[[10,10]]", "(13,10)"));
  ASSERT_E2E(r, 1, "ok");
}

/* ------------------------------------------------------------ units */

/* The point rewards take the box rewards' coordinate arguments. Image
 * 200x100 throughout: 1000 units scale x by 200/1000 = .2 and y by
 * 100/1000 = .1; unit (0-1) by 200 and 100; a 100x50 model input (grid)
 * by 200/100 = 2 and 100/50 = 2. The reference box [40,20,60,40] (pixels)
 * holds the pixel point (50, 30) and not (100, 50). */
#define SIZE ", \"width\": 200, \"height\": 100"

static const char *rec_sz(const char *ref, const char *resp, const char *extra) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "{\"reference\": %s, \"response\": \"%s\"%s}", ref, resp, extra);
  return buf;
}

TEST(e2e_point_in_box_units) {
  const char *box = "[40,20,60,40]";
  /* 1000: (250, 300) -> (50, 30) inside; (500, 500) -> (100, 50) outside;
   * fraction 1/2 (raw, both would be outside: 0). */
  e2e_result r = e2e_score(e2e_spec("point_in_box", "\"coords\": \"1000\""),
                           rec_sz(box, "(250, 300) (500, 500)", SIZE));
  ASSERT_E2E(r, 0.5, "ok");
  ASSERT_CONTAINS(r.explain, "point 2 (100, 50) is outside");
  ASSERT_CONTAINS(r.explain, "prediction in 1000, reference in pixel coordinates, compared in "
                             "pixels of a 200x100 image");
  r = e2e_score(e2e_spec("point_in_box", ""), rec_sz(box, "(250, 300) (500, 500)", SIZE));
  ASSERT_E2E(r, 0, "ok");
  /* unit: (0.25, 0.3) -> (50, 30). */
  r = e2e_score(e2e_spec("point_in_box", "\"coords\": \"unit\""), rec_sz(box, "(0.25, 0.3)", SIZE));
  ASSERT_E2E(r, 1, "ok");
  /* grid, model input 100x50 from args or record fields: (25, 15) -> (50, 30). */
  r = e2e_score(e2e_spec("point_in_box", "\"coords\": \"grid\", \"input_width\": 100,"
                                         " \"input_height\": 50"),
                rec_sz(box, "(25, 15)", SIZE));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("point_in_box", "\"coords\": \"grid\""),
                rec_sz(box, "(25, 15)", SIZE ", \"input_width\": 100, \"input_height\": 50"));
  ASSERT_E2E(r, 1, "ok");
  /* The reference's units: [200,200,300,400] in 1000 -> [40,20,60,40];
   * the pixel point (50, 30) is inside. */
  r = e2e_score(e2e_spec("point_in_box", "\"ref_coords\": \"1000\""),
                rec_sz("[200,200,300,400]", "(50, 30)", SIZE));
  ASSERT_E2E(r, 1, "ok");
  /* xywh reference in 0-1: [0.2, 0.2, 0.1, 0.2] -> [40,20,20,20] ->
   * [40,20,60,40]. */
  r = e2e_score(e2e_spec("point_in_box", "\"ref_coords\": \"unit\", \"box_format\": \"xywh\""),
                rec_sz("[0.2, 0.2, 0.1, 0.2]", "(50, 30)", SIZE));
  ASSERT_E2E(r, 1, "ok");
  /* Same units on both sides need no size. */
  r = e2e_score(e2e_spec("point_in_box", "\"coords\": \"unit\", \"ref_coords\": \"unit\""),
                rec_sz("[0.2, 0.2, 0.3, 0.4]", "(0.25, 0.3)", ""));
  ASSERT_E2E(r, 1, "ok");
  ASSERT_CONTAINS(r.explain, "unit coordinates on both sides, compared in that unit");
  /* The size from args, or from other fields. */
  r = e2e_score(e2e_spec("point_in_box", "\"coords\": \"1000\", \"width\": 200, \"height\": 100"),
                rec_sz(box, "(250, 300)", ""));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("point_in_box", "\"coords\": \"1000\", \"width_field\": \"img.w\","
                                         " \"height_field\": \"img.h\""),
                rec_sz(box, "(250, 300)", ", \"img\": {\"w\": 200, \"h\": 100}"));
  ASSERT_E2E(r, 1, "ok");
  /* A missing size is an error that says what is missing, never a raw
   * comparison. */
  r = e2e_score(e2e_spec("point_in_box", "\"coords\": \"1000\""), rec_sz(box, "(250, 300)", ""));
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.error, "coords \"1000\" needs the image size: record field 'width'/'height' "
                           "or args width/height");
  ASSERT_CONTAINS(r.explain, "needs the image size");
  r = e2e_score(e2e_spec("point_in_box", "\"coords\": \"1000\""),
                rec_sz(box, "(250, 300)", ", \"width\": 200, \"height\": 0"));
  ASSERT_EQ_STR(r.status, "error");
  r = e2e_score(e2e_spec("point_in_box", "\"coords\": \"grid\""), rec_sz(box, "(25, 15)", SIZE));
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.error, "needs the model input size: record field 'input_width'/'input_height'");
  /* Unknown conventions are refused when the spec is compiled. */
  char err[512];
  e2e_spec_error(e2e_spec("point_in_box", "\"coords\": \"percent\""), err, sizeof err);
  ASSERT_CONTAINS(err, "coords");
}

TEST(e2e_point_in_polygon_units) {
  /* Square (40,20)-(60,40) in pixels; answers on the 200x100 image:
   * 1000 (250, 300) -> (50, 30) inside, (350, 300) -> (70, 30) outside. */
  const char *sq = "[[40,20],[60,20],[60,40],[40,40]]";
  e2e_result r = e2e_score(e2e_spec("point_in_polygon", "\"coords\": \"1000\""),
                           rec_sz(sq, "(250, 300) (350, 300)", SIZE));
  ASSERT_E2E(r, 0.5, "ok");
  r = e2e_score(e2e_spec("point_in_polygon", "\"coords\": \"unit\""), rec_sz(sq, "(0.25, 0.3)", SIZE));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("point_in_polygon", "\"coords\": \"grid\""),
                rec_sz(sq, "(25, 15)", SIZE ", \"input_width\": 100, \"input_height\": 50"));
  ASSERT_E2E(r, 1, "ok");
  /* Polygon in 0-1000, point in pixels: [[200,200],[300,200],[300,400],
   * [200,400]] -> the same square; (50, 30) inside. */
  r = e2e_score(e2e_spec("point_in_polygon", "\"ref_coords\": \"1000\""),
                rec_sz("{\"polygon\": [200,200,300,200,300,400,200,400]}", "(50, 30)", SIZE));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("point_in_polygon", "\"coords\": \"unit\""), rec_sz(sq, "(0.25, 0.3)", ""));
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.error, "coords \"unit\" needs the image size");
}

TEST(e2e_keypoint_distance_units) {
  /* Reference keypoint (50, 30) in pixels; linear credit, threshold 4
   * (pixels once converted): credit = 1 - d/4. */
  const char *kp = "[[50, 30]]";
  const char *lin = "\"reward\": \"linear\", \"threshold\": 4";
  char args[256];
  /* 1000: (260, 300) -> (52, 30): d = 2, credit .5 (raw: d = hypot(210,
   * 270) = 342: credit 0). */
  snprintf(args, sizeof args, "%s, \"coords\": \"1000\"", lin);
  e2e_result r = e2e_score(e2e_spec("keypoint_distance", args), rec_sz(kp, "(260, 300)", SIZE));
  ASSERT_E2E(r, 0.5, "ok");
  r = e2e_score(e2e_spec("keypoint_distance", lin), rec_sz(kp, "(260, 300)", SIZE));
  ASSERT_E2E(r, 0, "ok");
  /* unit: (0.26, 0.3) -> (52, 30). */
  snprintf(args, sizeof args, "%s, \"coords\": \"unit\"", lin);
  r = e2e_score(e2e_spec("keypoint_distance", args), rec_sz(kp, "(0.26, 0.3)", SIZE));
  ASSERT_E2E(r, 0.5, "ok");
  /* grid, input 100x50: (26, 15) -> (52, 30). */
  snprintf(args, sizeof args, "%s, \"coords\": \"grid\", \"input_width\": 100, \"input_height\": 50", lin);
  r = e2e_score(e2e_spec("keypoint_distance", args), rec_sz(kp, "(26, 15)", SIZE));
  ASSERT_E2E(r, 0.5, "ok");
  /* Both sides in 1000: with the size the distance is in pixels ((250,
   * 300) -> (50, 30), (260, 300) -> (52, 30): d = 2, .5); without it in
   * 1000 units (d = 10 > 4: 0), and the explanation says which. */
  snprintf(args, sizeof args, "%s, \"coords\": \"1000\", \"ref_coords\": \"1000\"", lin);
  r = e2e_score(e2e_spec("keypoint_distance", args), rec_sz("[[250, 300]]", "(260, 300)", SIZE));
  ASSERT_E2E(r, 0.5, "ok");
  ASSERT_CONTAINS(r.explain, "1000 coordinates on both sides, compared in pixels of a 200x100 image");
  r = e2e_score(e2e_spec("keypoint_distance", args), rec_sz("[[250, 300]]", "(260, 300)", ""));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "compared in that unit (no image size)");
  /* diag with 1000 units: image 300x400, diagonal 500; (500, 500) ->
   * (150, 200) against (120, 160): d = hypot(30, 40) = 50 -> .1; linear
   * threshold .2: .5. The size may also come from the args. */
  const char *dg = "\"normalize\": \"diag\", \"reward\": \"linear\", \"threshold\": 0.2, \"coords\": \"1000\"";
  r = e2e_score(e2e_spec("keypoint_distance", dg),
                rec_sz("[[120, 160]]", "(500, 500)", ", \"width\": 300, \"height\": 400"));
  ASSERT_E2E(r, 0.5, "ok");
  snprintf(args, sizeof args, "%s, \"width\": 300, \"height\": 400", dg);
  r = e2e_score(e2e_spec("keypoint_distance", args), rec_sz("[[120, 160]]", "(500, 500)", ""));
  ASSERT_E2E(r, 0.5, "ok");
  /* Missing sizes. */
  snprintf(args, sizeof args, "%s, \"coords\": \"1000\"", lin);
  r = e2e_score(e2e_spec("keypoint_distance", args), rec_sz(kp, "(260, 300)", ""));
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.error, "coords \"1000\" needs the image size");
  r = e2e_score(e2e_spec("keypoint_distance", dg), rec_sz("[[120, 160]]", "(500, 500)", ""));
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.error, "normalize \"diag\" needs the image size");
  ASSERT_CONTAINS(r.explain, "normalize \"diag\" needs the image size");
}

/* ----------------------------------------------------------------- 3D */

TEST(iou3d_formula) {
  double a[6] = {0, 0, 0, 2, 2, 2}, b[6] = {1, 1, 1, 3, 3, 3};
  /* I = 1*1*1 = 1; U = 8 + 8 - 1 = 15 */
  ASSERT_NEAR(rk__geo_iou3d(a, b), 1.0 / 15.0, 1e-15);
  double c[6] = {0, 0, 0, 4, 2, 2}, d[6] = {1, 0, 0, 3, 2, 2};
  /* I = 2*2*2 = 8; U = 16 + 8 - 8 = 16 */
  ASSERT_NEAR(rk__geo_iou3d(c, d), 0.5, 1e-15);
  double e[6] = {2, 0, 0, 3, 1, 1};
  ASSERT_NEAR(rk__geo_iou3d(a, e), 0.0, 0); /* touching faces */
  ASSERT_NEAR(rk__geo_iou3d(a, a), 1.0, 0);
}

TEST(iou3d_extreme_sizes) {
  /* Volumes that underflow or overflow a double. IoU is a ratio of
   * volumes and does not depend on the unit, so the values are those of
   * the same boxes in units of u; with u a power of two they are exact. */
  double big[6] = {0, 0, 0, 1e103, 1e103, 1e103};       /* volume 1e309: inf */
  double tiny[6] = {0, 0, 0, 1e-110, 1e-110, 1e-110};   /* volume 1e-330: 0 */
  ASSERT_NEAR(rk__geo_iou3d(big, big), 1.0, 0);
  ASSERT_NEAR(rk__geo_iou3d(tiny, tiny), 1.0, 0);
  /* [0,0,0,2u,u,u] vs [u,0,0,3u,u,u], u = 2^-400 (u^3 = 2^-1200 is not a
   * double): I = u^3, volumes 2u^3 each, U = 3u^3, IoU = 1/3. */
  double u = 0x1p-400;
  double a[6] = {0, 0, 0, 2 * u, u, u}, b[6] = {u, 0, 0, 3 * u, u, u};
  ASSERT_NEAR(rk__geo_iou3d(a, b), 1.0 / 3.0, 0);
  /* The same boxes in units of 2^400 (u^3 = 2^1200 overflows). */
  double U = 0x1p400;
  double c[6] = {0, 0, 0, 2 * U, U, U}, d[6] = {U, 0, 0, 3 * U, U, U};
  ASSERT_NEAR(rk__geo_iou3d(c, d), 1.0 / 3.0, 0);
  /* Coordinates at the ends of the range (the extent 2e308 overflows):
   * [-1e308,0,0,1e308,1,1] vs [0,0,0,1e308,1,1]: I = 1e308, U = 2e308,
   * IoU 1/2. */
  double h[6] = {-1e308, 0, 0, 1e308, 1, 1}, hh[6] = {0, 0, 0, 1e308, 1, 1};
  ASSERT_NEAR(rk__geo_iou3d(h, hh), 0.5, 0);
  /* Disjoint tiny boxes stay 0. */
  double e[6] = {2 * u, 0, 0, 3 * u, u, u}, f[6] = {0, 0, 0, u, u, u};
  ASSERT_NEAR(rk__geo_iou3d(e, f), 0.0, 0);
}

TEST(e2e_iou3d_extremes) {
  /* Identical boxes of side 1e-110 end to end: IoU 1 (was 0: the volume
   * 1e-330 underflows to 0). */
  e2e_result r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[0,0,0,1e-110,1e-110,1e-110]",
                                                          "[0,0,0,1e-110,1e-110,1e-110]"));
  ASSERT_E2E(r, 1, "ok");
  /* Coordinates beyond 1e15 are dropped, as for 2D boxes: a reference of
   * such boxes is invalid, and says why. */
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[0,0,0,1e103,1e103,1e103]", "[0,0,0,1e103,1e103,1e103]"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "1 with |coordinate| > 1e15");
  /* In the answer they are an invalid box, counted 0 in the mean:
   * (1 + 0) / 2 = 0.5. */
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[0,0,0,2,2,2]", "[0,0,0,2,2,2] [0,0,0,2e15,1,1]"));
  ASSERT_E2E(r, 0.5, "ok");
  ASSERT_CONTAINS(r.explain, "1 invalid, counted 0: 1 with |coordinate| > 1e15");
  /* 1e15 itself is kept: [0,0,0,1e15,1,1] vs itself is 1. */
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[0,0,0,1e15,1,1]", "[0,0,0,1e15,1,1]"));
  ASSERT_E2E(r, 1, "ok");
  /* Both reasons named. */
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[[0,0,0,0,2,2],[0,0,0,1e16,1,1]]", "[0,0,0,2,2,2]"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "(all invalid: 1 with a size <= 0, 1 with |coordinate| > 1e15)");
}

TEST(e2e_iou3d) {
  e2e_result r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[0,0,0,2,2,2]", "box: [1,1,1,3,3,3]"));
  ASSERT_E2E(r, 1.0 / 15.0, "ok");
  /* center + size: [1,1,1,2,2,2] is [0,0,0,2,2,2] */
  r = e2e_score(e2e_spec("iou3d", "\"box_format\": \"cxcyczwhd\""), e2e_rec("[1,1,1,2,2,2]", "[1,1,1,2,2,2]"));
  ASSERT_E2E(r, 1, "ok");
  /* ref_format separate: ref corners, prediction center+size */
  r = e2e_score(e2e_spec("iou3d", "\"box_format\": \"cxcyczwhd\", \"ref_format\": \"xyzxyz\""),
                e2e_rec("[0,0,0,2,2,2]", "[1,1,1,2,2,2]"));
  ASSERT_E2E(r, 1, "ok");
  /* 3D-R1 mean over predictions of the best IoU: (1 + 0)/2 */
  const char *two = "[0,0,0,2,2,2] [10,10,10,11,11,11]";
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[[0,0,0,2,2,2],[5,5,5,6,6,6]]", two));
  ASSERT_E2E(r, 0.5, "ok");
  r = e2e_score(e2e_spec("iou3d", "\"mode\": \"max\""), e2e_rec("[[0,0,0,2,2,2]]", two));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("iou3d", "\"mode\": \"last\""), e2e_rec("[[0,0,0,2,2,2]]", two));
  ASSERT_E2E(r, 0, "ok");
  /* An invalid (flat: x from 1 to 1) box counts 0 in the mean: (1 + 0)/2 */
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[0,0,0,2,2,2]", "[0,0,0,2,2,2] [1,1,1,1,2,2]"));
  ASSERT_E2E(r, 0.5, "ok");
  ASSERT_CONTAINS(r.explain, "1 invalid, counted 0");
  /* Corners in either order, as 3D-R1 (min and max of its 8 corners):
   * [2,2,2,0,0,0] is [0,0,0,2,2,2] (IoU 1); [1,1,1,0,0,0] is the unit
   * cube, 1/8 of it: (1 + 1/8)/2. */
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[0,0,0,2,2,2]", "[2,2,2,0,0,0]"));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[0,0,0,2,2,2]", "[0,0,0,2,2,2] [1,1,1,0,0,0]"));
  ASSERT_E2E(r, (1 + 1.0 / 8.0) / 2, "ok");
  /* threshold 0.5: IoU 1/15 -> 0 */
  r = e2e_score(e2e_spec("iou3d", "\"threshold\": 0.5"), e2e_rec("[0,0,0,2,2,2]", "[1,1,1,3,3,3]"));
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[0,0,0,2,2,2]", "no box"));
  ASSERT_E2E(r, 0, "unparseable");
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec("[0,0,0,0,2,2]", "[0,0,0,2,2,2]"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
}

TEST(e2e_iou3d_corner_reference) {
  /* 3D-R1's ground truth form: each box as its 8 corners, read as the
   * min and max per axis. The cube [0,2]^3 by corners in 3D-R1's order
   * (bottom face then top face) against the answer [1,1,1,3,3,3]: I = 1,
   * U = 8 + 8 - 1 = 15. */
  const char *cube =
      "[[0,0,0],[2,0,0],[2,2,0],[0,2,0],[0,0,2],[2,0,2],[2,2,2],[0,2,2]]";
  e2e_result r = e2e_score(e2e_spec("iou3d", ""), e2e_rec(cube, "box: [1,1,1,3,3,3]"));
  ASSERT_E2E(r, 1.0 / 15.0, "ok");
  /* A list of such boxes, also as a JSON string: the second one
   * ([10,12]^3, corners in another order) is the answer's box exactly;
   * mean over the two predictions of the best IoU: (1/15 + 1) / 2. */
  char two[512];
  snprintf(two, sizeof two,
           "\"[%s, [[12,12,12],[10,10,10],[12,10,10],[10,12,10],[10,10,12],[12,12,10],"
           "[12,10,12],[10,12,12]]]\"",
           cube);
  r = e2e_score(e2e_spec("iou3d", ""), e2e_rec(two, "[1,1,1,3,3,3] [10,10,10,12,12,12]"));
  ASSERT_E2E(r, (1.0 / 15.0 + 1.0) / 2.0, "ok");
  /* Corners all on one plane make a flat box: invalid, said why. */
  r = e2e_score(e2e_spec("iou3d", ""),
                e2e_rec("[[0,0,0],[2,0,0],[2,2,0],[0,2,0],[0,0,0],[2,0,0],[2,2,0],[0,2,0]]",
                        "[0,0,0,2,2,2]"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "1 with a size <= 0");
  /* Seven corners are not a box (nor are its 3-number groups). */
  r = e2e_score(e2e_spec("iou3d", ""),
                e2e_rec("[[0,0,0],[2,0,0],[2,2,0],[0,2,0],[0,0,2],[2,0,2],[2,2,2]]",
                        "[0,0,0,2,2,2]"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
}

TEST(e2e_iou3d_pairs_charged) {
  /* 3,600 predicted boxes against 3,600 reference boxes: 12,960,000 3D
   * IoUs, about 0.3 s of work. Charged 16 steps each (what one costs next
   * to a step of byte scanning) they need 207,360,001 steps, over the
   * default 200,000,000: timeout before any is computed. (Charged one
   * step each, they ran and scored "ok".) */
  enum { N = 3600 };
  static char ref[N * 24 + 16], resp[N * 24 + 16], spec[128], rec[2 * N * 24 + 128];
  size_t a = 0, b = 0;
  ref[a++] = '[';
  for (int i = 0; i < N; i++) {
    a += (size_t)snprintf(ref + a, sizeof ref - a, "%s[%d,0,0,%d,1,1]", i ? "," : "", i, i + 2);
    b += (size_t)snprintf(resp + b, sizeof resp - b, "[%d,0,0,%d,1,1] ", i, i + 1);
  }
  ref[a++] = ']';
  ref[a] = '\0';
  snprintf(spec, sizeof spec, "{\"reward\": {\"fn\": \"iou3d\", \"args\": {\"max_boxes\": %d}}}", N);
  snprintf(rec, sizeof rec, "{\"response\": \"%s\", \"reference\": %s}", resp, ref);
  e2e_result r = e2e_score(spec, rec);
  ASSERT_EQ_STR(r.status, "timeout");
}

/* ------------------------------------------------------------- action */

TEST(e2e_action_distance) {
  /* ref [1,2,3], pred [4,2,-1]: diffs 3, 0, 4. l1 7, l2 5, linf 4,
   * mean_abs 7/3, rmse sqrt(25/3). */
  const char *ref = "[1,2,3]", *resp = "<answer>[4, 2, -1]</answer>";
  e2e_result r = e2e_score(e2e_spec("action_distance", "\"reward\": \"neg\", \"fail_value\": -20"), e2e_rec(ref, resp));
  ASSERT_E2E(r, -7, "ok");
  r = e2e_score(e2e_spec("action_distance", "\"reward\": \"neg\", \"fail_value\": -20, \"tol\": 1"), e2e_rec(ref, resp));
  ASSERT_E2E(r, -6, "ok"); /* -(7 - 1) */
  r = e2e_score(e2e_spec("action_distance", "\"reward\": \"neg\", \"fail_value\": -20, \"norm\": \"l2\""), e2e_rec(ref, resp));
  ASSERT_E2E(r, -5, "ok");
  r = e2e_score(e2e_spec("action_distance", "\"reward\": \"neg\", \"fail_value\": -20, \"norm\": \"linf\""), e2e_rec(ref, resp));
  ASSERT_E2E(r, -4, "ok");
  r = e2e_score(e2e_spec("action_distance", "\"reward\": \"neg\", \"fail_value\": -20, \"norm\": \"mean_abs\""), e2e_rec(ref, resp));
  ASSERT_E2E(r, -7.0 / 3.0, "ok");
  r = e2e_score(e2e_spec("action_distance", "\"reward\": \"neg\", \"fail_value\": -20, \"norm\": \"rmse\""), e2e_rec(ref, resp));
  ASSERT_E2E(r, -2.886751345948129, "ok");
  /* exp, l2, tol 10: exp(-5/10) = 0.6065306597126334 */
  r = e2e_score(e2e_spec("action_distance", "\"reward\": \"exp\", \"norm\": \"l2\", \"tol\": 10"), e2e_rec(ref, resp));
  ASSERT_E2E(r, 0.6065306597126334, "ok");
  /* linear (default), l1 (default), tol 14: 1 - 7/14 = 0.5 */
  r = e2e_score(e2e_spec("action_distance", "\"tol\": 14"), e2e_rec(ref, resp));
  ASSERT_E2E(r, 0.5, "ok");
  /* threshold: 5 <= 5 with l2 -> 1; l1 7 > 5 -> 0 */
  r = e2e_score(e2e_spec("action_distance", "\"reward\": \"threshold\", \"norm\": \"l2\", \"tol\": 5"), e2e_rec(ref, resp));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("action_distance", "\"reward\": \"threshold\", \"tol\": 5"), e2e_rec(ref, resp));
  ASSERT_E2E(r, 0, "ok");
  /* A chunk [[1,2],[3,4]] vs [[1,2],[3,5]]: l1 1; linear tol 2: 0.5 */
  r = e2e_score(e2e_spec("action_distance", "\"tol\": 2"), e2e_rec("[[1,2],[3,4]]", "[[1,2],[3,5]]"));
  ASSERT_E2E(r, 0.5, "ok");
  /* Bare numbers, no brackets. */
  r = e2e_score(e2e_spec("action_distance", "\"tol\": 14"), e2e_rec(ref, "move: 4 2 -1"));
  ASSERT_E2E(r, 0.5, "ok");
  /* Wrong length and no numbers: unparseable with fail_value. */
  r = e2e_score(e2e_spec("action_distance", "\"reward\": \"neg\", \"fail_value\": -20"), e2e_rec(ref, "[1, 2]"));
  ASSERT_E2E(r, -20, "unparseable");
  ASSERT_CONTAINS(r.explain, "predicted 2 numbers, reference has 3");
  r = e2e_score(e2e_spec("action_distance", ""), e2e_rec(ref, "none"));
  ASSERT_E2E(r, 0, "unparseable");
  /* neg without fail_value is refused at load. */
  char err[512];
  e2e_spec_error(e2e_spec("action_distance", "\"reward\": \"neg\""), err, sizeof err);
  ASSERT_CONTAINS(err, "fail_value");
  e2e_spec_error(e2e_spec("action_distance", "\"reward\": \"linear\", \"tol\": 0"), err, sizeof err);
  ASSERT_CONTAINS(err, "tol");
  r = e2e_score(e2e_spec("action_distance", ""), e2e_rec("\"n/a\"", "[1]"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
}

TEST(e2e_action_distance_extremes) {
  /* l2 of [1e200, 0] against [0, 0]: sqrt(1e400) = 1e200. The plain sum
   * of squares is inf; neg gave status error. Compared as a ratio (the
   * absolute tolerance of ASSERT_E2E means nothing at 1e200). */
  e2e_result r = e2e_score(e2e_spec("action_distance", "\"norm\": \"l2\", \"reward\": \"neg\", \"fail_value\": -1"),
                           e2e_rec("[0, 0]", "[1e200, 0]"));
  ASSERT_EQ_STR(r.status, "ok");
  ASSERT_NEAR(r.reward / -1e200, 1.0, 1e-15);
  /* l2 of [3e200, 4e200]: 5e200; linear with tol 1e201: 1 - 0.5 = 0.5
   * (was 0, "distance null"). */
  r = e2e_score(e2e_spec("action_distance", "\"norm\": \"l2\", \"tol\": 1e201"),
                e2e_rec("[0, 0]", "[3e200, 4e200]"));
  ASSERT_E2E(r, 0.5, "ok");
  /* The doubles nearest 3e200 and 4e200 are a little below them: their
   * exact l2 is 4.99999999999999984866...e200 (60-digit decimal
   * arithmetic on the two doubles, outside the test), which rounds to the
   * double 4.9999999999999995e200. */
  ASSERT_CONTAINS(r.explain, "l2 distance 4.9999999999999995e+200");
  /* rmse of [3e200, 4e200]: sqrt(25e400 / 2) = 5e200 / sqrt(2) =
   * 3.5355339059327378e200; threshold at 3.6e200: 1, at 3.5e200: 0. */
  r = e2e_score(e2e_spec("action_distance", "\"norm\": \"rmse\", \"reward\": \"threshold\", \"tol\": 3.6e200"),
                e2e_rec("[0, 0]", "[3e200, 4e200]"));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("action_distance", "\"norm\": \"rmse\", \"reward\": \"threshold\", \"tol\": 3.5e200"),
                e2e_rec("[0, 0]", "[3e200, 4e200]"));
  ASSERT_E2E(r, 0, "ok");
  /* Underflow: l2 of [3e-200, 4e-200] is 5e-200, not 0; linear with tol
   * 1e-199: 1 - 0.5 = 0.5 (was 1: the squares underflow to 0). */
  r = e2e_score(e2e_spec("action_distance", "\"norm\": \"l2\", \"tol\": 1e-199"),
                e2e_rec("[0, 0]", "[3e-200, 4e-200]"));
  ASSERT_E2E(r, 0.5, "ok");
  /* mean_abs of [1e308, 1e308] against [0, 0]: the sum 2e308 overflows,
   * the mean is 1e308; neg: -1e308 (was an error). */
  r = e2e_score(e2e_spec("action_distance", "\"norm\": \"mean_abs\", \"reward\": \"neg\", \"fail_value\": -1"),
                e2e_rec("[0, 0]", "[1e308, 1e308]"));
  ASSERT_EQ_STR(r.status, "ok");
  ASSERT_NEAR(r.reward / -1e308, 1.0, 1e-15);
  /* A distance that is itself past the double range (differences of
   * 2e308): the bounded rewards reach their limit 0, neg is an error
   * that says so. */
  r = e2e_score(e2e_spec("action_distance", "\"norm\": \"l2\", \"reward\": \"exp\", \"tol\": 1"),
                e2e_rec("[1e308, -1e308]", "[-1e308, 1e308]"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "l2 distance > 1.8e308");
  r = e2e_score(e2e_spec("action_distance", "\"norm\": \"l2\", \"reward\": \"neg\", \"fail_value\": -1"),
                e2e_rec("[1e308, -1e308]", "[-1e308, 1e308]"));
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.explain, "beyond the double range");
}

TEST_MAIN(TEST_ENTRY(numlist_scan), TEST_ENTRY(point_in_box_formula),
          TEST_ENTRY(point_in_polygon_formula), TEST_ENTRY(e2e_point_in_box),
          TEST_ENTRY(polygon_collinear_formula), TEST_ENTRY(e2e_point_in_polygon),
          TEST_ENTRY(e2e_point_in_polygon_degenerate), TEST_ENTRY(e2e_keypoint_distance),
          TEST_ENTRY(e2e_keypoint_distance_empty),
          TEST_ENTRY(e2e_point_in_box_units), TEST_ENTRY(e2e_point_in_polygon_units),
          TEST_ENTRY(e2e_keypoint_distance_units),
          TEST_ENTRY(iou3d_formula), TEST_ENTRY(iou3d_extreme_sizes), TEST_ENTRY(e2e_iou3d),
          TEST_ENTRY(e2e_iou3d_extremes), TEST_ENTRY(e2e_iou3d_corner_reference), TEST_ENTRY(e2e_iou3d_pairs_charged),
          TEST_ENTRY(e2e_action_distance),
          TEST_ENTRY(e2e_action_distance_extremes))
