/*
 * ref_logprob.c - fn `ref_logprob`: how likely the model finds the
 * reference answer after the response's reasoning.
 *
 * The scored text is prefix + reference, where the prefix is the rendered
 * template (the prompt) followed by
 *   span "answer_tag" (RLPR): the response up to and including its last
 *        "<answer>" tag: the answer the policy wrote is replaced by the
 *        reference (what follows the reference does not change its
 *        logprobs in a causal model, so it is not sent);
 *   span "append": the whole response and `separator` (a gold reasoning
 *        chain or answer scored as a continuation, P2S-style suffix);
 *   span "none": nothing (the reference given the prompt alone).
 * The reference's token logprobs l_t are aggregated (formulas.h): sum,
 * mean_log, mean_prob (RLPR's default), prod, geo_mean, after flooring
 * each at `floor`. With debias (RLPR), the same score without reasoning
 * (prefix = the rendered template only) is subtracted and the result
 * clipped at 0. bf16 rounds like RLPR's stored reward.
 * Offline (no "url"): the record carries the span's logprobs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "model/common.h"

enum { SPAN_TAG, SPAN_APPEND, SPAN_NONE };

typedef struct {
  rk__endpoint *ep;
  rk__lp_mode mode;
  double floor;
  char *tpl, *sep, *field, *debias_field;
  int span, debias, bf16, chat, images;
} cfg_t;

static void cfg_free(void *p) {
  cfg_t *c = p;
  if (!c) return;
  rk__endpoint_free(c->ep);
  free(c->tpl);
  free(c->sep);
  free(c->field);
  free(c->debias_field);
  free(c);
}

static int compile(rk__argctx *ac, void **out) {
  static const char *const spans[] = {"answer_tag", "append", "none", NULL};
  cfg_t *c = calloc(1, sizeof *c);
  if (!c) return rk__arg_error(ac, NULL, "out of memory");
  *out = c;
  int rc = 0;
  rc |= rk__endpoint_compile(ac, &c->ep);
  rc |= rk__mlp_mode_compile(ac, "aggregate", RK__LP_MEAN_PROB, &c->mode);
  rc |= rk__arg_num(ac, "floor", -100, &c->floor);
  rc |= rk__arg_str(ac, "template", "{prompt}\n", &c->tpl);
  rc |= rk__arg_str(ac, "separator", "\n", &c->sep);
  rc |= rk__arg_enum(ac, "span", spans, SPAN_TAG, &c->span);
  rc |= rk__arg_bool(ac, "debias", 0, &c->debias);
  rc |= rk__arg_bool(ac, "bf16", 0, &c->bf16);
  rc |= rk__arg_bool(ac, "chat", 0, &c->chat);
  rc |= rk__arg_bool(ac, "images", c->chat, &c->images);
  rc |= rk__arg_str(ac, "field", "ref_token_logprobs", &c->field);
  rc |= rk__arg_str(ac, "debias_field", "ref_token_logprobs_noreason", &c->debias_field);
  if (rc) return -1;
  if (rk__mtemplate_check(ac, "template", c->tpl, NULL)) return -1;
  if (c->ep) {
    const char *why = c->chat && c->ep->kind != RK__SRV_VLLM
                          ? "the chat form (\"chat\": true) needs server vllm; give the "
                            "template-applied text instead"
                          : rk__wire_unsupported(c->ep->kind, RK__NEED_PROMPT_LP, c->images,
                                                 c->chat ? "chat" : "plain");
    if (why) return rk__arg_error(ac, "server", "%s", why);
  }
  return 0;
}

/* Logprobs of the reference after `before` (may be empty): 1, 0 or -1 as
 * rk__mspan_lp. */
static int span_lp(const cfg_t *cfg, rk__call *c, rk__str prompt_text, rk__str before,
                   rk__str ref, double **lp, size_t *n, rk_status *s) {
  rk__lp_query q = {0};
  rk__str images[RK__MAX_IMAGES];
  size_t ni = cfg->images ? rk__mimages(c, images, RK__MAX_IMAGES) : 0;
  char *asst = NULL;
  rk__msg m[2];
  if (cfg->chat) {
    asst = rk__arena_alloc(c->arena, before.n + ref.n + 1);
    if (!asst) {
      *s = rk__fail(c, "ref_logprob: out of memory");
      return -1;
    }
    if (before.n) memcpy(asst, before.p, before.n);
    memcpy(asst + before.n, ref.p, ref.n);
    m[0] = (rk__msg){"user", prompt_text, images, ni};
    m[1] = (rk__msg){"assistant", rk__str_make(asst, before.n + ref.n), NULL, 0};
    q.chat = 1;
    q.msgs = m;
    q.nmsgs = 2;
    q.span = ref;
  } else {
    char *pre = rk__arena_alloc(c->arena, prompt_text.n + before.n + 1);
    if (!pre) {
      *s = rk__fail(c, "ref_logprob: out of memory");
      return -1;
    }
    if (prompt_text.n) memcpy(pre, prompt_text.p, prompt_text.n);
    if (before.n) memcpy(pre + prompt_text.n, before.p, before.n);
    q.prefix = rk__str_make(pre, prompt_text.n + before.n);
    q.span = ref;
    q.images = images;
    q.nimages = ni;
  }
  return rk__mspan_lp(c, "ref_logprob", cfg->ep, &q, lp, n, s);
}

