/*
 * mcq.c - fn `mcq`: multiple-choice answers. Reads the option letter(s)
 * the response commits to and compares them with the reference letter
 * (or option text, when the options are known). Reward 1 or 0.
 *
 * Letters count only in answer positions: inside the extracted answer
 * (auto cascade: \boxed, <answer>, "the answer is", "Answer:", bold), or,
 * when nothing was extracted, in the last line. A response that names
 * several options ("A or B or C", "\boxed{A, C}", "\boxed{A} or \boxed{B}")
 * scores 0 unless the reference names the same set.
 * Not for: free-text answers (fn exact) or option text similarity.
 */
#define _GNU_SOURCE /* memrchr, memmem */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "text/extract.h"
#include "text/normalize.h"

#define MAX_LETTERS 62

typedef struct mcq_cfg {
  rk__extract_cfg ex;
  int extract_given;
  char letters[MAX_LETTERS + 1]; /* the option letters, in option order */
  int letters_given;
  char **options; /* static option texts (NULL when absent) */
  size_t noptions;
  char *options_field; /* record field holding the options */
  rk__norm norm;       /* for option texts */
} mcq_cfg;

static void mcq_free(void *p) {
  mcq_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  rk__strlist_free(cfg->options);
  free(cfg->options_field);
  free(cfg);
}

