/*
 * chrf.c - fn `chrf`: chrF and chrF++ (word_order 2) of the answer
 * against one or several references, as sacreBLEU 2.x metrics/chrf.py
 * computes a sentence score: character n-grams 1..char_order with
 * whitespace removed, word n-grams 1..word_order after sacreBLEU's
 * one-character punctuation split, beta 2, and the reference with the
 * best sentence F kept. Reward = chrF / 100 (docs/rewards/overlap.md).
 *
 * Default mode averages precision and recall over the orders before the
 * F-beta (sacreBLEU's default, eps_smoothing=False); eps_smoothing
 * averages per-order F scores as chrF++.py and NLTK do.
 *
 * Corpus chrF (sacreBLEU's corpus_score: each segment's statistics, of
 * its best reference, summed, then one F) goes through the corpus hook
 * below, which shares the per-record reward's code path; metrics/corpus.c
 * (rk_corpus_score) drives it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"
#include "json/json.h"
#include "metrics/ovl.h"

/* ------------------------------------------------------------ core */

/* Counts every n-gram of order 1..maxn of units u[0..n) as hypothesis. */
static void tmap_add(rk__ovl_tmap *m, const uint32_t *u, size_t n, unsigned maxn) {
  for (size_t i = 0; i < n; i++) {
    uint64_t parent = 0;
    for (unsigned k = 0; k < maxn && i + k < n; k++) {
      uint32_t s = rk__ovl_tmap_get(m, parent << 32 | u[i + k], 1);
      if (!s) break;
      m->e[s - 1].a++;
      parent = s;
    }
  }
}

/* Adds to match[k] (order k + 1) the clipped matches of reference units
 * u[0..n): a reference n-gram matches while the hypothesis still has an
 * unmatched copy; counts are for reference `gen` (reset lazily). A prefix
 * absent from the hypothesis ends the walk: no longer n-gram can match. */
static void tmap_match(rk__ovl_tmap *m, const uint32_t *u, size_t n, unsigned maxn, uint32_t gen,
                       double *match) {
  for (size_t i = 0; i < n; i++) {
    uint64_t parent = 0;
    for (unsigned k = 0; k < maxn && i + k < n; k++) {
      uint32_t s = rk__ovl_tmap_get(m, parent << 32 | u[i + k], 0);
      if (!s) break;
      rk__ovl_tnode *t = &m->e[s - 1];
      if (t->gen != gen) {
        t->gen = gen;
        t->b = 0;
      }
      if (t->b++ < t->a) match[k] += 1;
      parent = s;
    }
  }
}

/* Character n-grams of a hypothesis of at most 256 code points, all
 * <= U+00FF, by equality masks instead of a table: tab[c] has bit i set
 * when hyp[i] == c, so
 *   M_n(j) = AND_{k<n} (tab[ref[j+k]] >> k)
 * marks the hypothesis positions where the n-gram ref[j..j+n) starts.
 * Walking the reference, each n-gram takes one not yet used position of
 * M_n(j) (used_n marks those taken): a distinct n-gram g then matches
 * min(count in hyp, count in ref) times, the clipped count tmap_match
 * computes. An empty M_n(j) ends the walk, as an absent prefix does
 * there. tests/unit/test_overlap.c compares both on random pairs. */
#define CHRF_MASK_WORDS 4

static inline __attribute__((always_inline)) void mask_match_w(
    const uint64_t (*tab)[CHRF_MASK_WORDS], const size_t W, const uint32_t *u, size_t n,
    unsigned maxn, uint32_t *match) {
  uint64_t used[RK__CHRF_MAX_CHAR][CHRF_MASK_WORDS];
  memset(used, 0, sizeof used);
  for (size_t j = 0; j < n; j++) {
    unsigned top = n - j < maxn ? (unsigned)(n - j) : maxn;
    uint64_t m[CHRF_MASK_WORDS];
    for (size_t w = 0; w < W; w++) m[w] = tab[u[j]][w];
    for (unsigned k = 0;;) {
      uint64_t any = 0;
      int taken = 0;
      for (size_t w = 0; w < W; w++) {
        any |= m[w];
        uint64_t f = m[w] & ~used[k][w];
        if (f && !taken) {
          used[k][w] |= f & (0 - f);
          taken = 1;
        }
      }
      match[k] += (uint32_t)taken;
      if (!any || ++k == top) break;
      const uint64_t *e = tab[u[j + k]];
      for (size_t w = 0; w < W; w++)
        m[w] &= e[w] >> k | (w + 1 < W ? e[w + 1] << (64 - k) : 0);
    }
  }
}

