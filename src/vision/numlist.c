/*
 * numlist.c - the geometry family's number scanner: every number in a
 * text, and the innermost bracket groups made of numbers only, which is
 * how points "(x, y)", "[x, y]", JSON {"point_2d": [x, y]}, 3D boxes
 * "[x1,y1,z1,x2,y2,z2]", action vectors and coordinate paths appear in
 * model output. One pass, no backtracking, bounded output.
 *
 * Not for: 2D box parsing with coordinate conventions (vision/boxes.c) or
 * general JSON (json/json.h; rk__geo_ref_json below wraps it for
 * references).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/geometry.h"

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alpha(unsigned char c) {
  return ((c | 32) >= 'a' && (c | 32) <= 'z') || c == '_';
}
static int is_sep(unsigned char c) {
  return c == ',' || c == ';' || c == ' ' || (c >= '\t' && c <= '\r');
}

/* Length of the number token at p[i] (0 when none). A sign counts only
 * when the previous byte is not a digit, letter, '.' or ')' / ']' (so
 * "3-4" is two numbers, not 3 and -4). */
static size_t num_len(const char *p, size_t n, size_t i) {
  size_t k = i;
  unsigned char c = (unsigned char)p[k];
  if (c == '-' || c == '+') {
    if (i > 0) {
      unsigned char b = (unsigned char)p[i - 1];
      if (is_digit(b) || is_alpha(b) || b == '.' || b == ')' || b == ']') return 0;
    }
    k++;
  }
  size_t d0 = k;
  while (k < n && is_digit((unsigned char)p[k])) k++;
  size_t nd = k - d0;
  if (k < n && p[k] == '.') {
    size_t f0 = k + 1, f = f0;
    while (f < n && is_digit((unsigned char)p[f])) f++;
    if (nd > 0 || f > f0) {
      nd += f - f0;
      k = f;
    }
  }
  if (nd == 0) return 0;
  if (k < n && (p[k] == 'e' || p[k] == 'E')) {
    size_t e = k + 1;
    if (e < n && (p[e] == '-' || p[e] == '+')) e++;
    size_t e0 = e;
    while (e < n && is_digit((unsigned char)p[e])) e++;
    if (e > e0) k = e;
  }
  return k - i;
}

typedef struct grow {
  double *v;
  size_t n, cap;
} grow;

static int push(grow *g, double x, rk__arena *a) {
  if (g->n == g->cap) {
    size_t nc = g->cap ? g->cap * 2 : 32;
    double *nv = rk__arena_alloc(a, nc * sizeof *nv);
    if (!nv) return -1;
    if (g->n) memcpy(nv, g->v, g->n * sizeof *nv);
    g->v = nv;
    g->cap = nc;
  }
  g->v[g->n++] = x;
  return 0;
}

int rk__nl_scan(const char *p, size_t n, rk__arena *a, size_t max_nums,
                rk__nl *out) {
  memset(out, 0, sizeof *out);
  if (max_nums == 0) max_nums = RK__NL_MAX_NUMS;
  grow flat = {0}, nums = {0};
  rk__nl_tuple *tup = NULL;
  size_t ntup = 0, tcap = 0;
  int open = 0, ok = 0;
  size_t start_num = 0, open_pos = 0;
  char buf[400];
  /* A group that meets anything but numbers and separators is dropped. */
#define BAD()                   \
  do {                          \
    if (open) nums.n = start_num; \
    ok = 0;                     \
  } while (0)
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)p[i];
    if (c == '(' || c == '[') {
      if (open) nums.n = start_num; /* only innermost groups count */
      open = 1, ok = 1, start_num = nums.n, open_pos = i;
      i++;
      continue;
    }
    if (c == ')' || c == ']') {
      if (open && ok && nums.n > start_num) {
        if (ntup == tcap) {
          size_t nc = tcap ? tcap * 2 : 16;
          rk__nl_tuple *nt = rk__arena_alloc(a, nc * sizeof *nt);
          if (!nt) return -1;
          if (ntup) memcpy(nt, tup, ntup * sizeof *nt);
          tup = nt;
          tcap = nc;
        }
        tup[ntup].off = start_num;
        tup[ntup].len = nums.n - start_num;
        tup[ntup].pos = open_pos;
        ntup++;
      } else if (open) {
        nums.n = start_num;
      }
      open = 0;
      i++;
      continue;
    }
    if (is_alpha(c)) {
      /* A word, digits included ("x1", "point_2d"): never a number. */
      while (i < n && (is_alpha((unsigned char)p[i]) || is_digit((unsigned char)p[i]))) i++;
      BAD();
      continue;
    }
    size_t k = (is_digit(c) || c == '-' || c == '+' || c == '.') ? num_len(p, n, i) : 0;
    if (k) {
      if (i + k < n && is_alpha((unsigned char)p[i + k])) {
        /* "3rd", "2d": a word that starts with digits. */
        i += k;
        while (i < n && (is_alpha((unsigned char)p[i]) || is_digit((unsigned char)p[i]))) i++;
        BAD();
        continue;
      }
      double v = NAN;
      if (k < sizeof buf) {
        memcpy(buf, p + i, k);
        buf[k] = '\0';
        v = strtod(buf, NULL);
      }
      i += k;
      if (!isfinite(v)) {
        BAD();
        continue;
      }
      if (flat.n >= max_nums) {
        out->truncated = 1;
        break;
      }
      if (push(&flat, v, a)) return -1;
      if (open && ok && push(&nums, v, a)) return -1;
      continue;
    }
    if (!is_sep(c)) BAD();
    i++;
  }