static inline int is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}
static inline int is_sp(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

static int mcq_compile(rk__argctx *ac, void **out) {
  mcq_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  char *letters = NULL;
  const rk__jval *opt = rk__arg_raw(ac, "options");
  cfg->extract_given = rk__arg_raw(ac, "extract") != NULL;
  if (rk__extract_cfg_compile(ac, RK__EX_AUTO, &cfg->ex) || rk__norm_compile(ac, &cfg->norm) ||
      rk__arg_str(ac, "letters", NULL, &letters) ||
      rk__arg_str(ac, "options_field", NULL, &cfg->options_field))
    goto fail;
  if (opt && opt->type != RK__JARR) {
    rk__arg_error(ac, "options", "expected an array of option texts");
    goto fail;
  }
  if (rk__arg_strlist(ac, "options", &cfg->options, &cfg->noptions)) goto fail;
  if (cfg->options && cfg->options_field) {
    rk__arg_error(ac, "options_field", "give either options or options_field, not both");
    goto fail;
  }
  if (letters) {
    size_t n = strlen(letters);
    if (n == 0 || n > MAX_LETTERS) {
      rk__arg_error(ac, "letters", "expected 1 to %d letters, like \"ABCD\"", MAX_LETTERS);
      goto fail;
    }
    for (size_t i = 0; i < n; i++) {
      if (!is_alnum((unsigned char)letters[i]) || memchr(letters, letters[i], i)) {
        rk__arg_error(ac, "letters", "expected distinct ASCII letters or digits, like \"ABCD\"");
        goto fail;
      }
    }
    memcpy(cfg->letters, letters, n + 1);
    cfg->letters_given = 1;
  } else {
    size_t n = cfg->options ? cfg->noptions : 26;
    if (n > 26) {
      rk__arg_error(ac, "options", "more than 26 options: give \"letters\" as well");
      goto fail;
    }
    for (size_t i = 0; i < n; i++) cfg->letters[i] = (char)('A' + i);
    cfg->letters[n] = '\0';
  }
  if (cfg->options && cfg->noptions > strlen(cfg->letters)) {
    rk__arg_error(ac, "options", "%zu options but only %zu letters", cfg->noptions,
                  strlen(cfg->letters));
    goto fail;
  }
  free(letters);
  *out = cfg;
  return 0;
fail:
  free(letters);
  mcq_free(cfg);
  return -1;
}

/* ---------------------------------------------------- letter scanning */

typedef struct lset {
  const char *letters; /* allowed letters */
  size_t nl;
  uint64_t set; /* bit i: letters[i] named */
} lset;

static int lindex(const lset *ls, unsigned char ch) {
  const char *q = ch ? memchr(ls->letters, ch, ls->nl) : NULL;
  return q ? (int)(q - ls->letters) : -1;
}

/* Words that may sit between letters of one answer ("A or B", "both A and
 * C", "option B") without ending it. */
static int joiner(const char *w, size_t n) {
  static const char *const words[] = {"and",     "or",     "nor",     "either", "both", "option",
                                      "options", "choice", "choices", "answer", NULL};
  for (int i = 0; words[i]; i++) {
    size_t l = strlen(words[i]);
    if (l != n) continue;
    size_t k = 0;
    while (k < n && (w[k] | 32) == words[i][k]) k++;
    if (k == n) return 1;
  }
  return 0;
}

/* Reads the option letters from an answer span. Letter forms: "(B)",
 * "[B]", "B)", "B.", "B:", a bare "B" between non-alphanumerics, inside
 * LaTeX wrappers ("\textbf{(B)}"). Lowercase letters count only as "(b)"
 * or "b)" when the letters are uppercase. A bare "A" or "I" followed by a
 * lowercase word is the article / pronoun ("A train leaves") unless the
 * word is is/was/or/and/nor. The answer is the first letter and any
 * letters chained to it by punctuation or joiner words; the first other
 * word or number ends it ("B because A fails" names B only).
 * strict (for references): the first token must be a letter. */
static void scan_letters(lset *ls, rk__str s, int strict) {
  const unsigned char *p = (const unsigned char *)s.p;
  size_t n = s.n, i = 0;
  int started = 0;
  int upper_only = 1;
  for (size_t k = 0; k < ls->nl; k++)
    if (ls->letters[k] >= 'a' && ls->letters[k] <= 'z') upper_only = 0;
  while (i < n) {
    unsigned char ch = p[i];
    if (ch == '\\') {
      /* A LaTeX command or escape: a separator. */
      i++;
      if (i < n && ((p[i] | 32) >= 'a' && (p[i] | 32) <= 'z'))
        while (i < n && ((p[i] | 32) >= 'a' && (p[i] | 32) <= 'z')) i++;
      else if (i < n)
        i++;
      continue;
    }
    if (!is_alnum(ch) && ch < 0x80) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < n && (is_alnum(p[j]) || p[j] >= 0x80)) j++;
    int letter = -1;
    if (j == i + 1) {
      unsigned char pc = i ? p[i - 1] : 0, nc = j < n ? p[j] : 0;
      int bracketed =
          (pc == '(' || pc == '[' || pc == '{') && (nc == ')' || nc == ']' || nc == '}');
      int strong = bracketed || nc == ')';
      letter = lindex(ls, ch);
      if (letter < 0 && upper_only && ch >= 'a' && ch <= 'z' && strong)
        letter = lindex(ls, (unsigned char)(ch - 32));
      if (letter >= 0 && !strong && (ch == 'A' || ch == 'I') && nc == ' ' && j + 1 < n &&
          p[j + 1] >= 'a' && p[j + 1] <= 'z') {
        size_t w = j + 1, we = w;
        while (we < n && is_alnum(p[we])) we++;
        static const char *const ok[] = {"is", "was", "or", "and", "nor", NULL};
        int keep = 0;
        for (int k = 0; ok[k]; k++)
          if (strlen(ok[k]) == we - w && memcmp(p + w, ok[k], we - w) == 0) keep = 1;
        if (!keep) letter = -1;
      }
    }
    if (letter >= 0) {
      ls->set |= (uint64_t)1 << letter;
      started = 1;
    } else if (!joiner((const char *)p + i, j - i)) {
      if (started || strict) return;
    }
    i = j;
  }
}

static int popcount64(uint64_t x) {
  int k = 0;
  while (x) x &= x - 1, k++;
  return k;
}

/* "B, C" for explanations. */
static void set_text(const lset *ls, uint64_t set, char *buf, size_t cap) {
  size_t k = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < ls->nl && k + 4 < cap; i++) {
    if (!(set >> i & 1)) continue;
    if (k) buf[k++] = ',', buf[k++] = ' ';
    buf[k++] = ls->letters[i];
    buf[k] = '\0';
  }
}

/* --------------------------------------------------------- box chains */

static int is_box_at(const char *p, size_t n, size_t i, size_t *brace) {
  size_t j;
  if (n - i >= 6 && memcmp(p + i, "\\boxed", 6) == 0)
    j = i + 6;
  else if (n - i >= 5 && memcmp(p + i, "\\fbox", 5) == 0)
    j = i + 5;
  else
    return 0;
  while (j < n && (p[j] == ' ' || p[j] == '\t')) j++;
  if (j >= n || p[j] != '{') return 0;
  *brace = j;
  return 1;
}

