/*
 * maze.c - fn `maze` (Ariadne-style path-finding puzzles): parses the grid
 * (text rows or a JSON matrix, with start and goal markers or fields),
 * parses the answer's path (moves or coordinates), walks it, and compares
 * its length with the BFS shortest path.
 *
 * Components: valid (stays in the grid, never enters a wall, every step
 * goes to a 4-neighbour), reached (valid and ends on the goal), optimality
 * = BFS shortest length / path length when reached, else 0. The `mode`
 * argument combines them (docs/rewards/geometry.md).
 *
 * Not for: weighted graphs, diagonal moves, or mazes given as images.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/extract.h"
#include "vision/geometry.h"

/* ---------------------------------------------------------- grid text */

enum { G_BAD = -1, G_OPEN = 0, G_WALL = 1, G_START = 2, G_GOAL = 3 };

/* Length of the glyph at p (an ASCII byte or one UTF-8 sequence; a stray
 * byte is a glyph of 1). */
static inline size_t glyph_len(const char *p, size_t n) {
  unsigned char c = (unsigned char)p[0];
  if (c < 0x80) return 1;
  size_t k = rk__utf8_seq((const unsigned char *)p, (const unsigned char *)p + n);
  return k ? k : 1;
}

/* ASCII cell classes, stored as class + 2 so that 0 means "not a cell". */
static const unsigned char ascii_class[128] = {
    ['#'] = G_WALL + 2,  ['1'] = G_WALL + 2,  ['X'] = G_WALL + 2,  ['W'] = G_WALL + 2,
    ['@'] = G_WALL + 2,  ['.'] = G_OPEN + 2,  ['0'] = G_OPEN + 2,  [' '] = G_OPEN + 2,
    ['_'] = G_OPEN + 2,  ['O'] = G_OPEN + 2,  ['o'] = G_OPEN + 2,  ['-'] = G_OPEN + 2,
    ['S'] = G_START + 2, ['s'] = G_START + 2, ['2'] = G_START + 2, ['G'] = G_GOAL + 2,
    ['g'] = G_GOAL + 2,  ['E'] = G_GOAL + 2,  ['e'] = G_GOAL + 2,  ['3'] = G_GOAL + 2,
};

static int glyph_class(const char *p, size_t k) {
  if (k == 1) {
    unsigned char b = (unsigned char)p[0];
    return b < 128 && ascii_class[b] ? ascii_class[b] - 2 : G_BAD;
  }
  if (k == 3) {
    /* U+2588 full block, U+25A0 black square, U+2B1B black large square:
     * walls; U+25A1 white square, U+2B1C white large square: open. */
    if (!memcmp(p, "\xe2\x96\x88", 3) || !memcmp(p, "\xe2\x96\xa0", 3) ||
        !memcmp(p, "\xe2\xac\x9b", 3))
      return G_WALL;
    if (!memcmp(p, "\xe2\x96\xa1", 3) || !memcmp(p, "\xe2\xac\x9c", 3)) return G_OPEN;
  }
  return G_BAD;
}

static int is_hsep(char c) { return c == ' ' || c == ',' || c == '\t'; }

/* Sets a cell from its class; marks start/goal. 0 ok, -1 duplicate marker. */
static int set_cell(rk__maze *m, long r, long col, int cls, char *why, size_t cap) {
  m->cell[r * m->cols + col] = cls == G_WALL ? RK__MAZE_WALL : RK__MAZE_OPEN;
  if (cls == G_START) {
    if (m->sr >= 0) {
      snprintf(why, cap, "two start markers (row %ld col %ld and row %ld col %ld)", m->sr,
               m->sc, r, col);
      return -1;
    }
    m->sr = r, m->sc = col;
  } else if (cls == G_GOAL) {
    if (m->gr >= 0) {
      snprintf(why, cap, "two goal markers (row %ld col %ld and row %ld col %ld)", m->gr,
               m->gc, r, col);
      return -1;
    }
    m->gr = r, m->gc = col;
  }
  return 0;
}

