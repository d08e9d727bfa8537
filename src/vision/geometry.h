/*
 * geometry.h - pure entry points of the geometry and puzzle rewards
 * (point_in_box, point_in_polygon, keypoint_distance, iou3d,
 * action_distance, maze, jigsaw, rotation), shared by the reward functions,
 * the unit tests, the fuzz target and the benchmark.
 *
 * Not for: 2D boxes from model output, IoU/GIoU, detection matching (those
 * live in the box family, vision/boxes.c). This family parses its own
 * numbers with the small scanner below; the only thing it takes from the
 * box family is the coordinate conventions (rk__coordargs in
 * vision/boxes.h), so that points and boxes read the same arguments.
 *
 * Ownership: everything returned lives in the arena passed in.
 */
#ifndef RK_VISION_GEOMETRY_H
#define RK_VISION_GEOMETRY_H

#include "core/core.h"
#include "json/json.h"

/* ------------------------------------------------------ number lists */

/* One bracket group "(1, 2)" or "[1,2,3]" that holds only numbers and
 * separators (commas, semicolons, whitespace): nums[off .. off+len). */
typedef struct rk__nl_tuple {
  size_t off, len;
  size_t pos; /* byte offset of the opening bracket */
} rk__nl_tuple;

typedef struct rk__nl {
  double *flat;       /* every number in the text, in order */
  size_t nflat;
  double *nums;       /* numbers of the tuples, tuple after tuple */
  size_t nnums;
  rk__nl_tuple *tup;  /* innermost all-number bracket groups, in order */
  size_t ntup;
  int truncated;      /* stopped at max_nums */
} rk__nl;

#define RK__NL_MAX_NUMS ((size_t)1 << 16)

/* Scans p[0..n) once. Numbers: optional sign (only at the start of a
 * token), digits, optional fraction and exponent, e.g. "-0.5", ".25",
 * "1e-3"; digits glued to a letter or '_' ("x1", "point_2d") are not
 * numbers; non-finite values are dropped. At most max_nums numbers are
 * kept (0 = RK__NL_MAX_NUMS). Returns 0, or -1 when the arena is full.
 * Costs about one step per byte (the caller charges n). */
int rk__nl_scan(const char *p, size_t n, rk__arena *a, size_t max_nums,
                rk__nl *out);

/* A reference value as JSON: a string that holds JSON is parsed (into the
 * arena); any other value is returned as is. NULL when absent or when a
 * string is not JSON (then *is_text = 1 if it was a string). */
const rk__jval *rk__geo_ref_json(const rk__jval *ref, rk__arena *a,
                                 int *is_text);

/* Shared answer handling of the family: the "extract" arguments (default
 * ["answer_tag", "none"]: the last <answer> block, else the whole
 * response), then extraction, budget and scan. Statuses as rk__extract;
 * ERROR when the arena is full. */
struct rk__extract_cfg;
int rk__geo_extract_compile(rk__argctx *ac, struct rk__extract_cfg *cfg);
rk_status rk__geo_answer(const struct rk__extract_cfg *cfg, rk__call *c,
                         rk__str *ans, rk__nl *nl);
/* Numbers of a reference value: a string is scanned as text, any other
 * value through its JSON source text. Charges its length. */
rk_status rk__geo_ref_scan(rk__call *c, const rk__jval *ref, rk__nl *nl);

/* ------------------------------------------------------------ points */

/* 1 when (x, y) lies in the xyxy box (corners in any order); inclusive
 * of the boundary when `inclusive`. */
int rk__geo_point_in_box(double x, double y, const double box[4],
                         int inclusive);

typedef enum { RK__PIP_EVENODD = 0, RK__PIP_NONZERO = 1 } rk__pip_rule;

/* Point in a polygon of k vertices xy[0..2k): 1 inside, 0 outside, 2 on
 * the boundary (an edge or a vertex, exactly). The polygon is closed
 * implicitly; self-intersections are resolved by `rule`. */
