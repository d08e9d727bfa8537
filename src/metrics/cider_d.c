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

/* The table is keyed by words, not strings: every word of a df key gets
 * an id (dictionary `w`), and an n-gram is the exact 128-bit key of its
 * word ids + 1 (`g`, as rk__ovl_wkey packs them). Scoring then looks up
 * each distinct word of a caption once and each distinct n-gram with one
 * probe of one 24-byte slot, with no string compare: the slots of a
 * large table are cache misses, so the fewer the better, and they are
 * prefetched together.
 *
 * A key with an empty word (two spaces in a row, a leading or trailing
 * space) or more than four words can never equal an n-gram of tokens
 * (tokens are non-empty and hold no whitespace) and is left out. */
typedef struct df_word {
  uint64_t h;     /* rk__ovl_hash */
  const char *p;  /* into blob */
  uint32_t len;
  uint32_t id1;   /* id + 1, 0 = empty */
  double lg1;     /* log(max(1, df)) of the word as a unigram, 0 absent */
} df_word;

typedef struct df_gram {
  uint64_t k0, k1; /* k0 == 0: empty (the first word's id + 1 is never 0) */
  double logdf;    /* log(max(1, df)) */
} df_gram;

struct rk__cider_df {
  df_word *w;
  size_t wmask, nw;
  unsigned wshift;
  double *lg1;     /* by word id: the unigram's log df (0 when absent) */
  df_gram *g;      /* n-grams of 2-4 words */
  uint8_t *tag;    /* per slot: 0 empty, else 8 bits of the hash, so that
                      a probe for an absent n-gram reads one small array */
  size_t gmask, ng;
  unsigned gshift;
  char *blob;
  double ref_len;
};

static inline uint64_t gram_hash(uint64_t k0, uint64_t k1) {
  return k0 * 0x9E3779B97F4A7C15ull ^ (k1 + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
}
static inline uint8_t gram_tag(const rk__cider_df *df, uint64_t h) {
  uint8_t t = (uint8_t)(h >> (df->gshift - 8));
  return t ? t : 1;
}

/* Id of the word p[0..n) with hash h, UINT32_MAX when absent. Words of up
 * to 8 bytes are equal when their lengths and hashes are. */
static uint32_t word_find(const rk__cider_df *df, const char *p, size_t n, uint64_t h) {
  size_t i = (size_t)(h >> df->wshift);
  for (;;) {
    const df_word *e = &df->w[i];
    if (!e->id1) return UINT32_MAX;
    if (e->h == h && e->len == n && rk__ovl_same(e->p, p, n)) return e->id1 - 1;
    i = (i + 1) & df->wmask;
  }
}

static int word_table(rk__cider_df *df, size_t cap) {
  df_word *old = df->w;
  size_t oldcap = old ? df->wmask + 1 : 0;
  unsigned bits = 0;
  while (((size_t)1 << bits) < cap) bits++;
  df->w = calloc(cap, sizeof *df->w);
  if (!df->w) {
    df->w = old;
    return -1;
  }
  df->wmask = cap - 1;
  df->wshift = 64 - bits;
  for (size_t k = 0; k < oldcap; k++) {
    if (!old[k].id1) continue;
    size_t i = (size_t)(old[k].h >> df->wshift);
    while (df->w[i].id1) i = (i + 1) & df->wmask;
    df->w[i] = old[k];
  }
  free(old);
  return 0;
}

/* Id of a df word, added when new; UINT32_MAX when out of memory. */
static uint32_t word_add(rk__cider_df *df, const char *p, size_t n) {
  uint64_t h = rk__ovl_hash(p, n);
  uint32_t id = word_find(df, p, n, h);
  if (id != UINT32_MAX) return id;
  if (2 * (df->nw + 1) > df->wmask + 1 && word_table(df, 2 * (df->wmask + 1))) return UINT32_MAX;
  if (df->nw >= UINT32_MAX - 1) return UINT32_MAX;
  size_t i = (size_t)(h >> df->wshift);
  while (df->w[i].id1) i = (i + 1) & df->wmask;
  df->w[i] = (df_word){h, p, (uint32_t)n, (uint32_t)++df->nw, 0.0};
  return (uint32_t)(df->nw - 1);
}

void rk__cider_df_free(rk__cider_df *df) {
  if (!df) return;
  free(df->w);
  free(df->lg1);
  free(df->g);
  free(df->tag);
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
  unsigned bits = 4;
  while (cap / 4 * 3 < cnt + 1) cap <<= 1, bits++;
  for (size_t i = 0; i < cnt; i++) bytes += d->u.obj.items[i].key.n;
  df->g = calloc(cap, sizeof *df->g);
  df->tag = calloc(cap, 1);
  df->blob = malloc(bytes + 1);
  if (!df->g || !df->tag || !df->blob || word_table(df, 64)) goto oom;
  df->gmask = cap - 1;
  df->gshift = 64 - bits;
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
    /* Words of the key; unmatchable keys are skipped (see above). */
    uint32_t ids[CIDER_N];
    unsigned nw = 0;
    int ok = 1;
    for (size_t b = 0, j = 0; j <= kn && ok; j++) {
      if (j < kn && k[j] != ' ') continue;
      if (j == b || nw == CIDER_N) {
        ok = 0;
        break;
      }
      ids[nw] = word_add(df, k + b, j - b);
      if (ids[nw] == UINT32_MAX) goto oom;
      nw++;
      b = j + 1;
    }
    if (!ok) continue;
    double lg = log(m->val.u.num > 1.0 ? m->val.u.num : 1.0);
    /* A duplicate key: the last wins, like a Python dict. */
    if (nw == 1) {
      uint64_t h = rk__ovl_hash(k, kn);
      size_t j = (size_t)(h >> df->wshift);
      while (df->w[j].id1 != ids[0] + 1) j = (j + 1) & df->wmask;
      df->w[j].lg1 = lg;
      continue;
    }
    uint64_t k0, k1;
    rk__ovl_wkey(ids, nw, &k0, &k1);
    uint64_t h = gram_hash(k0, k1);
    size_t j = (size_t)(h >> df->gshift);
    while (df->g[j].k0 && (df->g[j].k0 != k0 || df->g[j].k1 != k1)) j = (j + 1) & df->gmask;
    if (!df->g[j].k0) df->ng++;
    df->g[j] = (df_gram){k0, k1, lg};
    df->tag[j] = gram_tag(df, h);
  }
  df->lg1 = malloc((df->nw + 1) * sizeof *df->lg1);
  if (!df->lg1) goto oom;
  for (size_t j = 0; j <= df->wmask; j++)
    if (df->w[j].id1) df->lg1[df->w[j].id1 - 1] = df->w[j].lg1;
  rk__arena_release(&a);
  return df;
oom:
  snprintf(err, errcap, "out of memory");
fail:
  rk__arena_release(&a);
  rk__cider_df_free(df);
  return NULL;
}

