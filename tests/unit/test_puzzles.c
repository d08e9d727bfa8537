/*
 * test_puzzles.c - maze (grid parsing, BFS on hand-drawn mazes whose
 * shortest paths are traced in the comments, path walking, the combining
 * modes), jigsaw and rotation. End-to-end cases use the public API.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "e2e.h"
#include "test.h"
#include "vision/geometry.h"

/* Maze A (5x5), rows 0..4, columns 0..4:
 *   S . . # .
 *   # # . # .
 *   . . . . .
 *   . # # # .
 *   . . . # G
 * Shortest: (0,0) R (0,1) R (0,2) D (1,2) D (2,2) R (2,3) R (2,4) D (3,4)
 * D (4,4) = 8 moves. The left branch (2,1)..(4,2) is a dead end: (4,3) is
 * a wall. */
#define MAZE_A "\"S..#.\\n##.#.\\n.....\\n.###.\\n...#G\""

/* Maze B (4x5), a single corridor:
 *   S # . . .
 *   . # . # .
 *   . # . # .
 *   . . . # G
 * Down 3 to (3,0), right 2 to (3,2), up 3 to (0,2), right 2 to (0,4), down
 * 3 to (3,4): 3 + 2 + 3 + 2 + 3 = 13 moves. */
static const char *maze_b = "S#...\n.#.#.\n.#.#.\n...#G\n";

TEST(maze_bfs_hand) {
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__maze m;
  char why[160];
  const char *ta = "S..#.\n##.#.\n.....\n.###.\n...#G";
  ASSERT_EQ_INT(rk__maze_parse_text(ta, strlen(ta), &a, 1000, &m, why, sizeof why), 0);
  ASSERT_EQ_INT(m.rows, 5);
  ASSERT_EQ_INT(m.cols, 5);
  ASSERT_EQ_INT(m.sr, 0);
  ASSERT_EQ_INT(m.gc, 4);
  uint64_t steps = 0;
  ASSERT_EQ_INT(rk__maze_bfs(&m, &a, &steps, 1000000), 8);
  ASSERT_EQ_INT(rk__maze_parse_text(maze_b, strlen(maze_b), &a, 1000, &m, why, sizeof why), 0);
  ASSERT_EQ_INT(rk__maze_bfs(&m, &a, &steps, 1000000), 13);
  /* Separated cells, numbers: 2 start, 3 goal; 3 moves right + ... :
   *   2 0 1
   *   1 0 0
   *   1 1 3   -> R D R D = 4 */
  const char *tn = "2 0 1\n1 0 0\n1 1 3\n";
  ASSERT_EQ_INT(rk__maze_parse_text(tn, strlen(tn), &a, 1000, &m, why, sizeof why), 0);
  ASSERT_EQ_INT(m.cols, 3);
  ASSERT_EQ_INT(rk__maze_bfs(&m, &a, &steps, 1000000), 4);
  /* Walled-off goal. */
  const char *tu = "S#G";
  ASSERT_EQ_INT(rk__maze_parse_text(tu, 3, &a, 1000, &m, why, sizeof why), 0);
  ASSERT_EQ_INT(rk__maze_bfs(&m, &a, &steps, 1000000), -1);
  /* Budget: a 1-step limit stops BFS with -2. */
  steps = 0;
  ASSERT_EQ_INT(rk__maze_parse_text(ta, strlen(ta), &a, 1000, &m, why, sizeof why), 0);
  ASSERT_EQ_INT(rk__maze_bfs(&m, &a, &steps, 1), -2);
  /* Errors. */
  ASSERT_EQ_INT(rk__maze_parse_text("S..\n.G", 6, &a, 1000, &m, why, sizeof why), -1);
  ASSERT_CONTAINS(why, "row 2 has 2 cells, row 1 has 3");
  ASSERT_EQ_INT(rk__maze_parse_text("S.?G", 4, &a, 1000, &m, why, sizeof why), -1);
  ASSERT_CONTAINS(why, "unknown cell '?' at row 1 col 3");
  ASSERT_EQ_INT(rk__maze_parse_text(ta, strlen(ta), &a, 24, &m, why, sizeof why), -1);
  ASSERT_CONTAINS(why, "over max_cells");
  ASSERT_EQ_INT(rk__maze_parse_text("SG\nS.", 5, &a, 1000, &m, why, sizeof why), -1);
  ASSERT_CONTAINS(why, "two start markers");
  /* Unicode walls: U+2588 full block. */
  const char *tb = "S\xe2\x96\x88G\n...";
  ASSERT_EQ_INT(rk__maze_parse_text(tb, strlen(tb), &a, 1000, &m, why, sizeof why), 0);
  ASSERT_EQ_INT(m.cols, 3);
  ASSERT_EQ_INT(rk__maze_bfs(&m, &a, &steps, 1000000), 4); /* D R R U */
  rk__arena_release(&a);
}

