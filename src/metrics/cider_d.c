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

/* Words: every word of a df key gets a dense id (dictionary `w`); a
 * caption's tokens are looked up there once each.
 *
 * N-grams of 2-4 words are the nodes of a trie, one open-addressing table
 * per order: the node of w1..wk is keyed by the code of its prefix
 * w1..wk-1 (for k = 2 the word id of w1, for a longer prefix the slot of
 * its node in the table of its order) and the id of wk. Every prefix of a
 * key is a node, with log df 0 when it is not a key itself (what an
 * absent n-gram gets), so the n-grams of a caption are found one order
 * after the other, each from the node of its prefix, and an n-gram whose
 * prefix is absent costs no probe. A slot is one word
 *   ((prefix code + 1) << wbits | word id) << vbits | value index,
 * 32 bits wide when that fits (a 92k-entry table at load 1/2 takes
 * 0.7 MiB and stays in the L2 cache), else 64: the exact key, so that a
 * match is never a hash collision, and in the bits left over an index
 * into the distinct log df values (few: logs of counts). In 64 bits an
 * index that does not fit is stored as all ones and its value sits in a
 * per-slot side array.
 *
 * A key with an empty word (two spaces in a row, a leading or trailing
 * space) or more than four words can never equal an n-gram of tokens
 * (tokens are non-empty and hold no whitespace) and is left out. */
typedef struct df_word {
  uint64_t h;    /* rk__ovl_hash */
  uint32_t len;
  uint32_t id1;  /* id + 1, 0 = empty */
} df_word;

struct rk__cider_df {
  df_word *w;
  const char **wp; /* by word id: its bytes (in blob), for words over 8 bytes */
  double *lg1;     /* by word id: the unigram's log(max(1, df)), 0 when absent;
                      lg1[nw] = 0 (for the words of no df key) */
  size_t wmask, nw, wcap;
  unsigned wshift;
  uint64_t *slot;   /* the node tables of orders 2, 3, 4 one after the other, */
  uint32_t *slot32; /* in 64 or in 32 bits (the other is NULL); 0 = empty */
  size_t base[CIDER_N + 1], cap[CIDER_N + 1]; /* by order: first slot, home slots */
  double *val;      /* the distinct log(max(1, df)) of the nodes */
  double *over;     /* by slot: values whose index does not fit (NULL: none) */
  unsigned wbits, vbits;
  uint64_t vmask;   /* the value index field, all ones */
  char *blob;
  double ref_len;
};

/* Word ids stay below 2^31 - 1 and each node table below 2^31 slots, so
 * a node code fits 32 bits with NO_NODE to spare, and a key and at least
 * one bit of value index fit 64. A table has twice as many home slots as
 * nodes (load 1/2: short runs, see node_pos). */
#define MAX_WORDS (((size_t)1 << 31) - 1)
#define MAX_SLOTS (((size_t)1 << 31) - 1)
#define NO_NODE UINT32_MAX
#define CIDER_CAP(n) (2 * (n) + 16)

static inline uint64_t node_key(unsigned wbits, uint32_t parent, uint32_t word) {
  return ((uint64_t)parent + 1) << wbits | word;
}
/* Home slot of a key in a table of cap home slots from slot base:
 * multiplicative hash, its top 32 bits scaled to cap (any size). */
static inline size_t node_home(size_t base, size_t cap, uint64_t key) {
  uint64_t h = (key * 0x9E3779B97F4A7C15ull) >> 32;
  return base + (size_t)((h * cap) >> 32);
}
/* Slot i of the tables, 32 or 64 bits wide; the functions taking
 * `narrow` are instantiated for each width (narrow is a constant). */
static inline __attribute__((always_inline)) uint64_t slot_at(const uint32_t *t32,
                                                              const uint64_t *t64, size_t i,
                                                              int narrow) {
  return narrow ? t32[i] : t64[i];
}

/* Where the node with a key is, if it is there, searching from its home
 * i; kv = key << vbits | vmask. Along a run the keys decrease (ordered
 * hashing, Amble & Knuth 1974), so the search stops at the first slot
 * not above kv, found or not; an empty slot (0) is below every key, and
 * nothing wraps around (a table has room after its last run). The first
 * four slots are compared without a branch; at load 1/2 a search rarely
 * goes further. Four slots of padding follow the last table. */
