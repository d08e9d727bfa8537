/*
 * parse.c - the hand-written lexer and recursive-descent parser for math
 * answers written in LaTeX or plain text, into an arena AST (mexpr.h).
 *
 * Every token must be consumed: a parse that would drop tokens is a syntax
 * error, never a shorter expression (Math-Verify issue #60 turned
 * `3x+4y+14=0` into `0`). Only three things are dropped on purpose and by
 * name: spacing commands, a trailing unit (data README rule 9) and a
 * leading `\$`. Depth, token count and digits per literal are capped.
 *
 * Not for: evaluation or comparison (eval.c).
 */
#include <stdio.h>
#include <string.h>

#include "math/mexpr.h"

/* ------------------------------------------------------------- tokens */

typedef enum {
  TK_EOF, TK_NUM, TK_LET, TK_CMD, TK_CH, TK_LE, TK_GE, TK_NE, TK_PCT,
  TK_TEXT, TK_LSET, TK_RSET, TK_PM, TK_MP, TK_TIMES, TK_DIV, TK_DOLLAR,
  TK_BEGIN, TK_END, TK_ROWSEP, TK_DEG
} tkind;

typedef struct tok {
  tkind t;
  rk__str s;      /* source span; CMD: name without '\'; TEXT/BEGIN/END: content */
  const char *d;  /* NUM: cleaned digits */
  size_t nd;
  int frac, dec, plain; /* NUM: digits after point, had a point, digits only */
  rk__str rep;    /* NUM: repeating digits (0.1\overline{6}) */
  long exp10;
  int run;        /* LET: letters in the run from this one on */
  size_t off;     /* byte offset for messages */
} tok;

typedef struct lexer {
  rk__call *c;
  rk__arena *a;
  tok *t;
  int n, cap;
  int depth;      /* \text recursion */
  int rc;
  char *err;
  size_t errcap;
  const char *base;
} lexer;

static void lerr(lexer *L, int rc, size_t off, const char *msg) {
  if (L->rc) return;
  L->rc = rc;
  snprintf(L->err, L->errcap, "%s at byte %zu", msg, off);
}

static tok *push(lexer *L, tkind k, const char *p, size_t n) {
  if (L->rc) return NULL;
  if (L->n >= L->cap) {
    if (L->cap >= RK__MATH_MAX_TOKENS) {
      lerr(L, MP_LIMIT, (size_t)(p - L->base), "more than 20000 tokens");
      return NULL;
    }
    int nc = L->cap ? L->cap * 2 : 64;
    if (nc > RK__MATH_MAX_TOKENS) nc = RK__MATH_MAX_TOKENS;
    tok *nt = rk__arena_alloc(L->a, sizeof(tok) * (size_t)nc);
    if (!nt) {
      lerr(L, MP_OOM, 0, "out of memory");
      return NULL;
    }
    if (L->n) memcpy(nt, L->t, sizeof(tok) * (size_t)L->n);
    L->t = nt;
    L->cap = nc;
  }
  tok *t = &L->t[L->n++];
  memset(t, 0, sizeof *t);
  t->t = k;
  t->s = rk__str_make(p, n);
  t->off = (size_t)(p - L->base);
  return t;
}

