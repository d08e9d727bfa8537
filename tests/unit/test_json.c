/*
 * test_json.c - the strict JSON reader and the JSON writers (src/json).
 *
 * Expected results come from RFC 8259 and the Unicode tables (hand-worked
 * cases), from jansson (every accept/reject case is also run through
 * json_loadb, so the "like jansson" claim is checked, not assumed), from
 * glibc strtod (number values, round trips) and from a deliberately naive
 * code-point decoder written here (random UTF-8 acceptance).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "json/json.h"
#include "test.h"

static rk__arena A;

static int parse_n(const char *s, size_t n, rk__jval **v, rk__json_error *e) {
  rk__arena_reset(&A);
  return rk__json_parse(s, n, &A, NULL, v, e);
}

#define S(lit) lit, sizeof(lit) - 1

/* Deterministic pseudo-random numbers (splitmix64). */
static uint64_t rng_state = 12345;
static uint64_t rnd64(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
static unsigned rnd(unsigned n) { return (unsigned)(rnd64() % n); }

static int jansson_accepts(const char *s, size_t n) {
  json_error_t e;
  json_t *j = json_loadb(s, n, JSON_DECODE_ANY, &e);
  json_decref(j);
  return j != NULL;
}

/* ------------------------------------------------------------ accept */

static const struct {
  const char *in;
  size_t n;
} accept_cases[] = {
    {S("0")}, {S("-0")}, {S("1")}, {S("-1")}, {S("0.0")}, {S("1e5")},
    {S("1E+5")}, {S("1e-5")}, {S("-1.5e10")}, {S("1e308")}, {S("1e-400")},
    {S("true")}, {S("false")}, {S("null")}, {S("\"\"")}, {S("\"a\"")},
    {S("[]")}, {S("{}")}, {S(" [ ] ")}, {S("\t\r\n 1 \t\r\n")},
    {S("[1,[2,[3]]]")}, {S("{\"a\":{\"b\":[]}}")}, {S("\"\\u00e9\"")},
    {S("\"\\ud83d\\ude00\"")}, {S("\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"")},
    {S("\"\xf4\x8f\xbf\xbf\"")},  /* U+10FFFF */
    {S("\"\xed\x9f\xbf\"")},      /* U+D7FF, just below the surrogates */
    {S("\"\xee\x80\x80\"")},      /* U+E000, just above */
    {S("\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xf0\x90\x80\x80\"")}, /* minimal forms */
    {S("\"\x7f\"")}, {S("{\"a\":1,\"a\":2}")},
    {S("[\"\\u0001\", \"\\u001F\", \"\\uFFFF\"]")},
};

TEST(accepts_like_jansson) {
  for (size_t i = 0; i < sizeof accept_cases / sizeof accept_cases[0]; i++) {
    rk__jval *v;
    rk__json_error err;
    int rc = parse_n(accept_cases[i].in, accept_cases[i].n, &v, &err);
    if (rc != 0)
      RK_T_FAIL_("case %zu '%s' rejected: %s", i, accept_cases[i].in, err.msg);
    if (!jansson_accepts(accept_cases[i].in, accept_cases[i].n))
      RK_T_FAIL_("case %zu '%s': jansson rejects it", i, accept_cases[i].in);
  }
}

/* ------------------------------------------------------------ reject */

static const struct {
  const char *in;
  size_t n;
  const char *msg;
  size_t off;
} reject_cases[] = {
    {S(""), "empty input: expected a JSON value", 0},
    {S(" \n "), "empty input", 3},
    {S("[1,]"), "trailing comma before ']'", 3},
    {S("{\"a\":1,}"), "trailing comma before '}'", 7},
    {S("[1 2]"), "expected ',' or ']' after array item, got '2'", 3},
    {S("{\"a\" 1}"), "expected ':' after object key, got '1'", 5},
    {S("{1:2}"), "expected a string key in object, got '1'", 1},
    {S("{\"a\":1 \"b\":2}"), "expected ',' or '}' after object member, got '\"'", 7},
    {S("01"), "leading zeros are not allowed in numbers", 0},
    {S("-01"), "leading zeros are not allowed in numbers", 0},
    {S("+1"), "'+' is not allowed before a number", 0},
    {S(".5"), "a number must start with a digit", 0},
    {S("1."), "expected a digit after '.' in number", 2},
    {S("1.e5"), "expected a digit after '.' in number", 2},
    {S("1e"), "expected a digit in the exponent of a number", 2},
    {S("1e+"), "expected a digit in the exponent of a number", 3},
    {S("-"), "expected a digit after '-', got end of input", 1},
    {S("-a"), "expected a digit after '-', got 'a'", 1},
    {S("NaN"), "NaN is not a JSON number", 0},
    {S("Infinity"), "Infinity is not a JSON number", 0},
    {S("-Infinity"), "-Infinity is not a JSON number", 0},
    {S("nul"), "invalid literal: expected 'null', got end of input", 3},
    {S("tru e"), "invalid literal: expected 'true', got space", 3},
    {S("True"), "unexpected 'T', expected a value", 0},
    {S("[1]x"), "unexpected 'x' after value", 3},
    {S("1 2"), "unexpected '2' after value", 2},
    {S("[1]]"), "unexpected ']' after value", 3},
    {S("]"), "unexpected ']', expected a value", 0},
    {S("// c\n1"), "comments are not allowed in JSON", 0},
    {S("[1,/*x*/2]"), "comments are not allowed in JSON", 3},
    {S("'a'"), "single-quoted strings are not allowed in JSON", 0},
    {S("\"\\q\""), "invalid escape '\\q' in string", 1},
    {S("\"\\\x01\""), "invalid escape in string: '\\' followed by byte 0x01", 1},
    {S("\"\\u12\""), "invalid \\u escape in string: expected 4 hex digits", 1},
    {S("\"\\u12g4\""), "invalid \\u escape in string: expected 4 hex digits", 1},
    {S("\"\\u0000\""), "\\u0000 (NUL) is not allowed in strings", 1},
    {S("\"ab\\u0000\""), "\\u0000 (NUL) is not allowed in strings", 3},
    {S("\"\\ud800\""), "lone high surrogate \\uD800 in string", 1},
    {S("\"\\ud800\\u0041\""), "lone high surrogate \\uD800", 1},
    {S("\"\\ud800\\ud800\""), "lone high surrogate \\uD800", 1},
    {S("\"\\udc00\""), "lone low surrogate \\uDC00 in string", 1},
    {S("\"\\ude00\\ud83d\""), "lone low surrogate \\uDE00", 1},
    {S("\"a\x01\""), "unescaped control character 0x01 in string (write it as \\u0001)", 2},
    {S("\"a\nb\""), "unescaped control character 0x0a in string (write it as \\n)", 2},
    {S("\"a\tb\""), "unescaped control character 0x09 in string (write it as \\t)", 2},
    {S("\"a\0b\""), "unescaped control character 0x00 in string", 2},
    {S("\"abc"), "unexpected end of input in string (opened at line 1, column 1)", 4},
    {S("\"ab\\\""), "unexpected end of input in string", 5},
    {S("[\"a\\n"), "unexpected end of input in string (opened at line 1, column 2)", 5},
    {S("\xff"), "unexpected byte 0xff, expected a value", 0},
    {S("\xef\xbb\xbf{}"), "unexpected byte 0xef, expected a value", 0},
    {S("\"\xff\""), "invalid UTF-8 byte 0xff in string", 1},
    {S("\"\x80\""), "invalid UTF-8 byte 0x80 in string (continuation byte", 1},
    {S("\"\xc0\x80\""), "invalid UTF-8 byte 0xc0 in string (overlong encoding)", 1},
    {S("\"\xc1\xbf\""), "invalid UTF-8 byte 0xc1 in string (overlong encoding)", 1},
    {S("\"\xe0\x80\x80\""), "invalid UTF-8 in string: overlong encoding 0xe0 0x80", 1},
    {S("\"\xe0\x9f\xbf\""), "invalid UTF-8 in string: overlong encoding 0xe0 0x9f", 1},
    {S("\"\xf0\x80\x80\x80\""), "invalid UTF-8 in string: overlong encoding 0xf0 0x80", 1},
    {S("\"\xf0\x8f\xbf\xbf\""), "invalid UTF-8 in string: overlong encoding 0xf0 0x8f", 1},
    {S("\"\xed\xa0\x80\""), "invalid UTF-8 in string: encoded surrogate 0xed 0xa0", 1},
    {S("\"\xed\xbf\xbf\""), "invalid UTF-8 in string: encoded surrogate 0xed 0xbf", 1},
    {S("\"\xf4\x90\x80\x80\""), "invalid UTF-8 in string: code point above U+10FFFF", 1},
    {S("\"\xf5\x80\x80\x80\""), "invalid UTF-8 byte 0xf5 in string", 1},
    {S("\"\xf8\x88\x80\x80\x80\""), "invalid UTF-8 byte 0xf8 in string", 1},
    {S("\"\xe2\x82\""), "truncated sequence (lead byte 0xe2, then '\"')", 3},
    {S("\"\xc3\""), "truncated sequence (lead byte 0xc3, then '\"')", 2},
    {S("\"\xe2\x82 x\""), "truncated sequence (lead byte 0xe2, then space)", 3},
    {S("\"ok\\n\xe2\x82\""), "truncated sequence (lead byte 0xe2, then '\"')", 7},
    {S("\"\xe2\x82"), "unexpected end of input in string", 3},
    {S("\"x\" \xc3\xa9"), "unexpected byte 0xc3 after value", 4},
    {S("1e400"), "number 1e400 is too large for a double", 0},
    {S("-1e400"), "number -1e400 is too large for a double", 0},
    {S("[0.5e999999999999999999]"), "is too large for a double", 1},
    {S("["), "unexpected end of input, expected a value", 1},
    {S("[1"), "unexpected end of input: array opened at line 1, column 1 is not closed", 2},
    {S("{\"a\":[1,{}"), "array opened at line 1, column 6 is not closed", 10},
    {S("{\"a\""), "expected ':' after object key, got end of input", 4},
    {S("{\"a\":"), "unexpected end of input, expected a value", 5},
    {S("{"), "expected a string key in object, got end of input", 1},
};

TEST(rejects_with_message_and_offset) {
  for (size_t i = 0; i < sizeof reject_cases / sizeof reject_cases[0]; i++) {
    rk__jval *v = (rk__jval *)&A; /* must be reset to NULL */
    rk__json_error err;
    int rc = parse_n(reject_cases[i].in, reject_cases[i].n, &v, &err);
    if (rc != -1 || v != NULL) {
      RK_T_FAIL_("case %zu '%s': rc %d, want -1", i, reject_cases[i].in, rc);
      continue;
    }
    if (!strstr(err.msg, reject_cases[i].msg))
      RK_T_FAIL_("case %zu: message\n    got:  %s\n    want: %s", i, err.msg,
                 reject_cases[i].msg);
    if (err.offset != reject_cases[i].off)
      RK_T_FAIL_("case %zu '%s' (%s): offset %zu, want %zu", i,
                 reject_cases[i].in, err.msg, err.offset, reject_cases[i].off);
    if (jansson_accepts(reject_cases[i].in, reject_cases[i].n))
      RK_T_FAIL_("case %zu '%s': jansson accepts it", i, reject_cases[i].in);
  }
}

TEST(error_line_and_column) {
  rk__jval *v;
  rk__json_error err;
  ASSERT_EQ_INT(parse_n(S("[1,\n 2,\n  x]"), &v, &err), -1);
  ASSERT_EQ_INT(err.offset, 10);
  ASSERT_EQ_INT(err.line, 3);
  ASSERT_EQ_INT(err.column, 3);
  ASSERT_EQ_STR(err.msg, "unexpected 'x', expected a value");
  /* Columns count characters: "é" is two bytes, one column. */
  ASSERT_EQ_INT(parse_n(S("[\"\xc3\xa9\", x]"), &v, &err), -1);
  ASSERT_EQ_INT(err.offset, 7);
  ASSERT_EQ_INT(err.line, 1);
  ASSERT_EQ_INT(err.column, 7);
  /* CRLF: only \n starts a line. */
  ASSERT_EQ_INT(parse_n(S("{\r\n\"a\":\r\n tru}"), &v, &err), -1);
  ASSERT_EQ_INT(err.line, 3);
  ASSERT_EQ_INT(err.column, 5);
  ASSERT_EQ_INT(parse_n(S(""), &v, &err), -1);
  ASSERT_EQ_INT(err.line, 1);
  ASSERT_EQ_INT(err.column, 1);
  /* An unclosed string reports where it was opened. */
  ASSERT_EQ_INT(parse_n(S("{\"a\":\n  \"abc}"), &v, &err), -1);
  ASSERT_CONTAINS(err.msg, "opened at line 2, column 3");
  ASSERT_EQ_INT(err.line, 2);
  ASSERT_EQ_INT(err.column, 8);
  /* err may be NULL. */
  ASSERT_EQ_INT(parse_n(S("[1,]"), &v, NULL), -1);
}

/* ------------------------------------------------------- deviations */

TEST(big_integers_accepted_unlike_jansson) {
  rk__jval *v;
  rk__json_error err;
  static const char big[] = "123456789012345678901234567890";
  ASSERT_EQ_INT(parse_n(S(big), &v, &err), 0);
  ASSERT_EQ_INT(v->type, RK__JNUM);
  ASSERT_EQ_SPAN(v->raw.p, v->raw.n, big);
  ASSERT_TRUE(v->u.num == strtod(big, NULL));
  ASSERT_TRUE(v->u.num == 1.2345678901234568e29);
  ASSERT_EQ_INT(parse_n(S("-9223372036854775809"), &v, &err), 0);
  ASSERT_TRUE(v->u.num == -9223372036854775808.0);
  /* jansson: "too big integer" (documented in docs/json.md). */
  json_error_t je;
  ASSERT_TRUE(json_loadb(S(big), JSON_DECODE_ANY, &je) == NULL);
  ASSERT_CONTAINS(je.text, "too big integer");
  /* But an integer beyond the double range is rejected, like 1e400. */
  char huge[402];
  memset(huge, '9', 400);
  huge[400] = '\0';
  ASSERT_EQ_INT(parse_n(huge, 400, &v, &err), -1);
  ASSERT_CONTAINS(err.msg, "is too large for a double");
}

static void nest(rk__buf *b, size_t depth, char open, char close) {
  rk__buf_reset(b);
  for (size_t i = 0; i < depth; i++) rk__buf_putc(b, open);
  for (size_t i = 0; i < depth; i++) rk__buf_putc(b, close);
}

/* jansson drops one NUL byte that directly follows a number or a literal
 * (its lexer cannot push a NUL back), so it accepts "1\0" and "[true\0]".
 * We reject them (documented in docs/json.md). */
TEST(nul_after_token_rejected_unlike_jansson) {
  static const struct {
    const char *in;
    size_t n;
    const char *msg;
    size_t off;
  } cases[] = {
      {S("1\0"), "unexpected byte 0x00 after value", 1},
      {S("-1.5e3\0"), "unexpected byte 0x00 after value", 6},
      {S("[1\0]"), "expected ',' or ']' after array item, got byte 0x00", 2},
      {S("{\"a\":true\0}"), "expected ',' or '}' after object member, got byte 0x00", 9},
  };
  rk__jval *v;
  rk__json_error err;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ASSERT_EQ_INT(parse_n(cases[i].in, cases[i].n, &v, &err), -1);
    ASSERT_EQ_STR(err.msg, cases[i].msg);
    ASSERT_EQ_INT(err.offset, cases[i].off);
    ASSERT_TRUE(jansson_accepts(cases[i].in, cases[i].n));
  }
}

TEST(depth_limit) {
  rk__buf b;
  rk__buf_init(&b, 0);
  rk__jval *v;
  rk__json_error err;
  nest(&b, 512, '[', ']');
  ASSERT_EQ_INT(parse_n(b.p, b.n, &v, &err), 0);
  nest(&b, 513, '[', ']');
  ASSERT_EQ_INT(parse_n(b.p, b.n, &v, &err), -1);
  ASSERT_EQ_STR(err.msg, "nesting deeper than 512");
  ASSERT_EQ_INT(err.offset, 512);
  /* jansson's own cap is 2048 (documented difference). */
  ASSERT_TRUE(jansson_accepts(b.p, b.n));
  /* Objects count too, and the limit is configurable. */
  rk__json_limits lim = {3, 0};
  rk__arena_reset(&A);
  ASSERT_EQ_INT(rk__json_parse(S("{\"a\":[{}]}"), &A, &lim, &v, &err), 0);
  rk__arena_reset(&A);
  ASSERT_EQ_INT(rk__json_parse(S("{\"a\":[{\"b\":[]}]}"), &A, &lim, &v, &err), -1);
  ASSERT_EQ_STR(err.msg, "nesting deeper than 3");
  ASSERT_EQ_INT(err.offset, 11);
  /* Deep documents spill the scratch stacks to the heap. */
  lim.max_depth = 100000;
  nest(&b, 100000, '[', ']');
  rk__arena_reset(&A);
  ASSERT_EQ_INT(rk__json_parse(b.p, b.n, &A, &lim, &v, &err), 0);
  size_t d = 0;
  for (const rk__jval *x = v; x->u.arr.n; x = &x->u.arr.items[0]) d++;
  ASSERT_EQ_INT(d, 99999);
  rk__buf r;
  rk__buf_init(&r, 0);
  ASSERT_EQ_INT(rk__json_put_val(&r, v), 0); /* iterative writer */
  ASSERT_TRUE(r.n == b.n && memcmp(r.p, b.p, b.n) == 0);
  rk__buf_release(&r);
  rk__buf_release(&b);
}

TEST(limits_bytes_and_arena) {
  rk__jval *v;
  rk__json_error err;
  rk__json_limits lim = {0, 4};
  rk__arena_reset(&A);
  ASSERT_EQ_INT(rk__json_parse(S("[1]"), &A, &lim, &v, &err), 0);
  rk__arena_reset(&A);
  ASSERT_EQ_INT(rk__json_parse(S("[1,2]"), &A, &lim, &v, &err), -1);
  ASSERT_EQ_STR(err.msg, "input is 5 bytes, more than the limit of 4");
  /* A small arena runs out on a wide array: -2, not a crash. */
  rk__buf b;
  rk__buf_init(&b, 0);
  rk__buf_putc(&b, '[');
  for (int i = 0; i < 20000; i++) rk__buf_puts(&b, i ? ",1" : "1");
  rk__buf_putc(&b, ']');
  rk__arena small;
  rk__arena_init(&small, 64 << 10);
  ASSERT_EQ_INT(rk__json_parse(b.p, b.n, &small, NULL, &v, &err), -2);
  ASSERT_CONTAINS(err.msg, "out of memory");
  ASSERT_TRUE(v == NULL);
  rk__arena_reset(&small);
  /* ...and on escaped strings. */
  rk__buf_reset(&b);
  rk__buf_putc(&b, '[');
  for (int i = 0; i < 2000; i++) rk__buf_puts(&b, i ? ",\"a\\n\"" : "\"a\\n\"");
  rk__buf_putc(&b, ']');
  ASSERT_EQ_INT(rk__json_parse(b.p, b.n, &small, NULL, &v, &err), -2);
  rk__arena_release(&small);
  /* The default arena has room. */
  ASSERT_EQ_INT(parse_n(b.p, b.n, &v, &err), 0);
  ASSERT_EQ_INT(v->u.arr.n, 2000);
  rk__buf_release(&b);
}

/* ------------------------------------------------------------ values */

TEST(tree_shape_and_raw_spans) {
  static const char in[] =
      " {\"a\" : [1, 2.50 , \"x\\n\"], \"b\":null,\"c\" :true, \"d\":false, "
      "\"e\":{ }, \"f\":[ ] } ";
  rk__jval *v;
  rk__json_error err;
  ASSERT_EQ_INT(parse_n(S(in), &v, &err), 0);
  ASSERT_EQ_INT(v->type, RK__JOBJ);
  ASSERT_EQ_INT(v->u.obj.n, 6);
  ASSERT_EQ_SPAN(v->raw.p, v->raw.n,
                 "{\"a\" : [1, 2.50 , \"x\\n\"], \"b\":null,\"c\" :true, "
                 "\"d\":false, \"e\":{ }, \"f\":[ ] }");
  const rk__jmember *m = v->u.obj.items;
  ASSERT_EQ_SPAN(m[0].key.p, m[0].key.n, "a");
  ASSERT_EQ_SPAN(m[0].raw_key.p, m[0].raw_key.n, "\"a\"");
  const rk__jval *a = &m[0].val;
  ASSERT_EQ_INT(a->type, RK__JARR);
  ASSERT_EQ_INT(a->u.arr.n, 3);
  ASSERT_EQ_SPAN(a->raw.p, a->raw.n, "[1, 2.50 , \"x\\n\"]");
  ASSERT_EQ_SPAN(a->u.arr.items[0].raw.p, a->u.arr.items[0].raw.n, "1");
  ASSERT_EQ_SPAN(a->u.arr.items[1].raw.p, a->u.arr.items[1].raw.n, "2.50");
  ASSERT_TRUE(a->u.arr.items[1].u.num == 2.5);
  ASSERT_EQ_SPAN(a->u.arr.items[2].raw.p, a->u.arr.items[2].raw.n, "\"x\\n\"");
  ASSERT_EQ_SPAN(a->u.arr.items[2].u.str.p, a->u.arr.items[2].u.str.n, "x\n");
  ASSERT_EQ_INT(m[1].val.type, RK__JNULL);
  ASSERT_EQ_SPAN(m[1].val.raw.p, m[1].val.raw.n, "null");
  ASSERT_EQ_INT(m[2].val.type, RK__JTRUE);
  ASSERT_EQ_INT(m[3].val.type, RK__JFALSE);
  ASSERT_EQ_SPAN(m[3].val.raw.p, m[3].val.raw.n, "false");
  ASSERT_EQ_INT(m[4].val.type, RK__JOBJ);
  ASSERT_EQ_INT(m[4].val.u.obj.n, 0);
  ASSERT_EQ_SPAN(m[4].val.raw.p, m[4].val.raw.n, "{ }");
  ASSERT_EQ_INT(m[5].val.type, RK__JARR);
  ASSERT_EQ_INT(m[5].val.u.arr.n, 0);
  ASSERT_TRUE(rk__json_get(v, "f") == &m[5].val);
  ASSERT_TRUE(rk__json_get(v, "g") == NULL);
  ASSERT_TRUE(rk__json_get(a, "a") == NULL); /* not an object */
  ASSERT_TRUE(rk__json_get(NULL, "a") == NULL);
}

TEST(strings_zero_copy_and_unescaping) {
  rk__jval *v;
  rk__json_error err;
  static const char plain[] = "\"plain caf\xc3\xa9 text\"";
  ASSERT_EQ_INT(parse_n(S(plain), &v, &err), 0);
  ASSERT_TRUE(v->u.str.p == plain + 1); /* points into the input */
  ASSERT_EQ_SPAN(v->u.str.p, v->u.str.n, "plain caf\xc3\xa9 text");

  static const struct {
    const char *in, *want;
    size_t want_n;
  } cases[] = {
      {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", S("\"\\/\b\f\n\r\t")},
      {"\"\\u0041\\u00e9\\u20AC\"", S("A\xc3\xa9\xe2\x82\xac")},
      {"\"\\u0001\\u007f\\u0080\\u07ff\\u0800\\uffff\"",
       S("\x01\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf")},
      {"\"\\ud83d\\ude00\"", S("\xf0\x9f\x98\x80")},       /* U+1F600 */
      {"\"\\uD800\\uDC00\"", S("\xf0\x90\x80\x80")},       /* U+10000 */
      {"\"\\udbff\\udfff\"", S("\xf4\x8f\xbf\xbf")},       /* U+10FFFF */
      {"\"a\\nb\xc3\xa9\\u00e9c\"", S("a\nb\xc3\xa9\xc3\xa9" "c")},
      {"\"\\\\n\"", S("\\n")},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = strlen(cases[i].in);
    if (parse_n(cases[i].in, n, &v, &err) != 0) {
      RK_T_FAIL_("case %zu rejected: %s", i, err.msg);
      continue;
    }
    if (v->u.str.n != cases[i].want_n ||
        memcmp(v->u.str.p, cases[i].want, cases[i].want_n) != 0)
      RK_T_FAIL_("case %zu: got %zu bytes '%.*s'", i, v->u.str.n,
                 (int)v->u.str.n, v->u.str.p);
    /* Escaped strings live in the arena, not in the input. */
    ASSERT_TRUE(v->u.str.p < cases[i].in || v->u.str.p >= cases[i].in + n);
  }
}

TEST(duplicate_keys_kept_last_wins) {
  rk__jval *v;
  rk__json_error err;
  ASSERT_EQ_INT(parse_n(S("{\"a\":1,\"b\":2,\"a\":3,\"\\u0061\":4}"), &v, &err),
                0);
  ASSERT_EQ_INT(v->u.obj.n, 4);
  ASSERT_EQ_SPAN(v->u.obj.items[3].key.p, v->u.obj.items[3].key.n, "a");
  ASSERT_EQ_SPAN(v->u.obj.items[3].raw_key.p, v->u.obj.items[3].raw_key.n,
                 "\"\\u0061\"");
  const rk__jval *a = rk__json_get(v, "a");
  ASSERT_TRUE(a && a->u.num == 4);
  ASSERT_TRUE(rk__json_getn(v, "bc", 1)->u.num == 2);
  ASSERT_TRUE(rk__json_getn(v, "", 0) == NULL);
  ASSERT_EQ_INT(parse_n(S("{\"\":5}"), &v, &err), 0);
  ASSERT_TRUE(rk__json_getn(v, "", 0)->u.num == 5);
}

TEST(number_values) {
  static const struct {
    const char *in;
    double want;
  } cases[] = {
      {"0", 0.0}, {"0.1", 0.1}, {"0.9", 0.9}, {"1e308", 1e308},
      {"-1.5e+3", -1500.0}, {"1E2", 100.0}, {"0.1e1", 1.0}, {"1e-2", 0.01},
      {"9007199254740993", 9007199254740992.0}, /* ties to even */
      {"9007199254740995", 9007199254740996.0},
      {"18446744073709551615", 18446744073709551616.0},
      {"2.2250738585072011e-308", 2.2250738585072011e-308},
      {"4.9406564584124654e-324", 4.9406564584124654e-324},
      {"1e-400", 0.0}, {"1.7976931348623157e308", 1.7976931348623157e308},
      {"0.000000000000000000000000000001", 1e-30},
      {"123456.789e3", 123456789.0},
      {"3.141592653589793238462643383279", 3.141592653589793},
  };
  rk__jval *v;
  rk__json_error err;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (parse_n(cases[i].in, strlen(cases[i].in), &v, &err) != 0) {
      RK_T_FAIL_("'%s' rejected: %s", cases[i].in, err.msg);
      continue;
    }
    if (v->type != RK__JNUM || v->u.num != cases[i].want)
      RK_T_FAIL_("'%s': %.17g, want %.17g", cases[i].in, v->u.num,
                 cases[i].want);
    ASSERT_EQ_SPAN(v->raw.p, v->raw.n, cases[i].in);
  }
  ASSERT_EQ_INT(parse_n(S("-0"), &v, &err), 0);
  ASSERT_TRUE(v->u.num == 0.0 && signbit(v->u.num));
  ASSERT_EQ_INT(parse_n(S("-0.0e7"), &v, &err), 0);
  ASSERT_TRUE(v->u.num == 0.0 && signbit(v->u.num));
  ASSERT_EQ_INT(parse_n(S("0e999999999999"), &v, &err), 0);
  ASSERT_TRUE(v->u.num == 0.0 && !signbit(v->u.num));
}

