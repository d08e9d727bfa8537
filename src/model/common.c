/*
 * common.c - shared pieces of the model rewards: templates, prompt text,
 * images, numbers carried by records, the judge gate's arguments, and the
 * one way to turn a server reply (or its absence) into a status.
 */
#include "model/common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

static const char *const builtin_vars[] = {"prompt", "response", "reference", NULL};

static int var_known(const char *p, size_t n, const char *const *extra) {
  for (int i = 0; builtin_vars[i]; i++)
    if (strlen(builtin_vars[i]) == n && memcmp(builtin_vars[i], p, n) == 0) return 1;
  for (int i = 0; extra && extra[i]; i++)
    if (strlen(extra[i]) == n && memcmp(extra[i], p, n) == 0) return 1;
  return 0;
}

int rk__mtemplate_check(rk__argctx *ac, const char *key, const char *tpl,
                        const char *const *extra) {
  for (const char *p = tpl; *p; p++) {
    if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
      p++;
      continue;
    }
    if (*p != '{') continue;
    const char *e = strchr(p, '}');
    if (!e || !var_known(p + 1, (size_t)(e - p - 1), extra))
      return rk__arg_error(ac, key,
                           "unknown placeholder '%.*s' (use {prompt}, {response}, "
                           "{reference}%s; write {{ and }} for literal braces)",
                           e ? (int)(e - p + 1) : 12, p,
                           extra && extra[0] ? " or this reward's own" : "");
    p = e;
  }
  return 0;
}

rk_status rk__mtemplate(rk__call *c, const char *tpl, const rk__mvar *vars,
                        size_t nvars, rk__buf *out) {
  for (const char *p = tpl; *p; p++) {
    if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
      rk__buf_putc(out, *p++);
      continue;
    }
    if (*p != '{') {
      rk__buf_putc(out, *p);
      continue;
    }
    const char *e = strchr(p, '}');
    if (!e) return rk__fail(c, "template: unclosed '{'");
    const char *name = p + 1;
    size_t n = (size_t)(e - name);
    int done = 0;
    for (size_t i = 0; i < nvars && !done; i++)
      if (strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0) {
        rk__buf_put(out, vars[i].val.p, vars[i].val.n);
        done = 1;
      }
    if (!done) {
      if (n == 6 && memcmp(name, "prompt", 6) == 0) {
        rk__str s = rk__mprompt(c);
        rk__buf_put(out, s.p, s.n);
      } else if (n == 8 && memcmp(name, "response", 8) == 0) {
        rk__buf_put(out, c->rec->response.p, c->rec->response.n);
      } else if (n == 9 && memcmp(name, "reference", 9) == 0) {
        rk__str s = rk__mreference(c);
        if (!s.p) return RK_STATUS_INVALID_REFERENCE;
        rk__buf_put(out, s.p, s.n);
      } else {
        return rk__fail(c, "template: unknown placeholder {%.*s}", (int)n, name);
      }
    }
    p = e;
  }
  if (out->oom) return rk__fail(c, "template: text too large");
  return RK_STATUS_OK;
}

/* Text of a chat message's content: a string, or its "text" parts. */
static rk__str content_text(rk__call *c, const rk__jval *content) {
  if (!content) return rk__str_make(NULL, 0);
  if (content->type == RK__JSTR) return content->u.str;
  if (content->type != RK__JARR) return rk__str_make(NULL, 0);
  rk__buf b;
  rk__buf_init(&b, (size_t)64 << 20);
  for (size_t i = 0; i < content->u.arr.n; i++) {
    const rk__jval *part = &content->u.arr.items[i];
    const rk__jval *t = part->type == RK__JOBJ ? rk__json_get(part, "text") : NULL;
    if (!t || t->type != RK__JSTR) continue;
    if (b.n) rk__buf_putc(&b, '\n');
    rk__buf_put(&b, t->u.str.p, t->u.str.n);
  }
  char *s = b.oom ? NULL : rk__arena_strdup(c->arena, b.p ? b.p : "", b.n);
  size_t n = b.n;
  rk__buf_release(&b);
  return s ? rk__str_make(s, n) : rk__str_make(NULL, 0);
}

rk__str rk__mprompt(rk__call *c) {
  const rk__jval *p = c->rec->prompt;
  if (!p) return rk__str_make(NULL, 0);
  if (p->type == RK__JSTR) return p->u.str;
  if (p->type != RK__JARR) return rk__str_make(NULL, 0);
  for (size_t i = p->u.arr.n; i-- > 0;) {
    const rk__jval *m = &p->u.arr.items[i];
    if (m->type != RK__JOBJ) continue;
    const rk__jval *role = rk__json_get(m, "role");
    if (role && role->type == RK__JSTR && rk__str_eq_cstr(role->u.str, "user"))
      return content_text(c, rk__json_get(m, "content"));
  }
  return rk__str_make(NULL, 0);
}

