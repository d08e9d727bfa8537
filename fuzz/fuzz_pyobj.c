/*
 * fuzz_pyobj.c - records read in place from Python objects
 * (src/json/pyobj.c, rk_py_records) and scored with their responses as a
 * str's code units (rk_score_pyrecords), on object trees built from the
 * input: stand-in objects with CPython's shape (a type pointer after the
 * count, strs with a state word and their code units), behind an rk_pyapi
 * of functions written here.
 *
 * The trees hold every type the reader takes, strs of every kind with any
 * code units (lone surrogates, units past U+10FFFF, NUL), keys that are
 * not str, ints that overflow, objects of an unknown type, nesting past
 * the limit, and strs whose UTF-8 the stand-in refuses (as CPython does
 * for lone surrogates).
 *
 * Checks: the reader returns RK_OK or RK_EINVAL; every reference it takes
 * is given back (by rk_py_records_free, or at once when it refuses); the
 * texts are printable ASCII and JSON objects the reader accepts, unless
 * they hold what json.dumps writes but JSON readers refuse (NaN,
 * Infinity, lone surrogates, \u0000); kinds are 0, 1, 2 or 4; scored, each
 * record gives one result line, a JSON object; rk_py_score on the same
 * list refuses it exactly when rk_py_records does, else gives the results
 * of the calls it stands for and their lines where they are read (errors,
 * explanations), with the GIL let go and taken back once. Differential checks
 * against CPython itself are in python/tests/test_in_place.py.
 *
 *   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DRK_FUZZ=ON \
 *     -DCMAKE_BUILD_TYPE=Debug && cmake --build build-fuzz --target fuzz_pyobj
 *   build-fuzz/fuzz_pyobj -max_total_time=60 fuzz/corpus/pyobj
 */
#define _GNU_SOURCE /* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "rewardkit.h"

#define CHECK(c)                 \
  do {                           \
    if (!(c)) __builtin_trap();  \
  } while (0)

#define MAX_NODES 2048
#define COMPACT (1u << 5)
#define ASCII (1u << 6)

typedef struct fobj {
  ptrdiff_t refcnt;
  const void *type;
  size_t length;         /* str: code units; dict: pairs; list, tuple: items */
  uint32_t state;        /* str: kind << 2 | COMPACT | ASCII */
  int overflow;          /* int past 64 bits */
  long long i;
  double f;
  struct fobj **items;   /* dict: key, value, key, value, ... */
  unsigned char data[64];
} fobj;

static const char T_DICT = 0, T_LIST = 0, T_TUPLE = 0, T_STR = 0, T_INT = 0, T_FLOAT = 0,
                  T_OTHER = 0;
static fobj none_obj = {1, &T_OTHER}, true_obj = {1, &T_OTHER}, false_obj = {1, &T_OTHER};

static int f_dict_next(void *d, ptrdiff_t *pos, void **k, void **v) {
  fobj *o = d;
  if (*pos < 0 || (size_t)*pos >= o->length) return 0;
  *k = o->items[2 * *pos];
  *v = o->items[2 * *pos + 1];
  ++*pos;
  return 1;
}
static ptrdiff_t f_size(void *s) { return (ptrdiff_t)((fobj *)s)->length; }
static void *f_item(void *s, ptrdiff_t i) {
  fobj *o = s;
  return i >= 0 && (size_t)i < o->length ? o->items[i] : NULL;
}
/* Not compact: the UTF-8 of the bytes, refused (as CPython refuses lone
 * surrogates) when they are not ASCII. */
static const char *f_utf8(void *s, ptrdiff_t *n) {
  fobj *o = s;
  for (size_t i = 0; i < o->length; i++)
    if (o->data[i] >= 0x80) return NULL;
  *n = (ptrdiff_t)o->length;
  return (const char *)o->data;
}
static double f_float(void *f) { return ((fobj *)f)->f; }
static long long f_long(void *i, int *overflow) {
  *overflow = ((fobj *)i)->overflow;
  return ((fobj *)i)->i;
}
static void f_clear(void) {}
static void f_incref(void *o) { ((fobj *)o)->refcnt++; }
static void f_decref(void *o) { ((fobj *)o)->refcnt--; }
static ptrdiff_t f_len(void *s) { return (ptrdiff_t)((fobj *)s)->length; }

static const rk_pyapi api = {
    .type_offset = offsetof(fobj, type),
    .dict_type = &T_DICT, .list_type = &T_LIST, .tuple_type = &T_TUPLE, .str_type = &T_STR,
    .int_type = &T_INT, .float_type = &T_FLOAT,
    .none = &none_obj, .true_ = &true_obj, .false_ = &false_obj,
    .dict_next = f_dict_next, .list_size = f_size, .list_item = f_item, .tuple_size = f_size,
    .tuple_item = f_item, .utf8 = f_utf8, .float_value = f_float, .long_value = f_long,
    .err_clear = f_clear, .incref = f_incref, .decref = f_decref, .str_length = f_len,
    .state_offset = offsetof(fobj, state), .kind_shift = 2, .compact_mask = COMPACT,
    .ascii_mask = ASCII, .ascii_data = offsetof(fobj, data), .compact_data = offsetof(fobj, data)};

