/*
 * cider_d.c - fn `cider_d`: CIDEr-D of a caption against its reference
 * captions with a precomputed corpus document-frequency table, as
 * pycocoevalcap's cider_scorer.py (Vedantam et al. 2015 with vrama91's
 * clipping and Gaussian length penalty) computes it, divided by 10 so the
 * reward is in [0, 1] (docs/rewards/overlap.md).
 *
 * The df file is JSON: {"ref_len": log(#images), "df": {"w1": 12,
 * "w1 w2": 3, ...}} (n-grams of 1-4 words joined by one space), built by
 * tools/cider_df.py. It is loaded once when the spec compiles and shared
 * read-only by every thread.
 *
 * Quirk kept by default: the length in the penalty is the number of
 * bigrams (the reference code tests n == 1 on a 0-based order);
 * "length": "words" uses word counts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "metrics/ovl.h"

#define CIDER_N 4
#define CIDER_MAX_FILE ((size_t)1 << 30)

/* ---------------------------------------------------------- df table */

typedef struct df_entry {
  uint64_t hash;
  const char *key; /* into blob */
  size_t len;
  double logdf;    /* log(max(1, df)) */
} df_entry;

struct rk__cider_df {
  df_entry *slot; /* open addressing; key == NULL = empty */
  size_t mask, n;
  char *blob;
  double ref_len;
};

static uint64_t fnv(const char *p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001B3ull;
  return h;
}
#define FNV0 0xCBF29CE484222325ull

/* An n-gram's hash folds its words' hashes, so that scoring hashes each
 * token once and never builds the joined string. */
static inline uint64_t word_hash(const char *p, size_t n) { return fnv(p, n, FNV0); }
static inline uint64_t fold(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0x9E3779B97F4A7C15ull;
  return h ^ h >> 32;
}

/* Hash of a df key: its words are separated by single spaces. */
static uint64_t key_hash(const char *k, size_t n) {
  uint64_t h = 0;
  size_t b = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && k[i] != ' ') continue;
    h = fold(h, word_hash(k + b, i - b));
    b = i + 1;
  }
  return h;
}

static const df_entry *df_find(const rk__cider_df *df, uint64_t h, const char *k, size_t n) {
  size_t i = (size_t)(h ^ h >> 29) & df->mask;
  for (;;) {
    const df_entry *e = &df->slot[i];
    if (!e->key) return NULL;
    if (e->hash == h && e->len == n && memcmp(e->key, k, n) == 0) return e;
    i = (i + 1) & df->mask;
  }
}

void rk__cider_df_free(rk__cider_df *df) {
  if (!df) return;
  free(df->slot);
  free(df->blob);
  free(df);
}