/* ------------------------------------------------------------ score */

/* Word ids of a caption's tokens: a df word gets its df id, any other
 * word an id >= df->nw from a small per-call table, so equal words get
 * equal ids and an n-gram made of df words has its df key as its key. */
typedef struct local_words {
  df_word *slot; /* id1: local id + 1 */
  size_t mask, n;
  unsigned shift;
} local_words;

static int tok_ids(rk__arena *a, const rk__cider_df *df, local_words *lw, const rk__ovl_toks *t,
                   uint32_t *ids) {
  for (size_t i = 0; i < t->n; i++) {
    rk__str w = t->t[i];
    uint64_t h = rk__ovl_hash(w.p, w.n);
    uint32_t id = w.n < UINT32_MAX ? word_find(df, w.p, w.n, h) : UINT32_MAX;
    if (id == UINT32_MAX) {
      size_t j = (size_t)(h >> lw->shift);
      for (;; j = (j + 1) & lw->mask) {
        df_word *e = &lw->slot[j];
        if (!e->id1) {
          *e = (df_word){h, w.p, (uint32_t)(w.n < UINT32_MAX ? w.n : UINT32_MAX),
                         (uint32_t)++lw->n, 0.0};
          break;
        }
        if (e->h == h && e->len == w.n && rk__ovl_same(e->p, w.p, w.n)) break;
      }
      if (df->nw + lw->slot[j].id1 >= UINT32_MAX - 1) return -1;
      id = (uint32_t)(df->nw + lw->slot[j].id1 - 1);
    }
    ids[i] = id;
  }
  (void)a;
  return 0;
}

/* Counts the n-grams of ids[0..n) into m: hypothesis counts in a, a
 * reference's in b for generation gen (first touch appends the entry to
 * list). */
