/*
 * ovl.h - shared pieces of the overlap metrics (f1, em, rouge, bleu, chrf,
 * cider_d): the tokenizers the reference implementations use (sacreBLEU
 * 13a / intl / zh / none / char, rouge-score's ASCII tokenizer, SQuAD's
 * normalisation, Python str.split()), token hashes, the Porter stemmer,
 * exact n-gram counting (equality masks for short texts, arena hash
 * tables otherwise), and the pure scoring cores the reward functions,
 * tests, fuzzer and benchmark call directly.
 *
 * Not for: edit-distance metrics (levenshtein.h) or answer normalisation
 * (text/normalize.h). Everything here is internal; memory comes from the
 * caller's arena and is released when the arena is reset.
 */
#ifndef RK_METRICS_OVL_H
#define RK_METRICS_OVL_H

#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "text/pycase.h" /* rk__pylower */
#include "text/extract.h"

/* ------------------------------------------------------------ tokens */

/* A token list: spans into text owned by someone else (the input or an
 * arena copy), their hashes (rk__ovl_hash) when the tokenizer computed
 * them, and, once interned, one id per token. */
typedef struct rk__ovl_toks {
  rk__str *t;
  uint64_t *h;  /* NULL: not computed */
  uint32_t *id; /* NULL until interned */
  size_t n;
} rk__ovl_toks;

/* Little-endian loads (the hash must not depend on the byte order). */
static inline uint64_t rk__ovl_le64(const char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}
static inline uint64_t rk__ovl_le32(const char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

/* Token hashes are keyed (rk__hk, core/core.h): the random seed is mixed
 * in before the last multiply, by a random odd multiplier, and tables
 * index with the top bits. For tokens of up to 8 bytes that top-bit index
 * is multiply-shift hashing (Dietzfelbinger et al. 1997) of distinct
 * words: two given tokens share a home slot of a 2^b table with
 * probability about 2^(1-b) whatever the text, so a record cannot crowd
 * its tokens into one probe run. Nothing computed depends on the values.
 *
 * Hash of a token of n <= 8 bytes given as the little-endian integer v of
 * its bytes. For each n this is a bijection of v, so two tokens of up to
 * 8 bytes are equal exactly when their lengths and hashes are. */
static inline uint64_t rk__ovl_hash_short(uint64_t v, size_t n) {
  return (v ^ (uint64_t)n * 0x9E3779B97F4A7C15ull ^ rk__hk.seed) * rk__hk.mul;
}

/* Hash of a token of 9-16 bytes from its first and last 8 bytes. */
static inline uint64_t rk__ovl_hash_mid(uint64_t first, uint64_t last, size_t n) {
  return ((rk__ovl_hash_short(first, n) ^ last) * rk__hk.mul2) ^ (uint64_t)n;
}

/* x * k folded to 64 bits (high half xor low half): unlike a 64-bit
 * multiply, a flip of the top bit of x does not give a difference that is
 * known without k, which a longer token could otherwise cancel in its
 * next 8 bytes (a collision of the full hash for every key). */
static inline uint64_t rk__ovl_fold(uint64_t x, uint64_t k) {
#if defined(__SIZEOF_INT128__)
  unsigned __int128 p = (unsigned __int128)x * k;
  return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
  x *= k;
  return x ^ x >> 29;
#endif
}

/* Hash of the token p[0..n), reading nothing outside it: tokens of up to
 * 8 bytes as rk__ovl_hash_short (their bytes gathered with two
 * overlapping loads, or first/middle/last byte), 9-16 bytes from two
 * overlapping 8-byte loads, longer ones 8 bytes a step (equal hashes of
 * tokens over 8 bytes must be confirmed byte by byte). */
static inline uint64_t rk__ovl_hash(const char *p, size_t n) {
  uint64_t v;
  if (n <= 8) {
    if (n >= 4)
      v = rk__ovl_le32(p) | rk__ovl_le32(p + n - 4) << (8 * (n - 4));
    else if (n)
      v = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n >> 1] << (8 * (n >> 1)) |
          (uint64_t)(unsigned char)p[n - 1] << (8 * (n - 1));
    else
      v = 0;
    return rk__ovl_hash_short(v, n);
  }
  if (n <= 16) return rk__ovl_hash_mid(rk__ovl_le64(p), rk__ovl_le64(p + n - 8), n);
  uint64_t h = (uint64_t)n * 0xFF51AFD7ED558CCDull ^ rk__hk.seed;
  size_t i = 0;
  for (; n - i > 8; i += 8) h = rk__ovl_fold(h ^ rk__ovl_le64(p + i), rk__hk.mul2);
  return (h ^ rk__ovl_le64(p + n - 8)) * rk__hk.mul;
}