static int isdig(int ch) { return ch >= '0' && ch <= '9'; }
static int islet(int ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static int isws(int ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }

static inline int span_is(rk__str s, const char *z) {
  size_t n = __builtin_strlen(z);
  return s.n == n && memcmp(s.p, z, n) == 0;
}

static int in_list(rk__str s, const char *const *list) {
  if (!s.n) return 0;
  for (; *list; list++)
    if ((*list)[0] == s.p[0] && span_is(s, *list)) return 1;
  return 0;
}

/* Commands that are pure spacing or sizing: skipped. */
static const char *const skip_cmds[] = {
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
    "biggl", "biggr", "Biggl", "Biggr", "displaystyle", "textstyle", "scriptstyle",
    "quad", "qquad", "limits", "nolimits", "mathstrut", "strut", "middle", NULL};
/* Wrappers whose argument is read as math (or as a word when it is one). */
static const char *const wrap_cmds[] = {
    "text", "textbf", "textit", "textrm", "textsf", "texttt", "textnormal", "mathrm",
    "mathbf", "mathit", "mathsf", "mathtt", "mbox", "operatorname", "boldsymbol", "bm",
    "mathnormal", "boxed", "fbox", "hbox", "emph", NULL};

/* Length of the digit-group separator at p (",", "{,}", "\,", "\ ", " "),
 * 0 if none; *kind identifies it. */
static size_t sep_at(const char *p, const char *e, int *kind) {
  if (p < e && *p == ',') return *kind = 1, 1;
  if (e - p >= 3 && memcmp(p, "{,}", 3) == 0) return *kind = 2, 3;
  if (e - p >= 2 && p[0] == '\\' && (p[1] == ',' || p[1] == ' ' || p[1] == ';')) return *kind = 3, 2;
  if (p < e && *p == ' ') return *kind = 4, 1;
  return 0;
}

static size_t digits_at(const char *p, const char *e) {
  const char *q = p;
  while (q < e && isdig((unsigned char)*q)) q++;
  return (size_t)(q - p);
}

static void lex_span(lexer *L, const char *p, const char *e);

/* A number: digits with optional thousands groups (data README rule 7:
 * separators only when every later group has exactly three digits),
 * optional fraction, optional e-exponent. */
static const char *lex_number(lexer *L, const char *p, const char *e) {
  const char *start = p;
  size_t n0 = digits_at(p, e);
  /* Collect group separators, all of one kind, each followed by exactly
   * three digits and then no digit. */
  const char *q = p + n0;
  size_t groups = 0;
  int kind0 = 0;
  if (n0 >= 1 && n0 <= 3 && !(p[0] == '0')) {
    const char *r = q;
    for (;;) {
      int kind = 0;
      size_t sl = sep_at(r, e, &kind);
      if (!sl || (kind0 && kind != kind0)) break;
      size_t dl = digits_at(r + sl, e);
      if (dl == 0) break;
      if (dl != 3) {
        groups = 0; /* a later group of another size: no separators at all */
        break;
      }
      kind0 = kind;
      groups++;
      r += sl + dl;
      q = r;
    }
    if (!groups) q = p + n0;
  }
  size_t cap = (size_t)(q - p) + 1;
  const char *fr = NULL;
  size_t nf = 0;
  if (q < e && *q == '.' && q + 1 < e && isdig((unsigned char)q[1])) {
    fr = q + 1;
    nf = digits_at(fr, e);
    q = fr + nf;
    cap += nf;
  } else if (q < e && *q == '.' && n0 > 0 && !(q + 1 < e && isdig((unsigned char)q[1]))) {
    /* "8." : a trailing point belongs to the sentence, not the number */
  }
  long ex = 0;
  if (q + 1 < e && (*q == 'e' || *q == 'E')) {
    const char *r = q + 1;
    int neg = 0;
    if (r < e && (*r == '+' || *r == '-')) neg = *r == '-', r++;
    size_t dl = digits_at(r, e);
    if (dl > 0 && !(r + dl < e && islet((unsigned char)r[dl]))) {
      if (dl > 6) {
        lerr(L, MP_LIMIT, (size_t)(q - L->base), "exponent with more than 6 digits");
        return e;
      }
      for (size_t i = 0; i < dl; i++) ex = ex * 10 + (r[i] - '0');
      if (neg) ex = -ex;
      q = r + dl;
    }
  }
  /* repeating decimal: 0.1\overline{6}, 0.\overline{3} */
  const char *num_end = q;
  rk__str rep = {NULL, 0};
  if ((fr || (q < e && *q == '.')) && e - q >= 10) {
    const char *r = q;
    if (!fr && *r == '.') r++;
    if (e - r >= 10 && memcmp(r, "\\overline{", 10) == 0) {
      size_t dl = digits_at(r + 10, e);
      if (dl > 0 && dl <= 50 && r + 10 + dl < e && r[10 + dl] == '}') {
        rep = rk__str_make(r + 10, dl);
        q = r + 11 + dl;
      }
    }
  }
  if (cap > RK__MATH_MAX_DIGITS) {
    lerr(L, MP_LIMIT, (size_t)(start - L->base), "number with more than 20000 digits");
    return e;
  }
  char *d = rk__arena_alloc(L->a, cap);
  if (!d) {
    lerr(L, MP_OOM, 0, "out of memory");
    return e;
  }
  size_t k = 0;
  for (const char *r = p; r < (fr ? fr - 1 : num_end); r++)
    if (isdig((unsigned char)*r)) d[k++] = *r;
  if (fr)
    for (size_t i = 0; i < nf; i++) d[k++] = fr[i];
  tok *t = push(L, TK_NUM, start, (size_t)(q - start));
  if (!t) return e;
  t->d = d;
  t->nd = k;
  t->frac = (int)nf;
  t->dec = fr != NULL || (p == start && n0 == 0);
  t->exp10 = ex;
  t->plain = !fr && !groups && ex == 0 && !rep.n;
  t->rep = rep;
  if (rep.n) t->dec = 0; /* an exact value, not a rounded decimal */
  return q;
}

/* Matching '}' for the '{' at p, or NULL. */
static const char *brace_end(const char *p, const char *e) {
  int depth = 0;
  for (const char *q = p; q < e; q++) {
    if (*q == '\\') {
      q++;
      continue;
    }
    if (*q == '{') depth++;
    else if (*q == '}' && --depth == 0) return q;
  }
  return NULL;
}

static int all_letters_words(const char *p, const char *e) {
  /* A wrapper's content is a word answer when it has letters and only
   * letters, spaces, hyphens or apostrophes, and is not a single letter
   * (\mathrm{e}, \text{B}). */
  size_t letters = 0;
  for (const char *q = p; q < e; q++) {
    if (islet((unsigned char)*q)) letters++;
    else if (!(isws((unsigned char)*q) || *q == '-' || *q == '\'' || (unsigned char)*q >= 0x80))
      return 0;
  }
  return letters >= 2;
}

static const char *lex_cmd(lexer *L, const char *p, const char *e) {
  /* p points at '\' */
  const char *q = p + 1;
  if (q >= e) {
    lerr(L, MP_SYNTAX, (size_t)(p - L->base), "lone backslash");
    return e;
  }
  if (!islet((unsigned char)*q)) {
    char ch = *q;
    switch (ch) {
      case '{': push(L, TK_LSET, p, 2); return q + 1;
      case '}': push(L, TK_RSET, p, 2); return q + 1;
      case '%': push(L, TK_PCT, p, 2); return q + 1;
      case '$': push(L, TK_DOLLAR, p, 2); return q + 1;
      case '\\': push(L, TK_ROWSEP, p, 2); return q + 1;
      case ',': case ';': case ':': case '!': case ' ': case '>': case '\n': case '\t':
        return q + 1; /* spacing */
      case '|': push(L, TK_CH, "|", 1); return q + 1;
      case '(': case ')': case '[': case ']':
        /* \( \) \[ \] math delimiters: ignored */
        return q + 1;
      default:
        lerr(L, MP_SYNTAX, (size_t)(p - L->base), "unknown control symbol");
        return e;
    }
  }
  while (q < e && islet((unsigned char)*q)) q++;
  rk__str name = rk__str_make(p + 1, (size_t)(q - p - 1));
  if (in_list(name, skip_cmds)) {
    /* \left. and \right. */
    if ((span_is(name, "left") || span_is(name, "right")) && q < e && *q == '.') q++;
    return q;
  }
  if (in_list(name, wrap_cmds) || span_is(name, "mathbb") || span_is(name, "mathcal")) {
    const char *r = q;
    while (r < e && isws((unsigned char)*r)) r++;
    if (r >= e || *r != '{') {
      lerr(L, MP_SYNTAX, (size_t)(p - L->base), "wrapper command without {argument}");
      return e;
    }
    const char *z = brace_end(r, e);
    if (!z) {
      lerr(L, MP_SYNTAX, (size_t)(r - L->base), "unbalanced braces");
      return e;
    }
    const char *cp = r + 1, *ce = z;
    while (cp < ce && isws((unsigned char)*cp)) cp++;
    while (ce > cp && isws((unsigned char)ce[-1])) ce--;
    if (span_is(name, "mathbb")) {
      if (ce - cp == 1 && *cp == 'R') push(L, TK_CMD, "reals", 5);
      else lerr(L, MP_SYNTAX, (size_t)(p - L->base), "unsupported \\mathbb set");
      return z + 1;
    }
    if (span_is(name, "operatorname")) {
      push(L, TK_CMD, cp, (size_t)(ce - cp));
      return z + 1;
    }
    if (cp == ce) return z + 1; /* \text{ } is spacing */
    /* \text{ s}: a one-letter word in a text wrapper is a word (a unit
     * after a value, data README rule 9); \mathrm{e} stays a symbol. */
    int textual = name.p[0] == 't' || span_is(name, "mbox") || span_is(name, "hbox") ||
                  (span_is(name, "mathrm") && ce - cp == 1 && !strchr("eid", *cp));
    if (all_letters_words(cp, ce) || (textual && ce - cp == 1 && islet((unsigned char)*cp))) {
      push(L, TK_TEXT, cp, (size_t)(ce - cp));
      return z + 1;
    }
    if (++L->depth > 20) {
      lerr(L, MP_LIMIT, (size_t)(p - L->base), "wrappers nested more than 20 deep");
      return e;
    }
    lex_span(L, r + 1, z);
    L->depth--;
    return z + 1;
  }
  if (span_is(name, "begin") || span_is(name, "end")) {
    const char *r = q;
    while (r < e && isws((unsigned char)*r)) r++;
    const char *z = r < e && *r == '{' ? brace_end(r, e) : NULL;
    if (!z) {
      lerr(L, MP_SYNTAX, (size_t)(p - L->base), "\\begin/\\end without {name}");
      return e;
    }
    push(L, name.n == 5 ? TK_BEGIN : TK_END, r + 1, (size_t)(z - r - 1));
    q = z + 1;
    /* array column spec {cc} */
    if (name.n == 5 && z - r - 1 == 5 && memcmp(r + 1, "array", 5) == 0) {
      const char *w = q;
      while (w < e && isws((unsigned char)*w)) w++;
      if (w < e && *w == '{') {
        const char *z2 = brace_end(w, e);
        if (z2) q = z2 + 1;
      }
    }
    return q;
  }
  static const char *const le[] = {"le", "leq", "leqslant", "leqq", NULL};
  static const char *const ge[] = {"ge", "geq", "geqslant", "geqq", NULL};
  if (in_list(name, le)) return push(L, TK_LE, p, (size_t)(q - p)), q;
  if (in_list(name, ge)) return push(L, TK_GE, p, (size_t)(q - p)), q;
  if (span_is(name, "ne") || span_is(name, "neq")) return push(L, TK_NE, p, (size_t)(q - p)), q;
  if (span_is(name, "lt")) return push(L, TK_CH, "<", 1), q;
  if (span_is(name, "gt")) return push(L, TK_CH, ">", 1), q;
  if (span_is(name, "cdot") || span_is(name, "times") || span_is(name, "ast"))
    return push(L, TK_TIMES, p, (size_t)(q - p)), q;
  if (span_is(name, "div")) return push(L, TK_DIV, p, (size_t)(q - p)), q;
  if (span_is(name, "pm")) return push(L, TK_PM, p, (size_t)(q - p)), q;
  if (span_is(name, "mp")) return push(L, TK_MP, p, (size_t)(q - p)), q;
  if (span_is(name, "lbrace")) return push(L, TK_LSET, p, (size_t)(q - p)), q;
  if (span_is(name, "rbrace")) return push(L, TK_RSET, p, (size_t)(q - p)), q;
  if (span_is(name, "vert") || span_is(name, "lvert") || span_is(name, "rvert") ||
      span_is(name, "mid"))
    return push(L, TK_CH, "|", 1), q;
  if (span_is(name, "degree")) return push(L, TK_DEG, p, (size_t)(q - p)), q;
  if (span_is(name, "dfrac") || span_is(name, "tfrac") || span_is(name, "cfrac"))
    return push(L, TK_CMD, "frac", 4), q;
  if (span_is(name, "dbinom") || span_is(name, "tbinom"))
    return push(L, TK_CMD, "binom", 5), q;
  if (span_is(name, "varnothing")) return push(L, TK_CMD, "emptyset", 8), q;
  push(L, TK_CMD, name.p, name.n);
  return q;
}

static void lex_span(lexer *L, const char *p, const char *e) {
  while (p < e && !L->rc) {
    unsigned char ch = (unsigned char)*p;
    if (isws(ch) || ch == '$' || ch == '~') {
      p++;
      continue;
    }
    if (isdig(ch) || (ch == '.' && p + 1 < e && isdig((unsigned char)p[1]))) {
      p = lex_number(L, p, e);
      continue;
    }
    if (islet(ch)) {
      const char *q = p;
      while (q < e && islet((unsigned char)*q)) q++;
      int run = (int)(q - p);
      for (int i = 0; i < run; i++) {
        tok *t = push(L, TK_LET, p + i, 1);
        if (t) t->run = run - i;
      }
      p = q;
      continue;
    }
    if (ch == '\\') {
      p = lex_cmd(L, p, e);
      continue;
    }
    if (ch >= 0x80) {
      /* A few Unicode math symbols. */
      static const struct {
        const char *u;
        tkind t;
        const char *as;
      } uni[] = {{"\xcf\x80", TK_CMD, "pi"},      {"\xe2\x88\x9e", TK_CMD, "infty"},
                 {"\xe2\x88\x9a", TK_CMD, "sqrt"},  {"\xe2\x88\x92", TK_CH, "-"},
                 {"\xc3\x97", TK_TIMES, "*"},       {"\xc2\xb7", TK_TIMES, "*"},
                 {"\xe2\x8b\x85", TK_TIMES, "*"},   {"\xc3\xb7", TK_DIV, "/"},
                 {"\xe2\x89\xa4", TK_LE, "<="},     {"\xe2\x89\xa5", TK_GE, ">="},
                 {"\xe2\x89\xa0", TK_NE, "!="},     {"\xc2\xb1", TK_PM, "+-"},
                 {"\xe2\x88\xaa", TK_CMD, "cup"},   {"\xc2\xb0", TK_DEG, "deg"},
                 {"\xe2\x84\x9d", TK_CMD, "reals"}, {"\xe2\x88\x85", TK_CMD, "emptyset"},
                 {"\xc2\xa0", TK_EOF, NULL},        {"\xe2\x80\x89", TK_EOF, NULL}};
      size_t k;
      for (k = 0; k < sizeof uni / sizeof uni[0]; k++) {
        size_t ul = strlen(uni[k].u);
        if ((size_t)(e - p) >= ul && memcmp(p, uni[k].u, ul) == 0) {
          if (uni[k].as) {
            tok *t = push(L, uni[k].t, uni[k].as, strlen(uni[k].as));
            if (t) t->off = (size_t)(p - L->base);
          }
          p += ul;
          break;
        }
      }
      if (k == sizeof uni / sizeof uni[0])
        lerr(L, MP_SYNTAX, (size_t)(p - L->base), "unsupported character");
      continue;
    }
    if (ch == '<' && p + 1 < e && p[1] == '=') {
      push(L, TK_LE, p, 2);
      p += 2;
      continue;
    }
    if (ch == '>' && p + 1 < e && p[1] == '=') {
      push(L, TK_GE, p, 2);
      p += 2;
      continue;
    }
    if (ch == '!' && p + 1 < e && p[1] == '=') {
      push(L, TK_NE, p, 2);
      p += 2;
      continue;
    }
    if (ch == '%') {
      push(L, TK_PCT, p, 1);
      p++;
      continue;
    }
    if (ch == '*' && p + 1 < e && p[1] == '*') {
      push(L, TK_CH, "^", 1);
      p += 2;
      continue;
    }
    if (ch == '*') {
      push(L, TK_TIMES, p, 1);
      p++;
      continue;
    }
    if (strchr("+-/^_()[]{},;=<>!|&:'.", ch)) {
      push(L, TK_CH, p, 1);
      p++;
      continue;
    }
    lerr(L, MP_SYNTAX, (size_t)(p - L->base), "unexpected character");
  }
}

/* -------------------------------------------------------------- parser */

typedef struct parser {
  rk__call *c;
  rk__arena *a;
  tok *t;
  int n, i;
  int depth;
  int nest;   /* > 0 inside brackets / arguments: no unit stripping */
  int seps;   /* top-level list separators seen: 1 "and", 2 "or" */
  int rc;
  char *err;
  size_t errcap;
} parser;

static tok eof_tok = {.t = TK_EOF, .s = {"", 0}};

static tok *cur(parser *P) { return P->i < P->n ? &P->t[P->i] : &eof_tok; }
static tok *at(parser *P, int k) { return P->i + k < P->n ? &P->t[P->i + k] : &eof_tok; }
static int is_ch(const tok *t, char ch) { return t->t == TK_CH && t->s.p[0] == ch; }
static int is_cmd(const tok *t, const char *z) { return t->t == TK_CMD && span_is(t->s, z); }

static mnode *perr(parser *P, int rc, const char *msg) {
  if (!P->rc) {
    P->rc = rc;
    tok *t = cur(P);
    if (t->t == TK_EOF && strcmp(msg, "unexpected token") == 0)
      snprintf(P->err, P->errcap, "answer ends too early (an unclosed brace or a missing operand)");
    else if (t->t == TK_EOF)
      snprintf(P->err, P->errcap, "%s at the end", msg);
    else
      snprintf(P->err, P->errcap, "%s at byte %zu ('%.*s')", msg, t->off,
               (int)(t->s.n > 12 ? 12 : t->s.n), t->s.p);
  }
  return NULL;
}

static mnode *mk(parser *P, mkind k, int nk) {
  mnode *m = rk__arena_alloc(P->a, sizeof *m + sizeof(mnode *) * (size_t)(nk > 0 ? nk : 1));
  if (!m) return perr(P, MP_OOM, "out of memory");
  memset(m, 0, sizeof *m);
  m->k = k;
  m->nk = nk;
  m->kid = (mnode **)(m + 1);
  return m;
}

static mnode *mk2(parser *P, mkind k, mnode *a, mnode *b) {
  if (!a || !b) return NULL;
  mnode *m = mk(P, k, 2);
  if (m) m->kid[0] = a, m->kid[1] = b;
  return m;
}

static mnode *mk1(parser *P, mkind k, mnode *a) {
  if (!a) return NULL;
  mnode *m = mk(P, k, 1);
  if (m) m->kid[0] = a;
  return m;
}

/* Growable node list in the arena. */
typedef struct nlist {
  mnode **v;
  int n, cap;
} nlist;

static int nl_push(parser *P, nlist *l, mnode *m) {
  if (!m) return -1;
  if (l->n == l->cap) {
    int nc = l->cap ? l->cap * 2 : 8;
    mnode **nv = rk__arena_alloc(P->a, sizeof(mnode *) * (size_t)nc);
    if (!nv) return perr(P, MP_OOM, "out of memory"), -1;
    if (l->n) memcpy(nv, l->v, sizeof(mnode *) * (size_t)l->n);
    l->v = nv;
    l->cap = nc;
  }
  l->v[l->n++] = m;
  return 0;
}

static mnode *from_list(parser *P, mkind k, nlist *l) {
  mnode *m = mk(P, k, l->n);
  if (!m) return NULL;
  for (int i = 0; i < l->n; i++) m->kid[i] = l->v[i];
  return m;
}

/* The word of letters starting at the current LET token. */
static rk__str word_here(parser *P, int k) {
  tok *t = at(P, k);
  if (t->t != TK_LET) return rk__str_make("", 0);
  return rk__str_make(t->s.p, (size_t)t->run);
}

static int word_is(parser *P, int k, const char *z) {
  tok *t = at(P, k);
  if (t->t == TK_TEXT) return span_is(t->s, z);
  if (t->t != TK_LET) return 0;
  /* only a whole run: not preceded by a letter of the same run */
  if (P->i + k > 0 && P->t[P->i + k - 1].t == TK_LET && P->t[P->i + k - 1].run == t->run + 1)
    return 0;
  return span_is(word_here(P, k), z);
}

static int is_sepword(parser *P, int k) {
  return word_is(P, k, "and") || word_is(P, k, "or");
}

static const char *const unit_words[] = {
    "cm", "mm", "km", "kg", "mg", "ml", "mL", "nm", "ft", "yd", "mi", "oz", "lb", "lbs",
    "hr", "hrs", "min", "mins", "sec", "secs", "mph", "kmh", "sq", "cu",
    "units", "unit", "meter", "meters", "metre", "metres", "inch", "inches", "feet",
    "foot", "yard", "yards", "mile", "miles", "hour", "hours", "minute", "minutes",
    "second", "seconds", "day", "days", "week", "weeks", "month", "months", "year",
    "years", "dollar", "dollars", "cent", "cents", "degree", "degrees", "liter",
    "liters", "litre", "litres", "gram", "grams", "kilogram", "kilograms", "pound",
    "pounds", "ounce", "ounces", "gallon", "gallons", "ton", "tons", "acre", "acres",
    "square", "cubic", "radians", "people", "students", "points", "ways", "times",
    "euros", "yuan", "rupees", NULL};

static int is_unit_word(rk__str w) { return in_list(w, unit_words); }

/* Is there a unit at token k that runs to the end of the element? */
static int unit_len(parser *P, int k) {
  if (P->nest > 0) return 0;
  int k0 = k, words = 0;
  for (;;) {
    tok *t = at(P, k);
    if (t->t == TK_TEXT && !is_sepword(P, k)) {
      k++;
    } else if (t->t == TK_LET && t->run >= 2 && is_unit_word(word_here(P, k))) {
      k += t->run;
    } else {
      break;
    }
    words++;
    if (is_ch(at(P, k), '^') && at(P, k + 1)->t == TK_NUM && at(P, k + 1)->nd == 1 &&
        (at(P, k + 1)->d[0] == '2' || at(P, k + 1)->d[0] == '3'))
      k += 2;
    else if (is_ch(at(P, k), '^') && is_ch(at(P, k + 1), '{') && at(P, k + 2)->t == TK_NUM &&
             is_ch(at(P, k + 3), '}'))
      k += 4;
    if (words > 3) return 0;
    tok *n = at(P, k);
    if (n->t == TK_EOF || is_ch(n, ',') || is_ch(n, ';') || is_sepword(P, k)) return k - k0;
  }
  return 0;
}

static mnode *p_list_until(parser *P, int closers, nlist *out);
static mnode *p_rel(parser *P);
static mnode *p_sum(parser *P);
static mnode *p_term(parser *P);
static mnode *p_power(parser *P);

static int enter(parser *P) {
  if (++P->depth > RK__MATH_MAX_DEPTH) {
    perr(P, MP_LIMIT, "nesting deeper than 200");
    return -1;
  }
  if (!rk__spend(P->c, 4)) {
    perr(P, MP_LIMIT, "step budget exhausted");
    return -1;
  }
  return 0;
}

static mnode *num_node(parser *P, tok *t) {
  mnode *m = mk(P, MN_NUM, 0);
  if (!m) return NULL;
  m->s = rk__str_make(t->d, t->nd);
  m->frac = t->frac;
  m->dec = t->dec;
  m->exp10 = t->exp10;
  m->rep = t->rep;
  return m;
}

/* A TeX argument: {group} or one token (a digit of a number, a letter, a
 * command without arguments). */
static mnode *p_arg(parser *P, const char *what) {
  tok *t = cur(P);
  if (is_ch(t, '{')) {
    P->i++;
    if (is_ch(cur(P), '}')) return perr(P, MP_SYNTAX, what);
    P->nest++;
    mnode *m = p_sum(P);
    P->nest--;
    if (!m) return NULL;
    if (!is_ch(cur(P), '}')) return perr(P, MP_SYNTAX, "expected '}'");
    P->i++;
    return m;
  }
  if (t->t == TK_NUM && t->plain && t->nd >= 1) {
    /* \frac12: one digit per argument */
    tok one = *t;
    one.nd = 1;
    one.frac = 0;
    mnode *m = num_node(P, &one);
    if (t->nd == 1) {
      P->i++;
    } else {
      t->d++;
      t->nd--;
      t->s.p++;
      t->s.n--;
      t->off++;
    }
    return m;
  }
  if (t->t == TK_LET) {
    P->i++;
    mnode *m = mk(P, MN_SYM, 0);
    if (!m) return NULL;
    if (t->s.p[0] == 'e' && t->s.n == 1) m->k = MN_CONST, m->op = MC_E;
    else if (t->s.p[0] == 'i' && t->s.n == 1) m->k = MN_CONST, m->op = MC_I;
    else m->s = rk__str_make(t->s.p, 1);
    return m;
  }
  if (t->t == TK_CMD) return p_power(P);
  return perr(P, MP_SYNTAX, what);
}

static const struct {
  const char *name;
  int fn;
} fn_names[] = {{"sin", MF_SIN},       {"cos", MF_COS},       {"tan", MF_TAN},
                {"sec", MF_SEC},       {"csc", MF_CSC},       {"cot", MF_COT},
                {"arcsin", MF_ASIN},   {"arccos", MF_ACOS},   {"arctan", MF_ATAN},
                {"asin", MF_ASIN},     {"acos", MF_ACOS},     {"atan", MF_ATAN},
                {"sinh", MF_SINH},     {"cosh", MF_COSH},     {"tanh", MF_TANH},
                {"ln", MF_LN},         {"log", MF_LOG},       {"exp", MF_EXP},
                {"lg", MF_LOG}};

static int fn_id(rk__str s) {
  for (size_t k = 0; k < sizeof fn_names / sizeof fn_names[0]; k++)
    if (span_is(s, fn_names[k].name)) return fn_names[k].fn;
  return -1;
}

static int starts_primary(parser *P);

/* Function application: \sin x, \sin^2 x, \sin(x), \log_2 8, \sin^{-1} x. */
static mnode *p_func(parser *P, int fn) {
  mnode *power = NULL, *base = NULL;
  int inverse = 0;
  for (int round = 0; round < 2; round++) {
    if (is_ch(cur(P), '^') && !power) {
      P->i++;
      P->nest++;
      power = p_arg(P, "function power is missing");
      P->nest--;
      if (!power) return NULL;
      if (power->k == MN_NEG && power->kid[0]->k == MN_NUM && span_is(power->kid[0]->s, "1") &&
          !power->kid[0]->dec) {
        inverse = 1;
        power = NULL;
        if (fn <= MF_TAN) fn = fn == MF_SIN ? MF_ASIN : fn == MF_COS ? MF_ACOS : MF_ATAN;
        else return perr(P, MP_SYNTAX, "unsupported inverse function");
      }
    } else if (is_ch(cur(P), '_') && fn == MF_LOG && !base) {
      P->i++;
      P->nest++;
      base = p_arg(P, "log base is missing");
      P->nest--;
      if (!base) return NULL;
    }
  }
  (void)inverse;
  mnode *arg;
  P->nest++;
  if (is_ch(cur(P), '(')) {
    P->i++;
    arg = p_sum(P);
    if (arg && !is_ch(cur(P), ')')) arg = perr(P, MP_SYNTAX, "expected ')'");
    else if (arg) P->i++;
  } else {
    /* Implicit argument: a product of factors up to + - or another
     * function. */
    if (!starts_primary(P) && !is_ch(cur(P), '|')) {
      P->nest--;
      return perr(P, MP_SYNTAX, "function without argument");
    }
    arg = p_power(P);
    while (arg && starts_primary(P)) {
      tok *t = cur(P);
      if (t->t == TK_CMD && fn_id(t->s) >= 0) break;
      if (t->t == TK_LET && t->run >= 2 && fn_id(word_here(P, 0)) >= 0) break;
      arg = mk2(P, MN_MUL, arg, p_power(P));
    }
  }
  P->nest--;
  if (!arg) return NULL;
  mnode *f = mk(P, MN_FUNC, 2);
  if (!f) return NULL;
  f->op = fn;
  f->kid[0] = arg;
  f->kid[1] = base;
  f->nk = base ? 2 : 1;
  if (power) return mk2(P, MN_POW, f, power);
  return f;
}

static mnode *p_matrix(parser *P, rk__str env) {
  static const char *const envs[] = {"pmatrix", "bmatrix", "Bmatrix", "matrix", "smallmatrix",
                                     "array", "vmatrix", "Vmatrix", NULL};
  if (!in_list(env, envs)) return perr(P, MP_SYNTAX, "unsupported environment");
  if (span_is(env, "vmatrix") || span_is(env, "Vmatrix"))
    return perr(P, MP_SYNTAX, "determinants are not supported");
  nlist cells = {0};
  int rows = 0, cols = -1, c = 0;
  P->nest++;
  for (;;) {
    if (!rk__spend(P->c, 2)) return perr(P, MP_LIMIT, "step budget exhausted");
    tok *t = cur(P);
    if (t->t == TK_END) {
      if (!rk__str_eq(t->s, env)) return perr(P, MP_SYNTAX, "\\end does not match \\begin");
      if (c > 0) {
        if (cols >= 0 && c != cols) return perr(P, MP_SYNTAX, "matrix rows of different lengths");
        cols = c;
        rows++;
      }
      P->i++;
      break;
    }
    if (t->t == TK_EOF) return perr(P, MP_SYNTAX, "\\begin without \\end");
    mnode *m = p_sum(P);
    if (nl_push(P, &cells, m)) return NULL;
    c++;
    t = cur(P);
    if (t->t == TK_CH && t->s.p[0] == '&') {
      P->i++;
    } else if (t->t == TK_ROWSEP) {
      P->i++;
      if (cols >= 0 && c != cols) return perr(P, MP_SYNTAX, "matrix rows of different lengths");
      cols = c;
      rows++;
      c = 0;
      if (cur(P)->t == TK_END) continue;
    } else if (t->t != TK_END) {
      return perr(P, MP_SYNTAX, "unexpected token in matrix");
    }
  }
  P->nest--;
  if (rows == 0 || cols <= 0) return perr(P, MP_SYNTAX, "empty matrix");
  mnode *m = from_list(P, MN_MATRIX, &cells);
  if (m) m->rows = rows, m->cols = cols;
  return m;
}

/* Bracketed: ( ... ), [ ... ], with any closing bracket of ) ]. */
static mnode *p_bracket(parser *P) {
  char lo = cur(P)->s.p[0];
  P->i++;
  nlist items = {0};
  P->nest++;
  if (!p_list_until(P, 1, &items)) return NULL;
  P->nest--;
  tok *t = cur(P);
  if (!(is_ch(t, ')') || is_ch(t, ']'))) return perr(P, MP_SYNTAX, "unbalanced bracket");
  char hi = t->s.p[0];
  P->i++;
  if (items.n == 1) {
    if (lo != '(' || hi != ')') {
      if (lo == '[' && hi == ']') return items.v[0];
      return perr(P, MP_SYNTAX, "mismatched brackets");
    }
    return items.v[0];
  }
  mkind k = MN_TUPLE;
  if (items.n == 2 && !(lo == '(' && hi == ')')) k = MN_INTERVAL;
  else if (lo != hi - 1 && !(lo == '[' && hi == ']')) return perr(P, MP_SYNTAX, "mismatched brackets");
  mnode *m = from_list(P, k, &items);
  if (m) m->lo = lo, m->hi = hi;
  return m;
}

static const char *const greek[] = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
    "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega", NULL};

