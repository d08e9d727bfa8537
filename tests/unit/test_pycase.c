/*
 * test_pycase.c - Python's str.lower() final-sigma rule (text/pycase.h).
 *
 * Expected values: python3 3.11 (Unicode 14) run outside the test by
 * tests/data/text/gen_pycase_ref.py: how lower() treats every code point
 * next to a capital sigma (pycase_props.tsv). Invalid UTF-8, which Python
 * cannot hold, is checked against the code-point rule on the decoded text
 * (each stray byte one U+FFFD), with a few hand-checked literals.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "json/json.h"
#include "metrics/levenshtein.h"
#include "test.h"
#include "text/pycase.h"

#define SIG RK__SIGMA_CAPITAL
#define FIN RK__SIGMA_FINAL
#define SMALL RK__SIGMA_SMALL

/* ----------------------------------------------------------- helpers */

typedef struct ranges {
  uint32_t (*r)[2];
  size_t n, cap;
} ranges;

static void ranges_add(ranges *s, uint32_t lo, uint32_t hi) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 256;
    s->r = realloc(s->r, s->cap * sizeof *s->r);
    if (!s->r) abort();
  }
  s->r[s->n][0] = lo;
  s->r[s->n][1] = hi;
  s->n++;
}

/* Ranges are sorted: a cursor that only moves forward. */
static int ranges_has(const ranges *s, size_t *at, uint32_t c) {
  while (*at < s->n && s->r[*at][1] < c) (*at)++;
  return *at < s->n && s->r[*at][0] <= c;
}

static size_t utf8_of(const uint32_t *v, size_t n, char *out) {
  unsigned char *o = (unsigned char *)out;
  for (size_t i = 0; i < n; i++) o = rk__utf8_put(o, v[i]);
  return (size_t)((char *)o - out);
}

/* ------------------------------------------------- the rule, exhaustively */

/* For every code point c: rk__pycase_sigma on "A" c Σ and "A" Σ c, and
 * rk__pycase_sigma_utf8 on their UTF-8, give what python3 gives. The only
 * code points allowed to differ are those this python does not know
 * (Unicode 15 additions that utf8proc 2.8 has), e.g. the Cyrillic
 * modifier letters U+1E030.. (category Lm, so case ignorable here). The
 * UTF-8 walker must agree with the code-point rule everywhere. */
TEST(rule_vs_python_every_code_point) {
  FILE *f = fopen("data/text/pycase_props.tsv", "r");
  ASSERT_TRUE(f != NULL);
  if (!f) return;
  ranges ign = {0}, cased = {0}, cn = {0};
  char line[256], name[32];
  unsigned lo, hi;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    if (sscanf(line, "%31s %x %x", name, &lo, &hi) != 3) {
      RK_T_FAIL_("bad line: %s", line);
      continue;
    }
    ranges *s = !strcmp(name, "ignorable") ? &ign : !strcmp(name, "cased") ? &cased : &cn;
    ranges_add(s, lo, hi);
  }
  fclose(f);
  ASSERT_TRUE(ign.n > 100 && cased.n > 100 && cn.n > 100);
  size_t ai = 0, ac = 0, an = 0, newer = 0, bad = 0;
  for (uint32_t c = 0; c <= 0x10FFFF; c++) {
    int pi = ranges_has(&ign, &ai, c), pc = ranges_has(&cased, &ac, c);
    int unknown = ranges_has(&cn, &an, c);
    /* "A" c Σ: final unless c is neither; "A" Σ c: final unless c is
     * cased and not ignorable. */
    uint32_t want1 = pi || pc ? FIN : SMALL, want2 = !pi && pc ? SMALL : FIN;
    uint32_t s1[3] = {'A', c, SIG}, s2[3] = {'A', SIG, c};
    uint32_t got1 = rk__pycase_sigma(s1, 3, 2), got2 = rk__pycase_sigma(s2, 3, 1);
    int ok = got1 == want1 && got2 == want2;
    if (!ok && unknown) {
      newer++;
    } else if (!ok && bad++ < 10) {
      RK_T_FAIL_("U+%04X: A c S -> U+%04X (python U+%04X), A S c -> U+%04X (python U+%04X)",
                 (unsigned)c, (unsigned)got1, (unsigned)want1, (unsigned)got2, (unsigned)want2);
    }
    /* The UTF-8 walker reads the same code points (surrogates have no
     * UTF-8 form: their three bytes are three stray bytes). */
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    char b1[16], b2[16];
    size_t n1 = utf8_of(s1, 3, b1), n2 = utf8_of(s2, 3, b2);
    if (rk__pycase_sigma_utf8(b1, n1, n1 - 2) != got1 || rk__pycase_sigma_utf8(b2, n2, 1) != got2)
      if (bad++ < 10)
        RK_T_FAIL_("U+%04X: the UTF-8 rule differs from the code-point one", (unsigned)c);
  }
  /* utf8proc 2.8 (Unicode 15) assigns 4489 code points that Unicode 14
   * left open; 111 of them are case ignorable (Lm, Mn, Cf) or cased (Ll)
   * there, and differ from this python (measured). */
  ASSERT_TRUE(newer <= 111);
  free(ign.r);
  free(cased.r);
  free(cn.r);
}

