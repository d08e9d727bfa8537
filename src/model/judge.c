/*
 * judge.c - fn `judge`: an LLM or VLM judge through a chat endpoint.
 *   pointwise  reward = P(yes) renormalised over yes/no variants in the
 *              first token's top logprobs (RewardDance, VLIC; no
 *              constrained decoding: a grammar masks the logprobs)
 *   pairwise   the same question "is the response better than the
 *              reference response?", optionally asked in both orders and
 *              averaged: (P(A>B) + 1 - P(B>A)) / 2
 *   rubric     weighted mean over criteria, one call per criterion
 *              (P(yes) each) or one generated call answering all ("N: yes")
 *   cot        the judge reasons, then writes a score ("Score: 7",
 *              "\boxed{7}", "7/10") or a verdict; reward = score / scale
 * Offline (no "url"): the record carries the judge's numbers instead.
 * Every response first passes the gate against judge hacking (common.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "model/common.h"

enum { M_POINT, M_PAIR, M_RUBRIC, M_COT };

typedef struct {
  rk__endpoint *ep;
  int mode;
  char *tpl, *system, *field, *rubric_field;
  char **yes, **no;
  size_t nyes, nno;
  long top_k, max_tokens;
  int images, both_orders, rubric_one, verdict, last_number;
  double temperature, scale;
  char **crit;           /* rubric from the spec */
  double *w;
  size_t ncrit;
  rk__mgate gate;
} cfg_t;

static const char *const default_tpl[] = {
    [M_POINT] = "You are a strict grader.\n\nQuestion:\n{prompt}\n\nReference answer:\n"
                "{reference}\n\nCandidate response:\n{response}\n\nIs the candidate "
                "response correct and consistent with the reference answer? Answer "
                "Yes or No.",
    [M_PAIR] = "Question:\n{prompt}\n\nResponse A:\n{response}\n\nResponse B:\n"
               "{reference}\n\nIs Response A better than Response B? Answer Yes or No.",
    [M_RUBRIC] = "Question:\n{prompt}\n\nResponse:\n{response}\n\nDoes the response "
                 "satisfy this criterion: {criterion}\nAnswer Yes or No.",
    [M_COT] = "Question:\n{prompt}\n\nReference answer:\n{reference}\n\nResponse:\n"
              "{response}\n\nEvaluate the response step by step. End with a final "
              "line 'Score: N' where N is an integer from 0 to 10.",
};
static const char *const rubric_one_tpl =
    "Question:\n{prompt}\n\nResponse:\n{response}\n\nFor each numbered criterion, "
    "write one line 'N: yes' or 'N: no' saying whether the response satisfies "
    "it.\n{rubric}";

static void cfg_free(void *p) {
  cfg_t *c = p;
  if (!c) return;
  rk__endpoint_free(c->ep);
  free(c->tpl);
  free(c->system);
  free(c->field);
  free(c->rubric_field);
  rk__strlist_free(c->yes);
  rk__strlist_free(c->no);
  for (size_t i = 0; i < c->ncrit; i++) free(c->crit[i]);
  free(c->crit);
  free(c->w);
  rk__mgate_free(&c->gate);
  free(c);
}

/* A rubric: strings, or {"criterion": s, "weight": w} objects. */
static int rubric_compile(rk__argctx *ac, cfg_t *c) {
  const rk__jval *v = rk__arg_raw(ac, "rubric");
  if (!v) return 0;
  if (v->type != RK__JARR || !v->u.arr.n)
    return rk__arg_error(ac, "rubric", "expected a non-empty array of criteria");
  size_t n = v->u.arr.n;
  c->crit = calloc(n, sizeof *c->crit);
  c->w = calloc(n, sizeof *c->w);
  if (!c->crit || !c->w) return rk__arg_error(ac, "rubric", "out of memory");
  for (size_t i = 0; i < n; i++) {
    const rk__jval *it = &v->u.arr.items[i], *t = it, *wt = NULL;
    if (it->type == RK__JOBJ) {
      t = rk__json_get(it, "criterion");
      wt = rk__json_get(it, "weight");
    }
    if (!t || t->type != RK__JSTR || !t->u.str.n || (wt && wt->type != RK__JNUM) ||
        (wt && !(wt->u.num >= 0)))
      return rk__arg_error(ac, "rubric",
                           "item %zu: expected a string or {\"criterion\": text, "
                           "\"weight\": number >= 0}", i);
    c->crit[i] = malloc(t->u.str.n + 1);
    if (!c->crit[i]) return rk__arg_error(ac, "rubric", "out of memory");
    memcpy(c->crit[i], t->u.str.p, t->u.str.n);
    c->crit[i][t->u.str.n] = '\0';
    c->w[i] = wt ? wt->u.num : 1.0;
    c->ncrit++;
  }
  return 0;
}