/* Index of the brace closing the one at p[o], or n. */
static size_t match_brace(const char *p, size_t n, size_t o) {
  int depth = 0;
  for (size_t m = o; m < n; m++) {
    if (p[m] == '\\') {
      m++;
      continue;
    }
    if (p[m] == '{')
      depth++;
    else if (p[m] == '}' && --depth == 0)
      return m;
  }
  return n;
}

/* Data README rule 2: boxes joined only by blanks, '$', ',', ';', "and",
 * "or" or a "x =" prefix form one answer. Adds the letters of the boxes
 * chained before the extracted one (whose content starts at `a`). */
static void boxed_chain(lset *ls, rk__str in, size_t a, rk__call *c) {
  const char *p = in.p;
  size_t n = in.n, k = a, brace;
  /* The extracted box itself. */
  size_t b = a;
  while (b > 0) {
    b--;
    if (p[b] == '\\' && is_box_at(p, n, b, &brace) && brace < a) break;
    if (a - b > 64) return;
  }
  if (p[b] != '\\') return;
  k = b;
  for (int round = 0; round < 8; round++) {
    size_t j = k;
    for (;;) {
      while (j > 0 && (is_sp((unsigned char)p[j - 1]) || p[j - 1] == '$' || p[j - 1] == ',' ||
                       p[j - 1] == ';'))
        j--;
      if (j >= 2 && (p[j - 2] | 32) == 'o' && (p[j - 1] | 32) == 'r' &&
          (j == 2 || !is_alnum((unsigned char)p[j - 3]))) {
        j -= 2;
        continue;
      }
      if (j >= 3 && (p[j - 3] | 32) == 'a' && (p[j - 2] | 32) == 'n' && (p[j - 1] | 32) == 'd' &&
          (j == 3 || !is_alnum((unsigned char)p[j - 4]))) {
        j -= 3;
        continue;
      }
      if (j >= 1 && p[j - 1] == '=') {
        j--;
        while (j > 0 && p[j - 1] == ' ') j--;
        if (j > 0 && is_alnum((unsigned char)p[j - 1]) &&
            (j == 1 || !is_alnum((unsigned char)p[j - 2])))
          j--;
        continue;
      }
      break;
    }
    if (j == 0 || p[j - 1] != '}') return;
    size_t close = j - 1, found = n;
    /* The nearest box opening before `close` whose brace closes there. */
    size_t q = close;
    for (int tries = 0; tries < 4 && q > 0; tries++) {
      const char *bs = memrchr(p, '\\', q);
      if (!bs) break;
      q = (size_t)(bs - p);
      if (!is_box_at(p, n, q, &brace)) {
        tries--;
        if (close - q > 4096) break;
        continue;
      }
      rk__spend(c, close - q);
      if (match_brace(p, n, brace) == close) {
        found = q;
        break;
      }
    }
    if (found == n) return;
    is_box_at(p, n, found, &brace);
    scan_letters(ls, rk__str_make(p + brace + 1, close - brace - 1), 0);
    k = found;
  }
}

/* ----------------------------------------------------------- options */

typedef struct optset {
  rk__str text[MAX_LETTERS]; /* normalised option texts */
  size_t n;
} optset;

/* Loads and normalises the options (static or from the record). Returns
 * 0, or -1 with an explanation when the record's field is unusable. */
static int load_options(const mcq_cfg *cfg, rk__call *c, optset *os, lset *ls) {
  os->n = 0;
  rk__str raw[MAX_LETTERS];
  size_t n = 0;
  if (cfg->options) {
    for (size_t i = 0; i < cfg->noptions; i++)
      raw[n++] = rk__str_make(cfg->options[i], strlen(cfg->options[i]));
  } else if (cfg->options_field) {
    const rk__jval *v = rk__record_field(c->rec, cfg->options_field);
    if (!v) {
      rk__explain(c, "record has no field '%s' with the options", cfg->options_field);
      return -1;
    }
    if (v->type == RK__JARR) {
      for (size_t i = 0; i < v->u.arr.n && n < MAX_LETTERS; i++) {
        const rk__jval *it = &v->u.arr.items[i];
        raw[n++] = it->type == RK__JSTR ? it->u.str : it->raw;
      }
      if (!cfg->letters_given) {
        if (n > 26) n = 26;
        ls->nl = n;
      }
    } else if (v->type == RK__JOBJ) {
      /* {"A": "Paris", "B": "London"}: the keys are the letters. */
      char *lt = rk__arena_alloc(c->arena, MAX_LETTERS + 1);
      if (!lt) return -1;
      for (size_t i = 0; i < v->u.obj.n && n < MAX_LETTERS; i++) {
        const rk__jmember *m = &v->u.obj.items[i];
        if (m->key.n != 1 || !is_alnum((unsigned char)m->key.p[0])) continue;
        lt[n] = m->key.p[0];
        raw[n++] = m->val.type == RK__JSTR ? m->val.u.str : m->val.raw;
      }
      ls->letters = lt;
      ls->nl = n;
    } else {
      rk__explain(c, "field '%s' is not an array of options", cfg->options_field);
      return -1;
    }
  }
  if (n > ls->nl) n = ls->nl;
  for (size_t i = 0; i < n; i++) {
    if (!rk__spend(c, rk__norm_steps(&cfg->norm, raw[i]))) return -2;
    if (rk__normalize(&cfg->norm, c->arena, rk__text_clean(raw[i]), &os->text[i])) return -1;
  }
  os->n = n;
  return 0;
}

