/*
 * test_length.c - overlong_dapo, soft_overlong and cosine_length: the
 * formulas on hand-computed values (arithmetic in the comments), the
 * length units, and end to end through the public API.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "e2e.h"
#include "test.h"

/* ---------------------------------------------------------- formulas */

TEST(dapo_formula) {
  /* DAPO paper defaults: max 20480, buffer 4096 -> expected 16384. */
  /* L=16000: -(16000-16384)/4096 = +0.09375 -> min(., 0) = 0 */
  ASSERT_NEAR(rk__len_dapo(16000, 20480, 4096, 1.0, 0), 0.0, 0);
  ASSERT_NEAR(rk__len_dapo(16384, 20480, 4096, 1.0, 0), 0.0, 0);
  ASSERT_TRUE(!signbit(rk__len_dapo(16384, 20480, 4096, 1.0, 0)));
  /* L=18432: -(2048)/4096 = -0.5 */
  ASSERT_NEAR(rk__len_dapo(18432, 20480, 4096, 1.0, 0), -0.5, 1e-15);
  /* L=20480: -(4096)/4096 = -1 */
  ASSERT_NEAR(rk__len_dapo(20480, 20480, 4096, 1.0, 0), -1.0, 1e-15);
  /* L=22528: -(6144)/4096 = -1.5 (verl does not floor); clamped: -1 */
  ASSERT_NEAR(rk__len_dapo(22528, 20480, 4096, 1.0, 0), -1.5, 1e-15);
  ASSERT_NEAR(rk__len_dapo(22528, 20480, 4096, 1.0, 1), -1.0, 1e-15);
  /* factor 0.5, L=18432: -0.5 * 0.5 = -0.25 */
  ASSERT_NEAR(rk__len_dapo(18432, 20480, 4096, 0.5, 0), -0.25, 1e-15);
}

TEST(soft_overlong_formula) {
  /* TRL docstring: max 100, cache 20, 90 tokens -> (80-90)/20 = -0.5 */
  ASSERT_NEAR(rk__len_soft_overlong(90, 100, 20), -0.5, 1e-15);
  ASSERT_NEAR(rk__len_soft_overlong(80, 100, 20), 0.0, 0);
  /* 81: (80-81)/20 = -0.05 */
  ASSERT_NEAR(rk__len_soft_overlong(81, 100, 20), -0.05, 1e-15);
  /* 100: (80-100)/20 = -1; 101: beyond max -> -1 */
  ASSERT_NEAR(rk__len_soft_overlong(100, 100, 20), -1.0, 1e-15);
  ASSERT_NEAR(rk__len_soft_overlong(101, 100, 20), -1.0, 0);
  /* cache 0: no ramp, 0 up to max, -1 beyond (no division by zero) */
  ASSERT_NEAR(rk__len_soft_overlong(100, 100, 0), 0.0, 0);
  ASSERT_NEAR(rk__len_soft_overlong(101, 100, 0), -1.0, 0);
}

TEST(cosine_formula) {
  rk__cosine_cfg f = {1000, -1.0, -0.5, 0.5, 1.0, 1};
  /* correct: lo 0.5, hi 1.0; v = 0.5 + 0.25 (1 + cos(pi L/1000)) */
  ASSERT_NEAR(rk__len_cosine(&f, 0, 1), 1.0, 1e-15);      /* 0.5+0.25*2 */
  ASSERT_NEAR(rk__len_cosine(&f, 500, 1), 0.75, 1e-15);   /* 0.5+0.25*1 */
  ASSERT_NEAR(rk__len_cosine(&f, 1000, 1), 0.5, 1e-15);   /* 0.5+0.25*0 */
  /* L=250: cos(pi/4) = 0.70710678118654752; 0.5+0.25*1.7071067811865475 */
  ASSERT_NEAR(rk__len_cosine(&f, 250, 1), 0.9267766952966369, 1e-15);
  /* wrong: lo = max_wrong -0.5, hi = min_wrong -1;
   * v = -0.5 - 0.25 (1 + cos(pi L/1000)) */
  ASSERT_NEAR(rk__len_cosine(&f, 0, 0), -1.0, 1e-15);
  ASSERT_NEAR(rk__len_cosine(&f, 500, 0), -0.75, 1e-15);
  ASSERT_NEAR(rk__len_cosine(&f, 1000, 0), -0.5, 1e-15);
  /* Past max_len: clamped to t = 1 ... */
  ASSERT_NEAR(rk__len_cosine(&f, 2000, 1), 0.5, 1e-15);
  /* ... while open-r1 (clamp off) is periodic: cos(2 pi) = 1 -> 1.0 */
  f.clamp = 0;
  ASSERT_NEAR(rk__len_cosine(&f, 2000, 1), 1.0, 1e-15);
}