static void count_grams(rk__ovl_gmap *m, const uint32_t *ids, size_t n, uint16_t gen,
                        uint32_t *list, size_t *nlist) {
  for (size_t i = 0; i < n; i++) {
    /* The key as rk__ovl_wkey packs it, built in registers. */
    uint64_t k0 = 0, k1 = 0;
    for (unsigned k = 1; k <= CIDER_N && i + k <= n; k++) {
      uint64_t v = (uint64_t)ids[i + k - 1] + 1;
      if (k <= 2)
        k0 |= v << (32 * (k - 1));
      else
        k1 |= v << (32 * (k - 3));
      rk__ovl_gram *g = rk__ovl_gmap_get(m, k0, k1, k, 1);
      if (!gen) {
        g->a++;
        continue;
      }
      if (g->gen != gen) {
        g->gen = gen;
        g->b = 0;
        list[(*nlist)++] = (uint32_t)(g - m->e);
      }
      g->b++;
    }
  }
}

/* idf[s] = ref_len - log(max(1, df)) for the entries s in [from, m->n):
 * an n-gram with a word outside the df table has no entry (log df 0); a
 * unigram's log df sits in lg1. The tags of the longer n-grams are
 * prefetched first and read in a second loop; a slot is read only when
 * its tag matches. */
static void idf_batch(const rk__cider_df *df, const rk__ovl_gmap *m, size_t from, double *idf,
                      uint64_t *hash) {
  for (size_t s = from; s < m->n; s++) {
    const rk__ovl_gram *g = &m->e[s];
    uint32_t top = (uint32_t)g->k0;
    for (unsigned w = 1; w < g->order; w++) {
      uint32_t x = (uint32_t)((w < 2 ? g->k0 : g->k1) >> (32 * (w % 2)));
      top = x > top ? x : top;
    }
    /* ids + 1 <= nw: every word is a df word */
    hash[s] = 0;
    if (top > df->nw || g->order == 1) continue;
    hash[s] = gram_hash(g->k0, g->k1) | 1; /* 0 = no lookup; bit 0 is not used below */
    __builtin_prefetch(&df->tag[hash[s] >> df->gshift]);
  }
  for (size_t s = from; s < m->n; s++) {
    const rk__ovl_gram *g = &m->e[s];
    double lg = 0.0;
    if (g->order == 1) {
      uint32_t id1 = (uint32_t)g->k0;
      if (id1 <= df->nw) lg = df->lg1[id1 - 1];
    } else if (hash[s]) {
      uint8_t tag = gram_tag(df, hash[s]);
      for (size_t i = (size_t)(hash[s] >> df->gshift);; i = (i + 1) & df->gmask) {
        uint8_t t = df->tag[i];
        if (!t) break;
        if (t == tag && df->g[i].k0 == g->k0 && df->g[i].k1 == g->k1) {
          lg = df->g[i].logdf;
          break;
        }
      }
    }
    idf[s] = df->ref_len - lg;
  }
}

/* log df of the n-grams with the given word ids (key as rk__ovl_wkey,
 * order ord): idf[i] = ref_len - log df. Unigrams from lg1; longer ones
 * probe the table, tags prefetched first (h: scratch). */
static void idf_keys(const rk__cider_df *df, const uint64_t *k0, const uint64_t *k1,
                     const uint8_t *ord, size_t n, double *idf, uint64_t *h) {
  for (size_t s = 0; s < n; s++) {
    uint32_t top = (uint32_t)k0[s];
    for (unsigned w = 1; w < ord[s]; w++) {
      uint32_t x = (uint32_t)((w < 2 ? k0[s] : k1[s]) >> (32 * (w % 2)));
      top = x > top ? x : top;
    }
    h[s] = 0;
    if (top > df->nw || ord[s] == 1) continue;
    h[s] = gram_hash(k0[s], k1[s]) | 1;
    __builtin_prefetch(&df->tag[h[s] >> df->gshift]);
  }
  for (size_t s = 0; s < n; s++) {
    double lg = 0.0;
    if (ord[s] == 1) {
      uint32_t id1 = (uint32_t)k0[s];
      if (id1 <= df->nw) lg = df->lg1[id1 - 1];
    } else if (h[s]) {
      uint8_t tag = gram_tag(df, h[s]);
      for (size_t i = (size_t)(h[s] >> df->gshift);; i = (i + 1) & df->gmask) {
        uint8_t t = df->tag[i];
        if (!t) break;
        if (t == tag && df->g[i].k0 == k0[s] && df->g[i].k1 == k1[s]) {
          lg = df->g[i].logdf;
          break;
        }
      }
    }
    idf[s] = df->ref_len - lg;
  }
}