static int word_ch(unsigned char c) {
  return c >= 0x80 || is_alnum(c);
}

/* Letters whose option text the (normalised) answer equals, else contains
 * as whole words; an option inside a longer matching option is dropped
 * ("York" inside "New York"). */
static uint64_t match_text(const optset *os, rk__str ans) {
  uint64_t eq = 0, in = 0;
  for (size_t i = 0; i < os->n; i++) {
    rk__str t = os->text[i];
    if (!t.n) continue;
    if (rk__str_eq(t, ans)) eq |= (uint64_t)1 << i;
    const char *from = ans.p;
    size_t left = ans.n;
    while (left >= t.n) {
      const char *q = memmem(from, left, t.p, t.n);
      if (!q) break;
      size_t a = (size_t)(q - ans.p), b = a + t.n;
      if ((a == 0 || !word_ch((unsigned char)ans.p[a - 1])) &&
          (b == ans.n || !word_ch((unsigned char)ans.p[b]))) {
        in |= (uint64_t)1 << i;
        break;
      }
      left = ans.n - a - 1;
      from = q + 1;
    }
  }
  if (eq) return eq;
  uint64_t keep = in;
  for (size_t i = 0; i < os->n; i++) {
    if (!(in >> i & 1)) continue;
    for (size_t j = 0; j < os->n; j++)
      if (j != i && (in >> j & 1) && os->text[j].n > os->text[i].n &&
          memmem(os->text[j].p, os->text[j].n, os->text[i].p, os->text[i].n))
        keep &= ~((uint64_t)1 << i);
  }
  return keep;
}

/* ------------------------------------------------------------- score */

/* The last sentence of a long line (". " / "! " / "? " boundaries). */
static rk__str last_sentence(rk__str s) {
  if (s.n <= 256) return s;
  size_t i = s.n - 1;
  while (i > 1) {
    if ((s.p[i - 1] == '.' || s.p[i - 1] == '!' || s.p[i - 1] == '?') && s.p[i] == ' ' &&
        i + 1 < s.n)
      return rk__text_trim(rk__str_make(s.p + i, s.n - i));
    i--;
  }
  return s;
}