typedef struct gen {
  const uint8_t *p, *e;
  fobj *nodes;
  size_t nn;
} gen;

static unsigned take(gen *g) { return g->p < g->e ? *g->p++ : 0; }

static fobj *node(gen *g, const void *type) {
  if (g->nn >= MAX_NODES) return &none_obj;
  fobj *o = &g->nodes[g->nn++];
  memset(o, 0, sizeof *o);
  o->refcnt = 1;
  o->type = type;
  return o;
}

static fobj *str_node(gen *g) {
  fobj *o = node(g, &T_STR);
  if (o == &none_obj) return o;
  unsigned how = take(g) % 6, kind = how == 1 ? 1 : how == 2 ? 2 : how == 3 ? 4 : 1;
  size_t n = take(g) % 16, max = sizeof o->data / kind;
  if (n > max) n = max;
  o->length = n;
  for (size_t i = 0; i < n * kind; i++) o->data[i] = (uint8_t)take(g);
  if (how == 0 || how == 5) { /* ASCII (compact), or not compact (UTF-8 asked) */
    for (size_t i = 0; i < n; i++) o->data[i] &= 0x7F;
    if (how == 5 && take(g) % 4 == 0 && n) o->data[0] = 0xC3; /* refused by f_utf8 */
    o->state = how == 0 ? COMPACT | ASCII | 1u << 2 : 0;
  } else {
    o->state = COMPACT | kind << 2;
  }
  return o;
}

static fobj *value(gen *g, int depth) {
  unsigned op = take(g) % (depth > 520 ? 5 : 9);
  if (g->p >= g->e && op >= 7) op = 3;
  switch (op) {
    case 0: return str_node(g);
    case 1: {
      fobj *o = node(g, &T_INT);
      if (o == &none_obj) return o;
      o->i = (long long)((uint64_t)take(g) << 56 | take(g) << 8 | take(g));
      o->overflow = take(g) % 16 == 0;
      return o;
    }
    case 2: {
      fobj *o = node(g, &T_FLOAT);
      if (o == &none_obj) return o;
      uint64_t u = 0;
      for (int i = 0; i < 8; i++) u = u << 8 | take(g);
      memcpy(&o->f, &u, sizeof o->f);
      return o;
    }
    case 3: return take(g) % 3 == 0 ? &none_obj : take(g) % 2 ? &true_obj : &false_obj;
    case 4: return take(g) % 8 ? str_node(g) : node(g, &T_OTHER); /* an unknown type */
    case 5:
    case 6: /* a one-item chain: deep nesting cheaply */
    case 7:
    default: {
      const void *t = op == 7 ? &T_DICT : op == 8 ? &T_LIST : take(g) % 2 ? &T_TUPLE : &T_LIST;
      size_t n = op == 5 || op == 6 ? 1 : take(g) % 4;
      fobj *o = node(g, t);
      if (o == &none_obj) return o;
      size_t slots = t == &T_DICT ? 2 * n : n;
      o->items = calloc(slots ? slots : 1, sizeof *o->items);
      if (!o->items) return &none_obj;
      o->length = n;
      for (size_t i = 0; i < slots; i++)
        o->items[i] = t == &T_DICT && i % 2 == 0
                          ? (take(g) % 8 ? str_node(g) : value(g, depth + 1)) /* key */
                          : value(g, depth + 1);
      return o;
    }
  }
}

/* A record: a dict, often with a str "response". */
static fobj *record(gen *g) {
  if (take(g) % 8 == 0) return value(g, 0);
  fobj *o = node(g, &T_DICT);
  if (o == &none_obj) return o;
  size_t n = 1 + take(g) % 4;
  o->items = calloc(2 * n, sizeof *o->items);
  if (!o->items) return &none_obj;
  o->length = n;
  for (size_t i = 0; i < n; i++) {
    fobj *k = str_node(g);
    if (i == 0 && take(g) % 2 && k != &none_obj) {
      memcpy(k->data, "response", 8);
      k->length = 8;
      k->state = COMPACT | ASCII | 1u << 2;
    }
    o->items[2 * i] = k;
    o->items[2 * i + 1] = value(g, 1);
  }
  return o;
}

static int printable(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E) return 0;
  return 1;
}

static rk_spec *spec;
static rk_ctx *ctx;

/* rk_py_score's GIL hand-off: every release is followed by one take-back. */
static int gil_out;
static void *f_save(void) {
  CHECK(!gil_out);
  gil_out = 1;
  return &gil_out;
}
static void f_restore(void *st) {
  CHECK(gil_out && st == &gil_out);
  gil_out = 0;
}

/* rk_py_score on the same list: RK_EINVAL exactly when rk_py_records
 * refused it, else the results the three calls gave (want, nwant bytes
 * of rk_batch_pymarshal data, werr errors), and the lines of general
 * batch b when it keeps its own. */
