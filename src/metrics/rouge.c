/*
 * rouge.c - fn `rouge`: ROUGE-1/2/3/4, ROUGE-L and ROUGE-Lsum of the
 * answer against one or several references, exactly as Google's
 * rouge-score package (rouge_scorer.py, tokenize.py) computes them;
 * default ROUGE-L F-measure (docs/rewards/overlap.md).
 *
 * Quirks kept by default: the tokenizer keeps only [a-z0-9] after
 * lowercasing, so non-ASCII text is dropped ("tokenizer": "unicode" keeps
 * letters and digits of every script); with several references the
 * reference with the best F-measure is chosen (RougeScorer.score_multi)
 * and its precision or recall reported ("multi_ref": "max" takes the max
 * of the requested measure instead).
 */
#include <stdlib.h>
#include <string.h>

#include "metrics/ovl.h"

enum { V_L, V_LSUM, V_1, V_2, V_3, V_4 };
enum { M_F, M_FMEASURE, M_P, M_R };

typedef struct rouge_cfg {
  rk__extract_cfg ex;
  int variant, measure, stem, unicode, multi_max;
} rouge_cfg;

static const char *const variant_names[] = {"rougeL", "rougeLsum", "rouge1",
                                            "rouge2", "rouge3",    "rouge4", NULL};