/* The same hash when p[0..16) may be read whatever n is (a tokenizer's
 * own padded buffer): no branch up to 16 bytes. */
static inline uint64_t rk__ovl_hash_padded(const char *p, size_t n) {
  if (n > 16) return rk__ovl_hash(p, n);
  uint64_t v = rk__ovl_le64(p);
  if (n < 8) v &= ((uint64_t)1 << (8 * n)) - 1;
  uint64_t last = rk__ovl_le64(p + (n > 8 ? n - 8 : 0));
  return n <= 8 ? rk__ovl_hash_short(v, n) : rk__ovl_hash_mid(v, last, n);
}

/* Token equality once lengths and hashes agree (short tokens: nothing
 * left to check). */
static inline int rk__ovl_same(const char *p, const char *q, size_t n) {
  return n <= 8 || memcmp(p, q, n) == 0;
}

/* Decodes one code point at p[0..n) (n >= 1). Invalid UTF-8 yields
 * 0x110000 + byte and length 1, so every byte string maps to a sequence
 * of distinct "characters" and nothing is dropped or merged. */
uint32_t rk__ovl_cp(const char *p, size_t n, size_t *len);

/* Python str.split(): whitespace-separated tokens of p[0..n) (Python's
 * Unicode whitespace). Returns 0, or -1 when the arena is exhausted. */
int rk__ovl_split(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out);

/* Python str.rstrip() (Unicode whitespace). */
rk__str rk__ovl_rstrip(rk__str s);

/* sacreBLEU's 13a tokenizer (tokenizer_13a.py + tokenizer_re.py) on one
 * segment, returning the tokens of `' '.join(line.split())`. The input
 * is not rstripped here (callers do, as sacreBLEU does). Tokens point
 * into p, or into an arena copy when 13a rewrote the text (<skipped>,
 * "-\n", "\n", &quot; &amp; &lt; &gt;): p must outlive them. Returns 0
 * or -1 (arena). Steps: about 4 per byte. */
int rk__ovl_tok13a(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out);

/* sacreBLEU's intl tokenizer (tokenizer_intl.py, mteval-v14's
 * international tokenization): punctuation (Unicode P*) is cut off
 * unless it has a number (N*) on both sides, symbols (S*) always.
 * Categories from utf8proc. No rstrip, no rewriting; tokens point into p. */
int rk__ovl_tokintl(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out);

/* sacreBLEU's zh tokenizer (tokenizer_zh.py): strip(), every "Chinese"
 * character (rk__ovl_zh_char) a token of its own, the rest through
 * tokenizer_re.py's four passes with neither 13a's rewriting nor its
 * padding. Tokens point into p. */
int rk__ovl_tokzh(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out);

/* tokenizer_zh.py's _is_chinese_char, quirks included (U+2001-U+2A6D
 * counts, CJK Extension B does not; see ovl_text.c). */
int rk__ovl_zh_char(uint32_t cp);

/* sacreBLEU tokenize="char": every non-whitespace code point one token. */
int rk__ovl_tokchar(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out);


/* rouge-score's tokenizer (tokenize.py): lower(), every run of
 * characters outside [a-z0-9] becomes a separator, tokens of [a-z0-9]+
 * remain; with `stem`, tokens longer than 3 characters go through the
 * Porter stemmer (NLTK_EXTENSIONS mode, as nltk's PorterStemmer() that
 * rouge-score calls). `unicode` keeps letters and digits of any script
 * (our clean option) instead of dropping non-ASCII text; a word-final
 * capital sigma lowers to the final form there, as lower() does. */