TEST(maze_path_parse) {
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__maze_path p;
  const char *t = "Go right, then DOWN twice: RDD \xe2\x86\x90 and a dull left; u";
  ASSERT_EQ_INT(rk__maze_parse_path(t, strlen(t), &a, 100, 0, 0, &p), 0);
  /* right, DOWN, R, D, D, <-, left, u  ("Go", "then", "twice", "and",
   * "a", "dull" are not moves) */
  ASSERT_EQ_INT(p.is_coords, 0);
  ASSERT_EQ_INT(p.n, 8);
  static const int want[] = {3, 1, 3, 1, 1, 2, 2, 0};
  for (int i = 0; i < 8 && i < (int)p.n; i++) ASSERT_EQ_INT(p.moves[i], want[i]);
  ASSERT_EQ_INT(rk__maze_parse_path("(1,2) -> (1,3)", 14, &a, 100, 1, 1, &p), 0);
  /* xy, base 1: (x=1, y=2) is row 1, col 0 */
  ASSERT_EQ_INT(p.is_coords, 1);
  ASSERT_EQ_INT(p.r[0], 1);
  ASSERT_EQ_INT(p.c[0], 0);
  ASSERT_EQ_INT(p.r[1], 2);
  ASSERT_EQ_INT(rk__maze_parse_path("RRRR", 4, &a, 3, 0, 0, &p), 0);
  ASSERT_TRUE(p.too_long);
  rk__arena_release(&a);
}