static inline __attribute__((always_inline)) size_t node_pos(const uint32_t *t32,
                                                             const uint64_t *t64, size_t i,
                                                             uint64_t kv, int narrow) {
  size_t a0 = slot_at(t32, t64, i, narrow) > kv, a1 = a0 & (slot_at(t32, t64, i + 1, narrow) > kv),
         a2 = a1 & (slot_at(t32, t64, i + 2, narrow) > kv),
         a3 = a2 & (slot_at(t32, t64, i + 3, narrow) > kv);
  i += a0 + a1 + a2 + a3;
  if (a3)
    while (slot_at(t32, t64, i, narrow) > kv) i++;
  return i;
}
/* The slot of the node with this key in the table of order k, SIZE_MAX
 * when absent (while the tables are built, in 64 bits). */
static size_t node_find(const rk__cider_df *df, unsigned k, uint64_t key) {
  size_t i = node_pos(NULL, df->slot, node_home(df->base[k], df->cap[k], key),
                      key << df->vbits | df->vmask, 0);
  return df->slot[i] >> df->vbits == key ? i : SIZE_MAX;
}

/* Number of bits of x (0 for 0). */
static unsigned bit_len(uint64_t x) { return x ? 64 - (unsigned)__builtin_clzll(x) : 0; }

/* Id of the word p[0..n) with hash h, UINT32_MAX when absent. Words of up
 * to 8 bytes are equal when their lengths and hashes are. */
