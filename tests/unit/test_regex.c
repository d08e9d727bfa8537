/*
 * test_regex.c - the RE2 shim (compile errors and their classes, match
 * loops, work budget, catastrophic patterns in linear time) and the
 * `regex` reward end to end.
 */
#include <stdlib.h>
#include <string.h>

#include "format/re2_shim.h"
#include "e2e.h"
#include "test.h"

static rk__re *compile(const char *pat, int dotall, int icase,
                       rk__re_errkind *kind, char *err, size_t cap) {
  rk__re_options o = {0};
  o.dot_nl = dotall;
  o.case_insensitive = icase;
  rk__re *re = NULL;
  rk__re_compile(pat, strlen(pat), &o, &re, kind, err, cap);
  return re;
}

TEST(compile_errors) {
  char err[256];
  rk__re_errkind kind;
  /* Backreference: RE2 refuses it (needs backtracking). */
  ASSERT_TRUE(compile("(a)\\1", 0, 0, &kind, err, sizeof err) == NULL);
  ASSERT_EQ_INT(kind, RK__RE_UNSUPPORTED);
  ASSERT_CONTAINS(err, "invalid escape sequence: \\1");
  /* Lookahead and lookbehind. */
  ASSERT_TRUE(compile("(?=x)", 0, 0, &kind, err, sizeof err) == NULL);
  ASSERT_EQ_INT(kind, RK__RE_UNSUPPORTED);
  ASSERT_CONTAINS(err, "(?=");
  ASSERT_TRUE(compile("(?<!x)y", 0, 0, &kind, err, sizeof err) == NULL);
  ASSERT_EQ_INT(kind, RK__RE_UNSUPPORTED);
  /* Possessive quantifier, \Z. */
  ASSERT_TRUE(compile("a++", 0, 0, &kind, err, sizeof err) == NULL);
  ASSERT_EQ_INT(kind, RK__RE_UNSUPPORTED);
  ASSERT_TRUE(compile("a\\Z", 0, 0, &kind, err, sizeof err) == NULL);
  ASSERT_EQ_INT(kind, RK__RE_UNSUPPORTED);
  /* Plain syntax errors. */
  ASSERT_TRUE(compile("(ab", 0, 0, &kind, err, sizeof err) == NULL);
  ASSERT_EQ_INT(kind, RK__RE_INVALID);
  ASSERT_CONTAINS(err, "missing )");
  ASSERT_TRUE(compile("[a", 0, 0, &kind, err, sizeof err) == NULL);
  ASSERT_EQ_INT(kind, RK__RE_INVALID);
  ASSERT_TRUE(compile("a**", 0, 0, &kind, err, sizeof err) == NULL);
  ASSERT_EQ_INT(kind, RK__RE_INVALID);
  /* Too big for 8 MiB. */
  ASSERT_TRUE(compile("((((a{100}){100}){100}){100})", 0, 0, &kind, err, sizeof err) == NULL);
  ASSERT_TRUE(kind == RK__RE_TOO_BIG || kind == RK__RE_INVALID);
  /* Python's named groups are fine. */
  rk__re *re = compile("(?P<x>a)b", 0, 0, &kind, err, sizeof err);
  ASSERT_TRUE(re != NULL);
  ASSERT_EQ_INT(rk__re_groups(re), 1);
  rk__re_free(re);
  rk__re_free(NULL);
}

TEST(matching) {
  rk__re_errkind kind;
  char err[128];
  rk__re *re = compile("<answer>.*</answer>", 0, 0, &kind, err, sizeof err);
  ASSERT_TRUE(re != NULL);
  if (!re) return;
  /* '.' does not cross a newline unless dotall. */
  ASSERT_EQ_INT(rk__re_fullmatch(re, "<answer>x\ny</answer>", 20), 0);
  ASSERT_EQ_INT(rk__re_fullmatch(re, "<answer>xy</answer>", 19), 1);
  size_t b = 0, e = 0;
  ASSERT_EQ_INT(rk__re_search(re, "pre <answer>42</answer> post", 28, 0, &b, &e), 1);
  ASSERT_EQ_INT(b, 4);
  ASSERT_EQ_INT(e, 23);
  ASSERT_EQ_INT(rk__re_search(re, "pre <answer>42</answer> post", 28, 5, &b, &e), 0);
  rk__re_free(re);
  re = compile("<ANSWER>.*</answer>", 1, 1, &kind, err, sizeof err);
  ASSERT_EQ_INT(rk__re_fullmatch(re, "<answer>x\ny</Answer>", 20), 1);
  rk__re_free(re);
}