int rk__maze_parse_text(const char *p, size_t n, rk__arena *a, size_t max_cells,
                        rk__maze *m, char *why, size_t cap) {
  memset(m, 0, sizeof *m);
  m->sr = m->sc = m->gr = m->gc = -1;
  why[0] = '\0';
  /* Lines, without '\r' and without blank lines at either end. */
  size_t nlines = 1;
  for (size_t i = 0; i < n; i++) nlines += p[i] == '\n';
  size_t *ls = rk__arena_alloc(a, nlines * sizeof *ls), *le = rk__arena_alloc(a, nlines * sizeof *le);
  if (!ls || !le) return -2;
  size_t k = 0, s = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || p[i] == '\n') {
      size_t e = i;
      if (e > s && p[e - 1] == '\r') e--;
      ls[k] = s, le[k] = e, k++;
      s = i + 1;
    }
  }
  size_t first = 0, last = k;
  for (;;) {
    int blank = 1;
    if (first < last)
      for (size_t i = ls[first]; i < le[first]; i++) blank &= p[i] == ' ' || p[i] == '\t';
    if (first < last && blank) first++;
    else break;
  }
  for (;;) {
    int blank = 1;
    if (last > first)
      for (size_t i = ls[last - 1]; i < le[last - 1]; i++) blank &= p[i] == ' ' || p[i] == '\t';
    if (last > first && blank) last--;
    else break;
  }
  if (first == last) {
    snprintf(why, cap, "empty grid");
    return -1;
  }
  /* Separated cells ("1 0 2", "#,.,S") when in every row no two glyphs
   * touch, and some row has two; else every glyph is a cell. */
  int separated = 1, some_two = 0;
  for (size_t r = first; r < last && separated; r++) {
    size_t cnt = 0;
    int prev_glyph = 0;
    for (size_t i = ls[r]; i < le[r];) {
      if (is_hsep(p[i])) {
        prev_glyph = 0;
        i++;
        continue;
      }
      if (prev_glyph) {
        separated = 0;
        break;
      }
      prev_glyph = 1;
      cnt++;
      i += glyph_len(p + i, le[r] - i);
    }
    if (cnt >= 2) some_two = 1;
  }
  separated = separated && some_two;
  /* Count columns. */
  long rows = (long)(last - first), cols = -1;
  for (size_t r = first; r < last; r++) {
    long cnt = 0;
    for (size_t i = ls[r]; i < le[r];) {
      if (separated && is_hsep(p[i])) {
        i++;
        continue;
      }
      cnt++;
      i += glyph_len(p + i, le[r] - i);
    }
    if (cols < 0) cols = cnt;
    if (cnt != cols) {
      snprintf(why, cap, "row %zu has %ld cells, row 1 has %ld", r - first + 1, cnt, cols);
      return -1;
    }
  }
  if (cols == 0) {
    snprintf(why, cap, "empty grid");
    return -1;
  }
  if ((size_t)rows > max_cells / (size_t)cols) {
    snprintf(why, cap, "grid %ldx%ld is over max_cells %zu", rows, cols, max_cells);
    return -1;
  }
  m->rows = rows, m->cols = cols;
  m->cell = rk__arena_alloc(a, (size_t)(rows * cols));
  if (!m->cell) return -2;
  for (size_t r = first; r < last; r++) {
    long col = 0;
    for (size_t i = ls[r]; i < le[r];) {
      if (separated && is_hsep(p[i])) {
        i++;
        continue;
      }
      unsigned char b0 = (unsigned char)p[i];
      size_t g = 1;
      int cls;
      if (b0 < 0x80) { /* the common case, inline */
        cls = ascii_class[b0] ? ascii_class[b0] - 2 : G_BAD;
      } else {
        g = glyph_len(p + i, le[r] - i);
        cls = glyph_class(p + i, g);
      }
      if (cls == G_OPEN || cls == G_WALL) {
        m->cell[(long)(r - first) * cols + col] = (unsigned char)cls;
        col++;
        i += g;
        continue;
      }
      if (cls == G_BAD) {
        unsigned char b = (unsigned char)p[i];
        if (b >= 0x20 && b < 0x7f)
          snprintf(why, cap, "unknown cell '%c' at row %zu col %ld", b, r - first + 1, col + 1);
        else
          snprintf(why, cap, "unknown cell (byte 0x%02x) at row %zu col %ld", b, r - first + 1,
                   col + 1);
        return -1;
      }
      if (set_cell(m, (long)(r - first), col, cls, why, cap)) return -1;
      col++;
      i += g;
    }
  }
  return 0;
}

