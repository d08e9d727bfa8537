/*
 * test_repetition.c - the `repetition` reward. Expected penalties come from
 * the open-r1 / TRL Python implementation run outside the test
 * (words = s.lower().split(); (1 - unique/total) * max_penalty) and from
 * the TRL docstring example; RLPR values are counted by hand.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "e2e.h"
#include "test.h"

static rk__arena g_arena;

static double trl(const char *s, size_t n, int lower) {
  rk__rep_result r;
  rk__arena_reset(&g_arena);
  if (rk__rep_ngrams(s, strlen(s), n, lower, 0, &g_arena, &r)) return 99;
  return rk__rep_trl(&r, -1.0);
}

TEST(setup_) { rk__arena_init(&g_arena, 0); }

TEST(ngram_trl_values) {
  /* 6 words, 5 unique unigrams: (1 - 5/6) * -1 = -0.1666... */
  ASSERT_NEAR(trl("the cat sat on the mat", 1, 1), -1.0 / 6.0, 1e-15);
  ASSERT_NEAR(trl("the cat sat on the mat", 2, 1), 0.0, 0);
  /* 9 words, 7 trigrams, 3 unique: 1 - 3/7 = 4/7 */
  ASSERT_NEAR(trl("a b c a b c a b c", 3, 1), -4.0 / 7.0, 1e-15);
  /* 8 bigrams, 3 unique: 1 - 3/8 = 0.625 */
  ASSERT_NEAR(trl("a b c a b c a b c", 2, 1), -0.625, 1e-15);
  /* lowercase: 1 unique of 4 -> -0.75; case kept: 3 of 4 -> -0.25 */
  ASSERT_NEAR(trl("The the THE the", 1, 1), -0.75, 1e-15);
  ASSERT_NEAR(trl("The the THE the", 1, 0), -0.25, 1e-15);
  /* fewer words than n -> 0; empty -> 0 */
  ASSERT_NEAR(trl("one two", 3, 1), 0.0, 0);
  ASSERT_NEAR(trl("", 3, 1), 0.0, 0);
  /* 4 trigrams, 1 unique: -0.75 */
  ASSERT_NEAR(trl("x x x x x x", 3, 1), -0.75, 1e-15);
  /* Unicode lowercase: Ünïcode / ÜNÏCODE / ünïcode are one word; 2 of 4 */
  ASSERT_NEAR(trl("\xc3\x9cn\xc3\xaf" "code \xc3\x9cN\xc3\x8f" "CODE \xc3\xbcn\xc3\xaf" "code x",
                  1, 1),
              -0.5, 1e-15);
  /* Unicode whitespace splits: a b a b a b, bigrams 2 unique of 5 */
  ASSERT_NEAR(trl("a\xc2\xa0" "b a b a\xe3\x80\x80" "b", 2, 1), -0.6, 1e-15);
  /* Never -0.0 */
  ASSERT_TRUE(!signbit(trl("a b c d", 2, 1)));
}

TEST(tokens_trl_docstring) {
  /* TRL: get_repetition_penalty_reward(ngram_size=2)([[1,2,3,4],[5,5,5,5,5]])
   * == [0.0, -0.75] */
  rk__str a[] = {RK__STR("1"), RK__STR("2"), RK__STR("3"), RK__STR("4")};
  rk__str b[] = {RK__STR("5"), RK__STR("5"), RK__STR("5"), RK__STR("5"),
                 RK__STR("5")};
  rk__rep_result r;
  rk__arena_reset(&g_arena);
  ASSERT_EQ_INT(rk__rep_ngrams_tokens(a, 4, 2, &g_arena, &r), 0);
  ASSERT_NEAR(rk__rep_trl(&r, -1.0), 0.0, 0);
  ASSERT_EQ_INT(rk__rep_ngrams_tokens(b, 5, 2, &g_arena, &r), 0);
  ASSERT_NEAR(rk__rep_trl(&r, -1.0), -0.75, 1e-15);
}