TEST(count_and_last) {
  rk__re_errkind kind;
  char err[128];
  size_t count = 0, b = 0, e = 0;
  uint64_t spent = 0;
  rk__re *re = compile("ab", 0, 0, &kind, err, sizeof err);
  uint64_t m = rk__re_cost(re);
  ASSERT_TRUE(m >= 2 && m < 64); /* a handful of instructions */
  ASSERT_EQ_INT(rk__re_count(re, "ab ab ab", 8, 0, 1000, &count, &spent), 1);
  ASSERT_EQ_INT(count, 3);
  /* Work: searches from 0, 2, 5 and a last, failing one from 8 charge
   * (8-0+1) + (8-2+1) + (8-5+1) + (8-8+1) = 9 + 7 + 4 + 1 = 21 bytes,
   * times the program size. */
  ASSERT_EQ_INT(spent, 21 * m);
  ASSERT_EQ_INT(rk__re_count(re, "ab ab ab", 8, 2, 1000, &count, &spent), 1);
  ASSERT_EQ_INT(count, 2);
  /* Budget for the first search only: 9m + 7m > 10m. */
  ASSERT_EQ_INT(rk__re_count(re, "ab ab ab", 8, 0, 10 * m, &count, &spent), 2);
  ASSERT_EQ_INT(count, 1);
  ASSERT_EQ_INT(spent, 9 * m);
  ASSERT_EQ_INT(rk__re_count(re, "xyz", 3, 0, 1000, &count, &spent), 0);
  ASSERT_EQ_INT(count, 0);
  rk__re_free(re);
  /* Empty matches advance by one character, like Python's re.findall:
   * findall('', 'abc') has 4 items; findall('a*', 'baaa') has 3;
   * findall('', 'é') has 2 (one code point). */
  re = compile("", 0, 0, &kind, err, sizeof err);
  ASSERT_EQ_INT(rk__re_count(re, "abc", 3, 0, 1000, &count, &spent), 1);
  ASSERT_EQ_INT(count, 4);
  ASSERT_EQ_INT(rk__re_count(re, "\xc3\xa9", 2, 0, 1000, &count, &spent), 1);
  ASSERT_EQ_INT(count, 2);
  rk__re_free(re);
  re = compile("a*", 0, 0, &kind, err, sizeof err);
  ASSERT_EQ_INT(rk__re_count(re, "baaa", 4, 0, 1000, &count, &spent), 1);
  ASSERT_EQ_INT(count, 3);
  rk__re_free(re);
  re = compile("\\d+", 0, 0, &kind, err, sizeof err);
  ASSERT_EQ_INT(rk__re_find_last(re, "x1 y22 z333", 11, 1000, &b, &e, &spent), 1);
  ASSERT_EQ_INT(b, 8);
  ASSERT_EQ_INT(e, 11);
  rk__re_free(re);
}

/* Patterns that backtracking engines take exponential or polynomial time
 * on: RE2 answers in one pass. No timing asserts; these would not finish
 * with a backtracker. */
TEST(catastrophic_patterns) {
  rk__re_errkind kind;
  char err[128];
  size_t n = 100000;
  char *s = malloc((size_t)1 << 20);
  ASSERT_TRUE(s != NULL);
  if (!s) return;
  memset(s, 'a', n);
  s[n] = 'b';
  rk__re *re = compile("^(a+)+$", 0, 0, &kind, err, sizeof err);
  ASSERT_TRUE(re != NULL);
  ASSERT_EQ_INT(rk__re_fullmatch(re, s, n + 1), 0);
  ASSERT_EQ_INT(rk__re_search(re, s, n + 1, 0, NULL, NULL), 0);
  ASSERT_EQ_INT(rk__re_fullmatch(re, s, n), 1);
  rk__re_free(re);
  memset(s, 'a', (size_t)1 << 20);
  re = compile("(.*)(.*)(.*)(.*)(.*)z", 1, 0, &kind, err, sizeof err);
  ASSERT_EQ_INT(rk__re_search(re, s, (size_t)1 << 20, 0, NULL, NULL), 0);
  rk__re_free(re);
  re = compile("(a|aa)*c", 0, 0, &kind, err, sizeof err);
  ASSERT_EQ_INT(rk__re_fullmatch(re, s, (size_t)1 << 20), 0);
  rk__re_free(re);
  free(s);
}

/* ------------------------------------------------------ end to end */