static rk_status score(const void *cfgp, rk__call *c, double *value) {
  const cfg_t *cfg = cfgp;
  *value = 0;
  double *lb = NULL, *la = NULL;
  size_t nb = 0, na = 0;
  rk_status s = RK_STATUS_OK;

  if (!cfg->ep) {
    if (rk__mnums(c, rk__record_field(c->rec, cfg->field), &lb, &nb))
      return rk__fail(c, "ref_logprob: no \"url\" is set, so the record must carry the "
                      "reference's token logprobs as an array of numbers in '%s'",
                      cfg->field);
    if (cfg->debias &&
        rk__mnums(c, rk__record_field(c->rec, cfg->debias_field), &la, &na))
      return rk__fail(c, "ref_logprob: debias needs the no-reasoning logprobs in '%s'",
                      cfg->debias_field);
  } else {
    rk__str ref = rk__mreference(c);
    if (!ref.p || !ref.n) {
      rk__explain(c, "no reference answer to score");
      return RK_STATUS_INVALID_REFERENCE;
    }
    rk__buf pt;
    rk__buf_init(&pt, (size_t)64 << 20);
    s = rk__mtemplate(c, cfg->tpl, NULL, 0, &pt);
    if (s != RK_STATUS_OK) {
      rk__buf_release(&pt);
      return s;
    }
    char *ptext = rk__arena_strdup(c->arena, pt.p ? pt.p : "", pt.n);
    rk__str prompt_text = rk__str_make(ptext, ptext ? pt.n : 0);
    rk__buf_release(&pt);
    if (!ptext) return rk__fail(c, "ref_logprob: out of memory");

    rk__str resp = c->rec->response, before = {"", 0};
    if (cfg->span == SPAN_TAG) {
      const char *tag = NULL;
      for (size_t i = 0; i + 8 <= resp.n; i++)
        if (memcmp(resp.p + i, "<answer>", 8) == 0) tag = resp.p + i;
      if (!tag) {
        rk__explain(c, "no <answer> tag in the response: nothing to replace by the "
                       "reference (span \"append\" scores it after the whole response)");
        return RK_STATUS_UNPARSEABLE;
      }
      before = rk__str_make(resp.p, (size_t)(tag - resp.p) + 8);
    } else if (cfg->span == SPAN_APPEND) {
      char *b = rk__arena_alloc(c->arena, resp.n + strlen(cfg->sep) + 1);
      if (!b) return rk__fail(c, "ref_logprob: out of memory");
      memcpy(b, resp.p, resp.n);
      memcpy(b + resp.n, cfg->sep, strlen(cfg->sep));
      before = rk__str_make(b, resp.n + strlen(cfg->sep));
    }
    if (!rk__spend(c, prompt_text.n + before.n + ref.n + 1000)) return RK_STATUS_TIMEOUT;
    int k1 = span_lp(cfg, c, prompt_text, before, ref, &lb, &nb, &s);
    if (k1 < 0) return s;
    int k2 = 1;
    if (cfg->debias) {
      k2 = span_lp(cfg, c, prompt_text, rk__str_make("", 0), ref, &la, &na, &s);
      if (k2 < 0) return s;
    }
    if (k1 == 0 || k2 == 0) return rk__model_pending(c);
  }
  double b = rk__lp_aggregate(lb, nb, cfg->mode, cfg->floor);
  if (cfg->bf16) b = rk__round_bf16(b);
  if (!cfg->debias) {
    *value = b;
    rk__explain(c, "%s of %zu reference tokens = %g", rk__mlp_mode_names[cfg->mode], nb, b);
    return RK_STATUS_OK;
  }
  double a = rk__lp_aggregate(la, na, cfg->mode, cfg->floor);
  if (cfg->bf16) a = rk__round_bf16(a);
  *value = rk__rlpr_debias(b, a);
  rk__explain(c, "%s with reasoning %g, without %g -> max(diff, 0) = %g",
              rk__mlp_mode_names[cfg->mode], b, a, *value);
  return RK_STATUS_OK;
}

const rk__fn rk__fn_ref_logprob = {
    .name = "ref_logprob",
    .summary = "likelihood of the reference answer after the response's reasoning "
               "(RLPR; args: url, server, aggregate, span, debias; offline: field)",
    .compile = compile,
    .score = score,
    .free = cfg_free,
    .calls_model = 1,
};
