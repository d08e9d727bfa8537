/*
 * vqa_acc.c - fn `vqa_acc`: VQA soft accuracy against (usually ten) human
 * answers (docs/rewards/edit.md).
 *
 *   acc = mean over i = 1..N of min(1, #{j != i : gt_j == pred} / 3)
 *
 * "variant": "vqav2" (default) follows GT-Vision-Lab/VQA vqaEval.py: the
 * prediction always goes through processPunctuation + processDigitArticle,
 * the human answers only through processPunctuation and only when they are
 * not all identical (the quirk: "Yes" never matches ten "yes";
 * "normalize_references": true normalises them like the prediction).
 * "textvqa" follows mmf's TextVQAAccuracyEvaluator: the EvalAI processor
 * on every answer. The per-question score is not rounded (the script
 * reports round(100 * acc, 2)).
 *
 * Not for: a single reference answer under the official formula (always
 * 0): with one reference the reward is an exact match of the normalised
 * strings unless "single_reference": "official".
 */
#include <stdlib.h>
#include <string.h>

#include "metrics/edit_common.h"
#include "metrics/vqa_norm.h"

typedef struct vqa_cfg {
  int textvqa;
  int norm_refs;
  int single_official;
  int periods; /* 0: the script's period rule, 1: the one it meant */
  rk__extract_cfg ex;
} vqa_cfg;