#undef BAD
  if (open) nums.n = start_num;
  out->flat = flat.v;
  out->nflat = flat.n;
  out->nums = nums.v;
  out->nnums = nums.n;
  out->tup = tup;
  out->ntup = ntup;
  return 0;
}

const rk__jval *rk__geo_ref_json(const rk__jval *ref, rk__arena *a,
                                 int *is_text) {
  if (is_text) *is_text = 0;
  if (!ref) return NULL;
  if (ref->type != RK__JSTR) return ref;
  if (is_text) *is_text = 1;
  const char *p = ref->u.str.p;
  size_t n = ref->u.str.n;
  while (n && is_sep((unsigned char)*p)) p++, n--;
  if (!n || (*p != '[' && *p != '{')) return NULL;
  rk__jval *v = NULL;
  rk__json_limits lim = {64, 0};
  if (rk__json_parse(p, n, a, &lim, &v, NULL) != 0) return NULL;
  if (is_text) *is_text = 0;
  return v;
}

/* ------------------------------------------------ answers, references */

#include "text/extract.h"

int rk__geo_extract_compile(rk__argctx *ac, rk__extract_cfg *cfg) {
  int given = rk__arg_raw(ac, "extract") != NULL;
  if (rk__extract_cfg_compile(ac, RK__EX_ANSWER_TAG, cfg)) return -1;
  if (!given) {
    cfg->modes[0] = RK__EX_ANSWER_TAG;
    cfg->modes[1] = RK__EX_NONE;
    cfg->nmodes = 2;
  }
  return 0;
}

rk_status rk__geo_answer(const rk__extract_cfg *cfg, rk__call *c, rk__str *ans,
                         rk__nl *nl) {
  memset(nl, 0, sizeof *nl);
  if (!c->rec->has_response) return rk__fail(c, "record has no response text");
  rk_status st = rk__extract(cfg, c, c->rec->response, ans, NULL);
  if (st != RK_STATUS_OK) return st;
  if (!rk__spend(c, ans->n + 1)) return RK_STATUS_TIMEOUT;
  if (rk__nl_scan(ans->p, ans->n, c->arena, 0, nl))
    return rk__fail(c, "out of scratch memory scanning the answer");
  return RK_STATUS_OK;
}

rk_status rk__geo_ref_scan(rk__call *c, const rk__jval *ref, rk__nl *nl) {
  memset(nl, 0, sizeof *nl);
  if (!ref) return RK_STATUS_OK;
  rk__str s = ref->type == RK__JSTR ? ref->u.str : ref->raw;
  if (!rk__spend(c, s.n + 1)) return RK_STATUS_TIMEOUT;
  if (rk__nl_scan(s.p, s.n, c->arena, 0, nl))
    return rk__fail(c, "out of scratch memory scanning the reference");
  return RK_STATUS_OK;
}
