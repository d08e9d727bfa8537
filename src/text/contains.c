/*
 * contains.c - fn `contains`: sub-exact-match as in Search-R1's subEM: 1
 * when some normalised reference occurs inside the normalised answer.
 *
 * Known hack: an answer that lists many candidates contains the right one.
 * "max_answer_words" caps the answer length (0 = no cap, the Search-R1
 * behaviour) and "word_boundary" stops "cat" matching "concatenate".
 * Not for: exact answers (fn exact) or graded overlap (token F1).
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "text/extract.h"
#include "text/normalize.h"

typedef struct contains_cfg {
  rk__extract_cfg ex;
  rk__norm norm;
  int word_boundary;
  long max_words;
} contains_cfg;

static void contains_free(void *p) {
  contains_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int contains_compile(rk__argctx *ac, void **out) {
  contains_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  int given = rk__arg_raw(ac, "extract") != NULL;
  if (rk__extract_cfg_compile(ac, RK__EX_AUTO, &cfg->ex) || rk__norm_compile(ac, &cfg->norm) ||
      rk__arg_bool(ac, "word_boundary", 0, &cfg->word_boundary) ||
      rk__arg_int(ac, "max_answer_words", 0, 0, 1000000, &cfg->max_words)) {
    contains_free(cfg);
    return -1;
  }
  if (!given) {
    cfg->ex.modes[1] = RK__EX_NONE;
    cfg->ex.nmodes = 2;
  }
  *out = cfg;
  return 0;
}

/* Word characters for the boundary test: ASCII letters and digits, and
 * any non-ASCII byte (part of a letter in most scripts). */
static int wordch(unsigned char c) {
  return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

static int occurs(rk__str hay, rk__str needle, int bounded) {
  if (needle.n > hay.n) return 0;
  size_t from = 0;
  while (from + needle.n <= hay.n) {
    const char *q = memmem(hay.p + from, hay.n - from, needle.p, needle.n);
    if (!q) return 0;
    size_t i = (size_t)(q - hay.p), j = i + needle.n;
    if (!bounded) return 1;
    int left =
        i == 0 || !wordch((unsigned char)hay.p[i - 1]) || !wordch((unsigned char)needle.p[0]);
    int right = j == hay.n || !wordch((unsigned char)hay.p[j]) ||
                !wordch((unsigned char)needle.p[needle.n - 1]);
    if (left && right) return 1;
    from = i + 1;
  }
  return 0;
}

static rk_status contains_score(const void *p, rk__call *c, double *value) {
  const contains_cfg *cfg = p;
  *value = 0;
  rk__str refs[RK__MAX_REFS];
  int had;
  size_t nref = rk__text_refs(c, refs, RK__MAX_REFS, &had);
  if (!nref) {
    rk__explain(c, had ? "reference is empty or not a string/number" : "record has no reference");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__str ans, pred;
  rk_status st = rk__extract(&cfg->ex, c, c->rec->response, &ans, NULL);
  if (st != RK_STATUS_OK) return st;
  if (!rk__spend(c, rk__norm_steps(&cfg->norm, ans))) return RK_STATUS_TIMEOUT;
  if (rk__normalize(&cfg->norm, c->arena, ans, &pred))
    return rk__fail(c, "contains: out of scratch memory");
  if (cfg->max_words > 0) {
    size_t w = rk__text_words(pred);
    if (w > (size_t)cfg->max_words) {
      rk__explain(c, "answer has %zu words > max_answer_words %ld", w, cfg->max_words);
      return RK_STATUS_OK;
    }
  }
  const char *e1;
  int k1 = rk__text_clip(pred, 80, &e1);
  size_t usable = 0;
  for (size_t i = 0; i < nref; i++) {
    rk__str gold, r = rk__text_clean(refs[i]);
    if (!rk__spend(c, rk__norm_steps(&cfg->norm, r) + pred.n)) return RK_STATUS_TIMEOUT;
    if (rk__normalize(&cfg->norm, c->arena, r, &gold))
      return rk__fail(c, "contains: out of scratch memory");
    /* An empty gold ("the" under SQuAD rules) would be inside anything. */
    if (!gold.n) continue;
    usable++;
    if (occurs(pred, gold, cfg->word_boundary)) {
      *value = 1;
      if (rk__explaining(c)) {
        const char *e2;
        int k2 = rk__text_clip(gold, 80, &e2);
        rk__explain(c, "gold '%.*s%s' found in pred '%.*s%s' (normalised)", k2, gold.p, e2, k1,
                    pred.p, e1);
      }
      return RK_STATUS_OK;
    }
  }
  if (!usable) {
    rk__explain(c, "every reference normalises to an empty string");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__explain(c, "no gold found in pred '%.*s%s' (%zu gold%s, normalised)", k1, pred.p, e1, nref,
              nref == 1 ? "" : "s");
  return RK_STATUS_OK;
}

const rk__fn rk__fn_contains = {
    .name = "contains",
    .summary =
        "a normalised reference occurs in the extracted answer (Search-R1 subEM; "
        "args: word_boundary, max_answer_words, extract, normalize)",
    .compile = contains_compile,
    .score = contains_score,
    .free = contains_free,
};