static void vqa_free(void *p) {
  vqa_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int vqa_compile(rk__argctx *ac, void **out) {
  static const rk__ex_mode def[] = {RK__EX_AUTO, RK__EX_NONE};
  static const char *const variants[] = {"vqav2", "textvqa", NULL};
  static const char *const singles[] = {"exact", "official", NULL};
  static const char *const periods[] = {"official", "intended", NULL};
  vqa_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__edm_extract_compile(ac, def, 2, &cfg->ex) ||
      rk__arg_enum(ac, "variant", variants, 0, &cfg->textvqa) ||
      rk__arg_bool(ac, "normalize_references", 0, &cfg->norm_refs) ||
      rk__arg_enum(ac, "single_reference", singles, 0, &cfg->single_official) ||
      rk__arg_enum(ac, "periods", periods, 0, &cfg->periods)) {
    vqa_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

double rk__vqa_soft(size_t matches, size_t n);

/* mean_i min(1, (matches - [gt_i == pred]) / 3): the `matches` answers
 * equal to the prediction each leave matches - 1 others; the rest leave
 * all of them. */
double rk__vqa_soft(size_t k, size_t n) {
  if (n == 0) return 0;
  double in = (double)(k ? k - 1 : 0) / 3.0, out = (double)k / 3.0;
  if (in > 1) in = 1;
  if (out > 1) out = 1;
  return ((double)k * in + (double)(n - k) * out) / (double)n;
}

static int seq_eq(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
  return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static rk_status vqa_score(const void *p, rk__call *c, double *value) {
  const vqa_cfg *cfg = p;
  *value = 0;
  rk__str refs[RK__MAX_REFS], ans;
  size_t nref;
  rk_status st = rk__edm_refs_answer(&cfg->ex, c, refs, &nref, &ans);
  if (st != RK_STATUS_OK) return st;
  /* Prediction. */
  rk__seq raw;
  if ((st = rk__edm_decode(c, ans, &raw)) != RK_STATUS_OK) return st;
  uint32_t *pred = rk__arena_alloc(c->arena, (12 * raw.n + 16) * sizeof *pred);
  if (!pred) return rk__fail(c, "out of scratch memory");
  if (!rk__spend(c, 8 * (uint64_t)raw.n + 8)) return RK_STATUS_TIMEOUT;
  size_t np = cfg->textvqa ? rk__vqa_norm_evalai(raw.v, raw.n, pred, cfg->periods)
                           : rk__vqa_norm_answer(raw.v, raw.n, pred, cfg->periods);
  /* References: as written (vqav2) or full processing (textvqa / clean). */
  rk__seq g[RK__MAX_REFS];
  for (size_t i = 0; i < nref; i++) {
    rk__seq r;
    if ((st = rk__edm_decode(c, refs[i], &r)) != RK_STATUS_OK) return st;
    if (!rk__spend(c, 8 * (uint64_t)r.n + 8)) return RK_STATUS_TIMEOUT;
    uint32_t *buf = rk__arena_alloc(c->arena, (12 * r.n + 16) * sizeof *buf);
    if (!buf) return rk__fail(c, "out of scratch memory");
    if (cfg->textvqa) {
      g[i].n = rk__vqa_norm_evalai(r.v, r.n, buf, cfg->periods);
      g[i].v = buf;
    } else if (cfg->norm_refs) {
      g[i].n = rk__vqa_norm_answer(r.v, r.n, buf, cfg->periods);
      g[i].v = buf;
    } else {
      /* vqaEval.py gives the human answers no \n/\t replacement and no
       * strip (only the prediction gets them): "yes " stays "yes ". */
      g[i] = r;
    }
  }
  int identical = 1;
  if (!cfg->textvqa && !cfg->norm_refs) {
    for (size_t i = 1; i < nref && identical; i++)
      identical = seq_eq(g[i].v, g[i].n, g[0].v, g[0].n);
    if (!identical)
      for (size_t i = 0; i < nref; i++) {
        uint32_t *buf = rk__arena_alloc(c->arena, (g[i].n + 1) * sizeof *buf);
        if (!buf) return rk__fail(c, "out of scratch memory");
        g[i].n = rk__vqa_punct(g[i].v, g[i].n, buf, cfg->periods);
        g[i].v = buf;
      }
  }
  /* An answer that is empty once normalised (or only spaces: the
   * script leaves the human answers unstripped) says nothing: every one
   * empty is a broken reference, and an empty prediction (".", "the")
   * never matches (the script would let it match empty answers, which a
   * model can find out). */
  size_t k = 0, nonempty = 0;
  for (size_t i = 0; i < nref; i++) {
    size_t q = 0;
    while (q < g[i].n && rk__cp_isspace(g[i].v[q])) q++;
    nonempty += q < g[i].n;
    k += np > 0 && seq_eq(g[i].v, g[i].n, pred, np);
  }
  if (!nonempty) {
    rk__explain(c, nref == 1 ? "the reference answer is empty"
                             : "every one of the %zu reference answers is empty", nref);
    return RK_STATUS_INVALID_REFERENCE;
  }
  int single = nref == 1 && !cfg->single_official;
  *value = single ? (double)k : rk__vqa_soft(k, nref);
  if (rk__explaining(c)) {
    rk__str ps;
    char a[32];
    if (rk__cp_encode_arena(c->arena, pred, np, &ps)) return rk__fail(c, "out of scratch memory");
    const char *e1;
    int k1 = rk__text_clip(ps, 60, &e1);
    if (np == 0)
      rk__explain(c, "pred normalised to nothing (only articles, punctuation or spaces): "
                     "matches no answer");
    else if (single)
      rk__explain(c, "pred normalised to '%.*s%s'; %s the single reference (exact match)",
                  k1, ps.p, e1, k ? "equals" : "differs from");
    else
      rk__explain(c,
                  "pred normalised to '%.*s%s'; equals %zu of %zu answers%s; "
                  "mean over %zu leave-one-out sets of min(1, matches/3) = %s",
                  k1, ps.p, e1, k, nref,
                  !cfg->textvqa && !cfg->norm_refs && identical
                      ? " (all answers identical: not normalised, as vqaEval.py)"
                      : "",
                  nref, rk__edm_num(a, *value));
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_vqa_acc = {
    .name = "vqa_acc",
    .summary = "VQA soft accuracy: official VQAv2 normalisation, leave-one-out min(1, matches/3); variant textvqa",
    .compile = vqa_compile,
    .score = vqa_score,
    .free = vqa_free,
};
