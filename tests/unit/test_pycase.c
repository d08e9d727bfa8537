/*
 * test_pycase.c - Python's str.lower() final-sigma rule (text/pycase.h)
 * and every lower-casing path that claims lower(): code-point strings
 * (rk__cp_lower_seq: anls, relaxed_acc, vqa_acc), UTF-8 copies
 * (rk__pylower: bleu, chrf, cider_d), box labels (detection,
 * coco_map), the SQuAD normaliser (f1, em, exact), rouge's unicode
 * tokenizer and repetition's words.
 *
 * Expected values: python3 3.11 (Unicode 14) run outside the test by
 * tests/data/text/gen_pycase_ref.py: how lower() treats every code point
 * next to a capital sigma (pycase_props.tsv), and texts with their
 * lower(), SQuAD normalisation, unicode ROUGE tokens and word counts
 * (pylower_ref.tsv). Invalid UTF-8, which Python cannot hold, is checked
 * against the code-point rule on the decoded text (each stray byte one
 * U+FFFD), with a few hand-checked literals.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "json/json.h"
#include "metrics/levenshtein.h"
#include "metrics/ovl.h"
#include "test.h"
#include "text/normalize.h"
#include "text/pycase.h"
#include "vision/detection.h"

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

/* ------------------------------------------------- texts through every path */

static rk__arena g_arena;

/* The four JSON columns of a pylower_ref.tsv line, as one JSON array. */
static json_t *parse_line(char *line) {
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
  char *buf = malloc(n + 3);
  if (!buf) abort();
  buf[0] = '[';
  for (size_t i = 0; i < n; i++) buf[i + 1] = line[i] == '\t' ? ',' : line[i];
  buf[n + 1] = ']';
  buf[n + 2] = '\0';
  json_t *v = json_loads(buf, 0, NULL);
  free(buf);
  return v;
}

static int span_is(const char *p, size_t n, const char *want, size_t wn) {
  return n == wn && (n == 0 || memcmp(p, want, n) == 0);
}

static void check_text(const char *in, size_t n, const char *low, size_t ln, const char *sq,
                       size_t sqn, json_t *rouge, int lineno) {
  rk__arena *a = &g_arena;
  rk__arena_reset(a);
  /* rk__cp_lower_seq on the code points */
  uint32_t *cp = rk__arena_alloc(a, (n + 1) * sizeof *cp);
  uint32_t *lc = rk__arena_alloc(a, (2 * n + 1) * sizeof *lc);
  size_t m = rk__cp_lower_seq(cp, rk__cp_decode(in, n, cp), lc);
  rk__str got;
  ASSERT_EQ_INT(rk__cp_encode_arena(a, lc, m, &got), 0);
  if (!span_is(got.p, got.n, low, ln))
    RK_T_FAIL_("line %d: rk__cp_lower_seq gives '%.*s', python '%.*s'", lineno, (int)got.n, got.p,
               (int)ln, low);
  /* rk__pylower on the bytes */
  size_t on;
  char *o = rk__pylower(a, in, n, &on);
  if (!o || !span_is(o, on, low, ln))
    RK_T_FAIL_("line %d: rk__pylower gives '%.*s', python '%.*s'", lineno, o ? (int)on : 0,
               o ? o : "", (int)ln, low);
  /* box labels: equal to their lower(); one sigma flipped, not */
  rk__str si = rk__str_make(in, n), sl = rk__str_make(low, ln);
  if (!rk__box_label_eq(si, sl, 1)) RK_T_FAIL_("line %d: label != its lower()", lineno);
  char *flip = rk__arena_alloc(a, ln + 1);
  memcpy(flip, low, ln);
  for (size_t i = 0; i + 1 < ln; i++)
    if ((unsigned char)flip[i] == 0xCF && ((unsigned char)flip[i + 1] == 0x82 ||
                                           (unsigned char)flip[i + 1] == 0x83)) {
      flip[i + 1] ^= 0x82 ^ 0x83; /* ς <-> σ */
      if (rk__box_label_eq(si, rk__str_make(flip, ln), 1))
        RK_T_FAIL_("line %d: label equals a wrong sigma", lineno);
      break;
    }
  /* the SQuAD normaliser */
  rk__str nm;
  ASSERT_EQ_INT(rk__normalize_squad(a, si, &nm), 0);
  if (!span_is(nm.p, nm.n, sq, sqn))
    RK_T_FAIL_("line %d: SQuAD gives '%.*s', python '%.*s'", lineno, (int)nm.n, nm.p, (int)sqn, sq);
  /* rouge's unicode tokenizer, tokens joined with one space */
  if (json_is_string(rouge)) {
    rk__ovl_toks t;
    ASSERT_EQ_INT(rk__ovl_tokrouge(a, in, n, 0, 1, &t), 0);
    char *j = rk__arena_alloc(a, 2 * n + 2);
    size_t k = 0;
    for (size_t i = 0; i < t.n; i++) {
      if (i) j[k++] = ' ';
      memcpy(j + k, t.t[i].p, t.t[i].n);
      k += t.t[i].n;
    }
    if (!span_is(j, k, json_string_value(rouge), json_string_length(rouge)))
      RK_T_FAIL_("line %d: rouge tokens '%.*s', want '%s'", lineno, (int)k, j,
                 json_string_value(rouge));
  }
}

TEST(texts_vs_python) {
  rk__arena_init(&g_arena, 0);
  FILE *f = fopen("data/text/pylower_ref.tsv", "r");
  ASSERT_TRUE(f != NULL);
  if (!f) return;
  char line[4096];
  int lineno = 0, texts = 0, finals = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (line[0] == '#') continue;
    json_t *v = parse_line(line);
    if (!v || json_array_size(v) != 5) {
      RK_T_FAIL_("line %d: not 5 JSON columns", lineno);
      json_decref(v);
      continue;
    }
    json_t *in = json_array_get(v, 0), *low = json_array_get(v, 1), *sq = json_array_get(v, 2);
    json_t *words = json_array_get(v, 4);
    finals += strstr(json_string_value(low), "\xcf\x82") != NULL;
    check_text(json_string_value(in), json_string_length(in), json_string_value(low),
               json_string_length(low), json_string_value(sq), json_string_length(sq),
               json_array_get(v, 3), lineno);
    /* repetition's words: len(lower().split()) and len(set(...)) */
    rk__rep_result r;
    rk__arena_reset(&g_arena);
    ASSERT_EQ_INT(rk__rep_ngrams(json_string_value(in), json_string_length(in), 1, 1, 0,
                                 &g_arena, &r),
                  0);
    if (r.total != (size_t)json_integer_value(json_array_get(words, 0)) ||
        r.unique != (size_t)json_integer_value(json_array_get(words, 1)))
      RK_T_FAIL_("line %d: repetition counts %zu words, %zu distinct", lineno, r.total, r.unique);
    json_decref(v);
    texts++;
    if (rk_t_failed_) break;
  }
  fclose(f);
  ASSERT_TRUE(texts >= 400 && finals >= 100);
  rk__arena_release(&g_arena);
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

TEST_MAIN(TEST_ENTRY(rule_vs_python_every_code_point), TEST_ENTRY(texts_vs_python),
          TEST_ENTRY(invalid_utf8_literals), TEST_ENTRY(utf8_walker_vs_code_points))
