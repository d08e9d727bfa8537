/*
 * ovl_ngram.c - exact n-gram counting and the scoring cores of SQuAD F1,
 * ROUGE-N / ROUGE-L / ROUGE-Lsum (rouge-score) and BLEU (sacreBLEU), plus
 * the answer/reference glue shared by the overlap reward functions.
 *
 * Tokens are interned to dense ids, n-grams packed exactly into 128-bit
 * keys (ovl.h), so counts never depend on a hash being collision-free.
 * All memory is from the caller's arena. Not for: chrF (chrf.c) or
 * CIDEr-D (cider_d.c), which reuse the tables here.
 */
#include <math.h>
#include <string.h>

#include "json/json.h"
#include "metrics/ovl.h"
#include "text/normalize.h"

/* ------------------------------------------------------------ hashing */

static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, p + i, 8);
    h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  uint64_t v = 0;
  for (size_t k = 0; i < n; i++, k++) v |= (uint64_t)(unsigned char)p[i] << (8 * k);
  h = (h ^ v) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  return h;
}

static size_t pow2_at_least(size_t n) {
  size_t c = 16;
  while (c < n) c <<= 1;
  return c;
}

/* ------------------------------------------------------------ intern */

int rk__ovl_intern_init(rk__ovl_intern *in, rk__arena *a, size_t max) {
  size_t cap = pow2_at_least(2 * max + 2);
  in->slot = rk__arena_alloc(a, cap * sizeof *in->slot);
  in->hash = rk__arena_alloc(a, (max + 1) * sizeof *in->hash);
  in->key = rk__arena_alloc(a, (max + 1) * sizeof *in->key);
  if (!in->slot || !in->hash || !in->key) return -1;
  memset(in->slot, 0, cap * sizeof *in->slot);
  in->mask = cap - 1;
  in->n = 0;
  in->max = max;
  return 0;
}

static int intern_one(rk__ovl_intern *in, rk__str s, uint32_t *id) {
  uint64_t h = hash_bytes(s.p, s.n);
  size_t i = (size_t)h & in->mask;
  for (;;) {
    uint32_t v = in->slot[i];
    if (!v) break;
    uint32_t k = v - 1;
    if (in->hash[k] == h && in->key[k].n == s.n && memcmp(in->key[k].p, s.p, s.n) == 0) {
      *id = k;
      return 0;
    }
    i = (i + 1) & in->mask;
  }
  if (in->n >= in->max) return -1;
  uint32_t k = (uint32_t)in->n++;
  in->hash[k] = h;
  in->key[k] = s;
  in->slot[i] = k + 1;
  *id = k;
  return 0;
}

int rk__ovl_intern_toks(rk__ovl_intern *in, rk__arena *a, rk__ovl_toks *t) {
  t->id = rk__arena_alloc(a, (t->n ? t->n : 1) * sizeof *t->id);
  if (!t->id) return -1;
  for (size_t i = 0; i < t->n; i++)
    if (intern_one(in, t->t[i], &t->id[i])) return -1;
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

/* ---------------------------------------------------------- SQuAD F1 */

/* Python's ASCII whitespace (str.split): \t \n \v \f \r, \x1c-\x1f, space. */
static inline int py_ascii_space(unsigned char c) {
  return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F);
}

static inline int ascii_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* string.punctuation: every printable ASCII character that is neither a
 * letter, a digit nor a space. */
static inline int py_punct(unsigned char c) {
  /* 0x21-0x2F, 0x3A-0x40, 0x5B-0x60, 0x7B-0x7E as a 128-bit bitmap */
  static const uint64_t lo = (0x7FFFull << 0x21) | (0x3Full << 0x3A),
                        hi = 1ull | (0x3Full << (0x5B - 64)) | (0xFull << (0x7B - 64));
  return c < 64 ? (int)(lo >> c & 1) : c < 128 ? (int)(hi >> (c - 64) & 1) : 0;
}