static void mask_match(const uint64_t (*tab)[CHRF_MASK_WORDS], size_t W, const uint32_t *u,
                       size_t n, unsigned maxn, uint32_t *match) {
  switch (W) {
    case 1: mask_match_w(tab, 1, u, n, maxn, match); break;
    case 2: mask_match_w(tab, 2, u, n, maxn, match); break;
    case 3: mask_match_w(tab, 3, u, n, maxn, match); break;
    default: mask_match_w(tab, 4, u, n, maxn, match); break;
  }
}

/* One side's units: code points (whitespace removed unless kept) and
 * interned words after the punctuation split. */
typedef struct chrf_side {
  uint32_t *cp;
  size_t ncp;
  int wide; /* some code point above U+00FF */
  rk__ovl_toks w;
} chrf_side;

static int is_punct(unsigned char c) {
  /* Python string.punctuation */
  return c < 0x80 && c > 0x20 && c != 0x7F && !((c >= '0' && c <= '9') ||
                                                 ((c | 32) >= 'a' && (c | 32) <= 'z'));
}

/* CHRF._remove_punctuation: one punctuation character split from the end
 * of a word, or else from its start (so "(hi)" gives "(hi" and ")"). */
static int words_split(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  rk__ovl_toks raw;
  if (rk__ovl_split(a, p, n, &raw)) return -1;
  out->t = rk__arena_alloc(a, (2 * raw.n + 1) * sizeof *out->t);
  if (!out->t) return -1;
  out->n = 0;
  out->id = NULL;
  out->h = NULL;
  for (size_t i = 0; i < raw.n; i++) {
    rk__str w = raw.t[i];
    size_t l;
    rk__ovl_cp(w.p, w.n, &l);
    if (l == w.n) { /* one character */
      out->t[out->n++] = w;
    } else if (is_punct((unsigned char)w.p[w.n - 1])) {
      out->t[out->n++] = rk__str_make(w.p, w.n - 1);
      out->t[out->n++] = rk__str_make(w.p + w.n - 1, 1);
    } else if (is_punct((unsigned char)w.p[0])) {
      out->t[out->n++] = rk__str_make(w.p, 1);
      out->t[out->n++] = rk__str_make(w.p + 1, w.n - 1);
    } else {
      out->t[out->n++] = w;
    }
  }
  return 0;
}

static int side_prep(rk__arena *a, const rk__chrf_opts *o, rk__str s, chrf_side *sd) {
  if (o->lowercase) {
    size_t n;
    char *l = rk__pylower(a, s.p, s.n, &n);
    if (!l) return -1;
    s = rk__str_make(l, n);
  }
  sd->cp = rk__arena_alloc(a, (s.n + 1) * sizeof *sd->cp);
  if (!sd->cp) return -1;
  sd->ncp = 0;
  sd->wide = 0;
  for (size_t i = 0; i < s.n;) {
    unsigned char c = (unsigned char)s.p[i];
    if (c < 0x80) {
      /* ASCII: rk__py_space_fast and rk__ovl_cp inlined (class 1 is the
       * ASCII whitespace, one byte). */
      if (o->whitespace || !rk__py_space_class[c]) sd->cp[sd->ncp++] = c;
      i++;
      continue;
    }
    if (!o->whitespace) {
      size_t w = rk__py_space_fast(s.p + i, s.n - i);
      if (w) {
        i += w;
        continue;
      }
    }
    size_t l;
    uint32_t cp = rk__ovl_cp(s.p + i, s.n - i, &l);
    sd->cp[sd->ncp++] = cp;
    sd->wide |= cp > 0xFF;
    i += l;
  }
  sd->w.n = 0;
  sd->w.t = NULL;
  sd->w.id = NULL;
  sd->w.h = NULL;
  if (o->word_order && words_split(a, s.p, s.n, &sd->w)) return -1;
  return 0;
}