int rk__geo_point_in_polygon(double x, double y, const double *xy, size_t k,
                             rk__pip_rule rule);

/* 1 when the k vertices xy[0..2k) all lie on one line (a zero-area
 * polygon: one point, a segment, a line walked back and forth), decided
 * exactly on the given doubles; 0 otherwise, including the rare polygons
 * whose coordinates span more than 2^400 on one axis, where the exact
 * test does not apply (they are kept). */
int rk__geo_polygon_collinear(const double *xy, size_t k);

/* ---------------------------------------------------------------- 3D */

/* Axis-aligned 3D IoU of two [x1,y1,z1,x2,y2,z2] boxes (corners already
 * ordered, positive sizes). 0 when the union is 0. */
double rk__geo_iou3d(const double a[6], const double b[6]);

/* ------------------------------------------------------------- mazes */

#define RK__MAZE_OPEN 0
#define RK__MAZE_WALL 1

typedef struct rk__maze {
  long rows, cols;
  unsigned char *cell; /* rows * cols, RK__MAZE_OPEN or RK__MAZE_WALL */
  long sr, sc, gr, gc; /* start and goal, -1 when not marked */
} rk__maze;

/* Grid from text rows ("#S.#", "1 0 2" ...) or a JSON matrix. Returns 0,
 * or -1 with a reason in why[] (cap bytes). -2 when the arena is full.
 * Cells over max_cells are refused. Charges one step per byte/cell. */
int rk__maze_parse_text(const char *p, size_t n, rk__arena *a,
                        size_t max_cells, rk__maze *m, char *why, size_t cap);
int rk__maze_parse_json(const rk__jval *v, rk__arena *a, size_t max_cells,
                        rk__maze *m, char *why, size_t cap);

/* BFS length (moves) of the shortest 4-neighbour path from start to goal,
 * -1 when the goal is unreachable, -2 when out of memory or when *steps
 * would pass step_limit (then the caller reports a timeout). */
long rk__maze_bfs(const rk__maze *m, rk__arena *a, uint64_t *steps,
                  uint64_t step_limit);

/* A parsed path: moves (0 up, 1 down, 2 left, 3 right) or cells. */
typedef struct rk__maze_path {
  int is_coords;
  size_t n;
  unsigned char *moves; /* !is_coords */
  long *r, *c;          /* is_coords: 0-based rows and columns */
  int too_long;         /* more than max_len entries */
  size_t nonint;        /* 1-based index of the first non-integer pair, 0 none */
} rk__maze_path;

/* Path from answer text. Coordinates when the text holds at least one
 * "(a, b)"/"[a, b]" pair (xy: pairs are (x=col, y=row); base: the index of
 * the first row/column), else moves: U/D/L/R (upper-case runs like "RRD",
 * or a lone lower-case letter), up/down/left/right, north/south/west/east,
 * arrows. Returns 0, -1 when the arena is full. */
int rk__maze_parse_path(const char *p, size_t n, rk__arena *a, size_t max_len,
                        int xy, long base, rk__maze_path *path);

typedef struct rk__maze_walk {
  int valid;       /* stays in the grid, no walls, adjacent steps */
  int reached;     /* valid and ends on the goal */
  size_t len;      /* moves walked */
  size_t bad_step; /* 1-based step of the first problem (0 = none) */
  char why[128];
} rk__maze_walk;

void rk__maze_walk_path(const rk__maze *m, const rk__maze_path *path,
                        int xy, long base, rk__maze_walk *w);

/* ----------------------------------------------------------- puzzles */

/* Rotation angle named in text: "90", "90 degrees", "rotated by 180°",
 * "-90" (= 270), "upside down" (180), "no rotation" / "upright" (0).
 * Returns the number of distinct angles found (0, 1 or more); *deg gets
 * the last one, in [0, 360). `*dir` gets +1 when the text says clockwise,
 * -1 counterclockwise, 0 neither. */
int rk__rot_parse(const char *p, size_t n, double *deg, int *dir);

#endif /* RK_VISION_GEOMETRY_H */