/* Subscript after a variable: x_1, x_{12}, a_n. Appends to the name. */
static mnode *p_sym(parser *P, rk__str name) {
  mnode *m = mk(P, MN_SYM, 0);
  if (!m) return NULL;
  m->s = name;
  if (is_ch(cur(P), '_')) {
    P->i++;
    tok *t = cur(P);
    rk__str sub;
    if (is_ch(t, '{')) {
      size_t a = t->off;
      int depth = 0;
      tok *last = t;
      while (P->i < P->n) {
        tok *u = cur(P);
        if (is_ch(u, '{')) depth++;
        if (is_ch(u, '}') && --depth == 0) {
          last = u;
          P->i++;
          break;
        }
        if (u->t != TK_NUM && u->t != TK_LET && !is_ch(u, '{') && !is_ch(u, ','))
          return perr(P, MP_SYNTAX, "unsupported subscript");
        P->i++;
      }
      if (depth) return perr(P, MP_SYNTAX, "unbalanced subscript");
      sub = rk__str_make(t->s.p + 1, last->off > a ? last->off - a - 1 : 0);
      (void)sub;
      /* name_{...}: rebuild from tokens between the braces */
      rk__buf b;
      rk__buf_init(&b, 256);
      rk__buf_put(&b, name.p, name.n);
      rk__buf_putc(&b, '_');
      for (tok *u = t + 1; u < last; u++) {
        if (u->t == TK_NUM) rk__buf_put(&b, u->d, u->nd);
        else rk__buf_put(&b, u->s.p, u->s.n);
      }
      char *z = rk__arena_strdup(P->a, b.p ? b.p : "", b.n);
      size_t zn = b.n;
      rk__buf_release(&b);
      if (!z) return perr(P, MP_OOM, "out of memory");
      m->s = rk__str_make(z, zn);
      return m;
    }
    if (t->t == TK_NUM && t->plain) {
      /* x_12 is x_1 2 in TeX; take one digit */
      char *z = rk__arena_alloc(P->a, name.n + 3);
      if (!z) return perr(P, MP_OOM, "out of memory");
      memcpy(z, name.p, name.n);
      z[name.n] = '_';
      z[name.n + 1] = t->d[0];
      m->s = rk__str_make(z, name.n + 2);
      if (t->nd == 1) P->i++;
      else t->d++, t->nd--, t->s.p++, t->s.n--;
      return m;
    }
    if (t->t == TK_LET) {
      char *z = rk__arena_alloc(P->a, name.n + 3);
      if (!z) return perr(P, MP_OOM, "out of memory");
      memcpy(z, name.p, name.n);
      z[name.n] = '_';
      z[name.n + 1] = t->s.p[0];
      m->s = rk__str_make(z, name.n + 2);
      P->i++;
      return m;
    }
    return perr(P, MP_SYNTAX, "subscript without argument");
  }
  return m;
}