int rk__ovl_tokrouge(rk__arena *a, const char *p, size_t n, int stem,
                     int unicode, rk__ovl_toks *out);

/* The character-by-character definitions behind the block fast paths of
 * rk__ovl_tok13a and rk__ovl_tokrouge (without stemming): same results
 * on every input, slower. For the tests and the fuzz target. */
int rk__ovl_tok13a_chars(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out);
int rk__ovl_tokrouge_chars(rk__arena *a, const char *p, size_t n, int unicode,
                           rk__ovl_toks *out);

/* ------------------------------------------------------ Porter stemmer */

typedef enum rk__porter_mode {
  RK__PORTER_NLTK = 0,  /* nltk PorterStemmer() default, NLTK_EXTENSIONS */
  RK__PORTER_ORIGINAL   /* Porter (1980) as published */
} rk__porter_mode;

/* Stems the lowercase ASCII word w[0..n) into out (capacity n + 4; the
 * stem is never longer than n + 1). Returns the stem length. */
size_t rk__porter_stem(const char *w, size_t n, rk__porter_mode mode,
                       char *out);

/* ------------------------------------------------------------ interning */

/* Maps token strings to dense ids (0, 1, ...) so that n-grams become
 * fixed-size integer keys. Sized once for at most `max` distinct tokens.
 * A slot holds what a lookup compares (hash, length), so that a probe is
 * one load. */
typedef struct rk__ovl_islot {
  uint64_t h;
  uint32_t len; /* token length, UINT32_MAX for longer ones */
  uint32_t id1; /* id + 1, 0 = empty */
} rk__ovl_islot;

typedef struct rk__ovl_intern {
  rk__ovl_islot *slot;
  rk__str *key; /* by id */
  size_t mask, n, max;
  unsigned shift; /* slot = hash >> shift */
  size_t probes;  /* slots looked at past the home slots (for the tests) */
} rk__ovl_intern;

int rk__ovl_intern_init(rk__ovl_intern *in, rk__arena *a, size_t max);
/* Fills t->id (allocated here). Returns 0 or -1 (arena / over max). */
int rk__ovl_intern_toks(rk__ovl_intern *in, rk__arena *a, rk__ovl_toks *t);
/* Fills t->id with the ids the tokens already have, and `absent` for
 * tokens never interned; adds nothing. For a text compared with the
 * interned one only (ROUGE, SQuAD F1): tokens the other text lacks never
 * match, so one id for all of them changes no count. 0 or -1 (arena). */
int rk__ovl_intern_find(rk__ovl_intern *in, rk__arena *a, rk__ovl_toks *t, uint32_t absent);

/* Token lists of up to this many tokens are compared without ids
 * (equality masks, ovl_ngram.c). */
#define RK__OVL_SHORT 63

/* ------------------------------------------------------- n-gram counts */

/* An n-gram packed exactly into 128 bits: up to 4 ids of 32 bits stored
 * as id + 1 (word n-grams), or up to 6 code points of 21 bits stored as
 * cp + 1 (character n-grams); unused positions are 0, so n-grams of
 * different orders never collide. */
typedef struct rk__ovl_gram {
  uint64_t k0, k1;
  uint32_t a, b;   /* counts: side A (hypothesis), side B (reference) */
  uint32_t c;      /* free for the metric (BLEU: max over references) */
  uint16_t gen;    /* which reference b counts for (reset lazily) */
  uint8_t order;
  uint8_t pad_;
} rk__ovl_gram;

/* Open addressing over a dense entry array: the slot array (4 bytes a
 * slot, the only part cleared) holds entry index + 1, entries are
 * appended in insertion order, so iterating e[0..n) visits each distinct
 * n-gram once. */