static inline uint32_t word_find(const rk__cider_df *df, const char *p, size_t n, uint64_t h) {
  size_t i = (size_t)(h >> df->wshift);
  for (;;) {
    const df_word *e = &df->w[i];
    if (!e->id1) return UINT32_MAX;
    if (e->h == h && e->len == n && rk__ovl_same(df->wp[e->id1 - 1], p, n)) return e->id1 - 1;
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
  if (n >= UINT32_MAX || df->nw >= MAX_WORDS) return UINT32_MAX;
  if (4 * (df->nw + 1) > df->wmask + 1 && word_table(df, 2 * (df->wmask + 1))) return UINT32_MAX;
  if (df->nw == df->wcap) {
    size_t cap = 2 * df->wcap;
    const char **wp = realloc(df->wp, cap * sizeof *wp);
    if (wp) df->wp = wp;
    double *lg1 = realloc(df->lg1, (cap + 1) * sizeof *lg1);
    if (lg1) df->lg1 = lg1;
    if (!wp || !lg1) return UINT32_MAX;
    df->wcap = cap;
  }
  size_t i = (size_t)(h >> df->wshift);
  while (df->w[i].id1) i = (i + 1) & df->wmask;
  df->w[i] = (df_word){h, (uint32_t)n, (uint32_t)df->nw + 1};
  df->wp[df->nw] = p;
  df->lg1[df->nw] = 0.0;
  df->lg1[df->nw + 1] = 0.0; /* the sentinel for non-df words (seq_logdf) */
  return (uint32_t)df->nw++;
}

void rk__cider_df_free(rk__cider_df *df) {
  if (!df) return;
  free(df->w);
  free(df->wp);
  free(df->lg1);
  free(df->slot);
  free(df->slot32);
  free(df->val);
  free(df->over);
  free(df->blob);
  free(df);
}

/* While loading, the keys of 2-4 words and their prefixes sit in a table
 * of exact 128-bit keys (ids + 1 packed as rk__ovl_wkey does): a key
 * replaces the value there (the last duplicate wins, like a Python dict),
 * a prefix is added with log df 0 when it is not there yet. */
typedef struct df_gram {
  uint64_t k0, k1; /* k0 == 0: empty (the first word's id + 1 is never 0) */
  double lg;
} df_gram;

typedef struct gram_set {
  df_gram *g;
  size_t mask, n, cnt[CIDER_N + 1]; /* cnt: by order */
  unsigned shift;
} gram_set;

static unsigned gram_order(uint64_t k1) { return k1 >> 32 ? 4 : k1 ? 3 : 2; }

static df_gram *gram_slot(df_gram *g, size_t mask, unsigned shift, uint64_t k0, uint64_t k1) {
  uint64_t h = k0 * 0x9E3779B97F4A7C15ull ^ (k1 + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
  size_t j = (size_t)(h >> shift);
  while (g[j].k0 && (g[j].k0 != k0 || g[j].k1 != k1)) j = (j + 1) & mask;
  return &g[j];
}

/* The entry of (k0, k1), added with log df 0 when new (the table, made
 * for `hint` entries, grows to stay at most 3/4 full); NULL when out of
 * memory. */
static df_gram *gram_put(gram_set *s, uint64_t k0, uint64_t k1, size_t hint) {
  if (!s->g || 4 * (s->n + 1) > 3 * (s->mask + 1)) {
    size_t cap = s->g ? 2 * (s->mask + 1) : 1024;
    while (!s->g && cap / 4 * 3 < hint) cap *= 2;
    unsigned bits = 0;
    while (((size_t)1 << bits) < cap) bits++;
    df_gram *g = calloc(cap, sizeof *g);
    if (!g) return NULL;
    for (size_t j = 0; s->g && j <= s->mask; j++)
      if (s->g[j].k0) *gram_slot(g, cap - 1, 64 - bits, s->g[j].k0, s->g[j].k1) = s->g[j];
    free(s->g);
    s->g = g;
    s->mask = cap - 1;
    s->shift = 64 - bits;
  }
  df_gram *e = gram_slot(s->g, s->mask, s->shift, k0, k1);
  if (!e->k0) {
    *e = (df_gram){k0, k1, 0.0};
    s->n++;
    s->cnt[gram_order(k1)]++;
  }
  return e;
}

/* Inserts slot value x into the table from its home h, keeping the keys
 * of every run decreasing: a smaller key met on the way gives up its
 * slot and goes on (its own run started at or before that slot). t[0..n)
 * has room for every run (n >= cap + number of keys). */
static void ordered_put(uint64_t *t, size_t h, uint64_t x) {
  for (size_t i = h;; i++) {
    if (!t[i]) {
      t[i] = x;
      return;
    }
    if (t[i] < x) {
      uint64_t y = t[i];
      t[i] = x;
      x = y;
    }
  }
}

/* The slot of the node of the n-gram id[0..order), SIZE_MAX when absent. */
static size_t node_walk(const rk__cider_df *df, const uint32_t *id, unsigned order) {
  uint32_t code = id[0];
  size_t s = SIZE_MAX;
  for (unsigned k = 2; k <= order; k++) {
    s = node_find(df, k, node_key(df->wbits, code, id[k - 1]));
    if (s == SIZE_MAX) break;
    code = (uint32_t)(s - df->base[k]);
  }
  return s;
}

static void gram_ids(const df_gram *g, uint32_t *id) {
  id[0] = (uint32_t)g->k0 - 1;
  id[1] = (uint32_t)(g->k0 >> 32) - 1;
  id[2] = (uint32_t)g->k1 - 1;
  id[3] = (uint32_t)(g->k1 >> 32) - 1;
}

/* The node tables from the n-grams in g[0..cap_g) (cnt[k] of order k),
 * order by order, so that the slots of a table (the codes of its nodes)
 * are final before the next order's keys are made from them. Returns 0,
 * or -1 when out of memory or too large. */
static int build_nodes(rk__cider_df *df, rk__arena *a, const df_gram *g, size_t cap_g,
                       const size_t *cnt) {
  /* A table has cap[k] home slots and room after them for the longest
   * possible run; its nodes' codes are below its length. */
  size_t most = 4, ng = 0, maxcode = df->nw;
  for (unsigned k = 2; k <= CIDER_N; k++) {
    if (cnt[k] > MAX_SLOTS / 4) return -1;
    df->cap[k] = CIDER_CAP(cnt[k]);
    size_t len = df->cap[k] + cnt[k] + 2;
    most += len;
    ng += cnt[k];
    maxcode = len > maxcode ? len : maxcode;
  }
  if (maxcode > MAX_SLOTS) return -1;
  /* Distinct values, indexed in a first pass (vi, by entry of g): the
   * slots are 32 bits when key and index fit. */
  uint32_t *vi = rk__arena_alloc(a, cap_g * sizeof *vi);
  unsigned vb = 4;
  while (((size_t)1 << vb) < 2 * ng + 2) vb++;
  uint32_t *vx = rk__arena_alloc(a, ((size_t)1 << vb) * sizeof *vx); /* index + 1 by value */
  df->val = malloc((ng + 1) * sizeof *df->val);
  if (!vi || !vx || !df->val) return -1;
  memset(vx, 0, ((size_t)1 << vb) * sizeof *vx);
  df->val[0] = 0.0; /* read (and not used) when a search ends on an empty slot */
  size_t nval = 0, vm = ((size_t)1 << vb) - 1;
  for (size_t j = 0; j < cap_g; j++) {
    if (!g[j].k0) continue;
    uint64_t bitsv;
    memcpy(&bitsv, &g[j].lg, sizeof bitsv);
    size_t v = (size_t)((bitsv * 0x9E3779B97F4A7C15ull) >> (64 - vb));
    while (vx[v] && memcmp(&df->val[vx[v] - 1], &g[j].lg, sizeof(double)) != 0) v = (v + 1) & vm;
    if (!vx[v]) {
      df->val[nval++] = g[j].lg;
      vx[v] = (uint32_t)nval;
    }
    vi[j] = vx[v] - 1;
  }
  df->wbits = bit_len(df->nw > 1 ? df->nw - 1 : 1);
  unsigned kbits = bit_len(maxcode + 1) + df->wbits; /* <= 63 by MAX_WORDS, MAX_SLOTS */
  int narrow = kbits + bit_len(nval) <= 32;
  df->vbits = (narrow ? 32 : 64) - kbits;
  df->vmask = ((uint64_t)1 << df->vbits) - 1;
  df->slot = calloc(most, sizeof *df->slot);
  if (!df->slot) return -1;
  size_t end = 0;
  for (unsigned order = 2; order <= CIDER_N; order++) {
    df->base[order] = end;
    for (size_t j = 0; j < cap_g; j++) {
      if (!g[j].k0 || gram_order(g[j].k1) != order) continue;
      uint32_t id[CIDER_N];
      gram_ids(&g[j], id);
      uint32_t parent = id[0];
      if (order > 2) {
        size_t s = node_walk(df, id, order - 1);
        if (s == SIZE_MAX) return -1; /* cannot happen: every prefix is a node */
        parent = (uint32_t)(s - df->base[order - 1]);
      }
      uint64_t key = node_key(df->wbits, parent, id[order - 1]);
      uint64_t v = vi[j] < df->vmask ? vi[j] : df->vmask; /* vmask: see over */
      ordered_put(df->slot, node_home(df->base[order], df->cap[order], key), key << df->vbits | v);
    }
    /* the table ends after its last run and one empty slot */
    end = df->base[order] + df->cap[order];
    while (df->slot[end]) end++;
    end++;
  }
  end += 4; /* node_pos's padding */
  if (nval > df->vmask) {
    /* values past the index field: by slot, now that the slots are final */
    if (!(df->over = calloc(end, sizeof *df->over))) return -1;
    for (size_t j = 0; j < cap_g; j++) {
      if (!g[j].k0) continue;
      uint32_t id[CIDER_N];
      gram_ids(&g[j], id);
      size_t s = node_walk(df, id, gram_order(g[j].k1));
      if ((df->slot[s] & df->vmask) == df->vmask) df->over[s] = g[j].lg;
    }
  }
  if (narrow) {
    if (!(df->slot32 = malloc(end * sizeof *df->slot32))) return -1;
    for (size_t i = 0; i < end; i++) df->slot32[i] = (uint32_t)df->slot[i];
    free(df->slot);
    df->slot = NULL;
  } else {
    uint64_t *fit = realloc(df->slot, end * sizeof *fit);
    if (fit) df->slot = fit;
  }
  return 0;
}

rk__cider_df *rk__cider_df_load(const char *json, size_t n, char *err, size_t errcap) {
  rk__arena a;
  rk__arena_init(&a, (size_t)4 << 30);
  rk__jval *root = NULL;
  rk__json_error je;
  rk__cider_df *df = NULL;
  gram_set gs = {NULL, 0, 0, {0, 0, 0, 0, 0}, 0};
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
  size_t cnt = d->u.obj.n, bytes = 0;
  for (size_t i = 0; i < cnt; i++) bytes += d->u.obj.items[i].key.n;
  df->blob = malloc(bytes + 1);
  df->wcap = 64;
  df->wp = malloc(df->wcap * sizeof *df->wp);
  df->lg1 = calloc(df->wcap + 1, sizeof *df->lg1);
  if (!df->blob || !df->wp || !df->lg1 || word_table(df, 64)) goto oom;
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
    if (nw == 1) {
      df->lg1[ids[0]] = lg; /* a duplicate key: the last wins, like a Python dict */
      continue;
    }
    uint64_t k0, k1;
    rk__ovl_wkey(ids, nw, &k0, &k1);
    df_gram *e = gram_put(&gs, k0, k1, cnt);
    if (!e) goto oom;
    e->lg = lg;
    /* Its prefixes: every entry has all of its own, so the first that
     * is there already ends the walk. */
    for (unsigned p = nw - 1; p >= 2; p--) {
      size_t had = gs.n;
      rk__ovl_wkey(ids, p, &k0, &k1);
      if (!gram_put(&gs, k0, k1, cnt)) goto oom;
      if (gs.n == had) break;
    }
  }
  if (build_nodes(df, &a, gs.g, gs.g ? gs.mask + 1 : 0, gs.cnt)) goto oom;
  free(gs.g);
  rk__arena_release(&a);
  return df;
oom:
  snprintf(err, errcap, "out of memory");
fail:
  free(gs.g);
  rk__arena_release(&a);
  rk__cider_df_free(df);
  return NULL;
}

/* ------------------------------------------------------------ score */

/* Word ids of a caption's tokens: a df word gets its df id, any other
 * word an id >= df->nw from a small per-call table (made when the first
 * such word comes), so equal words get equal ids. */
typedef struct local_word {
  uint64_t h;
  const char *p;
  size_t len;
  uint32_t id1; /* local id + 1, 0 = empty */
} local_word;

typedef struct local_words {
  local_word *slot;
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
      if (!lw->slot) {
        lw->slot = rk__arena_alloc(a, (lw->mask + 1) * sizeof *lw->slot);
        if (!lw->slot) return -1;
        memset(lw->slot, 0, (lw->mask + 1) * sizeof *lw->slot);
      }
      size_t j = (size_t)(h >> lw->shift);
      for (;; j = (j + 1) & lw->mask) {
        local_word *e = &lw->slot[j];
        if (!e->id1) {
          *e = (local_word){h, w.p, w.n, (uint32_t)++lw->n};
          break;
        }
        if (e->h == h && e->len == w.n && rk__ovl_same(e->p, w.p, w.n)) break;
      }
      if (df->nw + lw->slot[j].id1 >= UINT32_MAX - 1) return -1;
      id = (uint32_t)(df->nw + lw->slot[j].id1 - 1);
    }
    ids[i] = id;
  }
  return 0;
}