rk__cider_df *rk__cider_df_load(const char *json, size_t n, char *err, size_t errcap) {
  rk__arena a;
  rk__arena_init(&a, (size_t)4 << 30);
  rk__jval *root = NULL;
  rk__json_error je;
  rk__cider_df *df = NULL;
  int rc = rk__json_parse(json, n, &a, NULL, &root, &je);
  if (rc) {
    if (rc == -1)
      snprintf(err, errcap, "not JSON: line %zu column %zu: %s", je.line, je.column, je.msg);
    else
      snprintf(err, errcap, "out of memory");
    goto fail;
  }
  const rk__jval *rl = root->type == RK__JOBJ ? rk__json_get(root, "ref_len") : NULL;
  const rk__jval *d = root->type == RK__JOBJ ? rk__json_get(root, "df") : NULL;
  if (!rl || rl->type != RK__JNUM || !(rl->u.num >= 0) || !isfinite(rl->u.num)) {
    snprintf(err, errcap, "expected \"ref_len\": log(number of images), a number >= 0");
    goto fail;
  }
  if (!d || d->type != RK__JOBJ) {
    snprintf(err, errcap, "expected \"df\": an object of n-gram -> document count");
    goto fail;
  }
  df = calloc(1, sizeof *df);
  if (!df) goto oom;
  df->ref_len = rl->u.num;
  size_t cnt = d->u.obj.n, bytes = 0, cap = 16;
  while (cap < 2 * cnt + 2) cap <<= 1;
  for (size_t i = 0; i < cnt; i++) bytes += d->u.obj.items[i].key.n;
  df->slot = calloc(cap, sizeof *df->slot);
  df->blob = malloc(bytes + 1);
  if (!df->slot || !df->blob) goto oom;
  df->mask = cap - 1;
  size_t off = 0;
  for (size_t i = 0; i < cnt; i++) {
    const rk__jmember *m = &d->u.obj.items[i];
    if (m->val.type != RK__JNUM || !(m->val.u.num >= 0) || !isfinite(m->val.u.num)) {
      snprintf(err, errcap, "df[\"%.*s\"]: expected a count >= 0",
               (int)(m->key.n > 40 ? 40 : m->key.n), m->key.p);
      goto fail;
    }
    memcpy(df->blob + off, m->key.p, m->key.n);
    const char *k = df->blob + off;
    size_t kn = m->key.n;
    off += kn;
    uint64_t h = key_hash(k, kn);
    double lg = log(m->val.u.num > 1.0 ? m->val.u.num : 1.0);
    const df_entry *old = df_find(df, h, k, kn);
    if (old) { /* duplicate key: the last wins, like a Python dict */
      ((df_entry *)old)->logdf = lg;
      continue;
    }
    size_t j = (size_t)(h ^ h >> 29) & df->mask;
    while (df->slot[j].key) j = (j + 1) & df->mask;
    df->slot[j] = (df_entry){h, k, kn, lg};
    df->n++;
  }
  rk__arena_release(&a);
  return df;
oom:
  snprintf(err, errcap, "out of memory");
fail:
  rk__arena_release(&a);
  rk__cider_df_free(df);
  return NULL;
}

/* log(max(1, df[g])) of the word n-gram toks[0..n) (wh: the words'
 * hashes), 0 when absent. */
static double logdf(const rk__cider_df *df, const rk__str *toks, const uint64_t *wh, unsigned n) {
  uint64_t h = 0;
  size_t len = n - 1;
  for (unsigned i = 0; i < n; i++) {
    h = fold(h, wh[i]);
    len += toks[i].n;
  }
  size_t i = (size_t)(h ^ h >> 29) & df->mask;
  for (;;) {
    const df_entry *e = &df->slot[i];
    if (!e->key) return 0.0;
    if (e->hash == h && e->len == len) {
      /* Compare piecewise against the joined key. */
      size_t o = 0;
      int eq = 1;
      for (unsigned k = 0; k < n && eq; k++) {
        if (k) eq = e->key[o++] == ' ';
        if (eq) eq = memcmp(e->key + o, toks[k].p, toks[k].n) == 0;
        o += toks[k].n;
      }
      if (eq) return e->logdf;
    }
    i = (i + 1) & df->mask;
  }
}

/* ------------------------------------------------------------ score */

typedef struct cvec {
  rk__ovl_gmap m;   /* a = term frequency */
  double *v;        /* tf * (ref_len - logdf), by slot */
  double norm[CIDER_N];
  double length;
} cvec;

