/*
 * math.c - the `math` reward: extracts the final answer of a response
 * (text/extract.h cascade plus the several-boxes rule of the data README),
 * parses it and the reference with the math parser, and scores 1 when they
 * are equivalent under the rules of docs/rewards/math.md, else 0.
 *
 * Statuses: unparseable when the response has no answer or it does not
 * parse; invalid_reference when no reference parses; timeout when a cap or
 * the step budget stops the decision. Several references: any match wins.
 *
 * Not for: parsing or evaluation (parse.c, eval.c).
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "math/mexpr.h"
#include "text/extract.h"
#include "text/normalize.h"

typedef struct math_cfg {
  rk__extract_cfg ex;
  rk__math_opts o;
  int several_boxes;
} math_cfg;

static void math_free(void *p) {
  math_cfg *m = p;
  if (!m) return;
  rk__extract_cfg_free(&m->ex);
  free(m);
}

static int math_compile(rk__argctx *ac, void **out) {
  math_cfg *m = calloc(1, sizeof *m);
  if (!m) return rk__arg_error(ac, NULL, "out of memory");
  long fr = -1;
  double tol = 0;
  if (rk__extract_cfg_compile(ac, RK__EX_AUTO, &m->ex) ||
      rk__arg_num_range(ac, "tolerance", 0, 0, 1, &tol) ||
      rk__arg_bool(ac, "strict", 0, &m->o.strict) ||
      rk__arg_int(ac, "float_rounding", -1, -1, 30, &fr) ||
      rk__arg_bool(ac, "allow_set_relation", 0, &m->o.allow_set_relation) ||
      rk__arg_bool(ac, "several_boxes", 1, &m->several_boxes)) {
    math_free(m);
    return -1;
  }
  m->o.tolerance = tol;
  m->o.float_rounding = (int)fr;
  *out = m;
  return 0;
}

/* ---------------------------------------------------- several boxes */

typedef struct box {
  size_t start, end; /* "\boxed" .. closing brace (exclusive) */
  rk__str in;        /* trimmed content */
} box;

#define MAX_BOXES 64

