/*
 * json_reward.c - the `json` reward: is the response (or its code block,
 * or its last {...}) valid JSON, with the required keys and value types?
 * Parsing uses our strict reader (json/json.h) with a depth cap, in the
 * record's arena.
 *
 * A format reward is about form: invalid JSON is a legitimate outcome
 * (reward 0, status "ok", the explanation names the parse error and its
 * byte offset in the response), not an "unparseable" record.
 *
 * Not for: schema validation beyond presence and type, or tool-call
 * validity.
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "json/json.h"

/* ------------------------------------------------------- candidates */

static int is_ascii_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

static void trim(const char *p, size_t *b, size_t *e) {
  while (*b < *e && is_ascii_ws(p[*b])) (*b)++;
  while (*e > *b && is_ascii_ws(p[*e - 1])) (*e)--;
}

/* The last ``` fenced block: fences pair up in order (1st opens, 2nd
 * closes, ...); the last complete pair wins; an unclosed last fence with no
 * complete pair before it runs to the end (truncated output). The opening
 * fence's info string ("json") is skipped up to the end of its line. */
static int last_code_block(const char *p, size_t n, size_t *b, size_t *e) {
  size_t nf = 0, open = 0, cb = 0, ce = 0;
  int have = 0;
  const char *q = p, *end = p + n;
  while (q < end && (q = memmem(q, (size_t)(end - q), "```", 3)) != NULL) {
    size_t at = (size_t)(q - p);
    q += 3;
    while (q < end && *q == '`') q++; /* a longer fence is one fence */
    if (nf++ % 2 == 0) {
      open = (size_t)(q - p);
    } else {
      cb = open;
      ce = at;
      have = 1;
    }
  }
  if (!have && nf % 2 == 1) {
    cb = open;
    ce = n;
    have = 1;
  }
  if (!have) return 0;
  /* Skip the info string when the block spans lines. */
  const char *nl = memchr(p + cb, '\n', ce - cb);
  if (nl) cb = (size_t)(nl - p) + 1;
  *b = cb;
  *e = ce;
  trim(p, b, e);
  return 1;
}

/* The last balanced {...}: a stack of '{' positions, string-aware inside
 * braces (prose outside braces may hold stray quotes). */
static int last_object(const char *p, size_t n, rk__arena *a, size_t *b,
                       size_t *e) {
  size_t opens = 0;
  for (const char *q = p, *end = p + n;
       q < end && (q = memchr(q, '{', (size_t)(end - q))) != NULL; q++)
    opens++;
  if (!opens) return 0;
  size_t *stack = rk__arena_alloc(a, opens * sizeof *stack);
  if (!stack) return -1;
  size_t depth = 0;
  int in_str = 0, have = 0;
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (in_str) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_str = 0;
      continue;
    }
    if (c == '{') {
      stack[depth++] = i;
    } else if (c == '}') {
      if (depth) {
        *b = stack[--depth];
        *e = i + 1;
        have = 1;
      }
    } else if (c == '"' && depth) {
      in_str = 1;
    }
  }
  return have;
}

int rk__json_candidate(const char *p, size_t n, rk__jx_mode mode,
                       rk__arena *arena, size_t *b, size_t *e,
                       const char **how) {
  if (!p) n = 0;
  switch (mode) {
    case RK__JX_CODE_BLOCK:
      *how = "code block";
      return last_code_block(p, n, b, e);
    case RK__JX_LAST_OBJECT:
      *how = "last object";
      return last_object(p, n, arena, b, e);
    case RK__JX_AUTO:
      if (last_code_block(p, n, b, e)) {
        *how = "code block";
        return 1;
      }
      /* fall through */
    case RK__JX_WHOLE:
    default:
      *how = "whole response";
      *b = 0;
      *e = n;
      trim(p, b, e);
      return *e > *b;
  }
}

/* ------------------------------------------------------- requirements */

enum {
  T_NULL = 1 << 0,
  T_BOOL = 1 << 1,
  T_NUMBER = 1 << 2,
  T_INTEGER = 1 << 3,
  T_STRING = 1 << 4,
  T_ARRAY = 1 << 5,
  T_OBJECT = 1 << 6
};

static const struct {
  const char *name;
  int bit;
} k_types[] = {{"null", T_NULL},       {"boolean", T_BOOL},
               {"number", T_NUMBER},   {"integer", T_INTEGER},
               {"string", T_STRING},   {"array", T_ARRAY},
               {"object", T_OBJECT}};