/* Captions of at most 64 words: n-grams by equality masks instead of a
 * table. For each distinct word id, hm / rm mark the hypothesis /
 * reference positions holding it; then
 *   M(i, k) = AND_{t<k} (hm[hyp[i+t]] >> t)
 * marks where the hypothesis n-gram hyp[i..i+k) occurs in the hypothesis:
 * its count is popcount(M), and (i, k) is its first occurrence when the
 * lowest bit of M is i. The same with rm gives its count in a reference,
 * and from the reference side where (if anywhere) a reference n-gram
 * starts in the hypothesis. Distinct n-grams are visited in the order of
 * first occurrence (i, then k), the order of the dicts of
 * cider_scorer.py and of the table path, so every sum is the same. */
#define CIDER_MASK_MAX 64

typedef struct idmask {
  uint64_t hm, rm;
  uint32_t id1; /* word id + 1, 0 = empty */
} idmask;

static inline uint32_t idm_slot(idmask *t, size_t mask, unsigned shift, uint32_t id) {
  size_t i = (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> shift);
  while (t[i].id1 && t[i].id1 != id + 1) i = (i + 1) & mask;
  if (!t[i].id1) {
    t[i].id1 = id + 1;
    t[i].hm = t[i].rm = 0;
  }
  return (uint32_t)i;
}

/* Population count; most counts are 1 (no popcnt instruction assumed). */
static inline unsigned pop64(uint64_t x) {
  return (x & (x - 1)) ? (unsigned)__builtin_popcountll(x) : (unsigned)(x != 0);
}

static inline void ids_key(const uint32_t *ids, unsigned k, uint64_t *k0, uint64_t *k1) {
  uint64_t v[4] = {0, 0, 0, 0};
  for (unsigned t = 0; t < k; t++) v[t] = (uint64_t)ids[t] + 1;
  *k0 = v[0] | v[1] << 32;
  *k1 = v[2] | v[3] << 32;
}

