/*
 * fuzz_overlap.c - libFuzzer target for the overlap metrics' tokenizers
 * and scoring cores on arbitrary bytes (invalid UTF-8 included): 13a,
 * intl, zh, char, str.split(), rstrip, lower, rouge-score's tokenizer
 * (ASCII and unicode, with and without the Porter stemmer), SQuAD,
 * ROUGE-N/L/Lsum, BLEU statistics under every smoothing, chrF/chrF++,
 * SQuAD F1, CIDEr-D.
 *
 * Input: hypothesis, a 0 byte, reference (no 0 byte: split in the middle).
 * Oracles beyond "no crash, no sanitizer report":
 * - tokens are non-empty and hold no Python whitespace;
 * - 13a, zh and intl equal a pass-by-pass run of their regexes (below,
 *   written from sacreBLEU's tokenizer_re.py / tokenizer_zh.py /
 *   tokenizer_intl.py rules), and 13a's and rouge-score's block fast
 *   paths equal their character-by-character definitions;
 * - SQuAD tokens equal split() of the shared Unicode normaliser;
 * - ROUGE-N, ROUGE-L, BLEU counts and SQuAD F1 are the same with and
 *   without ids (table and equality-mask paths) and equal naive
 *   all-pairs counting;
 * - every score is a number in its range; F-measures are symmetric;
 * - a text against itself scores 100 (BLEU, chrF) or 1 (ROUGE, F1);
 * - Porter stems are at most one byte longer than the word;
 * - lower() of the UTF-8 text (rk__pylower) decodes to the code-point
 *   definition (rk__cp_lower_seq), final sigma included.
 *
 *   build-fuzz/fuzz_overlap fuzz/corpus/overlap -max_total_time=120
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/core.h"
#include "format/format.h"
#include "metrics/levenshtein.h"
#include "metrics/ovl.h"
#include "metrics/wide.h"
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

/* ------------------------------------------- pass-by-pass regex oracle */

/* One character of a string being rewritten: its bytes in the input, or
 * an inserted space (p == NULL). */
typedef struct och {
  const char *p;
  uint32_t cp, len;
} och;

static int o_space(const och *c) {
  return !c->p || rk__py_space(c->p, c->len) == c->len;
}
static int o_ascii(const och *c, const char *set) {
  return c->p ? c->cp < 0x80 && c->cp && strchr(set, (int)c->cp) != NULL : strchr(set, ' ') != NULL;
}
static int o_digit(const och *c) { return c->p && c->cp >= '0' && c->cp <= '9'; }
static int o_cat(const och *c, int lo, int hi) {
  if (!c->p || c->cp >= 0x110000u) return 0;
  int k = (int)utf8proc_category((utf8proc_int32_t)c->cp);
  return k >= lo && k <= hi;
}

/* tokenizer_re.py's classes and intl's Unicode ones. */
static const char *const RE1 = "{|}~[\\]^_` !\"#$%&()*+:;<=>?@/";
static int m_re1(const och *c) { return o_ascii(c, RE1); }
static int m_nondigit(const och *c) { return !o_digit(c); }
static int m_dot(const och *c) { return c->p && (c->cp == '.' || c->cp == ','); }
static int m_digit(const och *c) { return o_digit(c); }
static int m_dash(const och *c) { return c->p && c->cp == '-'; }
static int m_P(const och *c) { return o_cat(c, UTF8PROC_CATEGORY_PC, UTF8PROC_CATEGORY_PO); }
static int m_S(const och *c) { return o_cat(c, UTF8PROC_CATEGORY_SM, UTF8PROC_CATEGORY_SO); }
static int m_nonN(const och *c) { return !o_cat(c, UTF8PROC_CATEGORY_ND, UTF8PROC_CATEGORY_NO); }

static const och SP = {NULL, ' ', 0};

/* re.sub of (A)(B) with "\1 \2 " (form 0) or " \1 \2" (form 1), or of
 * (A) with " \1 " (b == NULL): left to right, non-overlapping. */
