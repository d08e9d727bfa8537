/*
 * test_numfmt.c - rk__fmt_double against the C library: for every double
 * it must print what the fewest of %.15g, %.16g, %.17g that reads back
 * exactly prints (glibc's printf and strtod are correctly rounded, and
 * independent of our integer arithmetic). Random doubles over the range
 * the exact integer path covers, and the cases where it could slip:
 * powers of two, neighbours of powers of ten, carries (9.99... -> 10),
 * ties, the range's ends.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "test.h"

static void reference(char *buf, double v) {
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, 40, "%.*g", prec, v);
    if (prec == 17 || strtod(buf, NULL) == v) return;
  }
}

static uint64_t g_state = 0x243F6A8885A308D3ull;
static uint64_t rnd64(void) {
  g_state ^= g_state << 13;
  g_state ^= g_state >> 7;
  g_state ^= g_state << 17;
  return g_state;
}

/* 0 when equal; else prints the first difference. */
static int check(double v) {
  char want[40], got[40];
  if (!isfinite(v)) return 0;
  /* Integers and short decimals take other paths; compare them too. */
  reference(want, v);
  size_t n = rk__fmt_double(got, v);
  if (n != strlen(got) || strcmp(want, got) != 0) {
    fprintf(stderr, "  %a: printf gives %s, rk__fmt_double gives %s\n", v, want, got);
    return 1;
  }
  return 0;
}

TEST(random_doubles_in_the_exact_range) {
  int bad = 0;
  for (int i = 0; i < 400000 && bad < 5; i++) {
    /* Uniform exponent between 1e-4 and 1e9, random 52-bit fraction. */
    int e = -14 + (int)(rnd64() % 45);
    double v = ldexp(1.0 + (double)(rnd64() >> 12) / 4503599627370496.0, e);
    if (rnd64() & 1) v = -v;
    bad += check(v);
  }
  ASSERT_EQ_INT(bad, 0);
}

TEST(short_and_rounded_decimals) {
  int bad = 0;
  for (int i = 0; i < 200000 && bad < 5; i++) {
    double v = (double)(rnd64() % 2000000001) / pow(10, (double)(rnd64() % 12));
    bad += check(v) + check(v * (1 + 1e-16)) + check(nextafter(v, 0));
  }
  ASSERT_EQ_INT(bad, 0);
}

TEST(edges) {
  int bad = 0;
  for (int k = -5; k <= 10; k++) {
    double p = pow(10, k);
    bad += check(p) + check(nextafter(p, 0)) + check(nextafter(p, INFINITY));
    bad += check(nextafter(nextafter(p, 0), 0)) + check(-nextafter(p, 0));
  }
  for (int e = -20; e <= 32; e++) {
    double p = ldexp(1, e);
    bad += check(p) + check(nextafter(p, 0)) + check(nextafter(p, INFINITY));
    bad += check(p / 3) + check(p * 0.7);
  }
  double special[] = {0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0, 9.9999999999999995, 99.99999999999999,
                      0.30000000000000004, 123456789.12345679, 999999999.99999988,
                      1e-4 * 9.999999999999999, 0.77787226402810223, 5e-324, 1e300,
                      0.9999999999999999, 0.99999999999999989, 4.35, 0.05 + 0.01};
  for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) bad += check(special[i]);
  ASSERT_EQ_INT(bad, 0);
}

TEST_MAIN(TEST_ENTRY(random_doubles_in_the_exact_range), TEST_ENTRY(short_and_rounded_decimals),
          TEST_ENTRY(edges))
