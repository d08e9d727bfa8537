/*
 * keywords.c - fns `keywords` and `keyword_chain`: coverage of a keyword
 * list (a lexicon) in the answer, with fuzzy matching, synonym groups and
 * Unicode-aware comparison, as the content rewards of Agri-R1 and RLVRR
 * use it (docs/rewards/edit.md).
 *
 *   keywords:      reward = (groups found anywhere) / (groups)
 *   keyword_chain: groups must appear in the given order: a greedy scan
 *                  looks for each group after the end of the previous
 *                  match; reward = (groups found in order) / (groups)
 *
 * A group is one keyword or a list of synonyms (any one counts). Found
 * means: some substring of the normalised answer is within k edits of the
 * normalised keyword (approximate search, Sellers/Myers), with
 * k = floor((1 - min_similarity) * len) code points, or "max_edits".
 * Substring search works the same for spaced and unspaced scripts (CJK).
 *
 * Not for: semantic similarity (use a reward model) or n-gram overlap
 * (rouge, chrf).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "metrics/edit_common.h"

#define KW_MAX_GROUPS 256
#define KW_MAX_ALTS 4096

/* Keyword groups: alts[group_start[g] .. group_start[g+1]). */
typedef struct kw_list {
  size_t ngroups, nalts;
  rk__str alts[KW_MAX_ALTS];
  size_t group_start[KW_MAX_GROUPS + 1];
} kw_list;

typedef struct kw_cfg {
  int chain;
  int strict;         /* keyword_chain: stop at the first missing group */
  double min_sim;
  long max_edits;     /* -1: from min_sim */
  char *field;        /* keywords from this record field, else reference */
  kw_list *fixed;     /* keywords from args, or NULL */
  char *fixed_mem;    /* backing store of fixed's strings */
  rk__norm norm;
  rk__extract_cfg ex;
} kw_cfg;

static void kw_free(void *p) {
  kw_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg->field);
  free(cfg->fixed);
  free(cfg->fixed_mem);
  free(cfg);
}

/* Adds one group from a JSON value (string, number, or array of them).
 * Returns 0, or -1 when it is of another type. Strings borrow from v. */
static int kw_add_group(kw_list *l, const rk__jval *v) {
  if (l->ngroups >= KW_MAX_GROUPS) return 0; /* silently capped; documented */
  size_t before = l->nalts;
  if (v->type == RK__JSTR || v->type == RK__JNUM) {
    if (l->nalts < KW_MAX_ALTS)
      l->alts[l->nalts++] = v->type == RK__JSTR ? v->u.str : v->raw;
  } else if (v->type == RK__JARR) {
    for (size_t i = 0; i < v->u.arr.n; i++) {
      const rk__jval *it = &v->u.arr.items[i];
      if (it->type != RK__JSTR && it->type != RK__JNUM) return -1;
      if (l->nalts < KW_MAX_ALTS)
        l->alts[l->nalts++] = it->type == RK__JSTR ? it->u.str : it->raw;
    }
  } else {
    return -1;
  }
  /* Drop empty alternatives; a group left empty is no group. */
  size_t k = before;
  for (size_t i = before; i < l->nalts; i++)
    if (rk__text_trim(l->alts[i]).n) l->alts[k++] = rk__text_trim(l->alts[i]);
  l->nalts = k;
  if (k > before) l->group_start[++l->ngroups] = k;
  return 0;
}

/* A reference string is a list: split on , ; newline and the CJK
 * separators U+3001 (、), U+FF0C (，), U+FF1B (；). */
static void kw_split_string(kw_list *l, rk__str s) {
  size_t i = 0, start = 0;
  while (i <= s.n && l->ngroups < KW_MAX_GROUPS) {
    size_t sep = 0;
    if (i == s.n)
      sep = 1;
    else if (s.p[i] == ',' || s.p[i] == ';' || s.p[i] == '\n')
      sep = 1;
    else if (i + 3 <= s.n && ((unsigned char)s.p[i] == 0xE3 && (unsigned char)s.p[i + 1] == 0x80 &&
                              (unsigned char)s.p[i + 2] == 0x81))
      sep = 3;
    else if (i + 3 <= s.n && (unsigned char)s.p[i] == 0xEF && (unsigned char)s.p[i + 1] == 0xBC &&
             ((unsigned char)s.p[i + 2] == 0x8C || (unsigned char)s.p[i + 2] == 0x9B))
      sep = 3;
    if (!sep) {
      i++;
      continue;
    }
    rk__str t = rk__text_trim(rk__str_make(s.p + start, i - start));
    if (t.n && l->nalts < KW_MAX_ALTS) {
      l->alts[l->nalts++] = t;
      l->group_start[++l->ngroups] = l->nalts;
    }
    i += sep;
    start = i;
  }
}