static int starts_primary(parser *P) {
  tok *t = cur(P);
  switch (t->t) {
    case TK_NUM: case TK_LSET: case TK_BEGIN: case TK_TEXT: case TK_DOLLAR:
      return t->t != TK_TEXT || !is_sepword(P, 0);
    case TK_LET:
      if (is_sepword(P, 0) || word_is(P, 0, "percent")) return 0;
      return 1;
    case TK_CMD:
      return !(is_cmd(t, "cup") || is_cmd(t, "in") || is_cmd(t, "circ") || is_cmd(t, "cap") ||
               is_cmd(t, "rfloor") || is_cmd(t, "rceil") || is_cmd(t, "approx") ||
               is_cmd(t, "setminus") || is_cmd(t, "to") || is_cmd(t, "implies") ||
               is_cmd(t, "Rightarrow") || is_cmd(t, "quad"));
    case TK_CH:
      return t->s.p[0] == '(' || t->s.p[0] == '[' || t->s.p[0] == '{';
    default:
      return 0;
  }
}

static mnode *p_primary(parser *P) {
  if (enter(P)) return NULL;
  mnode *r = NULL;
  tok *t = cur(P);
  switch (t->t) {
    case TK_NUM:
      P->i++;
      r = num_node(P, t);
      break;
    case TK_DOLLAR:
      P->i++; /* currency sign */
      if (cur(P)->t != TK_NUM) return perr(P, MP_SYNTAX, "\\$ not followed by a number");
      r = p_primary(P);
      break;
    case TK_TEXT:
      P->i++;
      r = mk(P, MN_TEXT, 0);
      if (r) r->s = t->s;
      break;
    case TK_LSET: {
      P->i++;
      if (cur(P)->t == TK_RSET) {
        P->i++;
        r = mk(P, MN_EMPTY, 0);
        break;
      }
      nlist items = {0};
      P->nest++;
      if (!p_list_until(P, 2, &items)) return NULL;
      P->nest--;
      if (cur(P)->t != TK_RSET) return perr(P, MP_SYNTAX, "expected '\\}'");
      P->i++;
      r = from_list(P, MN_SET, &items);
      break;
    }
    case TK_BEGIN:
      P->i++;
      r = p_matrix(P, t->s);
      break;
    case TK_LET: {
      rk__str w = word_here(P, 0);
      int fn = t->run >= 2 ? fn_id(w) : -1;
      if (t->run >= 2 && (t == P->t || P->t[P->i - 1].t != TK_LET || P->t[P->i - 1].run != t->run + 1)) {
        if (fn >= 0 || span_is(w, "sqrt") || span_is(w, "pi") || span_is(w, "inf") ||
            span_is(w, "infty") || span_is(w, "infinity")) {
          P->i += t->run;
          if (fn >= 0) {
            r = p_func(P, fn);
          } else if (span_is(w, "sqrt")) {
            if (!is_ch(cur(P), '(')) return perr(P, MP_SYNTAX, "sqrt without (argument)");
            P->i++;
            P->nest++;
            mnode *a = p_sum(P);
            P->nest--;
            if (!a) return NULL;
            if (!is_ch(cur(P), ')')) return perr(P, MP_SYNTAX, "expected ')'");
            P->i++;
            r = mk(P, MN_ROOT, 2);
            if (r) r->kid[0] = a, r->kid[1] = NULL, r->nk = 1;
          } else {
            r = mk(P, MN_CONST, 0);
            if (r) r->op = span_is(w, "pi") ? MC_PI : MC_INF;
          }
          break;
        }
        if (t->run >= 4 && !is_unit_word(w)) {
          /* A word in place of a value ("Tuesday", "undefined"). */
          P->i += t->run;
          r = mk(P, MN_TEXT, 0);
          if (r) r->s = w;
          break;
        }
      }
      P->i++;
      if (t->s.p[0] == 'e' && !is_ch(cur(P), '_')) {
        r = mk(P, MN_CONST, 0);
        if (r) r->op = MC_E;
      } else if (t->s.p[0] == 'i' && !is_ch(cur(P), '_')) {
        r = mk(P, MN_CONST, 0);
        if (r) r->op = MC_I;
      } else {
        r = p_sym(P, rk__str_make(t->s.p, 1));
      }
      break;
    }
    case TK_CH: {
      char ch = t->s.p[0];
      if (ch == '(' || ch == '[') {
        r = p_bracket(P);
      } else if (ch == '{') {
        P->i++;
        P->nest++;
        nlist items = {0};
        if (!p_list_until(P, 3, &items)) return NULL;
        P->nest--;
        if (!is_ch(cur(P), '}')) return perr(P, MP_SYNTAX, "unbalanced braces");
        P->i++;
        r = items.n == 1 ? items.v[0] : from_list(P, MN_TUPLE, &items);
        if (items.n > 1 && r) r->lo = '{', r->hi = '}';
      } else if (ch == '|') {
        P->i++;
        P->nest++;
        mnode *a = p_sum(P);
        P->nest--;
        if (!a) return NULL;
        if (!is_ch(cur(P), '|')) return perr(P, MP_SYNTAX, "unclosed |");
        P->i++;
        r = mk(P, MN_FUNC, 1);
        if (r) r->op = MF_ABS, r->kid[0] = a;
      } else {
        return perr(P, MP_SYNTAX, "unexpected token");
      }
      break;
    }
    case TK_CMD: {
      rk__str nm = t->s;
      P->i++;
      int fn = fn_id(nm);
      if (fn >= 0) {
        r = p_func(P, fn);
      } else if (span_is(nm, "frac")) {
        P->nest++;
        mnode *a = p_arg(P, "\\frac is missing its first argument");
        mnode *b = a ? p_arg(P, "\\frac is missing its second argument") : NULL;
        P->nest--;
        r = mk2(P, MN_DIV, a, b);
      } else if (span_is(nm, "binom")) {
        P->nest++;
        mnode *a = p_arg(P, "\\binom is missing its first argument");
        mnode *b = a ? p_arg(P, "\\binom is missing its second argument") : NULL;
        P->nest--;
        r = mk2(P, MN_BINOM, a, b);
      } else if (span_is(nm, "sqrt")) {
        mnode *idx = NULL;
        P->nest++;
        if (is_ch(cur(P), '[')) {
          P->i++;
          idx = p_sum(P);
          if (!idx) return NULL;
          if (!is_ch(cur(P), ']')) return perr(P, MP_SYNTAX, "expected ']' after root index");
          P->i++;
        }
        mnode *a = p_arg(P, "\\sqrt is missing its argument");
        P->nest--;
        if (!a) return NULL;
        r = mk(P, MN_ROOT, 2);
        if (r) r->kid[0] = a, r->kid[1] = idx, r->nk = idx ? 2 : 1;
      } else if (span_is(nm, "pi")) {
        r = mk(P, MN_CONST, 0);
        if (r) r->op = MC_PI;
      } else if (span_is(nm, "infty") || span_is(nm, "infinity")) {
        r = mk(P, MN_CONST, 0);
        if (r) r->op = MC_INF;
      } else if (span_is(nm, "emptyset")) {
        r = mk(P, MN_EMPTY, 0);
      } else if (span_is(nm, "reals")) {
        r = mk(P, MN_REALS, 0);
      } else if (span_is(nm, "lfloor") || span_is(nm, "lceil")) {
        int fl = span_is(nm, "lfloor");
        P->nest++;
        mnode *a = p_sum(P);
        P->nest--;
        if (!a) return NULL;
        if (!is_cmd(cur(P), fl ? "rfloor" : "rceil")) return perr(P, MP_SYNTAX, "unclosed floor/ceiling");
        P->i++;
        r = mk(P, MN_FUNC, 1);
        if (r) r->op = fl ? MF_FLOOR : MF_CEIL, r->kid[0] = a;
      } else if (span_is(nm, "exp")) {
        r = p_func(P, MF_EXP);
      } else if (in_list(nm, greek)) {
        r = p_sym(P, nm);
      } else {
        return perr(P, MP_SYNTAX, "unsupported command");
      }
      break;
    }
    default:
      return perr(P, MP_SYNTAX, "unexpected token");
  }
  P->depth--;
  return r;
}