static int image_url(const rk__jval *v, rk__str *out) {
  if (v->type == RK__JSTR && v->u.str.n) {
    *out = v->u.str;
    return 1;
  }
  if (v->type != RK__JOBJ) return 0;
  const rk__jval *u = rk__json_get(v, "url");
  if (!u) {
    const rk__jval *iu = rk__json_get(v, "image_url");
    if (iu && iu->type == RK__JSTR) u = iu;
    else if (iu && iu->type == RK__JOBJ) u = rk__json_get(iu, "url");
  }
  if (!u) u = rk__json_get(v, "image");
  if (u && u->type == RK__JSTR && u->u.str.n) {
    *out = u->u.str;
    return 1;
  }
  return 0;
}

size_t rk__mimages(rk__call *c, rk__str *out, size_t max) {
  const rk__jval *v = c->rec->images;
  if (!v) return 0;
  if (v->type != RK__JARR) return max && image_url(v, out) ? 1 : 0;
  size_t k = 0;
  for (size_t i = 0; i < v->u.arr.n && k < max; i++)
    k += (size_t)image_url(&v->u.arr.items[i], &out[k]);
  return k;
}

rk__str rk__mreference(rk__call *c) {
  rk__str refs[1];
  int had = 0;
  if (rk__record_refs(c, refs, 1, &had) == 0) return rk__str_make(NULL, 0);
  return refs[0];
}

int rk__mnums(rk__call *c, const rk__jval *v, double **out, size_t *n) {
  if (!v || v->type != RK__JARR) return -1;
  double *x = rk__arena_alloc(c->arena, (v->u.arr.n ? v->u.arr.n : 1) * sizeof *x);
  if (!x) return -1;
  for (size_t i = 0; i < v->u.arr.n; i++) {
    const rk__jval *e = &v->u.arr.items[i];
    if (e->type == RK__JNUM) x[i] = e->u.num;
    else if (e->type == RK__JNULL) x[i] = NAN;
    else return -1;
  }
  *out = x;
  *n = v->u.arr.n;
  return 0;
}

int rk__mtop(rk__call *c, const rk__jval *v, rk__toplp **out, size_t *n) {
  if (!v || (v->type != RK__JARR && v->type != RK__JOBJ)) return -1;
  size_t m = v->type == RK__JARR ? v->u.arr.n : v->u.obj.n;
  rk__toplp *t = rk__arena_alloc(c->arena, (m ? m : 1) * sizeof *t);
  if (!t) return -1;
  for (size_t i = 0; i < m; i++) {
    if (v->type == RK__JOBJ) {
      const rk__jmember *mb = &v->u.obj.items[i];
      if (mb->val.type != RK__JNUM) return -1;
      t[i].token = mb->key;
      t[i].logprob = mb->val.u.num;
      continue;
    }
    const rk__jval *e = &v->u.arr.items[i];
    const rk__jval *tok = e->type == RK__JOBJ ? rk__json_get(e, "token") : NULL;
    const rk__jval *lp = e->type == RK__JOBJ ? rk__json_get(e, "logprob") : NULL;
    if (!tok || tok->type != RK__JSTR || !lp || lp->type != RK__JNUM) return -1;
    t[i].token = tok->u.str;
    t[i].logprob = lp->u.num;
  }
  *out = t;
  *n = m;
  return 0;
}

int rk__mgate_compile(rk__argctx *ac, rk__mgate *g) {
  memset(g, 0, sizeof *g);
  if (rk__arg_bool(ac, "gate", 1, &g->on)) return -1;
  return rk__arg_strlist(ac, "master_keys", &g->keys, &g->nkeys);
}

void rk__mgate_free(rk__mgate *g) {
  rk__strlist_free(g->keys);
  g->keys = NULL;
}

int rk__mgate_check(const rk__mgate *g, rk__call *c, double *value, rk_status *s) {
  if (!g->on) return 0;
  char buf[160];
  const char *why = rk__judge_gate(c->rec->response, (const char *const *)g->keys, buf,
                                   sizeof buf);
  if (!why) return 0;
  *value = 0;
  *s = RK_STATUS_UNPARSEABLE;
  rk__explain(c, "refused before calling the model: %s (judge-hacking gate; "
                 "\"gate\": false turns it off)", why);
  return 1;
}

int rk__mfetch(rk__call *c, const char *who, const rk__endpoint *e, const char *path,
               const rk__buf *body, const rk__reply **r, rk_status *s) {
  if (body->oom) {
    *s = rk__fail(c, "%s: request body too large", who);
    return -1;
  }
  int k = rk__model_call(c, e, path, body->p ? body->p : "", body->n, r);
  if (k == 0) return 0;
  if (k < 0 || !(*r)->ok) {
    *s = rk__fail(c, "%s: %s", who, (*r)->error);
    return -1;
  }
  return 1;
}

/* The three calls below share one shape: build the body (built != 0:
 * the builder failed; build before calling, since the path is set by the
 * builder), fetch, and on a reply let the caller's parser run; a parser
 * failure becomes an error naming the reward. */