static int kw_from_json(kw_list *l, const rk__jval *v) {
  l->ngroups = l->nalts = 0;
  l->group_start[0] = 0;
  if (v->type == RK__JSTR) {
    kw_split_string(l, v->u.str);
    return 0;
  }
  if (v->type == RK__JNUM) return kw_add_group(l, v);
  if (v->type != RK__JARR) return -1;
  for (size_t i = 0; i < v->u.arr.n; i++)
    if (kw_add_group(l, &v->u.arr.items[i])) return -1;
  return 0;
}

static int kw_compile_common(rk__argctx *ac, void **out, int chain) {
  static const rk__ex_mode def[] = {RK__EX_ANSWER_TAG, RK__EX_NONE};
  kw_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  cfg->chain = chain;
  int cs = 0, nfkc = 1;
  if (rk__edm_extract_compile(ac, def, 2, &cfg->ex) ||
      rk__arg_num_range(ac, "min_similarity", 0.8, 0.0, 1.0, &cfg->min_sim) ||
      rk__arg_int(ac, "max_edits", -1, -1, 1000000, &cfg->max_edits) ||
      rk__arg_bool(ac, "case_sensitive", 0, &cs) || rk__arg_bool(ac, "nfkc", 1, &nfkc) ||
      rk__arg_str(ac, "field", NULL, &cfg->field) ||
      (chain && rk__arg_bool(ac, "strict", 0, &cfg->strict))) {
    kw_free(cfg);
    return -1;
  }
  cfg->norm.kind = RK__NORM_DEFAULT;
  cfg->norm.steps = RK__NORM_SPACE | (cs ? 0u : (unsigned)RK__NORM_CASEFOLD) |
                    (nfkc ? (unsigned)RK__NORM_NFKC : 0u);
  const rk__jval *kw = rk__arg_raw(ac, "keywords");
  if (kw) {
    if (cfg->field) {
      kw_free(cfg);
      return rk__arg_error(ac, "field", "give either \"keywords\" or \"field\", not both");
    }
    /* Copy the strings: the spec's JSON is gone after compile(). */
    kw_list tmp;
    if (kw_from_json(&tmp, kw) || tmp.ngroups == 0) {
      kw_free(cfg);
      return rk__arg_error(ac, "keywords",
                           "expected a non-empty list of keywords (strings) or synonym "
                           "groups (lists of strings)");
    }
    size_t bytes = 0;
    for (size_t i = 0; i < tmp.nalts; i++) bytes += tmp.alts[i].n + 1;
    cfg->fixed = malloc(sizeof *cfg->fixed);
    cfg->fixed_mem = malloc(bytes + 1);
    if (!cfg->fixed || !cfg->fixed_mem) {
      kw_free(cfg);
      return rk__arg_error(ac, NULL, "out of memory");
    }
    *cfg->fixed = tmp;
    char *o = cfg->fixed_mem;
    for (size_t i = 0; i < tmp.nalts; i++) {
      memcpy(o, tmp.alts[i].p, tmp.alts[i].n);
      o[tmp.alts[i].n] = '\0';
      cfg->fixed->alts[i].p = o;
      o += tmp.alts[i].n + 1;
    }
  }
  *out = cfg;
  return 0;
}

static int kw_compile(rk__argctx *ac, void **out) { return kw_compile_common(ac, out, 0); }
static int chain_compile(rk__argctx *ac, void **out) { return kw_compile_common(ac, out, 1); }

/* Allowed edits for a keyword of m code points. */
static long kw_allowed(const kw_cfg *cfg, size_t m) {
  /* The epsilon keeps (1 - 0.8) * 5 = 0.99999999999999978 from flooring
   * to 0. At most m - 1 edits: a keyword never matches the empty string. */
  long k = cfg->max_edits >= 0 ? cfg->max_edits
                               : (long)floor((1.0 - cfg->min_sim) * (double)m + 1e-9);
  return k < (long)m ? k : (long)m - 1;
}