static int is_degree_here(parser *P) {
  /* ^\circ, ^{\circ}, ° */
  if (cur(P)->t == TK_DEG) return 1;
  if (!is_ch(cur(P), '^')) return 0;
  if (is_cmd(at(P, 1), "circ")) return 2;
  if (is_ch(at(P, 1), '{') && is_cmd(at(P, 2), "circ") && is_ch(at(P, 3), '}')) return 4;
  return 0;
}

static mnode *p_postfix_ops(parser *P, mnode *x) {
  for (;;) {
    if (!x) return NULL;
    tok *t = cur(P);
    int dg;
    if (is_ch(t, '!') && !(is_ch(at(P, 1), '='))) {
      P->i++;
      x = mk1(P, MN_FACT, x);
    } else if (t->t == TK_PCT) {
      P->i++;
      x = mk1(P, MN_PCT, x);
    } else if (word_is(P, 0, "percent")) {
      P->i += t->run;
      x = mk1(P, MN_PCT, x);
    } else if ((dg = is_degree_here(P)) != 0) {
      P->i += dg;
      x = mk1(P, MN_DEG, x);
    } else {
      return x;
    }
  }
}

/* An exponent: {group}, a number, a letter, a command, -token, (group). */
static mnode *p_exponent(parser *P) {
  tok *t = cur(P);
  if (is_ch(t, '{') || is_ch(t, '(')) {
    char close = is_ch(t, '{') ? '}' : ')';
    P->i++;
    P->nest++;
    mnode *m = p_sum(P);
    P->nest--;
    if (!m) return NULL;
    if (!is_ch(cur(P), close)) return perr(P, MP_SYNTAX, "unbalanced exponent");
    P->i++;
    return m;
  }
  if (is_ch(t, '-') || t->t == TK_CH) {
    if (is_ch(t, '-')) {
      P->i++;
      return mk1(P, MN_NEG, p_exponent(P));
    }
    return perr(P, MP_SYNTAX, "exponent is missing");
  }
  if (t->t == TK_NUM) {
    P->i++;
    return num_node(P, t);
  }
  if (t->t == TK_LET) return p_arg(P, "exponent is missing");
  if (t->t == TK_CMD) {
    if (enter(P)) return NULL;
    mnode *m = p_primary(P);
    P->depth--;
    return m;
  }
  return perr(P, MP_SYNTAX, "exponent is missing");
}