TEST(e2e_regex) {
  e2e_result r = e2e_score(
      "{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": \"\\\\\\\\boxed\\\\{\\\\d+\\\\}\"}}}",
      "{\"response\": \"so \\\\boxed{42}.\"}");
  ASSERT_E2E(r, 1.0, "ok");
  ASSERT_CONTAINS(r.explain, "match at bytes 3-13 of the response");
  r = e2e_score("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": \"^\\\\d+$\", "
                "\"mode\": \"fullmatch\", \"on_match\": 0.5, \"on_miss\": -1}}}",
                "{\"response\": \"42 \"}");
  ASSERT_E2E(r, -1.0, "ok");
  ASSERT_CONTAINS(r.explain, "no full match");
  r = e2e_score("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": "
                "\"<think>.*?</think>\\\\s*<answer>.*?</answer>\", \"mode\": \"fullmatch\", "
                "\"dotall\": true}}}",
                "{\"response\": \"<think>a\\nb</think>\\n<answer>c</answer>\"}");
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": \"step\", "
                "\"ignore_case\": true, \"count\": 4}}}",
                "{\"response\": \"Step 1. STEP 2. step 3.\"}");
  /* 3 matches / 4 = 0.75 */
  ASSERT_E2E(r, 0.75, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": \"^[A-D]$\", "
                "\"field\": \"meta.choice\"}}}",
                "{\"response\": \"x\", \"meta\": {\"choice\": \"C\"}}");
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": \"a\", "
                "\"field\": \"nope\"}}}",
                "{\"response\": \"a\"}");
  ASSERT_EQ_STR(r.status, "error");
}

TEST(e2e_regex_catastrophic) {
  /* ^(a+)+$ on 100k 'a' + 'b' through the whole pipeline. */
  size_t n = 100000;
  char *rec = malloc(n + 64);
  ASSERT_TRUE(rec != NULL);
  if (!rec) return;
  size_t o = (size_t)snprintf(rec, n + 64, "{\"response\": \"");
  memset(rec + o, 'a', n);
  o += n;
  snprintf(rec + o, 64, "b\"}");
  e2e_result r = e2e_score(
      "{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": \"^(a+)+$\"}}}", rec);
  ASSERT_E2E(r, 0.0, "ok");
  free(rec);
}

/* A pattern whose DFA blows up falls back to RE2's NFA (bytes x program
 * size): the worst case is charged before matching, so a large subject
 * ends in "timeout" instead of seconds of work. */
TEST(e2e_regex_budget) {
  size_t n = (size_t)1 << 20;
  char *rec = malloc(n + 64);
  ASSERT_TRUE(rec != NULL);
  if (!rec) return;
  size_t o = (size_t)snprintf(rec, n + 64, "{\"response\": \"");
  unsigned x = 1;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    rec[o + i] = (x >> 16) & 1 ? 'a' : 'b';
  }
  o += n;
  snprintf(rec + o, 64, "\"}");
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": "
                           "\"[ab]*a[ab]{12}[ab]{0,200}c\"}}}",
                           rec);
  ASSERT_EQ_STR(r.status, "timeout");
  /* The same pattern on a normal-size response is fine. */
  r = e2e_score("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": "
                "\"[ab]*a[ab]{12}[ab]{0,200}c\"}}}",
                "{\"response\": \"abababababababababababababababababc\"}");
  ASSERT_E2E(r, 1.0, "ok");
  free(rec);
}

TEST(e2e_regex_rejected) {
  char err[512];
  e2e_spec_error("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": \"(a)\\\\1\"}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "args.pattern: regex: pattern not supported by RE2 "
                       "(backreferences and lookaround are not supported, "
                       "linear-time engine): invalid escape sequence: \\1");
  e2e_spec_error("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": \"(?=x)\"}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "not supported by RE2");
  e2e_spec_error("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": \"(ab\"}}}", err,
                 sizeof err);
  ASSERT_CONTAINS(err, "regex: invalid pattern: missing )");
  e2e_spec_error("{\"reward\": {\"fn\": \"regex\"}}", err, sizeof err);
  ASSERT_CONTAINS(err, "args.pattern: required");
  e2e_spec_error("{\"reward\": {\"fn\": \"regex\", \"args\": {\"pattern\": \"a\", "
                 "\"mode\": \"fullmatch\", \"count\": 2}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "args.count");
}

TEST_MAIN(TEST_ENTRY(compile_errors), TEST_ENTRY(matching),
          TEST_ENTRY(count_and_last), TEST_ENTRY(catastrophic_patterns),
          TEST_ENTRY(e2e_regex), TEST_ENTRY(e2e_regex_catastrophic), TEST_ENTRY(e2e_regex_budget),
          TEST_ENTRY(e2e_regex_rejected))
