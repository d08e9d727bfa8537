/*
 * record.c - from a parsed JSON object to an rk__record (DESIGN §2 field
 * names and their aliases), field lookup by dotted path, and the helpers
 * reward functions use to report (rk__explain, rk__fail).
 */
#include <stdlib.h>
#include <string.h>

#include "core/record.h"
#include "json/json.h"

enum { F_RESPONSE, F_REFERENCE, F_TASK, F_PROMPT, F_GROUP, F_ID, F_IMAGES, F_N };

/* Canonical names first: a canonical field beats any alias, whatever the
 * order of the keys in the line. */
#define A(k, f, r) {k, sizeof(k) - 1, f, r}
static const struct {
  const char *key;
  size_t len;
  int field, rank;
} aliases[] = {
    A("response", F_RESPONSE, 0),     A("solution_str", F_RESPONSE, 1),
    A("completion", F_RESPONSE, 2),   A("reference", F_REFERENCE, 0),
    A("ground_truth", F_REFERENCE, 1), A("label", F_REFERENCE, 2),
    A("answer", F_REFERENCE, 3),      A("solution", F_REFERENCE, 4),
    A("task", F_TASK, 0),             A("data_source", F_TASK, 1),
    A("prompt", F_PROMPT, 0),         A("query", F_PROMPT, 1),
    A("group", F_GROUP, 0),           A("uid", F_GROUP, 1),
    A("prompt_id", F_GROUP, 2),       A("id", F_ID, 0),
    A("images", F_IMAGES, 0),
};
#undef A

/* A chat-style response ([{"role": "assistant", "content": "..."}], as TRL
 * passes conversational completions): the last message with string
 * content. */
static const rk__jval *chat_content(const rk__jval *v) {
  if (v->type != RK__JARR) return NULL;
  for (size_t i = v->u.arr.n; i-- > 0;) {
    const rk__jval *m = &v->u.arr.items[i];
    if (m->type != RK__JOBJ) continue;
    const rk__jval *c = rk__json_get(m, "content");
    if (c && c->type == RK__JSTR) return c;
  }
  return NULL;
}

void rk__record_build(const rk__jval *root, uint64_t line, rk__record *r) {
  const rk__jval *found[F_N] = {0};
  int rank[F_N];
  for (int i = 0; i < F_N; i++) rank[i] = 99;
  memset(r, 0, sizeof *r);
  r->root = root;
  r->line = line;
  for (size_t i = 0; i < root->u.obj.n; i++) {
    const rk__jmember *m = &root->u.obj.items[i];
    if (m->key.n > 12 || m->key.n < 2) continue;
    for (size_t j = 0; j < sizeof aliases / sizeof aliases[0]; j++) {
      if (m->key.n != aliases[j].len || m->key.p[0] != aliases[j].key[0] ||
          memcmp(m->key.p, aliases[j].key, m->key.n) != 0)
        continue;
      int f = aliases[j].field;
      if (aliases[j].rank <= rank[f]) {
        rank[f] = aliases[j].rank;
        found[f] = &m->val;
      }
      break;
    }
  }
  /* verl's parquet layout keeps the gold answer in reward_model.ground_truth. */
  if (!found[F_REFERENCE]) {
    const rk__jval *rm = rk__json_get(root, "reward_model");
    if (rm && rm->type == RK__JOBJ) found[F_REFERENCE] = rk__json_get(rm, "ground_truth");
  }
  const rk__jval *resp = found[F_RESPONSE];
  if (resp && resp->type != RK__JSTR) resp = chat_content(resp);
  if (resp && resp->type == RK__JSTR) {
    r->response = resp->u.str;
    r->has_response = 1;
  }
  if (found[F_TASK] && found[F_TASK]->type == RK__JSTR) {
    r->task = found[F_TASK]->u.str;
    r->has_task = 1;
  }
  r->reference = found[F_REFERENCE];
  r->prompt = found[F_PROMPT];
  r->group = found[F_GROUP];
  r->id = found[F_ID];
  r->images = found[F_IMAGES];
}

size_t rk__record_refs(const rk__call *c, rk__str *out, size_t max, int *had_any) {
  const rk__jval *ref = c->rec ? c->rec->reference : NULL;
  *had_any = ref != NULL && ref->type != RK__JNULL;
  return rk__ref_strings(ref, out, max);
}

const rk__jval *rk__record_field(const rk__record *r, const char *path) {
  return rk__json_path(r->root, path);
}

void rk__explain(rk__call *c, const char *fmt, ...) {
  if (!c->explain) return;
  if (c->explain->n) rk__buf_put(c->explain, "; ", 2);
  va_list ap;
  va_start(ap, fmt);
  rk__buf_vprintf(c->explain, fmt, ap);
  va_end(ap);
}

rk_status rk__fail(rk__call *c, const char *fmt, ...) {
  if (c->error && c->error->n == 0) {
    va_list ap;
    va_start(ap, fmt);
    rk__buf_vprintf(c->error, fmt, ap);
    va_end(ap);
  }
  return RK_STATUS_ERROR;
}