static mnode *p_power(parser *P) {
  if (enter(P)) return NULL;
  mnode *b = p_postfix_ops(P, p_primary(P));
  if (b && is_ch(cur(P), '^') && !is_degree_here(P)) {
    P->i++;
    mnode *e = p_exponent(P);
    b = p_postfix_ops(P, mk2(P, MN_POW, b, e));
    /* a^b^c is a TeX error (double superscript): ambiguous, rejected */
    if (b && is_ch(cur(P), '^') && !is_degree_here(P))
      return perr(P, MP_SYNTAX, "double superscript (write a^{b^c})");
  }
  P->depth--;
  return b;
}

static mnode *p_signed(parser *P) {
  tok *t = cur(P);
  if (is_ch(t, '-')) {
    P->i++;
    if (enter(P)) return NULL;
    mnode *m = mk1(P, MN_NEG, p_signed(P));
    P->depth--;
    return m;
  }
  if (is_ch(t, '+')) {
    P->i++;
    return p_signed(P);
  }
  return p_power(P);
}

static int is_int_num(const mnode *m) {
  return m && m->k == MN_NUM && !m->dec && m->exp10 == 0 && !m->rep.n && m->frac == 0;
}

static mnode *p_term(parser *P) {
  if (enter(P)) return NULL;
  mnode *x = p_signed(P);
  int first_literal = x && x->k == MN_NUM;
  for (;;) {
    if (!x) return NULL;
    if (!rk__spend(P->c, 1)) return perr(P, MP_LIMIT, "step budget exhausted");
    tok *t = cur(P);
    int ul;
    if (t->t == TK_TIMES) {
      P->i++;
      x = mk2(P, MN_MUL, x, p_signed(P));
    } else if (t->t == TK_DIV || is_ch(t, '/')) {
      P->i++;
      x = mk2(P, MN_DIV, x, p_signed(P));
    } else if ((ul = unit_len(P, 0)) > 0) {
      P->i += ul; /* a trailing unit (data README rule 9) */
      break;
    } else if (starts_primary(P)) {
      mnode *y = p_power(P);
      if (!y) return NULL;
      /* Mixed number: 3\frac{1}{2} = 3 + 1/2 (integer literal directly
       * followed by a fraction of integer literals, numerator smaller). */
      if (first_literal && is_int_num(x) && y->k == MN_DIV && is_int_num(y->kid[0]) &&
          is_int_num(y->kid[1]) && y->kid[0]->s.n <= y->kid[1]->s.n &&
          (y->kid[0]->s.n < y->kid[1]->s.n || memcmp(y->kid[0]->s.p, y->kid[1]->s.p, y->kid[0]->s.n) < 0)) {
        x = mk2(P, MN_ADD, x, y);
      } else {
        x = mk2(P, MN_MUL, x, y);
      }
    } else {
      break;
    }
    first_literal = 0;
  }
  P->depth--;
  return x;
}

