/*
 * fuzz_overlap.c - libFuzzer target for the overlap metrics' tokenizers
 * and scoring cores on arbitrary bytes (invalid UTF-8 included): 13a,
 * char, str.split(), rstrip, lower, rouge-score's tokenizer (ASCII and
 * unicode, with and without the Porter stemmer), ROUGE-N/L/Lsum, BLEU
 * statistics under every smoothing, chrF/chrF++, SQuAD F1, CIDEr-D.
 *
 * Input: hypothesis, a 0 byte, reference (no 0 byte: split in the middle).
 * Oracles beyond "no crash, no sanitizer report":
 * - tokens are non-empty and hold no Python whitespace;
 * - every score is a number in its range; F-measures are symmetric;
 * - a text against itself scores 100 (BLEU, chrF) or 1 (ROUGE, F1);
 * - Porter stems are at most one byte longer than the word.
 *
 *   build-fuzz/fuzz_overlap fuzz/corpus/overlap -max_total_time=120
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "metrics/ovl.h"
#include "text/normalize.h"

#define CHECK(c)                \
  do {                          \
    if (!(c)) __builtin_trap(); \
  } while (0)

static rk__arena g_arena;
static int g_init;
static rk__cider_df *g_df;

static void check_toks(const rk__ovl_toks *t) {
  for (size_t i = 0; i < t->n; i++) {
    CHECK(t->t[i].n > 0);
    for (size_t k = 0; k < t->t[i].n; k++) CHECK(rk__py_space(t->t[i].p + k, t->t[i].n - k) == 0);
  }
}

static int intern_all(rk__arena *a, rk__ovl_toks *x, size_t nx) {
  size_t total = 0;
  for (size_t i = 0; i < nx; i++) total += x[i].n;
  rk__ovl_intern in;
  if (rk__ovl_intern_init(&in, a, total)) return -1;
  for (size_t i = 0; i < nx; i++)
    if (rk__ovl_intern_toks(&in, a, &x[i])) return -1;
  return 0;
}

/* Plain dynamic-programming LCS, the oracle for the bit-parallel one. */
static size_t lcs_dp(const uint32_t *x, size_t nx, const uint32_t *y, size_t ny) {
  if (!nx || !ny) return 0;
  size_t *row = calloc(ny + 1, sizeof *row);
  if (!row) return 0;
  for (size_t i = 0; i < nx; i++) {
    size_t diag = 0;
    for (size_t j = 0; j < ny; j++) {
      size_t up = row[j + 1], v = x[i] == y[j] ? diag + 1 : (up > row[j] ? up : row[j]);
      diag = up;
      row[j + 1] = v;
    }
  }
  size_t r = row[ny];
  free(row);
  return r;
}

