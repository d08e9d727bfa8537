/*
 * ovl_ngram.c - exact n-gram counting and the scoring cores of SQuAD F1,
 * ROUGE-N / ROUGE-L / ROUGE-Lsum (rouge-score) and BLEU (sacreBLEU), plus
 * the answer/reference glue shared by the overlap reward functions.
 *
 * Counts never depend on a hash being collision-free. Sentence-level
 * texts (one side of at most 63 tokens) are compared token against token
 * with bit masks (no ids, no tables: "short texts" below); longer ones
 * are interned to dense ids and their n-grams packed exactly into integer
 * keys (ovl.h, "small n-gram tables"). All memory is from the caller's
 * arena. Not for: chrF (chrf.c) or CIDEr-D (cider_d.c), which reuse the
 * tables here.
 */
#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "json/json.h"
#include "metrics/ovl.h"
#include "text/normalize.h"

/* ------------------------------------------------------------ sizing */

static size_t pow2_at_least(size_t n) {
  size_t c = 16;
  while (c < n) c <<= 1;
  return c;
}

/* ------------------------------------------------------------ intern */

int rk__ovl_intern_init(rk__ovl_intern *in, rk__arena *a, size_t max) {
  /* At most 1/3 full: a new token rarely finds its slot taken. */
  unsigned bits = 4;
  while (((size_t)1 << bits) < 3 * max + 3) bits++;
  size_t cap = (size_t)1 << bits;
  in->slot = rk__arena_alloc(a, cap * sizeof *in->slot);
  in->key = rk__arena_alloc(a, (max + 1) * sizeof *in->key); /* + 1: see below */
  if (!in->slot || !in->key) return -1;
  memset(in->slot, 0, cap * sizeof *in->slot);
  in->mask = cap - 1;
  in->shift = 64 - bits;
  in->n = 0;
  in->max = max;
  in->probes = 0;
  return 0;
}

/* The slot of token s (hash h, length len, as capped in the slots): the
 * one that holds it, or the empty one where it goes. Slots looked at past
 * the home slot are added to *probes. One predictable branch per token:
 * a slot taken by another token (rare at 1/3 load), or a long token to
 * compare, loops. */
static inline rk__ovl_islot *islot_probe(rk__ovl_islot *slot, const rk__str *key, size_t mask,
                                         unsigned shift, rk__str s, uint64_t h, uint32_t len,
                                         size_t *probes) {
  size_t i = (size_t)(h >> shift);
  for (;;) {
    rk__ovl_islot *sl = &slot[i];
    int other = (sl->id1 != 0) & ((sl->h != h) | (sl->len != len));
    if (!other && (s.n <= 8 || !sl->id1 ||
                   (key[sl->id1 - 1].n == s.n && memcmp(key[sl->id1 - 1].p, s.p, s.n) == 0)))
      return sl;
    i = (i + 1) & mask;
    ++*probes;
  }
}

int rk__ovl_intern_toks(rk__ovl_intern *in, rk__arena *a, rk__ovl_toks *t) {
  size_t n = t->n;
  uint32_t *ids = rk__arena_alloc(a, (n ? n : 1) * sizeof *ids);
  t->id = ids;
  if (!ids) return -1;
  /* Everything in locals: the stores to ids[] could otherwise alias the
   * table fields and force reloads. */
  rk__ovl_islot *slot = in->slot;
  rk__str *key = in->key;
  const rk__str *tok = t->t;
  const uint64_t *th = t->h;
  size_t mask = in->mask, cnt = in->n, max = in->max, probes = in->probes;
  unsigned shift = in->shift;
  for (size_t j = 0; j < n; j++) {
    rk__str s = tok[j];
    uint64_t h = th ? th[j] : rk__ovl_hash(s.p, s.n);
    uint32_t len = s.n < UINT32_MAX ? (uint32_t)s.n : UINT32_MAX;
    rk__ovl_islot *sl = islot_probe(slot, key, mask, shift, s, h, len, &probes);
    /* New or seen is a coin toss on the reference side: no branch. The
     * key is written either way (there is room for one more). */
    uint32_t e = sl->id1;
    int fresh = e == 0;
    if (fresh & (cnt >= max)) { /* bitwise: fresh is a coin toss */
      in->n = cnt, in->probes = probes;
      return -1;
    }
    key[cnt] = s;
    e += (uint32_t)fresh * ((uint32_t)cnt + 1); /* e is 0 when fresh */
    sl->h = h;
    sl->len = len;
    sl->id1 = e;
    cnt += (size_t)fresh;
    ids[j] = e - 1;
  }
  in->n = cnt, in->probes = probes;
  return 0;
}

int rk__ovl_intern_find(rk__ovl_intern *in, rk__arena *a, rk__ovl_toks *t, uint32_t absent) {
  uint32_t *ids = rk__arena_alloc(a, (t->n ? t->n : 1) * sizeof *ids);
  t->id = ids;
  if (!ids) return -1;
  for (size_t j = 0; j < t->n; j++) {
    rk__str s = t->t[j];
    uint64_t h = t->h ? t->h[j] : rk__ovl_hash(s.p, s.n);
    uint32_t len = s.n < UINT32_MAX ? (uint32_t)s.n : UINT32_MAX;
    const rk__ovl_islot *sl =
        islot_probe(in->slot, in->key, in->mask, in->shift, s, h, len, &in->probes);
    ids[j] = sl->id1 ? sl->id1 - 1 : absent;
  }
  return 0;
}

/* Copies of token lists with ids, for the scoring cores given lists
 * that were not interned (and are too long for the mask paths). */
static int interned(rk__arena *a, const rk__ovl_toks *src, size_t n, rk__ovl_toks *dst) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += src[i].n;
  rk__ovl_intern in;
  if (rk__ovl_intern_init(&in, a, total)) return -1;
  for (size_t i = 0; i < n; i++) {
    dst[i] = src[i];
    if (rk__ovl_intern_toks(&in, a, &dst[i])) return -1;
  }
  return 0;
}