int rk__ovl_squad_tokens(rk__arena *a, rk__str s, rk__ovl_toks *out) {
  /* lower() and remove_punc in one pass; non-ASCII text goes to the
   * shared Unicode normaliser. */
  char *buf = rk__arena_alloc(a, s.n + 1);
  out->t = rk__arena_alloc(a, (s.n / 2 + 1) * sizeof *out->t);
  out->id = NULL;
  out->n = 0;
  if (!buf || !out->t) return -1;
  size_t m = 0;
  unsigned high = 0;
  for (size_t i = 0; i < s.n; i++) {
    unsigned char c = (unsigned char)s.p[i];
    high |= c;
    if (py_punct(c)) continue;
    buf[m++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  if (high & 0x80) {
    rk__str n;
    if (rk__normalize_squad(a, s, &n)) return -1;
    return rk__ovl_split(a, n.p, n.n, out);
  }
  /* ... then \b(a|an|the)\b -> " " (a run of [a-z0-9] is a \w run once
   * punctuation, '_' included, is gone) and split(). Other bytes (control
   * characters, DEL) are neither word nor space: they stay in tokens. */
  size_t i = 0, start = 0;
  int in_tok = 0;
  while (i < m) {
    unsigned char c = (unsigned char)buf[i];
    if (py_ascii_space(c)) {
      if (in_tok) out->t[out->n++] = rk__str_make(buf + start, i - start);
      in_tok = 0;
      i++;
      continue;
    }
    size_t j = i + 1;
    if (ascii_alnum(c)) {
      while (j < m && ascii_alnum((unsigned char)buf[j])) j++;
      size_t l = j - i;
      int article = (l == 1 && c == 'a') || (l == 2 && c == 'a' && buf[i + 1] == 'n') ||
                    (l == 3 && c == 't' && buf[i + 1] == 'h' && buf[i + 2] == 'e');
      if (article) {
        if (in_tok) out->t[out->n++] = rk__str_make(buf + start, i - start);
        in_tok = 0;
        i = j;
        continue;
      }
    }
    if (!in_tok) {
      start = i;
      in_tok = 1;
    }
    i = j;
  }
  if (in_tok) out->t[out->n++] = rk__str_make(buf + start, m - start);
  return 0;
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
  /* Counter intersection: gold tokens counted in a small hash table, each
   * predicted token takes one remaining equal gold token. */
  size_t same = 0;
  size_t cap = 16;
  while (cap < 2 * gold->n) cap <<= 1;
  typedef struct {
    uint64_t h;
    uint32_t tok, cnt; /* tok = gold index + 1, 0 = empty */
  } cslot;
  cslot *tab = rk__arena_alloc(a, cap * sizeof *tab);
  if (!tab) return -1;
  memset(tab, 0, cap * sizeof *tab);
  for (size_t j = 0; j < gold->n; j++) {
    rk__str t = gold->t[j];
    uint64_t h = hash_bytes(t.p, t.n);
    size_t i = (size_t)h & (cap - 1);
    while (tab[i].tok) {
      rk__str u = gold->t[tab[i].tok - 1];
      if (tab[i].h == h && u.n == t.n && memcmp(u.p, t.p, t.n) == 0) break;
      i = (i + 1) & (cap - 1);
    }
    if (!tab[i].tok) {
      tab[i].h = h;
      tab[i].tok = (uint32_t)j + 1;
    }
    tab[i].cnt++;
  }
  for (size_t j = 0; j < pred->n; j++) {
    rk__str t = pred->t[j];
    uint64_t h = hash_bytes(t.p, t.n);
    size_t i = (size_t)h & (cap - 1);
    while (tab[i].tok) {
      rk__str u = gold->t[tab[i].tok - 1];
      if (tab[i].h == h && u.n == t.n && memcmp(u.p, t.p, t.n) == 0) {
        if (tab[i].cnt) {
          tab[i].cnt--;
          same++;
        }
        break;
      }
      i = (i + 1) & (cap - 1);
    }
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
   *   P = intersection / max(#pred n-grams, 1); R = ... / max(#target, 1)
   * min is counted online: a target n-gram matches while the prediction
   * still has an unmatched copy of it. */
  size_t tn = target->n >= n ? target->n - n + 1 : 0;
  size_t pn = pred->n >= n ? pred->n - n + 1 : 0;
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
  size_t l = rk__ovl_lcs(a, target->id, target->n, pred->id, pred->n);
  if (l == (size_t)-1) return -1;
  out->p = (double)l / (double)pred->n;
  out->r = (double)l / (double)target->n;
  out->f = fmeasure(out->p, out->r);
  return 0;
}

/* Marks in `mark` the indices of ref that rouge-score's _backtrack_norec
 * puts in the LCS of (ref, can); t is a (nr+1) x (nc+1) scratch table. */
static void lcs_mark(const uint32_t *ref, size_t nr, const uint32_t *can, size_t nc, uint32_t *t,
                     unsigned char *mark) {
  size_t w = nc + 1;
  for (size_t j = 0; j <= nc; j++) t[j] = 0;
  for (size_t i = 1; i <= nr; i++) {
    t[i * w] = 0;
    for (size_t j = 1; j <= nc; j++) {
      if (ref[i - 1] == can[j - 1])
        t[i * w + j] = t[(i - 1) * w + j - 1] + 1;
      else {
        uint32_t up = t[(i - 1) * w + j], left = t[i * w + j - 1];
        t[i * w + j] = up > left ? up : left;
      }
    }
  }
  size_t i = nr, j = nc;
  while (i > 0 && j > 0) {
    if (ref[i - 1] == can[j - 1]) {
      mark[i - 1] = 1;
      i--;
      j--;
    } else if (t[i * w + j - 1] > t[(i - 1) * w + j]) {
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
   * P = hits / #candidate tokens, R = hits / #reference tokens. */
  out->p = out->r = out->f = 0;
  size_t m = 0, n = 0, maxr = 0, maxc = 0;
  for (size_t i = 0; i < nt; i++) {
    m += ts[i].n;
    if (ts[i].n > maxr) maxr = ts[i].n;
  }
  for (size_t i = 0; i < np; i++) {
    n += ps[i].n;
    if (ps[i].n > maxc) maxc = ps[i].n;
  }
  if (!nt || !np || !m || !n) return 0;
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
  uint32_t *t = rk__arena_alloc(a, (maxr + 1) * (maxc + 1) * sizeof *t);
  unsigned char *mark = rk__arena_alloc(a, maxr + 1);
  if (!cr || !cc || !t || !mark) return -1;
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
    for (size_t j = 0; j < np; j++)
      if (ps[j].n) lcs_mark(r->id, r->n, ps[j].id, ps[j].n, t, mark);
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