/* lg[CIDER_N i + k - 1] = log(max(1, df)) of the n-gram ids[i..i+k) (0
 * when it is not in the table) for every i and k <= min(CIDER_N, n - i):
 * unigrams from lg1, then one order at a time, each node from the node
 * of its prefix at the same position, every probe of an order prefetched
 * before the first is read. node, pos, key, home: scratch of n entries. */
static inline __attribute__((always_inline)) void seq_logdf_w(
    const rk__cider_df *df, const uint32_t *ids, size_t n, double *lg, uint32_t *node,
    uint32_t *pos, uint64_t *key, size_t *home, int narrow) {
  /* The table's fields in locals: the stores below could alias them. */
  const size_t nw = df->nw;
  const unsigned wbits = df->wbits, vbits = df->vbits;
  const uint64_t vmask = df->vmask, *t64 = df->slot;
  const uint32_t *t32 = df->slot32;
  const double *val = df->val, *over = df->over, *lg1 = df->lg1;
  for (size_t i = 0; i < n; i++) {
    uint32_t w = ids[i];
    node[i] = w < nw ? w : NO_NODE;
    lg[CIDER_N * i] = lg1[w < nw ? w : nw]; /* lg1[nw] = 0 */
  }
  /* Whether an n-gram is there is a coin toss: no branch on it. */
  for (unsigned k = 2; k <= CIDER_N && k <= n; k++) {
    const size_t base = df->base[k], cap = df->cap[k];
    size_t nc = 0;
    for (size_t i = 0; i + k <= n; i++) {
      uint32_t w = ids[i + k - 1], p = node[i];
      size_t ok = (p != NO_NODE) & (w < nw);
      uint64_t kk = node_key(wbits, p, w);
      size_t h = node_home(base, cap, kk);
      node[i] = NO_NODE;
      lg[CIDER_N * i + k - 1] = 0.0;
      key[nc] = kk;
      home[nc] = h;
      pos[nc] = (uint32_t)i;
      __builtin_prefetch(narrow ? (const void *)&t32[h] : (const void *)&t64[h]);
      nc += ok;
    }
    for (size_t c = 0; c < nc; c++) {
      uint64_t kk = key[c];
      size_t s = node_pos(t32, t64, home[c], kk << vbits | vmask, narrow), i = pos[c];
      uint64_t e = slot_at(t32, t64, s, narrow), v = e & vmask;
      /* narrow tables have every index in the field (see build_nodes) */
      double x = narrow || v != vmask ? val[v] : over[s];
      /* all ones when found; NO_NODE and 0.0 (all bits 0) otherwise */
      uint64_t fm = 0 - (uint64_t)(e >> vbits == kk), xb;
      memcpy(&xb, &x, sizeof xb);
      xb &= fm;
      node[i] = (uint32_t)(s - base) | (uint32_t)~fm;
      memcpy(&lg[CIDER_N * i + k - 1], &xb, sizeof xb);
    }
  }
}