/* Random number texts of every shape: the value must be glibc strtod's
 * (correctly rounded), bit for bit; overflow must be rejected. */
TEST(numbers_match_strtod) {
  char buf[128];
  rk__jval *v;
  rk__json_error err;
  for (int iter = 0; iter < 200000; iter++) {
    size_t n = 0;
    if (rnd(2)) buf[n++] = '-';
    unsigned ni = rnd(4) ? 1 + rnd(20) : 1 + rnd(40);
    if (rnd(5) == 0) {
      buf[n++] = '0';
    } else {
      buf[n++] = (char)('1' + rnd(9));
      for (unsigned i = 1; i < ni; i++) buf[n++] = (char)('0' + rnd(10));
    }
    if (rnd(2)) {
      buf[n++] = '.';
      unsigned nf = 1 + rnd(rnd(4) ? 20 : 40);
      for (unsigned i = 0; i < nf; i++)
        buf[n++] = (char)(rnd(3) ? '0' + rnd(10) : '0');
    }
    if (rnd(2)) {
      buf[n++] = rnd(2) ? 'e' : 'E';
      unsigned r = rnd(3);
      if (r == 0) buf[n++] = '-';
      if (r == 1) buf[n++] = '+';
      n += (size_t)snprintf(buf + n, 8, "%u", rnd(rnd(2) ? 30 : 340));
    }
    buf[n] = '\0';
    double want = strtod(buf, NULL);
    int rc = parse_n(buf, n, &v, &err);
    if (isinf(want)) {
      if (rc != -1) RK_T_FAIL_("'%s' overflows but was accepted", buf);
      continue;
    }
    if (rc != 0) {
      RK_T_FAIL_("'%s' rejected: %s", buf, err.msg);
      break;
    }
    if (memcmp(&v->u.num, &want, sizeof want) != 0) {
      RK_T_FAIL_("'%s': %.17g, strtod says %.17g", buf, v->u.num, want);
      break;
    }
  }
}

