/*
 * normalize.c - answer normalisation (see normalize.h and
 * docs/rewards/text.md) and the small helpers shared by the text rewards.
 *
 * Two passes over the answer: (1) a per-character map (LaTeX wrapper names
 * dropped, NFKC, case folding, punctuation deleted, whitespace -> ' ') into
 * an arena buffer, then (2) an in-place pass that removes articles and
 * collapses spaces. ASCII bytes are handled by table lookups; only runs of
 * non-ASCII bytes go through utf8proc (decomposition into an arena buffer,
 * no malloc), which is why the run keeps its preceding ASCII character:
 * NFKC composes a base letter with following combining marks, and no
 * composition ever spans the start of an ASCII character.
 */
#include <string.h>

#include <utf8proc.h>

#include "json/json.h"
#include "text/normalize.h"
#include "text/pycase.h"

/* ---------------------------------------------------- ASCII classes */

enum {
  C_UPUNCT = 1,  /* Unicode category P* (default normaliser) */
  C_PYPUNCT = 2, /* Python string.punctuation (SQuAD) */
  C_SPACE = 4,   /* C isspace: \t \n \v \f \r and space */
  C_PYSPACE = 8, /* Python str.split(): isspace plus \x1c-\x1f */
  C_WORD = 16,   /* regex \w: letters, digits, '_' */
  C_UPPER = 32
};

/* clang-format off */
#define P_ (C_UPUNCT | C_PYPUNCT)
#define S_ (C_PYPUNCT)
#define W_ (C_WORD)
#define U_ (C_WORD | C_UPPER)
#define SP (C_SPACE | C_PYSPACE)
static const unsigned char ascii_cls[128] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, SP, SP, SP, SP, SP, 0, 0,
    /* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, C_PYSPACE, C_PYSPACE,
    C_PYSPACE, C_PYSPACE,
    /* ' ' ! " # $ % & ' ( ) * + , - . / */
    SP, P_, P_, P_, S_, P_, P_, P_, P_, P_, P_, S_, P_, P_, P_, P_,
    /* 0-9 : ; < = > ? */
    W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, P_, P_, S_, S_, S_, P_,
    /* @ A-O */
    P_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_,
    /* P-Z [ \ ] ^ _ */
    U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, P_, P_, P_, S_, P_ | W_,
    /* ` a-o */
    S_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_,
    /* p-z { | } ~ DEL */
    W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, P_, S_, P_, S_, 0};
#undef P_
#undef S_
#undef W_
#undef U_
#undef SP
/* clang-format on */