static int counts2vec(rk__arena *a, const rk__cider_df *df, const rk__ovl_toks *t, int bigram_len,
                      cvec *out) {
  size_t grams = t->n * CIDER_N + 1;
  if (rk__ovl_gmap_init(&out->m, a, grams)) return -1;
  out->v = rk__arena_alloc(a, grams * sizeof *out->v);
  if (!out->v) return -1;
  /* First position of each distinct n-gram (by entry), to find its words
   * again for the df lookup. */
  size_t *first = rk__arena_alloc(a, grams * sizeof *first);
  if (!first) return -1;
  for (size_t i = 0; i < t->n; i++) {
    uint64_t v[4] = {0, 0, 0, 0};
    for (unsigned n = 1; n <= CIDER_N && i + n <= t->n; n++) {
      v[n - 1] = (uint64_t)t->id[i + n - 1] + 1;
      rk__ovl_gram *g = rk__ovl_gmap_get(&out->m, v[0] | v[1] << 32, v[2] | v[3] << 32, n, 1);
      if (!g) continue;
      if (g->a++ == 0) first[g - out->m.e] = i;
    }
  }
  uint64_t *wh = rk__arena_alloc(a, (t->n + 1) * sizeof *wh);
  if (!wh) return -1;
  for (size_t i = 0; i < t->n; i++) wh[i] = word_hash(t->t[i].p, t->t[i].n);
  for (int n = 0; n < CIDER_N; n++) out->norm[n] = 0;
  out->length = 0;
  for (size_t s = 0; s < out->m.n; s++) {
    rk__ovl_gram *g = &out->m.e[s];
    double w = (double)g->a * (df->ref_len - logdf(df, t->t + first[s], wh + first[s], g->order));
    out->v[s] = w;
    out->norm[g->order - 1] += w * w;
    if (g->order == 2) out->length += g->a; /* the bigram-count quirk */
  }
  if (!bigram_len) out->length = (double)t->n;
  for (int n = 0; n < CIDER_N; n++) out->norm[n] = sqrt(out->norm[n]);
  return 0;
}

int rk__ovl_cider_d(rk__arena *a, const rk__cider_df *df, const rk__ovl_toks *hyp,
                    const rk__ovl_toks *refs, size_t nref, double sigma, int bigram_length,
                    double *out) {
  /* CiderScorer.compute_cider (CIDEr-D):
   *   vec_n[g] = tf(g) * (ref_len - log(max(1, df(g)))), n = 1..4
   *   sim_n = sum_g min(h[g], r[g]) * r[g] / (|h_n| |r_n|)   (when both > 0)
   *           * exp(-(len_h - len_r)^2 / (2 sigma^2))
   *   CIDEr-D = 10 * mean_refs(mean_n sim_n); we return it / 10. */
  *out = 0;
  if (nref == 0) return 0;
  size_t total = hyp->n;
  for (size_t r = 0; r < nref; r++) total += refs[r].n;
  rk__ovl_toks *all = rk__arena_alloc(a, (nref + 1) * sizeof *all);
  if (!all) return -1;
  all[0] = *hyp;
  for (size_t r = 0; r < nref; r++) all[r + 1] = refs[r];
  rk__ovl_intern in;
  if (rk__ovl_intern_init(&in, a, total)) return -1;
  for (size_t r = 0; r <= nref; r++)
    if (rk__ovl_intern_toks(&in, a, &all[r])) return -1;
  cvec h;
  if (counts2vec(a, df, &all[0], bigram_length, &h)) return -1;
  double sum = 0;
  for (size_t r = 1; r <= nref; r++) {
    cvec rv;
    if (counts2vec(a, df, &all[r], bigram_length, &rv)) return -1;
    double delta = h.length - rv.length;
    double pen = exp(-(delta * delta) / (2 * sigma * sigma));
    double val[CIDER_N] = {0, 0, 0, 0};
    for (size_t s = 0; s < h.m.n; s++) {
      rk__ovl_gram *g = &h.m.e[s];
      rk__ovl_gram *q = rk__ovl_gmap_get(&rv.m, g->k0, g->k1, g->order, 0);
      if (!q) continue;
      double vh = h.v[s], vr = rv.v[q - rv.m.e];
      val[g->order - 1] += (vh < vr ? vh : vr) * vr;
    }
    for (int n = 0; n < CIDER_N; n++) {
      if (h.norm[n] != 0 && rv.norm[n] != 0) val[n] /= h.norm[n] * rv.norm[n];
      sum += val[n] * pen;
    }
  }
  *out = sum / CIDER_N / (double)nref;
  return 0;
}

/* ----------------------------------------------------------- the fn */

typedef struct cider_cfg {
  rk__extract_cfg ex;
  rk__cider_df *df;
  double sigma;
  int words_len, lower;
  char *path;
} cider_cfg;

static void cider_free(void *p) {
  cider_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  rk__cider_df_free(cfg->df);
  free(cfg->path);
  free(cfg);
}

