/*
 * repetition.c - the `repetition` reward: penalises repeated n-grams.
 *   mode "ngram" (open-r1 / TRL get_repetition_penalty_reward, from
 *     "Demystifying Long Chain-of-Thought Reasoning", App. C.2):
 *     words = s.lower().split(); penalty = (1 - unique/total) * max_penalty
 *     over the word n-grams; fewer than n words -> 0;
 *   mode "rlpr" (RLPR, reference/seed_formulas.md §6): split on whitespace
 *     and '_'; if some n-word window (n = 10) occurs >= count (10) times,
 *     the penalty (-1), else 0.
 * Words and windows are interned in open-addressing hash tables in the
 * record's arena: linear time, no malloc, charged to the step budget.
 * The hashes and slots take the process's random keys (rk__hk, core.h),
 * so that no text can be built in advance to crowd one probe run; the
 * counts never depend on them.
 *
 * Not for: token-level repetition inside the model (use tokens_field with
 * token ids from the record), or language consistency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "json/json.h"
#include "text/pycase.h"

#define RK__REP_MAX_N 64

/* ------------------------------------------------------------ hashing */

static uint64_t hash_bytes(const char *p, size_t n) {
  /* Eight bytes per multiply; words are short, so this is a few cycles.
   * The key enters first, so every later mixing step depends on it. */
  uint64_t h = rk__hk.seed ^ 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
  while (n >= 8) {
    uint64_t x;
    memcpy(&x, p, 8);
    h = (h ^ x) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) x |= (uint64_t)(unsigned char)p[i] << (8 * i);
  h = (h ^ x) * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

/* A table of 2^bits slots, at least n: *bits set. */
static size_t pow2_at_least(size_t n, unsigned *bits) {
  size_t c = 16;
  *bits = 4;
  while (c < n) c <<= 1, ++*bits;
  return c;
}

/* Interns words: ids[i] = a small integer equal for equal words. */
static int intern(const rk__str *w, size_t nw, rk__arena *a, uint32_t *ids) {
  unsigned bits;
  size_t cap = pow2_at_least(nw * 2 + 1, &bits);
  uint32_t *slot = rk__arena_alloc(a, cap * sizeof *slot); /* word index + 1 */
  uint64_t *hs = rk__arena_alloc(a, nw * sizeof *hs);
  if (!slot || !hs) return -1;
  memset(slot, 0, cap * sizeof *slot);
  uint32_t next_id = 0;
  uint32_t *idof = rk__arena_alloc(a, (nw ? nw : 1) * sizeof *idof);
  if (!idof) return -1;
  for (size_t i = 0; i < nw; i++) {
    uint64_t h = hash_bytes(w[i].p, w[i].n);
    hs[i] = h;
    size_t m = cap - 1, j = rk__hk_slot(h, bits);
    for (;;) {
      uint32_t s = slot[j];
      if (s == 0) {
        slot[j] = (uint32_t)i + 1;
        idof[i] = next_id++;
        break;
      }
      size_t k = s - 1;
      if (hs[k] == h && rk__str_eq(w[k], w[i])) {
        idof[i] = idof[k];
        break;
      }
      j = (j + 1) & m;
    }
    ids[i] = idof[i];
  }
  return 0;
}

/* Counts windows of `ng` ids with a rolling polynomial hash; equal hashes
 * are confirmed by comparing the ids. */
static int count_windows(const uint32_t *ids, size_t nw, size_t ng,
                         rk__arena *a, rk__rep_result *out) {
  out->words = nw;
  out->total = out->unique = out->max_count = 0;
  if (ng == 0 || nw < ng) return 0;
  size_t total = nw - ng + 1;
  unsigned bits;
  size_t cap = pow2_at_least(total * 2 + 1, &bits);
  uint32_t *slot = rk__arena_alloc(a, cap * sizeof *slot); /* window + 1 */
  uint32_t *cnt = rk__arena_alloc(a, total * sizeof *cnt);
  uint64_t *hs = rk__arena_alloc(a, total * sizeof *hs);
  if (!slot || !cnt || !hs) return -1;
  memset(slot, 0, cap * sizeof *slot);
  /* A random odd base: with a known one, windows of equal hash (then
   * one long probe run) could be solved for in advance. */
  const uint64_t B = rk__hk.mul2 | 1;
  uint64_t top = 1; /* B^(ng-1) */
  for (size_t j = 1; j < ng; j++) top *= B;
  uint64_t h = 0;
  for (size_t j = 0; j < ng; j++) h = h * B + ids[j] + 1;
  size_t unique = 0, maxc = 0;
  for (size_t i = 0; i < total; i++) {
    if (i > 0) h = (h - (ids[i - 1] + 1ull) * top) * B + ids[i + ng - 1] + 1;
    hs[i] = h;
    size_t m = cap - 1, j = rk__hk_slot(h ^ (h >> 31), bits);
    for (;;) {
      uint32_t s = slot[j];
      if (s == 0) {
        slot[j] = (uint32_t)i + 1;
        cnt[i] = 1;
        unique++;
        if (maxc < 1) maxc = 1;
        break;
      }
      size_t k = s - 1;
      if (hs[k] == h && memcmp(ids + k, ids + i, ng * sizeof *ids) == 0) {
        if (++cnt[k] > maxc) maxc = cnt[k];
        break;
      }
      j = (j + 1) & m;
    }
  }
  out->total = total;
  out->unique = unique;
  out->max_count = maxc;
  return 0;
}

/* ----------------------------------------------------------- splitting */

/* Number of words (branch-free on ASCII: words are short, so a branch per
 * word boundary would mispredict constantly). */
__attribute__((noinline)) static size_t count_words_sep(const char *p, size_t n,
                                                        unsigned underscore) {
  size_t count = 0, i = 0;
  unsigned prev_sep = 1;
  while (i < n) {
    unsigned char c = (unsigned char)p[i];
    unsigned cls = rk__py_space_class[c];
    if (cls == 2) {
      size_t k = rk__py_space(p + i, n - i);
      if (k) {
        prev_sep = 1;
        i += k;
        continue;
      }
      cls = 0;
    }
    cls |= underscore & (c == '_');
    count += prev_sep & (cls ^ 1u);
    prev_sep = cls;
    i++;
  }
  return count;
}

/* Words as spans into p; *nw set. NULL only when the arena is exhausted.
 * Branch-free like the count: every byte writes the current position into
 * the next start and end slots, and the slot index advances only on a
 * transition (separator -> word: a start; word -> separator: an end). */
static rk__str *split_words(const char *p, size_t n, int underscore,
                            rk__arena *a, size_t *nw) {
  unsigned us = underscore ? 1u : 0u;
  size_t count = count_words_sep(p, n, us);
  rk__str *w = rk__arena_alloc(a, (count ? count : 1) * sizeof *w);
  size_t *st = rk__arena_alloc(a, (count + 1) * sizeof *st);
  size_t *en = rk__arena_alloc(a, (count + 1) * sizeof *en);
  if (!w || !st || !en) return NULL;
  size_t js = 0, je = 0, i = 0;
  unsigned prev_sep = 1;
  while (i < n) {
    unsigned char c = (unsigned char)p[i];
    unsigned cls = rk__py_space_class[c];
    size_t step = 1;
    if (cls == 2) {
      size_t k = rk__py_space(p + i, n - i);
      cls = k != 0;
      step = k ? k : 1;
    }
    cls |= us & (c == '_');
    st[js] = i;
    js += prev_sep & (cls ^ 1u);
    en[je] = i;
    je += (prev_sep ^ 1u) & cls;
    prev_sep = cls;
    i += step;
  }
  if (!prev_sep) en[je++] = n;
  for (size_t j = 0; j < js; j++) w[j] = rk__str_make(p + st[j], en[j] - st[j]);
  *nw = js;
  return w;
}

int rk__rep_ngrams_tokens(const rk__str *toks, size_t ntoks, size_t ngram,
                          rk__arena *arena, rk__rep_result *out) {
  memset(out, 0, sizeof *out);
  out->words = ntoks;
  if (ngram == 0 || ntoks < ngram) return 0;
  if (ntoks > UINT32_MAX - 1) return -1;
  uint32_t *ids = rk__arena_alloc(arena, ntoks * sizeof *ids);
  if (!ids || intern(toks, ntoks, arena, ids)) return -1;
  return count_windows(ids, ntoks, ngram, arena, out);
}

int rk__rep_ngrams(const char *p, size_t n, size_t ngram, int lowercase,
                   int split_underscore, rk__arena *arena,
                   rk__rep_result *out) {
  memset(out, 0, sizeof *out);
  if (!p) n = 0;
  if (lowercase && n) {
    p = rk__pylower(arena, p, n, &n);
    if (!p) return -1;
  }
  size_t nw = 0;
  rk__str *w = split_words(p ? p : "", n, split_underscore, arena, &nw);
  if (!w) return -1;
  return rk__rep_ngrams_tokens(w, nw, ngram, arena, out);
}

double rk__rep_trl(const rk__rep_result *r, double max_penalty) {
  if (r->total == 0) return 0.0;
  double scaling = 1.0 - (double)r->unique / (double)r->total;
  /* TRL: `scaling * max_penalty if scaling else 0.0` (no -0.0). */
  if (scaling == 0.0) return 0.0;
  double v = scaling * max_penalty;
  return v == 0.0 ? 0.0 : v;
}

/* ------------------------------------------------------- reward function */

enum { MODE_NGRAM = 0, MODE_RLPR = 1 };
static const char *const k_modes[] = {"ngram", "rlpr", NULL};

typedef struct rep_cfg {
  int mode;
  long n;
  double penalty;   /* ngram: max_penalty; rlpr: penalty */
  long min_count;   /* rlpr */
  int lowercase;
  char *tokens_field;
} rep_cfg;

static void rep_free(void *v) {
  rep_cfg *cfg = v;
  if (!cfg) return;
  free(cfg->tokens_field);
  free(cfg);
}

static int rep_compile(rk__argctx *ac, void **out) {
  rep_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__arg_enum(ac, "mode", k_modes, MODE_NGRAM, &cfg->mode)) goto fail;
  int rlpr = cfg->mode == MODE_RLPR;
  if (rk__arg_int(ac, "n", rlpr ? 10 : 3, 1, RK__REP_MAX_N, &cfg->n) ||
      rk__arg_bool(ac, "lowercase", rlpr ? 0 : 1, &cfg->lowercase) ||
      rk__arg_str(ac, "tokens_field", NULL, &cfg->tokens_field))
    goto fail;
  if (rlpr) {
    if (rk__arg_raw(ac, "max_penalty")) {
      rk__arg_error(ac, "max_penalty", "mode \"rlpr\" uses \"penalty\"");
      goto fail;
    }
    if (rk__arg_num_range(ac, "penalty", -1.0, -1e300, 0, &cfg->penalty) ||
        rk__arg_int(ac, "count", 10, 1, 1000000000L, &cfg->min_count))
      goto fail;
  } else {
    if (rk__arg_raw(ac, "penalty") || rk__arg_raw(ac, "count")) {
      rk__arg_error(ac, rk__arg_raw(ac, "penalty") ? "penalty" : "count",
                    "only used by mode \"rlpr\" (mode \"ngram\" takes "
                    "\"max_penalty\")");
      goto fail;
    }
    if (rk__arg_num_range(ac, "max_penalty", -1.0, -1e300, 0, &cfg->penalty))
      goto fail;
  }
  *out = cfg;
  return 0;
fail:
  rep_free(cfg);
  return -1;
}

