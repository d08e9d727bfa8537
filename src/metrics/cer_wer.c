/*
 * cer_wer.c - fns `cer` and `wer`: character and word error rates with
 * jiwer's default transforms (jiwer 3.x cer_default / wer_default), as a
 * reward 1 - rate clipped to [0, 1] (docs/rewards/edit.md).
 *
 *   rate = (S + D + I) / N_ref = Levenshtein(ref units, hyp units) / N_ref
 *
 * wer units: jiwer's RemoveMultipleSpaces (re.sub(r"\s\s+", " ")), Strip,
 * then split on " " only, so a lone "\n" or "\t" between two words does
 * not separate them (the quirk; "split": "whitespace" splits on every
 * whitespace run). cer units: Strip, then every code point, spaces too.
 *
 * Not for: corpus-level rates (jiwer's sum of edits over sum of reference
 * lengths); a reward is per record.
 */
#include <stdlib.h>
#include <string.h>

#include "format/format.h"
#include "metrics/edit_common.h"
#include "metrics/levenshtein.h"
#include "metrics/ovl.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ------------------------------------------------------- tokenising */

size_t rk__wer_words(const uint32_t *s, size_t n, int clean, size_t *start,
                     size_t *len);

/* Word spans of s (start[i], len[i]); returns the count. jiwer mode: a
 * code point separates words when it is " " or lies in a whitespace run of
 * length >= 2, or in the leading/trailing whitespace (Strip). Clean mode:
 * every whitespace code point separates. start/len need n entries. */
size_t rk__wer_words(const uint32_t *s, size_t n, int clean, size_t *start,
                     size_t *len) {
  size_t lo = 0, hi = n, k = 0;
  while (lo < hi && rk__cp_isspace(s[lo])) lo++;
  while (hi > lo && rk__cp_isspace(s[hi - 1])) hi--;
  size_t i = lo, w = SIZE_MAX;
  while (i < hi) {
    int sep = 0;
    size_t run = 1;
    if (rk__cp_isspace(s[i])) {
      while (i + run < hi && rk__cp_isspace(s[i + run])) run++;
      sep = clean || run >= 2 || s[i] == ' ';
      if (!sep) {
        /* A lone non-space whitespace code point: part of the word. */
        if (w == SIZE_MAX) w = i;
        i += run;
        continue;
      }
    }
    if (sep) {
      if (w != SIZE_MAX) start[k] = w, len[k] = i - w, k++, w = SIZE_MAX;
      i += run;
      continue;
    }
    if (w == SIZE_MAX) w = i;
    i++;
  }
  if (w != SIZE_MAX) start[k] = w, len[k] = i - w, k++;
  return k;
}

/* The same split, interning each word as it is scanned (one pass, the
 * hash computed on the way). Returns the count, SIZE_MAX when interning
 * fails. ids needs n entries. */
size_t rk__wer_ids(const uint32_t *s, size_t n, int clean, rk__lev_intern *tab,
                   uint32_t *ids);
size_t rk__wer_ids(const uint32_t *s, size_t n, int clean, rk__lev_intern *tab,
                   uint32_t *ids) {
  size_t lo = 0, hi = n, k = 0;
  while (lo < hi && rk__cp_isspace(s[lo])) lo++;
  while (hi > lo && rk__cp_isspace(s[hi - 1])) hi--;
  size_t i = lo;
  while (i < hi) {
    /* One word: from i up to a separator. */
    size_t w = i;
    uint32_t h = RK__LEV_HASH0;
    while (i < hi) {
      uint32_t ch = s[i];
      if (ch == ' ') break;
      if (ch <= 0x20 || ch >= 0x85) {
        if (rk__cp_isspace(ch)) {
          if (clean || (i + 1 < hi && rk__cp_isspace(s[i + 1]))) break;
          /* A lone non-space whitespace code point: part of the word
           * (it cannot be preceded by whitespace, or we would have
           * stopped there). */
        }
      }
      h = RK__LEV_HASH_STEP(h, ch);
      i++;
    }
    uint32_t id = rk__lev_intern_idh(tab, s + w, i - w, h);
    if (id == UINT32_MAX) return SIZE_MAX;
    ids[k++] = id;
    while (i < hi && rk__cp_isspace(s[i])) i++;
  }
  return k;
}

/* The same split and interning straight from UTF-8 bytes (what `wer`
 * uses: no decoding pass). Whitespace is rk__py_space's (Python's
 * str.isspace). Words are byte strings, so two different invalid bytes
 * are different words here while the code-point version above maps both
 * to U+FFFD; on valid UTF-8 the two agree (fuzz/fuzz_edit.c). Bytes
 * 0x21-0x7F never end a word and are skipped 16 at a time; a word is
 * hashed once (rk__ovl_hash) when its end is known. */
