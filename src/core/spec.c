/*
 * spec.c - compiles a JSON spec into an immutable tree of nodes, and
 * evaluates that tree on one record.
 *
 * A node is a leaf ({"fn": NAME, "args": {...}}) or one combinator
 * ({"sum": [...]}, {"gate": COND, "then": NODE}, {"route": {...}}, ...);
 * every node may carry "name" and "weight". docs/spec.md is the user-facing
 * description; this file is the only place that knows the syntax. Errors
 * name the path inside the spec ("reward.sum[1].args.mode").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry.h"
#include "core/spec.h"
#include "json/json.h"

typedef enum {
  N_LEAF,
  N_SUM,
  N_MEAN,
  N_MIN,
  N_MAX,
  N_PRODUCT,
  N_GATE,
  N_TIERS,
  N_CLIP,
  N_AFFINE,
  N_THRESHOLD,
  N_ROUTE
} node_kind;

static const char *const kind_names[] = {
    "fn",   "sum",   "mean", "min",    "max",       "product",
    "gate", "tiers", "clip", "affine", "threshold", "route"};

struct rk__node {
  node_kind kind;
  char *name;       /* component name; NULL for unnamed inner nodes */
  double weight;    /* weight inside a parent sum or mean */
  int comp;         /* component slot, -1 when not reported */
  /* leaf */
  const rk__fn *fn;
  void *cfg;
  /* children: sum, mean, min, max, product, tiers, route (one per key) */
  rk__node **kids;
  size_t nkids;
  /* gate: kids[0] = condition, kids[1] = then; route: keys parallel to kids */
  char **keys;
  rk__node *fallback; /* route "*" */
  double a, b;        /* gate: at_least, fail; tiers: pass, normalize;
                         clip: min, max; affine: scale, shift; threshold: at */
};

/* --------------------------------------------------------- compilation */

typedef struct builder {
  rk__buf *err;        /* first error message */
  char **names;        /* component names (grows) */
  size_t nnames, capnames;
  int components;      /* 0 while compiling a nested argument node */
  int calls_model;     /* a leaf so far calls inference servers */
} builder;

struct rk__argctx {
  builder *b;
  const rk__jval *args; /* object, or NULL when the leaf has no args */
  const char *path;     /* path of the leaf */
  const char *fn;
  uint64_t seen;        /* members consumed, by index (first 64) */
  char *asked[64];      /* keys asked for, for "known arguments" */
  size_t nasked;
};

static int errf(builder *b, const char *path, const char *fmt, ...)
    RK__PRINTF(3, 4);
static int errf(builder *b, const char *path, const char *fmt, ...) {
  if (b->err->n) return -1; /* keep the first error */
  rk__buf_printf(b->err, "spec: %s: ", path);
  va_list ap;
  va_start(ap, fmt);
  rk__buf_vprintf(b->err, fmt, ap);
  va_end(ap);
  return -1;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s);
  char *p = malloc(n + 1);
  if (p) memcpy(p, s, n + 1);
  return p;
}

static char *xstrndup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

