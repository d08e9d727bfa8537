/*
 * corpus.c - rk_corpus_score: sacreBLEU's corpus score (corpus_bleu,
 * corpus_chrf) over records. Each record is read as the per-record scorer
 * reads it (core/engine.c's score_line: JSON, aliases), its statistics
 * are added by its function's corpus hook (bleu.c, chrf.c: the same code
 * path as the per-record reward), and one score is computed from the
 * sums at the end.
 *
 * Not for: per-record rewards (core/engine.c) or specs with several
 * functions: a corpus score is one metric's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/record.h"
#include "core/registry.h"
#include "core/spec.h"
#include "json/json.h"

/* "fn 'bleu' or fn 'chrf'": the functions that have a corpus score, from
 * the registry, so that the message cannot fall behind it. */
static void corpus_fns(char *out, size_t cap) {
  size_t k = 0, count = 0, total = 0;
  out[0] = '\0';
  for (size_t i = 0; rk__registry_at(i); i++) total += rk__registry_at(i)->corpus != NULL;
  for (size_t i = 0; rk__registry_at(i) && k < cap; i++) {
    const rk__fn *f = rk__registry_at(i);
    if (!f->corpus) continue;
    count++;
    k += (size_t)snprintf(out + k, cap - k, "%sfn '%s'",
                          count == 1 ? "" : count == total ? " or " : ", ", f->name);
  }
}

/* The spec's one function with a corpus score, or NULL with the message
 * set. */
static const rk__fn *corpus_fn(rk_ctx *ctx, const rk_spec *spec, const void **cfg) {
  char accepted[128];
  corpus_fns(accepted, sizeof accepted);
  const char *kind = NULL;
  const rk__fn *fn = rk__spec_root_fn(spec, cfg, &kind);
  if (!fn) {
    rk__ctx_fail(ctx, RK_ESPEC,
                 "corpus: the spec's reward is a \"%s\" node; a corpus score takes a spec whose "
                 "reward is one %s leaf, e.g. {\"reward\": {\"fn\": \"bleu\"}}",
                 kind, accepted);
    return NULL;
  }
  if (!fn->corpus) {
    rk__ctx_fail(ctx, RK_ESPEC,
                 "corpus: the spec's reward is fn '%s', which has no corpus score; a corpus score "
                 "takes %s (sacreBLEU's corpus_score)",
                 fn->name, accepted);
    return NULL;
  }
  if (spec->adv.estimator != RK__ADV_NONE || spec->filter.enabled) {
    rk__ctx_fail(ctx, RK_ESPEC,
                 "corpus: the spec has %s, which works on per-record rewards of groups; a corpus "
                 "score is one number for all records: remove it from the spec",
                 spec->adv.estimator != RK__ADV_NONE ? "an \"advantage\"" : "a \"filter\"");
    return NULL;
  }
  return fn;
}

/* Reads record k and adds its statistics. Returns RK_OK (and *unparseable
 * when its answer counted as empty) or the error, with the message set. */
static rk_err add_record(rk_ctx *ctx, const rk__fn *fn, const void *cfg,
                         const rk_score_options *o, const char *text, size_t len, size_t k,
                         rk__arena *a, rk__buf *why, rk__buf *err, void *acc, int *unparseable) {
  rk__arena_reset(a);
  rk__buf_reset(why);
  rk__buf_reset(err);
  if (len > o->max_line)
    return rk__ctx_fail(ctx, RK_ELIMIT,
                        "record %zu: %zu bytes, over the limit of %zu bytes (raise max_line: "
                        "--max-line in the CLI, max_line= in Python)",
                        k, len, o->max_line);
  rk__jval *root = NULL;
  rk__json_error jerr;
  rk__json_limits lim = {.max_depth = 512, .max_bytes = o->max_line};
  int prc = rk__json_parse(text, len, a, &lim, &root, &jerr);
  if (prc == -2) return rk__ctx_fail(ctx, RK_ENOMEM, "record %zu: out of memory while parsing", k);
  if (prc != 0)
    return rk__ctx_fail(ctx, RK_EJSON, "record %zu: invalid JSON at column %zu: %s", k,
                        jerr.column, jerr.msg);
  if (root->type != RK__JOBJ)
    return rk__ctx_fail(ctx, RK_EJSON, "record %zu: a record must be a JSON object, got %s", k,
                        rk__json_type_name(root->type));
  rk__record rec;
  rk__record_build(root, (uint64_t)k + 1, &rec);
  /* The per-record scorer gives such a record status "error" (spec.c,
   * eval_leaf); an empty response string is an empty hypothesis. */
  if (!rec.has_response)
    return rk__ctx_fail(ctx, RK_EINVAL,
                        "record %zu: the record has no 'response' string (aliases: "
                        "solution_str, completion, or a chat message list)",
                        k);
  rk__budget budget = {0, o->step_budget};
  rk__eval_state st = {0};
  /* Explanations on: they carry the reason of an unusable reference. */
  rk__call call = {.rec = &rec, .arena = a, .budget = &budget, .explain = why,
                   .error = err, .engine = &st};
  rk_status s = fn->corpus->add(cfg, &call, acc);
  switch (s) {
    case RK_STATUS_OK:
      return RK_OK;
    case RK_STATUS_UNPARSEABLE:
      *unparseable = 1;
      return RK_OK;
    case RK_STATUS_INVALID_REFERENCE:
      return rk__ctx_fail(ctx, RK_EINVAL,
                          "record %zu: %s; a corpus score needs at least one non-empty reference "
                          "per record (as sacreBLEU does)",
                          k, why->n ? rk__buf_cstr(why) : "no usable reference");
    case RK_STATUS_TIMEOUT:
      return rk__ctx_fail(ctx, RK_ELIMIT,
                          "record %zu: its step budget of %llu steps ran out (raise "
                          "step_budget: --budget in the CLI, step_budget= in Python)",
                          k, (unsigned long long)o->step_budget);
    default:
      return rk__ctx_fail(ctx, RK_ENOMEM, "record %zu: %s", k,
                          err->n ? rk__buf_cstr(err) : "scoring failed");
  }
}