/* Class of a JSON matrix item: numbers 0 open, 1 wall, 2 start, 3 goal;
 * one-glyph strings as in text. */
static int item_class(const rk__jval *v) {
  if (v->type == RK__JNUM) {
    double x = v->u.num;
    if (x == 0) return G_OPEN;
    if (x == 1) return G_WALL;
    if (x == 2) return G_START;
    if (x == 3) return G_GOAL;
    return G_BAD;
  }
  if (v->type == RK__JSTR && v->u.str.n > 0 && glyph_len(v->u.str.p, v->u.str.n) == v->u.str.n)
    return glyph_class(v->u.str.p, v->u.str.n);
  if (v->type == RK__JTRUE) return G_WALL;
  if (v->type == RK__JFALSE) return G_OPEN;
  return G_BAD;
}

int rk__maze_parse_json(const rk__jval *v, rk__arena *a, size_t max_cells, rk__maze *m,
                        char *why, size_t cap) {
  memset(m, 0, sizeof *m);
  m->sr = m->sc = m->gr = m->gc = -1;
  why[0] = '\0';
  if (v->type == RK__JSTR) return rk__maze_parse_text(v->u.str.p, v->u.str.n, a, max_cells, m, why, cap);
  if (v->type != RK__JARR || v->u.arr.n == 0) {
    snprintf(why, cap, "grid is a %s, expected rows of text or a matrix",
             rk__json_type_name(v->type));
    return -1;
  }
  size_t rows = v->u.arr.n;
  int all_str = 1;
  for (size_t i = 0; i < rows; i++) all_str &= v->u.arr.items[i].type == RK__JSTR;
  if (all_str) {
    /* Rows of text: join with newlines and parse as text. */
    size_t tot = 0;
    for (size_t i = 0; i < rows; i++) tot += v->u.arr.items[i].u.str.n + 1;
    char *buf = rk__arena_alloc(a, tot + 1);
    if (!buf) return -2;
    size_t o = 0;
    for (size_t i = 0; i < rows; i++) {
      memcpy(buf + o, v->u.arr.items[i].u.str.p, v->u.arr.items[i].u.str.n);
      o += v->u.arr.items[i].u.str.n;
      buf[o++] = '\n';
    }
    return rk__maze_parse_text(buf, o, a, max_cells, m, why, cap);
  }
  size_t cols = 0;
  for (size_t r = 0; r < rows; r++) {
    const rk__jval *row = &v->u.arr.items[r];
    if (row->type != RK__JARR) {
      snprintf(why, cap, "matrix row %zu is a %s", r + 1, rk__json_type_name(row->type));
      return -1;
    }
    if (r == 0) cols = row->u.arr.n;
    if (row->u.arr.n != cols) {
      snprintf(why, cap, "row %zu has %zu cells, row 1 has %zu", r + 1, row->u.arr.n, cols);
      return -1;
    }
  }
  if (cols == 0) {
    snprintf(why, cap, "empty grid");
    return -1;
  }
  if (rows > max_cells / cols) {
    snprintf(why, cap, "grid %zux%zu is over max_cells %zu", rows, cols, max_cells);
    return -1;
  }
  m->rows = (long)rows, m->cols = (long)cols;
  m->cell = rk__arena_alloc(a, rows * cols);
  if (!m->cell) return -2;
  for (size_t r = 0; r < rows; r++)
    for (size_t col = 0; col < cols; col++) {
      const rk__jval *it = &v->u.arr.items[r].u.arr.items[col];
      int cls = item_class(it);
      if (cls == G_BAD) {
        /* raw is not NUL-terminated: print at most its own length. */
        int k = it->raw.n > 20 ? 20 : (int)it->raw.n;
        snprintf(why, cap, "unknown cell %.*s at row %zu col %zu", k, it->raw.p, r + 1, col + 1);
        return -1;
      }
      if (set_cell(m, (long)r, (long)col, cls, why, cap)) return -1;
    }
  return 0;
}

