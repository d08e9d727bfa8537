/*
 * sar.c - fn `sar`: the self-aligned reward (SAR). With ppl(x) =
 * exp(-(1/n) sum_t l_t) over the response's tokens,
 *   R = max((ppl(a) - ppl(a|q)) / (ppl(a) + 1e-9), -1)
 * where ppl(a|q) scores the response after the rendered template (the
 * query) and ppl(a) scores it after `unconditional_prefix` only (default
 * empty: the server then has no logprob for the very first token, which
 * is left out of that average). Positive when the query makes the answer
 * more predictable: an answer that addresses the question.
 * Offline (no "url"): the record carries both logprob lists.
 */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "model/common.h"

typedef struct {
  rk__endpoint *ep;
  char *tpl, *uncond, *field_q, *field_a;
} cfg_t;

static void cfg_free(void *p) {
  cfg_t *c = p;
  if (!c) return;
  rk__endpoint_free(c->ep);
  free(c->tpl);
  free(c->uncond);
  free(c->field_q);
  free(c->field_a);
  free(c);
}

static int compile(rk__argctx *ac, void **out) {
  cfg_t *c = calloc(1, sizeof *c);
  if (!c) return rk__arg_error(ac, NULL, "out of memory");
  *out = c;
  int rc = 0;
  rc |= rk__endpoint_compile(ac, &c->ep);
  rc |= rk__arg_str(ac, "template", "{prompt}\n", &c->tpl);
  rc |= rk__arg_str(ac, "unconditional_prefix", "", &c->uncond);
  rc |= rk__arg_str(ac, "field", "answer_logprobs_given_query", &c->field_q);
  rc |= rk__arg_str(ac, "unconditional_field", "answer_logprobs", &c->field_a);
  if (rc || rk__mtemplate_check(ac, "template", c->tpl, NULL)) return -1;
  if (c->ep) {
    const char *why = rk__wire_unsupported(c->ep->kind, RK__NEED_PROMPT_LP, 0, "plain");
    if (why) return rk__arg_error(ac, "server", "%s", why);
  }
  return 0;
}

static int lp_after(const cfg_t *cfg, rk__call *c, rk__str prefix, double **lp, size_t *n,
                    rk_status *s) {
  rk__lp_query q = {0};
  q.prefix = prefix;
  q.span = c->rec->response;
  return rk__mspan_lp(c, "sar", cfg->ep, &q, lp, n, s);
}

static rk_status score(const void *cfgp, rk__call *c, double *value) {
  const cfg_t *cfg = cfgp;
  double *lq = NULL, *la = NULL;
  size_t nq = 0, na = 0;
  rk_status s = RK_STATUS_OK;
  *value = 0;
  if (!cfg->ep) {
    if (rk__mnums(c, rk__record_field(c->rec, cfg->field_q), &lq, &nq) ||
        rk__mnums(c, rk__record_field(c->rec, cfg->field_a), &la, &na))
      return rk__fail(c, "sar: no \"url\" is set, so the record must carry the response's "
                      "token logprobs with the query in '%s' and without it in '%s'",
                      cfg->field_q, cfg->field_a);
  } else {
    if (!c->rec->response.n) {
      rk__explain(c, "empty response");
      return RK_STATUS_UNPARSEABLE;
    }
    rk__buf pt;
    rk__buf_init(&pt, (size_t)64 << 20);
    s = rk__mtemplate(c, cfg->tpl, NULL, 0, &pt);
    char *ptext = s == RK_STATUS_OK ? rk__arena_strdup(c->arena, pt.p ? pt.p : "", pt.n) : NULL;
    size_t pn = pt.n;
    rk__buf_release(&pt);
    if (s != RK_STATUS_OK) return s;
    if (!ptext) return rk__fail(c, "sar: out of memory");
    if (!rk__spend(c, pn + 2 * c->rec->response.n + 1000)) return RK_STATUS_TIMEOUT;
    int k1 = lp_after(cfg, c, rk__str_make(ptext, pn), &lq, &nq, &s);
    if (k1 < 0) return s;
    int k2 = lp_after(cfg, c, rk__str_make(cfg->uncond, strlen(cfg->uncond)), &la, &na, &s);
    if (k2 < 0) return s;
    if (k1 == 0 || k2 == 0) return rk__model_pending(c);
  }
  if (rk__sar(lq, nq, la, na, value)) {
    rk__explain(c, "no answer tokens to score");
    return RK_STATUS_UNPARSEABLE;
  }
  rk__explain(c, "SAR over %zu tokens with the query, %zu without: %g", nq, na, *value);
  return RK_STATUS_OK;
}

const rk__fn rk__fn_sar = {
    .name = "sar",
    .summary = "self-aligned reward: perplexity of the response with vs. without the "
               "query, clipped at -1 (args: url, server, template; offline: field)",
    .compile = compile,
    .score = score,
    .free = cfg_free,
    .calls_model = 1,
};
