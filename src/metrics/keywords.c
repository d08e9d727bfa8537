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
 * keywords with "grading": "tiers" grades each group instead, as Agri-R1's
 * fuzzy_match_score_v3 (grpo_agri_vqa_v3.py): on Python-lower-cased text,
 * 1 for a term found whole, 0.85 for a multi-word term missing at most one
 * word (of those over 3 code points), 0.7 for a word over 4 code points
 * sharing its first 6 with an answer word (either way round), 0.5 for a
 * word over 3 code points found, 0.25 for a related word (a table, Agri-R1's
 * by default); reward = sum(weight * grade) / sum(weight).
 *
 * Not for: semantic similarity (use a reward model) or n-gram overlap
 * (rouge, chrf).
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "metrics/edit_common.h"
#include "text/pycase.h"

#define KW_MAX_GROUPS 256
#define KW_MAX_ALTS 4096
#define KW_MAX_RELATED 64   /* keys of the "related" table */
#define KW_MAX_RELWORDS 256 /* their words, in all */

/* Keyword groups: alts[group_start[g] .. group_start[g+1]). */
typedef struct kw_list {
  size_t ngroups, nalts;
  rk__str alts[KW_MAX_ALTS];
  size_t group_start[KW_MAX_GROUPS + 1];
} kw_list;

/* The fifth tier's table: a term that contains key k earns 0.25 when the
 * answer contains one of words[start[k] .. start[k + 1]). UTF-8, as
 * written (Python compares them without lower-casing). */
typedef struct kw_related {
  size_t nkeys;
  rk__str key[KW_MAX_RELATED];
  size_t start[KW_MAX_RELATED + 1];
  rk__str word[KW_MAX_RELWORDS];
} kw_related;