/* -------------------------------------------------------- invalid UTF-8 */

/* Hand-checked: a stray byte reads as U+FFFD, which is neither cased nor
 * case ignorable, like Python's
 *   "Α\ufffdΣ".lower() == "α\ufffdσ"   "ΑΣ\ufffd".lower() == "ας\ufffd"
 *   "Α\u0301\ufffdΣ".lower() == "α\u0301\ufffdσ"  */
TEST(invalid_utf8_literals) {
  static const struct {
    const char *s;
    size_t at;
    uint32_t want;
  } cases[] = {
      {"\xce\x91\xff\xce\xa3", 3, SMALL},          /* Α, stray FF, Σ */
      {"\xce\x91\xce\xa3\x80", 2, FIN},            /* Α, Σ, stray continuation */
      {"\xce\x91\xcc\x81\x81\xce\xa3", 5, SMALL},  /* Α, U+0301, stray 81, Σ */
      {"\xce\x91\xe2\x80\xce\xa3", 4, SMALL},      /* Α, truncated E2 80, Σ */
      {"\xce\x91\xcc\x81\xce\xa3", 4, FIN},        /* Α, U+0301, Σ */
      {"\xf0\x9d\x90\x80\xce\xa3", 4, FIN},        /* U+1D400 (Lu), Σ */
      {"\x9d\x90\x80\xce\xa3", 3, SMALL},          /* its continuation bytes alone */
      {"\xce\x91\xed\xa0\x80\xce\xa3", 5, SMALL},  /* Α, an encoded surrogate, Σ */
      {"\xce\x91\xce\xa3\xe2\x80\x99\xce\x91", 2, SMALL}, /* ΑΣ’Α */
      {"\xce\x91\xce\xa3\xe2\x80\x99", 2, FIN},           /* ΑΣ’ */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint32_t got = rk__pycase_sigma_utf8(cases[i].s, strlen(cases[i].s), cases[i].at);
    if (got != cases[i].want) RK_T_FAIL_("case %zu: U+%04X", i, (unsigned)got);
  }
}

/* Random byte strings (valid and invalid UTF-8): the UTF-8 walker and the
 * code-point rule on rk__cp_decode's reading agree at every Σ. */
TEST(utf8_walker_vs_code_points) {
  static const char *const pieces[] = {"\xce\xa3", "\xce\xa3", "\xce\xa3", "A", "a", " ",
                                       "'", ".", "\xcc\x81", "\xe2\x80\x99", "\xf0\x9d\x90\x80",
                                       "\xca\xb0", "\x80", "\xbf", "\xce", "\xe2\x80", "\xf0\x9d",
                                       "\xff", "\xed\xa0\x80", "\xc2\xad", "1"};
  const size_t np = sizeof pieces / sizeof pieces[0];
  uint64_t x = 88172645463325252ull;
  char s[64];
  uint32_t cp[64];
  for (int it = 0; it < 200000; it++) {
    size_t n = 0;
    int k = 1 + (int)(it % 9);
    for (int j = 0; j < k; j++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      const char *p = pieces[x % np];
      size_t l = strlen(p);
      memcpy(s + n, p, l);
      n += l;
    }
    size_t m = rk__cp_decode(s, n, cp), ci = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
      size_t len;
      uint32_t c = rk__cp_next(u + i, u + n, &len);
      if (c == SIG && rk__pycase_sigma_utf8(s, n, i) != rk__pycase_sigma(cp, m, ci)) {
        RK_T_FAIL_("iteration %d: the walkers disagree at byte %zu", it, i);
        return;
      }
      i += len;
      ci++;
    }
  }
}

TEST_MAIN(TEST_ENTRY(rule_vs_python_every_code_point), TEST_ENTRY(invalid_utf8_literals),
          TEST_ENTRY(utf8_walker_vs_code_points))
