/*
 * qa_from_text.c - fn `qa_from_text` (CapRL): a text-only LLM answers
 * multiple-choice questions about the image from the response (a caption)
 * alone; reward = fraction answered correctly.
 *
 * Per question: options other than the "cannot answer" one are shuffled
 * (seeded, so every response to the same prompt sees the same order),
 * relabelled A.., and "cannot answer" is appended last; the first capital
 * letter of the reply is the answer. `sample` > 0 draws that many questions
 * with replacement (CapRL: 8); 0 asks each question once.
 * Questions come from the record (default field "questions"):
 *   [{"question": "...", "options": ["..", ..], "answer": "B" | 1 | "text"}]
 * Offline (no "url"): the record carries the letters the reader answered
 * (default field "qa_answers", one per question, options unshuffled).
 */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "model/common.h"

#define MAX_OPTS 8  /* + "cannot answer" = 9 letters, A..I */

typedef struct {
  rk__endpoint *ep;
  char *qfield, *afield, *tpl, *cannot;
  long sample, max_tokens, seed;
  int shuffle;
  double temperature;
  rk__mgate gate;
} cfg_t;

static const char *const default_tpl =
    "Answer the multiple-choice question using only the image caption below. "
    "Reply with the letter of the answer only.\n\nCaption: {response}\n\n"
    "Question: {question}\n{options}\nAnswer:";

static void cfg_free(void *p) {
  cfg_t *c = p;
  if (!c) return;
  rk__endpoint_free(c->ep);
  free(c->qfield);
  free(c->afield);
  free(c->tpl);
  free(c->cannot);
  rk__mgate_free(&c->gate);
  free(c);
}

static int compile(rk__argctx *ac, void **out) {
  cfg_t *c = calloc(1, sizeof *c);
  if (!c) return rk__arg_error(ac, NULL, "out of memory");
  *out = c;
  int rc = 0;
  rc |= rk__endpoint_compile(ac, &c->ep);
  rc |= rk__arg_str(ac, "questions_field", "questions", &c->qfield);
  rc |= rk__arg_str(ac, "field", "qa_answers", &c->afield);
  rc |= rk__arg_str(ac, "template", default_tpl, &c->tpl);
  rc |= rk__arg_str(ac, "cannot_answer", "Can not answer based on the caption", &c->cannot);
  rc |= rk__arg_int(ac, "sample", 0, 0, 256, &c->sample);
  rc |= rk__arg_int(ac, "max_tokens", 10, 1, 4096, &c->max_tokens);
  rc |= rk__arg_int(ac, "seed", 0, 0, 1L << 40, &c->seed);
  rc |= rk__arg_bool(ac, "shuffle", 1, &c->shuffle);
  rc |= rk__arg_num_range(ac, "temperature", 0, 0, 10, &c->temperature);
  rc |= rk__mgate_compile(ac, &c->gate);
  if (rc) return -1;
  static const char *const extra[] = {"question", "options", NULL};
  if (rk__mtemplate_check(ac, "template", c->tpl, extra)) return -1;
  if (c->ep) {
    const char *why = rk__wire_unsupported(c->ep->kind, RK__NEED_GEN, 0, NULL);
    if (why) return rk__arg_error(ac, "server", "%s", why);
  }
  return 0;
}

typedef struct question {
  rk__str text;
  rk__str opt[MAX_OPTS];
  size_t nopt;
  size_t gold;             /* index into opt */
} question;

/* Reads question i; 0 or -1 (explained). */
static int read_question(const cfg_t *cfg, rk__call *c, const rk__jval *q, size_t i,
                         question *out) {
  const rk__jval *t = q->type == RK__JOBJ ? rk__json_get(q, "question") : NULL;
  const rk__jval *o = q->type == RK__JOBJ ? rk__json_get(q, "options") : NULL;
  const rk__jval *a = q->type == RK__JOBJ ? rk__json_get(q, "answer") : NULL;
  if (!t || t->type != RK__JSTR || !o || o->type != RK__JARR || !a) {
    rk__explain(c, "question %zu needs \"question\", \"options\" and \"answer\"", i);
    return -1;
  }
  out->text = t->u.str;
  out->nopt = 0;
  size_t gold = (size_t)-1;
  for (size_t k = 0; k < o->u.arr.n; k++) {
    const rk__jval *e = &o->u.arr.items[k];
    if (e->type != RK__JSTR) continue;
    /* The "cannot answer" option is dropped here and appended last. */
    if (rk__str_eq_cstr(e->u.str, cfg->cannot)) continue;
    if (out->nopt == MAX_OPTS) {
      rk__explain(c, "question %zu has more than %d options", i, MAX_OPTS);
      return -1;
    }
    if (a->type == RK__JSTR && a->u.str.n == 1 && a->u.str.p[0] == (char)('A' + k)) gold = out->nopt;
    if (a->type == RK__JNUM && a->u.num == (double)k) gold = out->nopt;
    if (a->type == RK__JSTR && a->u.str.n > 1 && rk__str_eq(a->u.str, e->u.str)) gold = out->nopt;
    out->opt[out->nopt++] = e->u.str;
  }
  if (gold == (size_t)-1) {
    rk__explain(c, "question %zu: its answer is not one of its options", i);
    return -1;
  }
  out->gold = gold;
  return 0;
}