double rk__ovl_chrf_f(const rk__chrf_opts *o, const rk__chrf_stats *st) {
  /* CHRF._compute_f_score (sacreBLEU 2.x), eps = 1e-16 standing in for an
   * undefined precision or recall:
   *   per order: P = match/hyp, R = match/ref, F = (1+b^2)PR/(b^2 P + R)
   *   eps mode: 100 * mean(F);
   *   default:  P, R averaged over the orders with hyp > 0 and ref > 0
   *             (the eps stand-ins never enter), then the F-beta; 0 when
   *             no order has both. */
  const double eps = 1e-16;
  double factor = o->beta * o->beta, score = 0, avg_p = 0, avg_r = 0;
  unsigned order = o->char_order + o->word_order, eff = 0;
  for (unsigned i = 0; i < order; i++) {
    double h = st->v[3 * i], r = st->v[3 * i + 1], m = st->v[3 * i + 2];
    double prec = h > 0 ? m / h : eps, rec = r > 0 ? m / r : eps;
    double denom = factor * prec + rec;
    score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
    if (h > 0 && r > 0) {
      eff++;
      avg_p += prec;
      avg_r += rec;
    }
  }
  if (o->eps_smoothing) return 100 * score / order;
  if (eff == 0) {
    avg_p = avg_r = 0;
  } else {
    avg_p /= eff;
    avg_r /= eff;
  }
  if (avg_p + avg_r == 0) return 0.0;
  /* sacreBLEU's order of operations, so that the last bit agrees too */
  double f = (1 + factor) * avg_p * avg_r;
  f /= factor * avg_p + avg_r;
  return 100 * f;
}

static int chrf_stats(rk__arena *a, const rk__chrf_opts *o, rk__str hyp, const rk__str *refs,
                      size_t nref, int tree, rk__chrf_stats *best_st, size_t *best) {
  unsigned co = o->char_order, wo = o->word_order;
  memset(best_st, 0, sizeof *best_st);
  *best = 0;
  chrf_side h;
  if (side_prep(a, o, hyp, &h)) return -1;
  chrf_side *rs = rk__arena_alloc(a, (nref ? nref : 1) * sizeof *rs);
  if (!rs) return -1;
  size_t words = h.w.n;
  for (size_t i = 0; i < nref; i++) {
    if (side_prep(a, o, refs[i], &rs[i])) return -1;
    words += rs[i].w.n;
  }
  /* Character n-grams: equality masks when every code point fits a byte
   * and the hypothesis 256 code points, the prefix tree otherwise (or
   * when the caller asks for it). */
  int wide = h.wide || tree || h.ncp > 64 * CHRF_MASK_WORDS;
  for (size_t i = 0; i < nref; i++) wide |= rs[i].wide;
  rk__ovl_tmap cm = {0}, wm;
  uint64_t (*tab)[CHRF_MASK_WORDS] = NULL;
  size_t W = (h.ncp + 63) / 64;
  if (wide) {
    if (rk__ovl_tmap_init(&cm, a, h.ncp * co + 1)) return -1;
  } else {
    /* Only the rows of characters that occur are read: clear those. */
    tab = rk__arena_alloc(a, 256 * sizeof *tab);
    if (!tab) return -1;
    for (size_t i = 0; i < h.ncp; i++) memset(tab[h.cp[i]], 0, sizeof *tab);
    for (size_t r = 0; r < nref; r++)
      for (size_t i = 0; i < rs[r].ncp; i++) memset(tab[rs[r].cp[i]], 0, sizeof *tab);
    for (size_t i = 0; i < h.ncp; i++) tab[h.cp[i]][i / 64] |= (uint64_t)1 << (i % 64);
  }
  if (rk__ovl_tmap_init(&wm, a, h.w.n * wo + 1)) return -1;
  if (wo) {
    rk__ovl_intern in;
    if (rk__ovl_intern_init(&in, a, words) || rk__ovl_intern_toks(&in, a, &h.w)) return -1;
    for (size_t i = 0; i < nref; i++)
      if (rk__ovl_intern_toks(&in, a, &rs[i].w)) return -1;
  }
  if (wide) tmap_add(&cm, h.cp, h.ncp, co);
  if (wo) tmap_add(&wm, h.w.id, h.w.n, wo);
  double best_f = -1.0;
  for (size_t r = 0; r < nref; r++) {
    rk__chrf_stats st;
    memset(&st, 0, sizeof st);
    const chrf_side *s = &rs[r];
    double match[RK__CHRF_MAX_ORDER] = {0};
    if (wide) {
      tmap_match(&cm, s->cp, s->ncp, co, (uint32_t)(r + 1), match);
    } else {
      uint32_t cnt[RK__CHRF_MAX_CHAR] = {0};
      mask_match((const uint64_t(*)[CHRF_MASK_WORDS])tab, W ? W : 1, s->cp, s->ncp, co, cnt);
      for (unsigned k = 0; k < co; k++) match[k] = cnt[k];
    }
    if (wo) tmap_match(&wm, s->w.id, s->w.n, wo, (uint32_t)(r + 1), match + co);
    for (unsigned n = 1; n <= co; n++) {
      st.v[3 * (n - 1)] = h.ncp >= n ? (double)(h.ncp - n + 1) : 0;
      st.v[3 * (n - 1) + 1] = s->ncp >= n ? (double)(s->ncp - n + 1) : 0;
      st.v[3 * (n - 1) + 2] = match[n - 1];
    }
    for (unsigned n = 1; n <= wo; n++) {
      unsigned k = co + n - 1;
      st.v[3 * k] = h.w.n >= n ? (double)(h.w.n - n + 1) : 0;
      st.v[3 * k + 1] = s->w.n >= n ? (double)(s->w.n - n + 1) : 0;
      st.v[3 * k + 2] = match[k];
    }
    double f = rk__ovl_chrf_f(o, &st);
    if (f > best_f) {
      best_f = f;
      *best_st = st;
      *best = r;
    }
  }
  return 0;
}