/* ------------------------------------------------------ random UTF-8 */

/* Naive reference: decode code point by code point, then check the
 * value against the length (overlong), the surrogate range and the top. */
static int naive_utf8_ok(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i], len, cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (i + len > n) return 0;
    for (unsigned k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    i += len;
  }
  return 1;
}

TEST(random_utf8_acceptance) {
  static const unsigned char pool[] = {
      'a', ' ', 'z', 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
      0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5,
      0xF7, 0xF8, 0xFF};
  unsigned char body[300], text[310];
  rk__jval *v;
  rk__json_error err;
  for (int iter = 0; iter < 100000; iter++) {
    size_t n = rnd(4) ? rnd(40) : rnd(300);
    /* Mostly valid text with a sprinkle of random bytes, so that both
     * outcomes are common and errors land at every block offset. */
    size_t i = 0;
    while (i < n) {
      unsigned r = rnd(16);
      if (r < 6) {
        body[i++] = (unsigned char)('a' + rnd(26));
      } else if (r < 12) {
        static const char *const good[] = {
            "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\x9f\xbf",
            "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "\xc2\x80", "\xe0\xa0\x80"};
        const char *g = good[rnd(8)];
        size_t k = strlen(g);
        if (i + k > n) break;
        memcpy(body + i, g, k);
        i += k;
      } else if (r < 15 || iter % 3) {
        body[i++] = pool[rnd(sizeof pool)];
      } else {
        body[i++] = (unsigned char)(0x80 + rnd(128));
      }
    }
    n = i;
    text[0] = '"';
    memcpy(text + 1, body, n);
    text[n + 1] = '"';
    int want = naive_utf8_ok(body, n);
    int rc = parse_n((const char *)text, n + 2, &v, &err);
    if (rc != (want ? 0 : -1)) {
      RK_T_FAIL_("iteration %d: rc %d, reference says %s (%s)", iter, rc,
                 want ? "valid" : "invalid", err.msg);
      break;
    }
    if (rc == 0 && (v->u.str.n != n || memcmp(v->u.str.p, body, n) != 0)) {
      RK_T_FAIL_("iteration %d: string changed", iter);
      break;
    }
    if (rc && !strstr(err.msg, "UTF-8")) {
      RK_T_FAIL_("iteration %d: %s", iter, err.msg);
      break;
    }
  }
}

/* Random strings of code points, written with a random mix of raw bytes and
 * escapes (surrogate pairs for astral ones): the reader must give back the
 * code points' UTF-8; the writer's output must read back the same. */
static size_t put_utf8(unsigned char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | cp >> 6);
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | cp >> 12);
    o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | cp >> 18);
  o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
  o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