static int compile(rk__argctx *ac, void **out) {
  static const char *const modes[] = {"pointwise", "pairwise", "rubric", "cot", NULL};
  static const char *const calls[] = {"each", "one", NULL};
  cfg_t *c = calloc(1, sizeof *c);
  if (!c) return rk__arg_error(ac, NULL, "out of memory");
  *out = c;
  int rc = 0, one = 0;
  rc |= rk__endpoint_compile(ac, &c->ep);
  rc |= rk__arg_enum(ac, "mode", modes, M_POINT, &c->mode);
  rc |= rk__arg_enum(ac, "rubric_calls", calls, 0, &one);
  c->rubric_one = one;
  rc |= rk__arg_str(ac, "template", NULL, &c->tpl);
  rc |= rk__arg_str(ac, "system", NULL, &c->system);
  rc |= rk__arg_strlist(ac, "yes", &c->yes, &c->nyes);
  rc |= rk__arg_strlist(ac, "no", &c->no, &c->nno);
  /* TGI caps top_n_tokens at 5 by default (--max-top-n-tokens); vLLM and
   * SGLang at 20 (--max-logprobs). */
  long max_k = c->ep && c->ep->kind == RK__SRV_TGI ? 5 : 20;
  rc |= rk__arg_int(ac, "top_k", max_k, 1, 100, &c->top_k);
  rc |= rk__arg_bool(ac, "images", 1, &c->images);
  rc |= rk__arg_bool(ac, "both_orders", 0, &c->both_orders);
  rc |= rk__arg_int(ac, "max_tokens", 1024, 1, 1 << 20, &c->max_tokens);
  rc |= rk__arg_num_range(ac, "temperature", 0, 0, 10, &c->temperature);
  rc |= rk__arg_num(ac, "scale", NAN, &c->scale);
  rc |= rk__arg_bool(ac, "verdict", 0, &c->verdict);
  rc |= rk__arg_bool(ac, "last_number", 0, &c->last_number);
  rc |= rk__arg_str(ac, "rubric_field", NULL, &c->rubric_field);
  rc |= rubric_compile(ac, c);
  rc |= rk__mgate_compile(ac, &c->gate);
  const char *deff = c->mode == M_COT || (c->mode == M_RUBRIC && c->rubric_one)
                         ? "judge_text" : "judge_top_logprobs";
  rc |= rk__arg_str(ac, "field", deff, &c->field);
  if (rc) return -1;
  if (!c->nyes) {
    rk__strlist_free(c->yes);
    c->yes = calloc(2, sizeof *c->yes);
    if (!c->yes || !(c->yes[0] = malloc(4))) return rk__arg_error(ac, NULL, "out of memory");
    memcpy(c->yes[0], "yes", 4);
  }
  if (!c->nno) {
    rk__strlist_free(c->no);
    c->no = calloc(2, sizeof *c->no);
    if (!c->no || !(c->no[0] = malloc(3))) return rk__arg_error(ac, NULL, "out of memory");
    memcpy(c->no[0], "no", 3);
  }
  for (size_t i = 0; i < c->nyes; i++)
    for (char *p = c->yes[i]; *p; p++) *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
  for (size_t i = 0; i < c->nno; i++)
    for (char *p = c->no[i]; *p; p++) *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
  if (c->mode == M_RUBRIC && !c->ncrit && !c->rubric_field)
    return rk__arg_error(ac, "rubric", "mode rubric needs \"rubric\" (a list of criteria) "
                         "or \"rubric_field\" (where each record carries its own)");
  if (c->mode == M_COT && c->verdict && !isnan(c->scale))
    return rk__arg_error(ac, "scale", "not used with verdict: true (a verdict is 1 or 0)");
  if (isnan(c->scale)) c->scale = 10;
  if (!(c->scale > 0)) return rk__arg_error(ac, "scale", "must be > 0");
  if (!c->tpl) {
    const char *d = c->mode == M_RUBRIC && c->rubric_one ? rubric_one_tpl : default_tpl[c->mode];
    c->tpl = malloc(strlen(d) + 1);
    if (!c->tpl) return rk__arg_error(ac, NULL, "out of memory");
    memcpy(c->tpl, d, strlen(d) + 1);
  }
  static const char *const extra[] = {"criterion", "rubric", NULL};
  if (rk__mtemplate_check(ac, "template", c->tpl, extra)) return -1;
  if (c->ep) {
    int gen = c->mode == M_COT || (c->mode == M_RUBRIC && c->rubric_one);
    const char *why = rk__wire_unsupported(c->ep->kind, gen ? RK__NEED_GEN : RK__NEED_TOP,
                                           c->images, NULL);
    if (why) return rk__arg_error(ac, "server", "%s", why);
  }
  return 0;
}