typedef struct rk__ovl_gmap {
  uint32_t *slot;
  rk__ovl_gram *e;
  size_t mask, n, max;
  unsigned shift; /* home slot = rk__ovl_key2(k0, k1) >> shift */
} rk__ovl_gmap;

/* Keyed index of an exact 128-bit key (k0, k1), to be used by its top
 * bits: multiply-add-shift with the random odd multipliers of rk__hk, so
 * that n-grams (whose ids a record chooses) spread over the table. */
static inline uint64_t rk__ovl_key2(uint64_t k0, uint64_t k1) {
  return (k0 ^ rk__hk.seed) * rk__hk.tab + k1 * rk__hk.tab2;
}

/* The same for a 64-bit key: multiply-shift. */
static inline uint64_t rk__ovl_key1(uint64_t k) { return k * rk__hk.tab; }

/* Room for `max` distinct n-grams (load <= 1/2). */
int rk__ovl_gmap_init(rk__ovl_gmap *m, rk__arena *a, size_t max);
/* The entry for (k0, k1), inserted with zero counts when `insert`;
 * NULL when absent (or when `max` entries exist already). */
static inline rk__ovl_gram *rk__ovl_gmap_get(rk__ovl_gmap *m, uint64_t k0, uint64_t k1,
                                             unsigned order, int insert) {
  size_t i = (size_t)(rk__ovl_key2(k0, k1) >> m->shift);
  for (;;) {
    uint32_t s = m->slot[i];
    if (!s) break;
    rk__ovl_gram *g = &m->e[s - 1];
    if (g->k0 == k0 && g->k1 == k1) return g;
    i = (i + 1) & m->mask;
  }
  if (!insert || m->n >= m->max) return NULL;
  rk__ovl_gram *g = &m->e[m->n++];
  g->k0 = k0;
  g->k1 = k1;
  g->a = g->b = g->c = 0;
  g->gen = 0;
  g->order = (uint8_t)order;
  m->slot[i] = (uint32_t)m->n;
  return g;
}

/* Key of the word n-gram ids[0..n) (n <= 4). */
static inline void rk__ovl_wkey(const uint32_t *ids, unsigned n, uint64_t *k0,
                                uint64_t *k1) {
  uint64_t v[4] = {0, 0, 0, 0};
  for (unsigned i = 0; i < n; i++) v[i] = (uint64_t)ids[i] + 1;
  *k0 = v[0] | v[1] << 32;
  *k1 = v[2] | v[3] << 32;
}

/* A prefix-tree n-gram counter: the n-gram of order n + 1 at position i
 * is (entry of its order-n prefix, next unit), so every key is one exact
 * 64-bit integer and a walk along a text costs one probe per order. Used
 * where n-grams of every order 1..N are needed (BLEU, chrF). */
typedef struct rk__ovl_tnode {
  uint64_t key;     /* (prefix entry + 1) << 32 | unit */
  uint32_t a, b, c; /* hypothesis count; reference count (for gen); free */
  uint16_t gen;
  uint8_t order;
  uint8_t pad_;
} rk__ovl_tnode;

typedef struct rk__ovl_tmap {
  uint32_t *slot; /* entry + 1, 0 = empty */
  rk__ovl_tnode *e;
  size_t n, max;
  unsigned shift;
} rk__ovl_tmap;

int rk__ovl_tmap_init(rk__ovl_tmap *m, rk__arena *a, size_t max);

/* Entry index + 1 of key, inserted (order `order`) when `insert`; 0 when
 * absent or full. */
static inline uint32_t rk__ovl_tmap_get(rk__ovl_tmap *m, uint64_t key, int insert) {
  size_t mask = ((size_t)1 << (64 - m->shift)) - 1;
  size_t i = (size_t)(rk__ovl_key1(key) >> m->shift);
  for (;;) {
    uint32_t s = m->slot[i];
    if (!s) break;
    if (m->e[s - 1].key == key) return s;
    i = (i + 1) & mask;
  }
  if (!insert || m->n >= m->max) return 0;
  rk__ovl_tnode *t = &m->e[m->n++];
  t->key = key;
  t->a = t->b = t->c = 0;
  t->gen = 0;
  t->order = 0;
  m->slot[i] = (uint32_t)m->n;
  return (uint32_t)m->n;
}