/* Tokens of a record field holding an array (token ids or strings). */
static rk_status field_tokens(const rep_cfg *cfg, rk__call *c, rk__str **toks,
                              size_t *ntoks) {
  const rk__jval *v = rk__record_field(c->rec, cfg->tokens_field);
  if (!v) return rk__fail(c, "tokens_field '%s' missing", cfg->tokens_field);
  if (v->type != RK__JARR)
    return rk__fail(c, "tokens_field '%s' is a %s, expected an array",
                    cfg->tokens_field, rk__json_type_name(v->type));
  size_t n = v->u.arr.n;
  rk__str *t = rk__arena_alloc(c->arena, (n ? n : 1) * sizeof *t);
  if (!t) return rk__fail(c, "repetition: out of scratch memory");
  for (size_t i = 0; i < n; i++) {
    const rk__jval *it = &v->u.arr.items[i];
    t[i] = it->type == RK__JSTR ? it->u.str : it->raw;
  }
  *toks = t;
  *ntoks = n;
  return RK_STATUS_OK;
}

static rk_status rep_score(const void *v, rk__call *c, double *value) {
  const rep_cfg *cfg = v;
  rk__rep_result r;
  int rc;
  *value = 0;
  if (cfg->tokens_field) {
    rk__str *toks = NULL;
    size_t nt = 0;
    rk_status st = field_tokens(cfg, c, &toks, &nt);
    if (st != RK_STATUS_OK) return st;
    if (!rk__spend(c, (uint64_t)nt * (uint64_t)(cfg->n + 2) + 1))
      return RK_STATUS_TIMEOUT;
    rc = rk__rep_ngrams_tokens(toks, nt, (size_t)cfg->n, c->arena, &r);
  } else {
    if (!c->rec->has_response)
      return rk__fail(c, "record has no response text");
    rk__str s = c->rec->response;
    /* Bytes scanned (twice with the lowercase copy) plus n ids compared per
     * window in the worst case (windows <= bytes / 2). */
    uint64_t cost = (uint64_t)s.n * (cfg->lowercase ? 3 : 2) +
                    (uint64_t)(s.n / 2 + 1) * (uint64_t)cfg->n;
    if (!rk__spend(c, cost)) return RK_STATUS_TIMEOUT;
    rc = rk__rep_ngrams(s.p, s.n, (size_t)cfg->n, cfg->lowercase,
                        cfg->mode == MODE_RLPR, c->arena, &r);
  }
  if (rc) return rk__fail(c, "repetition: out of scratch memory");
  if (cfg->mode == MODE_RLPR) {
    int hit = r.max_count >= (size_t)cfg->min_count;
    *value = hit ? cfg->penalty : 0.0;
    if (rk__explaining(c)) {
      char d[32];
      rk__fmt_double(d, *value);
      rk__explain(c,
                  "%zu words; most repeated %ld-word window occurs %zu "
                  "time%s (%s %ld); penalty %s",
                  r.words, cfg->n, r.max_count, r.max_count == 1 ? "" : "s",
                  hit ? ">=" : "<", cfg->min_count, d);
    }
  } else {
    *value = rk__rep_trl(&r, cfg->penalty);
    if (rk__explaining(c)) {
      char d[32];
      rk__fmt_double(d, *value);
      if (r.total == 0)
        rk__explain(c, "%zu %s, fewer than n=%ld: penalty 0", r.words,
                    cfg->tokens_field ? "tokens" : "words", cfg->n);
      else
        rk__explain(c, "%ld-grams over %zu %s: %zu unique of %zu; penalty %s",
                    cfg->n, r.words, cfg->tokens_field ? "tokens" : "words",
                    r.unique, r.total, d);
    }
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_repetition = {
    .name = "repetition",
    .summary = "n-gram repetition penalty: TRL (1 - unique/total) * max_penalty, or RLPR 10-gram x10 rule",
    .compile = rep_compile,
    .score = rep_score,
    .free = rep_free,
};