static mnode *p_sum(parser *P) {
  if (enter(P)) return NULL;
  mnode *x;
  tok *t = cur(P);
  if (t->t == TK_PM || t->t == TK_MP) {
    P->i++;
    mnode *a = p_term(P);
    x = mk(P, MN_PM, 2);
    if (!a || !x) return NULL;
    x->kid[0] = NULL;
    x->kid[1] = a;
    x->op = t->t == TK_MP;
  } else if (is_ch(t, '-')) {
    P->i++;
    x = mk1(P, MN_NEG, p_term(P));
  } else {
    if (is_ch(t, '+')) P->i++;
    x = p_term(P);
  }
  for (;;) {
    if (!x) return NULL;
    t = cur(P);
    if (is_ch(t, '+')) {
      P->i++;
      x = mk2(P, MN_ADD, x, p_term(P));
    } else if (is_ch(t, '-')) {
      P->i++;
      x = mk2(P, MN_SUB, x, p_term(P));
    } else if (t->t == TK_PM || t->t == TK_MP) {
      P->i++;
      mnode *b = p_term(P);
      mnode *m = mk2(P, MN_PM, x, b);
      if (m) m->op = t->t == TK_MP;
      x = m;
    } else {
      break;
    }
  }
  P->depth--;
  return x;
}

static mnode *p_setexpr(parser *P) {
  mnode *x = p_sum(P);
  if (!x || !is_cmd(cur(P), "cup")) return x;
  nlist parts = {0};
  nl_push(P, &parts, x);
  while (is_cmd(cur(P), "cup")) {
    P->i++;
    if (nl_push(P, &parts, p_sum(P))) return NULL;
  }
  return from_list(P, MN_UNION, &parts);
}

static int relop(parser *P) {
  tok *t = cur(P);
  if (is_ch(t, '=')) return MR_EQ;
  if (is_ch(t, '<')) return MR_LT;
  if (is_ch(t, '>')) return MR_GT;
  if (t->t == TK_LE) return MR_LE;
  if (t->t == TK_GE) return MR_GE;
  if (t->t == TK_NE) return MR_NE;
  if (is_cmd(t, "in")) return MR_IN;
  if (is_cmd(t, "approx") || is_cmd(t, "equiv")) return MR_EQ;
  return -1;
}

static mnode *p_rel(parser *P) {
  if (enter(P)) return NULL;
  mnode *x = p_setexpr(P);
  if (!x) return NULL;
  int op = relop(P);
  if (op < 0) {
    P->depth--;
    return x;
  }
  nlist parts = {0};
  int ops[16];
  int nops = 0;
  nl_push(P, &parts, x);
  while ((op = relop(P)) >= 0) {
    if (nops >= 16) return perr(P, MP_LIMIT, "more than 16 relations in a chain");
    ops[nops++] = op;
    P->i++;
    if (nl_push(P, &parts, p_setexpr(P))) return NULL;
  }
  mnode *m = from_list(P, MN_REL, &parts);
  if (!m) return NULL;
  m->ops = rk__arena_alloc(P->a, sizeof(int) * (size_t)nops);
  if (!m->ops) return perr(P, MP_OOM, "out of memory");
  memcpy(m->ops, ops, sizeof(int) * (size_t)nops);
  P->depth--;
  return m;
}

/* Comma / semicolon / and / or separated items until a closer (1: ) or ],
 * 2: \}, 3: }) or the end (0). Returns non-NULL on success. */
static mnode *p_list_until(parser *P, int closers, nlist *out) {
  for (;;) {
    if (!rk__spend(P->c, 1)) return perr(P, MP_LIMIT, "step budget exhausted");
    if (nl_push(P, out, p_rel(P))) return NULL;
    tok *t = cur(P);
    if (is_ch(t, ',') || is_ch(t, ';')) {
      P->i++;
      if (is_sepword(P, 0)) P->i += cur(P)->t == TK_TEXT ? 1 : cur(P)->run;
      continue;
    }
    if (is_sepword(P, 0)) {
      if (closers == 0) P->seps |= word_is(P, 0, "and") ? 1 : 2;
      P->i += t->t == TK_TEXT ? 1 : t->run;
      continue;
    }
    break;
  }
  tok *t = cur(P);
  int ok = closers == 0 ? t->t == TK_EOF
           : closers == 1 ? (is_ch(t, ')') || is_ch(t, ']'))
           : closers == 2 ? t->t == TK_RSET
                          : is_ch(t, '}');
  if (!ok) {
    if (t->t == TK_EOF) return perr(P, MP_SYNTAX, "unbalanced brackets");
    return perr(P, MP_SYNTAX, "unexpected token");
  }
  return out->v[0];
}