/* -------------------------------------------------------------- gmap */

int rk__ovl_gmap_init(rk__ovl_gmap *m, rk__arena *a, size_t max) {
  size_t cap = pow2_at_least(2 * max + 2);
  m->slot = rk__arena_alloc(a, cap * sizeof *m->slot);
  m->e = rk__arena_alloc(a, (max + 1) * sizeof *m->e);
  if (!m->slot || !m->e) return -1;
  memset(m->slot, 0, cap * sizeof *m->slot);
  m->mask = cap - 1;
  m->shift = 64 - (unsigned)__builtin_ctzll((unsigned long long)cap);
  m->n = 0;
  m->max = max;
  return 0;
}

int rk__ovl_tmap_init(rk__ovl_tmap *m, rk__arena *a, size_t max) {
  unsigned bits = 4;
  while (((size_t)1 << bits) < 2 * max + 2) bits++;
  m->slot = rk__arena_alloc(a, ((size_t)1 << bits) * sizeof *m->slot);
  m->e = rk__arena_alloc(a, (max + 1) * sizeof *m->e);
  if (!m->slot || !m->e) return -1;
  memset(m->slot, 0, ((size_t)1 << bits) * sizeof *m->slot);
  m->n = 0;
  m->max = max;
  m->shift = 64 - bits;
  return 0;
}

/* ------------------------------------------------ small n-gram tables */

/* Sentence-level texts have few distinct tokens: when every id is below
 * KT_MAX_ID, an n-gram (n <= 4) is one exact 64-bit key of 16-bit fields
 * id + 1 (unused fields 0, so orders never collide and 0 is no key). The
 * table keeps the key in the slot, so a probe is one load and one
 * compare; entries are 1-based and entry 0 takes every miss, so neither
 * "new or seen" nor "found or not" is a branch. Larger vocabularies go
 * through rk__ovl_gmap / rk__ovl_tmap. */
#define KT_MAX_ID 65535u

typedef struct kslot {
  uint64_t key;
  uint32_t e, pad_;
} kslot;

typedef struct kcnt {
  uint32_t a, b, m, gen; /* hypothesis count; count in reference gen; best so far */
} kcnt;

typedef struct ktab {
  kslot *slot;
  kcnt *c;
  size_t mask;
  unsigned shift;
} ktab;

static int ktab_init(ktab *t, rk__arena *a, size_t max) {
  unsigned bits = 4;
  while (((size_t)1 << bits) < 4 * max + 4) bits++;
  size_t cap = (size_t)1 << bits;
  t->slot = rk__arena_alloc(a, cap * sizeof *t->slot);
  t->c = rk__arena_alloc(a, (max + 1) * sizeof *t->c);
  if (!t->slot || !t->c) return -1;
  memset(t->slot, 0, cap * sizeof *t->slot);
  memset(t->c, 0, (max + 1) * sizeof *t->c);
  t->mask = cap - 1;
  t->shift = 64 - bits;
  return 0;
}

/* Nonzero exactly when x != 0 (as a 0/1 value, with no branch). */
static inline uint64_t nz(uint64_t x) { return (x | (0 - x)) >> 63; }

/* 1 when the slot is taken by another key (empty slots have key 0, which
 * no n-gram is). */
static inline uint64_t taken(const kslot *s, uint64_t key) { return nz(s->key ^ key) & nz(s->key); }

static inline kslot *ktab_slot(kslot *slot, size_t mask, unsigned shift, uint64_t key) {
  /* The home slot and the next one are looked at without a branch, so
   * that "empty", "found" and one collision all look the same to the
   * predictor; only two collisions in a row (rare at 1/4 load) loop. */
  size_t i = (size_t)(rk__ovl_key1(key) >> shift);
  i = (i + (size_t)taken(&slot[i], key)) & mask;
  while (taken(&slot[i], key)) i = (i + 1) & mask;
  return &slot[i];
}

/* Counts one more hypothesis n-gram `key` (new ones get entry ++*n; the
 * caller sized the table for every key it adds). */
static inline void ktab_add(const ktab *t, uint64_t key, uint32_t *n) {
  kslot *s = ktab_slot(t->slot, t->mask, t->shift, key);
  uint32_t fresh = s->e == 0;
  uint32_t e = s->e + fresh * (*n + 1);
  *n += fresh;
  s->e = e;
  s->key = key;
  t->c[e].a++;
}

/* The counts of key, or entry 0 (a = 0) when it is absent. */
static inline kcnt *ktab_get(const ktab *t, uint64_t key) {
  return &t->c[ktab_slot(t->slot, t->mask, t->shift, key)->e];
}

/* A bound on the ids of the lists (the OR of all ids, >= the largest),
 * plus one: the size of the per-id arrays below. */
static size_t id_bound(const rk__ovl_toks *t, size_t n) {
  uint32_t mx = 0;
  for (size_t r = 0; r < n; r++)
    for (size_t i = 0; i < t[r].n; i++) mx |= t[r].id[i];
  return (size_t)mx + 1;
}

/* run[i] = how many tokens from i on, in a row, have their id marked:
 * the n-gram at i can only occur in the other text when run[i] >= n
 * (every token of it must occur there). */
static void marked_runs(const uint32_t *id, size_t n, const uint8_t *mark, uint32_t *run) {
  uint32_t r = 0;
  for (size_t i = n; i-- > 0;) {
    r = (r + 1) * mark[id[i]];
    run[i] = r;
  }
}

/* The positions i < n - order + 1 with run[i] >= order, into pos;
 * returns their number. */
static size_t candidates(const uint32_t *run, size_t n, unsigned order, uint32_t *pos) {
  size_t k = 0;
  for (size_t i = 0; i + order <= n; i++) {
    pos[k] = (uint32_t)i;
    k += run[i] >= order;
  }
  return k;
}

/* The key of the n-gram at i, orders 1..n. */
static inline uint64_t gram_key(const uint32_t *id, size_t i, unsigned n) {
  uint64_t key = 0;
  for (unsigned j = 0; j < n; j++) key |= (uint64_t)(id[i + j] + 1) << (16 * j);
  return key;
}