TEST(random_escapes_round_trip) {
  rk__buf src, out;
  rk__buf_init(&src, 0);
  rk__buf_init(&out, 0);
  unsigned char want[4096];
  rk__jval *v;
  rk__json_error err;
  for (int iter = 0; iter < 20000; iter++) {
    rk__buf_reset(&src);
    rk__buf_putc(&src, '"');
    size_t wn = 0, count = rnd(4) ? rnd(30) : rnd(600);
    for (size_t i = 0; i < count; i++) {
      unsigned cp;
      switch (rnd(6)) {
      case 0: cp = 1 + rnd(0x7F); break;
      case 1: cp = 0x20 + rnd(0x5F); break;
      case 2: cp = 0x80 + rnd(0x780); break;
      case 3: cp = 0x800 + rnd(0xF800); break;
      case 4: cp = 0x10000 + rnd(0x100000); break;
      default: cp = "\"\\/\n\t"[rnd(5)]; break;
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
      unsigned char u[4];
      size_t k = put_utf8(u, cp);
      memcpy(want + wn, u, k);
      wn += k;
      int must_escape = cp < 0x20 || cp == '"' || cp == '\\';
      if (must_escape || rnd(3) == 0) {
        if (cp == '\n' && rnd(2)) {
          rk__buf_puts(&src, "\\n");
        } else if (cp >= 0x10000) {
          unsigned c = cp - 0x10000;
          rk__buf_printf(&src, "\\u%04X\\u%04x", 0xD800 + (c >> 10),
                         0xDC00 + (c & 0x3FF));
        } else {
          rk__buf_printf(&src, rnd(2) ? "\\u%04x" : "\\u%04X", cp);
        }
      } else {
        rk__buf_put(&src, u, k);
      }
    }
    rk__buf_putc(&src, '"');
    if (parse_n(src.p, src.n, &v, &err) != 0) {
      RK_T_FAIL_("iteration %d rejected: %s", iter, err.msg);
      break;
    }
    if (v->u.str.n != wn || memcmp(v->u.str.p, want, wn) != 0) {
      RK_T_FAIL_("iteration %d: wrong bytes", iter);
      break;
    }
    rk__buf_reset(&out);
    ASSERT_EQ_INT(rk__json_put_str(&out, (const char *)want, wn), 0);
    if (parse_n(out.p, out.n, &v, &err) != 0 || v->u.str.n != wn ||
        memcmp(v->u.str.p, want, wn) != 0) {
      RK_T_FAIL_("iteration %d: writer output does not read back: %s", iter,
                 err.msg);
      break;
    }
  }
  rk__buf_release(&src);
  rk__buf_release(&out);
}

/* ------------------------------------------------------------ writer */

static const char *put_str(rk__buf *b, const char *s, size_t n) {
  rk__buf_reset(b);
  if (rk__json_put_str(b, s, n) != 0) return "(failed)";
  return rk__buf_cstr(b);
}

TEST(put_str_escaping) {
  rk__buf b;
  rk__buf_init(&b, 0);
  ASSERT_EQ_STR(put_str(&b, S("")), "\"\"");
  ASSERT_EQ_STR(put_str(&b, S("plain / text")), "\"plain / text\"");
  ASSERT_EQ_STR(put_str(&b, S("a\"b\\c\n\t\r\b\f")),
                "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\"");
  ASSERT_EQ_STR(put_str(&b, S("\x01\x1f\x7f")), "\"\\u0001\\u001f\x7f\"");
  ASSERT_EQ_STR(put_str(&b, S("nul\0byte")), "\"nul\\u0000byte\"");
  ASSERT_EQ_STR(put_str(&b, S("caf\xc3\xa9 \xf0\x9f\x98\x80")),
                "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  /* Long enough for the bulk path, specials at the end of a block. */
  ASSERT_EQ_STR(put_str(&b, S("0123456789abcdef0123456\"")),
                "\"0123456789abcdef0123456\\\"\"");
  ASSERT_EQ_STR(put_str(&b, NULL, 0), "\"\"");
  rk__buf_release(&b);
}

/* U+FFFD per maximal subpart (Unicode chapter 3, table 3-8 examples). */
TEST(put_str_replaces_invalid_utf8) {
  rk__buf b;
  rk__buf_init(&b, 0);
#define FFFD "\xef\xbf\xbd"
  ASSERT_EQ_STR(put_str(&b, S("\xff")), "\"" FFFD "\"");
  ASSERT_EQ_STR(put_str(&b, S("a\x80z")), "\"a" FFFD "z\"");
  ASSERT_EQ_STR(put_str(&b, S("\xe2\x82")), "\"" FFFD "\"");
  ASSERT_EQ_STR(put_str(&b, S("\xe2\x82" "A")), "\"" FFFD "A\"");
  ASSERT_EQ_STR(put_str(&b, S("\xc0\x80")), "\"" FFFD FFFD "\"");
  ASSERT_EQ_STR(put_str(&b, S("\xed\xa0\x80")), "\"" FFFD FFFD FFFD "\"");
  ASSERT_EQ_STR(put_str(&b, S("\xf4\x90\x80\x80")),
                "\"" FFFD FFFD FFFD FFFD "\"");
  ASSERT_EQ_STR(put_str(&b, S("\xf0\x9f\x98")), "\"" FFFD "\"");
  ASSERT_EQ_STR(put_str(&b, S("\xf0\x9f\x98\xf0\x9f\x98\x80")),
                "\"" FFFD "\xf0\x9f\x98\x80\"");
  /* Table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 */
  ASSERT_EQ_STR(put_str(&b, S("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80"
                              "\xBF\x64")),
                "\"a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d\"");
  ASSERT_EQ_STR(put_str(&b, S("0123456789abcdef\xff" "0123456789")),
                "\"0123456789abcdef" FFFD "0123456789\"");
#undef FFFD
  /* Whatever the input, the output is valid JSON holding valid UTF-8. */
  rk__jval *v;
  rk__json_error err;
  char junk[200];
  for (int iter = 0; iter < 20000; iter++) {
    /* No NUL: it is written as \u0000, which the reader refuses. */
    size_t n = rnd(200);
    for (size_t i = 0; i < n; i++) junk[i] = (char)(1 + rnd(255));
    put_str(&b, junk, n);
    if (parse_n(b.p, b.n, &v, &err) != 0) {
      RK_T_FAIL_("iteration %d: writer output rejected: %s", iter, err.msg);
      break;
    }
    if (naive_utf8_ok((const unsigned char *)junk, n) &&
        (v->u.str.n != n || memcmp(v->u.str.p, junk, n) != 0)) {
      RK_T_FAIL_("iteration %d: valid input changed", iter);
      break;
    }
  }
  rk__buf_release(&b);
}

static const char *fmt(double d) {
  static char buf[32];
  size_t n = rk__fmt_double(buf, d);
  if (n != strlen(buf)) return "(length mismatch)";
  return buf;
}

TEST(fmt_double_exact_strings) {
  ASSERT_EQ_STR(fmt(0.0), "0");
  ASSERT_EQ_STR(fmt(-0.0), "-0");
  ASSERT_EQ_STR(fmt(1.0), "1");
  ASSERT_EQ_STR(fmt(-1.0), "-1");
  ASSERT_EQ_STR(fmt(0.1), "0.1");
  ASSERT_EQ_STR(fmt(0.9), "0.9");
  ASSERT_EQ_STR(fmt(-0.25), "-0.25");
  ASSERT_EQ_STR(fmt(1e-7), "1e-07");
  ASSERT_EQ_STR(fmt(1e21), "1e+21");
  ASSERT_EQ_STR(fmt(9007199254740992.0), "9007199254740992"); /* 2^53 */
  ASSERT_EQ_STR(fmt(9007199254740991.0), "9007199254740991");
  ASSERT_EQ_STR(fmt(-9007199254740991.0), "-9007199254740991");
  ASSERT_EQ_STR(fmt(1e15), "1000000000000000");
  ASSERT_EQ_STR(fmt(1e16), "1e+16");
  ASSERT_EQ_STR(fmt(0.1 + 0.2), "0.30000000000000004");
  ASSERT_EQ_STR(fmt(1.0 / 3.0), "0.3333333333333333");
  ASSERT_EQ_STR(fmt(123456789.125), "123456789.125");
  ASSERT_EQ_STR(fmt(1.7976931348623157e308), "1.7976931348623157e+308");
  ASSERT_EQ_STR(fmt(NAN), "null");
  ASSERT_EQ_STR(fmt(INFINITY), "null");
  ASSERT_EQ_STR(fmt(-INFINITY), "null");
  rk__buf b;
  rk__buf_init(&b, 0);
  ASSERT_EQ_INT(rk__json_put_num(&b, 0.5), 0);
  ASSERT_EQ_INT(rk__json_put_num(&b, NAN), 0);
  ASSERT_EQ_STR(rk__buf_cstr(&b), "0.5null");
  rk__buf_release(&b);
}

TEST(fmt_double_round_trips) {
  rk__jval *v;
  rk__json_error err;
  char buf[32];
  for (int iter = 0; iter < 5000; iter++) {
    double d;
    uint64_t bits = rnd64();
    switch (iter % 4) {
    case 0: memcpy(&d, &bits, sizeof d); break;              /* any bits */
    case 1: d = (double)(int64_t)(bits >> rnd(64)); break;   /* integers */
    case 2: d = (double)(bits >> 11) / 9007199254740992.0; break; /* [0,1) */
    default: d = (double)rnd(100000) / 1000.0; break;         /* decimals */
    }
    if (!isfinite(d)) continue;
    size_t n = rk__fmt_double(buf, d);
    ASSERT_TRUE(n < 32 && n == strlen(buf));
    double back = strtod(buf, NULL);
    if (memcmp(&back, &d, sizeof d) != 0) {
      RK_T_FAIL_("%.17g printed as %s reads back as %.17g", d, buf, back);
      break;
    }
    /* It is a JSON number our reader gives back exactly. */
    if (parse_n(buf, n, &v, &err) != 0 ||
        memcmp(&v->u.num, &d, sizeof d) != 0) {
      RK_T_FAIL_("%s: not read back as JSON (%s)", buf, err.msg);
      break;
    }
  }
}

TEST(put_val_compact) {
  rk__jval *v;
  rk__json_error err;
  static const char in[] =
      " { \"a\" : [ 1 , 2.50, -0, 1E+2, \"x\\u00e9\\n\" ] , \"b\" : null ,"
      " \"c\":true,\"d\" :false, \"e\\\"\" : { } , \"f\" : [ ] ,"
      " \"g\": 123456789012345678901234567890 } ";
  ASSERT_EQ_INT(parse_n(S(in), &v, &err), 0);
  rk__buf b;
  rk__buf_init(&b, 0);
  ASSERT_EQ_INT(rk__json_put_val(&b, v), 0);
  ASSERT_EQ_STR(rk__buf_cstr(&b),
                "{\"a\":[1,2.50,-0,1E+2,\"x\xc3\xa9\\n\"],\"b\":null,"
                "\"c\":true,\"d\":false,\"e\\\"\":{},\"f\":[],"
                "\"g\":123456789012345678901234567890}");
  /* A hand-built number (no raw text) is formatted. */
  rk__jval num = {RK__JNUM, {NULL, 0}, {.num = 0.1}};
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__json_put_val(&b, &num), 0);
  ASSERT_EQ_STR(rk__buf_cstr(&b), "0.1");
  /* A buffer that has failed an append (oom set) makes the writers fail. */
  rk__buf small;
  rk__buf_init(&small, 0);
  small.oom = 1;
  ASSERT_EQ_INT(rk__json_put_val(&small, v), -1);
  ASSERT_EQ_INT(rk__json_put_str(&small, S("x")), -1);
  rk__buf_release(&small);
  rk__buf_release(&b);
}

TEST(ref_strings) {
  rk__jval *v;
  rk__json_error err;
  rk__str out[4];
  ASSERT_EQ_INT(rk__ref_strings(NULL, out, 4), 0);
  ASSERT_EQ_INT(parse_n(S("\"4\\u0032\""), &v, &err), 0);
  ASSERT_EQ_INT(rk__ref_strings(v, out, 4), 1);
  ASSERT_EQ_SPAN(out[0].p, out[0].n, "42");
  ASSERT_EQ_INT(parse_n(S(" 1.50 "), &v, &err), 0);
  ASSERT_EQ_INT(rk__ref_strings(v, out, 4), 1);
  ASSERT_EQ_SPAN(out[0].p, out[0].n, "1.50"); /* source text, not 1.5 */
  ASSERT_EQ_INT(rk__ref_strings(v, out, 0), 0);
  ASSERT_EQ_INT(parse_n(S("[\"a\", 1e3, null, {\"x\":1}, [2], \"b\", \"c\"]"),
                        &v, &err),
                0);
  ASSERT_EQ_INT(rk__ref_strings(v, out, 4), 4);
  ASSERT_EQ_SPAN(out[0].p, out[0].n, "a");
  ASSERT_EQ_SPAN(out[1].p, out[1].n, "1e3");
  ASSERT_EQ_SPAN(out[2].p, out[2].n, "b");
  ASSERT_EQ_SPAN(out[3].p, out[3].n, "c");
  ASSERT_EQ_INT(rk__ref_strings(v, out, 2), 2);
  ASSERT_EQ_INT(parse_n(S("{\"a\":\"b\"}"), &v, &err), 0);
  ASSERT_EQ_INT(rk__ref_strings(v, out, 4), 0);
  ASSERT_EQ_INT(parse_n(S("true"), &v, &err), 0);
  ASSERT_EQ_INT(rk__ref_strings(v, out, 4), 0);
  /* VQA annotation style: objects with a string "answer". */
  ASSERT_EQ_INT(parse_n(S("[{\"answer\":\"red\",\"id\":1},{\"answer\":2},\"blue\"]"), &v,
                        &err),
                0);
  ASSERT_EQ_INT(rk__ref_strings(v, out, 4), 2);
  ASSERT_EQ_SPAN(out[0].p, out[0].n, "red");
  ASSERT_EQ_SPAN(out[1].p, out[1].n, "blue");
  ASSERT_EQ_INT(parse_n(S("{\"answer\":\"x\"}"), &v, &err), 0);
  ASSERT_EQ_INT(rk__ref_strings(v, out, 4), 1);
  ASSERT_EQ_SPAN(out[0].p, out[0].n, "x");
}

TEST(type_names) {
  ASSERT_EQ_STR(rk__json_type_name(RK__JNULL), "null");
  ASSERT_EQ_STR(rk__json_type_name(RK__JFALSE), "boolean");
  ASSERT_EQ_STR(rk__json_type_name(RK__JTRUE), "boolean");
  ASSERT_EQ_STR(rk__json_type_name(RK__JNUM), "number");
  ASSERT_EQ_STR(rk__json_type_name(RK__JSTR), "string");
  ASSERT_EQ_STR(rk__json_type_name(RK__JARR), "array");
  ASSERT_EQ_STR(rk__json_type_name(RK__JOBJ), "object");
}

/* A realistic record: long strings cross many scan blocks. */
TEST(record_with_long_strings) {
  rk__buf b;
  rk__buf_init(&b, 0);
  rk__buf_puts(&b, "{\"id\":7,\"response\":\"");
  for (int i = 0; i < 200; i++)
    rk__buf_puts(&b, i % 7 ? "step \\\\frac{1}{2} caf\xc3\xa9\\n" : "plain text ");
  rk__buf_puts(&b, "\\\\boxed{42}\",\"reference\":\"42\"}");
  rk__jval *v;
  rk__json_error err;
  ASSERT_EQ_INT(parse_n(b.p, b.n, &v, &err), 0);
  const rk__jval *r = rk__json_get(v, "response");
  ASSERT_TRUE(r && r->type == RK__JSTR);
  json_error_t je;
  json_t *j = json_loadb(b.p, b.n, 0, &je);
  ASSERT_TRUE(j != NULL);
  json_t *jr = json_object_get(j, "response");
  ASSERT_TRUE(r->u.str.n == json_string_length(jr) &&
              memcmp(r->u.str.p, json_string_value(jr), r->u.str.n) == 0);
  json_decref(j);
  rk__buf_release(&b);
}

/* Escapes, errors and string ends at every offset around the reader's
 * 64-byte blocks, near the end of the input and far from it, in strings
 * shorter and longer than its 8 KB stack buffer. The expected bytes are
 * built next to the input; expected error offsets are where the bad byte
 * was put. */
static int parse_buf(const rk__buf *b, rk__jval **v, rk__json_error *err) {
  return parse_n(b->p, b->n, v, err);
}

TEST(escapes_at_every_offset) {
  static const struct {
    const char *src, *want;
  } esc[] = {
      {"\\n", "\n"},           {"\\\\", "\\"},
      {"\\\"", "\""},          {"\\/", "/"},
      {"\\b\\f\\r\\t", "\b\f\r\t"},
      {"\\u00e9", "\xc3\xa9"}, {"\\ud83d\\ude00", "\xf0\x9f\x98\x80"},
      {"\\\\\\\\\\n", "\\\\\n"}, {"\xc3\xa9\\\"", "\xc3\xa9\""},
      {"\\u0041\\n", "A\n"},
  };
  static const struct {
    const char *bad, *msg;
    size_t at; /* the byte blamed, from the start of bad */
  } bad[] = {
      {"\\q", "invalid escape '\\q' in string", 0},
      {"\\u12x4", "invalid \\u escape in string: expected 4 hex digits", 0},
      {"\x01",
       "unescaped control character 0x01 in string (write it as \\u0001)", 0},
      {"\xff", "invalid UTF-8 byte 0xff in string", 0},
      {"\xe2\x80",
       "invalid UTF-8 in string: truncated sequence (lead byte 0xe2, then 'z')",
       2},
  };
  rk__buf src, want;
  rk__buf_init(&src, 0);
  rk__buf_init(&want, 0);
  rk__jval *v;
  rk__json_error err;
  for (size_t big = 0; big < 2; big++) {
    for (size_t len = 0; len < (big ? 70 : 140); len++) {
      size_t pre = big ? 8190 + len : len;
      for (size_t k = 0; k < sizeof esc / sizeof esc[0]; k++) {
        for (int wrap = 0; wrap < 2; wrap++) {
          size_t after = (len * 7 + k * 13) % 90;
          rk__buf_reset(&src);
          rk__buf_reset(&want);
          if (wrap) rk__buf_puts(&src, "[");
          rk__buf_putc(&src, '"');
          for (size_t i = 0; i < pre; i++) {
            /* An escape every 37 bytes in the long strings. */
            const char *c = big && i % 37 == 36 ? "\\n" : "a";
            rk__buf_puts(&src, c);
            rk__buf_putc(&want, *c == 'a' ? 'a' : '\n');
          }
          rk__buf_puts(&src, esc[k].src);
          rk__buf_puts(&want, esc[k].want);
          for (size_t i = 0; i < after; i++) {
            rk__buf_putc(&src, 'b');
            rk__buf_putc(&want, 'b');
          }
          rk__buf_putc(&src, '"');
          if (wrap) rk__buf_puts(&src, ",                                "
                                       "                                1]");
          if (parse_buf(&src, &v, &err) != 0) {
            RK_T_FAIL_("len %zu, escape %zu: rejected: %s", len, k, err.msg);
            goto done;
          }
          const rk__jval *s = wrap ? &v->u.arr.items[0] : v;
          if (s->u.str.n != want.n ||
              memcmp(s->u.str.p, want.p, want.n) != 0) {
            RK_T_FAIL_("len %zu, escape %zu, wrap %d: wrong bytes", len, k,
                       wrap);
            goto done;
          }
        }
      }
      for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        rk__buf_reset(&src);
        rk__buf_puts(&src, "\"\\n");
        for (size_t i = 0; i < pre; i++) rk__buf_putc(&src, 'a');
        size_t at = src.n + bad[k].at;
        rk__buf_puts(&src, bad[k].bad);
        rk__buf_puts(&src, "zz\"");
        if (parse_buf(&src, &v, &err) != -1 || err.offset != at ||
            strcmp(err.msg, bad[k].msg) != 0) {
          RK_T_FAIL_("len %zu, error %zu: offset %zu (want %zu): %s", len, k,
                     err.offset, at, err.msg);
          goto done;
        }
      }
      /* Unterminated after an escape: blamed on the end of the input. */
      rk__buf_reset(&src);
      rk__buf_puts(&src, "\"\\n");
      for (size_t i = 0; i < pre; i++) rk__buf_putc(&src, 'a');
      if (parse_buf(&src, &v, &err) != -1 || err.offset != src.n ||
          strcmp(err.msg, "unexpected end of input in string (opened at "
                          "line 1, column 1)") != 0) {
        RK_T_FAIL_("len %zu, unterminated: offset %zu: %s", len, err.offset,
                   err.msg);
        goto done;
      }
    }
  }
done:
  rk__buf_release(&src);
  rk__buf_release(&want);
}