static rk_status score(const void *cfgp, rk__call *c, double *value) {
  const cfg_t *cfg = cfgp;
  rk_status s = RK_STATUS_OK;
  *value = 0;
  if (rk__mgate_check(&cfg->gate, c, value, &s)) return s;
  const rk__jval *qs = rk__record_field(c->rec, cfg->qfield);
  if (!qs || qs->type != RK__JARR || !qs->u.arr.n) {
    rk__explain(c, "no questions in '%s'", cfg->qfield);
    return RK_STATUS_INVALID_REFERENCE;
  }
  size_t nq = qs->u.arr.n;
  if (!cfg->ep) {
    const rk__jval *ans = rk__record_field(c->rec, cfg->afield);
    if (!ans || ans->type != RK__JARR || ans->u.arr.n != nq)
      return rk__fail(c, "qa_from_text: no \"url\" is set, so the record must carry one "
                      "answer letter per question in '%s'", cfg->afield);
    size_t ok = 0;
    for (size_t i = 0; i < nq; i++) {
      question q;
      if (read_question(cfg, c, &qs->u.arr.items[i], i, &q)) return RK_STATUS_INVALID_REFERENCE;
      const rk__jval *a = &ans->u.arr.items[i];
      char l = a->type == RK__JSTR ? rk__parse_choice_letter(a->u.str, 'I') : 0;
      ok += l == (char)('A' + q.gold);
    }
    *value = (double)ok / (double)nq;
    rk__explain(c, "%zu of %zu questions answered correctly", ok, nq);
    return RK_STATUS_OK;
  }

  size_t m = cfg->sample ? (size_t)cfg->sample : nq;
  rk__str prompt = rk__mprompt(c);
  uint64_t state = rk__hash64(prompt.p ? prompt.p : "", prompt.n, (uint64_t)cfg->seed);
  state = rk__hash64(qs->raw.p, qs->raw.n, state);
  if (!rk__spend(c, m * (c->rec->response.n + 500))) return RK_STATUS_TIMEOUT;
  size_t ok = 0;
  int pending = 0;
  rk__buf text, opts;
  rk__buf_init(&text, (size_t)64 << 20);
  rk__buf_init(&opts, (size_t)1 << 20);
  for (size_t j = 0; j < m && s == RK_STATUS_OK; j++) {
    size_t qi = cfg->sample ? (size_t)(rk__splitmix64(&state) % nq) : j;
    question q;
    if (read_question(cfg, c, &qs->u.arr.items[qi], qi, &q)) {
      s = RK_STATUS_INVALID_REFERENCE;
      break;
    }
    size_t perm[MAX_OPTS];
    for (size_t k = 0; k < q.nopt; k++) perm[k] = k;
    if (cfg->shuffle) rk__shuffle(perm, q.nopt, &state);
    char gold = 0;
    rk__buf_reset(&opts);
    for (size_t k = 0; k < q.nopt; k++) {
      rk__buf_printf(&opts, "%c) %.*s\n", 'A' + (int)k, (int)q.opt[perm[k]].n, q.opt[perm[k]].p);
      if (perm[k] == q.gold) gold = (char)('A' + k);
    }
    char last = (char)('A' + q.nopt);
    rk__buf_printf(&opts, "%c) %s", last, cfg->cannot);
    rk__mvar vars[2] = {{"question", q.text}, {"options", rk__str_make(opts.p, opts.n)}};
    rk__buf_reset(&text);
    s = rk__mtemplate(c, cfg->tpl, vars, 2, &text);
    if (s != RK_STATUS_OK) break;
    rk__msg msg = {"user", rk__str_make(text.p, text.n), NULL, 0};
    rk__gen_opts go = {cfg->max_tokens, cfg->temperature, 1.0, -1};
    rk__str reply;
    int k = rk__mgen(c, "qa_from_text", cfg->ep, &msg, 1, &go, &reply, &s);
    if (k < 0) break;
    if (k == 0) {
      pending = 1;
      continue;
    }
    char l = rk__parse_choice_letter(reply, last);
    ok += l && l == gold;
  }
  rk__buf_release(&text);
  rk__buf_release(&opts);
  if (s != RK_STATUS_OK) return s;
  if (pending) return rk__model_pending(c);
  *value = (double)ok / (double)m;
  rk__explain(c, "%zu of %zu questions answered correctly from the caption", ok, m);
  return RK_STATUS_OK;
}

const rk__fn rk__fn_qa_from_text = {
    .name = "qa_from_text",
    .summary = "CapRL: a text-only LLM answers the record's multiple-choice questions from "
               "the caption; reward = fraction correct (args: url, server, sample)",
    .compile = compile,
    .score = score,
    .free = cfg_free,
    .calls_model = 1,
};