static void check_direct(fobj *list, rk_err want_rc, const rk_score_options *so,
                         const char *want, size_t nwant, size_t werr, const rk_batch *b) {
  rk_pyapi with_gil = api;
  with_gil.save_thread = f_save;
  with_gil.restore_thread = f_restore;
  rk_py_result res;
  rk_err rc = rk_py_score(&with_gil, ctx, spec, so, 0, list, &res);
  CHECK(!gil_out);
  CHECK(rc == want_rc);
  if (rc != RK_OK) {
    CHECK(!res.batch && !res.data && !res.len && !res.errors);
    return;
  }
  CHECK(res.len == nwant && memcmp(res.data, want, nwant) == 0 && res.errors == werr);
  CHECK((res.batch != NULL) == (so->explain || werr));
  if (res.batch) {
    CHECK(rk_batch_count(res.batch) == rk_batch_count(b));
    for (size_t i = 0; i < rk_batch_count(b); i++) {
      size_t n1 = 0, n2 = 0;
      const char *l1 = rk_batch_line(b, i, &n1), *l2 = rk_batch_line(res.batch, i, &n2);
      /* Without explain only an error's line is whole: the others hold
       * just their status. */
      static const char err[] = "\"status\":\"error\"";
      int whole = so->explain || memmem(l1, n1, err, sizeof err - 1) != NULL;
      if (whole)
        CHECK(n1 == n2 && memcmp(l1, l2, n1) == 0);
      else
        CHECK(n2 >= 12 && memcmp(l2, "{\"status\":\"", 11) == 0 && l2[n2 - 1] == '}');
    }
    rk_batch_free(res.batch);
  }
  rk_free(res.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!spec) {
    const char *js = "{\"reward\":{\"sum\":[{\"fn\":\"exact\"},"
                     "{\"fn\":\"field\",\"args\":{\"field\":\"x\",\"default\":0}}]}}";
    rk_ctx_options o = {.threads = 2};
    if (rk_spec_compile(js, strlen(js), &spec, NULL, 0) != RK_OK ||
        rk_ctx_create(&o, &ctx) != RK_OK)
      __builtin_trap();
  }
  gen g = {data, data + size, calloc(MAX_NODES, sizeof(fobj)), 0};
  if (!g.nodes) return 0;
  fobj list = {1, &T_LIST};
  fobj *recs[4];
  list.length = 1 + take(&g) % 4;
  list.items = recs;
  for (size_t i = 0; i < list.length; i++) recs[i] = record(&g);

  rk_pyrecords *r = NULL;
  rk_err rc = rk_py_records(&api, &list, 0, list.length, &r);
  CHECK(rc == RK_OK || rc == RK_EINVAL);
  CHECK((rc == RK_OK) == (r != NULL));
  if (r) {
    CHECK(r->n == list.length);
    rk__arena a;
    rk__arena_init(&a, 0);
    for (size_t i = 0; i < r->n; i++) {
      CHECK(r->kinds[i] == 0 || r->kinds[i] == 1 || r->kinds[i] == 2 || r->kinds[i] == 4);
      CHECK(printable(r->lines[i], r->lens[i]));
      rk__buf t;
      rk__buf_init(&t, 0);
      rk__buf_put(&t, r->lines[i], r->lens[i]);
      rk__jval *v = NULL;
      const char *s = rk__buf_cstr(&t);
      if (!(strstr(s, "NaN") || strstr(s, "Infinity") || strstr(s, "\\ud") ||
            strstr(s, "\\u0000")))
        CHECK(rk__json_parse(r->lines[i], r->lens[i], &a, NULL, &v, NULL) == 0 &&
              v->type == RK__JOBJ);
      rk__buf_release(&t);
    }
    rk__arena_release(&a);
    rk_score_options so = {.results_only = 1, .max_line = 1 << 16, .step_budget = 100000,
                           .explain = take(&g) % 2};
    rk_batch *b = NULL;
    CHECK(rk_score_pyrecords(ctx, spec, &so, r, &b) == RK_OK && rk_batch_count(b) == r->n);
    char *pm = NULL;
    size_t npm = 0, nerr = 0;
    CHECK(rk_batch_pymarshal(b, spec, 0, &pm, &npm, &nerr) == RK_OK);
    check_direct(&list, RK_OK, &so, pm, npm, nerr, b);
    rk_free(pm);
    for (size_t i = 0; i < r->n; i++) {
      size_t n = 0;
      const char *line = rk_batch_line(b, i, &n);
      rk__arena la;
      rk__arena_init(&la, 0);
      rk__jval *v = NULL;
      CHECK(rk__json_parse(line, n, &la, NULL, &v, NULL) == 0 && v->type == RK__JOBJ);
      rk__arena_release(&la);
    }
    rk_batch_free(b);
    rk_py_records_free(r);
  } else {
    rk_score_options so = {.results_only = 1};
    check_direct(&list, rc, &so, NULL, 0, 0, NULL);
  }
  /* Every reference taken was given back. */
  for (size_t i = 0; i < g.nn; i++) {
    CHECK(g.nodes[i].refcnt == 1);
    free(g.nodes[i].items);
  }
  free(g.nodes);
  return 0;
}