/* Levenshtein distance, capped: for "did you mean" hints only. */
static size_t edit_distance(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  if (na > 40 || nb > 40) return 99;
  size_t row[41];
  for (size_t j = 0; j <= nb; j++) row[j] = j;
  for (size_t i = 1; i <= na; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= nb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (row[j] + 1 < best) best = row[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[nb];
}

static const char *closest_fn(const char *name) {
  const char *best = NULL;
  size_t bestd = 3;
  for (size_t i = 0;; i++) {
    const rk__fn *f = rk__registry_at(i);
    if (!f) break;
    size_t d = edit_distance(name, f->name);
    if (d < bestd) {
      bestd = d;
      best = f->name;
    }
  }
  return best;
}

static int add_component(builder *b, const char *path, const char *name,
                         int unique_auto, int *slot) {
  /* Explicit names may repeat (e.g. "acc" in several routes: one
   * component). Automatic names (the function's) get _2, _3... */
  char tmp[160];
  const char *use = name;
  if (unique_auto) {
    for (int k = 1;; k++) {
      if (k == 1)
        snprintf(tmp, sizeof tmp, "%s", name);
      else
        snprintf(tmp, sizeof tmp, "%s_%d", name, k);
      size_t i;
      for (i = 0; i < b->nnames; i++)
        if (strcmp(b->names[i], tmp) == 0) break;
      if (i == b->nnames) break;
    }
    use = tmp;
  } else {
    for (size_t i = 0; i < b->nnames; i++)
      if (strcmp(b->names[i], name) == 0) {
        *slot = (int)i;
        return 0;
      }
  }
  if (b->nnames == b->capnames) {
    size_t cap = b->capnames ? b->capnames * 2 : 8;
    char **p = realloc(b->names, cap * sizeof *p);
    if (!p) return errf(b, path, "out of memory");
    b->names = p;
    b->capnames = cap;
  }
  b->names[b->nnames] = xstrdup(use);
  if (!b->names[b->nnames]) return errf(b, path, "out of memory");
  *slot = (int)b->nnames++;
  return 0;
}

static rk__node *compile_node(builder *b, const rk__jval *v, const char *path);

void rk__node_free(rk__node *n) {
  if (!n) return;
  if (n->fn && n->fn->free && n->cfg) n->fn->free(n->cfg);
  for (size_t i = 0; i < n->nkids; i++) rk__node_free(n->kids[i]);
  if (n->keys)
    for (size_t i = 0; i < n->nkids; i++) free(n->keys[i]);
  free(n->keys);
  free(n->kids);
  rk__node_free(n->fallback);
  free(n->name);
  free(n);
}

static int get_num(builder *b, const rk__jval *obj, const char *key,
                   const char *path, double def, double *out) {
  const rk__jval *v = rk__json_get(obj, key);
  if (!v) {
    *out = def;
    return 0;
  }
  if (v->type != RK__JNUM)
    return errf(b, path, "'%s' must be a number, got %s", key,
                rk__json_type_name(v->type));
  *out = v->u.num;
  return 0;
}

static int compile_kids(builder *b, rk__node *n, const rk__jval *arr,
                        const char *path, const char *kind) {
  char sub[512];
  if (arr->type != RK__JARR)
    return errf(b, path, "'%s' takes an array of nodes, got %s", kind,
                rk__json_type_name(arr->type));
  if (arr->u.arr.n == 0) return errf(b, path, "'%s' needs at least one node", kind);
  n->kids = calloc(arr->u.arr.n, sizeof *n->kids);
  if (!n->kids) return errf(b, path, "out of memory");
  for (size_t i = 0; i < arr->u.arr.n; i++) {
    snprintf(sub, sizeof sub, "%s.%s[%zu]", path, kind, i);
    n->kids[i] = compile_node(b, &arr->u.arr.items[i], sub);
    if (!n->kids[i]) return -1;
    n->nkids++;
  }
  return 0;
}

static int compile_one_kid(builder *b, rk__node *n, const rk__jval *v,
                           const char *path, const char *kind) {
  char sub[512];
  snprintf(sub, sizeof sub, "%s.%s", path, kind);
  n->kids = calloc(1, sizeof *n->kids);
  if (!n->kids) return errf(b, path, "out of memory");
  n->kids[0] = compile_node(b, v, sub);
  if (!n->kids[0]) return -1;
  n->nkids = 1;
  return 0;
}

/* Keys each node kind accepts besides its own, "name" and "weight". */
static const char *const extra_keys[][4] = {
    [N_LEAF] = {"args", NULL},
    [N_SUM] = {NULL},
    [N_MEAN] = {NULL},
    [N_MIN] = {NULL},
    [N_MAX] = {NULL},
    [N_PRODUCT] = {NULL},
    [N_GATE] = {"then", "at_least", "fail", NULL},
    [N_TIERS] = {"pass", "normalize", NULL},
    [N_CLIP] = {"lower", "upper", NULL},
    [N_AFFINE] = {"scale", "shift", NULL},
    [N_THRESHOLD] = {"at", NULL},
    [N_ROUTE] = {NULL},
};

static int compile_leaf(builder *b, rk__node *n, const rk__jval *v,
                        const char *path) {
  const rk__jval *fnv = rk__json_get(v, "fn");
  if (fnv->type != RK__JSTR)
    return errf(b, path, "'fn' must be a function name (string), got %s",
                rk__json_type_name(fnv->type));
  n->fn = rk__registry_find(fnv->u.str.p, fnv->u.str.n);
  if (!n->fn) {
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(fnv->u.str.n > 60 ? 60 : fnv->u.str.n),
             fnv->u.str.p);
    const char *hint = closest_fn(name);
    if (hint)
      return errf(b, path, "unknown function '%s' (did you mean '%s'?)", name, hint);
    return errf(b, path,
                "unknown function '%s' (`rewardkit list` shows the built-ins)",
                name);
  }
  b->calls_model |= n->fn->calls_model;
  const rk__jval *args = rk__json_get(v, "args");
  if (args && args->type != RK__JOBJ)
    return errf(b, path, "'args' must be an object, got %s",
                rk__json_type_name(args->type));
  rk__argctx ac = {.b = b, .args = args, .path = path, .fn = n->fn->name};
  int rc = n->fn->compile ? n->fn->compile(&ac, &n->cfg) : 0;
  for (size_t i = 0; i < ac.nasked; i++) free(ac.asked[i]);
  if (rc != 0) {
    if (!b->err->n) errf(b, path, "invalid arguments for '%s'", n->fn->name);
    return -1;
  }
  /* Any member the function did not ask for is a typo or a misplaced
   * option: refuse it rather than silently ignore it. */
  if (args) {
    for (size_t i = 0; i < args->u.obj.n; i++) {
      if (i < 64 && (ac.seen >> i & 1)) continue;
      if (i >= 64) {
        /* Beyond 64 members we cannot track: compare names. */
        int known = 0;
        for (size_t j = 0; j < 64 && j < args->u.obj.n; j++)
          if (rk__str_eq(args->u.obj.items[j].key, args->u.obj.items[i].key)) known = 1;
        if (known) continue;
      }
      const rk__str k = args->u.obj.items[i].key;
      return errf(b, path, "unknown argument '%.*s' for function '%s'",
                  (int)(k.n > 60 ? 60 : k.n), k.p, n->fn->name);
    }
  }
  return 0;
}

static int compile_route(builder *b, rk__node *n, const rk__jval *obj,
                         const char *path) {
  char sub[512];
  if (obj->type != RK__JOBJ)
    return errf(b, path, "'route' takes an object {task: node, \"*\": node}, got %s",
                rk__json_type_name(obj->type));
  size_t m = obj->u.obj.n;
  n->kids = calloc(m ? m : 1, sizeof *n->kids);
  n->keys = calloc(m ? m : 1, sizeof *n->keys);
  if (!n->kids || !n->keys) return errf(b, path, "out of memory");
  for (size_t i = 0; i < m; i++) {
    const rk__jmember *mb = &obj->u.obj.items[i];
    snprintf(sub, sizeof sub, "%s.route[\"%.*s\"]", path,
             (int)(mb->key.n > 60 ? 60 : mb->key.n), mb->key.p);
    if (mb->key.n == 0) return errf(b, sub, "empty task name");
    for (size_t j = 0; j < i; j++)
      if (rk__str_eq(obj->u.obj.items[j].key, mb->key))
        return errf(b, sub, "task listed twice");
    rk__node *kid = compile_node(b, &mb->val, sub);
    if (!kid) return -1;
    if (rk__str_eq_cstr(mb->key, "*")) {
      n->fallback = kid;
      continue;
    }
    n->keys[n->nkids] = xstrndup(mb->key.p, mb->key.n);
    n->kids[n->nkids++] = kid;
    if (!n->keys[n->nkids - 1]) return errf(b, sub, "out of memory");
  }
  if (n->nkids == 0 && !n->fallback) return errf(b, path, "'route' has no routes");
  return 0;
}

static rk__node *compile_node(builder *b, const rk__jval *v, const char *path) {
  if (v->type != RK__JOBJ) {
    errf(b, path, "a node must be an object like {\"fn\": \"exact\"}, got %s",
         rk__json_type_name(v->type));
    return NULL;
  }
  /* Exactly one kind key. */
  int kind = -1;
  for (size_t i = 0; i < v->u.obj.n; i++) {
    const rk__str k = v->u.obj.items[i].key;
    for (int j = 0; j < (int)(sizeof kind_names / sizeof kind_names[0]); j++) {
      if (!rk__str_eq_cstr(k, kind_names[j])) continue;
      if (kind >= 0 && kind != j) {
        errf(b, path, "a node has one kind, found both '%s' and '%s'",
             kind_names[kind], kind_names[j]);
        return NULL;
      }
      kind = j;
    }
  }
  if (kind < 0) {
    errf(b, path,
         "no node kind: expected one of fn, sum, mean, min, max, product, "
         "gate, tiers, clip, affine, threshold, route");
    return NULL;
  }
  /* Reject unknown keys early: typos in a reward spec cost GPU hours. */
  for (size_t i = 0; i < v->u.obj.n; i++) {
    const rk__str k = v->u.obj.items[i].key;
    if (rk__str_eq_cstr(k, kind_names[kind]) || rk__str_eq_cstr(k, "name") ||
        rk__str_eq_cstr(k, "weight"))
      continue;
    int ok = 0;
    for (const char *const *e = extra_keys[kind]; *e; e++)
      if (rk__str_eq_cstr(k, *e)) ok = 1;
    if (!ok) {
      errf(b, path, "unknown key '%.*s' in a '%s' node", (int)(k.n > 60 ? 60 : k.n),
           k.p, kind_names[kind]);
      return NULL;
    }
  }

  rk__node *n = calloc(1, sizeof *n);
  if (!n) {
    errf(b, path, "out of memory");
    return NULL;
  }
  n->kind = (node_kind)kind;
  n->comp = -1;
  n->weight = 1.0;
  const rk__jval *body = rk__json_get(v, kind_names[kind]);
  const rk__jval *name = rk__json_get(v, "name");
  int rc = 0;

  if (name && (name->type != RK__JSTR || name->u.str.n == 0 || name->u.str.n > 100)) {
    errf(b, path, "'name' must be a non-empty string of at most 100 bytes");
    goto fail;
  }
  if (get_num(b, v, "weight", path, 1.0, &n->weight)) goto fail;

  switch (n->kind) {
    case N_LEAF:
      rc = compile_leaf(b, n, v, path);
      break;
    case N_SUM:
    case N_MEAN:
    case N_MIN:
    case N_MAX:
    case N_PRODUCT:
      rc = compile_kids(b, n, body, path, kind_names[kind]);
      break;
    case N_GATE: {
      const rk__jval *then = rk__json_get(v, "then");
      if (!then) {
        errf(b, path, "'gate' needs 'then': the node scored when the condition passes");
        goto fail;
      }
      char sub[512];
      n->kids = calloc(2, sizeof *n->kids);
      if (!n->kids) goto oom;
      snprintf(sub, sizeof sub, "%s.gate", path);
      n->kids[0] = compile_node(b, body, sub);
      if (!n->kids[0]) goto fail;
      n->nkids = 1;
      snprintf(sub, sizeof sub, "%s.then", path);
      n->kids[1] = compile_node(b, then, sub);
      if (!n->kids[1]) goto fail;
      n->nkids = 2;
      rc = get_num(b, v, "at_least", path, 1.0, &n->a) ||
           get_num(b, v, "fail", path, 0.0, &n->b);
      break;
    }
    case N_TIERS: {
      rc = compile_kids(b, n, body, path, "tiers") ||
           get_num(b, v, "pass", path, 1.0, &n->a);
      const rk__jval *norm = rk__json_get(v, "normalize");
      n->b = 1;
      if (!rc && norm) {
        if (norm->type != RK__JTRUE && norm->type != RK__JFALSE) {
          errf(b, path, "'normalize' must be true or false");
          goto fail;
        }
        n->b = norm->type == RK__JTRUE;
      }
      if (!rc && (n->a <= 0 || n->a > 1)) {
        errf(b, path, "'pass' must be in (0, 1]: tiers are scores in [0, 1]");
        goto fail;
      }
      break;
    }
    case N_CLIP:
      rc = compile_one_kid(b, n, body, path, "clip") ||
           get_num(b, v, "lower", path, -INFINITY, &n->a) ||
           get_num(b, v, "upper", path, INFINITY, &n->b);
      if (!rc && !rk__json_get(v, "lower") && !rk__json_get(v, "upper")) {
        errf(b, path, "'clip' needs 'lower', 'upper' or both");
        goto fail;
      }
      if (!rc && n->a > n->b) {
        errf(b, path, "'clip' has lower > upper");
        goto fail;
      }
      break;
    case N_AFFINE:
      rc = compile_one_kid(b, n, body, path, "affine") ||
           get_num(b, v, "scale", path, 1.0, &n->a) ||
           get_num(b, v, "shift", path, 0.0, &n->b);
      break;
    case N_THRESHOLD:
      if (!rk__json_get(v, "at")) {
        errf(b, path, "'threshold' needs 'at': value >= at gives 1, else 0");
        goto fail;
      }
      rc = compile_one_kid(b, n, body, path, "threshold") ||
           get_num(b, v, "at", path, 0.0, &n->a);
      break;
    case N_ROUTE:
      rc = compile_route(b, n, body, path);
      break;
  }
  if (rc) goto fail;

  if (b->components) {
    if (name) {
      char tmp[128];
      snprintf(tmp, sizeof tmp, "%.*s", (int)name->u.str.n, name->u.str.p);
      if (add_component(b, path, tmp, 0, &n->comp)) goto fail;
    } else if (n->kind == N_LEAF) {
      if (add_component(b, path, n->fn->name, 1, &n->comp)) goto fail;
    }
  }
  if (n->comp >= 0) {
    n->name = xstrdup(b->names[n->comp]);
    if (!n->name) goto oom;
  }
  return n;
oom:
  errf(b, path, "out of memory");
fail:
  rk__node_free(n);
  return NULL;
}

/* ----------------------------------------------------- argument helpers */

static const rk__jval *arg_lookup(rk__argctx *ac, const char *key) {
  if (ac->nasked < 64) {
    int dup = 0;
    for (size_t i = 0; i < ac->nasked; i++)
      if (strcmp(ac->asked[i], key) == 0) dup = 1;
    if (!dup) {
      ac->asked[ac->nasked] = xstrdup(key);
      if (ac->asked[ac->nasked]) ac->nasked++;
    }
  }
  if (!ac->args) return NULL;
  const rk__jval *found = NULL;
  size_t klen = strlen(key);
  for (size_t i = 0; i < ac->args->u.obj.n; i++) {
    const rk__jmember *m = &ac->args->u.obj.items[i];
    if (m->key.n == klen && memcmp(m->key.p, key, klen) == 0) {
      if (i < 64) ac->seen |= (uint64_t)1 << i;
      found = &m->val; /* last wins */
    }
  }
  return found;
}

int rk__arg_error(rk__argctx *ac, const char *key, const char *fmt, ...) {
  builder *b = ac->b;
  if (b->err->n) return -1;
  if (key)
    rk__buf_printf(b->err, "spec: %s.args.%s: ", ac->path, key);
  else
    rk__buf_printf(b->err, "spec: %s.args: ", ac->path);
  va_list ap;
  va_start(ap, fmt);
  rk__buf_vprintf(b->err, fmt, ap);
  va_end(ap);
  return -1;
}

const rk__jval *rk__arg_raw(rk__argctx *ac, const char *key) {
  return arg_lookup(ac, key);
}

int rk__arg_num(rk__argctx *ac, const char *key, double def, double *out) {
  const rk__jval *v = arg_lookup(ac, key);
  if (!v) {
    *out = def;
    return 0;
  }
  if (v->type != RK__JNUM)
    return rk__arg_error(ac, key, "expected a number, got %s",
                         rk__json_type_name(v->type));
  *out = v->u.num;
  return 0;
}

int rk__arg_num_range(rk__argctx *ac, const char *key, double def, double lo,
                      double hi, double *out) {
  if (rk__arg_num(ac, key, def, out)) return -1;
  if (!(*out >= lo && *out <= hi))
    return rk__arg_error(ac, key, "%g is out of range [%g, %g]", *out, lo, hi);
  return 0;
}

int rk__arg_int(rk__argctx *ac, const char *key, long def, long lo, long hi,
                long *out) {
  const rk__jval *v = arg_lookup(ac, key);
  if (!v) {
    *out = def;
    return 0;
  }
  if (v->type != RK__JNUM || v->u.num != floor(v->u.num))
    return rk__arg_error(ac, key, "expected an integer, got %.*s",
                         (int)(v->raw.n > 40 ? 40 : v->raw.n), v->raw.p);
  if (!(v->u.num >= (double)lo && v->u.num <= (double)hi))
    return rk__arg_error(ac, key, "%.*s is out of range [%ld, %ld]",
                         (int)(v->raw.n > 40 ? 40 : v->raw.n), v->raw.p, lo, hi);
  *out = (long)v->u.num;
  return 0;
}

int rk__arg_bool(rk__argctx *ac, const char *key, int def, int *out) {
  const rk__jval *v = arg_lookup(ac, key);
  if (!v) {
    *out = def;
    return 0;
  }
  if (v->type != RK__JTRUE && v->type != RK__JFALSE)
    return rk__arg_error(ac, key, "expected true or false, got %s",
                         rk__json_type_name(v->type));
  *out = v->type == RK__JTRUE;
  return 0;
}

int rk__arg_str(rk__argctx *ac, const char *key, const char *def, char **out) {
  const rk__jval *v = arg_lookup(ac, key);
  *out = NULL;
  if (!v) {
    if (def && !(*out = xstrdup(def))) return rk__arg_error(ac, key, "out of memory");
    return 0;
  }
  if (v->type != RK__JSTR)
    return rk__arg_error(ac, key, "expected a string, got %s",
                         rk__json_type_name(v->type));
  if (memchr(v->u.str.p, '\0', v->u.str.n))
    return rk__arg_error(ac, key, "string contains a NUL character");
  if (!(*out = xstrndup(v->u.str.p, v->u.str.n)))
    return rk__arg_error(ac, key, "out of memory");
  return 0;
}

int rk__arg_enum(rk__argctx *ac, const char *key, const char *const *choices,
                 int def, int *out) {
  const rk__jval *v = arg_lookup(ac, key);
  if (!v) {
    *out = def;
    return 0;
  }
  if (v->type == RK__JSTR)
    for (int i = 0; choices[i]; i++)
      if (rk__str_eq_cstr(v->u.str, choices[i])) {
        *out = i;
        return 0;
      }
  rk__buf list;
  rk__buf_init(&list, 4096);
  for (int i = 0; choices[i]; i++) {
    if (i) rk__buf_puts(&list, ", ");
    rk__buf_puts(&list, choices[i]);
  }
  int rc = rk__arg_error(ac, key, "expected one of %s; got %.*s", rk__buf_cstr(&list),
                         (int)(v->raw.n > 60 ? 60 : v->raw.n), v->raw.p);
  rk__buf_release(&list);
  return rc;
}

void rk__strlist_free(char **list) {
  if (!list) return;
  for (char **p = list; *p; p++) free(*p);
  free(list);
}

int rk__arg_strlist(rk__argctx *ac, const char *key, char ***out, size_t *n) {
  const rk__jval *v = arg_lookup(ac, key);
  *out = NULL;
  *n = 0;
  if (!v) return 0;
  size_t m = v->type == RK__JARR ? v->u.arr.n : 1;
  const rk__jval *items = v->type == RK__JARR ? v->u.arr.items : v;
  if (v->type != RK__JARR && v->type != RK__JSTR)
    return rk__arg_error(ac, key, "expected a string or an array of strings, got %s",
                         rk__json_type_name(v->type));
  char **list = calloc(m + 1, sizeof *list);
  if (!list) return rk__arg_error(ac, key, "out of memory");
  for (size_t i = 0; i < m; i++) {
    if (items[i].type != RK__JSTR) {
      rk__strlist_free(list);
      return rk__arg_error(ac, key, "item %zu: expected a string, got %s", i,
                           rk__json_type_name(items[i].type));
    }
    if (memchr(items[i].u.str.p, '\0', items[i].u.str.n) ||
        !(list[i] = xstrndup(items[i].u.str.p, items[i].u.str.n))) {
      rk__strlist_free(list);
      return rk__arg_error(ac, key, "item %zu: invalid string", i);
    }
  }
  *out = list;
  *n = m;
  return 0;
}

int rk__arg_node(rk__argctx *ac, const char *key, rk__node **out) {
  const rk__jval *v = arg_lookup(ac, key);
  *out = NULL;
  if (!v) return 0;
  char sub[512];
  snprintf(sub, sizeof sub, "%s.args.%s", ac->path, key);
  int saved = ac->b->components;
  ac->b->components = 0;
  *out = compile_node(ac->b, v, sub);
  ac->b->components = saved;
  return *out ? 0 : -1;
}

/* ------------------------------------------------------------ top level */

static const char *const adv_keys[] = {"estimator", "preset", "eps", "std",
                                       "norm_by_std", "min_std", "singleton",
                                       "whiten_eps", NULL};

static int compile_advantage(builder *b, const rk__jval *v, rk__adv_cfg *cfg) {
  const char *path = "advantage";
  if (v->type == RK__JSTR) {
    /* Shorthand: "advantage": "grpo". */
    char name[40];
    snprintf(name, sizeof name, "%.*s", (int)(v->u.str.n > 38 ? 38 : v->u.str.n), v->u.str.p);
    rk__adv_estimator e = rk__adv_by_name(name);
    if (e == RK__ADV_NONE)
      return errf(b, path, "unknown estimator '%s' (grpo, dr_grpo, rloo, "
                  "reinforce_pp_baseline, grpo_passk, opo, gpg)", name);
    rk__adv_defaults(cfg, e);
    return 0;
  }
  if (v->type != RK__JOBJ)
    return errf(b, path, "expected an object like {\"estimator\": \"grpo\"}");
  for (size_t i = 0; i < v->u.obj.n; i++) {
    int ok = 0;
    for (const char *const *k = adv_keys; *k; k++)
      if (rk__str_eq_cstr(v->u.obj.items[i].key, *k)) ok = 1;
    if (!ok)
      return errf(b, path, "unknown key '%.*s'", (int)(v->u.obj.items[i].key.n > 60 ? 60 : v->u.obj.items[i].key.n),
                  v->u.obj.items[i].key.p);
  }
  const rk__jval *est = rk__json_get(v, "estimator");
  if (!est || est->type != RK__JSTR)
    return errf(b, path, "'estimator' is required: grpo, dr_grpo, rloo, "
                "reinforce_pp_baseline, grpo_passk, opo or gpg");
  char name[40];
  snprintf(name, sizeof name, "%.*s", (int)(est->u.str.n > 38 ? 38 : est->u.str.n), est->u.str.p);
  rk__adv_estimator e = rk__adv_by_name(name);
  if (e == RK__ADV_NONE)
    return errf(b, "advantage.estimator", "unknown estimator '%s' (grpo, dr_grpo, "
                "rloo, reinforce_pp_baseline, grpo_passk, opo, gpg)", name);
  rk__adv_defaults(cfg, e);
  const rk__jval *preset = rk__json_get(v, "preset");
  if (preset) {
    if (preset->type == RK__JSTR && rk__str_eq_cstr(preset->u.str, "verl"))
      cfg->eps = 1e-6;
    else if (preset->type == RK__JSTR && rk__str_eq_cstr(preset->u.str, "trl"))
      cfg->eps = 1e-4;
    else if (preset->type == RK__JSTR && rk__str_eq_cstr(preset->u.str, "openrlhf"))
      cfg->eps = 1e-9;
    else
      return errf(b, "advantage.preset", "expected verl, trl or openrlhf");
  }
  if (get_num(b, v, "eps", path, cfg->eps, &cfg->eps) ||
      get_num(b, v, "min_std", path, cfg->min_std, &cfg->min_std) ||
      get_num(b, v, "whiten_eps", path, cfg->whiten_eps, &cfg->whiten_eps))
    return -1;
  if (cfg->eps < 0 || cfg->min_std < 0 || cfg->whiten_eps < 0)
    return errf(b, path, "eps, min_std and whiten_eps must be >= 0");
  const rk__jval *std = rk__json_get(v, "std");
  if (std) {
    if (std->type == RK__JSTR && rk__str_eq_cstr(std->u.str, "unbiased"))
      cfg->unbiased_std = 1;
    else if (std->type == RK__JSTR && rk__str_eq_cstr(std->u.str, "biased"))
      cfg->unbiased_std = 0;
    else
      return errf(b, "advantage.std", "expected \"unbiased\" or \"biased\"");
  }
  const rk__jval *nbs = rk__json_get(v, "norm_by_std");
  if (nbs) {
    if (nbs->type != RK__JTRUE && nbs->type != RK__JFALSE)
      return errf(b, "advantage.norm_by_std", "expected true or false");
    cfg->norm_by_std = nbs->type == RK__JTRUE;
  }
  const rk__jval *sg = rk__json_get(v, "singleton");
  if (sg) {
    if (sg->type == RK__JSTR && rk__str_eq_cstr(sg->u.str, "verl"))
      cfg->singleton = RK__SINGLETON_VERL;
    else if (sg->type == RK__JSTR && rk__str_eq_cstr(sg->u.str, "zero"))
      cfg->singleton = RK__SINGLETON_ZERO;
    else
      return errf(b, "advantage.singleton", "expected \"verl\" or \"zero\"");
  }
  return 0;
}

static int compile_filter(builder *b, const rk__jval *v, rk__filter *f) {
  const char *path = "filter";
  if (v->type != RK__JOBJ)
    return errf(b, path, "expected an object like {\"zero_variance\": true}");
  for (size_t i = 0; i < v->u.obj.n; i++) {
    const rk__str k = v->u.obj.items[i].key;
    if (!rk__str_eq_cstr(k, "zero_variance") && !rk__str_eq_cstr(k, "mean_range") &&
        !rk__str_eq_cstr(k, "action"))
      return errf(b, path, "unknown key '%.*s' (zero_variance, mean_range, action)",
                  (int)(k.n > 60 ? 60 : k.n), k.p);
  }
  f->enabled = 1;
  const rk__jval *zv = rk__json_get(v, "zero_variance");
  if (zv) {
    if (zv->type != RK__JTRUE && zv->type != RK__JFALSE)
      return errf(b, "filter.zero_variance", "expected true or false");
    f->zero_variance = zv->type == RK__JTRUE;
  }
  const rk__jval *mr = rk__json_get(v, "mean_range");
  if (mr) {
    if (mr->type != RK__JARR || mr->u.arr.n != 2 ||
        mr->u.arr.items[0].type != RK__JNUM || mr->u.arr.items[1].type != RK__JNUM)
      return errf(b, "filter.mean_range", "expected [low, high]");
    f->has_range = 1;
    f->lo = mr->u.arr.items[0].u.num;
    f->hi = mr->u.arr.items[1].u.num;
    if (f->lo >= f->hi) return errf(b, "filter.mean_range", "low must be < high");
  }
  const rk__jval *act = rk__json_get(v, "action");
  f->drop = 0;
  if (act) {
    if (act->type == RK__JSTR && rk__str_eq_cstr(act->u.str, "drop"))
      f->drop = 1;
    else if (!(act->type == RK__JSTR && rk__str_eq_cstr(act->u.str, "flag")))
      return errf(b, "filter.action", "expected \"flag\" or \"drop\"");
  }
  if (!f->zero_variance && !f->has_range)
    return errf(b, path, "nothing to filter: set zero_variance or mean_range");
  return 0;
}

void rk_spec_free(rk_spec *spec) {
  if (!spec) return;
  rk__node_free(spec->root);
  for (size_t i = 0; i < spec->ncomp; i++) {
    free(spec->comp_names[i]);
    if (spec->comp_keys) free(spec->comp_keys[i]);
  }
  free(spec->comp_names);
  free(spec->comp_keys);
  free(spec->comp_key_len);
  free(spec->json);
  free(spec);
}

rk_err rk_spec_compile(const char *json, size_t n, rk_spec **out, char *err,
                       size_t errcap) {
  if (out) *out = NULL;
  if (err && errcap) err[0] = '\0';
  if (!json || !out) return RK_EINVAL;

  rk__buf msg;
  rk__buf_init(&msg, 4096);
  builder b = {.err = &msg, .components = 1};
  rk__arena arena;
  rk__arena_init(&arena, (size_t)256 << 20);
  rk_spec *spec = NULL;
  rk_err rc = RK_ESPEC;

  rk__jval *root = NULL;
  rk__json_error jerr;
  rk__json_limits lim = {.max_depth = 256, .max_bytes = (size_t)64 << 20};
  int prc = rk__json_parse(json, n, &arena, &lim, &root, &jerr);
  if (prc != 0) {
    if (prc == -2)
      rk__buf_printf(&msg, "spec: out of memory while reading the JSON");
    else
      rk__buf_printf(&msg, "spec: invalid JSON at line %zu, column %zu: %s",
                     jerr.line, jerr.column, jerr.msg);
    rc = prc == -2 ? RK_ENOMEM : RK_EJSON;
    goto done;
  }
  if (root->type != RK__JOBJ) {
    errf(&b, "(top)", "a spec is an object like {\"reward\": {\"fn\": \"exact\"}}");
    goto done;
  }
  for (size_t i = 0; i < root->u.obj.n; i++) {
    const rk__str k = root->u.obj.items[i].key;
    if (!rk__str_eq_cstr(k, "reward") && !rk__str_eq_cstr(k, "advantage") &&
        !rk__str_eq_cstr(k, "filter") && !rk__str_eq_cstr(k, "version") &&
        !rk__str_eq_cstr(k, "description")) {
      errf(&b, "(top)", "unknown key '%.*s' (reward, advantage, filter, version, "
           "description)", (int)(k.n > 60 ? 60 : k.n), k.p);
      goto done;
    }
  }
  const rk__jval *ver = rk__json_get(root, "version");
  if (ver && !(ver->type == RK__JNUM && ver->u.num == 1)) {
    errf(&b, "version", "this rewardkit reads spec version 1");
    goto done;
  }
  const rk__jval *reward = rk__json_get(root, "reward");
  if (!reward) {
    errf(&b, "(top)", "missing 'reward': the node that scores a record");
    goto done;
  }
  spec = calloc(1, sizeof *spec);
  if (!spec) {
    rc = RK_ENOMEM;
    goto done;
  }
  spec->root = compile_node(&b, reward, "reward");
  if (!spec->root) goto done;
  spec->calls_model = b.calls_model;
  const rk__jval *adv = rk__json_get(root, "advantage");
  if (adv && compile_advantage(&b, adv, &spec->adv)) goto done;
  const rk__jval *flt = rk__json_get(root, "filter");
  if (flt && compile_filter(&b, flt, &spec->filter)) goto done;

  rk__buf js;
  rk__buf_init(&js, 0);
  rk__json_put_val(&js, root);
  if (js.oom) {
    rk__buf_release(&js);
    rc = RK_ENOMEM;
    goto done;
  }
  spec->json = rk__buf_take(&js, &spec->json_len);
  spec->comp_names = b.names;
  spec->ncomp = b.nnames;
  b.names = NULL;
  b.nnames = 0;
  /* Output keys, escaped once here rather than for every record. */
  spec->comp_keys = calloc(spec->ncomp + 1, sizeof *spec->comp_keys);
  spec->comp_key_len = calloc(spec->ncomp + 1, sizeof *spec->comp_key_len);
  if (!spec->comp_keys || !spec->comp_key_len) {
    rc = RK_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < spec->ncomp; i++) {
    rk__buf k;
    rk__buf_init(&k, 0);
    rk__json_put_str(&k, spec->comp_names[i], strlen(spec->comp_names[i]));
    rk__buf_putc(&k, ':');
    if (k.oom) {
      rk__buf_release(&k);
      rc = RK_ENOMEM;
      goto done;
    }
    spec->comp_keys[i] = rk__buf_take(&k, &spec->comp_key_len[i]);
  }
  *out = spec;
  spec = NULL;
  rc = RK_OK;
done:
  if (rc != RK_OK && err && errcap) {
    const char *m = msg.n ? rk__buf_cstr(&msg) : rk_strerror(rc);
    snprintf(err, errcap, "%s", m);
  }
  for (size_t i = 0; i < b.nnames; i++) free(b.names[i]);
  free(b.names);
  rk_spec_free(spec);
  rk__buf_release(&msg);
  rk__arena_release(&arena);
  return rc;
}

rk_err rk_spec_json(const rk_spec *spec, char **out, size_t *outlen) {
  if (!spec || !out) return RK_EINVAL;
  char *p = malloc(spec->json_len + 1);
  if (!p) return RK_ENOMEM;
  memcpy(p, spec->json, spec->json_len + 1);
  *out = p;
  if (outlen) *outlen = spec->json_len;
  return RK_OK;
}

int rk_spec_needs_groups(const rk_spec *spec) {
  return spec && (spec->adv.estimator != RK__ADV_NONE || spec->filter.enabled);
}

size_t rk_spec_ncomponents(const rk_spec *spec) { return spec ? spec->ncomp : 0; }

const char *rk_spec_component(const rk_spec *spec, size_t k) {
  return spec && k < spec->ncomp ? spec->comp_names[k] : NULL;
}

const char *rk_fn_name(size_t i, const char **summary) {
  const rk__fn *f = rk__registry_at(i);
  if (!f) return NULL;
  if (summary) *summary = f->summary;
  return f->name;
}

/* ----------------------------------------------------------- evaluation */

rk_status rk__status_worse(rk_status a, rk_status b) {
  static const int rank[RK_STATUS_COUNT] = {
      [RK_STATUS_OK] = 0, [RK_STATUS_UNPARSEABLE] = 1,
      [RK_STATUS_INVALID_REFERENCE] = 2, [RK_STATUS_TIMEOUT] = 3,
      [RK_STATUS_ERROR] = 4};
  return rank[a] >= rank[b] ? a : b;
}

static int fails_value(rk_status s) {
  return s == RK_STATUS_INVALID_REFERENCE || s == RK_STATUS_TIMEOUT ||
         s == RK_STATUS_ERROR;
}

static rk_status eval(const rk__node *n, rk__call *c, double *v);

static void note(const rk__node *n, rk__call *c, double v) {
  rk__eval_state *st = c->engine;
  if (n->comp < 0 || st->nested) return;
  st->comp[n->comp] = v;
}

/* Explanation of an inner named node. */
static void explain_inner(const rk__node *n, rk__call *c, const char *fmt, ...)
    RK__PRINTF(3, 4);
static void explain_inner(const rk__node *n, rk__call *c, const char *fmt, ...) {
  rk__eval_state *st = c->engine;
  if (n->comp < 0 || st->nested || !st->comp_explain) return;
  rk__buf *b = &st->comp_explain[n->comp];
  rk__buf_reset(b);
  va_list ap;
  va_start(ap, fmt);
  rk__buf_vprintf(b, fmt, ap);
  va_end(ap);
}

static const char *kid_label(const rk__node *k) {
  return k->name ? k->name : (k->kind == N_LEAF ? k->fn->name : kind_names[k->kind]);
}

static rk_status eval_leaf(const rk__node *n, rk__call *c, double *v) {
  rk__eval_state *st = c->engine;
  if (c->budget->used > c->budget->limit) {
    *v = NAN;
    return RK_STATUS_TIMEOUT;
  }
  if (!c->rec->has_response && !n->fn->no_response) {
    *v = NAN;
    return rk__fail(c, "the record has no 'response' string (aliases: "
                    "solution_str, completion, or a chat message list)");
  }
  rk__buf *saved = c->explain;
  int own = n->comp >= 0 && !st->nested && st->comp_explain;
  if (own) {
    c->explain = &st->comp_explain[n->comp];
    rk__buf_reset(c->explain);
  }
  double x = NAN;
  rk_status s = n->fn->score(n->cfg, c, &x);
  if ((unsigned)s >= RK_STATUS_COUNT)
    s = rk__fail(c, "%s: returned an invalid status", n->fn->name);
  if (fails_value(s)) {
    x = NAN;
    if (s == RK_STATUS_TIMEOUT && c->budget->used > c->budget->limit)
      rk__explain(c, "step budget exhausted (%llu steps)",
                  (unsigned long long)c->budget->limit);
  } else if (!isfinite(x)) {
    s = rk__fail(c, "%s: computed a non-finite value", n->fn->name);
    x = NAN;
  }
  if (own) c->explain = saved;
  *v = x;
  return s;
}

static rk_status eval_route(const rk__node *n, rk__call *c, double *v) {
  const rk__record *r = c->rec;
  const rk__node *pick = NULL;
  if (r->has_task) {
    for (size_t i = 0; i < n->nkids && !pick; i++) {
      const char *k = n->keys[i];
      size_t kl = strlen(k);
      if (kl && k[kl - 1] == '*') {
        /* "aime*": prefix match. */
        if (r->task.n >= kl - 1 && memcmp(r->task.p, k, kl - 1) == 0) pick = n->kids[i];
      } else if (rk__str_eq_cstr(r->task, k)) {
        pick = n->kids[i];
      }
    }
  }
  if (!pick) pick = n->fallback;
  if (!pick) {
    *v = NAN;
    if (!r->has_task)
      return rk__fail(c, "route: the record has no 'task' (or 'data_source') "
                      "and the route has no \"*\" default");
    return rk__fail(c, "route: no route for task '%.*s' and no \"*\" default",
                    (int)(r->task.n > 80 ? 80 : r->task.n), r->task.p);
  }
  rk_status s = eval(pick, c, v);
  explain_inner(n, c, "task '%.*s' -> %s", (int)(r->task.n > 80 ? 80 : r->task.n),
                r->task.p, kid_label(pick));
  return s;
}

static rk_status eval(const rk__node *n, rk__call *c, double *v) {
  rk_status s = RK_STATUS_OK, ks;
  double x, acc;
  switch (n->kind) {
    case N_LEAF:
      s = eval_leaf(n, c, v);
      break;
    case N_SUM:
    case N_MEAN: {
      double wsum = 0;
      acc = 0;
      for (size_t i = 0; i < n->nkids; i++) {
        ks = eval(n->kids[i], c, &x);
        s = rk__status_worse(s, ks);
        acc += n->kids[i]->weight * x;
        wsum += n->kids[i]->weight;
      }
      if (n->kind == N_MEAN) acc = wsum != 0 ? acc / wsum : NAN;
      *v = acc;
      break;
    }
    case N_PRODUCT:
      acc = 1;
      for (size_t i = 0; i < n->nkids; i++) {
        ks = eval(n->kids[i], c, &x);
        s = rk__status_worse(s, ks);
        acc *= x;
      }
      *v = acc;
      break;
    case N_MIN:
    case N_MAX:
      acc = n->kind == N_MIN ? INFINITY : -INFINITY;
      for (size_t i = 0; i < n->nkids; i++) {
        ks = eval(n->kids[i], c, &x);
        s = rk__status_worse(s, ks);
        if (isnan(x) || isnan(acc))
          acc = NAN;
        else if (n->kind == N_MIN ? x < acc : x > acc)
          acc = x;
      }
      *v = acc;
      break;
    case N_GATE:
      s = eval(n->kids[0], c, &x);
      if (isnan(x)) {
        *v = NAN;
      } else if (x < n->a) {
        /* The condition failed: the inner node is not evaluated, so its
         * status (say, no answer found) does not count either. */
        *v = n->b;
        explain_inner(n, c, "%s = %g < %g: gate closed, value %g",
                      kid_label(n->kids[0]), x, n->a, n->b);
      } else {
        ks = eval(n->kids[1], c, v);
        s = rk__status_worse(s, ks);
        explain_inner(n, c, "%s = %g >= %g: gate open", kid_label(n->kids[0]), x, n->a);
      }
      break;
    case N_TIERS: {
      /* Lexicographic: tiers are scores in [0, 1]. Leading passed tiers
       * (score >= pass) count 1 each; the first failed tier adds its score,
       * which is < pass <= 1, so passing a higher tier always outweighs
       * anything below it. Later tiers are not evaluated. */
      size_t passed = 0;
      double partial = 0;
      *v = NAN;
      for (size_t i = 0; i < n->nkids; i++) {
        ks = eval(n->kids[i], c, &x);
        s = rk__status_worse(s, ks);
        if (isnan(x)) break;
        if (x >= n->a) {
          passed++;
          continue;
        }
        partial = x < 0 ? 0 : x;
        break;
      }
      if (!fails_value(s)) {
        double total = (double)passed + partial;
        *v = n->b ? total / (double)n->nkids : total;
        explain_inner(n, c, "%zu of %zu tiers passed", passed, n->nkids);
      }
      break;
    }
    case N_CLIP:
      s = eval(n->kids[0], c, &x);
      *v = x < n->a ? n->a : x > n->b ? n->b : x;
      break;
    case N_AFFINE:
      s = eval(n->kids[0], c, &x);
      *v = n->a * x + n->b;
      break;
    case N_THRESHOLD:
      s = eval(n->kids[0], c, &x);
      *v = isnan(x) ? NAN : (x >= n->a ? 1.0 : 0.0);
      break;
    case N_ROUTE:
      s = eval_route(n, c, v);
      break;
  }
  if (fails_value(s)) *v = NAN;
  note(n, c, *v);
  return s;
}

const rk__fn *rk__spec_root_fn(const rk_spec *spec, const void **cfg, const char **kind) {
  const rk__node *n = spec->root;
  *kind = kind_names[n->kind];
  *cfg = n->kind == N_LEAF ? n->cfg : NULL;
  return n->kind == N_LEAF ? n->fn : NULL;
}

rk_status rk__spec_eval(const rk_spec *spec, rk__call *c, double *reward) {
  return eval(spec->root, c, reward);
}

rk_status rk__node_eval(const rk__node *node, rk__call *c, double *value) {
  rk__eval_state *st = c->engine;
  st->nested++;
  rk__buf *saved = c->explain;
  rk_status s = eval(node, c, value);
  c->explain = saved;
  st->nested--;
  return s;
}