TEST(rlpr_counts) {
  char buf[2048];
  rk__rep_result r;
  /* 100 words cycling w0..w9: 91 windows of 10; the window starting at
   * w0 occurs at 0, 10, ..., 90 = 10 times. */
  size_t o = 0;
  for (int i = 0; i < 100; i++) o += (size_t)snprintf(buf + o, sizeof buf - o, "w%d ", i % 10);
  rk__arena_reset(&g_arena);
  ASSERT_EQ_INT(rk__rep_ngrams(buf, o, 10, 0, 1, &g_arena, &r), 0);
  ASSERT_EQ_INT(r.words, 100);
  ASSERT_EQ_INT(r.total, 91);
  ASSERT_EQ_INT(r.max_count, 10);
  /* 99 words: 90 windows, each rotation 9 times. */
  o = 0;
  for (int i = 0; i < 99; i++) o += (size_t)snprintf(buf + o, sizeof buf - o, "w%d ", i % 10);
  ASSERT_EQ_INT(rk__rep_ngrams(buf, o, 10, 0, 1, &g_arena, &r), 0);
  ASSERT_EQ_INT(r.max_count, 9);
  /* '_' separates words in rlpr mode. */
  o = 0;
  for (int i = 0; i < 100; i++) o += (size_t)snprintf(buf + o, sizeof buf - o, "w%d__", i % 10);
  ASSERT_EQ_INT(rk__rep_ngrams(buf, o, 10, 0, 1, &g_arena, &r), 0);
  ASSERT_EQ_INT(r.words, 100);
  ASSERT_EQ_INT(r.max_count, 10);
  ASSERT_EQ_INT(rk__rep_ngrams(buf, o, 10, 0, 0, &g_arena, &r), 0);
  ASSERT_EQ_INT(r.words, 1);
}

TEST(huge_inputs) {
  size_t n = (size_t)1 << 20;
  char *s = malloc(n);
  ASSERT_TRUE(s != NULL);
  if (!s) return;
  rk__rep_result r;
  /* One 1 MiB word. */
  memset(s, 'a', n);
  rk__arena_reset(&g_arena);
  ASSERT_EQ_INT(rk__rep_ngrams(s, n, 3, 1, 0, &g_arena, &r), 0);
  ASSERT_EQ_INT(r.words, 1);
  /* 512 Ki copies of "a": total 524286 trigrams, 1 unique. */
  for (size_t i = 0; i < n; i += 2) {
    s[i] = 'a';
    s[i + 1] = ' ';
  }
  rk__arena_reset(&g_arena);
  ASSERT_EQ_INT(rk__rep_ngrams(s, n, 3, 1, 0, &g_arena, &r), 0);
  ASSERT_EQ_INT(r.total, 524286);
  ASSERT_EQ_INT(r.unique, 1);
  /* Many distinct words (hash table with no repeats): penalty 0. */
  size_t o = 0;
  for (unsigned i = 0; o + 12 < n; i++) o += (size_t)snprintf(s + o, n - o, "%x ", i * 2654435761u);
  rk__arena_reset(&g_arena);
  ASSERT_EQ_INT(rk__rep_ngrams(s, o, 3, 1, 0, &g_arena, &r), 0);
  ASSERT_EQ_INT(r.unique, r.total);
  /* Invalid UTF-8 and NUL bytes are just bytes. */
  for (size_t i = 0; i < n; i++) s[i] = (char)(i * 7 % 256);
  rk__arena_reset(&g_arena);
  ASSERT_EQ_INT(rk__rep_ngrams(s, n, 3, 1, 1, &g_arena, &r), 0);
  free(s);
}

/* Python's lower() maps U+0130 to "i" + U+0307: "İstanbul istanbul"
 * .lower().split() has two distinct words (python3), not one. */
TEST(lower_dotted_capital_i) {
  rk__rep_result r;
  const char *s = "\xc4\xb0stanbul istanbul \xc4\xb0STANBUL";
  rk__arena_reset(&g_arena);
  ASSERT_EQ_INT(rk__rep_ngrams(s, strlen(s), 1, 1, 0, &g_arena, &r), 0);
  ASSERT_EQ_INT(r.total, 3);
  ASSERT_EQ_INT(r.unique, 2);
}