static void setup(void) { rk__arena_init(&A, 0); }

TEST(setup_arena) { setup(); }

TEST(release_arena) { rk__arena_release(&A); }

/* Python marshal data (format 4) to json.dumps's text. The bytes are
 * assembled by hand from the format: a type code ('{' dict ended by '0',
 * '[' list and '(' tuple with an int32 count, ')' tuple with a byte count,
 * 'z' short ASCII str with a byte length, 'u' UTF-8 str with an int32
 * length, 'i' int32, 'l' int as 15-bit digits, 'g' little-endian double,
 * 'r' reference to the k-th object flagged 0x80), all little-endian. The
 * expected texts are what json.dumps(obj, separators=(",", ":")) prints. */
/* rk__pym_json on data: with rc 0, the text must be `want`; with rc -1,
 * the message must contain it. */
static int pym_is(int want_rc, const char *data, size_t n, const char *want) {
  rk__buf b;
  rk__buf_init(&b, 0);
  char msg[200];
  int rc = rk__pym_json(data, n, &b, 0, NULL, NULL, msg, sizeof msg);
  int ok = rc == want_rc && (rc ? strstr(msg, want) != NULL
                                : b.n == strlen(want) && memcmp(b.p, want, b.n) == 0);
  if (!ok) fprintf(stderr, "  pym: rc %d, got '%s' (%s), want '%s'\n", rc, rk__buf_cstr(&b), msg, want);
  rk__buf_release(&b);
  return ok;
}
#define pym(...) pym_is(0, __VA_ARGS__)          /* (S("bytes"), "text") */
#define pym_refused(...) pym_is(-1, __VA_ARGS__) /* (S("bytes"), "reason") */