static size_t o_sub(const och *in, size_t n, och *out, int (*a)(const och *),
                    int (*b)(const och *), int form) {
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    if (!b && a(&in[i])) {
      out[k++] = SP;
      out[k++] = in[i++];
      out[k++] = SP;
    } else if (b && i + 1 < n && a(&in[i]) && b(&in[i + 1])) {
      if (form) out[k++] = SP;
      out[k++] = in[i];
      out[k++] = SP;
      out[k++] = in[i + 1];
      if (!form) out[k++] = SP;
      i += 2;
    } else {
      out[k++] = in[i++];
    }
  }
  return k;
}

/* The tokens of a regex tokenizer, pass by pass. mode: 0 = 13a, 1 = zh,
 * 2 = intl. Returns 0 when they equal t, 1 otherwise. */
static int o_check(const char *p, size_t n, int mode, const rk__ovl_toks *t) {
  char *buf = NULL;
  if (mode == 0) { /* tokenizer_13a.py rewriting, the plain way */
    static const char *const from[] = {"<skipped>", "-\n", "\n", "&quot;", "&amp;", "&lt;", "&gt;"};
    static const char *const to[] = {"", "", " ", "\"", "&", "<", ">"};
    buf = malloc(n + 1);
    if (!buf) return 0;
    memcpy(buf, p, n);
    size_t m = n;
    for (int r = 0; r < 7; r++) {
      if (r == 3 && !memchr(buf, '&', m)) break; /* the unescaping only when '&' occurs */
      size_t fl = strlen(from[r]), tl = strlen(to[r]), k = 0;
      for (size_t i = 0; i < m;) {
        if (i + fl <= m && memcmp(buf + i, from[r], fl) == 0) {
          memcpy(buf + k, to[r], tl);
          k += tl;
          i += fl;
        } else {
          buf[k++] = buf[i++];
        }
      }
      m = k;
    }
    p = buf;
    n = m;
  }
  size_t cap = 6 * (n + 2) + 8;
  och *x = malloc(cap * sizeof *x), *y = malloc(cap * sizeof *y);
  if (!x || !y) {
    free(x);
    free(y);
    free(buf);
    return 0;
  }
  size_t k = 0;
  if (mode == 0) x[k++] = SP;
  for (size_t i = 0; i < n;) {
    size_t l;
    uint32_t u = rk__ovl_cp(p + i, n - i, &l);
    x[k++] = (och){p + i, u, (uint32_t)l};
    i += l;
  }
  if (mode == 0) x[k++] = SP;
  if (mode == 1) { /* strip(), then spaces around Chinese characters */
    size_t b = 0, e = k;
    while (b < e && o_space(&x[b])) b++;
    while (e > b && o_space(&x[e - 1])) e--;
    size_t m = 0;
    for (size_t i = b; i < e; i++) {
      if (x[i].cp < 0x110000u && rk__ovl_zh_char(x[i].cp)) {
        y[m++] = SP;
        y[m++] = x[i];
        y[m++] = SP;
      } else {
        y[m++] = x[i];
      }
    }
    memcpy(x, y, m * sizeof *x);
    k = m;
  }
  if (mode < 2) {
    k = o_sub(x, k, y, m_re1, NULL, 0);
    k = o_sub(y, k, x, m_nondigit, m_dot, 0);
    k = o_sub(x, k, y, m_dot, m_nondigit, 1);
    k = o_sub(y, k, x, m_digit, m_dash, 0);
  } else {
    k = o_sub(x, k, y, m_nonN, m_P, 0);
    k = o_sub(y, k, x, m_P, m_nonN, 1);
    k = o_sub(x, k, y, m_S, NULL, 0);
    memcpy(x, y, k * sizeof *x);
  }
  /* split() and compare, token by token, byte by byte */
  int bad = 0;
  size_t ti = 0, i = 0;
  while (i < k && !bad) {
    if (o_space(&x[i])) {
      i++;
      continue;
    }
    if (ti >= t->n) {
      bad = 1;
      break;
    }
    rk__str w = t->t[ti++];
    size_t o = 0;
    for (; i < k && !o_space(&x[i]); i++) {
      if (o + x[i].len > w.n || memcmp(w.p + o, x[i].p, x[i].len) != 0) bad = 1;
      o += x[i].len;
    }
    if (o != w.n) bad = 1;
  }
  if (ti != t->n) bad = 1;
  free(x);
  free(y);
  free(buf);
  return bad;
}

/* ------------------------------------------------------ naive counting */