TEST(units) {
  ASSERT_EQ_INT(rk__utf8_count("h\xc3\xa9llo", 6), 5);        /* héllo */
  ASSERT_EQ_INT(rk__utf8_count("\xe4\xb8\xad\xf0\x9f\x98\x80", 7), 2);
  ASSERT_EQ_INT(rk__utf8_count("\xff\xfe", 2), 2);             /* stray bytes */
  ASSERT_EQ_INT(rk__utf8_count("", 0), 0);
  /* 1000 x "é" (2000 bytes): more than 255 continuation bytes per fold of
   * the 8-byte lanes (a fuzzer finding); 3-byte "中" x 700 likewise. */
  static char big[4096];
  for (int i = 0; i < 1000; i++) memcpy(big + 2 * i, "\xc3\xa9", 2);
  ASSERT_EQ_INT(rk__utf8_count(big, 2000), 1000);
  for (int i = 0; i < 700; i++) memcpy(big + 3 * i, "\xe4\xb8\xad", 3);
  ASSERT_EQ_INT(rk__utf8_count(big, 2100), 700);
  /* Unaligned start inside the first character: its two continuation
   * bytes are not counted. */
  ASSERT_EQ_INT(rk__utf8_count(big + 1, 2099), 699);
  /* Python len("a b  c\u00a0d\u3000e\x1cf".split()) == 6 */
  const char *w = "a b  c\xc2\xa0" "d\xe3\x80\x80" "e\x1c" "f";
  ASSERT_EQ_INT(rk__count_words(w, strlen(w)), 6);
  ASSERT_EQ_INT(rk__count_words("   ", 3), 0);
  ASSERT_EQ_INT(rk__count_words("", 0), 0);
  /* U+200B is not whitespace: one word. */
  ASSERT_EQ_INT(rk__count_words("a\xe2\x80\x8b" "b", 5), 1);
}

/* ------------------------------------------------------ end to end */

#define DAPO "{\"reward\": {\"fn\": \"overlong_dapo\", \"args\": {\"max_len\": 20480, \"buffer_len\": 4096"

TEST(e2e_dapo) {
  e2e_result r = e2e_score(DAPO "}}}", "{\"response\": \"x\", \"response_length\": 18432}");
  ASSERT_E2E(r, -0.5, "ok");
  ASSERT_CONTAINS(r.explain, "L=18432 tokens from response_length");
  /* No response_length: code points of the response (5 for "héllo"). */
  r = e2e_score("{\"reward\": {\"fn\": \"overlong_dapo\", \"args\": {\"max_len\": 10, "
                "\"buffer_len\": 4}}}",
                "{\"response\": \"h\\u00e9llo w\\u00f6rld\"}");
  /* 11 code points; expected 6; -(11-6)/4 = -1.25 */
  ASSERT_E2E(r, -1.25, "ok");
  ASSERT_CONTAINS(r.explain, "L=11 code points of the response");
  r = e2e_score("{\"reward\": {\"fn\": \"overlong_dapo\", \"args\": {\"max_len\": 10, "
                "\"buffer_len\": 4, \"unit\": \"bytes\", \"clamp\": true}}}",
                "{\"response\": \"h\\u00e9llo w\\u00f6rld\"}");
  /* 13 bytes; -(13-6)/4 = -1.75, clamped to -1 */
  ASSERT_E2E(r, -1.0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"overlong_dapo\", \"args\": {\"max_len\": 4, "
                "\"buffer_len\": 2, \"unit\": \"words\"}}}",
                "{\"response\": \"one two three four five\"}");
  /* 5 words; expected 2; -(5-2)/2 = -1.5 */
  ASSERT_E2E(r, -1.5, "ok");
  ASSERT_CONTAINS(r.explain, "words of the response");
  /* A bad response_length is an error, never a silent length. */
  r = e2e_score(DAPO "}}}", "{\"response\": \"x\", \"response_length\": -3}");
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.error, "response_length");
  r = e2e_score(DAPO "}}}", "{\"response\": \"x\", \"response_length\": \"5\"}");
  ASSERT_EQ_STR(r.status, "error");
}