/* ---------------------------------------------------------------- BFS */

long rk__maze_bfs(const rk__maze *m, rk__arena *a, uint64_t *steps, uint64_t step_limit) {
  if (m->sr < 0 || m->gr < 0) return -1;
  if (m->cell[m->sr * m->cols + m->sc] == RK__MAZE_WALL ||
      m->cell[m->gr * m->cols + m->gc] == RK__MAZE_WALL)
    return -1;
  /* A copy with a border of walls: neighbours are u +- 1 and u +- W with
   * no bounds checks and no division. A cell is marked (set to wall) when
   * it is queued; the queue is walked level by level, so no distance
   * array is needed. */
  size_t W = (size_t)m->cols + 2, N = ((size_t)m->rows + 2) * W;
  unsigned char *g = rk__arena_alloc(a, N);
  uint32_t *q = rk__arena_alloc(a, ((size_t)m->rows * (size_t)m->cols + 1) * sizeof *q);
  if (!g || !q) return -2;
  memset(g, RK__MAZE_WALL, N);
  for (long r = 0; r < m->rows; r++)
    memcpy(g + (size_t)(r + 1) * W + 1, m->cell + r * m->cols, (size_t)m->cols);
  uint64_t st = *steps + N / 16 + 1; /* the copy */
  size_t s = (size_t)(m->sr + 1) * W + (size_t)(m->sc + 1);
  size_t goal = (size_t)(m->gr + 1) * W + (size_t)(m->gc + 1);
  size_t head = 0, tail = 0, level_end = 1;
  long depth = 0;
  g[s] = RK__MAZE_WALL;
  q[tail++] = (uint32_t)s;
  const size_t off[4] = {(size_t)0 - W, W, (size_t)0 - 1, 1}; /* up, down, left, right */
  while (head < tail) {
    if (head == level_end) {
      depth++;
      level_end = tail;
    }
    size_t u = q[head++];
    if (u == goal) {
      *steps = st;
      return depth;
    }
    if (++st > step_limit) {
      *steps = st;
      return -2;
    }
    for (int k = 0; k < 4; k++) {
      size_t v = u + off[k];
      if (g[v] == RK__MAZE_OPEN) {
        g[v] = RK__MAZE_WALL;
        q[tail++] = (uint32_t)v;
      }
    }
  }
  *steps = st;
  return -1;
}

/* --------------------------------------------------------------- paths */

static const char *const dir_names[] = {"up", "down", "left", "right"};
static const long dir_dr[] = {-1, 1, 0, 0}, dir_dc[] = {0, 0, -1, 1};

static int word_dir(const char *w, size_t k) {
  static const char *const words[] = {"up", "down", "left", "right", "north", "south", "west",
                                       "east"};
  char low[8];
  if (k > 5) return -1;
  for (size_t i = 0; i < k; i++) low[i] = (char)(w[i] | 32);
  for (int d = 0; d < 8; d++)
    if (strlen(words[d]) == k && !memcmp(low, words[d], k)) return d & 3;
  return -1;
}

static int letter_dir(char ch) {
  switch (ch) {
    case 'U': case 'u': return 0;
    case 'D': case 'd': return 1;
    case 'L': case 'l': return 2;
    case 'R': case 'r': return 3;
    default: return -1;
  }
}