/* ----------------------------------------------------------- one call */

typedef struct ask {
  const cfg_t *cfg;
  rk__call *c;
  rk__str images[RK__MAX_IMAGES];
  size_t nimages;
  int pending;             /* a request was queued: rescore later */
} ask;

/* Renders the prompt and builds the messages. */
static rk_status render(ask *a, const rk__mvar *vars, size_t nv, rk__msg *m, size_t *nm,
                        rk__buf *text) {
  const cfg_t *cfg = a->cfg;
  rk_status s = rk__mtemplate(a->c, cfg->tpl, vars, nv, text);
  if (s != RK_STATUS_OK) return s;
  *nm = 0;
  if (cfg->system) m[(*nm)++] = (rk__msg){"system", rk__str_make(cfg->system, strlen(cfg->system)), NULL, 0};
  m[(*nm)++] = (rk__msg){"user", rk__str_make(text->p ? text->p : "", text->n),
                         a->images, a->nimages};
  return RK_STATUS_OK;
}

/* P(yes) for one rendering of the template: 1 and *p when known, 0 with
 * *s otherwise (pending is recorded in a->pending and *s stays OK). */
static int ask_top(ask *a, const rk__mvar *vars, size_t nv, double *p, rk_status *s) {
  const cfg_t *cfg = a->cfg;
  rk__call *c = a->c;
  rk__buf text;
  rk__buf_init(&text, (size_t)64 << 20);
  rk__msg m[2];
  size_t nm = 0, nt = 0;
  rk__toplp *top = NULL;
  rk__str sampled = {0};
  *s = render(a, vars, nv, m, &nm, &text);
  int k = *s == RK_STATUS_OK ? rk__mtop_call(c, "judge", cfg->ep, m, nm, (int)cfg->top_k,
                                             &top, &nt, &sampled, s)
                             : -1;
  rk__buf_release(&text);
  if (k == 0) a->pending = 1;
  if (k != 1) return 0;
  double my, mn;
  int ok = rk__pyes(top, nt, (const char *const *)cfg->yes, (const char *const *)cfg->no, p, &my,
                &mn) == 0;
  if (!ok) {
    *s = RK_STATUS_UNPARSEABLE;
    rk__explain(c, "judge answered '%.*s': no yes/no variant among its top-%zu alternatives",
                (int)(sampled.n > 40 ? 40 : sampled.n), sampled.p ? sampled.p : "", nt);
  }
  return ok;
}

