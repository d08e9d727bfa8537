/*
 * prompt_echo.c - fn `prompt_echo` (PromptEcho): how well a frozen VLM,
 * shown the generated image and a guiding query ("Describe this image in
 * detail."), reproduces the original prompt: the mean (default) or sum of
 * the prompt tokens' logprobs under teacher forcing, i.e. minus the
 * cross-entropy. Only the prompt's tokens count, not the query or the
 * template. Server: vLLM chat with prompt logprobs (the image needs the
 * chat template). Offline (no "url"): the record carries the logprobs.
 * The response is not read (the image is the output being scored).
 */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "model/common.h"

typedef struct {
  rk__endpoint *ep;
  rk__lp_mode mode;
  double floor;
  char *query, *field;
} cfg_t;

static void cfg_free(void *p) {
  cfg_t *c = p;
  if (!c) return;
  rk__endpoint_free(c->ep);
  free(c->query);
  free(c->field);
  free(c);
}

static int compile(rk__argctx *ac, void **out) {
  cfg_t *c = calloc(1, sizeof *c);
  if (!c) return rk__arg_error(ac, NULL, "out of memory");
  *out = c;
  int rc = 0;
  rc |= rk__endpoint_compile(ac, &c->ep);
  rc |= rk__mlp_mode_compile(ac, "aggregate", RK__LP_MEAN_LOG, &c->mode);
  rc |= rk__arg_num(ac, "floor", -100, &c->floor);
  rc |= rk__arg_str(ac, "query", "Describe this image in detail.", &c->query);
  rc |= rk__arg_str(ac, "field", "prompt_token_logprobs", &c->field);
  if (rc) return -1;
  if (c->ep && c->ep->kind != RK__SRV_VLLM)
    return rk__arg_error(ac, "server", "prompt_echo needs server vllm: it scores the "
                         "prompt as the assistant's turn after an image, which needs the "
                         "server's chat template with prompt logprobs");
  return 0;
}

static rk_status score(const void *cfgp, rk__call *c, double *value) {
  const cfg_t *cfg = cfgp;
  double *lp = NULL;
  size_t n = 0;
  rk_status s = RK_STATUS_OK;
  *value = 0;
  if (!cfg->ep) {
    if (rk__mnums(c, rk__record_field(c->rec, cfg->field), &lp, &n))
      return rk__fail(c, "prompt_echo: no \"url\" is set, so the record must carry the "
                      "prompt's token logprobs in '%s'", cfg->field);
  } else {
    rk__str prompt = rk__mprompt(c);
    if (!prompt.n) return rk__fail(c, "prompt_echo: the record has no prompt text");
    rk__str images[RK__MAX_IMAGES];
    size_t ni = rk__mimages(c, images, RK__MAX_IMAGES);
    if (!ni) return rk__fail(c, "prompt_echo: the record has no image to describe");
    if (!rk__spend(c, prompt.n + 1000)) return RK_STATUS_TIMEOUT;
    rk__msg m[2] = {{"user", rk__str_make(cfg->query, strlen(cfg->query)), images, ni},
                    {"assistant", prompt, NULL, 0}};
    rk__lp_query q = {.chat = 1, .msgs = m, .nmsgs = 2, .span = prompt};
    int k = rk__mspan_lp(c, "prompt_echo", cfg->ep, &q, &lp, &n, &s);
    if (k < 0) return s;
    if (k == 0) return rk__model_pending(c);
  }
  *value = rk__lp_aggregate(lp, n, cfg->mode, cfg->floor);
  rk__explain(c, "%s of %zu prompt tokens = %g", rk__mlp_mode_names[cfg->mode], n, *value);
  return n ? RK_STATUS_OK : RK_STATUS_UNPARSEABLE;
}

const rk__fn rk__fn_prompt_echo = {
    .name = "prompt_echo",
    .summary = "PromptEcho: mean log-likelihood of the prompt given the generated image "
               "(args: url, query, aggregate; offline: field)",
    .compile = compile,
    .score = score,
    .free = cfg_free,
    .no_response = 1,
    .calls_model = 1,
};