static int tok_eq(rk__str a, rk__str b) { return a.n == b.n && memcmp(a.p, b.p, a.n) == 0; }

static int gram_eq(const rk__ovl_toks *x, size_t i, const rk__ovl_toks *y, size_t j, unsigned n) {
  for (unsigned k = 0; k < n; k++)
    if (!tok_eq(x->t[i + k], y->t[j + k])) return 0;
  return 1;
}

static size_t gram_count(const rk__ovl_toks *x, size_t i, const rk__ovl_toks *y, unsigned n) {
  size_t c = 0;
  for (size_t j = 0; j + n <= y->n; j++) c += gram_eq(x, i, y, j, n);
  return c;
}

/* sum over distinct n-grams g of x of min(count_x(g), max_r count_r(g)) */
static size_t naive_common(const rk__ovl_toks *x, const rk__ovl_toks *refs, size_t nref,
                           unsigned n) {
  size_t s = 0;
  for (size_t i = 0; i + n <= x->n; i++) {
    int first = 1;
    for (size_t i2 = 0; i2 < i && first; i2++) first = !gram_eq(x, i, x, i2, n);
    if (!first) continue;
    size_t a = gram_count(x, i, x, n), c = 0;
    for (size_t r = 0; r < nref; r++) {
      size_t b = gram_count(x, i, &refs[r], n);
      if (b > c) c = b;
    }
    s += a < c ? a : c;
  }
  return s;
}

/* A copy without ids (and so without the tables' help). */
static rk__ovl_toks no_ids(rk__ovl_toks t) {
  t.id = NULL;
  return t;
}