/* Generated text for one rendering. Same conventions as ask_top. */
static int ask_gen(ask *a, const rk__mvar *vars, size_t nv, rk__str *out, rk_status *s) {
  const cfg_t *cfg = a->cfg;
  rk__buf text;
  rk__buf_init(&text, (size_t)64 << 20);
  rk__msg m[2];
  size_t nm = 0;
  rk__gen_opts o = {cfg->max_tokens, cfg->temperature, 1.0, -1};
  *s = render(a, vars, nv, m, &nm, &text);
  int k = *s == RK_STATUS_OK ? rk__mgen(a->c, "judge", cfg->ep, m, nm, &o, out, s) : -1;
  rk__buf_release(&text);
  if (k == 0) a->pending = 1;
  return k == 1;
}

/* ---------------------------------------------------------- verdicts */

/* Score from generated text: verdict (1/0) or score / scale in [0, 1]. */
static rk_status from_text(const cfg_t *cfg, rk__call *c, rk__str t, double *value) {
  if (cfg->verdict) {
    int v = rk__parse_verdict(t);
    if (v < 0) {
      rk__explain(c, "judge wrote no verdict (yes/no, true/false, correct/incorrect)");
      *value = 0;
      return RK_STATUS_UNPARSEABLE;
    }
    *value = v;
    rk__explain(c, "judge verdict: %s", v ? "positive" : "negative");
    return RK_STATUS_OK;
  }
  double sc, of;
  if (rk__parse_judge_score(t, cfg->last_number, &sc, &of)) {
    rk__explain(c, "judge wrote no score (Score: N, \\boxed{N}, [[N]], N/M)");
    *value = 0;
    return RK_STATUS_UNPARSEABLE;
  }
  double scale = !isnan(of) && of > 0 ? of : cfg->scale;
  double v = sc / scale;
  *value = v < 0 ? 0 : v > 1 ? 1 : v;
  rk__explain(c, "judge score %g / %g -> %g", sc, scale, *value);
  return RK_STATUS_OK;
}

/* "N: yes" lines of a one-call rubric; -1 where an item has no line. */
static void rubric_lines(rk__str t, int *v, size_t n) {
  for (size_t i = 0; i < n; i++) v[i] = -1;
  size_t i = 0;
  while (i < t.n) {
    size_t e = i;
    while (e < t.n && t.p[e] != '\n') e++;
    size_t j = i;
    while (j < e && (t.p[j] == ' ' || t.p[j] == '*' || t.p[j] == '-')) j++;
    size_t k = 0, d = 0;
    while (j < e && t.p[j] >= '0' && t.p[j] <= '9' && d < 6) k = k * 10 + (size_t)(t.p[j++] - '0'), d++;
    if (d && j < e && (t.p[j] == ':' || t.p[j] == '.' || t.p[j] == ')') && k >= 1 && k <= n)
      v[k - 1] = rk__parse_verdict(rk__str_make(t.p + j + 1, e - j - 1));
    i = e + 1;
  }
}

/* ------------------------------------------------------------- score */