rk_err rk_corpus_score(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                       const char *const *recs, const size_t *lens, size_t n, double *score,
                       char **detail, size_t *detail_len) {
  if (detail) *detail = NULL;
  if (detail_len) *detail_len = 0;
  if (!ctx) return RK_EINVAL;
  if (rk__ctx_busy(ctx)) return RK_EBUSY;
  rk__ctx_fail(ctx, RK_OK, "%s", "");
  if (!spec || !score || (n && (!recs || !lens)))
    return rk__ctx_fail(ctx, RK_EINVAL, "corpus: spec, score, and records with their lengths "
                                        "are required");
  if (opts && opts->format != RK_FORMAT_JSON)
    return rk__ctx_fail(ctx, RK_EINVAL, "corpus: records are JSON texts (format must be "
                                        "RK_FORMAT_JSON)");
  *score = 0;
  rk_score_options o = {0};
  if (opts) o = *opts;
  if (!o.step_budget) o.step_budget = RK_DEFAULT_STEPS;
  if (!o.max_line) o.max_line = RK_DEFAULT_MAX_LINE;
  const void *cfg = NULL;
  const rk__fn *fn = corpus_fn(ctx, spec, &cfg);
  if (!fn) return RK_ESPEC;

  void *acc = calloc(1, fn->corpus->acc_size);
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__buf why, err, out;
  rk__buf_init(&why, 4096);
  rk__buf_init(&err, 4096);
  rk__buf_init(&out, 0);
  rk_err rc = acc ? RK_OK : rk__ctx_fail(ctx, RK_ENOMEM, "corpus: out of memory");
  size_t unparseable = 0;
  for (size_t k = 0; k < n && rc == RK_OK; k++) {
    int u = 0;
    if (!recs[k]) {
      rc = rk__ctx_fail(ctx, RK_EINVAL, "record %zu: NULL", k);
      break;
    }
    rc = add_record(ctx, fn, cfg, &o, recs[k], lens[k], k, &a, &why, &err, acc, &u);
    unparseable += (size_t)u;
  }
  if (rc == RK_OK) {
    rk__buf members;
    rk__buf_init(&members, 0);
    double s = fn->corpus->finish(cfg, acc, &members);
    rk__buf_printf(&out, "{\"metric\":\"%s\",\"score\":", fn->name);
    rk__json_put_num(&out, s);
    rk__buf_printf(&out, ",\"records\":%zu,\"unparseable\":%zu", n, unparseable);
    rk__buf_put(&out, members.p ? members.p : "", members.n);
    rk__buf_putc(&out, '}');
    int oom = members.oom || out.oom;
    rk__buf_release(&members);
    if (oom) {
      rc = rk__ctx_fail(ctx, RK_ENOMEM, "corpus: out of memory writing the detail");
    } else {
      *score = s;
      if (detail) {
        size_t len = 0;
        *detail = rk__buf_take(&out, &len);
        if (detail_len) *detail_len = len;
      }
    }
  }
  rk__buf_release(&out);
  rk__buf_release(&why);
  rk__buf_release(&err);
  rk__arena_release(&a);
  free(acc);
  return rc;
}
