/*
 * fuzz_json.c - differential fuzzing of rk__json_parse against jansson,
 * plus round trips through our writers.
 *
 * For every input: both parsers must agree on acceptance, except for the
 * differences docs/json.md lists (each is checked narrowly below, never by
 * skipping the input); when both accept, the trees must be equal. Our tree
 * is then written with rk__json_put_val and read back, and must be equal
 * to itself. Any disagreement is a __builtin_trap().
 *
 *   CC=clang CXX=clang++ cmake -S . -B build-fuzz-json -DRK_FUZZ=ON \
 *     -DCMAKE_BUILD_TYPE=Debug && cmake --build build-fuzz-json --target fuzz_json
 *   build-fuzz-json/fuzz_json -max_total_time=180 fuzz/corpus/json
 */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

#define CHECK(c)                 \
  do {                           \
    if (!(c)) __builtin_trap();  \
  } while (0)

/* jansson's integers are exact int64; ours are the nearest double. Both
 * conversions round the same integer to nearest, so they must be equal. */
static int same_num(double ours, const json_t *j) {
  if (json_is_integer(j)) return ours == (double)json_integer_value(j);
  if (!json_is_real(j)) return 0;
  double r = json_real_value(j);
  return ours == r && signbit(ours) == signbit(r);
}

/* Ours vs jansson. Duplicate keys: jansson keeps one member per key, at the
 * position of its first occurrence, holding the last value. */
static int same_tree(const rk__jval *v, const json_t *j) {
  switch (v->type) {
  case RK__JNULL: return json_is_null(j);
  case RK__JTRUE: return json_is_true(j);
  case RK__JFALSE: return json_is_false(j);
  case RK__JNUM: return same_num(v->u.num, j);
  case RK__JSTR:
    return json_is_string(j) && json_string_length(j) == v->u.str.n &&
           memcmp(json_string_value(j), v->u.str.p, v->u.str.n) == 0;
  case RK__JARR:
    if (!json_is_array(j) || json_array_size(j) != v->u.arr.n) return 0;
    for (size_t i = 0; i < v->u.arr.n; i++)
      if (!same_tree(&v->u.arr.items[i], json_array_get(j, i))) return 0;
    return 1;
  case RK__JOBJ: {
    if (!json_is_object(j)) return 0;
    void *it = json_object_iter((json_t *)j);
    for (size_t i = 0; i < v->u.obj.n; i++) {
      const rk__str k = v->u.obj.items[i].key;
      int seen = 0;
      for (size_t p = 0; p < i && !seen; p++)
        seen = rk__str_eq(v->u.obj.items[p].key, k);
      if (seen) continue; /* not a first occurrence */
      if (!it || json_object_iter_key_len(it) != k.n ||
          memcmp(json_object_iter_key(it), k.p, k.n) != 0)
        return 0;
      const rk__jval *last = rk__json_getn(v, k.p, k.n);
      if (!same_tree(last, json_object_iter_value(it))) return 0;
      it = json_object_iter_next((json_t *)j, it);
    }
    return it == NULL;
  }
  }
  return 0;
}

/* Ours vs ours, exactly (duplicates, order, number bits). */
static int equal(const rk__jval *a, const rk__jval *b) {
  if (a->type != b->type) return 0;
  switch (a->type) {
  case RK__JNUM:
    return memcmp(&a->u.num, &b->u.num, sizeof a->u.num) == 0 &&
           rk__str_eq(a->raw, b->raw);
  case RK__JSTR: return rk__str_eq(a->u.str, b->u.str);
  case RK__JARR:
    if (a->u.arr.n != b->u.arr.n) return 0;
    for (size_t i = 0; i < a->u.arr.n; i++)
      if (!equal(&a->u.arr.items[i], &b->u.arr.items[i])) return 0;
    return 1;
  case RK__JOBJ:
    if (a->u.obj.n != b->u.obj.n) return 0;
    for (size_t i = 0; i < a->u.obj.n; i++)
      if (!rk__str_eq(a->u.obj.items[i].key, b->u.obj.items[i].key) ||
          !equal(&a->u.obj.items[i].val, &b->u.obj.items[i].val))
        return 0;
    return 1;
  default: return 1;
  }
}