static int type_bit(const char *s, size_t n) {
  for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
    if (strlen(k_types[i].name) == n && memcmp(k_types[i].name, s, n) == 0)
      return k_types[i].bit;
  return 0;
}

/* Does v have one of the types in mask? "integer" = a number with no
 * fractional part (JSON Schema: 1.0 is an integer, 1.5 is not). */
static int type_ok(const rk__jval *v, int mask) {
  switch (v->type) {
    case RK__JNULL:
      return mask & T_NULL;
    case RK__JTRUE:
    case RK__JFALSE:
      return mask & T_BOOL;
    case RK__JNUM:
      if (mask & T_NUMBER) return 1;
      return (mask & T_INTEGER) && isfinite(v->u.num) &&
             floor(v->u.num) == v->u.num;
    case RK__JSTR:
      return mask & T_STRING;
    case RK__JARR:
      return mask & T_ARRAY;
    case RK__JOBJ:
      return mask & T_OBJECT;
  }
  return 0;
}

typedef struct req {
  char *path; /* dotted: "a.b.0.c"; numeric segments index arrays */
  int types;  /* 0: presence only */
} req;

typedef struct json_cfg {
  int extract;
  long max_depth;
  int partial;
  req *reqs;
  size_t nreq;
} json_cfg;

static void json_free(void *v) {
  json_cfg *cfg = v;
  if (!cfg) return;
  for (size_t i = 0; i < cfg->nreq; i++) free(cfg->reqs[i].path);
  free(cfg->reqs);
  free(cfg);
}

static req *req_find_or_add(json_cfg *cfg, const char *path, size_t n) {
  for (size_t i = 0; i < cfg->nreq; i++)
    if (strlen(cfg->reqs[i].path) == n && memcmp(cfg->reqs[i].path, path, n) == 0)
      return &cfg->reqs[i];
  req *grown = realloc(cfg->reqs, (cfg->nreq + 1) * sizeof *grown);
  if (!grown) return NULL;
  cfg->reqs = grown;
  req *r = &cfg->reqs[cfg->nreq];
  r->path = malloc(n + 1);
  if (!r->path) return NULL;
  memcpy(r->path, path, n);
  r->path[n] = '\0';
  r->types = 0;
  cfg->nreq++;
  return r;
}

static const char *const k_extract[] = {"auto", "whole", "code_block",
                                        "last_object", NULL};

static int json_compile(rk__argctx *ac, void **out) {
  json_cfg *cfg = calloc(1, sizeof *cfg);
  char **required = NULL;
  size_t nrequired = 0;
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__arg_enum(ac, "extract", k_extract, RK__JX_AUTO, &cfg->extract) ||
      rk__arg_int(ac, "max_depth", 64, 1, 512, &cfg->max_depth) ||
      rk__arg_bool(ac, "partial", 0, &cfg->partial) ||
      rk__arg_strlist(ac, "required", &required, &nrequired))
    goto fail;
  for (size_t i = 0; i < nrequired; i++) {
    if (!required[i][0]) {
      rk__arg_error(ac, "required", "empty key path");
      goto fail;
    }
    if (!req_find_or_add(cfg, required[i], strlen(required[i]))) {
      rk__arg_error(ac, NULL, "out of memory");
      goto fail;
    }
  }
  rk__strlist_free(required);
  required = NULL;
  const rk__jval *types = rk__arg_raw(ac, "types");
  if (types) {
    if (types->type != RK__JOBJ) {
      rk__arg_error(ac, "types", "expected an object {\"key\": \"type\"}, got %s",
                    rk__json_type_name(types->type));
      goto fail;
    }
    for (size_t i = 0; i < types->u.obj.n; i++) {
      const rk__jmember *m = &types->u.obj.items[i];
      int mask = 0;
      const rk__jval *tv = &m->val;
      size_t nt = tv->type == RK__JARR ? tv->u.arr.n : 1;
      for (size_t j = 0; j < nt; j++) {
        const rk__jval *t = tv->type == RK__JARR ? &tv->u.arr.items[j] : tv;
        int bit = t->type == RK__JSTR ? type_bit(t->u.str.p, t->u.str.n) : 0;
        if (!bit) {
          rk__arg_error(ac, "types",
                        "'%.*s': expected \"string\", \"number\", \"integer\", "
                        "\"boolean\", \"array\", \"object\" or \"null\" (or a "
                        "list of them)",
                        (int)m->key.n, m->key.p);
          goto fail;
        }
        mask |= bit;
      }
      if (m->key.n == 0) {
        rk__arg_error(ac, "types", "empty key path");
        goto fail;
      }
      req *r = req_find_or_add(cfg, m->key.p, m->key.n);
      if (!r) {
        rk__arg_error(ac, NULL, "out of memory");
        goto fail;
      }
      r->types |= mask;
    }
  }
  *out = cfg;
  return 0;