static inline unsigned acls(unsigned char c) {
  return c < 128 ? ascii_cls[c] : 0;
}
static inline unsigned char alower(unsigned char c) {
  return (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* ------------------------------------------------------ arena output */

typedef struct obuf {
  char *p;
  size_t n, cap;
  rk__arena *a;
  int oom;
} obuf;

static int ob_grow(obuf *o, size_t extra) {
  if (o->oom) return -1;
  size_t want = o->n + extra;
  if (want < o->n) return (o->oom = 1), -1;
  size_t cap = o->cap ? o->cap : 64;
  while (cap < want) {
    if (cap > SIZE_MAX / 2) return (o->oom = 1), -1;
    cap *= 2;
  }
  char *np = rk__arena_alloc(o->a, cap);
  if (!np) return (o->oom = 1), -1;
  if (o->n) memcpy(np, o->p, o->n);
  o->p = np;
  o->cap = cap;
  return 0;
}

static inline void ob_putc(obuf *o, char c) {
  if (o->n < o->cap || ob_grow(o, 1) == 0) o->p[o->n++] = c;
}

static void ob_put(obuf *o, const void *p, size_t n) {
  if (o->cap - o->n >= n || ob_grow(o, n) == 0) {
    memcpy(o->p + o->n, p, n);
    o->n += n;
  }
}

/* ----------------------------------------------------- public helpers */

rk__str rk__text_trim(rk__str s) {
  while (s.n && (acls((unsigned char)s.p[0]) & C_SPACE)) s.p++, s.n--;
  while (s.n && (acls((unsigned char)s.p[s.n - 1]) & C_SPACE)) s.n--;
  return s;
}

/* Strips the decorations README rule 1 removes, plus math delimiters
 * around the whole answer: "**42**." -> "42", "$\frac{3}{4}$" ->
 * "\frac{3}{4}", "\boxed{5}" -> "5". Only ever narrows the span. */
rk__str rk__text_clean(rk__str s) {
  for (int round = 0; round < 8; round++) {
    rk__str t = rk__text_trim(s);
    const char *p = t.p;
    size_t n = t.n;
    /* Markdown bold / italics markers at either end, paired or not. */
    while (n && p[0] == '*') p++, n--;
    while (n && p[n - 1] == '*') n--;
    /* A sentence-final period (not an ellipsis, not a lone "."). */
    if (n >= 2 && p[n - 1] == '.' && p[n - 2] != '.') n--;
    t = rk__text_trim(rk__str_make(p, n));
    p = t.p;
    n = t.n;
    /* $...$, $$...$$, \(...\), \[...\] around the whole answer. */
    if (n >= 2 && p[0] == '$' && p[n - 1] == '$') {
      size_t k = (n >= 4 && p[1] == '$' && p[n - 2] == '$') ? 2 : 1;
      if (!memchr(p + k, '$', n - 2 * k)) p += k, n -= 2 * k;
    } else if (n >= 4 && p[0] == '\\' && p[n - 2] == '\\' &&
               ((p[1] == '(' && p[n - 1] == ')') || (p[1] == '[' && p[n - 1] == ']'))) {
      p += 2, n -= 4;
    } else if (n >= 8 && memcmp(p, "\\boxed{", 7) == 0 && p[n - 1] == '}') {
      /* Only when the brace after \boxed closes at the very end. */
      int depth = 0;
      size_t i;
      for (i = 6; i < n; i++) {
        if (p[i] == '\\') {
          i++;
          continue;
        }
        if (p[i] == '{') depth++;
        if (p[i] == '}' && --depth == 0) break;
      }
      if (i == n - 1) p += 7, n -= 8;
    }
    if (p == s.p && n == s.n) break;
    s = rk__str_make(p, n);
  }
  return rk__text_trim(s);
}

rk__str rk__text_last_line(rk__str s) {
  s = rk__text_trim(s);
  if (!s.n) return s;
  size_t i = s.n;
  while (i > 0 && s.p[i - 1] != '\n') i--;
  return rk__text_clean(rk__str_make(s.p + i, s.n - i));
}

int rk__text_clip(rk__str s, int max, const char **ellipsis) {
  if (s.n <= (size_t)max) {
    *ellipsis = "";
    return (int)s.n;
  }
  size_t k = (size_t)max;
  /* Back up to the start of a UTF-8 sequence so the cut is clean. */
  while (k > 0 && ((unsigned char)s.p[k] & 0xC0) == 0x80) k--;
  *ellipsis = "...";
  return (int)k;
}

size_t rk__text_words(rk__str s) {
  size_t w = 0;
  int in = 0;
  for (size_t i = 0; i < s.n; i++) {
    int sp = (acls((unsigned char)s.p[i]) & C_SPACE) != 0;
    if (!sp && !in) w++;
    in = !sp;
  }
  return w;
}

size_t rk__text_refs(const rk__call *c, rk__str *out, size_t max, int *had_any) {
  rk__str tmp[RK__MAX_REFS];
  if (max > RK__MAX_REFS) max = RK__MAX_REFS;
  size_t n = rk__record_refs(c, tmp, max, had_any), k = 0;
  for (size_t i = 0; i < n; i++) {
    rk__str t = rk__text_trim(tmp[i]);
    if (t.n) out[k++] = t;
  }
  return k;
}

rk__norm rk__norm_default(void) {
  rk__norm nm = {RK__NORM_DEFAULT, RK__NORM_ALL};
  return nm;
}

int rk__norm_compile(rk__argctx *ac, rk__norm *out) {
  static const char *const kinds[] = {"default", "squad", "none", NULL};
  int kind, cs;
  if (rk__arg_enum(ac, "normalize", kinds, 0, &kind)) return -1;
  if (rk__arg_bool(ac, "case_sensitive", 0, &cs)) return -1;
  out->kind = (rk__norm_kind)kind;
  out->steps = cs ? 0 : RK__NORM_CASEFOLD;
  static const struct {
    const char *key;
    unsigned bit;
  } sw[] = {{"nfkc", RK__NORM_NFKC},
            {"strip_punctuation", RK__NORM_PUNCT},
            {"strip_articles", RK__NORM_ARTICLES},
            {"collapse_whitespace", RK__NORM_SPACE},
            {"unwrap_latex", RK__NORM_LATEX}};
  for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++) {
    if (kind != RK__NORM_DEFAULT) {
      if (rk__arg_raw(ac, sw[i].key))
        return rk__arg_error(ac, sw[i].key, "only applies to \"normalize\": \"default\"");
      continue;
    }
    int on;
    if (rk__arg_bool(ac, sw[i].key, 1, &on)) return -1;
    if (on) out->steps |= sw[i].bit;
  }
  if (kind == RK__NORM_DEFAULT && cs) out->steps &= ~(unsigned)RK__NORM_CASEFOLD;
  return 0;
}

/* ---------------------------------------------------- the normaliser */

/* LaTeX commands whose name is dropped (their braces then go with the
 * punctuation): "\text{Paris}" normalises like "Paris". */
static size_t latex_wrapper_len(const char *p, size_t n) {
  static const char *const names[] = {
      "text",         "textbf", "textit", "textrm", "texttt", "textsf",
      "mathrm",       "mathbf", "mathit", "mathsf", "mathtt", "mbox",
      "operatorname", "emph",   "bf",     "it",     "rm",     NULL};
  size_t k = 1;
  while (k < n && k < 16 && ((p[k] | 32) >= 'a' && (p[k] | 32) <= 'z')) k++;
  if (k < 16 && k < n && ((p[k] | 32) >= 'a' && (p[k] | 32) <= 'z')) return 0;
  for (int i = 0; names[i]; i++)
    if (strlen(names[i]) == k - 1 && memcmp(p + 1, names[i], k - 1) == 0) return k;
  return 0;
}

typedef struct nstate {
  rk__norm_kind kind;
  unsigned steps;
  const unsigned char *in; /* the whole input: the final-sigma context */
  size_t in_n;
  obuf o;
  utf8proc_int32_t *cp; /* scratch for decompositions, reused */
  size_t cpcap;
} nstate;

static inline void put_ascii(nstate *s, unsigned char c) {
  unsigned k = ascii_cls[c];
  if (s->kind == RK__NORM_SQUAD) {
    if (s->steps & RK__NORM_CASEFOLD) c = alower(c);
    if (k & C_PYPUNCT) return;
    if (k & C_PYSPACE) c = ' ';
  } else {
    if (s->steps & RK__NORM_CASEFOLD) c = alower(c);
    if ((s->steps & RK__NORM_PUNCT) && (k & C_UPUNCT)) return;
    if ((s->steps & RK__NORM_SPACE) && (k & C_SPACE)) c = ' ';
  }
  ob_putc(&s->o, (char)c);
}

static int py_space(utf8proc_int32_t u) {
  return u == 0x85 || u == 0xA0 || u == 0x1680 || (u >= 0x2000 && u <= 0x200A) || u == 0x2028 ||
         u == 0x2029 || u == 0x202F || u == 0x205F || u == 0x3000;
}

static void put_cp(nstate *s, utf8proc_int32_t u) {
  if (u < 0x80) {
    put_ascii(s, (unsigned char)u);
    return;
  }
  if (s->kind == RK__NORM_SQUAD) {
    if (u == 0x130 && (s->steps & RK__NORM_CASEFOLD)) {
      /* Python's lower(): capital I with dot above becomes two code
       * points, "i" and U+0307 (the simple mapping gives "i" alone). */
      put_ascii(s, 'i');
      u = 0x307;
    } else if (s->steps & RK__NORM_CASEFOLD) {
      u = utf8proc_tolower(u);
    }
    if (u < 0x80) {
      put_ascii(s, (unsigned char)u);
      return;
    }
    if (py_space(u)) u = ' ';
  } else {
    utf8proc_category_t cat = utf8proc_category(u);
    if ((s->steps & RK__NORM_PUNCT) && cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO)
      return;
    if ((s->steps & RK__NORM_SPACE) &&
        (u == 0x85 || (cat >= UTF8PROC_CATEGORY_ZS && cat <= UTF8PROC_CATEGORY_ZP)))
      u = ' ';
  }
  if (u == ' ') {
    ob_putc(&s->o, ' ');
    return;
  }
  utf8proc_uint8_t tmp[4];
  utf8proc_ssize_t k = utf8proc_encode_char(u, tmp);
  ob_put(&s->o, tmp, (size_t)k);
}

/* Decodes p[0..n) leniently: invalid bytes give U+FFFD, one byte each. */
static inline size_t next_cp(const unsigned char *p, size_t n, utf8proc_int32_t *u) {
  utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)(n > 4 ? 4 : n), u);
  if (k <= 0) {
    *u = 0xFFFD;
    return 1;
  }
  return (size_t)k;
}