/* Every raw span lies in the input and looks like its value; strings
 * without escapes point into the input. */
static void check_raw(const rk__jval *v, const char *d, size_t n) {
  CHECK(v->raw.n > 0 && v->raw.p >= d && v->raw.p + v->raw.n <= d + n);
  char first = v->raw.p[0], last = v->raw.p[v->raw.n - 1];
  switch (v->type) {
  case RK__JNULL: CHECK(rk__str_eq_cstr(v->raw, "null")); break;
  case RK__JTRUE: CHECK(rk__str_eq_cstr(v->raw, "true")); break;
  case RK__JFALSE: CHECK(rk__str_eq_cstr(v->raw, "false")); break;
  case RK__JNUM:
    CHECK(first == '-' || (first >= '0' && first <= '9'));
    CHECK(last >= '0' && last <= '9');
    break;
  case RK__JSTR:
    CHECK(first == '"' && last == '"' && v->raw.n >= 2);
    if (!memchr(v->raw.p, '\\', v->raw.n))
      CHECK(v->u.str.p == v->raw.p + 1 && v->u.str.n == v->raw.n - 2);
    break;
  case RK__JARR:
    CHECK(first == '[' && last == ']');
    for (size_t i = 0; i < v->u.arr.n; i++) check_raw(&v->u.arr.items[i], d, n);
    break;
  case RK__JOBJ:
    CHECK(first == '{' && last == '}');
    for (size_t i = 0; i < v->u.obj.n; i++) {
      const rk__jmember *m = &v->u.obj.items[i];
      CHECK(m->raw_key.n >= 2 && m->raw_key.p[0] == '"' &&
            m->raw_key.p[m->raw_key.n - 1] == '"');
      CHECK(m->raw_key.p > v->raw.p && m->raw_key.p < m->val.raw.p);
      check_raw(&m->val, d, n);
    }
    break;
  }
}

/* Documented difference: jansson drops one NUL byte that directly follows
 * a number or a literal. When we reject exactly there, drop that byte and
 * parse again; the result must then match jansson's tree. */
static int nul_after_token(const char *d, const rk__json_error *err) {
  size_t o = err->offset;
  if (o == 0 || d[o] != '\0') return 0;
  char prev = d[o - 1];
  if (!((prev >= '0' && prev <= '9') || prev == 'e' || prev == 'l')) return 0;
  return strcmp(err->msg, "unexpected byte 0x00 after value") == 0 ||
         strstr(err->msg, "after array item, got byte 0x00") != NULL ||
         strstr(err->msg, "after object member, got byte 0x00") != NULL;
}