static int cider_masks(rk__arena *a, const rk__cider_df *df, local_words *lw,
                       const rk__ovl_toks *hyp, const rk__ovl_toks *refs, size_t nref,
                       size_t total, double sigma, int bigram_length, double *out) {
  enum { G = CIDER_N * CIDER_MASK_MAX };
  unsigned bits = 4;
  while (((size_t)1 << bits) < 2 * total + 2) bits++;
  size_t cap = (size_t)1 << bits;
  idmask *tab = rk__arena_alloc(a, cap * sizeof *tab);
  if (!tab) return -1;
  memset(tab, 0, cap * sizeof *tab);
  size_t mask = cap - 1;
  unsigned shift = 64 - bits;

  uint32_t hid[CIDER_MASK_MAX], hs[CIDER_MASK_MAX], rid[CIDER_MASK_MAX], rs[CIDER_MASK_MAX];
  size_t nh = hyp->n;
  if (tok_ids(a, df, lw, hyp, hid)) return -1;
  for (size_t i = 0; i < nh; i++) {
    hs[i] = idm_slot(tab, mask, shift, hid[i]);
    tab[hs[i]].hm |= (uint64_t)1 << i;
  }
  /* Distinct hypothesis n-grams: position, order, count; hx[i][k-1] =
   * index of the n-gram (i, k) when it is a first occurrence, else -1. */
  static const int16_t none = -1;
  int16_t hx[CIDER_MASK_MAX][CIDER_N];
  uint8_t *go = rk__arena_alloc(a, G);
  uint32_t gtf[G];
  uint64_t *k0 = rk__arena_alloc(a, 3 * G * sizeof *k0), *k1 = k0 + G, *scratch = k1 + G;
  double *hidf = rk__arena_alloc(a, 2 * G * sizeof *hidf), *ridf = hidf + G;
  if (!go || !k0 || !hidf) return -1;
  size_t ng = 0;
  for (size_t i = 0; i < nh; i++) {
    uint64_t m = ~(uint64_t)0;
    for (unsigned k = 1; k <= CIDER_N; k++) {
      hx[i][k - 1] = none;
      if (i + k > nh) continue;
      m &= tab[hs[i + k - 1]].hm >> (k - 1);
      if ((size_t)__builtin_ctzll(m) != i) continue;
      hx[i][k - 1] = (int16_t)ng;
      go[ng] = (uint8_t)k;
      gtf[ng] = (uint32_t)pop64(m);
      ids_key(hid + i, k, &k0[ng], &k1[ng]);
      ng++;
    }
  }
  idf_keys(df, k0, k1, go, ng, hidf, scratch);
  double hnorm[CIDER_N] = {0, 0, 0, 0};
  for (size_t g = 0; g < ng; g++) {
    double w = (double)gtf[g] * hidf[g];
    hnorm[go[g] - 1] += w * w;
  }
  for (int n = 0; n < CIDER_N; n++) hnorm[n] = sqrt(hnorm[n]);
  double hlen = bigram_length ? (nh >= 2 ? (double)(nh - 1) : 0) : (double)nh;

  double sum = 0;
  size_t prev = 0;
  for (size_t r = 0; r < nref; r++) {
    const rk__ovl_toks *t = &refs[r];
    size_t nr = t->n;
    for (size_t j = 0; j < prev; j++) tab[rs[j]].rm = 0;
    if (tok_ids(a, df, lw, t, rid)) return -1;
    for (size_t j = 0; j < nr; j++) {
      rs[j] = idm_slot(tab, mask, shift, rid[j]);
      tab[rs[j]].rm |= (uint64_t)1 << j;
    }
    prev = nr;
    /* Distinct reference n-grams, in order: count, and the index of the
     * same hypothesis n-gram (its idf) or of a new lookup. */
    uint32_t rtf[G];
    uint8_t ro[G];
    int16_t rsrc[G]; /* >= 0: hypothesis n-gram; else -(lookup + 1) */
    size_t nrg = 0, nl = 0;
    for (size_t j = 0; j < nr; j++) {
      uint64_t m = ~(uint64_t)0, x = ~(uint64_t)0;
      for (unsigned k = 1; k <= CIDER_N && j + k <= nr; k++) {
        const idmask *e = &tab[rs[j + k - 1]];
        m &= e->rm >> (k - 1);
        x &= e->hm >> (k - 1);
        if ((size_t)__builtin_ctzll(m) != j) continue;
        rtf[nrg] = (uint32_t)pop64(m);
        ro[nrg] = (uint8_t)k;
        if (x) {
          rsrc[nrg] = hx[__builtin_ctzll(x)][k - 1];
        } else {
          ids_key(rid + j, k, &k0[nl], &k1[nl]);
          go[nl] = (uint8_t)k;
          rsrc[nrg] = (int16_t)(-(int)nl - 1);
          nl++;
        }
        nrg++;
      }
    }
    idf_keys(df, k0, k1, go, nl, ridf, scratch);
    double rnorm[CIDER_N] = {0, 0, 0, 0};
    for (size_t g = 0; g < nrg; g++) {
      double idf = rsrc[g] >= 0 ? hidf[rsrc[g]] : ridf[-rsrc[g] - 1];
      double w = (double)rtf[g] * idf;
      rnorm[ro[g] - 1] += w * w;
    }
    for (int n = 0; n < CIDER_N; n++) rnorm[n] = sqrt(rnorm[n]);
    double rlen = bigram_length ? (nr >= 2 ? (double)(nr - 1) : 0) : (double)nr;
    double delta = hlen - rlen;
    double pen = exp(-(delta * delta) / (2 * sigma * sigma));
    double val[CIDER_N] = {0, 0, 0, 0};
    for (size_t i = 0; i < nh; i++) {
      uint64_t y = ~(uint64_t)0;
      for (unsigned k = 1; k <= CIDER_N && i + k <= nh; k++) {
        y &= tab[hs[i + k - 1]].rm >> (k - 1);
        if (!y) break;
        int16_t g = hx[i][k - 1];
        if (g < 0) continue;
        double vh = (double)gtf[g] * hidf[g], vr = (double)pop64(y) * hidf[g];
        val[k - 1] += (vh < vr ? vh : vr) * vr;
      }
    }
    for (int n = 0; n < CIDER_N; n++) {
      if (hnorm[n] != 0 && rnorm[n] != 0) val[n] /= hnorm[n] * rnorm[n];
      sum += val[n] * pen;
    }
  }
  *out = sum / CIDER_N / (double)nref;
  return 0;
}