/* One segment: an optional ASCII character and a run of non-ASCII bytes. */
static int put_segment(nstate *s, const unsigned char *p, size_t n) {
  int nfkc = s->kind == RK__NORM_DEFAULT && (s->steps & RK__NORM_NFKC);
  int fold = s->kind != RK__NORM_SQUAD && (s->steps & RK__NORM_CASEFOLD);
  if (!nfkc && !fold) {
    /* SQuAD's lower() runs over the whole text: a capital sigma lowers by
     * its neighbours there (text/pycase.h; put_cp keeps σ and ς). */
    int lower = s->kind == RK__NORM_SQUAD && (s->steps & RK__NORM_CASEFOLD);
    for (size_t i = 0; i < n;) {
      utf8proc_int32_t u;
      size_t k = next_cp(p + i, n - i, &u);
      if (lower && u == RK__SIGMA_CAPITAL)
        u = (utf8proc_int32_t)rk__pycase_sigma_utf8((const char *)s->in, s->in_n,
                                                    (size_t)(p + i - s->in));
      put_cp(s, u);
      i += k;
    }
    return 0;
  }
  /* utf8proc wants valid UTF-8: make a cleaned copy only when needed. */
  const unsigned char *src = p;
  size_t srcn = n;
  for (size_t i = 0; i < n;) {
    utf8proc_int32_t u;
    utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i > 4 ? 4 : n - i), &u);
    if (k <= 0) {
      unsigned char *cp = rk__arena_alloc(s->o.a, n * 3);
      if (!cp) return -1;
      size_t w = 0;
      for (size_t j = 0; j < n;) {
        utf8proc_ssize_t kk =
            utf8proc_iterate(p + j, (utf8proc_ssize_t)(n - j > 4 ? 4 : n - j), &u);
        if (kk <= 0) {
          cp[w++] = 0xEF, cp[w++] = 0xBF, cp[w++] = 0xBD;
          j++;
        } else {
          memcpy(cp + w, p + j, (size_t)kk);
          w += (size_t)kk;
          j += (size_t)kk;
        }
      }
      src = cp;
      srcn = w;
      break;
    }
    i += (size_t)k;
  }
  utf8proc_option_t opt = UTF8PROC_STABLE;
  if (nfkc) opt |= UTF8PROC_COMPAT | UTF8PROC_COMPOSE;
  if (fold) opt |= UTF8PROC_CASEFOLD;
  for (int attempt = 0; attempt < 2; attempt++) {
    if (s->cpcap < srcn + 8) {
      size_t want = srcn * 2 + 16;
      if (want < s->cpcap * 2) want = s->cpcap * 2;
      if (want > SIZE_MAX / sizeof *s->cp) return -1;
      s->cp = rk__arena_alloc(s->o.a, want * sizeof *s->cp);
      if (!s->cp) return -1;
      s->cpcap = want;
    }
    utf8proc_ssize_t m =
        utf8proc_decompose(src, (utf8proc_ssize_t)srcn, s->cp, (utf8proc_ssize_t)s->cpcap, opt);
    if (m < 0) return -1; /* cannot happen: the input is valid UTF-8 */
    if ((size_t)m > s->cpcap) {
      /* Too small: grow to the size utf8proc asked for and go again. */
      if ((size_t)m > SIZE_MAX / sizeof *s->cp) return -1;
      s->cp = rk__arena_alloc(s->o.a, (size_t)m * sizeof *s->cp);
      if (!s->cp) return -1;
      s->cpcap = (size_t)m;
      continue;
    }
    if (nfkc) {
      m = utf8proc_normalize_utf32(s->cp, m, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
      if (m < 0) return -1;
    }
    for (utf8proc_ssize_t i = 0; i < m; i++) put_cp(s, s->cp[i]);
    return 0;
  }
  return -1;
}

