/*
 * anls.c - fn `anls`: Average Normalized Levenshtein Similarity of
 * DocVQA / InfographicVQA, per question, as in Qwen-VL's
 * eval_mm/infographicsvqa_eval.py (copied into lmms-eval metrics.py):
 *
 *   norm(s) = " ".join(s.strip().lower().split())
 *   nl(a)   = lev(norm(a), norm(pred)) / L, 0 when L == 0
 *   L       = max(len(a.upper()), len(pred.upper()))   <- un-normalised
 *   s       = 1 - min over references nl(a); 0 when s < threshold (0.5)
 *
 * The length quirk (L from the raw strings, so extra spaces or case do
 * not count as longer) is the default; "length": "normalized" uses the
 * normalised lengths as the RRC DocVQA definition does.
 *
 * Not for: VQA soft accuracy (vqa_acc) or plain similarity (edit_ratio).
 */
#include <stdlib.h>
#include <string.h>

#include "metrics/edit_common.h"

typedef struct anls_cfg {
  double tau;
  int norm_len;
  rk__extract_cfg ex;
} anls_cfg;

static void anls_free(void *p) {
  anls_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int anls_compile(rk__argctx *ac, void **out) {
  static const rk__ex_mode def[] = {RK__EX_AUTO, RK__EX_NONE};
  static const char *const lens[] = {"raw", "normalized", NULL};
  anls_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__edm_extract_compile(ac, def, 2, &cfg->ex) ||
      rk__arg_num_range(ac, "threshold", 0.5, 0.0, 1.0, &cfg->tau) ||
      rk__arg_enum(ac, "length", lens, 0, &cfg->norm_len)) {
    anls_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

/* len(s.upper()) in Python for a code point: the unconditional
 * SpecialCasing.txt expansions that matter in practice (sharp s,
 * Latin and Armenian ligatures, a few precomposed letters). */
static size_t upper_len(uint32_t c) {
  if (c < 0xDF) return 1;
  if (c == 0xDF || c == 0x149 || c == 0x1F0 || c == 0x587) return 2;
  if (c == 0x390 || c == 0x3B0) return 3;
  if (c >= 0x1E96 && c <= 0x1E9A) return 2;
  if (c >= 0xFB00 && c <= 0xFB06) return (c == 0xFB03 || c == 0xFB04) ? 3 : 2;
  if (c >= 0xFB13 && c <= 0xFB17) return 2;
  return 1;
}

size_t rk__anls_upper_len(const uint32_t *s, size_t n);
size_t rk__anls_upper_len(const uint32_t *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += upper_len(s[i]);
  return k;
}

/* norm(s): lower, then whitespace-split and joined with one space (which
 * also strips). out needs 2 * n entries. */
size_t rk__anls_norm(const uint32_t *s, size_t n, uint32_t *out);
size_t rk__anls_norm(const uint32_t *s, size_t n, uint32_t *out) {
  size_t m = rk__cp_lower_seq(s, n, out), k = 0;
  int pending = 0;
  for (size_t i = 0; i < m; i++) {
    if (rk__cp_isspace(out[i])) {
      pending = k > 0;
      continue;
    }
    if (pending) out[k++] = ' ', pending = 0;
    out[k++] = out[i];
  }
  return k;
}

static rk_status anls_score(const void *p, rk__call *c, double *value) {
  const anls_cfg *cfg = p;
  *value = 0;
  rk__str refs[RK__MAX_REFS], ans;
  size_t nref;
  rk_status st = rk__edm_refs_answer(&cfg->ex, c, refs, &nref, &ans);
  if (st != RK_STATUS_OK) return st;
  rk__seq raw;
  if ((st = rk__edm_decode(c, ans, &raw)) != RK_STATUS_OK) return st;
  uint32_t *pn = rk__arena_alloc(c->arena, (2 * raw.n + 1) * sizeof *pn);
  if (!pn) return rk__fail(c, "out of scratch memory");
  size_t np = rk__anls_norm(raw.v, raw.n, pn);
  size_t plen = cfg->norm_len ? np : rk__anls_upper_len(raw.v, raw.n);
  double best_nl = 2;
  long best_d = 0;
  size_t best_L = 0, best_i = 0;
  for (size_t i = 0; i < nref; i++) {
    rk__seq g;
    if ((st = rk__edm_decode(c, refs[i], &g)) != RK_STATUS_OK) return st;
    uint32_t *gn = rk__arena_alloc(c->arena, (2 * g.n + 1) * sizeof *gn);
    if (!gn) return rk__fail(c, "out of scratch memory");
    size_t ng = rk__anls_norm(g.v, g.n, gn);
    long d;
    if ((st = rk__edm_lev(c, gn, ng, pn, np, 0, "code points", &d)) != RK_STATUS_OK)
      return st;
    size_t glen = cfg->norm_len ? ng : rk__anls_upper_len(g.v, g.n);
    size_t L = glen > plen ? glen : plen;
    double nl = L == 0 ? 0.0 : (double)d / (double)L;
    if (nl < best_nl) best_nl = nl, best_d = d, best_L = L, best_i = i;
  }
  double s = 1.0 - best_nl;
  *value = s < cfg->tau ? 0.0 : s;
  if (rk__explaining(c)) {
    char a[32], b[32];
    rk__explain(c, "distance %ld over %s length %zu: similarity %s%s%s", best_d,
                cfg->norm_len ? "normalised" : "raw", best_L, rk__edm_num(a, s),
                s < cfg->tau ? " < threshold " : "", s < cfg->tau ? rk__edm_num(b, cfg->tau) : "");
    if (nref > 1) rk__explain(c, "best of %zu references (#%zu)", nref, best_i + 1);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_anls = {
    .name = "anls",
    .summary = "ANLS (DocVQA/InfoVQA, Qwen-VL/lmms-eval): 1 - min normalised Levenshtein, 0 below threshold 0.5",
    .compile = anls_compile,
    .score = anls_score,
    .free = anls_free,
};