/* ------------------------------------------ short texts: equality masks */

/* Bit 63 of a mask is kept free (a dummy index for "no candidate"). */
#define SHORT_MAX RK__OVL_SHORT

/* When one side has at most SHORT_MAX tokens (sentence-level texts), the
 * metrics need no ids and no tables: eq[i] = the mask of the tokens of y
 * equal to token i of x says everything. Each x token is looked for among
 * all y tokens at once by the top 16 bits of its hash (8 per SSE2
 * compare); a single candidate is confirmed on the full hash and length,
 * several (or a token over 8 bytes) one by one. Then
 *   - the n-gram at x[i] equals the one at y[j] exactly when bit j + k of
 *     eq[i + k] is set for k < n: g[i] = AND_k eq[i + k] >> k is the mask
 *     of equal y n-grams;
 *   - the multiset intersection of two lists is found by letting each x
 *     item take the lowest unused equal y item (equal items have equal
 *     masks, so this gives min(count_x, count_y) per distinct item);
 *   - eq[i] is the match mask of bit-parallel LCS.
 * Token hashes may be missing (then computed here). */
typedef struct ykey {
  uint64_t h, len;
} ykey;
#define EQ_SCRATCH (64 * sizeof(ykey) + 72 * 2)

/* eq_masks with scratch memory given (EQ_SCRATCH bytes, 8-byte aligned).
 * eq may be NULL: then only the size of the multiset intersection of the
 * two token lists is computed (take_lowest on the fly), into *same_out. */
static void eq_masks_in(void *scratch, const rk__ovl_toks *x, const rk__ovl_toks *y, uint64_t *eq,
                        size_t *same_out) {
  size_t ny = y->n, nx = x->n, same = 0;
  uint64_t used = 0;
  ykey *yk = scratch;
  uint16_t *k16 = (uint16_t *)(void *)(yk + 64);
  for (size_t j = ny; j < ((ny + 15) & ~(size_t)15); j++) k16[j] = 0; /* read in groups of 16 */
  for (size_t j = 0; j < ny; j++) {
    rk__str t = y->t[j];
    yk[j].h = y->h ? y->h[j] : rk__ovl_hash(t.p, t.n);
    yk[j].len = t.n;
    k16[j] = (uint16_t)(yk[j].h >> 48);
  }
  yk[63].h = yk[63].len = 0; /* the dummy (ny <= SHORT_MAX leaves 63 free); no token is empty */
  uint64_t valid = ((uint64_t)1 << ny) - 1; /* ny <= SHORT_MAX */
  for (size_t i = 0; i < nx; i++) {
    rk__str t = x->t[i];
    uint64_t h = x->h ? x->h[i] : rk__ovl_hash(t.p, t.n), m = 0;
#if defined(__SSE2__)
    __m128i key = _mm_set1_epi16((short)(uint16_t)(h >> 48));
    for (size_t q = 0; q < ny; q += 16) { /* 16 gold tokens: two compares, one mask */
      __m128i e0 = _mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(const void *)(k16 + q)), key);
      __m128i e1 =
          _mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(const void *)(k16 + q + 8)), key);
      m |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_packs_epi16(e0, e1)) << q;
    }
#else
    for (size_t q = 0; q < ny; q++) m |= (uint64_t)(k16[q] == (uint16_t)(h >> 48)) << q;
#endif
    m &= valid;
    /* The lowest and the highest candidate are confirmed (a repeated word
     * gives two equal candidates). No branch on m: with no candidate, j
     * is the dummy 63 and j2 is 0, a token that cannot be equal (it
     * would be a candidate). Bitwise, not logical, operators: whether a
     * token matches is a coin toss, and must not become a branch. */
    size_t j = (size_t)__builtin_ctzll(m | (uint64_t)1 << 63),
           j2 = 63 - (size_t)__builtin_clzll(m | 1);
    unsigned ok = (unsigned)(yk[j].h == h) & (unsigned)(yk[j].len == t.n);
    unsigned ok2 = (unsigned)(yk[j2].h == h) & (unsigned)(yk[j2].len == t.n);
    uint64_t m2 = m & (m - 1);
    if ((unsigned)((m2 & (m2 - 1)) != 0) | (ok ^ ok2) | (ok & (t.n > 8))) {
      /* three candidates or more, two different ones, or a long token:
       * each one in full */
      uint64_t e = 0;
      for (uint64_t c = m; c; c &= c - 1) {
        size_t g = (size_t)__builtin_ctzll(c);
        if (yk[g].h == h && yk[g].len == t.n &&
            (t.n <= 8 || memcmp(y->t[g].p, t.p, t.n) == 0))
          e |= (uint64_t)1 << g;
      }
      m = e;
    } else {
      m &= 0 - (uint64_t)ok;
    }
    if (eq) {
      eq[i] = m;
    } else { /* take_lowest, inline */
      m &= ~used;
      used |= m & (0 - m);
      same += m != 0;
    }
  }
  if (same_out) *same_out = same;
}

/* eq[0..x->n) as above (y->n <= SHORT_MAX). Returns 0 or -1 (arena). */
static int eq_masks(rk__arena *a, const rk__ovl_toks *x, const rk__ovl_toks *y, uint64_t *eq) {
  void *scratch = rk__arena_alloc(a, EQ_SCRATCH);
  if (!scratch) return -1;
  eq_masks_in(scratch, x, y, eq, NULL);
  return 0;
}

/* Each of g[0..n) takes the lowest unused bit of its mask: the size of
 * the multiset intersection (see eq_masks). */
static size_t take_lowest(const uint64_t *g, size_t n) {
  uint64_t used = 0;
  size_t same = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t m = g[i] & ~used;
    used |= m & (0 - m);
    same += m != 0;
  }
  return same;
}

/* g[i] &= eq[i + k] >> k for the n-grams of order k + 1 (in place, i <
 * nx - k): g then holds, for each x n-gram, its equal y n-grams. */