static void seq_logdf(const rk__cider_df *df, const uint32_t *ids, size_t n, double *lg,
                      uint32_t *node, uint32_t *pos, uint64_t *key, size_t *home) {
  if (df->slot32)
    seq_logdf_w(df, ids, n, lg, node, pos, key, home, 1);
  else
    seq_logdf_w(df, ids, n, lg, node, pos, key, home, 0);
}

/* Counts the n-grams of ids[0..n) into m: hypothesis counts in a, a
 * reference's in b for generation gen (first touch appends the entry to
 * list). A new entry s gets idf[s] = ref_len - log df (lg as seq_logdf). */
static void count_grams(rk__ovl_gmap *m, const uint32_t *ids, const double *lg, size_t n,
                        double ref_len, double *idf, uint16_t gen, uint32_t *list,
                        size_t *nlist) {
  for (size_t i = 0; i < n; i++) {
    /* The key as rk__ovl_wkey packs it, built in registers. */
    uint64_t k0 = 0, k1 = 0;
    for (unsigned k = 1; k <= CIDER_N && i + k <= n; k++) {
      uint64_t v = (uint64_t)ids[i + k - 1] + 1;
      if (k <= 2)
        k0 |= v << (32 * (k - 1));
      else
        k1 |= v << (32 * (k - 3));
      size_t before = m->n;
      rk__ovl_gram *g = rk__ovl_gmap_get(m, k0, k1, k, 1);
      if (m->n != before) idf[before] = ref_len - lg[CIDER_N * i + k - 1];
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

/* Captions of at most 64 words: n-grams by equality masks instead of a
 * table. For each distinct word id, hm / rm mark the hypothesis /
 * reference positions holding it; then
 *   M(i, k) = AND_{t<k} (hm[hyp[i+t]] >> t)
 * marks where the hypothesis n-gram hyp[i..i+k) occurs in the hypothesis:
 * its count is popcount(M), and (i, k) is its first occurrence when the
 * lowest bit of M is i. The same with rm gives its count in a reference.
 * The sums of each order run over its distinct n-grams in the order of
 * their first occurrence, the order of the dicts of cider_scorer.py and
 * of the table path, so every sum is the same. */
#define CIDER_MASK_MAX 64

/* Slot of word id in the per-call table of ids (tid: id + 1, 0 =
 * empty); a new slot gets empty masks. */
static inline size_t idm_slot(uint32_t *tid, uint64_t *hm, uint64_t *rm, size_t mask,
                              unsigned shift, uint32_t id) {
  size_t i = (size_t)(rk__ovl_key1(id) >> shift); /* keyed: ids are the record's choice */
  while (tid[i] && tid[i] != id + 1) i = (i + 1) & mask;
  if (!tid[i]) {
    tid[i] = id + 1;
    hm[i] = rm[i] = 0;
  }
  return i;
}

/* Population count; most counts are 1 (no popcnt instruction assumed). */
static inline unsigned pop64(uint64_t x) {
  return (x & (x - 1)) ? (unsigned)__builtin_popcountll(x) : (unsigned)(x != 0);
}

/* x when m is all ones, +0.0 when m is 0, without a branch. Adding a
 * zero (of either sign) for an n-gram that does not count changes no
 * sum: the sums start at +0.0 and add no negative term, so they never
 * hold -0.0, and s + 0 == s bit for bit for any other s. */
static inline double keep_if(double x, uint64_t m) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  b &= m;
  memcpy(&x, &b, sizeof x);
  return x;
}

/* All ones when the n-gram at i whose occurrences m marks (as above) is
 * the first occurrence: the lowest bit of m is i. */
static inline uint64_t first_at(uint64_t m, size_t i) {
  return 0 - (uint64_t)((size_t)__builtin_ctzll(m) == i);
}

static int cider_masks(rk__arena *a, const rk__cider_df *df, local_words *lw,
                       const rk__ovl_toks *hyp, const rk__ovl_toks *refs, size_t nref,
                       size_t total, double sigma, int bigram_length, double *out) {
  enum { G = CIDER_N * CIDER_MASK_MAX };
  unsigned bits = 4;
  while (((size_t)1 << bits) < 2 * total + 2) bits++;
  size_t cap = (size_t)1 << bits, mask = cap - 1;
  unsigned shift = 64 - bits;
  uint32_t *tid = rk__arena_alloc(a, cap * sizeof *tid);
  uint64_t *hmv = rk__arena_alloc(a, 2 * cap * sizeof *hmv), *rmv = hmv + cap;
  if (!tid || !hmv) return -1;
  memset(tid, 0, cap * sizeof *tid);
  const double ref_len = df->ref_len;

  /* Per position: its word's slot, and the mask of its word in the
   * hypothesis (H) or in the reference (R; RH at hypothesis positions);
   * M: the mask of the n-gram at each position, grown one order after
   * the other (each order a loop of its own, with its sum in a register;
   * within an order the positions come in order, so the sums run as
   * described above). */
  uint32_t hid[CIDER_MASK_MAX], hs[CIDER_MASK_MAX], rid[CIDER_MASK_MAX], rs[CIDER_MASK_MAX];
  uint64_t H[CIDER_MASK_MAX], R[CIDER_MASK_MAX], RH[CIDER_MASK_MAX], M[CIDER_MASK_MAX];
  uint32_t node[CIDER_MASK_MAX], pos[CIDER_MASK_MAX];
  uint64_t key[CIDER_MASK_MAX];
  size_t home[CIDER_MASK_MAX];
  double lg[G];
  size_t nh = hyp->n;
  if (tok_ids(a, df, lw, hyp, hid)) return -1;
  seq_logdf(df, hid, nh, lg, node, pos, key, home);
  for (size_t i = 0; i < nh; i++) {
    hs[i] = (uint32_t)idm_slot(tid, hmv, rmv, mask, shift, hid[i]);
    hmv[hs[i]] |= (uint64_t)1 << i;
  }
  for (size_t i = 0; i < nh; i++) {
    H[i] = hmv[hs[i]];
    M[i] = ~(uint64_t)0;
  }
  /* Hypothesis n-grams (i, k): hf all ones at a first occurrence, hv =
   * tf * idf, hidf = idf; |h_k| from the first occurrences. */
  uint64_t hf[CIDER_N][CIDER_MASK_MAX];
  double hv[CIDER_N][CIDER_MASK_MAX], hidf[CIDER_N][CIDER_MASK_MAX], hnorm[CIDER_N];
  for (unsigned k = 1; k <= CIDER_N; k++) {
    double s = 0;
    for (size_t i = 0; i + k <= nh; i++) {
      uint64_t m = M[i] &= H[i + k - 1] >> (k - 1);
      double idf = ref_len - lg[CIDER_N * i + k - 1], w = (double)pop64(m) * idf;
      hf[k - 1][i] = first_at(m, i);
      hv[k - 1][i] = w;
      hidf[k - 1][i] = idf;
      s += keep_if(w * w, hf[k - 1][i]);
    }
    hnorm[k - 1] = sqrt(s);
  }
  double hlen = bigram_length ? (nh >= 2 ? (double)(nh - 1) : 0) : (double)nh;

  double sum = 0;
  size_t prev = 0;
  for (size_t r = 0; r < nref; r++) {
    const rk__ovl_toks *t = &refs[r];
    size_t nr = t->n;
    for (size_t j = 0; j < prev; j++) rmv[rs[j]] = 0;
    if (tok_ids(a, df, lw, t, rid)) return -1;
    seq_logdf(df, rid, nr, lg, node, pos, key, home);
    for (size_t j = 0; j < nr; j++) {
      rs[j] = (uint32_t)idm_slot(tid, hmv, rmv, mask, shift, rid[j]);
      rmv[rs[j]] |= (uint64_t)1 << j;
    }
    prev = nr;
    for (size_t j = 0; j < nr; j++) {
      R[j] = rmv[rs[j]];
      M[j] = ~(uint64_t)0;
    }
    /* |r_k| from the reference's first occurrences. */
    double rnorm[CIDER_N];
    for (unsigned k = 1; k <= CIDER_N; k++) {
      double s = 0;
      for (size_t j = 0; j + k <= nr; j++) {
        uint64_t m = M[j] &= R[j + k - 1] >> (k - 1);
        double w = (double)pop64(m) * (ref_len - lg[CIDER_N * j + k - 1]);
        s += keep_if(w * w, first_at(m, j));
      }
      rnorm[k - 1] = sqrt(s);
    }
    double rlen = bigram_length ? (nr >= 2 ? (double)(nr - 1) : 0) : (double)nr;
    double delta = hlen - rlen;
    double pen = exp(-(delta * delta) / (2 * sigma * sigma));
    /* sum over the hypothesis' n-grams of min(h, r) r: y marks the
     * n-gram's occurrences in the reference (none: the term is a zero). */
    for (size_t i = 0; i < nh; i++) {
      RH[i] = rmv[hs[i]];
      M[i] = ~(uint64_t)0;
    }
    double val[CIDER_N];
    for (unsigned k = 1; k <= CIDER_N; k++) {
      double s = 0;
      for (size_t i = 0; i + k <= nh; i++) {
        uint64_t y = M[i] &= RH[i + k - 1] >> (k - 1);
        double vh = hv[k - 1][i], vr = (double)pop64(y) * hidf[k - 1][i];
        s += keep_if((vh < vr ? vh : vr) * vr, hf[k - 1][i]);
      }
      val[k - 1] = s;
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
   * references (counts b, per reference). Sums run in the order of
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
  lw.slot = NULL;
  lw.mask = ((size_t)1 << bits) - 1;
  lw.shift = 64 - bits;
  lw.n = 0;
  if (maxn <= CIDER_MASK_MAX)
    return cider_masks(a, df, &lw, hyp, refs, nref, total, sigma, bigram_length, out);
  uint32_t *ids = rk__arena_alloc(a, (3 * maxn + 1) * sizeof *ids);
  uint32_t *list = rk__arena_alloc(a, (CIDER_N * maxn + 1) * sizeof *list);
  double *lg = rk__arena_alloc(a, (CIDER_N * maxn + 1) * sizeof *lg);
  uint64_t *key = rk__arena_alloc(a, (maxn + 1) * sizeof *key);
  size_t *home = rk__arena_alloc(a, (maxn + 1) * sizeof *home);
  rk__ovl_gmap m;
  size_t grams = CIDER_N * total + 1;
  if (!ids || !list || !lg || !key || !home || rk__ovl_gmap_init(&m, a, grams)) return -1;
  uint32_t *node = ids + maxn, *pos = node + maxn;
  double *idf = rk__arena_alloc(a, grams * sizeof *idf);
  if (!idf) return -1;

  size_t nl = 0;
  if (tok_ids(a, df, &lw, hyp, ids)) return -1;
  seq_logdf(df, ids, hyp->n, lg, node, pos, key, home);
  count_grams(&m, ids, lg, hyp->n, df->ref_len, idf, 0, list, &nl);
  size_t nh = m.n;
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
    nl = 0;
    if (tok_ids(a, df, &lw, t, ids)) return -1;
    seq_logdf(df, ids, t->n, lg, node, pos, key, home);
    count_grams(&m, ids, lg, t->n, df->ref_len, idf, gen, list, &nl);
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
    char *l = rk__pylower(a, s.p, s.n, &n);
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