static rk_status score_offline(const cfg_t *cfg, rk__call *c, double *value) {
  const rk__jval *f = rk__record_field(c->rec, cfg->field);
  if (!f)
    return rk__fail(c, "judge: no \"url\" is set, so the record must carry the judge's "
                    "output in '%s', and it does not", cfg->field);
  if (cfg->mode == M_COT || (cfg->mode == M_RUBRIC && cfg->rubric_one)) {
    if (f->type != RK__JSTR) return rk__fail(c, "judge: '%s' must be a string", cfg->field);
    if (cfg->mode == M_COT) return from_text(cfg, c, f->u.str, value);
  }
  if (cfg->mode == M_RUBRIC && !cfg->rubric_one) {
    if (f->type != RK__JARR || f->u.arr.n != cfg->ncrit || !cfg->ncrit)
      return rk__fail(c, "judge: '%s' must be an array of %zu top-logprob lists, one per "
                      "criterion", cfg->field, cfg->ncrit);
    double sw = 0, acc = 0;
    for (size_t i = 0; i < cfg->ncrit; i++) {
      rk__toplp *top;
      size_t nt;
      double p;
      if (rk__mtop(c, &f->u.arr.items[i], &top, &nt))
        return rk__fail(c, "judge: '%s'[%zu] is not a top-logprob list", cfg->field, i);
      if (rk__pyes(top, nt, (const char *const *)cfg->yes, (const char *const *)cfg->no, &p,
                   NULL, NULL))
        p = 0;
      acc += cfg->w[i] * p;
      sw += cfg->w[i];
    }
    *value = sw > 0 ? acc / sw : 0;
    rk__explain(c, "rubric (offline): weighted P(yes) %g", *value);
    return RK_STATUS_OK;
  }
  if (cfg->mode == M_RUBRIC) { /* one call, text carried */
    int v[256];
    size_t n = cfg->ncrit < 256 ? cfg->ncrit : 256;
    rubric_lines(f->u.str, v, n);
    double sw = 0, acc = 0;
    for (size_t i = 0; i < n; i++) {
      acc += cfg->w[i] * (v[i] > 0);
      sw += cfg->w[i];
    }
    *value = sw > 0 ? acc / sw : 0;
    return RK_STATUS_OK;
  }
  rk__toplp *top;
  size_t nt;
  if (rk__mtop(c, f, &top, &nt))
    return rk__fail(c, "judge: '%s' must be [{\"token\", \"logprob\"}, ...] or "
                    "{token: logprob}", cfg->field);
  double my, mn;
  if (rk__pyes(top, nt, (const char *const *)cfg->yes, (const char *const *)cfg->no, value,
               &my, &mn)) {
    *value = 0;
    rk__explain(c, "no yes/no variant among the %zu alternatives", nt);
    return RK_STATUS_UNPARSEABLE;
  }
  rk__explain(c, "P(yes) = %g (yes mass %g, no mass %g)", *value, my, mn);
  return RK_STATUS_OK;
}

/* Criteria of this record: the spec's, or the record's rubric_field. */
static size_t record_rubric(const cfg_t *cfg, rk__call *c, rk__str *crit, double *w,
                            size_t max, rk_status *s) {
  *s = RK_STATUS_OK;
  if (!cfg->rubric_field) {
    size_t n = cfg->ncrit < max ? cfg->ncrit : max;
    for (size_t i = 0; i < n; i++) {
      crit[i] = rk__str_make(cfg->crit[i], strlen(cfg->crit[i]));
      w[i] = cfg->w[i];
    }
    return n;
  }
  const rk__jval *v = rk__record_field(c->rec, cfg->rubric_field);
  if (!v || v->type != RK__JARR || !v->u.arr.n) {
    *s = RK_STATUS_INVALID_REFERENCE;
    rk__explain(c, "rubric field '%s' missing or empty", cfg->rubric_field);
    return 0;
  }
  size_t n = 0;
  for (size_t i = 0; i < v->u.arr.n && n < max; i++) {
    const rk__jval *it = &v->u.arr.items[i], *t = it, *wt = NULL;
    if (it->type == RK__JOBJ) {
      t = rk__json_get(it, "criterion");
      wt = rk__json_get(it, "weight");
    }
    if (!t || t->type != RK__JSTR) continue;
    crit[n] = t->u.str;
    w[n++] = wt && wt->type == RK__JNUM && wt->u.num >= 0 ? wt->u.num : 1.0;
  }
  return n;
}