int rk__ovl_cider_d(rk__arena *a, const rk__cider_df *df, const rk__ovl_toks *hyp,
                    const rk__ovl_toks *refs, size_t nref, double sigma, int bigram_length,
                    double *out) {
  /* CiderScorer.compute_cider (CIDEr-D):
   *   vec_n[g] = tf(g) * (ref_len - log(max(1, df(g)))), n = 1..4
   *   sim_n = sum_g min(h[g], r[g]) * r[g] / (|h_n| |r_n|)   (when both > 0)
   *           * exp(-(len_h - len_r)^2 / (2 sigma^2))
   *   CIDEr-D = 10 * mean_refs(mean_n sim_n); we return it / 10.
   * One n-gram table for the hypothesis (counts a, entries 0..nh) and the
   * references (counts b, per reference), so that each distinct n-gram
   * is looked up in the df table once. Sums run in the order of
   * pycocoevalcap's dicts (first occurrence), as before. */
  *out = 0;
  if (nref == 0) return 0;
  size_t total = hyp->n, maxn = hyp->n;
  for (size_t r = 0; r < nref; r++) {
    total += refs[r].n;
    maxn = refs[r].n > maxn ? refs[r].n : maxn;
  }
  if (nref >= UINT16_MAX) return -1;
  local_words lw;
  unsigned bits = 4;
  while (((size_t)1 << bits) < 2 * total + 2) bits++;
  lw.slot = rk__arena_alloc(a, ((size_t)1 << bits) * sizeof *lw.slot);
  if (!lw.slot) return -1;
  memset(lw.slot, 0, ((size_t)1 << bits) * sizeof *lw.slot);
  lw.mask = ((size_t)1 << bits) - 1;
  lw.shift = 64 - bits;
  lw.n = 0;
  if (maxn <= CIDER_MASK_MAX)
    return cider_masks(a, df, &lw, hyp, refs, nref, total, sigma, bigram_length, out);
  uint32_t *ids = rk__arena_alloc(a, (maxn + 1) * sizeof *ids);
  uint32_t *list = rk__arena_alloc(a, (CIDER_N * maxn + 1) * sizeof *list);
  rk__ovl_gmap m;
  size_t grams = CIDER_N * total + 1;
  if (!ids || !list || rk__ovl_gmap_init(&m, a, grams)) return -1;
  double *idf = rk__arena_alloc(a, grams * sizeof *idf);
  uint64_t *slot = rk__arena_alloc(a, grams * sizeof *slot);
  if (!idf || !slot) return -1;

  size_t nl = 0;
  if (tok_ids(a, df, &lw, hyp, ids)) return -1;
  count_grams(&m, ids, hyp->n, 0, list, &nl);
  size_t nh = m.n;
  idf_batch(df, &m, 0, idf, slot);
  double hnorm[CIDER_N] = {0, 0, 0, 0};
  for (size_t s = 0; s < nh; s++) {
    double w = (double)m.e[s].a * idf[s];
    hnorm[m.e[s].order - 1] += w * w;
  }
  for (int n = 0; n < CIDER_N; n++) hnorm[n] = sqrt(hnorm[n]);
  /* The bigram-count quirk: the number of bigrams, n - 1. */
  double hlen = bigram_length ? (hyp->n >= 2 ? (double)(hyp->n - 1) : 0) : (double)hyp->n;

  double sum = 0;
  for (size_t r = 0; r < nref; r++) {
    const rk__ovl_toks *t = &refs[r];
    uint16_t gen = (uint16_t)(r + 1);
    size_t from = m.n;
    nl = 0;
    if (tok_ids(a, df, &lw, t, ids)) return -1;
    count_grams(&m, ids, t->n, gen, list, &nl);
    idf_batch(df, &m, from, idf, slot);
    double rnorm[CIDER_N] = {0, 0, 0, 0};
    for (size_t k = 0; k < nl; k++) {
      const rk__ovl_gram *g = &m.e[list[k]];
      double w = (double)g->b * idf[list[k]];
      rnorm[g->order - 1] += w * w;
    }
    for (int n = 0; n < CIDER_N; n++) rnorm[n] = sqrt(rnorm[n]);
    double rlen = bigram_length ? (t->n >= 2 ? (double)(t->n - 1) : 0) : (double)t->n;
    double delta = hlen - rlen;
    double pen = exp(-(delta * delta) / (2 * sigma * sigma));
    double val[CIDER_N] = {0, 0, 0, 0};
    for (size_t s = 0; s < nh; s++) {
      const rk__ovl_gram *g = &m.e[s];
      if (g->gen != gen) continue;
      double vh = (double)g->a * idf[s], vr = (double)g->b * idf[s];
      val[g->order - 1] += (vh < vr ? vh : vr) * vr;
    }
    for (int n = 0; n < CIDER_N; n++) {
      if (hnorm[n] != 0 && rnorm[n] != 0) val[n] /= hnorm[n] * rnorm[n];
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