static rk_status mcq_score(const void *p, rk__call *c, double *value) {
  const mcq_cfg *cfg = p;
  *value = 0;
  lset ls = {cfg->letters, strlen(cfg->letters), 0};
  optset os;
  int lo = load_options(cfg, c, &os, &ls);
  if (lo == -2) return RK_STATUS_TIMEOUT;
  if (lo < 0) return RK_STATUS_INVALID_REFERENCE;

  /* Reference: letters, or an option text. */
  rk__str refs[RK__MAX_REFS];
  int had;
  size_t nref = rk__text_refs(c, refs, RK__MAX_REFS, &had);
  if (!nref) {
    rk__explain(c, had ? "reference is empty or not a string" : "record has no reference");
    return RK_STATUS_INVALID_REFERENCE;
  }
  uint64_t gold[RK__MAX_REFS];
  for (size_t i = 0; i < nref; i++) {
    rk__str r = rk__text_clean(refs[i]);
    lset g = ls;
    g.set = 0;
    if (r.n == 1 && r.p[0] >= 'a' && r.p[0] <= 'z' && lindex(&g, (unsigned char)r.p[0]) < 0) {
      int k = lindex(&g, (unsigned char)(r.p[0] - 32));
      if (k >= 0) g.set = (uint64_t)1 << k;
    }
    if (!g.set && os.n) {
      rk__str nr;
      if (!rk__spend(c, rk__norm_steps(&cfg->norm, r))) return RK_STATUS_TIMEOUT;
      if (rk__normalize(&cfg->norm, c->arena, r, &nr)) return rk__fail(c, "mcq: out of memory");
      for (size_t k = 0; k < os.n; k++)
        if (os.text[k].n && rk__str_eq(os.text[k], nr)) g.set |= (uint64_t)1 << k;
    }
    if (!g.set) scan_letters(&g, r, 1);
    if (!g.set) {
      const char *e;
      int k = rk__text_clip(r, 60, &e);
      rk__explain(c, "reference '%.*s%s' is not an option letter%s", k, r.p, e,
                  os.n ? " or option text" : "");
      return RK_STATUS_INVALID_REFERENCE;
    }
    gold[i] = g.set;
  }

  /* The answer span. */
  rk__str resp = c->rec->response, ans;
  const char *how = NULL;
  rk_status st = rk__extract(&cfg->ex, c, resp, &ans, &how);
  if (st == RK_STATUS_TIMEOUT) return st;
  if (st != RK_STATUS_OK) {
    if (cfg->extract_given) return st;
    if (!rk__spend(c, resp.n / 8 + 1)) return RK_STATUS_TIMEOUT;
    ans = last_sentence(rk__text_last_line(resp));
    how = "last line";
    if (!ans.n) return RK_STATUS_UNPARSEABLE;
    rk__explain(c, "so reading the last line");
  }
  if (!rk__spend(c, ans.n + 1)) return RK_STATUS_TIMEOUT;
  /* Full-width forms ("（C）", "Ｃ") read as their ASCII letters and
   * brackets: NFKC only, no case folding (letters are case-sensitive). */
  rk__str scan = ans;
  for (size_t i = 0; i < ans.n; i++) {
    if ((unsigned char)ans.p[i] < 0x80) continue;
    static const rk__norm nfkc = {RK__NORM_DEFAULT, RK__NORM_NFKC};
    if (!rk__spend(c, rk__norm_steps(&nfkc, ans))) return RK_STATUS_TIMEOUT;
    if (rk__normalize(&nfkc, c->arena, ans, &scan)) return rk__fail(c, "mcq: out of memory");
    break;
  }
  ls.set = 0;
  scan_letters(&ls, scan, 0);
  if (how && strcmp(how, "boxed") == 0 && ans.p >= resp.p && ans.p <= resp.p + resp.n)
    boxed_chain(&ls, resp, (size_t)(ans.p - resp.p), c);
  const char *e1;
  int k1 = rk__text_clip(ans, 60, &e1);
  if (!ls.set && os.n) {
    rk__str na;
    if (!rk__spend(c, rk__norm_steps(&cfg->norm, ans))) return RK_STATUS_TIMEOUT;
    if (rk__normalize(&cfg->norm, c->arena, ans, &na)) return rk__fail(c, "mcq: out of memory");
    ls.set = match_text(&os, na);
    if (ls.set && popcount64(ls.set) == 1)
      rk__explain(c, "answer '%.*s%s' is the text of option %c", k1, ans.p, e1,
                  ls.letters[__builtin_ctzll(ls.set)]);
  }
  if (!ls.set) {
    rk__explain(c, "no option letter in '%.*s%s' (%s)", k1, ans.p, e1, how ? how : "");
    return RK_STATUS_UNPARSEABLE;
  }
  char pbuf[3 * MAX_LETTERS + 4], gbuf[3 * MAX_LETTERS + 4];
  set_text(&ls, ls.set, pbuf, sizeof pbuf);
  for (size_t i = 0; i < nref; i++) {
    if (gold[i] == ls.set) {
      *value = 1;
      rk__explain(c, "pred %s == gold %s", pbuf, pbuf);
      return RK_STATUS_OK;
    }
  }
  set_text(&ls, gold[0], gbuf, sizeof gbuf);
  if (popcount64(ls.set) > 1)
    rk__explain(c, "names several options: %s (gold %s)", pbuf, gbuf);
  else
    rk__explain(c, "pred %s != gold %s", pbuf, gbuf);
  return RK_STATUS_OK;
}

const rk__fn rk__fn_mcq = {
    .name = "mcq",
    .summary =
        "multiple-choice letter match; several options named = 0 (args: letters, "
        "options, options_field, extract)",
    .compile = mcq_compile,
    .score = mcq_score,
    .free = mcq_free,
};