/* Word character (regex \w of Python 3 str) at p[i]: ASCII letters, digits,
 * '_', and non-ASCII letters and numbers. */
static int word_at(const unsigned char *p, size_t n, size_t i) {
  if (i >= n) return 0;
  if (p[i] < 0x80) return (ascii_cls[p[i]] & C_WORD) != 0;
  utf8proc_int32_t u;
  next_cp(p + i, n - i, &u);
  utf8proc_category_t cat = utf8proc_category(u);
  return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO
             ? 1
             : (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

/* Word character ending just before p[i]. */
static int word_before(const unsigned char *p, size_t n, size_t i) {
  if (i == 0) return 0;
  if (p[i - 1] < 0x80) return (ascii_cls[p[i - 1]] & C_WORD) != 0;
  size_t j = i - 1;
  while (j > 0 && i - j < 4 && (p[j] & 0xC0) == 0x80) j--;
  return word_at(p, n, j);
}

/* Length of an article (a, an, the; ASCII case-insensitive) that is a
 * whole word at p[i], else 0. */
static size_t article_at(const unsigned char *p, size_t n, size_t i) {
  size_t k = 0;
  unsigned char c0 = alower(p[i]);
  if (c0 == 'a') {
    k = (i + 1 < n && alower(p[i + 1]) == 'n') ? 2 : 1;
    if (k == 2 && word_at(p, n, i + 2)) k = 1; /* "ant": try "a" (fails below) */
  } else if (c0 == 't') {
    if (i + 2 < n && alower(p[i + 1]) == 'h' && alower(p[i + 2]) == 'e') k = 3;
  }
  if (!k || word_at(p, n, i + k) || word_before(p, n, i)) return 0;
  return k;
}

/* Pass 2, in place: articles -> ' ', then whitespace collapse + trim.
 * `prevw` tracks whether the character before b[r] (in the text as it was
 * before this pass: writes never overtake reads) is a word character, so
 * that the article test only runs at word starts. */
static size_t finish(nstate *s) {
  unsigned char *b = (unsigned char *)s->o.p;
  size_t n = s->o.n, w = 0;
  int arts = (s->steps & RK__NORM_ARTICLES) || s->kind == RK__NORM_SQUAD;
  int space = (s->steps & RK__NORM_SPACE) || s->kind == RK__NORM_SQUAD;
  if (!arts && !space) return n;
  int prevw = 0;
  unsigned last = ' '; /* last byte kept; ' ' at the start drops leading spaces */
  for (size_t r = 0; r < n;) {
    unsigned ch = b[r];
    if (arts && !prevw && ((ch | 32) == 'a' || (ch | 32) == 't')) {
      size_t art = article_at(b, n, r);
      if (art) {
        r += art;
        prevw = 1;
        ch = ' ';
        goto emit;
      }
    }
    if (ch < 0x80)
      prevw = (ascii_cls[ch] & C_WORD) != 0;
    else if (ch >= 0xC0)
      prevw = word_at(b, n, r);
    r++;
  emit:
    b[w] = (unsigned char)ch;
    /* Collapse: a space is kept only after a non-space (no leading). */
    unsigned drop = (unsigned)space & (ch == ' ') & (last == ' ');
    w += !drop;
    last = drop ? last : ch;
  }
  if (space && w && b[w - 1] == ' ') w--;
  return w;
}

/* Index of the first byte >= 0x80 in p[i..n), or n. */
static size_t next_high(const unsigned char *p, size_t i, size_t n) {
  return i + rk__ascii_span((const char *)p + i, n - i);
}

/* Pass 1 over pure-ASCII bytes: the rules of put_ascii, branch-free, into
 * o (which has room: ASCII never expands). Returns the bytes written. */
static size_t map_ascii(unsigned char *restrict o, const unsigned char *restrict p, size_t n,
                        unsigned fold32, unsigned dropmask, unsigned spacemask) {
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned c = p[i], k = ascii_cls[c];
    unsigned m = c + (fold32 & (0u - ((k >> 5) & 1u))); /* C_UPPER is bit 5 */
    o[w] = (unsigned char)((k & spacemask) ? ' ' : m);
    w += !(k & dropmask);
  }
  return w;
}

/* The default normaliser keeps a decimal point between two digits, so
 * that "3.5" does not become "35" (SQuAD deletes it). p[lo..hi) is the
 * whole input, i the position of a '.'. */
static int decimal_point(const unsigned char *p, size_t lo, size_t hi, size_t i) {
  return i > lo && i + 1 < hi && p[i - 1] >= '0' && p[i - 1] <= '9' && p[i + 1] >= '0' &&
         p[i + 1] <= '9';
}

static int run(nstate *s, rk__arena *a, rk__str in, rk__str *out) {
  const unsigned char *p = (const unsigned char *)in.p;
  size_t n = in.n;
  s->in = p;
  s->in_n = n;
  s->o.a = a;
  s->o.p = NULL;
  s->o.n = s->o.cap = 0;
  s->o.oom = 0;
  s->cp = NULL;
  s->cpcap = 0;
  if (ob_grow(&s->o, n + 1)) return -1;
  int latex = s->kind == RK__NORM_DEFAULT && (s->steps & RK__NORM_LATEX);
  int squad = s->kind == RK__NORM_SQUAD;
  unsigned fold32 = (s->steps & RK__NORM_CASEFOLD) ? 32u : 0u;
  unsigned dropmask = squad ? C_PYPUNCT : (s->steps & RK__NORM_PUNCT) ? C_UPUNCT : 0;
  unsigned spacemask = squad ? C_PYSPACE : (s->steps & RK__NORM_SPACE) ? C_SPACE : 0;
  /* Alternate between ASCII runs (table-mapped in a tight loop) and
   * segments: the last ASCII byte of a run that a non-ASCII byte follows,
   * plus that non-ASCII run (utf8proc). LaTeX wrapper names inside an
   * ASCII run are cut out before mapping. */
  size_t i = 0;
  while (i < n) {
    size_t hi = next_high(p, i, n);
    size_t end = hi < n && hi > i ? hi - 1 : hi; /* keep the starter for the segment */
    while (i < end) {
      size_t stop = end;
      const unsigned char *bs = latex ? memchr(p + i, '\\', end - i) : NULL;
      if (bs) stop = (size_t)(bs - p);
      /* Decimal points (default kind) are cut out of the run like '\\'. */
      const unsigned char *dot = NULL;
      if (!squad && (dropmask & C_UPUNCT)) {
        const unsigned char *q = p + i;
        while ((q = memchr(q, '.', stop - (size_t)(q - p))) &&
               !decimal_point(p, 0, n, (size_t)(q - p)))
          q++;
        if (q && (size_t)(q - p) < stop) {
          dot = q;
          stop = (size_t)(q - p);
          bs = NULL;
        }
      }
      if (s->o.cap - s->o.n < stop - i + 1 && ob_grow(&s->o, stop - i + 1)) return -1;
      s->o.n +=
          map_ascii((unsigned char *)s->o.p + s->o.n, p + i, stop - i, fold32, dropmask, spacemask);
      i = stop;
      if (dot) {
        s->o.p[s->o.n++] = '.';
        i++;
        continue;
      }
      if (bs) {
        size_t k = latex_wrapper_len((const char *)p + i, n - i);
        if (!k) {
          /* Not a wrapper: map the backslash alone. */
          if (s->o.cap == s->o.n && ob_grow(&s->o, 1)) return -1;
          s->o.n +=
              map_ascii((unsigned char *)s->o.p + s->o.n, p + i, 1, fold32, dropmask, spacemask);
          k = 1;
        }
        i += k;
      }
    }
    if (i >= n) break;
    /* A segment: this byte (ASCII or not) plus the non-ASCII run after it. */
    size_t e = i + 1;
    while (e < n && p[e] >= 0x80) e++;
    if (put_segment(s, p + i, e - i)) return -1;
    i = e;
  }
  if (s->o.oom) return -1;
  size_t m = finish(s);
  out->p = s->o.p;
  out->n = m;
  return 0;
}

/* Why the bound holds: case folding and SQuAD's lower() map an ASCII
 * letter to one letter; punctuation removal never removes letters or
 * digits; NFKC never deletes a code point, and composing an ASCII starter
 * with the marks after it yields a letter (still at least one byte); the
 * article pass removes only a/n/t/h/e; the LaTeX pass removes command
 * names, which are skipped here. */
size_t rk__norm_min_len(rk__str s, size_t stop) {
  const unsigned char *p = (const unsigned char *)s.p;
  size_t k = 0;
  for (size_t i = 0; i < s.n && k <= stop; i++) {
    unsigned c = p[i];
    if (c == '\\') {
      while (i + 1 < s.n && p[i + 1] < 0x80 && ((p[i + 1] | 32) >= 'a' && (p[i + 1] | 32) <= 'z'))
        i++;
      continue;
    }
    if (c >= 0x80 || !(ascii_cls[c] & C_WORD) || c == '_') continue;
    unsigned l = c | 32;
    k += !(l == 'a' || l == 'n' || l == 't' || l == 'h' || l == 'e');
  }
  return k;
}

int rk__normalize(const rk__norm *nm, rk__arena *a, rk__str in, rk__str *out) {
  if (nm->kind == RK__NORM_NONE && !(nm->steps & RK__NORM_CASEFOLD)) {
    *out = rk__text_trim(in);
    return 0;
  }
  nstate s;
  s.kind = nm->kind;
  s.steps = nm->kind == RK__NORM_NONE ? (nm->steps & RK__NORM_CASEFOLD) : nm->steps;
  if (nm->kind == RK__NORM_NONE) in = rk__text_trim(in);
  return run(&s, a, in, out);
}

uint64_t rk__norm_steps(const rk__norm *nm, rk__str in) {
  uint64_t steps = 2 * (uint64_t)in.n + 1;
  if (nm->kind != RK__NORM_DEFAULT || !(nm->steps & RK__NORM_NFKC)) return steps;
  /* Runs of combining marks in the decomposed text, counted from the
   * input: a mark adds one; a code point with a decomposition ends the run
   * and may start one with up to 2 trailing marks (4 for the few whose
   * decomposition is marks only, Tibetan vowels, U+0344, and the
   * half-width sound marks NFKC maps to marks). Over-counts, never
   * under-counts, the insertion sort's swaps. */
  const unsigned char *p = (const unsigned char *)in.p;
  uint64_t run = 0;
  for (size_t i = 0; i < in.n;) {
    if (p[i] < 0x80) {
      steps += run * run / 2, run = 0;
      i++;
      continue;
    }
    utf8proc_int32_t u;
    i += next_cp(p + i, in.n - i, &u);
    const utf8proc_property_t *pr = utf8proc_get_property(u);
    if (pr->combining_class) {
      run++;
    } else if (u == 0x344 || u == 0xF73 || u == 0xF75 || u == 0xF81 || u == 0xFF9E ||
               u == 0xFF9F) {
      run += 4;
    } else {
      steps += run * run / 2;
      run = pr->decomp_seqindex != UINT16_MAX ? 2 : 0;
    }
  }
  return steps + run * run / 2;
}

int rk__normalize_squad(rk__arena *a, rk__str in, rk__str *out) {
  rk__norm nm = {RK__NORM_SQUAD, RK__NORM_CASEFOLD};
  return rk__normalize(&nm, a, in, out);
}