static rk_status kw_score(const void *p, rk__call *c, double *value) {
  const kw_cfg *cfg = p;
  *value = 0;
  kw_list *l = (kw_list *)cfg->fixed;
  if (!l) {
    const rk__jval *src = cfg->field ? rk__record_field(c->rec, cfg->field) : c->rec->reference;
    l = rk__arena_alloc(c->arena, sizeof *l);
    if (!l) return rk__fail(c, "out of scratch memory");
    if (!src || src->type == RK__JNULL) {
      rk__explain(c, "no keywords: record has no %s", cfg->field ? cfg->field : "reference");
      return RK_STATUS_INVALID_REFERENCE;
    }
    if (kw_from_json(l, src)) {
      rk__explain(c, "keywords must be a string (comma-separated) or a list of strings / lists");
      return RK_STATUS_INVALID_REFERENCE;
    }
  }
  if (l->ngroups == 0) {
    rk__explain(c, "keyword list is empty");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__str ans, t;
  rk_status st = rk__extract(&cfg->ex, c, c->rec->response, &ans, NULL);
  if (st != RK_STATUS_OK) return st;
  if (!rk__spend(c, rk__norm_steps(&cfg->norm, ans))) return RK_STATUS_TIMEOUT;
  if (rk__normalize(&cfg->norm, c->arena, ans, &t)) return rk__fail(c, "out of scratch memory");
  rk__seq text;
  if ((st = rk__edm_decode(c, t, &text)) != RK_STATUS_OK) return st;
  size_t found = 0, cursor = 0, first_missing = SIZE_MAX, fuzzy = 0;
  int stopped = 0;
  for (size_t g = 0; g < l->ngroups; g++) {
    size_t best_end = SIZE_MAX;
    long best_d = -1;
    if (!stopped)
      for (size_t a = l->group_start[g]; a < l->group_start[g + 1]; a++) {
        if (!rk__spend(c, rk__norm_steps(&cfg->norm, l->alts[a]))) return RK_STATUS_TIMEOUT;
        rk__str kn;
        if (rk__normalize(&cfg->norm, c->arena, l->alts[a], &kn))
          return rk__fail(c, "out of scratch memory");
        rk__seq kw;
        if ((st = rk__edm_decode(c, kn, &kw)) != RK_STATUS_OK) return st;
        if (kw.n == 0) continue;
        long k = kw_allowed(cfg, kw.n);
        size_t from = cfg->chain ? cursor : 0;
        uint64_t cost = rk__lev_cost(kw.n, text.n - from);
        if (!rk__spend(c, cost)) {
          rk__explain(c, "keyword search of %zu x %zu code points needs about %llu steps, over the "
                      "step budget", kw.n, text.n - from, (unsigned long long)cost);
          return RK_STATUS_TIMEOUT;
        }
        size_t end;
        long d = rk__lev_search(kw.v, kw.n, text.v + from, text.n - from, k, &end, c->arena);
        if (d < 0) return rk__fail(c, "out of scratch memory");
        if (d <= k && from + end < best_end) best_end = from + end, best_d = d;
      }
    if (best_d >= 0) {
      found++;
      fuzzy += best_d > 0;
      if (cfg->chain) cursor = best_end;
    } else {
      if (first_missing == SIZE_MAX) first_missing = g;
      if (cfg->chain && cfg->strict) stopped = 1;
    }
  }
  *value = (double)found / (double)l->ngroups;
  if (rk__explaining(c)) {
    char a[32];
    rk__explain(c, "%s %zu of %zu keyword groups%s (%zu fuzzy); coverage %s",
                cfg->chain ? "found in order" : "found", found, l->ngroups,
                cfg->chain && cfg->strict && first_missing != SIZE_MAX ? " before the first miss" : "",
                fuzzy, rk__edm_num(a, *value));
    if (first_missing != SIZE_MAX) {
      rk__str m = l->alts[l->group_start[first_missing]];
      const char *e;
      int k = rk__text_clip(m, 40, &e);
      rk__explain(c, "first missing: '%.*s%s'", k, m.p, e);
    }
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_keywords = {
    .name = "keywords",
    .summary = "share of keyword groups (synonyms allowed) found in the answer, fuzzy by edit distance",
    .compile = kw_compile,
    .score = kw_score,
    .free = kw_free,
};

const rk__fn rk__fn_keyword_chain = {
    .name = "keyword_chain",
    .summary = "share of keyword groups found in the given order (greedy scan), fuzzy by edit distance",
    .compile = chain_compile,
    .score = kw_score,
    .free = kw_free,
};