int rk__maze_parse_path(const char *p, size_t n, rk__arena *a, size_t max_len, int xy,
                        long base, rk__maze_path *path) {
  memset(path, 0, sizeof *path);
  rk__nl nl;
  if (rk__nl_scan(p, n, a, 2 * max_len + 4, &nl)) return -1;
  size_t pairs = 0;
  for (size_t i = 0; i < nl.ntup; i++) pairs += nl.tup[i].len == 2;
  if (pairs > 0) {
    path->is_coords = 1;
    if (pairs > max_len + 1 || nl.truncated) {
      path->too_long = 1;
      pairs = pairs > max_len + 1 ? max_len + 1 : pairs;
    }
    path->r = rk__arena_alloc(a, (pairs + 1) * sizeof *path->r);
    path->c = rk__arena_alloc(a, (pairs + 1) * sizeof *path->c);
    if (!path->r || !path->c) return -1;
    size_t k = 0;
    for (size_t i = 0; i < nl.ntup && k < pairs; i++) {
      if (nl.tup[i].len != 2) continue;
      double u = nl.nums[nl.tup[i].off], w = nl.nums[nl.tup[i].off + 1];
      double row = xy ? w : u, col = xy ? u : w;
      /* Coordinates far outside any grid are clamped to a value that is
       * still outside; non-integers are reported by the walk (nonint). */
      if (row != floor(row) || col != floor(col)) {
        if (!path->nonint) path->nonint = k + 1;
        row = floor(row), col = floor(col);
      }
      if (row > 1e15) row = 1e15;
      if (row < -1e15) row = -1e15;
      if (col > 1e15) col = 1e15;
      if (col < -1e15) col = -1e15;
      path->r[k] = (long)row - base;
      path->c[k] = (long)col - base;
      k++;
    }
    path->n = k;
    return 0;
  }
  path->moves = rk__arena_alloc(a, max_len + 1);
  if (!path->moves) return -1;
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    unsigned char ch = (unsigned char)p[i];
    int d = -1;
    size_t adv = 1;
    if (ch == 0xe2 && i + 2 < n && (unsigned char)p[i + 1] == 0x86 &&
        (unsigned char)p[i + 2] >= 0x90 && (unsigned char)p[i + 2] <= 0x93) {
      /* U+2190 left, U+2191 up, U+2192 right, U+2193 down */
      static const int arrow[] = {2, 0, 3, 1};
      d = arrow[(unsigned char)p[i + 2] - 0x90];
      adv = 3;
      if (k < max_len) path->moves[k] = (unsigned char)d;
      k++;
      i += adv;
      continue;
    }
    if (((ch | 32) >= 'a' && (ch | 32) <= 'z')) {
      size_t j = i;
      while (j < n && (((unsigned char)p[j] | 32) >= 'a' && ((unsigned char)p[j] | 32) <= 'z')) j++;
      size_t wl = j - i;
      d = word_dir(p + i, wl);
      if (d >= 0) {
        if (k < max_len) path->moves[k] = (unsigned char)d;
        k++;
      } else {
        /* "RRDL": an upper-case run of U/D/L/R; "r": a lone lower-case
         * letter. Lower-case runs are English words ("dull"), not moves. */
        int all_upper = 1;
        for (size_t t = i; t < j; t++)
          all_upper &= letter_dir(p[t]) >= 0 && p[t] >= 'A' && p[t] <= 'Z';
        if (all_upper || (wl == 1 && letter_dir(p[i]) >= 0)) {
          for (size_t t = i; t < j; t++) {
            if (k < max_len) path->moves[k] = (unsigned char)letter_dir(p[t]);
            k++;
          }
        }
      }
      i = j;
      continue;
    }
    i += adv;
  }
  if (k > max_len) {
    path->too_long = 1;
    k = max_len;
  }
  path->n = k;
  return 0;
}

/* ---------------------------------------------------------------- walk */

static int open_cell(const rk__maze *m, long r, long c) {
  return r >= 0 && r < m->rows && c >= 0 && c < m->cols && m->cell[r * m->cols + c] == RK__MAZE_OPEN;
}