static int fetch_built(rk__call *c, const char *who, const rk__endpoint *e, int built,
                       const char *path, rk__buf *body, const rk__reply **r, rk_status *s) {
  int k = -1;
  if (built)
    *s = rk__fail(c, "%s: could not build the request", who);
  else
    k = rk__mfetch(c, who, e, path, body, r, s);
  rk__buf_release(body);
  return k;
}

static int parsed(rk__call *c, const char *who, int k, int prc, const char *err,
                  rk_status *s) {
  if (k == 1 && prc) {
    *s = rk__fail(c, "%s: %s", who, err);
    return -1;
  }
  return k;
}

int rk__mspan_lp(rk__call *c, const char *who, const rk__endpoint *e,
                 const rk__lp_query *q, double **lp, size_t *n, rk_status *s) {
  rk__buf body;
  rk__buf_init(&body, (size_t)256 << 20);
  const char *path = NULL;
  const rk__reply *r = NULL;
  int built = rk__wire_prompt_lp(e->kind, e->model, q, &body, &path);
  int k = fetch_built(c, who, e, built, path, &body, &r, s);
  rk__usage u;
  char err[200] = "";
  int prc = k == 1 ? rk__wire_parse_prompt_lp(e->kind, q, r->body, r->n, c->arena, lp, n, &u,
                                              err, sizeof err)
                   : 0;
  return parsed(c, who, k, prc, err, s);
}

int rk__mtop_call(rk__call *c, const char *who, const rk__endpoint *e, const rk__msg *m,
                  size_t nm, int top_k, rk__toplp **top, size_t *ntop, rk__str *sampled,
                  rk_status *s) {
  rk__buf body;
  rk__buf_init(&body, (size_t)256 << 20);
  const char *path = NULL;
  const rk__reply *r = NULL;
  int built = rk__wire_top(e->kind, e->model, m, nm, top_k, &body, &path);
  int k = fetch_built(c, who, e, built, path, &body, &r, s);
  rk__usage u;
  char err[200] = "";
  int prc = k == 1 ? rk__wire_parse_top(e->kind, r->body, r->n, c->arena, top, ntop, sampled,
                                        &u, err, sizeof err)
                   : 0;
  return parsed(c, who, k, prc, err, s);
}

int rk__mgen(rk__call *c, const char *who, const rk__endpoint *e, const rk__msg *m,
             size_t nm, const rk__gen_opts *o, rk__str *text, rk_status *s) {
  rk__buf body;
  rk__buf_init(&body, (size_t)256 << 20);
  const char *path = NULL;
  const rk__reply *r = NULL;
  int built = rk__wire_gen(e->kind, e->model, m, nm, o, &body, &path);
  int k = fetch_built(c, who, e, built, path, &body, &r, s);
  rk__usage u;
  char err[200] = "";
  int prc =
      k == 1 ? rk__wire_parse_gen(e->kind, r->body, r->n, c->arena, text, &u, err, sizeof err) : 0;
  return parsed(c, who, k, prc, err, s);
}

int rk__membed(rk__call *c, const char *who, const rk__endpoint *e, const rk__embed_in *in,
               size_t n, double **vecs, size_t *dim, rk_status *s) {
  rk__buf body;
  rk__buf_init(&body, (size_t)256 << 20);
  const char *path = NULL;
  const rk__reply *r = NULL;
  int built = rk__wire_embed(e->kind, e->model, in, n, &body, &path);
  int k = fetch_built(c, who, e, built, path, &body, &r, s);
  rk__usage u;
  char err[200] = "";
  int prc = k == 1 ? rk__wire_parse_embed(e->kind, r->body, r->n, c->arena, n, vecs, dim, &u,
                                          err, sizeof err)
                   : 0;
  return parsed(c, who, k, prc, err, s);
}

int rk__mscore(rk__call *c, const char *who, const rk__endpoint *e, const char *api,
               const rk__str *texts, size_t n, double *scores, rk_status *s) {
  rk__buf body;
  rk__buf_init(&body, (size_t)256 << 20);
  const char *path = NULL;
  const rk__reply *r = NULL;
  int built = rk__wire_score(e->kind, e->model, api, texts, n, &body, &path);
  int k = fetch_built(c, who, e, built, path, &body, &r, s);
  char err[200] = "";
  int prc = k == 1 ? rk__wire_parse_score(e->kind, api, r->body, r->n, c->arena, scores, n, err,
                                          sizeof err)
                   : 0;
  return parsed(c, who, k, prc, err, s);
}

const char *const rk__mlp_mode_names[] = {"sum", "mean_log", "mean_prob", "prod",
                                          "geo_mean", NULL};

int rk__mlp_mode_compile(rk__argctx *ac, const char *key, int def, rk__lp_mode *out) {
  int m = def;
  if (rk__arg_enum(ac, key, rk__mlp_mode_names, def, &m)) return -1;
  *out = (rk__lp_mode)m;
  return 0;
}