static int cider_compile(rk__argctx *ac, void **out) {
  cider_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  static const char *const lens[] = {"bigrams", "words", NULL};
  if (rk__extract_cfg_compile(ac, RK__EX_NONE, &cfg->ex) ||
      rk__arg_str(ac, "df_file", NULL, &cfg->path) ||
      rk__arg_num_range(ac, "sigma", 6.0, 1e-9, 1e9, &cfg->sigma) ||
      rk__arg_enum(ac, "length", lens, 0, &cfg->words_len) ||
      rk__arg_bool(ac, "lowercase", 0, &cfg->lower))
    goto fail;
  if (!cfg->path) {
    rk__arg_error(ac, "df_file", "required: a document-frequency JSON file made by "
                                 "tools/cider_df.py");
    goto fail;
  }
  FILE *f = fopen(cfg->path, "rb");
  if (!f) {
    rk__arg_error(ac, "df_file", "cannot open '%s'", cfg->path);
    goto fail;
  }
  rk__buf b;
  rk__buf_init(&b, CIDER_MAX_FILE);
  char chunk[65536];
  size_t k;
  while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) rk__buf_put(&b, chunk, k);
  int rerr = ferror(f);
  fclose(f);
  if (rerr || b.oom) {
    rk__buf_release(&b);
    rk__arg_error(ac, "df_file", "cannot read '%s'%s", cfg->path,
                  b.oom ? " (larger than 1 GiB)" : "");
    goto fail;
  }
  char err[200];
  cfg->df = rk__cider_df_load(b.p ? b.p : "", b.n, err, sizeof err);
  rk__buf_release(&b);
  if (!cfg->df) {
    rk__arg_error(ac, "df_file", "'%s': %s", cfg->path, err);
    goto fail;
  }
  *out = cfg;
  return 0;
fail:
  cider_free(cfg);
  return -1;
}

static int prep(const cider_cfg *cfg, rk__arena *a, rk__str s, rk__ovl_toks *t) {
  if (cfg->lower) {
    size_t n;
    char *l = rk__ovl_lower(a, s.p, s.n, &n);
    if (!l) return -1;
    s = rk__str_make(l, n);
  }
  return rk__ovl_split(a, s.p, s.n, t);
}

static rk_status cider_score(const void *p, rk__call *c, double *value) {
  const cider_cfg *cfg = p;
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
  uint64_t bytes = ans.n + rk__ovl_total_len(refs, nref);
  if (!rk__spend(c, 12 * bytes + 8 * nref + 1)) return RK_STATUS_TIMEOUT;
  rk__ovl_toks h, rt[RK__MAX_REFS];
  if (prep(cfg, c->arena, ans, &h)) goto oom;
  for (size_t i = 0; i < nref; i++)
    if (prep(cfg, c->arena, refs[i], &rt[i])) goto oom;
  double v;
  if (rk__ovl_cider_d(c->arena, cfg->df, &h, rt, nref, cfg->sigma, !cfg->words_len, &v)) goto oom;
  /* Non-negative df weights keep it in [0, 1]; a df above the image count
   * (ref_len - log df < 0) could push it out. */
  *value = v < 0 ? 0 : v > 1 ? 1 : v;
  if (rk__explaining(c))
    rk__explain(c, "CIDEr-D %.4g (x10 scale), %zu answer word%s vs %zu reference%s; length "
                   "penalty on %s; reward = CIDEr-D / 10%s",
                v * 10, h.n, h.n == 1 ? "" : "s", nref, nref == 1 ? "" : "s",
                cfg->words_len ? "word counts" : "bigram counts",
                h.n == 0 ? "; empty answer" : "");
  return RK_STATUS_OK;
oom:
  return rk__fail(c, "cider_d: out of scratch memory");
}

const rk__fn rk__fn_cider_d = {
    .name = "cider_d",
    .summary = "CIDEr-D (pycocoevalcap) / 10 with a corpus df table (args: df_file, sigma, length, "
               "lowercase, extract)",
    .compile = cider_compile,
    .score = cider_score,
    .free = cider_free,
};