static int in01(double v) { return v >= 0.0 && v <= 1.0 + 1e-12; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_init) {
    rk__arena_init(&g_arena, (size_t)256 << 20);
    const char *df = "{\"ref_len\": 2.302585092994046, \"df\": {\"a\": 3, \"the\": 10, \"a b\": 1}}";
    char err[128];
    g_df = rk__cider_df_load(df, strlen(df), err, sizeof err);
    CHECK(g_df != NULL);
    g_init = 1;
  }
  if (size > 4096) return 0;
  const char *p = (const char *)data;
  const char *z = memchr(p, 0, size);
  size_t hn = z ? (size_t)(z - p) : size / 2;
  rk__str hyp = rk__str_make(p, hn);
  rk__str ref = z ? rk__str_make(z + 1, size - hn - 1) : rk__str_make(p + hn, size - hn);
  rk__arena *a = &g_arena;
  rk__arena_reset(a);

  /* Tokenizers. */
  rk__ovl_toks t[2];
  rk__str side[2] = {hyp, ref};
  for (int s = 0; s < 2; s++) {
    rk__str r = rk__ovl_rstrip(side[s]);
    CHECK(r.n <= side[s].n);
    CHECK(rk__ovl_tok13a(a, r.p, r.n, &t[s]) == 0);
    check_toks(&t[s]);
    rk__ovl_toks c;
    CHECK(rk__ovl_tokchar(a, side[s].p, side[s].n, &c) == 0);
    check_toks(&c);
    size_t ln;
    CHECK(rk__ovl_lower(a, side[s].p, side[s].n, &ln) != NULL);
    for (int uni = 0; uni < 2; uni++) {
      for (int stem = 0; stem < 2; stem++) {
        rk__ovl_toks rt;
        CHECK(rk__ovl_tokrouge(a, side[s].p, side[s].n, stem, uni, &rt) == 0);
        for (size_t i = 0; i < rt.n; i++) {
          if (!uni)
            for (size_t k = 0; k < rt.t[i].n; k++) {
              char ch = rt.t[i].p[k];
              CHECK((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'));
            }
        }
      }
    }
  }
  /* Porter on every ASCII-lowercase 13a token. */
  for (size_t i = 0; i < t[0].n; i++) {
    rk__str w = t[0].t[i];
    int ok = 1;
    for (size_t k = 0; k < w.n; k++) ok &= w.p[k] >= 'a' && w.p[k] <= 'z';
    if (!ok) continue;
    char out[4200];
    for (int m = 0; m < 2; m++) CHECK(rk__porter_stem(w.p, w.n, (rk__porter_mode)m, out) <= w.n + 1);
  }

  /* ROUGE on rouge-score tokens: F symmetric, self-score 1. */
  rk__ovl_toks r2[2];
  CHECK(rk__ovl_tokrouge(a, hyp.p, hyp.n, 0, 0, &r2[0]) == 0);
  CHECK(rk__ovl_tokrouge(a, ref.p, ref.n, 0, 0, &r2[1]) == 0);
  CHECK(intern_all(a, r2, 2) == 0);
  CHECK(rk__ovl_lcs(a, r2[0].id, r2[0].n, r2[1].id, r2[1].n) ==
        lcs_dp(r2[0].id, r2[0].n, r2[1].id, r2[1].n));
  /* 13a tokens give longer sequences (> 64: the row-by-row path). */
  {
    rk__ovl_toks u[2] = {t[0], t[1]};
    CHECK(intern_all(a, u, 2) == 0);
    CHECK(rk__ovl_lcs(a, u[0].id, u[0].n, u[1].id, u[1].n) ==
          lcs_dp(u[0].id, u[0].n, u[1].id, u[1].n));
  }
  rk__ovl_prf x, y;
  CHECK(rk__ovl_rouge_l(a, &r2[1], &r2[0], &x) == 0);
  CHECK(rk__ovl_rouge_l(a, &r2[0], &r2[1], &y) == 0);
  CHECK(in01(x.f) && in01(x.p) && in01(x.r) && fabs(x.f - y.f) < 1e-12);
  CHECK(x.p == y.r && x.r == y.p);
  CHECK(rk__ovl_rouge_l(a, &r2[0], &r2[0], &y) == 0);
  CHECK(r2[0].n == 0 || y.f == 1.0);
  for (unsigned n = 1; n <= 4; n++) {
    CHECK(rk__ovl_rouge_n(a, &r2[1], &r2[0], n, &x) == 0);
    CHECK(rk__ovl_rouge_n(a, &r2[0], &r2[1], n, &y) == 0);
    CHECK(in01(x.f) && fabs(x.f - y.f) < 1e-12);
  }
  CHECK(rk__ovl_rouge_lsum(a, &r2[1], 1, &r2[0], 1, &x) == 0);
  CHECK(in01(x.f));

  /* BLEU on 13a tokens. */
  CHECK(intern_all(a, t, 2) == 0);
  rk__bleu_stats st;
  CHECK(rk__ovl_bleu_stats(a, &t[0], &t[1], 1, 4, &st) == 0);
  for (int sm = 0; sm < 4; sm++)
    for (int eff = 0; eff < 2; eff++) {
      double b = rk__ovl_bleu_compute(&st, 4, (rk__bleu_smooth)sm, sm == 1 ? 0.1 : 1.0, eff,
                                      NULL, NULL);
      CHECK(b >= 0.0 && b <= 100.0 + 1e-9);
    }
  CHECK(rk__ovl_bleu_stats(a, &t[0], &t[0], 1, 4, &st) == 0);
  if (t[0].n) {
    double b = rk__ovl_bleu_compute(&st, 4, RK__BLEU_EXP, 0, 1, NULL, NULL);
    CHECK(fabs(b - 100.0) < 1e-9);
  }

  /* chrF / chrF++. */
  for (int mode = 0; mode < 4; mode++) {
    rk__chrf_opts o = {6, mode & 1 ? 2u : 0u, 2.0, mode >> 1, mode & 1, mode == 3};
    rk__chrf_stats cs;
    size_t best;
    CHECK(rk__ovl_chrf_stats(a, &o, hyp, &ref, 1, &cs, &best) == 0);
    double f = rk__ovl_chrf_f(&o, &cs);
    CHECK(f >= 0.0 && f <= 100.0 + 1e-9);
    CHECK(rk__ovl_chrf_stats(a, &o, hyp, &hyp, 1, &cs, &best) == 0);
    if (cs.v[0] > 0 && !o.eps_smoothing) CHECK(fabs(rk__ovl_chrf_f(&o, &cs) - 100.0) < 1e-9);
  }

  /* SQuAD: the one-pass tokens equal split() of the shared normaliser;
   * F1 symmetric, in [0, 1]. */
  rk__ovl_toks sq[2];
  for (int s = 0; s < 2; s++) {
    CHECK(rk__ovl_squad_tokens(a, side[s], &sq[s]) == 0);
    rk__str nm;
    rk__ovl_toks ref_t;
    CHECK(rk__normalize_squad(a, side[s], &nm) == 0);
    CHECK(rk__ovl_split(a, nm.p, nm.n, &ref_t) == 0);
    CHECK(ref_t.n == sq[s].n);
    for (size_t i = 0; i < ref_t.n; i++) CHECK(rk__str_eq(ref_t.t[i], sq[s].t[i]));
  }
  size_t common;
  double f1 = rk__ovl_squad_f1(a, &sq[1], &sq[0], 0, &common);
  double f2 = rk__ovl_squad_f1(a, &sq[0], &sq[1], 0, &common);
  CHECK(in01(f1) && fabs(f1 - f2) < 1e-12);

  /* CIDEr-D on whitespace tokens. */
  rk__ovl_toks w[2];
  CHECK(rk__ovl_split(a, hyp.p, hyp.n, &w[0]) == 0);
  CHECK(rk__ovl_split(a, ref.p, ref.n, &w[1]) == 0);
  for (int bl = 0; bl < 2; bl++) {
    double cd = -1;
    CHECK(rk__ovl_cider_d(a, g_df, &w[0], &w[1], 1, 6.0, bl, &cd) == 0);
    CHECK(in01(cd));
  }
  return 0;
}