typedef struct kw_cfg {
  int chain;
  int strict;         /* keyword_chain: stop at the first missing group */
  int tiers;          /* keywords: grade groups as Agri-R1 (else found or not) */
  double *weights;    /* tiers: one per group, or NULL (all 1) */
  size_t nweights;
  kw_related *related; /* tiers: the fifth tier's table (malloc'd, with its bytes) */
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
  free(cfg->weights);
  free(cfg->related);
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

/* Agri-R1's table for the fifth tier (grpo_agri_vqa_v3.py): the default
 * of "related". */
static const char *const agri_related[][4] = {
    {"blight", "disease", "infection", "lesion"},
    {"rot", "decay", "rotting", "damaged"},
    {"spot", "lesion", "mark", "blotch"},
};

/* Copies s[0..n) to the table's memory at *o (room checked by the
 * caller) as *out. */
static void kw_put(const char *s, size_t n, char **o, rk__str *out) {
  memcpy(*o, s, n);
  *out = rk__str_make(*o, n);
  *o += n;
}

/* "grading", and with "tiers" its "weights" and "related"; the options of
 * the found-or-not matching are refused with it (it has no edit
 * distance and no normalisation but lower()). */
static int kw_tiers_compile(rk__argctx *ac, kw_cfg *cfg) {
  static const char *const gradings[] = {"found", "tiers", NULL};
  if (rk__arg_enum(ac, "grading", gradings, 0, &cfg->tiers)) return -1;
  static const char *const fuzzy_only[] = {"min_similarity", "max_edits", "case_sensitive", "nfkc"};
  for (size_t i = 0; i < sizeof fuzzy_only / sizeof *fuzzy_only; i++)
    if (cfg->tiers && rk__arg_raw(ac, fuzzy_only[i]))
      return rk__arg_error(ac, fuzzy_only[i],
                           "has no effect with \"grading\": \"tiers\" (Agri-R1's tiers compare "
                           "lower-cased text, with no edit distance)");
  const rk__jval *w = rk__arg_raw(ac, "weights"), *rel = rk__arg_raw(ac, "related");
  if (!cfg->tiers) {
    if (w) return rk__arg_error(ac, "weights", "only with \"grading\": \"tiers\"");
    if (rel) return rk__arg_error(ac, "related", "only with \"grading\": \"tiers\"");
    return 0;
  }
  if (w) {
    double sum = 0;
    if (w->type != RK__JARR || w->u.arr.n == 0 || w->u.arr.n > KW_MAX_GROUPS)
      return rk__arg_error(ac, "weights", "expected a list of 1 to %d numbers, one per keyword group",
                           KW_MAX_GROUPS);
    for (size_t i = 0; i < w->u.arr.n; i++) {
      const rk__jval *x = &w->u.arr.items[i];
      if (x->type != RK__JNUM || !(x->u.num >= 0) || !isfinite(x->u.num))
        return rk__arg_error(ac, "weights", "item %zu: expected a number >= 0", i);
      sum += x->u.num;
    }
    if (!(sum > 0)) return rk__arg_error(ac, "weights", "the weights add up to 0");
    cfg->weights = malloc(w->u.arr.n * sizeof *cfg->weights);
    if (!cfg->weights) return rk__arg_error(ac, NULL, "out of memory");
    for (size_t i = 0; i < w->u.arr.n; i++) cfg->weights[i] = w->u.arr.items[i].u.num;
    cfg->nweights = w->u.arr.n;
  }
  /* The table and its bytes in one block. */
  size_t bytes = 0, nkeys = 0, nwords = 0;
  if (rel) {
    if (rel->type != RK__JOBJ || rel->u.obj.n > KW_MAX_RELATED)
      return rk__arg_error(ac, "related", "expected an object of at most %d keys, each with a "
                           "list of words", KW_MAX_RELATED);
    for (size_t k = 0; k < rel->u.obj.n; k++) {
      const rk__jval *v = &rel->u.obj.items[k].val;
      if (v->type != RK__JARR)
        return rk__arg_error(ac, "related", "key '%.*s': expected a list of words",
                             (int)rel->u.obj.items[k].key.n, rel->u.obj.items[k].key.p);
      bytes += rel->u.obj.items[k].key.n;
      for (size_t i = 0; i < v->u.arr.n; i++) {
        if (v->u.arr.items[i].type != RK__JSTR)
          return rk__arg_error(ac, "related", "key '%.*s': item %zu is not a string",
                               (int)rel->u.obj.items[k].key.n, rel->u.obj.items[k].key.p, i);
        bytes += v->u.arr.items[i].u.str.n;
        nwords++;
      }
    }
    nkeys = rel->u.obj.n;
    if (nwords > KW_MAX_RELWORDS)
      return rk__arg_error(ac, "related", "more than %d words in all", KW_MAX_RELWORDS);
  } else {
    nkeys = sizeof agri_related / sizeof *agri_related;
    for (size_t k = 0; k < nkeys; k++)
      for (size_t i = 0; i < 4; i++) bytes += strlen(agri_related[k][i]);
  }
  cfg->related = malloc(sizeof *cfg->related + bytes + 1);
  if (!cfg->related) return rk__arg_error(ac, NULL, "out of memory");
  kw_related *r = cfg->related;
  char *o = (char *)(r + 1);
  r->nkeys = nkeys;
  r->start[0] = 0;
  for (size_t k = 0; k < nkeys; k++) {
    size_t m = r->start[k];
    if (rel) {
      const rk__jmember *mem = &rel->u.obj.items[k];
      kw_put(mem->key.p, mem->key.n, &o, &r->key[k]);
      for (size_t i = 0; i < mem->val.u.arr.n; i++)
        kw_put(mem->val.u.arr.items[i].u.str.p, mem->val.u.arr.items[i].u.str.n, &o,
               &r->word[m++]);
    } else {
      kw_put(agri_related[k][0], strlen(agri_related[k][0]), &o, &r->key[k]);
      for (size_t i = 1; i < 4; i++)
        kw_put(agri_related[k][i], strlen(agri_related[k][i]), &o, &r->word[m++]);
    }
    r->start[k + 1] = m;
  }
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
  if (!chain && kw_tiers_compile(ac, cfg)) {
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
    if (cfg->weights && cfg->nweights != tmp.ngroups) {
      size_t nw = cfg->nweights;
      kw_free(cfg);
      return rk__arg_error(ac, "weights", "%zu weights for %zu keyword groups: give one per group",
                           nw, tmp.ngroups);
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

/* ------------------------------------------- graded tiers (Agri-R1) */

/* A text lower-cased as Python's str.lower() does, as UTF-8 (u), and its
 * words (Python's split(): runs of non-whitespace): word k is the bytes
 * u[at[k] .. at[k] + len[k]), cps[k] code points, the first 6 of which
 * take pre6[k] bytes. Substrings of code points are substrings of their
 * UTF-8 bytes, so every "in" of the tiers is a byte search. */
typedef struct kw_text {
  rk__str u;
  size_t ncp; /* code points of u */
  size_t nw;
  size_t *at, *len, *cps, *pre6;
} kw_text;

/* s lower-cased as Python's str.lower() (rk__pylower) into x, and
 * split on Unicode whitespace, which lower() leaves as it is. */
static rk_status kw_text_make(rk__call *c, rk__str s, kw_text *x) {
  if (!rk__spend(c, 2 * (uint64_t)s.n + 1)) return RK_STATUS_TIMEOUT;
  size_t n;
  const char *u = rk__pylower(c->arena, s.p, s.n, &n);
  size_t cap = n / 2 + 1; /* words of at least one byte, apart */
  x->at = u ? rk__arena_alloc(c->arena, 4 * cap * sizeof *x->at) : NULL;
  if (!x->at) return rk__fail(c, "out of scratch memory");
  x->len = x->at + cap, x->cps = x->at + 2 * cap, x->pre6 = x->at + 3 * cap;
  x->u = rk__str_make(u, n);
  x->nw = x->ncp = 0;
  const unsigned char *p = (const unsigned char *)u, *e = p + n;
  int inword = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; x->ncp++) {
    size_t len = 1;
    uint32_t cp = p[i] < 0x80 ? p[i] : rk__cp_next(p + i, e, &len);
    if (rk__cp_isspace(cp)) {
      if (inword) x->len[k] = i - x->at[k];
      inword = 0;
    } else if (!inword) {
      k = x->nw++;
      x->at[k] = i, x->cps[k] = 0;
      inword = 1;
    }
    i += len;
    if (inword && ++x->cps[k] <= 6) x->pre6[k] = i - x->at[k];
  }
  if (inword) x->len[k] = n - x->at[k];
  return RK_STATUS_OK;
}

/* Python's `needle in hay` on UTF-8 ("" is in everything): 1 or 0, -1
 * over the budget. A short hay is searched in place, charged the byte
 * comparisons it may make; a long one by glibc's memmem, which is linear
 * in the worst case (Two-Way), charged a step a byte. */
static int kw_in(rk__call *c, const char *h, size_t nh, const char *nd, size_t nn) {
  if (nn == 0) return 1;
  if (nn > nh) return 0;
  if (nh <= 64) {
    if (!rk__spend(c, (uint64_t)(nh - nn + 1) * nn)) return -1;
    for (size_t i = 0; i + nn <= nh; i++)
      if (h[i] == nd[0] && memcmp(h + i, nd, nn) == 0) return 1;
    return 0;
  }
  if (!rk__spend(c, (uint64_t)nh + 1)) return -1;
  return memmem(h, nh, nd, nn) != NULL;
}

static const double kw_tier_value[6] = {0, 1.0, 0.85, 0.7, 0.5, 0.25};
static const char *const kw_tier_name[6] = {"none", "whole term", "all words but one",
                                            "6-letter stem", "core word", "related word"};

/* Word k of x: its bytes. */
#define KW_WORD(x, k) ((x)->u.p + (x)->at[k])

/* fuzzy_match_score_v3 of one group over the answer a: the first tier (1
 * to 5, 0 for none) that one of the group's terms reaches, in the order
 * Agri-R1 tries them (every term for tier 1, then every term for tier 2,
 * ...). Returns -1 over the budget. */
static int kw_tier_of(const kw_cfg *cfg, rk__call *c, const kw_text *a, const kw_text *terms,
                      size_t nt) {
  int r;
#define KW_IN(h, nh, nd, nn)                                    \
  do {                                                          \
    if ((r = kw_in(c, (h), (nh), (nd), (nn))) < 0) return -1;   \
  } while (0)
  for (size_t i = 0; i < nt; i++) { /* 1: the term in the answer */
    KW_IN(a->u.p, a->u.n, terms[i].u.p, terms[i].u.n);
    if (r) return 1;
  }
  for (size_t i = 0; i < nt; i++) { /* 2: a multi-word term, one word short at most */
    const kw_text *x = &terms[i];
    if (x->nw < 2) continue;
    size_t hits = 0;
    for (size_t k = 0; k < x->nw; k++) {
      if (x->cps[k] <= 3) continue;
      KW_IN(a->u.p, a->u.n, KW_WORD(x, k), x->len[k]);
      hits += (size_t)r;
    }
    if (hits + 1 >= x->nw) return 2;
  }
  for (size_t i = 0; i < nt; i++) { /* 3: kw[:6] in word or word[:6] in kw */
    const kw_text *x = &terms[i];
    for (size_t k = 0; k < x->nw; k++) {
      if (x->cps[k] <= 4) continue;
      /* kw[:6] (5 or 6 code points, no space) is in some answer word of
       * more than 4 exactly when it is in the answer: one search. */
      KW_IN(a->u.p, a->u.n, KW_WORD(x, k), x->pre6[k]);
      if (r) return 3;
      /* The answer's short words are skipped without a search: charged
       * here, one step each. */
      if (!rk__spend(c, (uint64_t)a->nw + 1)) return -1;
      for (size_t q = 0; q < a->nw; q++) {
        if (a->cps[q] <= 4) continue;
        KW_IN(KW_WORD(x, k), x->len[k], KW_WORD(a, q), a->pre6[q]);
        if (r) return 3;
      }
    }
  }
  for (size_t i = 0; i < nt; i++) { /* 4: a core word in the answer */
    const kw_text *x = &terms[i];
    for (size_t k = 0; k < x->nw; k++) {
      if (x->cps[k] <= 3) continue;
      KW_IN(a->u.p, a->u.n, KW_WORD(x, k), x->len[k]);
      if (r) return 4;
    }
  }
  const kw_related *rel = cfg->related;
  for (size_t i = 0; i < nt; i++) /* 5: a key in the term, a related word in the answer */
    for (size_t k = 0; k < rel->nkeys; k++) {
      KW_IN(terms[i].u.p, terms[i].u.n, rel->key[k].p, rel->key[k].n);
      if (!r) continue;
      for (size_t w = rel->start[k]; w < rel->start[k + 1]; w++) {
        KW_IN(a->u.p, a->u.n, rel->word[w].p, rel->word[w].n);
        if (r) return 5;
      }
    }
#undef KW_IN
  return 0;
}

/* keywords with "grading": "tiers": sum(weight * tier value) / sum(weight). */
static rk_status kw_tiers_score(const kw_cfg *cfg, rk__call *c, const kw_list *l, rk__str ans,
                                double *value) {
  if (cfg->weights && cfg->nweights != l->ngroups) {
    rk__explain(c, "%zu weights for %zu keyword groups: give one per group", cfg->nweights,
                l->ngroups);
    return RK_STATUS_INVALID_REFERENCE;
  }
  kw_text a;
  rk_status st = kw_text_make(c, ans, &a);
  if (st != RK_STATUS_OK) return st;
  size_t most = 0;
  for (size_t g = 0; g < l->ngroups; g++)
    if (l->group_start[g + 1] - l->group_start[g] > most)
      most = l->group_start[g + 1] - l->group_start[g];
  kw_text *terms = rk__arena_alloc(c->arena, most * sizeof *terms);
  if (!terms) return rk__fail(c, "out of scratch memory");
  double num = 0, den = 0;
  char why[200];
  size_t o = 0;
  why[0] = '\0';
  for (size_t g = 0; g < l->ngroups; g++) {
    size_t nt = 0;
    for (size_t k = l->group_start[g]; k < l->group_start[g + 1]; k++)
      if ((st = kw_text_make(c, l->alts[k], &terms[nt++])) != RK_STATUS_OK) return st;
    int tier = kw_tier_of(cfg, c, &a, terms, nt);
    if (tier < 0) {
      rk__explain(c, "the tiers of keyword group %zu went over the step budget (answer of %zu "
                  "code points)", g + 1, a.ncp);
      return RK_STATUS_TIMEOUT;
    }
    double w = cfg->weights ? cfg->weights[g] : 1.0;
    num += w * kw_tier_value[tier], den += w;
    if (rk__explaining(c) && o < sizeof why - 1) {
      rk__str m = l->alts[l->group_start[g]];
      const char *e;
      int k = rk__text_clip(m, 24, &e);
      char v[32];
      int wr = snprintf(why + o, sizeof why - o, "%s'%.*s%s' %s (%s)", g ? ", " : "", k, m.p, e,
                        rk__edm_num(v, kw_tier_value[tier]), kw_tier_name[tier]);
      o = wr < 0 ? sizeof why - 1 : o + (size_t)wr;
      if (o >= sizeof why) o = sizeof why - 1;
    }
  }
  *value = num / den;
  if (rk__explaining(c)) {
    char v[32];
    rk__explain(c, "tiers of %zu keyword groups: %s; %s %s", l->ngroups, why,
                cfg->weights ? "weighted mean" : "mean", rk__edm_num(v, *value));
  }
  return RK_STATUS_OK;
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
  if (cfg->tiers) return kw_tiers_score(cfg, c, l, ans, value);
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
    .summary = "share of keyword groups (synonyms allowed) found in the answer, fuzzy by edit "
               "distance, or graded in Agri-R1's tiers (grading: tiers)",
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