/* The scoring cores on two token lists: with ids, without, and naively. */
static void check_counts(rk__arena *a, rk__ovl_toks *x, rk__ovl_toks *y) {
  if (x->n > 300 || y->n > 300) return; /* the naive counts are quadratic */
  rk__ovl_toks pair[2] = {no_ids(*x), no_ids(*y)};
  rk__ovl_toks ided[2] = {pair[0], pair[1]};
  CHECK(intern_all(a, ided, 2) == 0);
  rk__ovl_toks refs2[2] = {pair[1], pair[0]}, refs2i[2] = {ided[1], ided[0]};
  for (unsigned n = 1; n <= 4; n++) {
    rk__ovl_prf p1, p2;
    CHECK(rk__ovl_rouge_n(a, &pair[1], &pair[0], n, &p1) == 0);
    CHECK(rk__ovl_rouge_n(a, &ided[1], &ided[0], n, &p2) == 0);
    CHECK(p1.p == p2.p && p1.r == p2.r && p1.f == p2.f);
    size_t inter = naive_common(&pair[0], &pair[1], 1, n);
    size_t pn = pair[0].n >= n ? pair[0].n - n + 1 : 0;
    CHECK(p1.p == (double)inter / (double)(pn > 1 ? pn : 1));
  }
  rk__ovl_prf l1, l2;
  CHECK(rk__ovl_rouge_l(a, &pair[1], &pair[0], &l1) == 0);
  CHECK(rk__ovl_rouge_l(a, &ided[1], &ided[0], &l2) == 0);
  CHECK(l1.p == l2.p && l1.r == l2.r && l1.f == l2.f);
  for (size_t nref = 1; nref <= 2; nref++) {
    rk__bleu_stats s1, s2;
    /* order 4: the packed-key table for the interned lists; 6: the tree */
    for (unsigned order = 4; order <= RK__BLEU_MAX_ORDER; order += 2) {
      CHECK(rk__ovl_bleu_stats(a, &pair[0], refs2, nref, order, &s1) == 0);
      CHECK(rk__ovl_bleu_stats(a, &ided[0], refs2i, nref, order, &s2) == 0);
      CHECK(memcmp(&s1, &s2, sizeof s1) == 0);
      for (unsigned n = 1; n <= order; n++)
        CHECK(s1.correct[n - 1] == (double)naive_common(&pair[0], refs2, nref, n));
    }
  }
}


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
  /* The block paths with AVX-512 (where the processor has it) for even
   * sizes, SSE2 for odd ones: both against the definitions below. */
  rk__wide = !(size & 1);

  /* Tokenizers. */
  rk__ovl_toks t[2];
  rk__str side[2] = {hyp, ref};
  for (int s = 0; s < 2; s++) {
    rk__str r = rk__ovl_rstrip(side[s]);
    CHECK(r.n <= side[s].n);
    CHECK(rk__ovl_tok13a(a, r.p, r.n, &t[s]) == 0);
    check_toks(&t[s]);
    CHECK(o_check(r.p, r.n, 0, &t[s]) == 0);
    {
      rk__ovl_toks c13, zh, intl;
      CHECK(rk__ovl_tok13a_chars(a, r.p, r.n, &c13) == 0);
      CHECK(c13.n == t[s].n);
      for (size_t i = 0; i < c13.n; i++) CHECK(rk__str_eq(c13.t[i], t[s].t[i]));
      CHECK(rk__ovl_tokzh(a, side[s].p, side[s].n, &zh) == 0);
      check_toks(&zh);
      CHECK(o_check(side[s].p, side[s].n, 1, &zh) == 0);
      CHECK(rk__ovl_tokintl(a, side[s].p, side[s].n, &intl) == 0);
      check_toks(&intl);
      CHECK(o_check(side[s].p, side[s].n, 2, &intl) == 0);
    }
    rk__ovl_toks c;
    CHECK(rk__ovl_tokchar(a, side[s].p, side[s].n, &c) == 0);
    check_toks(&c);
    size_t ln;
    char *lw = rk__pylower(a, side[s].p, side[s].n, &ln);
    CHECK(lw != NULL);
    {
      /* A stray byte is copied by one and is U+FFFD to the other; it
       * decodes to U+FFFD in the copy too (no lowered character starts
       * with a continuation byte). */
      uint32_t *cps = rk__arena_alloc(a, (side[s].n + 1) * sizeof *cps);
      uint32_t *want = rk__arena_alloc(a, (2 * side[s].n + 1) * sizeof *want);
      uint32_t *got = rk__arena_alloc(a, (ln + 1) * sizeof *got);
      CHECK(cps && want && got);
      size_t nw = rk__cp_lower_seq(cps, rk__cp_decode(side[s].p, side[s].n, cps), want);
      CHECK(rk__cp_decode(lw, ln, got) == nw &&
            (nw == 0 || memcmp(want, got, nw * sizeof *got) == 0));
    }
    for (int uni = 0; uni < 2; uni++) {
      for (int stem = 0; stem < 2; stem++) {
        rk__ovl_toks rt;
        CHECK(rk__ovl_tokrouge(a, side[s].p, side[s].n, stem, uni, &rt) == 0);
        if (!stem) { /* the block fast path against the definition */
          rk__ovl_toks rc;
          CHECK(rk__ovl_tokrouge_chars(a, side[s].p, side[s].n, uni, &rc) == 0);
          CHECK(rc.n == rt.n);
          for (size_t i = 0; i < rc.n; i++) CHECK(rk__str_eq(rc.t[i], rt.t[i]));
        }
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

  /* Table, mask and naive counts agree (rouge-score and 13a tokens). */
  check_counts(a, &r2[0], &r2[1]);
  check_counts(a, &t[0], &t[1]);

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
    /* em's key, when taken: the tokens joined by one space */
    char key[64];
    size_t kn, kt, o = 0;
    if (rk__ovl_squad_key(side[s].p, side[s].n, key, &kn, &kt)) {
      CHECK(kt == ref_t.n && kn < 64);
      for (size_t i = 0; i < ref_t.n; i++) {
        CHECK(o + ref_t.t[i].n <= kn && memcmp(key + o, ref_t.t[i].p, ref_t.t[i].n) == 0);
        o += ref_t.t[i].n;
        if (i + 1 < ref_t.n) CHECK(o < kn && key[o++] == ' ');
      }
      CHECK(o == kn);
    }
  }
  size_t common;
  double f1 = rk__ovl_squad_f1(a, &sq[1], &sq[0], 0, &common);
  if (sq[0].n <= 300 && sq[1].n <= 300) CHECK(common == naive_common(&sq[0], &sq[1], 1, 1));
  double f2 = rk__ovl_squad_f1(a, &sq[0], &sq[1], 0, &common);
  if (sq[0].n <= 300 && sq[1].n <= 300) CHECK(common == naive_common(&sq[1], &sq[0], 1, 1));
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