TEST(e2e_soft_overlong) {
  /* field:meta.ids holds 9 token ids; max 10, cache 2: (8-9)/2 = -0.5 */
  e2e_result r = e2e_score(
      "{\"reward\": {\"fn\": \"soft_overlong\", \"args\": {\"max_len\": 10, "
      "\"cache_len\": 2, \"unit\": \"field:meta.ids\"}}}",
      "{\"response\": \"x\", \"meta\": {\"ids\": [1,2,3,4,5,6,7,8,9]}}");
  ASSERT_E2E(r, -0.5, "ok");
  ASSERT_CONTAINS(r.explain, "L=9 items of meta.ids");
  /* EasyR1 dapo.py: overall adds factor * soft_overlong; factor 0.5 */
  r = e2e_score("{\"reward\": {\"fn\": \"soft_overlong\", \"args\": {\"max_len\": 100, "
                "\"cache_len\": 20, \"penalty_factor\": 0.5}}}",
                "{\"response\": \"x\", \"response_length\": 90}");
  ASSERT_E2E(r, -0.25, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"soft_overlong\", \"args\": {\"max_len\": 10, "
                "\"cache_len\": 2, \"unit\": \"field:missing\"}}}",
                "{\"response\": \"x\"}");
  ASSERT_EQ_STR(r.status, "error");
  ASSERT_CONTAINS(r.error, "missing");
}

TEST(e2e_cosine) {
  /* correct (constant 1), L=500 of 1000: 0.75 */
  e2e_result r = e2e_score(
      "{\"reward\": {\"fn\": \"cosine_length\", \"args\": {\"max_len\": 1000, "
      "\"correct\": {\"fn\": \"constant\", \"args\": {\"value\": 1}}}}}",
      "{\"response\": \"x\", \"response_length\": 500}");
  ASSERT_E2E(r, 0.75, "ok");
  ASSERT_CONTAINS(r.explain, "L=500 tokens from response_length; correct");
  /* wrong (constant 0), L=500: -0.75 */
  r = e2e_score("{\"reward\": {\"fn\": \"cosine_length\", \"args\": {\"max_len\": 1000, "
                "\"correct\": {\"fn\": \"constant\", \"args\": {\"value\": 0}}}}}",
                "{\"response\": \"x\", \"response_length\": 500}");
  ASSERT_E2E(r, -0.75, "ok");
  ASSERT_CONTAINS(r.explain, "wrong");
  /* VLM-R1 style threshold: accuracy 0.7 >= correct_at 0.7; L=0 -> 1.0;
   * custom bounds: correct in [0, 2], L=1000 -> min_value_correct 0 */
  r = e2e_score("{\"reward\": {\"fn\": \"cosine_length\", \"args\": {\"max_len\": 1000, "
                "\"correct_at\": 0.7, \"min_value_correct\": 0, \"max_value_correct\": 2, "
                "\"correct\": {\"fn\": \"field\", \"args\": {\"field\": \"acc\"}}}}}",
                "{\"response\": \"x\", \"response_length\": 1000, \"acc\": 0.7}");
  ASSERT_E2E(r, 0.0, "ok");
  /* The correctness node's error propagates. */
  r = e2e_score("{\"reward\": {\"fn\": \"cosine_length\", \"args\": {\"max_len\": 1000, "
                "\"correct\": {\"fn\": \"field\", \"args\": {\"field\": \"acc\"}}}}}",
                "{\"response\": \"x\"}");
  ASSERT_EQ_STR(r.status, "error");
}

TEST(e2e_length_spec_errors) {
  char err[512];
  e2e_spec_error("{\"reward\": {\"fn\": \"overlong_dapo\", \"args\": {\"buffer_len\": 4}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "args.max_len");
  e2e_spec_error("{\"reward\": {\"fn\": \"overlong_dapo\", \"args\": {\"max_len\": 4, "
                 "\"buffer_len\": 8}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "args.buffer_len");
  e2e_spec_error("{\"reward\": {\"fn\": \"soft_overlong\", \"args\": {\"max_len\": 4, "
                 "\"cache_len\": 2, \"unit\": \"tokens\"}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "args.unit");
  e2e_spec_error("{\"reward\": {\"fn\": \"cosine_length\", \"args\": {\"max_len\": 4}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "args.correct");
  e2e_spec_error("{\"reward\": {\"fn\": \"cosine_length\", \"args\": {\"max_len\": 4, "
                 "\"correct\": {\"fn\": \"nope\"}}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "nope");
}

TEST_MAIN(TEST_ENTRY(dapo_formula), TEST_ENTRY(soft_overlong_formula),
          TEST_ENTRY(cosine_formula), TEST_ENTRY(units), TEST_ENTRY(e2e_dapo),
          TEST_ENTRY(e2e_soft_overlong), TEST_ENTRY(e2e_cosine),
          TEST_ENTRY(e2e_length_spec_errors))