TEST(e2e_maze) {
  e2e_result r = e2e_score(e2e_spec("maze", ""), e2e_rec(MAZE_A, "<answer>R R D D R R D D</answer>"));
  ASSERT_E2E(r, 1, "ok");
  ASSERT_CONTAINS(r.explain, "reaches the goal in 8 moves, shortest 8");
  /* A detour: R R D D L R R R D D = 10 moves; ratio 8/10 */
  const char *det = "<answer>R R D D L R R R D D</answer>";
  r = e2e_score(e2e_spec("maze", ""), e2e_rec(MAZE_A, det));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("maze", "\"mode\": \"optimal\""), e2e_rec(MAZE_A, det));
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score(e2e_spec("maze", "\"mode\": \"ratio\""), e2e_rec(MAZE_A, det));
  ASSERT_E2E(r, 0.8, "ok");
  /* weighted: 0.25*1 + 0.25*1 + 0.5*0.8 = 0.9 */
  r = e2e_score(e2e_spec("maze", "\"mode\": \"weighted\""), e2e_rec(MAZE_A, det));
  ASSERT_E2E(r, 0.9, "ok");
  /* Valid but stops short: 0.25 */
  r = e2e_score(e2e_spec("maze", "\"mode\": \"weighted\""), e2e_rec(MAZE_A, "right right"));
  ASSERT_E2E(r, 0.25, "ok");
  ASSERT_CONTAINS(r.explain, "ends at (row, col) = (0, 2), not the goal (row, col) = (4, 4)");
  /* Wall and edge. */
  r = e2e_score(e2e_spec("maze", "\"mode\": \"weighted\""), e2e_rec(MAZE_A, "R R R"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "step 3 (right) hits a wall at (row, col) = (0, 3)");
  r = e2e_score(e2e_spec("maze", ""), e2e_rec(MAZE_A, "\\u2191"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "step 1 (up) leaves the grid");
  /* Coordinates, xy and 1-based: (x=col+1, y=row+1). */
  r = e2e_score(e2e_spec("maze", "\"coords\": \"xy\", \"index_base\": 1"),
                e2e_rec(MAZE_A, "(1,1),(2,1),(3,1),(3,2),(3,3),(4,3),(5,3),(5,4),(5,5)"));
  ASSERT_E2E(r, 1, "ok");
  /* Coordinates without the start cell; a jump. */
  r = e2e_score(e2e_spec("maze", ""), e2e_rec(MAZE_A, "[(0,1),(0,2),(1,2),(2,2),(2,3),(2,4),(3,4),(4,4)]"));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("maze", ""), e2e_rec(MAZE_A, "[(0,0),(0,2)]"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "step 1 jumps from (row, col) = (0, 0) to (row, col) = (0, 2)");
  /* Corridor maze B as an array of row strings. */
  r = e2e_score(e2e_spec("maze", "\"mode\": \"ratio\""),
                e2e_rec("[\"S#...\", \".#.#.\", \".#.#.\", \"...#G\"]", "DDDRRUUURRDDD"));
  ASSERT_E2E(r, 1, "ok");
  /* JSON matrix with start/goal fields (no markers). */
  r = e2e_score(e2e_spec("maze", ""),
                e2e_rec("{\"grid\": [[0,0,1],[1,0,0],[1,1,0]], \"start\": [0,0], \"goal\": [2,2]}",
                    "right down right down"));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("maze", ""),
                e2e_rec("{\"grid\": [[0,1],[0,0]], \"start\": [0,0], \"goal\": [0,1]}", "R"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "the goal is on a wall");
  /* The maze in another record field. */
  r = e2e_score(e2e_spec("maze", "\"field\": \"puzzle.grid\""),
                "{\"response\": \"R\", \"puzzle\": {\"grid\": \"SG\"}}");
  ASSERT_E2E(r, 1, "ok");
  /* Invalid references and empty answers. */
  r = e2e_score(e2e_spec("maze", ""), e2e_rec("\"S#G\"", "R"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "unreachable");
  r = e2e_score(e2e_spec("maze", ""), e2e_rec("\"S..\\n.G\"", "R"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  r = e2e_score(e2e_spec("maze", ""), e2e_rec("\"...\\n..G\"", "R"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  /* A fuzzer finding: the unknown-cell message printed a JSON item's raw
   * text past its end. */
  r = e2e_score(e2e_spec("maze", ""), e2e_rec("[[\"2090\"]]", "R"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "unknown cell \"2090\" at row 1 col 1");
  r = e2e_score(e2e_spec("maze", ""), e2e_rec(MAZE_A, "I cannot solve this."));
  ASSERT_EQ_STR(r.status, "unparseable");
  r = e2e_score(e2e_spec("maze", "\"max_path\": 4"), e2e_rec(MAZE_A, "R R D D R R D D"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "longer than max_path");
}

TEST(e2e_jigsaw) {
  e2e_result r = e2e_score(e2e_spec("jigsaw", ""), e2e_rec("[2,0,1,3]", "<answer>[2, 1, 0, 3]</answer>"));
  ASSERT_E2E(r, 0.5, "ok"); /* positions 1 and 4 right: 2/4 */
  ASSERT_CONTAINS(r.explain, "2 of 4 pieces in place (first wrong: position 2)");
  r = e2e_score(e2e_spec("jigsaw", "\"mode\": \"exact\""), e2e_rec("[2,0,1,3]", "[2, 1, 0, 3]"));
  ASSERT_E2E(r, 0, "ok");
  r = e2e_score(e2e_spec("jigsaw", "\"mode\": \"exact\""), e2e_rec("\"2 0 1 3\"", "order: 2 0 1 3"));
  ASSERT_E2E(r, 1, "ok");
  /* 3x3: 3 of 9 in place. ref 0..8, pred swaps in cycles except 0, 4, 8. */
  r = e2e_score(e2e_spec("jigsaw", ""), e2e_rec("[0,1,2,3,4,5,6,7,8]", "[0,2,1,5,4,3,7,6,8]"));
  ASSERT_E2E(r, 3.0 / 9.0, "ok");
  ASSERT_CONTAINS(r.explain, "3 of 9 pieces in place");
  /* Not a permutation; then with the check off: 3 of 4. */
  r = e2e_score(e2e_spec("jigsaw", ""), e2e_rec("[2,0,1,3]", "[2, 2, 1, 3]"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "2 appears 2 times");
  r = e2e_score(e2e_spec("jigsaw", "\"require_permutation\": false"), e2e_rec("[2,0,1,3]", "[2, 2, 1, 3]"));
  ASSERT_E2E(r, 0.75, "ok");
  r = e2e_score(e2e_spec("jigsaw", ""), e2e_rec("[2,0,1,3]", "[2, 0, 1]"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "answer lists 3 pieces, reference has 4");
  r = e2e_score(e2e_spec("jigsaw", ""), e2e_rec("[2,0,1,3]", "no idea"));
  ASSERT_E2E(r, 0, "unparseable");
  r = e2e_score(e2e_spec("jigsaw", ""), e2e_rec("[]", "[1]"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  r = e2e_score(e2e_spec("jigsaw", ""), e2e_rec("[0.5, 1]", "[1]"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
}

TEST(rotation_parse) {
  double d;
  int dir;
  ASSERT_EQ_INT(rk__rot_parse("90 degrees", 10, &d, &dir), 1);
  ASSERT_NEAR(d, 90, 0);
  const char *t = "rotated by 180\xc2\xb0";
  ASSERT_EQ_INT(rk__rot_parse(t, strlen(t), &d, &dir), 1);
  ASSERT_NEAR(d, 180, 0);
  ASSERT_EQ_INT(rk__rot_parse("-90", 3, &d, &dir), 1);
  ASSERT_NEAR(d, 270, 0);
  ASSERT_EQ_INT(rk__rot_parse("It is upside down", 17, &d, &dir), 1);
  ASSERT_NEAR(d, 180, 0);
  ASSERT_EQ_INT(rk__rot_parse("No rotation", 11, &d, &dir), 1);
  ASSERT_NEAR(d, 0, 0);
  ASSERT_EQ_INT(rk__rot_parse("360\xc2\xb0", 5, &d, &dir), 1);
  ASSERT_NEAR(d, 0, 0);
  ASSERT_EQ_INT(rk__rot_parse("45 deg", 6, &d, &dir), 1);
  ASSERT_NEAR(d, 45, 0);
  ASSERT_EQ_INT(rk__rot_parse("I see 3 cats and 2 dogs", 23, &d, &dir), 0);
  ASSERT_EQ_INT(rk__rot_parse("90 or 180", 9, &d, &dir), 2);
  ASSERT_EQ_INT(rk__rot_parse("90 counterclockwise", 19, &d, &dir), 1);
  ASSERT_EQ_INT(dir, -1);
  ASSERT_EQ_INT(rk__rot_parse("270 clockwise", 13, &d, &dir), 1);
  ASSERT_EQ_INT(dir, 1);
  /* The hyphenated forms are one phrase, not "counter-" + "clockwise". */
  ASSERT_EQ_INT(rk__rot_parse("90 counter-clockwise", 20, &d, &dir), 1);
  ASSERT_EQ_INT(dir, -1);
  ASSERT_EQ_INT(rk__rot_parse("Anti-clockwise by 90", 20, &d, &dir), 1);
  ASSERT_EQ_INT(dir, -1);
  /* A bare 0 is a count beside another angle, an angle alone. */
  const char *z = "rotated 90 degrees; I count 0 people";
  ASSERT_EQ_INT(rk__rot_parse(z, strlen(z), &d, &dir), 1);
  ASSERT_NEAR(d, 90, 0);
  ASSERT_EQ_INT(rk__rot_parse("0", 1, &d, &dir), 1);
  ASSERT_NEAR(d, 0, 0);
  ASSERT_EQ_INT(rk__rot_parse("0 deg or 90", 11, &d, &dir), 2);
}

TEST(e2e_rotation) {
  e2e_result r = e2e_score(e2e_spec("rotation", ""), e2e_rec("90", "The image was rotated by 90\\u00b0."));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("rotation", ""), e2e_rec("\"180 degrees\"", "<answer>upside down</answer>"));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("rotation", ""), e2e_rec("270", "<answer>90</answer>"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "pred 90 degrees != gold 270 degrees");
  /* Direction: the dataset counts clockwise; 90 counterclockwise = 270 cw. */
  r = e2e_score(e2e_spec("rotation", "\"direction\": \"clockwise\""),
                e2e_rec("270", "<answer>90 degrees counterclockwise</answer>"));
  ASSERT_E2E(r, 1, "ok");
  /* Option letters. */
  const char *opts = "\"options\": [\"0\", \"90\", \"180\", \"270\"]";
  r = e2e_score(e2e_spec("rotation", opts), e2e_rec("\"B\"", "Answer: (C)"));
  ASSERT_E2E(r, 0, "ok"); /* C = 180 != B = 90 */
  r = e2e_score(e2e_spec("rotation", opts), e2e_rec("90", "<answer>B</answer>"));
  ASSERT_E2E(r, 1, "ok");
  r = e2e_score(e2e_spec("rotation", "\"options_field\": \"choices\""),
                "{\"reference\": \"D\", \"response\": \"<answer>D</answer>\", "
                "\"choices\": [\"0 degrees\", \"90 degrees\", \"180 degrees\", \"270 degrees\"]}");
  ASSERT_E2E(r, 1, "ok");
  /* Hedging scores 0; nothing scores unparseable. */
  r = e2e_score(e2e_spec("rotation", ""), e2e_rec("90", "<answer>90 or 270</answer>"));
  ASSERT_E2E(r, 0, "ok");
  ASSERT_CONTAINS(r.explain, "names 2 different angles");
  r = e2e_score(e2e_spec("rotation", ""), e2e_rec("90", "<answer>not sure</answer>"));
  ASSERT_E2E(r, 0, "unparseable");
  r = e2e_score(e2e_spec("rotation", ""), e2e_rec("\"sideways\"", "90"));
  ASSERT_EQ_STR(r.status, "invalid_reference");
  char err[512];
  e2e_spec_error(e2e_spec("rotation", "\"options\": [\"left\"]"), err, sizeof err);
  ASSERT_CONTAINS(err, "names no single angle");
}

TEST(e2e_maze_start_is_goal) {
  /* Start = goal (the fields override the S marker): the empty path is
   * the solution. L* = 0 and L = 0: reached, optimality 1 by the
   * documented convention (0/0 taken as 1), weighted .25 + .25 + .5 = 1. */
  const char *same = "{\"grid\": [\"S..\"], \"start\": [0,0], \"goal\": [0,0]}";
  e2e_result r = e2e_score(e2e_spec("maze", ""), e2e_rec(same, "I am already at the goal."));
  ASSERT_E2E(r, 1, "ok");
  ASSERT_CONTAINS(r.explain, "reaches the goal in 0 moves, shortest 0, optimality 1");
  ASSERT_E2E(e2e_score(e2e_spec("maze", "\"mode\": \"optimal\""), e2e_rec(same, "<answer>none</answer>")), 1, "ok");
  ASSERT_E2E(e2e_score(e2e_spec("maze", "\"mode\": \"ratio\""), e2e_rec(same, "<answer>none</answer>")), 1, "ok");
  ASSERT_E2E(e2e_score(e2e_spec("maze", "\"mode\": \"weighted\""), e2e_rec(same, "stay")), 1, "ok");
  /* Out and back, R L: ends on the goal (success 1), L = 2 > L* = 0
   * (optimal 0, ratio 0/2 = 0). */
  ASSERT_E2E(e2e_score(e2e_spec("maze", ""), e2e_rec(same, "R L")), 1, "ok");
  ASSERT_E2E(e2e_score(e2e_spec("maze", "\"mode\": \"optimal\""), e2e_rec(same, "R L")), 0, "ok");
  ASSERT_E2E(e2e_score(e2e_spec("maze", "\"mode\": \"ratio\""), e2e_rec(same, "R L")), 0, "ok");
  /* No answer at all (an empty response, an empty answer tag) is not the
   * empty path: nothing was said, as for every reward: unparseable. */
  r = e2e_score(e2e_spec("maze", ""), e2e_rec(same, ""));
  ASSERT_E2E(r, 0, "unparseable");
  r = e2e_score(e2e_spec("maze", ""), e2e_rec(same, "<answer></answer>"));
  ASSERT_E2E(r, 0, "unparseable");
  ASSERT_CONTAINS(r.explain, "the last answer tag is empty");
}

TEST_MAIN(TEST_ENTRY(maze_bfs_hand), TEST_ENTRY(maze_path_parse), TEST_ENTRY(e2e_maze),
          TEST_ENTRY(e2e_maze_start_is_goal),
          TEST_ENTRY(e2e_jigsaw), TEST_ENTRY(rotation_parse), TEST_ENTRY(e2e_rotation))