size_t rk__wer_ids_utf8(const char *p, size_t n, int clean, rk__lev_intern *tab,
                        uint32_t *ids);
size_t rk__wer_ids_utf8(const char *p, size_t n, int clean, rk__lev_intern *tab,
                        uint32_t *ids) {
  size_t i = 0, k = 0, sl;
  while (i < n && (sl = rk__py_space_fast(p + i, n - i))) i += sl; /* Strip (left) */
  while (i < n) {
    size_t w = i;
    for (;;) {
      int found = 0;
#if defined(__SSE2__)
      while (n - i >= 16) {
        /* Signed compare: bytes <= 0x20 and >= 0x80 are the candidates. */
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(x, _mm_set1_epi8(0x21)));
        if (m) {
          i += (size_t)__builtin_ctz(m);
          found = 1;
          break;
        }
        i += 16;
      }
#endif
      if (!found)
        while (i < n && (unsigned)(unsigned char)p[i] - 0x21u < 0x5Fu) i++;
      if (i >= n) break;
      unsigned char c = (unsigned char)p[i];
      if (c == ' ') break;
      if (rk__py_space_class[c] && (sl = rk__py_space_fast(p + i, n - i))) {
        /* A separator when clean, in a run of two or more, or trailing
         * (Strip); otherwise a lone whitespace character inside the word. */
        if (clean || i + sl == n || rk__py_space_fast(p + i + sl, n - i - sl)) break;
        i += sl;
        continue;
      }
      i++;
    }
    uint32_t id = rk__lev_intern_idb64(tab, p + w, i - w, rk__ovl_hash(p + w, i - w));
    if (id == UINT32_MAX) return SIZE_MAX;
    ids[k++] = id;
    while (i < n && (sl = rk__py_space_fast(p + i, n - i))) i += sl;
  }
  return k;
}

/* ------------------------------------------------------------ config */

typedef struct ewr_cfg {
  int words;          /* 1 = wer, 0 = cer */
  int clean_split;    /* wer: split on every whitespace */
  int empty_ok;       /* empty reference scored instead of invalid */
  rk__extract_cfg ex;
  rk__edm_norm norm;
} ewr_cfg;