TEST(pymarshal_by_hand) {
  ASSERT_TRUE(pym(S("{z\x01" "ai\x01\x00\x00\x00" "0"), "{\"a\":1}"));
  /* The second "hi" refers to the first (flagged 0x80 = index 0). */
  ASSERT_TRUE(pym(S("[\x02\x00\x00\x00\xfa\x02hir\x00\x00\x00\x00"), "[\"hi\",\"hi\"]"));
  ASSERT_TRUE(pym(S(")\x02NT"), "[null,true]"));
  ASSERT_TRUE(pym(S("(\x00\x00\x00\x00"), "[]"));
  ASSERT_TRUE(pym(S("i\xff\xff\xff\xff"), "-1"));
  ASSERT_TRUE(pym(S("i\x00\x00\x00\x80"), "-2147483648"));
  /* 15-bit digits, least significant first: 1 * 2^15; -5; 1 * 2^30. */
  ASSERT_TRUE(pym(S("l\x02\x00\x00\x00\x00\x00\x01\x00"), "32768"));
  ASSERT_TRUE(pym(S("l\xff\xff\xff\xff\x05\x00"), "-5"));
  ASSERT_TRUE(pym(S("l\x03\x00\x00\x00\x00\x00\x00\x00\x01\x00"), "1073741824"));
  /* Floats as repr(): 0.1 is 0x3FB999999999999A. */
  ASSERT_TRUE(pym(S("g\x9a\x99\x99\x99\x99\x99\xb9\x3f"), "0.1"));
  ASSERT_TRUE(pym(S("g\x00\x00\x00\x00\x00\x00\x59\x40"), "100.0"));      /* 100 */
  ASSERT_TRUE(pym(S("g\x00\x80\xe0\x37\x79\xc3\x41\x43"), "1e+16"));      /* 1e16 */
  ASSERT_TRUE(pym(S("g\x00\x00\x00\x00\x00\x00\x00\x80"), "-0.0"));
  ASSERT_TRUE(pym(S("g\x00\x00\x00\x00\x00\x00\xf8\x7f"), "NaN"));
  ASSERT_TRUE(pym(S("g\x00\x00\x00\x00\x00\x00\xf0\xff"), "-Infinity"));
  /* ensure_ascii: lower-case \u escapes, DEL escaped, astral as a pair. */
  ASSERT_TRUE(pym(S("u\x04\x00\x00\x00\xc3\xa9\n\""), "\"\\u00e9\\n\\\"\""));
  ASSERT_TRUE(pym(S("u\x05\x00\x00\x00\xf0\x9f\x98\x80\x7f"), "\"\\ud83d\\ude00\\u007f\""));
  /* A lone surrogate, as Python writes it (surrogatepass): escaped. */
  ASSERT_TRUE(pym(S("u\x03\x00\x00\x00\xed\xa0\x80"), "\"\\ud800\""));
  /* Keys json accepts besides str: int, float, False, None. */
  ASSERT_TRUE(pym(S("{i\x07\x00\x00\x00" "Fg\x00\x00\x00\x00\x00\x00\xf8\x3fNFN0"),
                  "{\"7\":false,\"1.5\":null,\"false\":null}"));
  ASSERT_TRUE(pym_refused(S("<\x00\x00\x00\x00"), "a Python set has no JSON form"));
  ASSERT_TRUE(pym_refused(S("{z\x01" "bs\x01\x00\x00\x00x0"), "field \"b\": a Python bytes object"));
  ASSERT_TRUE(pym_refused(S("{)\x00N0"), "a dict key is a tuple"));
  ASSERT_TRUE(pym_refused(S("u\x05\x00\x00\x00" "a"), "truncated"));
  ASSERT_TRUE(pym_refused(S("{z\x01" "a"), "truncated"));
  ASSERT_TRUE(pym_refused(S("\xdb\x01\x00\x00\x00r\x00\x00\x00\x00"), "contains itself"));
  ASSERT_TRUE(pym_refused(S("r\x05\x00\x00\x00"), "reference"));
  ASSERT_TRUE(pym_refused(S("NN"), "after the object"));
  ASSERT_TRUE(pym_refused(S("z\x01\xe9"), "non-ASCII in an ASCII string"));
  ASSERT_TRUE(pym_refused(S("l\x01\x00\x00\x00\x00\x80"), "digit out of range"));
  /* 5000 digits of 15 bits: past Python's 4300 decimal digits. */
  ASSERT_TRUE(pym_refused(S("l\x88\x13\x00\x00"), "more than 4300 digits"));

  /* The top-level "response" str is taken apart (also through a
   * reference); any other response stays in the text. */
  rk__buf b;
  rk__buf_init(&b, 0);
  rk__str r = {0};
  int have = 0;
  char msg[200];
  ASSERT_EQ_INT(rk__pym_json(S("{z\x08responsez\x02okz\x01xi\x02\x00\x00\x00" "0"), &b, 1, &r,
                             &have, msg, sizeof msg), 0);
  ASSERT_EQ_SPAN(b.p, b.n, "{\"x\":2}");
  ASSERT_TRUE(have);
  ASSERT_EQ_SPAN(r.p, r.n, "ok");
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__pym_json(S("{z\x01" "c\xfa\x02okz\x08responser\x00\x00\x00\x00" "0"), &b, 1,
                             &r, &have, msg, sizeof msg), 0);
  ASSERT_EQ_SPAN(b.p, b.n, "{\"c\":\"ok\"}");
  ASSERT_TRUE(have);
  ASSERT_EQ_SPAN(r.p, r.n, "ok");
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__pym_json(S("{z\x08response)\x01N0"), &b, 1, &r, &have, msg, sizeof msg), 0);
  ASSERT_EQ_SPAN(b.p, b.n, "{\"response\":[null]}");
  ASSERT_TRUE(!have);
  /* Output past the buffer's maximum: -2, whatever the input repeats. */
  rk__buf_release(&b);
  rk__buf_init(&b, 8);
  ASSERT_EQ_INT(rk__pym_json(S("u\x0a\x00\x00\x00" "0123456789"), &b, 0, NULL, NULL, msg,
                             sizeof msg), -2);
  rk__buf_release(&b);
}