/* ---------------------------------------------------------- SQuAD F1 */

/* SQuAD normalize_answer(s).split() (evaluate-v2.0.py: lower, delete
 * ASCII punctuation, articles a/an/the -> " ", split). Pure-ASCII text
 * takes a one-pass path; anything else goes through rk__normalize_squad.
 * Tokens live in the arena. Returns 0 or -1 (arena). */
int rk__ovl_squad_tokens(rk__arena *a, rk__str s, rk__ovl_toks *out);

/* SQuAD's normalised answer, ' '.join(normalize_answer(s).split()) (the
 * tokens of rk__ovl_squad_tokens joined by one space), for text under 64
 * bytes of printable ASCII, whitespace and the Latin-1 letters C3 xx (not
 * C3 97, C3 B7), on processors with AVX-512 VBMI2: writes 64 bytes to
 * key (the text in key[0..*len), *ntok tokens) and returns 1; else 0
 * (use rk__ovl_squad_tokens). */
int rk__ovl_squad_key(const char *p, size_t n, char key[64], size_t *len, size_t *ntok);

/* evaluate-v2.0.py compute_f1 on token lists (of the normalised strings).
 * v11 = evaluate-v1.1 semantics (both empty -> 0 instead of 1). Returns
 * the F1, or -1 when the arena is exhausted. When both lists have ids
 * (one interner, or the gold's found in the prediction's with
 * rk__ovl_intern_find) they are used; otherwise a gold over
 * RK__OVL_SHORT tokens interns both lists here. */
double rk__ovl_squad_f1(rk__arena *a, const rk__ovl_toks *gold, const rk__ovl_toks *pred,
                        int v11, size_t *common);

/* ------------------------------------------------------------- ROUGE */

typedef struct rk__ovl_prf {
  double p, r, f;
} rk__ovl_prf;

/* rouge-score _score_ngrams (n >= 1, n <= 4). The lists may be interned
 * (ids) or not: without ids, a side of at most 63 tokens is compared
 * directly (equality masks, ovl_ngram.c), longer texts are interned here.
 * Same results either way. */
int rk__ovl_rouge_n(rk__arena *a, const rk__ovl_toks *target,
                    const rk__ovl_toks *pred, unsigned n, rk__ovl_prf *out);
/* LCS length of two id sequences, O(|x| |y|) time, O(min) memory. */
size_t rk__ovl_lcs(rk__arena *a, const uint32_t *x, size_t nx,
                   const uint32_t *y, size_t ny);
/* rouge-score _score_lcs. Lists with or without ids, as rk__ovl_rouge_n. */
int rk__ovl_rouge_l(rk__arena *a, const rk__ovl_toks *target,
                    const rk__ovl_toks *pred, rk__ovl_prf *out);
/* rouge-score _summary_level_lcs over sentences (interned token lists). */
int rk__ovl_rouge_lsum(rk__arena *a, const rk__ovl_toks *tsents, size_t nt,
                       const rk__ovl_toks *psents, size_t np,
                       rk__ovl_prf *out);

/* -------------------------------------------------------------- BLEU */

/* sacreBLEU accepts any max_ngram_order; its published vectors go to 6. */
#define RK__BLEU_MAX_ORDER 6

typedef enum rk__bleu_smooth {
  RK__BLEU_EXP = 0,
  RK__BLEU_FLOOR,
  RK__BLEU_ADDK,
  RK__BLEU_NONE
} rk__bleu_smooth;

/* Sufficient statistics of one segment (or a corpus: sum them). */
typedef struct rk__bleu_stats {
  double correct[RK__BLEU_MAX_ORDER], total[RK__BLEU_MAX_ORDER];
  double sys_len, ref_len;
} rk__bleu_stats;