static void ewr_free(void *p) {
  ewr_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int ewr_compile_common(rk__argctx *ac, void **out, int words) {
  static const rk__ex_mode def[] = {RK__EX_ANSWER_TAG, RK__EX_NONE};
  static const char *const splits[] = {"jiwer", "whitespace", NULL};
  static const char *const empties[] = {"invalid", "score", NULL};
  ewr_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  cfg->words = words;
  int split = 0, empty = 0;
  if (rk__edm_extract_compile(ac, def, 2, &cfg->ex) ||
      rk__edm_norm_compile(ac, 0, &cfg->norm) ||
      (words && rk__arg_enum(ac, "split", splits, 0, &split)) ||
      rk__arg_enum(ac, "empty_reference", empties, 0, &empty)) {
    ewr_free(cfg);
    return -1;
  }
  cfg->clean_split = split;
  cfg->empty_ok = empty;
  *out = cfg;
  return 0;
}

static int cer_compile(rk__argctx *ac, void **out) { return ewr_compile_common(ac, out, 0); }
static int wer_compile(rk__argctx *ac, void **out) { return ewr_compile_common(ac, out, 1); }

/* One text's units: word ids (wer), or code points (cer, stripped; as
 * bytes when the text is Latin-1); n counts them. */
typedef struct ewr_units {
  rk__seq ids;        /* wer */
  rk__edm_text chars; /* cer */
  size_t n;
} ewr_units;

/* The units of text; buf (RK__EDM_STACK bytes) may hold cer's bytes. */
static rk_status units(const ewr_cfg *cfg, rk__call *c, rk__lev_intern *tab, rk__str text,
                       uint8_t *buf, ewr_units *u) {
  rk__str t;
  rk_status st = rk__edm_normalize(&cfg->norm, c, text, &t);
  if (st != RK_STATUS_OK) return st;
  if (!cfg->words) {
    if ((st = rk__edm_text_prepare(c, t, buf, &u->chars)) != RK_STATUS_OK) return st;
    rk__edm_text_strip(&u->chars);
    u->n = u->chars.n;
    return RK_STATUS_OK;
  }
  if (!rk__spend(c, 2 * (uint64_t)t.n + 1)) return RK_STATUS_TIMEOUT;
  /* A word has at least one byte: n + 1 ids suffice. */
  u->ids.v = rk__arena_alloc(c->arena, (t.n + 1) * sizeof *u->ids.v);
  if (!u->ids.v) return rk__fail(c, "out of scratch memory splitting words");
  size_t nw = rk__wer_ids_utf8(t.p, t.n, cfg->clean_split, tab, u->ids.v);
  if (nw == SIZE_MAX) return rk__fail(c, "too many distinct words (or out of scratch memory)");
  u->ids.n = u->n = nw;
  return RK_STATUS_OK;
}

/* Edit distance between the reference's units and the hypothesis's. */
static rk_status units_lev(const ewr_cfg *cfg, rk__call *c, ewr_units *ref, ewr_units *hyp,
                           const char *unit, long *d) {
  if (cfg->words) return rk__edm_lev(c, ref->ids.v, ref->n, hyp->ids.v, hyp->n, 0, unit, d);
  return rk__edm_text_lev(c, &ref->chars, &hyp->chars, 0, unit, d);
}

static rk_status ewr_score(const void *p, rk__call *c, double *value) {
  const ewr_cfg *cfg = p;
  const char *unit = cfg->words ? "words" : "characters";
  *value = 0;
  rk__str refs[RK__MAX_REFS], ans;
  size_t nref;
  rk_status st = rk__edm_refs_answer(&cfg->ex, c, refs, &nref, &ans);
  if (st != RK_STATUS_OK) return st;
  /* Interned word ids must be shared by the hypothesis and every reference:
   * capacity = every word there can be. */
  size_t total = ans.n;
  for (size_t i = 0; i < nref; i++) total += refs[i].n;
  rk__lev_intern *tab = NULL;
  if (cfg->words) {
    /* Capacity: a bound on distinct words (NFKC may expand the text, so
     * be generous; the table itself starts small and grows). */
    tab = rk__lev_intern_new(c->arena, 4 * total + 16);
    if (!tab) return rk__fail(c, "out of scratch memory");
  }
  ewr_units hyp, ref;
  uint8_t hbuf[RK__EDM_STACK], rbuf[RK__EDM_STACK];
  if ((st = units(cfg, c, tab, ans, hbuf, &hyp)) != RK_STATUS_OK) return st;
  double best = -1, best_rate = 0;
  long best_d = 0;
  size_t best_n = 0, best_i = 0, empties = 0;
  for (size_t i = 0; i < nref; i++) {
    long d;
    if ((st = units(cfg, c, tab, refs[i], rbuf, &ref)) != RK_STATUS_OK ||
        (st = units_lev(cfg, c, &ref, &hyp, unit, &d)) != RK_STATUS_OK)
      return st;
    double rate, r;
    if (ref.n == 0) {
      empties++;
      if (!cfg->empty_ok) continue;
      rate = hyp.n == 0 ? 0.0 : 1.0;
    } else {
      rate = (double)d / (double)ref.n;
    }
    r = 1.0 - rate;
    if (r < 0) r = 0;
    if (r > best) best = r, best_rate = rate, best_d = d, best_n = ref.n, best_i = i;
  }
  if (best < 0) {
    rk__explain(c, "reference is empty after jiwer's transforms (jiwer raises "
                   "ValueError; set \"empty_reference\": \"score\" to score it)");
    return RK_STATUS_INVALID_REFERENCE;
  }
  *value = best;
  if (rk__explaining(c)) {
    char a[32], b[32];
    rk__explain(c, "%s = %ld edits / %zu reference %s = %s; reward %s%s",
                cfg->words ? "WER" : "CER", best_d, best_n, unit,
                rk__edm_num(a, best_rate), rk__edm_num(b, best),
                best_rate > 1 ? " (rate clipped)" : "");
    if (nref > 1) rk__explain(c, "best of %zu references (#%zu)", nref, best_i + 1);
    if (empties && cfg->empty_ok) rk__explain(c, "%zu empty reference(s) scored", empties);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_cer = {
    .name = "cer",
    .summary = "1 - character error rate (jiwer cer_default), clipped to [0,1]; best of several references",
    .compile = cer_compile,
    .score = ewr_score,
    .free = ewr_free,
};

const rk__fn rk__fn_wer = {
    .name = "wer",
    .summary = "1 - word error rate (jiwer wer_default), clipped to [0,1]; best of several references",
    .compile = wer_compile,
    .score = ewr_score,
    .free = ewr_free,
};