int rk__math_parse(rk__str in, rk__call *c, mnode **out, char *err, size_t cap) {
  char dummy[8];
  if (!err || !cap) err = dummy, cap = sizeof dummy;
  err[0] = '\0';
  *out = NULL;
  if (!rk__spend(c, in.n + 1)) {
    snprintf(err, cap, "step budget exhausted");
    return MP_LIMIT;
  }
  lexer L;
  memset(&L, 0, sizeof L);
  L.c = c;
  L.a = c->arena;
  L.err = err;
  L.errcap = cap;
  L.base = in.p;
  lex_span(&L, in.p, in.p + in.n);
  if (L.rc) return L.rc;
  if (L.n == 0) {
    snprintf(err, cap, "empty answer");
    return MP_SYNTAX;
  }
  if (!rk__spend(c, (uint64_t)L.n * 2)) {
    snprintf(err, cap, "step budget exhausted");
    return MP_LIMIT;
  }
  parser P;
  memset(&P, 0, sizeof P);
  P.c = c;
  P.a = c->arena;
  P.t = L.t;
  P.n = L.n;
  P.err = err;
  P.errcap = cap;
  nlist items = {0};
  mnode *r = p_list_until(&P, 0, &items);
  if (!r || P.rc) return P.rc ? P.rc : MP_SYNTAX;
  if (items.n == 1) {
    *out = items.v[0];
  } else {
    *out = from_list(&P, MN_LIST, &items);
    if (!*out) return P.rc ? P.rc : MP_OOM;
    (*out)->op = P.seps;
  }
  return MP_OK;
}

/* ------------------------------------------------------------- printer */

static void pr(const mnode *n, rk__buf *b, int prec);

static void pr_kids(const mnode *n, rk__buf *b, const char *sep) {
  for (int i = 0; i < n->nk; i++) {
    if (i) rk__buf_puts(b, sep);
    pr(n->kid[i], b, 0);
  }
}

static const char *const fn_print[MF__COUNT] = {
    "sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan", "sinh", "cosh",
    "tanh", "ln", "log", "exp", "abs", "floor", "ceil"};

static void pr(const mnode *n, rk__buf *b, int prec) {
  if (!n) {
    rk__buf_puts(b, "?");
    return;
  }
  if (b->n > 400) return;
  switch (n->k) {
    case MN_NUM: {
      size_t ip = n->s.n - (size_t)n->frac;
      if (ip == 0) rk__buf_putc(b, '0');
      rk__buf_put(b, n->s.p, ip > 60 ? 60 : ip);
      if (ip > 60) rk__buf_printf(b, "...(%zu digits)", ip);
      if (n->frac) {
        rk__buf_putc(b, '.');
        rk__buf_put(b, n->s.p + ip, (size_t)n->frac > 40 ? 40 : (size_t)n->frac);
      }
      if (n->rep.n) rk__buf_printf(b, "%s(%.*s)", n->frac ? "" : ".", (int)n->rep.n, n->rep.p);
      if (n->exp10) rk__buf_printf(b, "e%ld", n->exp10);
      break;
    }
    case MN_SYM:
    case MN_TEXT:
      if (n->k == MN_TEXT) rk__buf_puts(b, "text:");
      rk__buf_put(b, n->s.p, n->s.n > 40 ? 40 : n->s.n);
      break;
    case MN_CONST:
      rk__buf_puts(b, n->op == MC_PI ? "pi" : n->op == MC_E ? "e" : n->op == MC_I ? "i" : "oo");
      break;
    case MN_NEG:
      if (prec > 1) rk__buf_putc(b, '(');
      rk__buf_putc(b, '-');
      pr(n->kid[0], b, 3);
      if (prec > 1) rk__buf_putc(b, ')');
      break;
    case MN_ADD: case MN_SUB: case MN_PM:
      if (prec > 1) rk__buf_putc(b, '(');
      if (n->kid[0]) {
        pr(n->kid[0], b, 1);
        rk__buf_puts(b, n->k == MN_ADD ? " + " : n->k == MN_SUB ? " - " : n->op ? " -+ " : " +- ");
      } else {
        rk__buf_puts(b, n->op ? "-+" : "+-");
      }
      pr(n->kid[1], b, 2);
      if (prec > 1) rk__buf_putc(b, ')');
      break;
    case MN_MUL: case MN_DIV:
      if (prec > 2) rk__buf_putc(b, '(');
      pr(n->kid[0], b, 2);
      rk__buf_puts(b, n->k == MN_MUL ? "*" : "/");
      pr(n->kid[1], b, 3);
      if (prec > 2) rk__buf_putc(b, ')');
      break;
    case MN_POW:
      pr(n->kid[0], b, 4);
      rk__buf_putc(b, '^');
      pr(n->kid[1], b, 4);
      break;
    case MN_FUNC:
      rk__buf_puts(b, fn_print[n->op]);
      if (n->nk > 1 && n->kid[1]) {
        rk__buf_putc(b, '_');
        pr(n->kid[1], b, 4);
      }
      rk__buf_putc(b, '(');
      pr(n->kid[0], b, 0);
      rk__buf_putc(b, ')');
      break;
    case MN_ROOT:
      rk__buf_puts(b, "sqrt(");
      pr(n->kid[0], b, 0);
      if (n->nk > 1 && n->kid[1]) {
        rk__buf_puts(b, ", ");
        pr(n->kid[1], b, 0);
      }
      rk__buf_putc(b, ')');
      break;
    case MN_FACT:
      pr(n->kid[0], b, 4);
      rk__buf_putc(b, '!');
      break;
    case MN_BINOM:
      rk__buf_puts(b, "binom(");
      pr_kids(n, b, ", ");
      rk__buf_putc(b, ')');
      break;
    case MN_PCT:
      pr(n->kid[0], b, 4);
      rk__buf_putc(b, '%');
      break;
    case MN_DEG:
      pr(n->kid[0], b, 4);
      rk__buf_puts(b, "deg");
      break;
    case MN_TUPLE: case MN_INTERVAL:
      rk__buf_putc(b, n->lo ? n->lo : '(');
      pr_kids(n, b, ", ");
      rk__buf_putc(b, n->hi ? n->hi : ')');
      break;
    case MN_SET:
      rk__buf_putc(b, '{');
      pr_kids(n, b, ", ");
      rk__buf_putc(b, '}');
      break;
    case MN_UNION:
      pr_kids(n, b, " U ");
      break;
    case MN_LIST:
      pr_kids(n, b, ", ");
      break;
    case MN_MATRIX:
      rk__buf_putc(b, '[');
      for (int r = 0; r < n->rows; r++) {
        rk__buf_puts(b, r ? "; " : "");
        for (int c = 0; c < n->cols; c++) {
          if (c) rk__buf_puts(b, ", ");
          pr(n->kid[r * n->cols + c], b, 0);
        }
      }
      rk__buf_putc(b, ']');
      break;
    case MN_REL: {
      static const char *const ro[] = {" = ", " < ", " <= ", " > ", " >= ", " != ", " in "};
      for (int i = 0; i < n->nk; i++) {
        if (i) rk__buf_puts(b, ro[n->ops[i - 1]]);
        pr(n->kid[i], b, 0);
      }
      break;
    }
    case MN_EMPTY:
      rk__buf_puts(b, "{}");
      break;
    case MN_REALS:
      rk__buf_puts(b, "R");
      break;
  }
}

void rk__math_print(const mnode *n, rk__buf *b) { pr(n, b, 0); }
