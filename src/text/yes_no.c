/*
 * yes_no.c - fn `yes_no`: binary answers. The extracted answer's decisive
 * words (yes/true vs no/false by default, configurable) give its polarity;
 * an answer holding both polarities ("yes or no") scores 0. Reward 1 when
 * the polarity equals the reference's (a string or a JSON boolean).
 *
 * Not for: free-text answers (fn exact) or confidence-weighted judging.
 */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "text/extract.h"
#include "text/normalize.h"

typedef struct yn_cfg {
  rk__extract_cfg ex;
  int extract_given;
  char **yes, **no;
  size_t nyes, nno;
} yn_cfg;

static void yn_free(void *p) {
  yn_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  rk__strlist_free(cfg->yes);
  rk__strlist_free(cfg->no);
  free(cfg);
}

static inline int tokch(unsigned char c) {
  return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

static int ci_eq(const char *a, size_t n, const char *z) {
  size_t i = 0;
  for (; i < n && z[i]; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)z[i];
    if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
    if (x != y) return 0;
  }
  return i == n && !z[i];
}

static int words_arg(rk__argctx *ac, const char *key, const char *d1, const char *d2, char ***out,
                     size_t *n) {
  if (rk__arg_strlist(ac, key, out, n)) return -1;
  if (!*out) {
    char **l = calloc(3, sizeof *l);
    if (!l) return rk__arg_error(ac, key, "out of memory");
    l[0] = strdup(d1);
    l[1] = strdup(d2);
    *out = l;
    *n = 2;
    if (!l[0] || !l[1]) return rk__arg_error(ac, key, "out of memory");
    return 0;
  }
  if (*n == 0) return rk__arg_error(ac, key, "expected at least one word");
  for (size_t i = 0; i < *n; i++) {
    const char *w = (*out)[i];
    if (!*w) return rk__arg_error(ac, key, "item %zu is empty", i);
    for (const char *q = w; *q; q++)
      if (!tokch((unsigned char)*q))
        return rk__arg_error(ac, key, "item %zu: '%s' is not a single word", i, w);
  }
  return 0;
}

static int yn_compile(rk__argctx *ac, void **out) {
  yn_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  cfg->extract_given = rk__arg_raw(ac, "extract") != NULL;
  if (rk__extract_cfg_compile(ac, RK__EX_AUTO, &cfg->ex) ||
      words_arg(ac, "yes_words", "yes", "true", &cfg->yes, &cfg->nyes) ||
      words_arg(ac, "no_words", "no", "false", &cfg->no, &cfg->nno))
    goto fail;
  for (size_t i = 0; i < cfg->nyes; i++)
    for (size_t j = 0; j < cfg->nno; j++)
      if (ci_eq(cfg->yes[i], strlen(cfg->yes[i]), cfg->no[j])) {
        rk__arg_error(ac, "no_words", "'%s' is also a yes word", cfg->no[j]);
        goto fail;
      }
  *out = cfg;
  return 0;
fail:
  yn_free(cfg);
  return -1;
}

/* Polarity of a span: +1 yes, -1 no, 0 none, 2 both. *first gets the
 * first decisive word, *other the first word of the other polarity. */
static int polarity(const yn_cfg *cfg, rk__str s, rk__str *first, rk__str *other) {
  const char *p = s.p;
  size_t n = s.n, i = 0;
  int pol = 0;
  while (i < n) {
    unsigned char ch = (unsigned char)p[i];
    if (ch == '\\') {
      /* LaTeX command names (\text, \textbf) are not words. */
      i++;
      while (i < n && ((p[i] | 32) >= 'a' && (p[i] | 32) <= 'z')) i++;
      continue;
    }
    if (!tokch(ch)) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < n && tokch((unsigned char)p[j])) j++;
    int w = 0;
    for (size_t k = 0; k < cfg->nyes && !w; k++)
      if (ci_eq(p + i, j - i, cfg->yes[k])) w = 1;
    for (size_t k = 0; k < cfg->nno && !w; k++)
      if (ci_eq(p + i, j - i, cfg->no[k])) w = -1;
    if (w) {
      if (!pol) {
        pol = w;
        *first = rk__str_make(p + i, j - i);
      } else if (w != pol) {
        *other = rk__str_make(p + i, j - i);
        return 2;
      }
    }
    i = j;
  }
  return pol;
}

static rk_status yn_score(const void *p, rk__call *c, double *value) {
  const yn_cfg *cfg = p;
  *value = 0;
  const rk__jval *ref = c->rec->reference;
  int gold = 0;
  rk__str f = {0}, o = {0};
  if (ref && ref->type == RK__JTRUE) {
    gold = 1;
  } else if (ref && ref->type == RK__JFALSE) {
    gold = -1;
  } else {
    rk__str refs[RK__MAX_REFS];
    int had;
    size_t nref = rk__text_refs(c, refs, RK__MAX_REFS, &had);
    if (nref) gold = polarity(cfg, refs[0], &f, &o);
    if (gold != 1 && gold != -1) {
      rk__explain(c, nref ? "reference is not a yes/no answer" : "record has no reference");
      return RK_STATUS_INVALID_REFERENCE;
    }
  }
  rk__str resp = c->rec->response, ans;
  const char *how = NULL;
  rk_status st = rk__extract(&cfg->ex, c, resp, &ans, &how);
  if (st == RK_STATUS_TIMEOUT) return st;
  if (st != RK_STATUS_OK) {
    if (cfg->extract_given) return st;
    if (!rk__spend(c, resp.n / 8 + 1)) return RK_STATUS_TIMEOUT;
    ans = rk__text_last_line(resp);
    how = "last line";
    if (!ans.n) return RK_STATUS_UNPARSEABLE;
    rk__explain(c, "so reading the last line");
  }
  if (!rk__spend(c, ans.n + 1)) return RK_STATUS_TIMEOUT;
  int pol = polarity(cfg, ans, &f, &o);
  const char *e1;
  int k1 = rk__text_clip(ans, 60, &e1);
  const char *gname = gold > 0 ? "yes" : "no";
  if (pol == 0) {
    rk__explain(c, "no yes/no word in '%.*s%s' (%s)", k1, ans.p, e1, how ? how : "");
    return RK_STATUS_UNPARSEABLE;
  }
  if (pol == 2) {
    rk__explain(c, "names both answers: '%.*s' and '%.*s' (gold %s)", (int)f.n, f.p, (int)o.n, o.p,
                gname);
    return RK_STATUS_OK;
  }
  *value = pol == gold;
  rk__explain(c, "pred '%.*s' is %s %s gold %s", (int)(f.n > 40 ? 40 : f.n), f.p,
              pol > 0 ? "yes" : "no", pol == gold ? "==" : "!=", gname);
  return RK_STATUS_OK;
}

const rk__fn rk__fn_yes_no = {
    .name = "yes_no",
    .summary = "yes/no answer match; both named = 0 (args: yes_words, no_words, extract)",
    .compile = yn_compile,
    .score = yn_score,
    .free = yn_free,
};