void rk__maze_walk_path(const rk__maze *m, const rk__maze_path *path, int xy, long base,
                        rk__maze_walk *w) {
  memset(w, 0, sizeof *w);
  long r = m->sr, c = m->sc;
  size_t len = 0;
  /* Cells are printed in the answer's own convention. */
#define CELL_FMT "%s%ld, %ld)"
#define CELL_ARGS(rr, cc) xy ? "(x, y) = (" : "(row, col) = (", (xy ? (cc) : (rr)) + base, \
                          (xy ? (rr) : (cc)) + base
  if (path->too_long) {
    snprintf(w->why, sizeof w->why, "path longer than max_path");
    w->bad_step = 1;
    return;
  }
  if (path->is_coords) {
    size_t i0 = 0;
    if (path->nonint) {
      w->bad_step = path->nonint;
      snprintf(w->why, sizeof w->why, "coordinate %zu is not an integer", path->nonint);
      return;
    }
    if (path->n > 0 && path->r[0] == r && path->c[0] == c) i0 = 1; /* starts at the start */
    for (size_t i = i0; i < path->n; i++) {
      long nr = path->r[i], nc = path->c[i];
      size_t step = len + 1;
      if (nr < 0 || nr >= m->rows || nc < 0 || nc >= m->cols) {
        w->bad_step = step;
        snprintf(w->why, sizeof w->why, "step %zu leaves the grid at " CELL_FMT, step,
                 CELL_ARGS(nr, nc));
        return;
      }
      if (labs(nr - r) + labs(nc - c) != 1) {
        w->bad_step = step;
        snprintf(w->why, sizeof w->why, "step %zu jumps from " CELL_FMT " to " CELL_FMT, step,
                 CELL_ARGS(r, c), CELL_ARGS(nr, nc));
        return;
      }
      if (!open_cell(m, nr, nc)) {
        w->bad_step = step;
        snprintf(w->why, sizeof w->why, "step %zu hits a wall at " CELL_FMT, step,
                 CELL_ARGS(nr, nc));
        return;
      }
      r = nr, c = nc, len++;
    }
  } else {
    for (size_t i = 0; i < path->n; i++) {
      int d = path->moves[i];
      long nr = r + dir_dr[d], nc = c + dir_dc[d];
      size_t step = i + 1;
      if (nr < 0 || nr >= m->rows || nc < 0 || nc >= m->cols) {
        w->bad_step = step;
        snprintf(w->why, sizeof w->why, "step %zu (%s) leaves the grid at " CELL_FMT, step,
                 dir_names[d], CELL_ARGS(r, c));
        return;
      }
      if (!open_cell(m, nr, nc)) {
        w->bad_step = step;
        snprintf(w->why, sizeof w->why, "step %zu (%s) hits a wall at " CELL_FMT, step,
                 dir_names[d], CELL_ARGS(nr, nc));
        return;
      }
      r = nr, c = nc, len++;
    }
  }
  w->valid = 1;
  w->len = len;
  w->reached = r == m->gr && c == m->gc;
  if (!w->reached)
    snprintf(w->why, sizeof w->why, "valid %zu-move path ends at " CELL_FMT ", not the goal " CELL_FMT,
             len, CELL_ARGS(r, c), CELL_ARGS(m->gr, m->gc));
#undef CELL_FMT
#undef CELL_ARGS
}

/* ------------------------------------------------------------ the fn */

enum { MZ_SUCCESS, MZ_OPTIMAL, MZ_RATIO, MZ_WEIGHTED };
static const char *const mz_modes[] = {"success", "optimal", "ratio", "weighted", NULL};

typedef struct maze_cfg {
  rk__extract_cfg ex;
  int mode, xy;
  long base, max_cells, max_path;
  double w_valid, w_goal, w_opt;
  char *field;
} maze_cfg;

static void maze_free(void *v) {
  maze_cfg *cfg = v;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg->field);
  free(cfg);
}

