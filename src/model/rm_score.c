/*
 * rm_score.c - fn `rm_score`: a scalar reward model served by vLLM
 * (/classify with use_activation false, or /pooling) or SGLang (/classify,
 * or /v1/embeddings reading the last number as verl does). The
 * conversation is rendered with the chat template the reward model was
 * trained with ("template": a preset or a string with {prompt} and
 * {response}; no BOS, as verl strips it: the server adds its own).
 * Optional logistic of the raw score. Offline (no "url"): the record
 * carries the score.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "model/common.h"

typedef struct {
  rk__endpoint *ep;
  char *api, *tpl, *field;
  int sigmoid;
  rk__mgate gate;
} cfg_t;

static const struct {
  const char *name, *tpl;
} presets[] = {
    {"chatml", "<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n{response}"
               "<|im_end|>\n"},
    {"llama3", "<|start_header_id|>user<|end_header_id|>\n\n{prompt}<|eot_id|>"
               "<|start_header_id|>assistant<|end_header_id|>\n\n{response}<|eot_id|>"},
    {"plain", "{prompt}\n{response}"},
};

static void cfg_free(void *p) {
  cfg_t *c = p;
  if (!c) return;
  rk__endpoint_free(c->ep);
  free(c->api);
  free(c->tpl);
  free(c->field);
  rk__mgate_free(&c->gate);
  free(c);
}

static int compile(rk__argctx *ac, void **out) {
  cfg_t *c = calloc(1, sizeof *c);
  if (!c) return rk__arg_error(ac, NULL, "out of memory");
  *out = c;
  int rc = 0;
  rc |= rk__endpoint_compile(ac, &c->ep);
  rc |= rk__arg_str(ac, "api", "classify", &c->api);
  rc |= rk__arg_str(ac, "template", NULL, &c->tpl);
  rc |= rk__arg_str(ac, "field", "rm_score", &c->field);
  rc |= rk__arg_bool(ac, "sigmoid", 0, &c->sigmoid);
  rc |= rk__mgate_compile(ac, &c->gate);
  if (rc) return -1;
  if (!c->ep) return 0;
  if (!c->tpl)
    return rk__arg_error(ac, "template",
                         "required with a server: the reward model must see the chat "
                         "template it was trained with; use \"chatml\", \"llama3\", "
                         "\"plain\" or a string with {prompt} and {response}");
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
    if (strcmp(c->tpl, presets[i].name) == 0) {
      char *t = malloc(strlen(presets[i].tpl) + 1);
      if (!t) return rk__arg_error(ac, NULL, "out of memory");
      memcpy(t, presets[i].tpl, strlen(presets[i].tpl) + 1);
      free(c->tpl);
      c->tpl = t;
      break;
    }
  if (rk__mtemplate_check(ac, "template", c->tpl, NULL)) return -1;
  const char *why = rk__wire_unsupported(c->ep->kind, RK__NEED_SCORE, 0, c->api);
  if (why) return rk__arg_error(ac, "api", "%s", why);
  return 0;
}

static rk_status score(const void *cfgp, rk__call *c, double *value) {
  const cfg_t *cfg = cfgp;
  rk_status s = RK_STATUS_OK;
  *value = 0;
  if (rk__mgate_check(&cfg->gate, c, value, &s)) return s;
  double raw;
  if (!cfg->ep) {
    const rk__jval *v = rk__record_field(c->rec, cfg->field);
    if (!v || v->type != RK__JNUM)
      return rk__fail(c, "rm_score: no \"url\" is set, so the record must carry the score "
                      "as a number in '%s'", cfg->field);
    raw = v->u.num;
  } else {
    rk__buf text;
    rk__buf_init(&text, (size_t)64 << 20);
    int k = -1;
    s = rk__mtemplate(c, cfg->tpl, NULL, 0, &text);
    if (s == RK_STATUS_OK && !rk__spend(c, text.n + 1000)) s = RK_STATUS_TIMEOUT;
    if (s == RK_STATUS_OK) {
      rk__str t = rk__str_make(text.p ? text.p : "", text.n);
      k = rk__mscore(c, "rm_score", cfg->ep, cfg->api, &t, 1, &raw, &s);
    }
    rk__buf_release(&text);
    if (k < 0) return s;
    if (k == 0) return rk__model_pending(c);
  }
  if (!isfinite(raw)) return rk__fail(c, "rm_score: the score is not a finite number");
  *value = cfg->sigmoid ? 1.0 / (1.0 + exp(-raw)) : raw;
  rk__explain(c, cfg->sigmoid ? "reward model score %g, logistic %g" : "reward model score %g",
              raw, *value);
  return RK_STATUS_OK;
}

const rk__fn rk__fn_rm_score = {
    .name = "rm_score",
    .summary = "scalar reward model through vLLM or SGLang (args: url, server, api, "
               "template, sigmoid; offline: field)",
    .compile = compile,
    .score = score,
    .free = cfg_free,
    .calls_model = 1,
};