static void grow_grams(uint64_t *g, const uint64_t *eq, size_t nx, unsigned k) {
  for (size_t i = 0; i + k < nx; i++) g[i] &= eq[i + k] >> k;
}

/* Multiset intersection of the order-n n-grams of x and y (y->n <= SHORT_MAX),
 * or SIZE_MAX on arena failure. */
static size_t short_common(rk__arena *a, const rk__ovl_toks *x, const rk__ovl_toks *y,
                           unsigned n) {
  if (x->n < n || y->n < n) return 0;
  if (n == 1) {
    size_t same;
    void *scratch = rk__arena_alloc(a, EQ_SCRATCH);
    if (!scratch) return SIZE_MAX;
    eq_masks_in(scratch, x, y, NULL, &same);
    return same;
  }
  uint64_t *g = rk__arena_alloc(a, 2 * x->n * sizeof *g), *eq = g + x->n;
  if (!g || eq_masks(a, x, y, g)) return SIZE_MAX;
  memcpy(eq, g, x->n * sizeof *eq);
  for (unsigned k = 1; k < n; k++) grow_grams(g, eq, x->n, k);
  return take_lowest(g, x->n - n + 1);
}

double rk__ovl_squad_f1(rk__arena *a, const rk__ovl_toks *gold, const rk__ovl_toks *pred, int v11,
                        size_t *common) {
  /* evaluate-v2.0.py compute_f1:
   *   if len(gold_toks) == 0 or len(pred_toks) == 0: return int(gold == pred)
   *   num_same = sum((Counter(gold) & Counter(pred)).values())
   *   P = num_same / len(pred); R = num_same / len(gold); F1 = 2PR / (P + R)
   * evaluate-v1.1.py has no empty case: num_same == 0 -> 0. */
  *common = 0;
  if (gold->n == 0 || pred->n == 0) {
    if (v11) return 0.0;
    return gold->n == pred->n ? 1.0 : 0.0; /* [] == [] */
  }
  if (gold->n <= SHORT_MAX) {
    size_t same = short_common(a, pred, gold, 1);
    if (same == SIZE_MAX) return -1;
    *common = same;
    if (same == 0) return 0.0;
    double P = (double)same / (double)pred->n, R = (double)same / (double)gold->n;
    return 2 * P * R / (P + R);
  }
  /* Longer gold answers: Counter intersection over interned ids (the
   * callers' when both lists have them). */
  rk__ovl_toks both[2] = {*gold, *pred}, ids[2] = {*gold, *pred};
  if (!gold->id || !pred->id) {
    both[0].id = both[1].id = NULL;
    if (interned(a, both, 2, ids)) return -1;
  }
  size_t V = 0;
  for (int s2 = 0; s2 < 2; s2++)
    for (size_t i = 0; i < ids[s2].n; i++)
      if (ids[s2].id[i] >= V) V = (size_t)ids[s2].id[i] + 1;
  uint32_t *cnt = rk__arena_alloc(a, (V ? V : 1) * sizeof *cnt);
  if (!cnt) return -1;
  memset(cnt, 0, V * sizeof *cnt);
  for (size_t i = 0; i < ids[0].n; i++) cnt[ids[0].id[i]]++;
  size_t same = 0;
  for (size_t i = 0; i < ids[1].n; i++) {
    uint32_t *c = &cnt[ids[1].id[i]];
    same += *c != 0;
    *c -= *c != 0;
  }
  *common = same;
  if (same == 0) return 0.0;
  double P = (double)same / (double)pred->n, R = (double)same / (double)gold->n;
  return 2 * P * R / (P + R);
}

/* ------------------------------------------------------------- ROUGE */