int rk__ovl_chrf_stats(rk__arena *a, const rk__chrf_opts *o, rk__str hyp, const rk__str *refs,
                       size_t nref, rk__chrf_stats *st, size_t *best) {
  return chrf_stats(a, o, hyp, refs, nref, 0, st, best);
}

int rk__ovl_chrf_stats_tree(rk__arena *a, const rk__chrf_opts *o, rk__str hyp,
                            const rk__str *refs, size_t nref, rk__chrf_stats *st, size_t *best) {
  return chrf_stats(a, o, hyp, refs, nref, 1, st, best);
}

/* ----------------------------------------------------------- the fn */

typedef struct chrf_cfg {
  rk__extract_cfg ex;
  rk__chrf_opts o;
} chrf_cfg;

static void chrf_free(void *p) {
  chrf_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int chrf_compile(rk__argctx *ac, void **out) {
  chrf_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  long co, wo;
  if (rk__extract_cfg_compile(ac, RK__EX_NONE, &cfg->ex) ||
      rk__arg_int(ac, "char_order", 6, 1, RK__CHRF_MAX_CHAR, &co) ||
      rk__arg_int(ac, "word_order", 0, 0, RK__CHRF_MAX_WORD, &wo) ||
      rk__arg_num_range(ac, "beta", 2.0, 1e-6, 1e6, &cfg->o.beta) ||
      rk__arg_bool(ac, "whitespace", 0, &cfg->o.whitespace) ||
      rk__arg_bool(ac, "eps_smoothing", 0, &cfg->o.eps_smoothing) ||
      rk__arg_bool(ac, "lowercase", 0, &cfg->o.lowercase)) {
    chrf_free(cfg);
    return -1;
  }
  cfg->o.char_order = (unsigned)co;
  cfg->o.word_order = (unsigned)wo;
  *out = cfg;
  return 0;
}

/* A record's statistics (of its best reference): what the sentence
 * reward and the corpus hook share. `corpus`: an answer that cannot be
 * extracted becomes an empty hypothesis, as sacreBLEU scores an empty
 * line, and UNPARSEABLE comes back with the statistics filled; the
 * sentence reward returns at once instead. */
static rk_status record_stats(const chrf_cfg *cfg, rk__call *c, int corpus, rk__chrf_stats *s,
                              size_t *best, size_t *nref_out) {
  rk__str all[RK__MAX_REFS], refs[RK__MAX_REFS];
  int had;
  size_t nall = rk__record_refs(c, all, RK__MAX_REFS, &had), nref = 0;
  for (size_t i = 0; i < nall; i++)
    if (all[i].n) refs[nref++] = all[i];
  if (!nref) {
    rk__explain(c, nall ? "every reference is empty (sacreBLEU refuses empty reference sets)"
                        : "no reference: expected a string or an array of strings");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__str ans;
  rk_status st = rk__ovl_answer(&cfg->ex, c, &ans);
  if (st == RK_STATUS_UNPARSEABLE && corpus)
    ans = rk__str_make("", 0);
  else if (st != RK_STATUS_OK)
    return st;
  uint64_t bytes = ans.n + rk__ovl_total_len(refs, nref);
  if (!rk__spend(c, bytes * (4 + cfg->o.char_order + cfg->o.word_order) + 1))
    return RK_STATUS_TIMEOUT;
  if (rk__ovl_chrf_stats(c->arena, &cfg->o, ans, refs, nref, s, best))
    return rk__fail(c, "chrf: out of scratch memory");
  *nref_out = nref;
  return st;
}

static rk_status chrf_score(const void *p, rk__call *c, double *value) {
  const chrf_cfg *cfg = p;
  *value = 0;
  rk__chrf_stats s;
  size_t bi = 0, nref = 0;
  rk_status st = record_stats(cfg, c, 0, &s, &bi, &nref);
  if (st != RK_STATUS_OK) return st;
  double f = rk__ovl_chrf_f(&cfg->o, &s);
  *value = f / 100.0;
  if (*value > 1) *value = 1;
  if (rk__explaining(c)) {
    rk__explain(c, "chrF%s %.4g (beta %g, char n-grams 1-%u, word n-grams %u%s); 1-gram matches "
                   "%g of %g answer / %g reference characters; reference %zu of %zu%s",
                cfg->o.word_order ? "++" : "", f, cfg->o.beta, cfg->o.char_order,
                cfg->o.word_order, cfg->o.eps_smoothing ? ", eps smoothing" : "", s.v[2], s.v[0],
                s.v[1], bi + 1, nref, s.v[0] == 0 ? "; empty answer" : "");
  }
  return RK_STATUS_OK;
}

/* ------------------------------------------------------------ corpus */

static rk_status chrf_corpus_add(const void *p, rk__call *c, void *acc) {
  const chrf_cfg *cfg = p;
  rk__chrf_stats s, *sum = acc;
  size_t bi = 0, nref = 0;
  rk_status st = record_stats(cfg, c, 1, &s, &bi, &nref);
  if (st != RK_STATUS_OK && st != RK_STATUS_UNPARSEABLE) return st;
  /* CHRF._extract_corpus_statistics: element-wise sums of integer
   * counts, exact in doubles, so the order of the records does not
   * matter. */
  for (unsigned i = 0; i < 3 * (cfg->o.char_order + cfg->o.word_order); i++) sum->v[i] += s.v[i];
  return st;
}

static double chrf_corpus_finish(const void *p, const void *acc, rk__buf *o) {
  const chrf_cfg *cfg = p;
  const rk__chrf_stats *sum = acc;
  double f = rk__ovl_chrf_f(&cfg->o, sum);
  /* CHRFScore.format(): sacreBLEU's name is chrF<beta> plus one '+' per
   * word order ("chrF2", "chrF2++"). */
  char line[96];
  snprintf(line, sizeof line, "chrF%g%.*s = %.2f", cfg->o.beta, (int)cfg->o.word_order, "++++",
           f);
  rk__buf_puts(o, ",\"text\":");
  rk__json_put_str(o, line, strlen(line));
  rk__buf_printf(o, ",\"char_order\":%u,\"word_order\":%u,\"beta\":", cfg->o.char_order,
                 cfg->o.word_order);
  rk__json_put_num(o, cfg->o.beta);
  rk__buf_printf(o, ",\"eps_smoothing\":%s,\"whitespace\":%s,\"lowercase\":%s",
                 cfg->o.eps_smoothing ? "true" : "false", cfg->o.whitespace ? "true" : "false",
                 cfg->o.lowercase ? "true" : "false");
  /* Per order, characters first, then words: [hypothesis n-grams,
   * reference n-grams, matches], the sums the score is computed from. */
  rk__buf_puts(o, ",\"stats\":[");
  for (unsigned i = 0; i < cfg->o.char_order + cfg->o.word_order; i++) {
    rk__buf_puts(o, i ? ",[" : "[");
    for (unsigned k = 0; k < 3; k++) {
      if (k) rk__buf_putc(o, ',');
      rk__json_put_num(o, sum->v[3 * i + k]);
    }
    rk__buf_putc(o, ']');
  }
  rk__buf_putc(o, ']');
  return f;
}

static const rk__corpus_ops chrf_corpus = {
    .acc_size = sizeof(rk__chrf_stats),
    .add = chrf_corpus_add,
    .finish = chrf_corpus_finish,
};

const rk__fn rk__fn_chrf = {
    .name = "chrf",
    .summary = "sacreBLEU chrF / chrF++ / 100 (args: char_order, word_order, beta, whitespace, "
               "eps_smoothing, lowercase, extract)",
    .compile = chrf_compile,
    .score = chrf_score,
    .free = chrf_free,
    .corpus = &chrf_corpus,
};
