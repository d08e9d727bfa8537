/*
 * f1.c - fns `f1` and `em`: SQuAD token F1 and exact match of the
 * answer against one or several gold answers, the best gold counting
 * (evaluate-v2.0.py get_raw_scores; docs/rewards/overlap.md).
 *
 * Quirks kept by default (squad_version "v2"): golds that normalise to
 * nothing are dropped, and when none is left the only gold is "" (an
 * unanswerable question), which an empty prediction matches with F1 = 1.
 * "v1.1" keeps every gold and scores an empty side 0.
 *
 * Not for: normalised exact match with Unicode folding (fn `exact`).
 */
#include <stdlib.h>
#include <string.h>

#include "metrics/ovl.h"
#include "text/normalize.h"

typedef struct f1_cfg {
  rk__extract_cfg ex;
  int v11;     /* evaluate-v1.1 semantics */
  int no_norm; /* normalize: "none" */
  int em;
} f1_cfg;

static void f1_free(void *p) {
  f1_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int compile_common(rk__argctx *ac, void **out, int em) {
  f1_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  static const char *const vers[] = {"v2", "v1.1", NULL};
  static const char *const norms[] = {"squad", "none", NULL};
  if (rk__extract_cfg_compile(ac, RK__EX_NONE, &cfg->ex) ||
      rk__arg_enum(ac, "squad_version", vers, 0, &cfg->v11) ||
      rk__arg_enum(ac, "normalize", norms, 0, &cfg->no_norm)) {
    f1_free(cfg);
    return -1;
  }
  cfg->em = em;
  *out = cfg;
  return 0;
}

static int f1_compile(rk__argctx *ac, void **out) { return compile_common(ac, out, 0); }
static int em_compile(rk__argctx *ac, void **out) { return compile_common(ac, out, 1); }

/* The gold or predicted answer as SQuAD tokens (normalize "none": a
 * plain whitespace split). */
static int toks(const f1_cfg *cfg, rk__call *c, rk__str in, rk__ovl_toks *out) {
  if (cfg->no_norm) return rk__ovl_split(c->arena, in.p, in.n, out);
  return rk__ovl_squad_tokens(c->arena, in, out);
}

static int toks_eq(const rk__ovl_toks *x, const rk__ovl_toks *y) {
  if (x->n != y->n) return 0;
  for (size_t i = 0; i < x->n; i++)
    if (!rk__str_eq(x->t[i], y->t[i])) return 0;
  return 1;
}

/* ' '.join(tokens) for explanations, at most ~80 bytes. */
static const char *show(rk__call *c, const rk__ovl_toks *t) {
  char *b = rk__arena_alloc(c->arena, 96);
  if (!b) return "";
  size_t k = 0;
  for (size_t i = 0; i < t->n && k < 80; i++) {
    size_t l = t->t[i].n;
    if (k + l + 1 > 84) l = 84 - k - 1;
    if (i) b[k++] = ' ';
    memcpy(b + k, t->t[i].p, l);
    k += l;
  }
  if (k > 80) {
    /* cut on a UTF-8 boundary and mark it */
    k = 80;
    while (k > 0 && ((unsigned char)b[k] & 0xC0) == 0x80) k--;
    memcpy(b + k, "...", 3);
    k += 3;
  }
  b[k] = '\0';
  return b;
}

/* em on SQuAD keys (rk__ovl_squad_key): the normalised texts compared
 * whole, with the same result, status and steps as the token lists. 1
 * when every text had a key (*value and *st set), else 0. */
static int em_keys(rk__call *c, const f1_cfg *cfg, rk__str ans, const rk__str *refs,
                   size_t nref, double *value, rk_status *st) {
  char pk[64], gk[64];
  size_t pn, pt, gn, gt, ng = 0;
  int eq = 0;
  if (!rk__ovl_squad_key(ans.p, ans.n, pk, &pn, &pt)) return 0;
  for (size_t i = 0; i < nref; i++) {
    if (!rk__ovl_squad_key(refs[i].p, refs[i].n, gk, &gn, &gt)) return 0;
    if (!cfg->v11 && gt == 0) continue;
    ng++;
    eq |= gn == pn && memcmp(gk, pk, pn) == 0;
  }
  if (ng == 0) { /* v2: every gold normalised to nothing, the gold is "" */
    ng = 1;
    eq = pt == 0;
  }
  *st = rk__spend(c, (uint64_t)pt * ng + 1) ? RK_STATUS_OK : RK_STATUS_TIMEOUT;
  if (*st == RK_STATUS_OK) *value = eq;
  return 1;
}

static rk_status f1_score(const void *p, rk__call *c, double *value) {
  const f1_cfg *cfg = p;
  const char *what = cfg->em ? "EM" : "F1";
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
  if (!rk__spend(c, 4 * (ans.n + rk__ovl_total_len(refs, nref)) + nref + 1))
    return RK_STATUS_TIMEOUT;
  if (cfg->em && !cfg->no_norm && !rk__explaining(c) &&
      em_keys(c, cfg, ans, refs, nref, value, &st))
    return st;
  rk__ovl_toks pred;
  if (toks(cfg, c, ans, &pred)) return rk__fail(c, "%s: out of scratch memory", what);
  /* Golds: v2 drops those that normalise to nothing; none left -> [""]. */
  rk__ovl_toks golds[RK__MAX_REFS];
  size_t idx[RK__MAX_REFS];
  size_t ng = 0;
  for (size_t i = 0; i < nref; i++) {
    if (toks(cfg, c, refs[i], &golds[ng])) return rk__fail(c, "%s: out of scratch memory", what);
    if (!cfg->v11 && golds[ng].n == 0) continue;
    idx[ng++] = i;
  }
  int unanswerable = 0;
  if (ng == 0) {
    golds[0].n = 0;
    idx[0] = 0;
    ng = 1;
    unanswerable = 1;
  }
  double best = -1;
  size_t bi = 0, bcommon = 0;
  if (!rk__spend(c, (uint64_t)pred.n * ng + 1)) return RK_STATUS_TIMEOUT;
  /* Long golds are counted on ids: the prediction is interned once and
   * each gold looked up in it (see rouge.c), and each gold's scratch is
   * released before the next. */
  rk__ovl_intern pin;
  int pin_used = 0;
  if (!cfg->em && pred.n > RK__OVL_SHORT)
    for (size_t i = 0; i < ng && !pin_used; i++) pin_used = golds[i].n > RK__OVL_SHORT;
  pred.id = NULL;
  if (pin_used && (rk__ovl_intern_init(&pin, c->arena, pred.n) ||
                   rk__ovl_intern_toks(&pin, c->arena, &pred)))
    return rk__fail(c, "%s: out of scratch memory", what);
  for (size_t i = 0; i < ng; i++) {
    double v;
    size_t common = 0;
    if (cfg->em) {
      v = toks_eq(&golds[i], &pred) ? 1.0 : 0.0;
    } else {
      if (!rk__spend(c, (uint64_t)pred.n * golds[i].n / 8 + 1)) return RK_STATUS_TIMEOUT;
      rk__arena_mark here = rk__arena_here(c->arena);
      rk__ovl_toks g = golds[i];
      g.id = NULL;
      if (pin_used && g.n > RK__OVL_SHORT &&
          rk__ovl_intern_find(&pin, c->arena, &g, (uint32_t)pin.n))
        return rk__fail(c, "%s: out of scratch memory", what);
      v = rk__ovl_squad_f1(c->arena, &g, &pred, cfg->v11, &common);
      rk__arena_rewind(c->arena, here);
      if (v < 0) return rk__fail(c, "%s: out of scratch memory", what);
    }
    if (v > best) {
      best = v;
      bi = i;
      bcommon = common;
    }
  }
  *value = best;
  if (rk__explaining(c)) {
    char v[32];
    rk__fmt_double(v, best);
    const char *ps = show(c, &pred), *gs = show(c, &golds[bi]);
    const char *how = cfg->no_norm ? "not normalised" : "SQuAD-normalised";
    if (unanswerable)
      rk__explain(c, "%s %s: every gold normalises to nothing, so the gold is '' (SQuAD v2); "
                     "pred '%s'",
                  what, v, ps);
    else if (cfg->em)
      rk__explain(c, "%s %s: pred '%s' %s gold %zu of %zu '%s' (%s)", what, v, ps,
                  best > 0 ? "==" : "!=", idx[bi] + 1, nref, gs, how);
    else
      rk__explain(c, "%s %s: pred '%s' (%zu tokens) vs gold %zu of %zu '%s' (%zu tokens): %zu in "
                     "common (%s)",
                  what, v, ps, pred.n, idx[bi] + 1, nref, gs, golds[bi].n, bcommon, how);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_f1 = {
    .name = "f1",
    .summary = "SQuAD token F1 of the answer, max over gold answers (args: extract, squad_version, "
               "normalize)",
    .compile = f1_compile,
    .score = f1_score,
    .free = f1_free,
};

const rk__fn rk__fn_em = {
    .name = "em",
    .summary = "SQuAD exact match of the normalised answer, max over gold answers (args: extract, "
               "squad_version, normalize)",
    .compile = em_compile,
    .score = f1_score,
    .free = f1_free,
};