static double fmeasure(double p, double r) {
  /* rouge-score scoring.fmeasure: 2PR/(P+R), 0 when P+R == 0. */
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

int rk__ovl_rouge_n(rk__arena *a, const rk__ovl_toks *target, const rk__ovl_toks *pred,
                    unsigned n, rk__ovl_prf *out) {
  /* rouge_scorer._score_ngrams:
   *   intersection = sum(min(target[g], pred[g]))
   *   P = intersection / max(#pred n-grams, 1); R = ... / max(#target, 1) */
  size_t tn = target->n >= n ? target->n - n + 1 : 0;
  size_t pn = pred->n >= n ? pred->n - n + 1 : 0;
  if (!target->id || !pred->id) {
    if (target->n <= SHORT_MAX || pred->n <= SHORT_MAX) {
      size_t inter = target->n <= SHORT_MAX ? short_common(a, pred, target, n)
                                            : short_common(a, target, pred, n);
      if (inter == SIZE_MAX) return -1;
      out->p = (double)inter / (double)(pn > 1 ? pn : 1);
      out->r = (double)inter / (double)(tn > 1 ? tn : 1);
      out->f = fmeasure(out->p, out->r);
      return 0;
    }
    rk__ovl_toks both[2] = {*target, *pred};
    rk__ovl_toks ids[2];
    if (interned(a, both, 2, ids)) return -1;
    return rk__ovl_rouge_n(a, &ids[0], &ids[1], n, out);
  }
  /* With ids, min is counted online: a target n-gram matches while the
   * prediction still has an unmatched copy of it. */
  size_t V = id_bound(target, 1);
  if (id_bound(pred, 1) > V) V = id_bound(pred, 1);
  if (n <= 4 && V <= KT_MAX_ID) {
    /* Unigram counts by id; an n-gram with a token the other text lacks
     * cannot match, so only the others go through the table. */
    uint32_t *cp = rk__arena_alloc(a, 2 * V * sizeof *cp), *ct = cp ? cp + V : NULL;
    uint8_t *inp = rk__arena_alloc(a, 2 * V), *intg = inp ? inp + V : NULL;
    size_t rn = target->n > pred->n ? target->n : pred->n;
    uint32_t *run = rk__arena_alloc(a, (2 * rn + 1) * sizeof *run), *pos = run ? run + rn : NULL;
    if (!cp || !inp || !run) return -1;
    memset(cp, 0, 2 * V * sizeof *cp);
    memset(inp, 0, 2 * V);
    for (size_t i = 0; i < pred->n; i++) cp[pred->id[i]]++;
    for (size_t i = 0; i < target->n; i++) ct[target->id[i]]++;
    size_t inter = 0;
    if (n == 1) {
      for (size_t v = 0; v < V; v++) inter += cp[v] < ct[v] ? cp[v] : ct[v];
    } else {
      for (size_t v = 0; v < V; v++) {
        inp[v] = cp[v] != 0;
        intg[v] = ct[v] != 0;
      }
      marked_runs(pred->id, pred->n, intg, run);
      size_t k = candidates(run, pred->n, n, pos);
      ktab kt;
      if (ktab_init(&kt, a, k)) return -1;
      uint32_t cnt = 0;
      for (size_t j = 0; j < k; j++) ktab_add(&kt, gram_key(pred->id, pos[j], n), &cnt);
      marked_runs(target->id, target->n, inp, run);
      k = candidates(run, target->n, n, pos);
      for (size_t j = 0; j < k; j++) {
        kcnt *g = ktab_get(&kt, gram_key(target->id, pos[j], n));
        inter += g->b < g->a;
        g->b++;
      }
    }
    out->p = (double)inter / (double)(pn > 1 ? pn : 1);
    out->r = (double)inter / (double)(tn > 1 ? tn : 1);
    out->f = fmeasure(out->p, out->r);
    return 0;
  }
  rk__ovl_gmap m;
  if (rk__ovl_gmap_init(&m, a, pn)) return -1;
  uint64_t k0, k1;
  for (size_t i = 0; i < pn; i++) {
    rk__ovl_wkey(pred->id + i, n, &k0, &k1);
    rk__ovl_gram *g = rk__ovl_gmap_get(&m, k0, k1, n, 1);
    if (g) g->a++;
  }
  size_t inter = 0;
  for (size_t i = 0; i < tn; i++) {
    rk__ovl_wkey(target->id + i, n, &k0, &k1);
    rk__ovl_gram *g = rk__ovl_gmap_get(&m, k0, k1, n, 0);
    if (g && g->b++ < g->a) inter++;
  }
  out->p = (double)inter / (double)(pn > 1 ? pn : 1);
  out->r = (double)inter / (double)(tn > 1 ? tn : 1);
  out->f = fmeasure(out->p, out->r);
  return 0;
}

size_t rk__ovl_lcs(rk__arena *a, const uint32_t *x, size_t nx, const uint32_t *y, size_t ny) {
  if (nx == 0 || ny == 0) return 0;
  if (ny > nx) {
    const uint32_t *t = x;
    x = y;
    y = t;
    size_t tn = nx;
    nx = ny;
    ny = tn;
  }
  if (ny <= 64) {
    /* Bit-parallel LCS (Crochemore, Iliopoulos, Pinzon, Reid 2001): bit i
     * of M[c] marks y[i] == c; per symbol of x, U = V & M[c],
     * V = (V + U) | (V - U); the LCS length is the number of zero bits of
     * V among the low |y|. O(|x| + |y|) word operations. */
    uint32_t maxid = 0;
    for (size_t i = 0; i < ny; i++)
      if (y[i] > maxid) maxid = y[i];
    uint64_t *M = rk__arena_alloc(a, ((size_t)maxid + 1) * sizeof *M);
    if (!M) return (size_t)-1;
    memset(M, 0, ((size_t)maxid + 1) * sizeof *M);
    for (size_t i = 0; i < ny; i++) M[y[i]] |= (uint64_t)1 << i;
    uint64_t mask = ny == 64 ? ~(uint64_t)0 : (((uint64_t)1 << ny) - 1);
    uint64_t V = mask;
    for (size_t j = 0; j < nx; j++) {
      uint64_t U = x[j] <= maxid ? V & M[x[j]] : 0;
      V = ((V + U) | (V - U)) & mask;
    }
    return ny - (size_t)__builtin_popcountll(V);
  }
  uint32_t *row = rk__arena_alloc(a, (ny + 1) * sizeof *row);
  if (!row) return (size_t)-1;
  memset(row, 0, (ny + 1) * sizeof *row);
  for (size_t i = 0; i < nx; i++) {
    uint32_t diag = 0, xi = x[i];
    for (size_t j = 0; j < ny; j++) {
      uint32_t up = row[j + 1];
      uint32_t v = xi == y[j] ? diag + 1 : (up > row[j] ? up : row[j]);
      diag = up;
      row[j + 1] = v;
    }
  }
  return row[ny];
}

int rk__ovl_rouge_l(rk__arena *a, const rk__ovl_toks *target, const rk__ovl_toks *pred,
                    rk__ovl_prf *out) {
  /* rouge_scorer._score_lcs: 0 when either side is empty;
   * P = LCS/|pred|, R = LCS/|target|. */
  out->p = out->r = out->f = 0;
  if (target->n == 0 || pred->n == 0) return 0;
  size_t l;
  if (!target->id || !pred->id) {
    if (target->n > SHORT_MAX && pred->n > SHORT_MAX) {
      rk__ovl_toks both[2] = {*target, *pred};
      rk__ovl_toks ids[2];
      if (interned(a, both, 2, ids)) return -1;
      return rk__ovl_rouge_l(a, &ids[0], &ids[1], out);
    }
    /* Bit-parallel LCS (as rk__ovl_lcs) with the equality masks as the
     * match masks; y is the side of at most SHORT_MAX tokens. */
    const rk__ovl_toks *x = target->n <= SHORT_MAX ? pred : target,
                       *y = target->n <= SHORT_MAX ? target : pred;
    uint64_t *eq = rk__arena_alloc(a, x->n * sizeof *eq);
    if (!eq || eq_masks(a, x, y, eq)) return -1;
    uint64_t mask = ((uint64_t)1 << y->n) - 1, V = mask;
    for (size_t j = 0; j < x->n; j++) {
      uint64_t U = V & eq[j];
      V = ((V + U) | (V - U)) & mask;
    }
    l = y->n - (size_t)__builtin_popcountll(V);
  } else {
    l = rk__ovl_lcs(a, target->id, target->n, pred->id, pred->n);
  }
  if (l == (size_t)-1) return -1;
  out->p = (double)l / (double)pred->n;
  out->r = (double)l / (double)target->n;
  out->f = fmeasure(out->p, out->r);
  return 0;
}

/* Marks in `mark` the indices of ref that rouge-score's _backtrack_norec
 * puts in the LCS of (ref, can). The backtrack only asks, off the
 * matches, whether t[i][j-1] > t[i-1][j] (then j--, else i--), so the
 * table keeps that one bit per cell, row i from bit i * w: w = nc + 1
 * rounded up to 64 bits, (nr + 1) w / 8 bytes in all, a 32nd of the
 * table of lengths. The lengths themselves need two rows (row). */
static void lcs_mark(const uint32_t *ref, size_t nr, const uint32_t *can, size_t nc, uint64_t *t,
                     uint32_t *row, unsigned char *mark) {
  size_t w = (nc + 64) / 64; /* words a row */
  uint32_t *up = row, *cur = row + nc + 1;
  for (size_t j = 0; j <= nc; j++) up[j] = 0;
  cur[0] = 0;
  for (size_t i = 1; i <= nr; i++) {
    uint64_t *bits = t + i * w;
    memset(bits, 0, w * sizeof *bits);
    uint32_t ri = ref[i - 1];
    for (size_t j = 1; j <= nc; j++) {
      uint32_t u = up[j], left = cur[j - 1];
      bits[j >> 6] |= (uint64_t)(left > u) << (j & 63);
      cur[j] = ri == can[j - 1] ? up[j - 1] + 1 : (u > left ? u : left);
    }
    uint32_t *x = up;
    up = cur;
    cur = x;
    cur[0] = 0;
  }
  size_t i = nr, j = nc;
  while (i > 0 && j > 0) {
    if (ref[i - 1] == can[j - 1]) {
      mark[i - 1] = 1;
      i--;
      j--;
    } else if (t[i * w + (j >> 6)] >> (j & 63) & 1) {
      j--;
    } else {
      i--;
    }
  }
}

int rk__ovl_rouge_lsum(rk__arena *a, const rk__ovl_toks *ts, size_t nt, const rk__ovl_toks *ps,
                       size_t np, rk__ovl_prf *out) {
  /* rouge_scorer._summary_level_lcs: for each reference sentence, the
   * union of its LCS indices with every candidate sentence; each union
   * token is a hit while both sides still have an unused copy of it.
   * P = hits / #candidate tokens, R = hits / #reference tokens.
   * Work: sum over pairs of non-empty sentences of (|r| + 1)(|c| + 1),
   * at most 4 |ref tokens| |candidate tokens|; memory: the bit table of
   * the longest pair, (longest r + 1)(longest c + 64) / 8 bytes. Only
   * candidate sentences with tokens are visited (a sentence without
   * tokens adds nothing, and may come in any number). */
  out->p = out->r = out->f = 0;
  size_t m = 0, n = 0, maxr = 0, maxc = 0, nc = 0;
  for (size_t i = 0; i < nt; i++) {
    m += ts[i].n;
    if (ts[i].n > maxr) maxr = ts[i].n;
  }
  for (size_t i = 0; i < np; i++) {
    n += ps[i].n;
    nc += ps[i].n != 0;
    if (ps[i].n > maxc) maxc = ps[i].n;
  }
  if (!nt || !np || !m || !n) return 0;
  const rk__ovl_toks **cs = rk__arena_alloc(a, nc * sizeof *cs);
  if (!cs) return -1;
  nc = 0;
  for (size_t i = 0; i < np; i++)
    if (ps[i].n) cs[nc++] = &ps[i];
  /* Ids are dense over both sides (one interner); find the bound. */
  uint32_t maxid = 0;
  for (size_t i = 0; i < nt; i++)
    for (size_t k = 0; k < ts[i].n; k++)
      if (ts[i].id[k] > maxid) maxid = ts[i].id[k];
  for (size_t i = 0; i < np; i++)
    for (size_t k = 0; k < ps[i].n; k++)
      if (ps[i].id[k] > maxid) maxid = ps[i].id[k];
  uint32_t *cr = rk__arena_alloc(a, ((size_t)maxid + 1) * sizeof *cr);
  uint32_t *cc = rk__arena_alloc(a, ((size_t)maxid + 1) * sizeof *cc);
  uint64_t *t = rk__arena_alloc(a, (maxr + 1) * ((maxc + 64) / 64) * sizeof *t);
  uint32_t *row = rk__arena_alloc(a, 2 * (maxc + 1) * sizeof *row);
  unsigned char *mark = rk__arena_alloc(a, maxr + 1);
  if (!cr || !cc || !t || !row || !mark) return -1;
  memset(cr, 0, ((size_t)maxid + 1) * sizeof *cr);
  memset(cc, 0, ((size_t)maxid + 1) * sizeof *cc);
  for (size_t i = 0; i < nt; i++)
    for (size_t k = 0; k < ts[i].n; k++) cr[ts[i].id[k]]++;
  for (size_t i = 0; i < np; i++)
    for (size_t k = 0; k < ps[i].n; k++) cc[ps[i].id[k]]++;
  size_t hits = 0;
  for (size_t i = 0; i < nt; i++) {
    const rk__ovl_toks *r = &ts[i];
    if (!r->n) continue;
    memset(mark, 0, r->n);
    for (size_t j = 0; j < nc; j++) lcs_mark(r->id, r->n, cs[j]->id, cs[j]->n, t, row, mark);
    for (size_t k = 0; k < r->n; k++) {
      if (!mark[k]) continue;
      uint32_t id = r->id[k];
      if (cc[id] > 0 && cr[id] > 0) {
        hits++;
        cc[id]--;
        cr[id]--;
      }
    }
  }
  out->r = (double)hits / (double)m;
  out->p = (double)hits / (double)n;
  out->f = fmeasure(out->p, out->r);
  return 0;
}

/* -------------------------------------------------------------- BLEU */

int rk__ovl_bleu_stats(rk__arena *a, const rk__ovl_toks *hyp, const rk__ovl_toks *refs,
                       size_t nref, unsigned max_order, rk__bleu_stats *st) {
  memset(st, 0, sizeof *st);
  if (max_order < 1) max_order = 1;
  if (max_order > RK__BLEU_MAX_ORDER) max_order = RK__BLEU_MAX_ORDER;
  int have_ids = hyp->id != NULL;
  for (size_t r = 0; r < nref; r++) have_ids &= refs[r].id != NULL;
  if (!have_ids) {
    if (nref == 1 && (refs[0].n <= SHORT_MAX || hyp->n <= SHORT_MAX)) {
      /* One reference: correct_n is the multiset intersection of the
       * n-grams of the two texts (see eq_masks). */
      const rk__ovl_toks *x = refs[0].n <= SHORT_MAX ? hyp : &refs[0],
                         *y = refs[0].n <= SHORT_MAX ? &refs[0] : hyp;
      uint64_t *g = rk__arena_alloc(a, 2 * (x->n ? x->n : 1) * sizeof *g), *eq = g + x->n;
      if (!g || eq_masks(a, x, y, g)) return -1;
      memcpy(eq, g, x->n * sizeof *eq);
      for (unsigned n = 1; n <= max_order && n <= x->n && n <= y->n; n++) {
        if (n > 1) grow_grams(g, eq, x->n, n - 1);
        st->correct[n - 1] = (double)take_lowest(g, x->n - n + 1);
      }
      goto lengths;
    }
    rk__ovl_toks *all = rk__arena_alloc(a, (nref + 1) * sizeof *all), *ids = NULL;
    if (all) {
      all[0] = *hyp;
      for (size_t r = 0; r < nref; r++) all[r + 1] = refs[r];
      ids = rk__arena_alloc(a, (nref + 1) * sizeof *ids);
    }
    if (!ids || interned(a, all, nref + 1, ids)) return -1;
    return rk__ovl_bleu_stats(a, &ids[0], ids + 1, nref, max_order, st);
  }
  size_t V = id_bound(hyp, 1);
  if (id_bound(refs, nref) > V) V = id_bound(refs, nref);
  if (V <= KT_MAX_ID && max_order <= 4) { /* n-grams as packed keys (n <= 4) */
    /* correct_n = sum over hypothesis n-grams g of min(a_g, max_r b_rg).
     * Unigrams by id. Higher orders: only n-grams whose every token
     * occurs on the other side can match, and only those go through the
     * table; there, sum_g max_r min(a_g, b_rg) is counted online: while
     * reference r is read, b counts g in it, and each time b passes the
     * best min so far (m) without passing a, one more match. */
    size_t hn = hyp->n, maxlen = hn;
    for (size_t r = 0; r < nref; r++)
      if (refs[r].n > maxlen) maxlen = refs[r].n;
    uint32_t *ch = rk__arena_alloc(a, 3 * V * sizeof *ch), *cr = ch ? ch + V : NULL,
             *mr = ch ? ch + 2 * V : NULL;
    uint8_t *inh = rk__arena_alloc(a, 2 * V), *inr = inh ? inh + V : NULL;
    uint32_t *run = rk__arena_alloc(a, (2 * maxlen + 1) * sizeof *run),
             *pos = run ? run + maxlen : NULL;
    if (!ch || !inh || !run) return -1;
    memset(ch, 0, 3 * V * sizeof *ch);
    for (size_t i = 0; i < hn; i++) ch[hyp->id[i]]++;
    for (size_t r = 0; r < nref; r++) {
      memset(cr, 0, V * sizeof *cr);
      for (size_t i = 0; i < refs[r].n; i++) cr[refs[r].id[i]]++;
      for (size_t v = 0; v < V; v++) mr[v] = mr[v] > cr[v] ? mr[v] : cr[v];
    }
    uint32_t c1 = 0;
    for (size_t v = 0; v < V; v++) {
      c1 += ch[v] < mr[v] ? ch[v] : mr[v];
      inh[v] = ch[v] != 0;
      inr[v] = mr[v] != 0;
    }
    st->correct[0] = c1;
    if (max_order >= 2) {
      marked_runs(hyp->id, hn, inr, run);
      size_t total = 0;
      for (unsigned n = 2; n <= max_order; n++)
        for (size_t i = 0; i + n <= hn; i++) total += run[i] >= n;
      ktab k;
      if (ktab_init(&k, a, total)) return -1;
      uint32_t cnt = 0;
      for (unsigned n = 2; n <= max_order; n++) {
        size_t kc = candidates(run, hn, n, pos);
        for (size_t j = 0; j < kc; j++) ktab_add(&k, gram_key(hyp->id, pos[j], n), &cnt);
      }
      for (size_t r = 0; r < nref; r++) {
        uint32_t gen = (uint32_t)r + 1;
        const uint32_t *id = refs[r].id;
        marked_runs(id, refs[r].n, inh, run);
        for (unsigned n = 2; n <= max_order; n++) {
          size_t kc = candidates(run, refs[r].n, n, pos);
          uint32_t correct = 0;
          for (size_t j = 0; j < kc; j++) {
            kcnt *g = ktab_get(&k, gram_key(id, pos[j], n));
            /* b restarts at each reference (gen); all without branches */
            uint32_t b = g->b * (uint32_t)(g->gen == gen) + 1, inc = (b <= g->a) & (b > g->m);
            g->b = b;
            g->gen = gen;
            g->m += inc;
            correct += inc;
          }
          st->correct[n - 1] += correct;
        }
      }
    }
    goto lengths;
  }
  rk__ovl_tmap m;
  if (rk__ovl_tmap_init(&m, a, hyp->n * max_order + 1)) return -1;
  for (size_t i = 0; i < hyp->n; i++) {
    uint64_t parent = 0;
    for (unsigned n = 1; n <= max_order && i + n <= hyp->n; n++) {
      uint32_t s = rk__ovl_tmap_get(&m, parent << 32 | hyp->id[i + n - 1], 1);
      if (!s) break;
      m.e[s - 1].a++;
      m.e[s - 1].order = (uint8_t)n;
      parent = s;
    }
  }
  /* Reference counts: max over references of each hypothesis n-gram
   * (n-grams absent from the hypothesis never matter, and no longer
   * n-gram can be present once a prefix is absent); b counts for
   * reference gen and is reset lazily; c keeps the max. */
  for (size_t r = 0; r < nref; r++) {
    const rk__ovl_toks *t = &refs[r];
    uint16_t gen = (uint16_t)(r + 1);
    for (size_t i = 0; i < t->n; i++) {
      uint64_t parent = 0;
      for (unsigned n = 1; n <= max_order && i + n <= t->n; n++) {
        uint32_t s = rk__ovl_tmap_get(&m, parent << 32 | t->id[i + n - 1], 0);
        if (!s) break;
        rk__ovl_tnode *g = &m.e[s - 1];
        if (g->gen != gen) {
          g->gen = gen;
          g->b = 0;
        }
        if (++g->b > g->c) g->c = g->b;
        parent = s;
      }
    }
  }
  for (size_t i = 0; i < m.n; i++) {
    rk__ovl_tnode *g = &m.e[i];
    st->correct[g->order - 1] += g->a < g->c ? g->a : g->c;
  }
lengths:
  for (unsigned n = 1; n <= max_order; n++)
    st->total[n - 1] = hyp->n >= n ? (double)(hyp->n - n + 1) : 0;
  /* BLEU._get_closest_ref_len: smallest |hyp - ref| difference, ties to
   * the shorter reference. */
  st->sys_len = (double)hyp->n;
  long best_diff = -1, best_len = -1, hl = (long)hyp->n;
  for (size_t r = 0; r < nref; r++) {
    long rl = (long)refs[r].n, d = hl > rl ? hl - rl : rl - hl;
    if (best_diff == -1 || d < best_diff) {
      best_diff = d;
      best_len = rl;
    } else if (d == best_diff && rl < best_len) {
      best_len = rl;
    }
  }
  st->ref_len = best_len < 0 ? 0 : (double)best_len;
  return 0;
}

static double my_log(double x) {
  /* sacreBLEU helpers.my_log: log(0) = -9999999999 */
  return x == 0.0 ? -9999999999.0 : log(x);
}

double rk__ovl_bleu_compute(const rk__bleu_stats *st, unsigned max_order, rk__bleu_smooth sm,
                            double smooth_value, int effective_order, double *precisions,
                            double *bp_out) {
  /* BLEU.compute_bleu (sacreBLEU 2.x), step by step. */
  double correct[RK__BLEU_MAX_ORDER], total[RK__BLEU_MAX_ORDER], prec[RK__BLEU_MAX_ORDER];
  if (max_order < 1) max_order = 1;
  if (max_order > RK__BLEU_MAX_ORDER) max_order = RK__BLEU_MAX_ORDER;
  memcpy(correct, st->correct, sizeof correct);
  memcpy(total, st->total, sizeof total);
  for (unsigned i = 0; i < RK__BLEU_MAX_ORDER; i++) prec[i] = 0.0;
  double sys = st->sys_len, ref = st->ref_len;
  /* BP = 1 if sys >= ref else exp(1 - ref/sys); 0 when sys == 0. */
  double bp = sys < ref ? (sys > 0 ? exp(1.0 - ref / sys) : 0.0) : 1.0;
  if (bp_out) *bp_out = bp;
  int any = 0;
  for (unsigned i = 0; i < max_order; i++) any |= correct[i] != 0;
  if (precisions)
    for (unsigned i = 0; i < max_order; i++) precisions[i] = 0.0;
  if (!any) return 0.0; /* early stop when nothing matches (sacreBLEU #141) */
  double smooth_mteval = 1.0;
  unsigned eff = max_order;
  for (unsigned n = 1; n <= max_order; n++) {
    if (sm == RK__BLEU_ADDK && n > 1) {
      correct[n - 1] += smooth_value;
      total[n - 1] += smooth_value;
    }
    if (total[n - 1] == 0) break;
    if (effective_order) eff = n;
    if (correct[n - 1] == 0) {
      if (sm == RK__BLEU_EXP) {
        smooth_mteval *= 2;
        prec[n - 1] = 100.0 / (smooth_mteval * total[n - 1]);
      } else if (sm == RK__BLEU_FLOOR) {
        prec[n - 1] = 100.0 * smooth_value / total[n - 1];
      }
    } else {
      prec[n - 1] = 100.0 * correct[n - 1] / total[n - 1];
    }
  }
  if (precisions)
    for (unsigned i = 0; i < max_order; i++) precisions[i] = prec[i];
  double s = 0.0;
  for (unsigned i = 0; i < eff; i++) s += my_log(prec[i]);
  return bp * exp(s / eff);
}

/* -------------------------------------------------------------- glue */

rk_status rk__ovl_answer(const rk__extract_cfg *ex, rk__call *c, rk__str *out) {
  rk__str r = c->rec->response;
  if (!rk__spend(c, r.n / 8 + 1)) return RK_STATUS_TIMEOUT;
  int only_none = ex->nmodes == 1 && ex->modes[0] == RK__EX_NONE;
  if (only_none && rk__text_trim(r).n == 0) {
    *out = rk__str_make(r.p, 0);
    return RK_STATUS_OK;
  }
  return rk__extract(ex, c, r, out, NULL);
}


size_t rk__ovl_total_len(const rk__str *s, size_t n) {
  size_t t = 0;
  for (size_t i = 0; i < n; i++) t += s[i].n;
  return t;
}