fail:
  rk__strlist_free(required);
  json_free(cfg);
  return -1;
}


static void type_names(int mask, char *buf, size_t cap) {
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
    if (mask & k_types[i].bit) {
      int w = snprintf(buf + o, cap - o, "%s%s", o ? " or " : "",
                       k_types[i].name);
      if (w < 0 || (size_t)w >= cap - o) break;
      o += (size_t)w;
    }
}

static rk_status json_score(const void *v, rk__call *c, double *value) {
  const json_cfg *cfg = v;
  *value = 0;
  if (!c->rec->has_response) return rk__fail(c, "record has no response text");
  rk__str r = c->rec->response;
  /* Candidate search + parse: about two passes over the bytes. */
  if (!rk__spend(c, 2 * (uint64_t)r.n + 1)) return RK_STATUS_TIMEOUT;
  size_t b = 0, e = 0;
  const char *how = "";
  int rc = rk__json_candidate(r.p, r.n, (rk__jx_mode)cfg->extract, c->arena,
                              &b, &e, &how);
  if (rc < 0) return rk__fail(c, "json: out of scratch memory");
  if (rc == 0) {
    rk__explain(c, "no JSON found (%s)",
                cfg->extract == RK__JX_CODE_BLOCK    ? "no ``` code block"
                : cfg->extract == RK__JX_LAST_OBJECT ? "no balanced {...}"
                                                     : "empty response");
    return RK_STATUS_OK;
  }
  rk__json_limits lim = {(size_t)cfg->max_depth, 0};
  rk__json_error err;
  memset(&err, 0, sizeof err);
  rk__jval *doc = NULL;
  int prc = rk__json_parse(r.p + b, e - b, c->arena, &lim, &doc, &err);
  if (prc == -2) return rk__fail(c, "json: out of scratch memory");
  if (prc != 0) {
    rk__explain(c, "invalid JSON (%s) at byte %zu of the response: %s", how,
                b + err.offset, err.msg);
    return RK_STATUS_OK;
  }
  if (cfg->nreq == 0) {
    *value = 1.0;
    rk__explain(c, "valid JSON %s (%s)", rk__json_type_name(doc->type), how);
    return RK_STATUS_OK;
  }
  size_t met = 0;
  const char *first_path = NULL;
  const rk__jval *first_val = NULL;
  int first_types = 0;
  for (size_t i = 0; i < cfg->nreq; i++) {
    const req *q = &cfg->reqs[i];
    const rk__jval *x = rk__json_path(doc, q->path);
    if (x && (!q->types || type_ok(x, q->types))) {
      met++;
    } else if (!first_path) {
      first_path = q->path;
      first_val = x;
      first_types = q->types;
    }
  }
  *value = cfg->partial ? (double)met / (double)cfg->nreq
                        : (met == cfg->nreq ? 1.0 : 0.0);
  if (rk__explaining(c)) {
    if (!first_path) {
      rk__explain(c, "valid JSON (%s); %zu/%zu requirements met", how, met,
                  cfg->nreq);
    } else if (!first_val) {
      rk__explain(c, "valid JSON (%s); %zu/%zu requirements met; '%s' missing",
                  how, met, cfg->nreq, first_path);
    } else {
      char want[96];
      type_names(first_types, want, sizeof want);
      rk__explain(c,
                  "valid JSON (%s); %zu/%zu requirements met; '%s' is %s, "
                  "expected %s",
                  how, met, cfg->nreq, first_path,
                  rk__json_type_name(first_val->type), want);
    }
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_json = {
    .name = "json",
    .summary = "valid JSON (whole, code block or last object) with required keys and types; 1/0 or partial",
    .compile = json_compile,
    .score = json_score,
    .free = json_free,
};