static void rouge_free(void *p) {
  rouge_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int rouge_compile(rk__argctx *ac, void **out) {
  rouge_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  static const char *const measures[] = {"f", "fmeasure", "precision", "recall", NULL};
  static const char *const toks[] = {"rouge_score", "unicode", NULL};
  static const char *const multi[] = {"best_f", "max", NULL};
  if (rk__extract_cfg_compile(ac, RK__EX_NONE, &cfg->ex) ||
      rk__arg_enum(ac, "variant", variant_names, V_L, &cfg->variant) ||
      rk__arg_enum(ac, "measure", measures, M_F, &cfg->measure) ||
      rk__arg_bool(ac, "stemmer", 0, &cfg->stem) ||
      rk__arg_enum(ac, "tokenizer", toks, 0, &cfg->unicode) ||
      rk__arg_enum(ac, "multi_ref", multi, 0, &cfg->multi_max)) {
    rouge_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

/* Tokenizes text as one list, or (Lsum) one list per non-empty line. */
static int tokenize(const rouge_cfg *cfg, rk__arena *a, rk__str s, rk__ovl_toks **out,
                    size_t *nout) {
  if (cfg->variant != V_LSUM) {
    rk__ovl_toks *t = rk__arena_alloc(a, sizeof *t);
    if (!t || rk__ovl_tokrouge(a, s.p, s.n, cfg->stem, cfg->unicode, t)) return -1;
    *out = t;
    *nout = 1;
    return 0;
  }
  /* rougeLsum: text.split("\n"), lines of length 0 dropped. */
  size_t lines = 1;
  for (size_t i = 0; i < s.n; i++) lines += s.p[i] == '\n';
  rk__ovl_toks *t = rk__arena_alloc(a, lines * sizeof *t);
  if (!t) return -1;
  size_t k = 0, b = 0;
  for (size_t i = 0; i <= s.n; i++) {
    if (i < s.n && s.p[i] != '\n') continue;
    if (i > b && rk__ovl_tokrouge(a, s.p + b, i - b, cfg->stem, cfg->unicode, &t[k++])) return -1;
    b = i + 1;
  }
  *out = t;
  *nout = k;
  return 0;
}

static size_t count_toks(const rk__ovl_toks *t, size_t n) {
  size_t s = 0;
  for (size_t i = 0; i < n; i++) s += t[i].n;
  return s;
}

static double pick(const rouge_cfg *cfg, const rk__ovl_prf *s) {
  return cfg->measure == M_P ? s->p : cfg->measure == M_R ? s->r : s->f;
}

static rk_status rouge_score(const void *p, rk__call *c, double *value) {
  const rouge_cfg *cfg = p;
  *value = 0;
  rk__str refs[RK__MAX_REFS];
  int had;
  size_t nref = rk__record_refs(c, refs, RK__MAX_REFS, &had);
  if (!nref) {
    rk__explain(c, "no reference: expected a string or an array of strings");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__str ans;
  rk_status st = rk__ovl_answer(&cfg->ex, c, &ans);
  if (st != RK_STATUS_OK) return st;
  if (!rk__spend(c, 3 * (ans.n + rk__ovl_total_len(refs, nref)) + 1)) return RK_STATUS_TIMEOUT;
  rk__arena *a = c->arena;
  rk__ovl_toks *pt, *rt[RK__MAX_REFS];
  size_t np, nr[RK__MAX_REFS];
  if (tokenize(cfg, a, ans, &pt, &np)) goto oom;
  size_t total = count_toks(pt, np);
  for (size_t i = 0; i < nref; i++) {
    if (tokenize(cfg, a, refs[i], &rt[i], &nr[i])) goto oom;
    total += count_toks(rt[i], nr[i]);
  }
  /* ROUGE-N and ROUGE-L take the token lists as they are (short texts
   * need no ids: ovl_ngram.c); Lsum works on ids. */
  if (cfg->variant == V_LSUM) {
    rk__ovl_intern in;
    if (rk__ovl_intern_init(&in, a, total)) goto oom;
    for (size_t j = 0; j < np; j++)
      if (rk__ovl_intern_toks(&in, a, &pt[j])) goto oom;
    for (size_t i = 0; i < nref; i++)
      for (size_t j = 0; j < nr[i]; j++)
        if (rk__ovl_intern_toks(&in, a, &rt[i][j])) goto oom;
  }
  size_t pn = count_toks(pt, np);
  /* A long answer against long references: the answer is interned once
   * and each reference's tokens are looked up in it (ids the answer lacks
   * become one id that matches nothing, which changes no count), rather
   * than both interned again for every reference. */
  rk__ovl_intern pin;
  int pin_used = 0;
  if (cfg->variant != V_LSUM && pn > RK__OVL_SHORT)
    for (size_t i = 0; i < nref && !pin_used; i++) pin_used = rt[i][0].n > RK__OVL_SHORT;
  if (pin_used && (rk__ovl_intern_init(&pin, a, pn) || rk__ovl_intern_toks(&pin, a, pt))) goto oom;
  rk__ovl_prf best = {0, 0, 0};
  size_t bi = 0;
  double bv = -1;
  for (size_t i = 0; i < nref; i++) {
    rk__ovl_prf s;
    size_t rn = count_toks(rt[i], nr[i]);
    int rc;
    /* Scratch of one reference is released before the next. */
    rk__arena_mark here = rk__arena_here(a);
    if (cfg->variant == V_L || cfg->variant == V_LSUM) {
      if (!rk__spend(c, (uint64_t)pn * rn + 1)) return RK_STATUS_TIMEOUT;
    } else {
      if (!rk__spend(c, 2 * (pn + rn) + 1)) return RK_STATUS_TIMEOUT;
    }
    rk__ovl_toks r = rt[i][0];
    if (cfg->variant != V_LSUM) {
      r.id = NULL;
      if (pin_used && r.n > RK__OVL_SHORT &&
          rk__ovl_intern_find(&pin, a, &r, (uint32_t)pin.n))
        goto oom;
    }
    if (cfg->variant == V_L)
      rc = rk__ovl_rouge_l(a, &r, pt, &s);
    else if (cfg->variant == V_LSUM)
      rc = rk__ovl_rouge_lsum(a, rt[i], nr[i], pt, np, &s);
    else
      rc = rk__ovl_rouge_n(a, &r, pt, (unsigned)(cfg->variant - V_1 + 1), &s);
    rk__arena_rewind(a, here);
    if (rc) goto oom;
    /* score_multi: max by F-measure, first wins ties; or max of the measure. */
    double key = cfg->multi_max ? pick(cfg, &s) : s.f;
    if (key > bv) {
      bv = key;
      best = s;
      bi = i;
    }
  }
  *value = pick(cfg, &best);
  if (rk__explaining(c)) {
    char f[32], pr[32], rc[32];
    rk__fmt_double(f, best.f);
    rk__fmt_double(pr, best.p);
    rk__fmt_double(rc, best.r);
    size_t rn = count_toks(rt[bi], nr[bi]);
    const char *m = cfg->measure == M_P ? "precision" : cfg->measure == M_R ? "recall" : "F";
    rk__explain(c, "%s %s = %.6g (P %s, R %s, F %s); %zu answer token%s, %zu in reference %zu of %zu%s%s",
                variant_names[cfg->variant], m, *value, pr, rc, f, pn, pn == 1 ? "" : "s", rn,
                bi + 1, nref, cfg->stem ? "; Porter-stemmed" : "",
                pn == 0 ? (cfg->unicode ? "; the answer has no letters or digits"
                                        : "; the answer has no [a-z0-9] tokens (non-ASCII text is "
                                          "dropped by rouge-score's tokenizer)")
                        : "");
  }
  return RK_STATUS_OK;
oom:
  return rk__fail(c, "rouge: out of scratch memory");
}

const rk__fn rk__fn_rouge = {
    .name = "rouge",
    .summary = "ROUGE-1/2/3/4/L/Lsum as rouge-score, default ROUGE-L F (args: variant, measure, "
               "stemmer, tokenizer, multi_ref, extract)",
    .compile = rouge_compile,
    .score = rouge_score,
    .free = rouge_free,
};