static void check_writers(const uint8_t *d, size_t n, rk__arena *a) {
  rk__buf b;
  rk__buf_init(&b, 0);
  /* Any bytes make a valid JSON string; valid UTF-8 comes back unchanged
   * (jansson's json_stringn is the UTF-8 oracle). NUL is written as
   * \u0000, which strict readers refuse, so skip inputs holding one. */
  if (!memchr(d, 0, n)) {
    CHECK(rk__json_put_str(&b, (const char *)d, n) == 0);
    rk__jval *v;
    rk__json_error err;
    rk__arena_reset(a);
    CHECK(rk__json_parse(b.p, b.n, a, NULL, &v, &err) == 0);
    CHECK(v->type == RK__JSTR);
    json_t *js = json_stringn((const char *)d, n);
    if (js) CHECK(v->u.str.n == n && memcmp(v->u.str.p, d, n) == 0);
    json_decref(js);
  }
  /* Doubles from raw bits: shortest text reads back bit for bit. */
  if (n >= 8) {
    double x;
    memcpy(&x, d, 8);
    char t[32];
    size_t k = rk__fmt_double(t, x);
    CHECK(k < 32 && strlen(t) == k);
    if (isfinite(x)) {
      double y = strtod(t, NULL);
      CHECK(memcmp(&x, &y, 8) == 0);
    } else {
      CHECK(strcmp(t, "null") == 0);
    }
  }
  rk__buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  const char *d = (const char *)data;
  rk__arena a;
  rk__arena_init(&a, (size_t)256 << 20);
  /* jansson's depth cap is 2048; use the same so acceptance can agree. */
  rk__json_limits lim = {2048, 0};
  rk__jval *v = NULL;
  rk__json_error err;
  int rc = rk__json_parse(d, n, &a, &lim, &v, &err);
  CHECK(rc == 0 || rc == -1);
  CHECK((rc == 0) == (v != NULL));

  /* Python's constants (py_constants) only add NaN, Infinity and
   * -Infinity: what the strict parser reads comes out the same, and
   * anything more needs one of those words in the text. */
  {
    rk__json_limits plim = {2048, 0, 1};
    rk__arena ap;
    rk__arena_init(&ap, (size_t)256 << 20);
    rk__jval *vp = NULL;
    int rcp = rk__json_parse(d, n, &ap, &plim, &vp, NULL);
    if (rc == 0) CHECK(rcp == 0 && equal(v, vp));
    if (rc != 0 && rcp == 0) CHECK(memmem(d, n, "NaN", 3) || memmem(d, n, "Infinity", 8));
    rk__arena_release(&ap);
  }
  if (rc == -1) CHECK(err.offset <= n && err.line >= 1 && err.column >= 1 &&
                      err.msg[0] != '\0');

  json_error_t je;
  json_t *j = json_loadb(d, n, JSON_DECODE_ANY, &je);
  if (rc == 0 && !j) {
    /* Documented: integers beyond int64 ("too big integer" in jansson) are
     * accepted. With integers read as reals jansson must then agree. */
    CHECK(json_error_code(&je) == json_error_numeric_overflow &&
          strstr(je.text, "too big") != NULL);
    j = json_loadb(d, n, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
    CHECK(j != NULL);
  }
  if (rc == -1 && j) {
    char *copy = malloc(n ? n : 1);
    CHECK(copy != NULL);
    memcpy(copy, d, n);
    size_t m = n;
    while (rc == -1 && nul_after_token(copy, &err)) {
      memmove(copy + err.offset, copy + err.offset + 1, m - err.offset - 1);
      m--;
      rk__arena_reset(&a);
      rc = rk__json_parse(copy, m, &a, &lim, &v, &err);
    }
    CHECK(rc == 0); /* any other rejection of what jansson accepts is a bug */
    CHECK(same_tree(v, j));
    free(copy);
    json_decref(j);
    rk__arena_release(&a);
    return 0;
  }
  CHECK((rc == 0) == (j != NULL));
  if (rc == 0) {
    CHECK(same_tree(v, j));
    check_raw(v, d, n);

    /* Write it compactly and read it back: the same tree. */
    rk__buf b;
    rk__buf_init(&b, 0);
    CHECK(rk__json_put_val(&b, v) == 0);
    rk__arena a2;
    rk__arena_init(&a2, (size_t)256 << 20);
    rk__jval *v2;
    CHECK(rk__json_parse(b.p, b.n, &a2, &lim, &v2, &err) == 0);
    CHECK(equal(v, v2));
    /* Compact output has no whitespace outside strings, so it is never
     * longer than the input. */
    CHECK(b.n <= n);
    rk__arena_release(&a2);
    rk__buf_release(&b);
  }
  json_decref(j);

  /* The default depth cap (512) may only add "nesting deeper" errors. */
  rk__jval *v3;
  rk__json_error err3;
  rk__arena_reset(&a);
  int rc3 = rk__json_parse(d, n, &a, NULL, &v3, &err3);
  if (rc3 != rc || (rc == -1 && err3.offset != err.offset))
    CHECK(rc3 == -1 && strcmp(err3.msg, "nesting deeper than 512") == 0);

  check_writers(data, n, &a);
  rk__arena_release(&a);
  return 0;
}