/* sacreBLEU's statistics of hypothesis tokens against references:
 * clipped counts against the max reference count, closest reference
 * length (ties to the shorter). The lists either all share one interner
 * or none has ids (then one short reference is compared directly, and
 * anything else interned here). */
int rk__ovl_bleu_stats(rk__arena *a, const rk__ovl_toks *hyp,
                       const rk__ovl_toks *refs, size_t nref,
                       unsigned max_order, rk__bleu_stats *st);
/* BLEU.compute_bleu, 0-100. precisions (may be NULL) gets p_n; *bp the
 * brevity penalty. */
double rk__ovl_bleu_compute(const rk__bleu_stats *st, unsigned max_order,
                            rk__bleu_smooth sm, double smooth_value,
                            int effective_order, double *precisions,
                            double *bp);

/* -------------------------------------------------------------- chrF */

#define RK__CHRF_MAX_CHAR 6
#define RK__CHRF_MAX_WORD 4
#define RK__CHRF_MAX_ORDER (RK__CHRF_MAX_CHAR + RK__CHRF_MAX_WORD)

typedef struct rk__chrf_opts {
  unsigned char_order, word_order; /* 1..6, 0..4 */
  double beta;
  int whitespace;                  /* keep whitespace in character n-grams */
  int eps_smoothing;
  int lowercase;
} rk__chrf_opts;

/* Per order (characters first, then words): hyp, ref, match counts. */
typedef struct rk__chrf_stats {
  double v[3 * RK__CHRF_MAX_ORDER];
} rk__chrf_stats;

/* sacreBLEU CHRF._compute_segment_statistics: the statistics of the
 * reference with the best sentence F (first wins ties). *best = index. */
int rk__ovl_chrf_stats(rk__arena *a, const rk__chrf_opts *o, rk__str hyp,
                       const rk__str *refs, size_t nref, rk__chrf_stats *st,
                       size_t *best);
/* The same with every character n-gram counted in the prefix tree (the
 * general path, which rk__ovl_chrf_stats leaves for a packed 64-bit key
 * table when all code points are <= U+00FF). For the tests. */
int rk__ovl_chrf_stats_tree(rk__arena *a, const rk__chrf_opts *o, rk__str hyp,
                            const rk__str *refs, size_t nref, rk__chrf_stats *st,
                            size_t *best);
/* CHRF._compute_f_score, 0-100. */
double rk__ovl_chrf_f(const rk__chrf_opts *o, const rk__chrf_stats *st);

/* ----------------------------------------------------------- CIDEr-D */

/* An immutable document-frequency table: n-gram text (words joined by one
 * space) -> log(max(1, df)), and ref_len = log(#images). */
typedef struct rk__cider_df rk__cider_df;

/* Builds the table from the JSON text of a df file (docs/rewards/
 * overlap.md). Returns NULL with a message in err. Owns its memory. */
rk__cider_df *rk__cider_df_load(const char *json, size_t n, char *err,
                                size_t errcap);
void rk__cider_df_free(rk__cider_df *df);

/* CIDEr-D of tokens against references (pycocoevalcap CiderScorer with
 * vrama91's clipping and Gaussian length penalty), WITHOUT the final x10:
 * in [0, 1]. bigram_length = 1 reproduces the "length" quirk (bigram
 * count); 0 uses word counts. */
int rk__ovl_cider_d(rk__arena *a, const rk__cider_df *df,
                    const rk__ovl_toks *hyp, const rk__ovl_toks *refs,
                    size_t nref, double sigma, int bigram_length,
                    double *out);

/* ------------------------------------------------------------ glue */

/* The answer span of the record: with the default extract "none" the
 * whole response with ASCII whitespace trimmed (an empty response is an
 * empty answer, not an error); other modes go through rk__extract.
 * Returns OK, UNPARSEABLE or TIMEOUT. */
rk_status rk__ovl_answer(const rk__extract_cfg *ex, rk__call *c,
                         rk__str *out);



/* Sum of lengths, for budgets. */
size_t rk__ovl_total_len(const rk__str *s, size_t n);

#endif /* RK_METRICS_OVL_H */