TEST(e2e_repetition) {
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"repetition\"}}",
                           "{\"response\": \"a b c a b c a b c\"}");
  ASSERT_E2E(r, -4.0 / 7.0, "ok");
  ASSERT_CONTAINS(r.explain, "3-grams over 9 words: 3 unique of 7");
  r = e2e_score("{\"reward\": {\"fn\": \"repetition\", \"args\": {\"n\": 2, "
                "\"max_penalty\": -0.5}}}",
                "{\"response\": \"a b c a b c a b c\"}");
  /* -0.625 * 0.5 */
  ASSERT_E2E(r, -0.3125, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"repetition\", \"args\": {\"n\": 2, "
                "\"tokens_field\": \"ids\"}}}",
                "{\"response\": \"x\", \"ids\": [5, 5, 5, 5, 5]}");
  ASSERT_E2E(r, -0.75, "ok");
  char rec[2048];
  size_t o = (size_t)snprintf(rec, sizeof rec, "{\"response\": \"");
  for (int i = 0; i < 100; i++) o += (size_t)snprintf(rec + o, sizeof rec - o, "w%d_", i % 10);
  snprintf(rec + o, sizeof rec - o, "\"}");
  r = e2e_score("{\"reward\": {\"fn\": \"repetition\", \"args\": {\"mode\": \"rlpr\"}}}", rec);
  ASSERT_E2E(r, -1.0, "ok");
  ASSERT_CONTAINS(r.explain, "occurs 10 times (>= 10)");
  r = e2e_score("{\"reward\": {\"fn\": \"repetition\", \"args\": {\"mode\": \"rlpr\", "
                "\"count\": 11}}}",
                rec);
  ASSERT_E2E(r, 0.0, "ok");
  r = e2e_score("{\"reward\": {\"fn\": \"repetition\"}}", "{\"response\": \"\"}");
  ASSERT_E2E(r, 0.0, "ok");
  /* "ΟΔΟΣ οδος".lower().split() == ["οδος", "οδος"] in python3 (a
   * word-final capital sigma lowers to ς): 1 distinct unigram of 2,
   * (1 - 1/2) * -1. */
  r = e2e_score("{\"reward\": {\"fn\": \"repetition\", \"args\": {\"n\": 1}}}",
                "{\"response\": \"\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xbf\xce\xb4\xce\xbf\xcf\x82\"}");
  ASSERT_E2E(r, -0.5, "ok");
}

TEST(e2e_repetition_spec_errors) {
  char err[512];
  e2e_spec_error("{\"reward\": {\"fn\": \"repetition\", \"args\": {\"max_penalty\": 1}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "args.max_penalty");
  e2e_spec_error("{\"reward\": {\"fn\": \"repetition\", \"args\": {\"penalty\": -1}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "rlpr");
  e2e_spec_error("{\"reward\": {\"fn\": \"repetition\", \"args\": {\"n\": 0}}}", err,
                 sizeof err);
  ASSERT_CONTAINS(err, "args.n");
  e2e_spec_error("{\"reward\": {\"fn\": \"repetition\", \"args\": {\"mode\": \"rlpr\", "
                 "\"max_penalty\": -1}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "penalty");
}

TEST(teardown_) { rk__arena_release(&g_arena); }

TEST(counts_do_not_depend_on_keys) {
  /* The word and window tables take the process's random hash keys (so
   * that no text can crowd one probe run); the counts are the same under
   * any keys: 3,000 words from 40, windows of 1, 3 and 10, two key sets.
   * The hand case: "a b a b a" has bigrams ab, ba, ab, ba: 4 total, 2
   * unique, 2 the most repeated. */
  static char buf[3000 * 4];
  size_t o = 0;
  uint64_t x = 99;
  for (int i = 0; i < 3000; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    o += (size_t)sprintf(buf + o, "w%u ", (unsigned)(x >> 59) + (unsigned)(x >> 61));
  }
  rk__hkeys keep = rk__hk;
  size_t got[2][9];
  for (int pass = 0; pass < 2; pass++) {
    rk__hkeys_set(pass ? 0x5EEDull : 7);
    static const size_t ns[3] = {1, 3, 10};
    for (int k = 0; k < 3; k++) {
      rk__rep_result r;
      rk__arena_reset(&g_arena);
      ASSERT_EQ_INT(rk__rep_ngrams(buf, o, ns[k], 1, 0, &g_arena, &r), 0);
      got[pass][3 * k] = r.total, got[pass][3 * k + 1] = r.unique, got[pass][3 * k + 2] = r.max_count;
    }
    rk__rep_result h;
    rk__arena_reset(&g_arena);
    ASSERT_EQ_INT(rk__rep_ngrams("a b a b a", 9, 2, 0, 0, &g_arena, &h), 0);
    ASSERT_EQ_INT(h.total, 4);
    ASSERT_EQ_INT(h.unique, 2);
    ASSERT_EQ_INT(h.max_count, 2);
  }
  rk__hk = keep;
  for (int k = 0; k < 9; k++) ASSERT_EQ_INT(got[0][k], got[1][k]);
  ASSERT_EQ_INT(got[0][0], 3000);
}

TEST_MAIN(TEST_ENTRY(setup_), TEST_ENTRY(ngram_trl_values),
          TEST_ENTRY(tokens_trl_docstring), TEST_ENTRY(rlpr_counts),
          TEST_ENTRY(huge_inputs), TEST_ENTRY(lower_dotted_capital_i), TEST_ENTRY(e2e_repetition),
          TEST_ENTRY(e2e_repetition_spec_errors), TEST_ENTRY(counts_do_not_depend_on_keys),
          TEST_ENTRY(teardown_))