TEST_MAIN(TEST_ENTRY(setup_arena), TEST_ENTRY(accepts_like_jansson),
          TEST_ENTRY(rejects_with_message_and_offset),
          TEST_ENTRY(error_line_and_column),
          TEST_ENTRY(big_integers_accepted_unlike_jansson),
          TEST_ENTRY(nul_after_token_rejected_unlike_jansson),
          TEST_ENTRY(depth_limit), TEST_ENTRY(limits_bytes_and_arena),
          TEST_ENTRY(tree_shape_and_raw_spans),
          TEST_ENTRY(strings_zero_copy_and_unescaping),
          TEST_ENTRY(duplicate_keys_kept_last_wins), TEST_ENTRY(number_values),
          TEST_ENTRY(numbers_match_strtod), TEST_ENTRY(random_utf8_acceptance),
          TEST_ENTRY(random_escapes_round_trip), TEST_ENTRY(put_str_escaping),
          TEST_ENTRY(put_str_replaces_invalid_utf8),
          TEST_ENTRY(fmt_double_exact_strings),
          TEST_ENTRY(fmt_double_round_trips), TEST_ENTRY(put_val_compact),
          TEST_ENTRY(ref_strings), TEST_ENTRY(type_names),
          TEST_ENTRY(record_with_long_strings),
          TEST_ENTRY(escapes_at_every_offset), TEST_ENTRY(pymarshal_by_hand),
          TEST_ENTRY(release_arena))