static int maze_compile(rk__argctx *ac, void **out) {
  static const char *const coords[] = {"row_col", "xy", NULL};
  maze_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__geo_extract_compile(ac, &cfg->ex) ||
      rk__arg_enum(ac, "mode", mz_modes, MZ_SUCCESS, &cfg->mode) ||
      rk__arg_enum(ac, "coords", coords, 0, &cfg->xy) ||
      rk__arg_int(ac, "index_base", 0, 0, 1, &cfg->base) ||
      rk__arg_int(ac, "max_cells", 1L << 20, 1, 1L << 26, &cfg->max_cells) ||
      rk__arg_int(ac, "max_path", 100000, 1, 1L << 24, &cfg->max_path) ||
      rk__arg_num_range(ac, "w_valid", 0.25, 0, 1e6, &cfg->w_valid) ||
      rk__arg_num_range(ac, "w_goal", 0.25, 0, 1e6, &cfg->w_goal) ||
      rk__arg_num_range(ac, "w_optimal", 0.5, 0, 1e6, &cfg->w_opt) ||
      rk__arg_str(ac, "field", NULL, &cfg->field)) {
    maze_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

/* Start/goal from an object field: [row, col] (or [x, y] with coords xy),
 * in the index base of the spec. 1 set, 0 absent, -1 malformed. */
static int read_cell(const rk__jval *obj, const char *const *keys, int xy, long base, long *r,
                     long *c) {
  const rk__jval *v = NULL;
  for (int i = 0; keys[i] && !v; i++) v = rk__json_get(obj, keys[i]);
  if (!v) return 0;
  if (v->type != RK__JARR || v->u.arr.n != 2 || v->u.arr.items[0].type != RK__JNUM ||
      v->u.arr.items[1].type != RK__JNUM)
    return -1;
  double a = v->u.arr.items[0].u.num, b = v->u.arr.items[1].u.num;
  if (a != floor(a) || b != floor(b) || fabs(a) > 1e9 || fabs(b) > 1e9) return -1;
  *r = (long)(xy ? b : a) - base;
  *c = (long)(xy ? a : b) - base;
  return 1;
}

static rk_status maze_score(const void *v, rk__call *c, double *value) {
  const maze_cfg *cfg = v;
  *value = 0;
  const rk__jval *src = cfg->field ? rk__record_field(c->rec, cfg->field) : c->rec->reference;
  if (!src) {
    if (cfg->field) return rk__fail(c, "record has no field '%s' with the maze", cfg->field);
    rk__explain(c, "record has no reference maze");
    return RK_STATUS_INVALID_REFERENCE;
  }
  if (!rk__spend(c, src->raw.n + 1)) return RK_STATUS_TIMEOUT;
  /* A string holding JSON ("{\"grid\": ...}") is read as JSON. */
  int is_text = 0;
  const rk__jval *j = rk__geo_ref_json(src, c->arena, &is_text);
  const rk__jval *grid = j ? j : src;
  const rk__jval *obj = NULL;
  if (grid->type == RK__JOBJ) {
    obj = grid;
    grid = rk__json_get(obj, "grid");
    if (!grid) grid = rk__json_get(obj, "maze");
    if (!grid) grid = rk__json_get(obj, "map");
    if (!grid) {
      rk__explain(c, "maze object has no \"grid\", \"maze\" or \"map\"");
      return RK_STATUS_INVALID_REFERENCE;
    }
  }
  rk__maze m;
  char why[160];
  int pr = rk__maze_parse_json(grid, c->arena, (size_t)cfg->max_cells, &m, why, sizeof why);
  if (pr == -2) return rk__fail(c, "out of scratch memory for the maze");
  if (pr) {
    rk__explain(c, "maze: %s", why);
    return RK_STATUS_INVALID_REFERENCE;
  }
  if (obj) {
    static const char *const sk[] = {"start", "source", NULL};
    static const char *const gk[] = {"goal", "end", "target", "exit", NULL};
    if (read_cell(obj, sk, cfg->xy, cfg->base, &m.sr, &m.sc) < 0 ||
        read_cell(obj, gk, cfg->xy, cfg->base, &m.gr, &m.gc) < 0) {
      rk__explain(c, "maze: start/goal must be [%s] integer pairs", cfg->xy ? "x, y" : "row, col");
      return RK_STATUS_INVALID_REFERENCE;
    }
  }
  if (m.sr < 0 || m.gr < 0 || m.sr >= m.rows || m.gr >= m.rows || m.sc < 0 || m.gc < 0 ||
      m.sc >= m.cols || m.gc >= m.cols) {
    rk__explain(c, "maze: %s", m.sr < 0 ? "no start (S or \"start\")"
                               : m.gr < 0 ? "no goal (G/E or \"goal\")"
                                          : "start or goal outside the grid");
    return RK_STATUS_INVALID_REFERENCE;
  }
  /* Markers are open cells; a "start"/"goal" field may point at a wall. */
  if (m.cell[m.sr * m.cols + m.sc] == RK__MAZE_WALL || m.cell[m.gr * m.cols + m.gc] == RK__MAZE_WALL) {
    rk__explain(c, "maze: the %s is on a wall",
                m.cell[m.sr * m.cols + m.sc] == RK__MAZE_WALL ? "start" : "goal");
    return RK_STATUS_INVALID_REFERENCE;
  }
  uint64_t steps = 0;
  uint64_t room = c->budget->limit > c->budget->used ? c->budget->limit - c->budget->used : 0;
  long best = rk__maze_bfs(&m, c->arena, &steps, room);
  if (!rk__spend(c, steps)) return RK_STATUS_TIMEOUT;
  if (best == -2) return rk__fail(c, "out of scratch memory for BFS");
  if (best < 0) {
    rk__explain(c, "maze: goal unreachable from start");
    return RK_STATUS_INVALID_REFERENCE;
  }
  /* The answer. */
  if (!c->rec->has_response) return rk__fail(c, "record has no response text");
  rk__str ans;
  rk_status st = rk__extract(&cfg->ex, c, c->rec->response, &ans, NULL);
  if (st != RK_STATUS_OK) return st;
  if (!rk__spend(c, 2 * ans.n + 1)) return RK_STATUS_TIMEOUT;
  rk__maze_path path;
  if (rk__maze_parse_path(ans.p, ans.n, c->arena, (size_t)cfg->max_path, cfg->xy, cfg->base, &path))
    return rk__fail(c, "out of scratch memory for the path");
  if (path.n == 0 && !path.too_long && best > 0) {
    rk__explain(c, "no moves or coordinates in the answer");
    return RK_STATUS_UNPARSEABLE;
  }
  if (!rk__spend(c, path.n + 1)) return RK_STATUS_TIMEOUT;
  rk__maze_walk w;
  rk__maze_walk_path(&m, &path, cfg->xy, cfg->base, &w);
  double ratio = w.reached ? (w.len ? (double)best / (double)w.len : 1.0) : 0.0;
  switch (cfg->mode) {
    case MZ_SUCCESS: *value = w.reached; break;
    case MZ_OPTIMAL: *value = w.reached && (long)w.len == best; break;
    case MZ_RATIO: *value = ratio; break;
    default: *value = cfg->w_valid * w.valid + cfg->w_goal * w.reached + cfg->w_opt * ratio; break;
  }
  if (rk__explaining(c)) {
    char a[32], b[32];
    rk__fmt_double(a, ratio);
    rk__fmt_double(b, *value);
    const char *kind = path.is_coords ? "cells" : "moves";
    if (!w.valid)
      rk__explain(c, "%ldx%ld maze, %zu %s: %s; shortest %ld; %s %s", m.rows, m.cols, path.n, kind,
                  w.why, best, mz_modes[cfg->mode], b);
    else if (!w.reached)
      rk__explain(c, "%ldx%ld maze: %s; shortest %ld; %s %s", m.rows, m.cols, w.why, best,
                  mz_modes[cfg->mode], b);
    else
      rk__explain(c, "%ldx%ld maze: valid, reaches the goal in %zu moves, shortest %ld, "
                     "optimality %s; %s %s",
                  m.rows, m.cols, w.len, best, a, mz_modes[cfg->mode], b);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_maze = {
    .name = "maze",
    .summary = "maze path check: valid moves, reaches the goal, BFS optimality ratio",
    .compile = maze_compile,
    .score = maze_score,
    .free = maze_free,
};
