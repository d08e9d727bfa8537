/*
 * test.h - the tiny unit-test harness: TEST(name) functions registered in
 * a table, typed assertions that print both sides, and a closing line
 * "N passed, M failed" that CI reads.
 *
 * Usage:  TEST(foo) { ASSERT_EQ_INT(1 + 1, 2); }
 *         TEST_MAIN(TEST_ENTRY(foo), ...)
 */
#ifndef RK_TEST_H
#define RK_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int rk_t_failed_;

#define TEST(name) static void test_##name(void)
#define TEST_ENTRY(name) {#name, test_##name}

#define RK_T_FAIL_(...)                                         \
  do {                                                          \
    fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);           \
    fprintf(stderr, __VA_ARGS__);                               \
    fputc('\n', stderr);                                        \
    rk_t_failed_ = 1;                                           \
  } while (0)

#define ASSERT_TRUE(c)                                          \
  do {                                                          \
    if (!(c)) RK_T_FAIL_("expected true: %s", #c);              \
  } while (0)

#define ASSERT_EQ_INT(a, b)                                     \
  do {                                                          \
    long long a_ = (long long)(a), b_ = (long long)(b);         \
    if (a_ != b_) RK_T_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_); \
  } while (0)

/* |a - b| <= tol; prints the difference. */
#define ASSERT_NEAR(a, b, tol)                                  \
  do {                                                          \
    double a_ = (a), b_ = (b);                                  \
    if (!(fabs(a_ - b_) <= (tol)) && !(isnan(a_) && isnan(b_))) \
      RK_T_FAIL_("%s ~= %s: %.17g vs %.17g (diff %.3g, tol %g)", #a, #b, \
                 a_, b_, fabs(a_ - b_), (double)(tol));         \
  } while (0)

#define ASSERT_EQ_STR(a, b)                                     \
  do {                                                          \
    const char *a_ = (a), *b_ = (b);                            \
    if (!a_ || !b_ || strcmp(a_, b_) != 0)                      \
      RK_T_FAIL_("%s == %s:\n    got:  %s\n    want: %s", #a, #b, \
                 a_ ? a_ : "(null)", b_ ? b_ : "(null)");       \
  } while (0)

/* Span (p, n) equals the C string b. */
#define ASSERT_EQ_SPAN(p, n, b)                                 \
  do {                                                          \
    const char *b_ = (b);                                       \
    size_t n_ = (n);                                            \
    if (!(p) || strlen(b_) != n_ || memcmp((p), b_, n_) != 0)   \
      RK_T_FAIL_("%s == %s:\n    got:  %.*s\n    want: %s", #p, #b, \
                 (int)n_, (p) ? (p) : "", b_);                  \
  } while (0)

#define ASSERT_CONTAINS(hay, needle)                            \
  do {                                                          \
    const char *h_ = (hay), *n_ = (needle);                     \
    if (!h_ || !strstr(h_, n_))                                 \
      RK_T_FAIL_("%s contains %s:\n    in: %s\n    missing: %s", #hay, \
                 #needle, h_ ? h_ : "(null)", n_);              \
  } while (0)

typedef struct {
  const char *name;
  void (*fn)(void);
} rk_t_entry_;

#define TEST_MAIN(...)                                          \
  int main(void) {                                              \
    static const rk_t_entry_ tests_[] = {__VA_ARGS__};          \
    int pass = 0, fail = 0;                                     \
    for (size_t i = 0; i < sizeof tests_ / sizeof tests_[0]; i++) { \
      rk_t_failed_ = 0;                                         \
      tests_[i].fn();                                           \
      if (rk_t_failed_) {                                       \
        fprintf(stderr, "FAIL %s\n", tests_[i].name);           \
        fail++;                                                 \
      } else {                                                  \
        pass++;                                                 \
      }                                                         \
    }                                                           \
    printf("%d passed, %d failed\n", pass, fail);               \
    return fail ? 1 : 0;                                        \
  }

#endif /* RK_TEST_H */