static rk_status score(const void *cfgp, rk__call *c, double *value) {
  const cfg_t *cfg = cfgp;
  rk_status s = RK_STATUS_OK;
  *value = 0;
  if (rk__mgate_check(&cfg->gate, c, value, &s)) return s;
  if (!cfg->ep) return score_offline(cfg, c, value);

  ask a = {.cfg = cfg, .c = c};
  if (cfg->images) a.nimages = rk__mimages(c, a.images, RK__MAX_IMAGES);
  if (!rk__spend(c, c->rec->response.n + 1000)) return RK_STATUS_TIMEOUT;

  if (cfg->mode == M_POINT || cfg->mode == M_PAIR) {
    double p1 = NAN, p2 = NAN;
    int ok1 = ask_top(&a, NULL, 0, &p1, &s);
    if (s != RK_STATUS_OK) return s;
    if (cfg->mode == M_PAIR && cfg->both_orders) {
      rk__str ref = rk__mreference(c);
      if (!ref.p) return RK_STATUS_INVALID_REFERENCE;
      rk__mvar sw[2] = {{"response", ref}, {"reference", c->rec->response}};
      ask_top(&a, sw, 2, &p2, &s);
      if (s != RK_STATUS_OK) return s;
    }
    if (a.pending) return rk__model_pending(c);
    if (!ok1) return RK_STATUS_UNPARSEABLE;
    if (cfg->mode == M_PAIR && cfg->both_orders) {
      *value = 0.5 * (p1 + (1 - p2));
      rk__explain(c, "P(response better) = %g as A, %g as B -> %g", p1, 1 - p2, *value);
    } else {
      *value = p1;
      rk__explain(c, "P(yes) = %g", p1);
    }
    return RK_STATUS_OK;
  }

  if (cfg->mode == M_COT) {
    rk__str t = {0};
    int ok = ask_gen(&a, NULL, 0, &t, &s);
    if (s != RK_STATUS_OK) return s;
    if (a.pending) return rk__model_pending(c);
    if (!ok) return rk__fail(c, "judge: no reply");
    return from_text(cfg, c, t, value);
  }

  /* rubric */
  rk__str crit[256];
  double w[256];
  size_t n = record_rubric(cfg, c, crit, w, 256, &s);
  if (s != RK_STATUS_OK) return s;
  if (!n) return RK_STATUS_INVALID_REFERENCE;
  double sw = 0, acc = 0;
  if (cfg->rubric_one) {
    rk__buf list;
    rk__buf_init(&list, (size_t)16 << 20);
    for (size_t i = 0; i < n; i++) rk__buf_printf(&list, "%zu. %.*s\n", i + 1, (int)crit[i].n, crit[i].p);
    rk__mvar v = {"rubric", rk__str_make(list.p ? list.p : "", list.n)};
    rk__str t = {0};
    int ok = ask_gen(&a, &v, 1, &t, &s);
    rk__buf_release(&list);
    if (s != RK_STATUS_OK) return s;
    if (a.pending) return rk__model_pending(c);
    if (!ok) return rk__fail(c, "judge: no reply");
    int vv[256];
    rubric_lines(t, vv, n);
    size_t missing = 0;
    for (size_t i = 0; i < n; i++) {
      acc += w[i] * (vv[i] > 0);
      sw += w[i];
      missing += vv[i] < 0;
    }
    *value = sw > 0 ? acc / sw : 0;
    rk__explain(c, "rubric of %zu criteria in one call: %g (%zu without a line)", n, *value,
                missing);
    return RK_STATUS_OK;
  }
  double ps[256];
  int oks[256];
  for (size_t i = 0; i < n; i++) {
    rk__mvar v = {"criterion", crit[i]};
    oks[i] = ask_top(&a, &v, 1, &ps[i], &s);
    if (s != RK_STATUS_OK) return s;
  }
  if (a.pending) return rk__model_pending(c);
  for (size_t i = 0; i < n; i++) {
    acc += w[i] * (oks[i] ? ps[i] : 0);
    sw += w[i];
  }
  *value = sw > 0 ? acc / sw : 0;
  rk__explain(c, "rubric of %zu criteria: weighted P(yes) %g", n, *value);
  return RK_STATUS_OK;
}

const rk__fn rk__fn_judge = {
    .name = "judge",
    .summary = "LLM/VLM judge: P(yes), pairwise, rubric or CoT score (args: url, server, "
               "model, mode, template; offline: field)",
    .compile = compile,
    .score = score,
    .free = cfg_free,
    .calls_model = 1,
};