static int ws(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }
static int alpha(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static int alnum(char ch) { return alpha(ch) || (ch >= '0' && ch <= '9'); }

/* Every balanced \boxed{...} / \fbox{...}; the last MAX_BOXES are kept. */
static size_t find_boxes(rk__call *c, rk__str s, box *out, size_t *nout) {
  size_t n = 0;
  const char *p = s.p, *e = s.p + s.n;
  while (p < e) {
    const char *q = memchr(p, '\\', (size_t)(e - p));
    if (!q) break;
    size_t kw = 0;
    if (e - q >= 6 && memcmp(q + 1, "boxed", 5) == 0) kw = 6;
    else if (e - q >= 5 && memcmp(q + 1, "fbox", 4) == 0) kw = 5;
    if (!kw || (q + kw < e && alpha(q[kw]))) {
      p = q + 1;
      continue;
    }
    const char *b = q + kw;
    while (b < e && ws(*b)) b++;
    if (b >= e || *b != '{') {
      p = q + kw;
      continue;
    }
    int depth = 0;
    const char *z = b;
    for (; z < e; z++) {
      if (*z == '\\') {
        z++;
        continue;
      }
      if (*z == '{') depth++;
      else if (*z == '}' && --depth == 0) break;
    }
    if (z >= e) break;
    box bx;
    bx.start = (size_t)(q - s.p);
    bx.end = (size_t)(z + 1 - s.p);
    bx.in = rk__text_trim(rk__str_make(b + 1, (size_t)(z - b - 1)));
    if (n == MAX_BOXES) {
      memmove(out, out + 1, sizeof(box) * (MAX_BOXES - 1));
      n--;
    }
    out[n++] = bx;
    p = z + 1;
  }
  *nout = n;
  return (size_t)(p - s.p);
}

/* Glue between two boxes that keeps them one answer (data README rule 2):
 * whitespace, $, ',', ';', "and", "or", \text{ and }, spacing commands and
 * a variable prefix such as "x =". */
static int is_glue(const char *p, const char *e) {
  while (p < e) {
    if (ws(*p) || *p == '$' || *p == ',' || *p == ';') {
      p++;
      continue;
    }
    if (e - p >= 3 && (p[0] == 'a' || p[0] == 'A') && p[1] == 'n' && p[2] == 'd' &&
        (e - p == 3 || !alpha(p[3]))) {
      p += 3;
      continue;
    }
    if (e - p >= 2 && (p[0] == 'o' || p[0] == 'O') && p[1] == 'r' && (e - p == 2 || !alpha(p[2]))) {
      p += 2;
      continue;
    }
    if (*p == '\\') {
      const char *q = p + 1;
      if (q < e && (*q == ',' || *q == ';' || *q == ' ' || *q == '(' || *q == ')' || *q == '[' ||
                    *q == ']' || *q == '!' || *q == ':')) {
        p = q + 1;
        continue;
      }
      const char *r = q;
      while (r < e && alpha(*r)) r++;
      size_t nl = (size_t)(r - q);
      if ((nl == 4 && memcmp(q, "quad", 4) == 0) || (nl == 5 && memcmp(q, "qquad", 5) == 0)) {
        p = r;
        continue;
      }
      if ((nl == 4 && memcmp(q, "text", 4) == 0) || (nl == 4 && memcmp(q, "mbox", 4) == 0) ||
          (nl == 6 && memcmp(q, "mathrm", 6) == 0)) {
        if (r < e && *r == '{') {
          const char *z = memchr(r, '}', (size_t)(e - r));
          if (!z || !is_glue(r + 1, z)) return 0;
          p = z + 1;
          continue;
        }
      }
      /* \alpha = */
      if (nl > 0) {
        const char *t = r;
        while (t < e && ws(*t)) t++;
        if (t < e && *t == '=') {
          p = t + 1;
          continue;
        }
      }
      return 0;
    }
    if (alpha(*p)) {
      /* variable prefix: x =, x_1 =, x_{12} = */
      const char *t = p + 1;
      if (t < e && *t == '_') {
        t++;
        if (t < e && *t == '{') {
          while (t < e && *t != '}') t++;
          if (t < e) t++;
        } else if (t < e && alnum(*t)) {
          t++;
        }
      }
      while (t < e && ws(*t)) t++;
      if (t < e && *t == '=' && !(p + 1 < e && alpha(p[1]))) {
        p = t + 1;
        continue;
      }
      return 0;
    }
    return 0;
  }
  return 1;
}

/* ------------------------------------------------------ option letters */

static const char *skip_wrapper(const char *p, const char *e, int *wrapped) {
  static const char *const w[] = {"\\textbf{", "\\text{", "\\mathrm{", "\\mathbf{", "\\textrm{", NULL};
  for (int i = 0; w[i]; i++) {
    size_t l = strlen(w[i]);
    if ((size_t)(e - p) >= l && memcmp(p, w[i], l) == 0) {
      *wrapped = 1;
      return p + l;
    }
  }
  return p;
}

/* An option letter A-Z: "B", "(B)", "\text{(B)}", "\textbf{(B)}\ 24" (a
 * value after a bracketed or bold letter is allowed when allow_value). */
static int option_letter(rk__str s, int allow_value) {
  const char *p = s.p, *e = s.p + s.n;
  int wrapped = 0, paren = 0;
  while (p < e && ws(*p)) p++;
  p = skip_wrapper(p, e, &wrapped);
  while (p < e && ws(*p)) p++;
  if (p < e && *p == '(') paren = 1, p++;
  while (p < e && ws(*p)) p++;
  if (p >= e || !(*p >= 'A' && *p <= 'Z')) return 0;
  int letter = *p++;
  if (p < e && alpha(*p)) return 0;
  while (p < e && ws(*p)) p++;
  if (paren) {
    if (p >= e || *p != ')') return 0;
    p++;
  } else if (p < e && *p == ')') {
    paren = 1; /* "B)" */
    p++;
  }
  while (p < e && ws(*p)) p++;
  if (wrapped) {
    if (p >= e || *p != '}') return 0;
    p++;
  }
  while (p < e && (ws(*p) || *p == '.' || *p == ':')) p++;
  if (p == e) return letter;
  if (!allow_value || !(paren || wrapped)) return 0;
  /* The value after may not name another option: "(A) (B)", "(A) or C". */
  for (const char *q = p; q < e; q++)
    if (*q >= 'A' && *q <= 'Z' && !(q > p && alpha(q[-1])) && !(q + 1 < e && alpha(q[1])) &&
        !(q > p && q[-1] == '\\'))
      return 0;
  /* "(B) 24", "\textbf{(B)}\ 24" */
  if (*p == '\\' && p + 1 < e && (p[1] == ' ' || p[1] == ',' || p[1] == ';' || p[1] == 'q')) return letter;
  if (p > s.p && ws(p[-1])) return letter;
  return 0;
}

/* ------------------------------------------------------- canonical text */

/* Strips spacing, $, \left/\right and \text-like wrappers (with their own
 * braces only); \dfrac and \tfrac become \frac. Equal canonical texts are
 * equal answers. Lower-cased when the result is letters only (words). */
static void canon(rk__buf *b, rk__str s, int depth) {
  static const char *const wraps[] = {"text", "textbf", "textit", "mathrm", "mathbf", "mbox", "textrm", NULL};
  static const char *const drops[] = {"left", "right", "displaystyle", "quad", "qquad", "!", ",", ";", ":", " ", NULL};
  const char *p = s.p, *e = s.p + s.n;
  while (p < e) {
    if (ws(*p) || *p == '$') {
      p++;
      continue;
    }
    if (*p == '\\' && p + 1 < e) {
      const char *q = p + 1, *r = q;
      if (alpha(*q))
        while (r < e && alpha(*r)) r++;
      else
        r = q + 1;
      size_t nl = (size_t)(r - q);
      int hit = 0;
      for (int i = 0; drops[i] && !hit; i++)
        if (strlen(drops[i]) == nl && memcmp(drops[i], q, nl) == 0) hit = 1;
      if (hit) {
        p = r;
        continue;
      }
      for (int i = 0; wraps[i] && !hit; i++)
        if (strlen(wraps[i]) == nl && memcmp(wraps[i], q, nl) == 0) hit = 1;
      if (hit && r < e && *r == '{' && depth < 20) {
        int d = 0;
        const char *z = r;
        for (; z < e; z++) {
          if (*z == '\\') {
            z++;
            continue;
          }
          if (*z == '{') d++;
          else if (*z == '}' && --d == 0) break;
        }
        if (z >= e) {
          rk__buf_put(b, p, (size_t)(e - p));
          return;
        }
        canon(b, rk__str_make(r + 1, (size_t)(z - r - 1)), depth + 1);
        p = z + 1;
        continue;
      }
      if ((nl == 5 && (memcmp(q, "dfrac", 5) == 0 || memcmp(q, "tfrac", 5) == 0))) {
        rk__buf_puts(b, "\\frac");
        p = r;
        continue;
      }
      rk__buf_put(b, p, (size_t)(r - p));
      p = r;
      continue;
    }
    rk__buf_putc(b, *p++);
  }
}

static int canon_equal(rk__str a, rk__str b) {
  rk__buf x, y;
  rk__buf_init(&x, 4096);
  rk__buf_init(&y, 4096);
  canon(&x, a, 0);
  canon(&y, b, 0);
  int eq = 0;
  if (!x.oom && !y.oom && x.n == y.n && x.n > 0) {
    int letters = 1;
    for (size_t i = 0; i < x.n; i++)
      if (!alpha(x.p[i]) || !alpha(y.p[i])) letters = 0;
    if (letters && x.n >= 2) {
      eq = 1;
      for (size_t i = 0; i < x.n && eq; i++)
        eq = (x.p[i] | 0x20) == (y.p[i] | 0x20);
    } else {
      eq = memcmp(x.p, y.p, x.n) == 0;
    }
  }
  rk__buf_release(&x);
  rk__buf_release(&y);
  return eq;
}

/* Both plain integers (optional sign, digits): compared as digit strings,
 * whatever their length. Returns 1/0, or -1 when not both plain. */
static int plain_int_eq(rk__str a, rk__str b) {
  rk__str s[2] = {a, b};
  int neg[2];
  for (int k = 0; k < 2; k++) {
    const char *p = s[k].p, *e = s[k].p + s[k].n;
    neg[k] = 0;
    if (p < e && (*p == '-' || *p == '+')) neg[k] = *p == '-', p++;
    if (p == e) return -1;
    for (const char *q = p; q < e; q++)
      if (*q < '0' || *q > '9') return -1;
    while (p + 1 < e && *p == '0') p++;
    s[k] = rk__str_make(p, (size_t)(e - p));
    if (s[k].n == 1 && s[k].p[0] == '0') neg[k] = 0;
  }
  return neg[0] == neg[1] && rk__str_eq(s[0], s[1]);
}

/* An answer found by a text mode ("The answer is $12$ apples") that holds
 * inline math: the first $...$ (or $$...$$) segment, as Math-Verify reads
 * the math environment after its anchors. Otherwise the answer itself. */
static rk__str math_segment(rk__str s) {
  const char *a = memchr(s.p, '$', s.n);
  if (!a) return s;
  const char *e = s.p + s.n;
  size_t dl = (a + 1 < e && a[1] == '$') ? 2 : 1;
  const char *b = a + dl;
  for (const char *q = b; q < e; q++) {
    if (*q == '\\') {
      q++;
      continue;
    }
    if (*q == '$') {
      rk__str in = rk__text_trim(rk__str_make(b, (size_t)(q - b)));
      return in.n ? in : s;
    }
  }
  return s;
}

/* --------------------------------------------------------------- score */

static void explain_node(rk__call *c, const char *who, rk__str src, const mnode *n) {
  if (!rk__explaining(c)) return;
  rk__buf b;
  rk__buf_init(&b, 1024);
  rk__math_print(n, &b);
  const char *ell;
  int k = rk__text_clip(src, 60, &ell);
  rk__explain(c, "%s '%.*s%s' parsed as %s%s", who, k, src.p, ell, rk__buf_cstr(&b),
              b.n > 400 ? "..." : "");
  rk__buf_release(&b);
}

/* Parses the pred: one answer, or the group of boxes joined as a list. */
static int parse_pred(rk__call *c, const box *bx, size_t nb, rk__str one, mnode **out, char *err,
                      size_t cap) {
  if (nb <= 1) return rk__math_parse(one, c, out, err, cap);
  mnode *lst = rk__arena_alloc(c->arena, sizeof *lst + sizeof(mnode *) * (MAX_BOXES * 4));
  if (!lst) return MP_OOM;
  memset(lst, 0, sizeof *lst);
  lst->k = MN_LIST;
  lst->kid = (mnode **)(lst + 1);
  for (size_t i = 0; i < nb; i++) {
    mnode *m;
    rk__str in = rk__text_clean(bx[i].in);
    if (!in.n) {
      snprintf(err, cap, "box %zu of %zu is empty", i + 1, nb);
      return MP_SYNTAX;
    }
    int rc = rk__math_parse(in, c, &m, err, cap);
    if (rc) return rc;
    if (m->k == MN_LIST) {
      for (int j = 0; j < m->nk && lst->nk < MAX_BOXES * 4; j++) lst->kid[lst->nk++] = m->kid[j];
    } else if (lst->nk < MAX_BOXES * 4) {
      lst->kid[lst->nk++] = m;
    }
  }
  *out = lst;
  return MP_OK;
}

static rk_status math_score_inner(const void *cfgp, rk__call *c, double *value) {
  const math_cfg *cfg = cfgp;
  *value = 0;
  rk__str refs[RK__MAX_REFS];
  int had_any = 0;
  size_t nref = rk__text_refs(c, refs, RK__MAX_REFS, &had_any);
  if (nref == 0) {
    rk__explain(c, had_any ? "reference is empty" : "no reference");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__str resp = c->rec->response, ans;
  const char *how = NULL;
  rk_status st = rk__extract(&cfg->ex, c, resp, &ans, &how);
  if (st != RK_STATUS_OK) return st;
  box boxes[MAX_BOXES];
  size_t nb = 0, first = 0;
  if (how && strcmp(how, "boxed") == 0 && cfg->several_boxes) {
    size_t scanned = find_boxes(c, resp, boxes, &nb);
    if (!rk__spend(c, scanned + 1)) return RK_STATUS_TIMEOUT;
    if (nb > 0 && resp.p + boxes[nb - 1].end > ans.p) {
      first = nb - 1;
      while (first > 0 && is_glue(resp.p + boxes[first - 1].end, resp.p + boxes[first].start)) first--;
      if (!rk__spend(c, boxes[nb - 1].start - boxes[first].start + 1)) return RK_STATUS_TIMEOUT;
    } else {
      nb = 0;
    }
  }
  size_t ngroup = nb ? nb - first : 0;
  const box *group = boxes + first;
  if (ngroup > 1) rk__explain(c, "%zu boxes joined as one multi-valued answer", ngroup);
  ans = rk__text_clean(ans);
  if (how && strcmp(how, "boxed") != 0) {
    rk__str seg = math_segment(ans);
    if (seg.n != ans.n) {
      const char *ell;
      int k = rk__text_clip(seg, 60, &ell);
      rk__explain(c, "reading its math segment '%.*s%s'", k, seg.p, ell);
    }
    ans = seg;
  }
  if (!ans.n) {
    rk__explain(c, "the extracted answer is empty");
    return RK_STATUS_UNPARSEABLE;
  }

  mnode *pred = NULL;
  int pred_rc = 1; /* not parsed yet */
  char perr[160], gerr[160];
  int any_gold = 0, limit = 0;
  for (size_t r = 0; r < nref; r++) {
    rk__str gold = rk__text_clean(refs[r]);
    if (!gold.n) continue;
    if (gold.n > 6 && memmem(gold.p, gold.n, "boxed", 5)) {
      /* A reference stored as a whole solution ("... so \boxed{5}."): its
       * last box, as for a response. */
      box gb[MAX_BOXES];
      size_t ng = 0;
      if (!rk__spend(c, find_boxes(c, gold, gb, &ng) + 1)) return RK_STATUS_TIMEOUT;
      if (ng > 0 && !(gb[ng - 1].start == 0 && gb[ng - 1].end == gold.n)) {
        rk__explain(c, "reference holds a solution; its last box is the gold");
        gold = rk__text_clean(gb[ng - 1].in);
        if (!gold.n) continue;
      }
    }
    const char *ell;
    int gk = rk__text_clip(gold, 60, &ell);
    /* Option letters (data README rule 15). */
    int gl = option_letter(gold, 1);
    if (gl) {
      any_gold = 1;
      int pl = ngroup > 1 ? 0 : option_letter(ans, 1);
      if (pl == gl) {
        rk__explain(c, "option letter %c matches gold '%.*s%s'", pl, gk, gold.p, ell);
        *value = 1;
        return RK_STATUS_OK;
      }
      if (pl) rk__explain(c, "option %c, gold option %c", pl, gl);
      else rk__explain(c, "gold is option %c; pred is not a single option letter", gl);
      continue;
    }
    if (ngroup <= 1) {
      int pi = plain_int_eq(gold, ans);
      if (pi >= 0) {
        any_gold = 1;
        rk__explain(c, "integers %s", pi ? "equal" : "differ");
        if (pi) {
          *value = 1;
          return RK_STATUS_OK;
        }
        continue;
      }
      if (canon_equal(gold, ans)) {
        any_gold = 1;
        rk__explain(c, "same text as gold '%.*s%s' (ignoring spacing and \\text wrappers)", gk, gold.p, ell);
        *value = 1;
        return RK_STATUS_OK;
      }
    }
    mnode *g;
    int grc = rk__math_parse(gold, c, &g, gerr, sizeof gerr);
    if (grc == MP_LIMIT) {
      rk__explain(c, "gold '%.*s%s': %s", gk, gold.p, ell, gerr);
      limit = 1;
      continue;
    }
    if (grc) {
      rk__explain(c, "gold '%.*s%s' does not parse: %s", gk, gold.p, ell, grc == MP_OOM ? "out of memory" : gerr);
      continue;
    }
    any_gold = 1;
    if (pred_rc == 1) {
      pred_rc = parse_pred(c, group, ngroup > 1 ? ngroup : 0, ans, &pred, perr, sizeof perr);
      if (pred_rc == MP_LIMIT) {
        rk__explain(c, "pred: %s", perr);
        return RK_STATUS_TIMEOUT;
      }
      if (pred_rc) {
        int pk = rk__text_clip(ans, 60, &ell);
        rk__explain(c, "pred '%.*s%s' does not parse: %s", pk, ans.p, ell,
                    pred_rc == MP_OOM ? "out of memory" : perr);
        return RK_STATUS_UNPARSEABLE;
      }
      if (ngroup > 1) {
        rk__str all = rk__str_make(resp.p + group[0].start, group[ngroup - 1].end - group[0].start);
        explain_node(c, "pred boxes", all, pred);
      } else {
        explain_node(c, "pred", ans, pred);
      }
    }
    explain_node(c, "gold", gold, g);
    const char *rule = "";
    int v = rk__math_equiv(g, pred, &cfg->o, c, &rule);
    rk__explain(c, "%s", rule);
    if (v == MV_YES) {
      *value = 1;
      return RK_STATUS_OK;
    }
    if (v == MV_LIMIT) limit = 1;
  }
  if (!any_gold) return limit ? RK_STATUS_TIMEOUT : RK_STATUS_INVALID_REFERENCE;
  if (limit) return RK_STATUS_TIMEOUT;
  return RK_STATUS_OK;
}

/* Runs the scoring under a sub-budget of RK__MATH_MAX_STEPS, so that one
 * hostile item ends in milliseconds even under a generous record budget. */
static rk_status math_score(const void *cfgp, rk__call *c, double *value) {
  rk__budget *outer = c->budget;
  rk__budget local = *outer;
  if (local.limit - local.used > RK__MATH_MAX_STEPS && local.used <= local.limit)
    local.limit = local.used + RK__MATH_MAX_STEPS;
  c->budget = &local;
  rk_status st = math_score_inner(cfgp, c, value);
  c->budget = outer;
  outer->used = local.used;
  if (st == RK_STATUS_TIMEOUT && local.used > local.limit && local.limit < outer->limit)
    rk__explain(c, "math work cap of %d steps reached", RK__MATH_MAX_STEPS);
  return st;
}

const rk__fn rk__fn_math = {
    "math",
    "math answer equivalence: exact rationals (GMP), MPFR for irrationals, sets, intervals, "
    "equations, matrices",
    math_compile, math_score, math_free, 0};
