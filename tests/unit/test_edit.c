/*
 * test_edit.c - the edit-distance and open-answer metrics: cer, wer,
 * edit_ratio, anls, vqa_acc, relaxed_acc, keywords, keyword_chain,
 * lang_consistency.
 *
 * Expected values come from (a) the published test vectors of
 * the project's metric reference (Part B: B1-B4, B13), (b) hand
 * computation, with the arithmetic in a comment, and (c) for
 * edit_ratio, python3-levenshtein 0.12.2 (Debian 12 package,
 * Levenshtein.distance and Levenshtein.ratio) run outside the test (a few
 * values in comments, 243 pairs in tests/data/edit/levenshtein_ref.tsv).
 * The bit-parallel distances are checked against the textbook dynamic
 * programme on random inputs.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/core.h"
#include "e2e.h"
#include "format/format.h"
#include "metrics/edit_common.h"
#include "metrics/levenshtein.h"
#include "metrics/vqa_norm.h"
#include "metrics/wide.h"
#include "test.h"

/* Internal entry points without a header of their own. */
size_t rk__wer_words(const uint32_t *s, size_t n, int clean, size_t *start, size_t *len);
size_t rk__wer_ids(const uint32_t *s, size_t n, int clean, rk__lev_intern *tab, uint32_t *ids);
size_t rk__wer_ids_utf8(const char *p, size_t n, int clean, rk__lev_intern *tab, uint32_t *ids);
double rk__vqa_soft(size_t matches, size_t n);
double rk__edit_ratio_value(size_t na, size_t nb, long v, int indel);

/* ------------------------------------------------------------ helpers */

static size_t dec(const char *z, uint32_t *out) { return rk__cp_decode(z, strlen(z), out); }

static long lev(const char *a, const char *b) {
  uint32_t x[512], y[512];
  size_t nx = dec(a, x), ny = dec(b, y);
  rk__arena ar;
  rk__arena_init(&ar, 0);
  long d = rk__lev_dist(x, nx, y, ny, &ar);
  rk__arena_release(&ar);
  return d;
}

/* Scores one record with a one-function spec; returns the reward (NaN
 * when not ok) and leaves the status in st. */
static double run(const char *fn_args, const char *rec, char *st) {
  char spec[2048];
  /* "name" alone is a function name; an object is a whole node. */
  if (fn_args[0] == '"')
    snprintf(spec, sizeof spec, "{\"reward\": {\"fn\": %s}}", fn_args);
  else
    snprintf(spec, sizeof spec, "{\"reward\": %s}", fn_args);
  e2e_result r = e2e_score(spec, rec);
  if (!r.ok) {
    fprintf(stderr, "  spec/record failed: %s\n", r.error);
    if (st) strcpy(st, "failed");
    return NAN;
  }
  if (st) snprintf(st, 32, "%s", r.status);
  return r.reward;
}

#define SCORE(fn, resp_json, ref_json) \
  run(fn, "{\"response\": " resp_json ", \"reference\": " ref_json "}", NULL)

/* ------------------------------------------------- distance algorithms */

TEST(lev_known) {
  ASSERT_EQ_INT(lev("kitten", "sitting"), 3); /* k->s, e->i, +g */
  ASSERT_EQ_INT(lev("", "abc"), 3);
  ASSERT_EQ_INT(lev("abc", ""), 3);
  ASSERT_EQ_INT(lev("", ""), 0);
  ASSERT_EQ_INT(lev("flaw", "lawn"), 2); /* -f, +n */
  /* code points, not bytes: one substitution each */
  ASSERT_EQ_INT(lev("h\xc3\xa9llo", "hello"), 1);
  ASSERT_EQ_INT(lev("\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe8\x8b\xb1"), 1); /* 中文 / 中英 */
  /* invalid bytes are U+FFFD each: two of them vs "ab" = 2 substitutions */
  ASSERT_EQ_INT(lev("\xff\xfe", "ab"), 2);
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}

TEST(lev_random_vs_dp) {
  /* Lengths around the 64-symbol block edges, small and large alphabets
   * (the large one with 3000 symbols forces the sparse match vectors). */
  static const size_t lens[] = {0, 1, 2, 31, 63, 64, 65, 100, 127, 128, 129, 200, 700};
  static const uint32_t alpha[] = {2, 4, 26, 3000};
  rk__arena ar;
  rk__arena_init(&ar, 0);
  static uint32_t x[3100], y[3100];
  int bad = 0;
  for (size_t a = 0; a < sizeof alpha / sizeof alpha[0]; a++)
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
      for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++)
        for (int rep = 0; rep < 3; rep++) {
          size_t nx = lens[i], ny = lens[j];
          for (size_t k = 0; k < nx; k++) x[k] = rnd() % alpha[a];
          for (size_t k = 0; k < ny; k++)
            y[k] = (rep == 2 && k < nx && rnd() % 4) ? x[k] : rnd() % alpha[a];
          rk__arena_reset(&ar);
          long d1 = rk__lev_dist(x, nx, y, ny, &ar), d2 = rk__lev_dist_dp(x, nx, y, ny, &ar);
          long l1 = rk__lcs_len(x, nx, y, ny, &ar), l2 = rk__lcs_len_dp(x, nx, y, ny, &ar);
          if (d1 != d2 || l1 != l2) {
            if (bad++ < 5)
              fprintf(stderr, "  nx=%zu ny=%zu alpha=%u: lev %ld vs %ld, lcs %ld vs %ld\n",
                      nx, ny, alpha[a], d1, d2, l1, l2);
          }
        }
  /* The sparse mode on a long pattern of all-distinct symbols. */
  for (size_t k = 0; k < 3000; k++) x[k] = (uint32_t)k, y[k] = (uint32_t)(k ^ (rnd() % 3 == 0));
  rk__arena_reset(&ar);
  ASSERT_EQ_INT(rk__lev_dist(x, 3000, y, 3000, &ar), rk__lev_dist_dp(x, 3000, y, 3000, &ar));
  ASSERT_EQ_INT(rk__lcs_len(x, 3000, y, 2900, &ar), rk__lcs_len_dp(x, 3000, y, 2900, &ar));
  rk__arena_release(&ar);
  ASSERT_EQ_INT(bad, 0);
}

/* Byte-symbol distances (edit_ratio's path for ASCII and Latin-1 text,
 * via rk__cp_narrow), which try the diagonal method before the
 * bit-parallel code. */

/* x = "abcdefghij" repeated to L symbols, y = x with a substitution at 10,
 * a deletion at L/2 and an insertion before L-5 (built the same way in
 * Python outside the test: python-Levenshtein 0.12.2 gives distance 3 and
 * ratio * 2L = 2L - 4 for every L below, i.e. LCS L - 2; with 40 common
 * symbols in front and 40 behind, distance 3 and LCS L + 78). */
static size_t three_edits(size_t L, int ends, uint8_t *x, uint8_t *y, size_t *ny) {
  size_t nx = 0, k = 0;
  uint8_t base[200], mod[200];
  for (size_t i = 0; i < L; i++) base[i] = (uint8_t)("abcdefghij"[i % 10]);
  for (size_t i = 0; i < L; i++) {
    if (i == L / 2) continue;
    mod[k++] = i == 10 ? 'Z' : base[i];
  }
  /* insert 'Q' so that it lands at index L - 5 of the result */
  memmove(mod + L - 5 + 1, mod + L - 5, k - (L - 5));
  mod[L - 5] = 'Q';
  k++;
  *ny = 0;
  if (ends)
    for (int i = 0; i < 40; i++) x[nx++] = '#', y[(*ny)++] = '#';
  memcpy(x + nx, base, L), nx += L;
  memcpy(y + *ny, mod, k), *ny += k;
  if (ends)
    for (int i = 0; i < 40; i++) x[nx++] = '%', y[(*ny)++] = '%';
  return nx;
}

TEST(lev8_pinned) {
  static const size_t lens[] = {63, 64, 65, 127, 128, 129};
  rk__arena ar;
  rk__arena_init(&ar, 0);
  for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
    for (int ends = 0; ends < 2; ends++) {
      uint8_t x[300], y[300];
      uint32_t wx[300], wy[300];
      size_t ny, nx = three_edits(lens[li], ends, x, y, &ny);
      long lcs = (long)lens[li] - 2 + (ends ? 80 : 0);
      for (size_t i = 0; i < nx; i++) wx[i] = x[i];
      for (size_t i = 0; i < ny; i++) wy[i] = y[i];
      rk__arena_reset(&ar);
      ASSERT_EQ_INT(rk__lev_dist8(x, nx, y, ny, &ar), 3);
      ASSERT_EQ_INT(rk__lev_dist8(y, ny, x, nx, &ar), 3);
      ASSERT_EQ_INT(rk__lcs_len8(x, nx, y, ny, &ar), lcs);
      ASSERT_EQ_INT(rk__lev_dist(wx, nx, wy, ny, &ar), 3);
      ASSERT_EQ_INT(rk__lcs_len(wx, nx, wy, ny, &ar), lcs);
    }
  /* kitten -> sitting (3; LCS "ittn" = 4) inside 60 + 70 common symbols */
  uint8_t a[200], b[200];
  size_t na = 0, nb = 0;
  for (int i = 0; i < 60; i++) a[na++] = b[nb++] = (uint8_t)('a' + i % 7);
  memcpy(a + na, "kitten", 6), na += 6;
  memcpy(b + nb, "sitting", 7), nb += 7;
  for (int i = 0; i < 70; i++) a[na++] = b[nb++] = (uint8_t)('z' - i % 5);
  ASSERT_EQ_INT(rk__lev_dist8(a, na, b, nb, &ar), 3);
  ASSERT_EQ_INT(rk__lcs_len8(a, na, b, nb, &ar), 134);
  /* Common ends that overlap: "acca" vs "accca" differ from the front at
   * index 3 and from the back at index 0 (from the end, 3 equal bytes);
   * the suffix taken is cut to the 1 byte the prefix leaves (by hand:
   * one insertion; LCS "acca" = 4). Same 70 bytes further into the text. */
  ASSERT_EQ_INT(rk__lev_dist8((const uint8_t *)"acca", 4, (const uint8_t *)"accca", 5, &ar), 1);
  ASSERT_EQ_INT(rk__lcs_len8((const uint8_t *)"acca", 4, (const uint8_t *)"accca", 5, &ar), 4);
  for (int i = 0; i < 70; i++) a[i] = b[i] = (uint8_t)('a' + i % 3);
  memcpy(a + 70, "acca", 4), memcpy(b + 70, "accca", 5);
  ASSERT_EQ_INT(rk__lev_dist8(a, 74, b, 75, &ar), 1);
  ASSERT_EQ_INT(rk__lcs_len8(a, 74, b, 75, &ar), 74);
  /* Unrelated texts: the diagonal method gives up, the bit-parallel code
   * answers (200 substitutions; nothing in common). */
  memset(a, 'a', 200), memset(b, 'b', 200);
  ASSERT_EQ_INT(rk__lev_dist8(a, 200, b, 200, &ar), 200);
  ASSERT_EQ_INT(rk__lcs_len8(a, 200, b, 150, &ar), 0);
  ASSERT_EQ_INT(rk__lev_dist8(a, 0, b, 150, &ar), 150);
  ASSERT_EQ_INT(rk__lcs_len8(a, 0, b, 150, &ar), 0);
  rk__arena_release(&ar);
}

TEST(lev8_random_vs_dp) {
  /* 1100 symbols: the padded copies no longer fit the stack buffer. */
  static const size_t lens[] = {0,  1,  2,   7,   8,   9,   31,  48,  49,
                                63, 64, 65, 90, 127, 128, 129, 300, 1100};
  static const uint32_t alpha[] = {2, 4, 26, 256};
  rk__arena ar;
  rk__arena_init(&ar, 0);
  static uint8_t x[1200], y[1200];
  static uint32_t wx[1200], wy[1200];
  int bad = 0;
  for (size_t a = 0; a < sizeof alpha / sizeof alpha[0]; a++)
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
      for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++)
        for (int rep = 0; rep < 3; rep++) {
          size_t nx = lens[i], ny = lens[j];
          if ((nx == 1100) != (ny == 1100) && rep) continue;
          for (size_t k = 0; k < nx; k++) x[k] = (uint8_t)(rnd() % alpha[a]);
          /* rep 1, 2: near copies (few edits: the diagonal method's case) */
          for (size_t k = 0; k < ny; k++)
            y[k] = (rep && k < nx && rnd() % (rep == 1 ? 4 : 40)) ? x[k] : (uint8_t)(rnd() % alpha[a]);
          for (size_t k = 0; k < nx; k++) wx[k] = x[k];
          for (size_t k = 0; k < ny; k++) wy[k] = y[k];
          rk__arena_reset(&ar);
          long d2 = rk__lev_dist_dp(wx, nx, wy, ny, &ar), l2 = rk__lcs_len_dp(wx, nx, wy, ny, &ar);
          /* Both kernel sets of the short byte texts (the AVX-512BW ones
           * run only where the processor has them). */
          for (int wide = 0; wide < 2; wide++) {
            rk__wide = wide;
            long d1 = rk__lev_dist8(x, nx, y, ny, &ar), l1 = rk__lcs_len8(x, nx, y, ny, &ar);
            if ((d1 != d2 || l1 != l2) && bad++ < 5)
              fprintf(stderr,
                      "  nx=%zu ny=%zu alpha=%u wide=%d: lev8 %ld vs %ld, lcs8 %ld vs %ld\n", nx,
                      ny, alpha[a], wide, d1, d2, l1, l2);
          }
        }
  rk__wide = 1;
  rk__arena_release(&ar);
  ASSERT_EQ_INT(bad, 0);
}

TEST(cp_narrow) {
  uint8_t buf[128];
  const uint8_t *o;
  const char *ascii = "plain ASCII text, longer than eight bytes";
  ASSERT_EQ_INT(rk__cp_narrow(ascii, strlen(ascii), buf, &o), strlen(ascii));
  ASSERT_TRUE(o == (const uint8_t *)ascii); /* used in place */
  /* "café au lait": é (C3 A9) is U+00E9, one byte */
  const char *cafe = "caf\xc3\xa9 au lait, au lait";
  ASSERT_EQ_INT(rk__cp_narrow(cafe, strlen(cafe), buf, &o), 21);
  ASSERT_TRUE(o == buf && o[3] == 0xE9 && o[4] == ' ' && o[20] == 't');
  ASSERT_EQ_INT(rk__cp_narrow("\xc2\x80\xc3\xbf", 4, buf, &o), 2);
  ASSERT_TRUE(o[0] == 0x80 && o[1] == 0xFF);
  /* Not Latin-1: U+0100, the euro sign, invalid or truncated bytes */
  ASSERT_TRUE(rk__cp_narrow("\xc4\x80", 2, buf, &o) == SIZE_MAX);
  ASSERT_TRUE(rk__cp_narrow("a\xe2\x82\xac", 4, buf, &o) == SIZE_MAX);
  ASSERT_TRUE(rk__cp_narrow("ab\xff", 3, buf, &o) == SIZE_MAX);
  ASSERT_TRUE(rk__cp_narrow("ab\xc3", 3, buf, &o) == SIZE_MAX);
  ASSERT_TRUE(rk__cp_narrow("\xc3(", 2, buf, &o) == SIZE_MAX);
  ASSERT_TRUE(rk__cp_narrow("\xc1\xbf", 2, buf, &o) == SIZE_MAX); /* overlong */
  ASSERT_EQ_INT(rk__cp_narrow("", 0, buf, &o), 0);
  /* Random mixes of ASCII and two-byte Latin-1 at every offset against
   * the decoder, on both code paths (64 bytes a step with AVX-512, and
   * the scalar one); a wider code point or a stray byte anywhere
   * refuses. */
  int bad = 0;
  for (int t = 0; t < 40000; t++) {
    rk__wide = t & 1;
    char z[400];
    uint32_t cp[400];
    uint8_t out[480];
    size_t n = 0, len = t % 4 ? rnd() % 30 : rnd() % 130;
    int wide = 0;
    for (size_t q = 0; q < len; q++) {
      uint32_t r = rnd() % 40;
      if (r < 30) {
        z[n++] = (char)(0x20 + rnd() % 95);
      } else if (r < 38) {
        uint32_t c = 0x80 + rnd() % 128;
        z[n++] = (char)(0xC0 | c >> 6), z[n++] = (char)(0x80 | (c & 0x3F));
      } else if (r == 38) {
        z[n++] = (char)0xE2, z[n++] = (char)0x82, z[n++] = (char)0xAC, wide = 1;
      } else {
        z[n++] = (char)(0x80 + rnd() % 64), wide = 1;
      }
    }
    size_t k = rk__cp_narrow(z, n, out, &o), m = rk__cp_decode(z, n, cp);
    if (wide) {
      bad += k != SIZE_MAX;
      continue;
    }
    if (k != m) {
      bad++;
      continue;
    }
    for (size_t q = 0; q < k; q++) bad += o[q] != cp[q];
  }
  rk__wide = 1;
  ASSERT_EQ_INT(bad, 0);
}

TEST(lev_search) {
  uint32_t p[64], t[64];
  size_t np = dec("abc", p), nt = dec("xxabdxx", t), end;
  rk__arena ar;
  rk__arena_init(&ar, 0);
  /* Distance 1 is first reached by "ab" (one deletion), ending at 4;
   * "abd" (one substitution, ending at 5) ties but comes later. */
  ASSERT_EQ_INT(rk__lev_search(p, np, t, nt, -1, &end, &ar), 1);
  ASSERT_EQ_INT(end, 4);
  nt = dec("zzabczz", t);
  ASSERT_EQ_INT(rk__lev_search(p, np, t, nt, -1, &end, &ar), 0);
  ASSERT_EQ_INT(end, 5);
  nt = dec("", t);
  ASSERT_EQ_INT(rk__lev_search(p, np, t, nt, -1, &end, &ar), 3);
  rk__arena_release(&ar);
}

TEST(cost_saturates) {
  ASSERT_TRUE(rk__lev_cost(SIZE_MAX / 2, SIZE_MAX / 2) >= UINT64_MAX / 4);
  /* 100 x 1000: ceil(100/64)=2 blocks * 1000 columns + 1100 + 1 */
  ASSERT_EQ_INT(rk__lev_cost(100, 1000), 2 * 1000 + 1100 + 1);
  /* The block-column product saturates past UINT64_MAX / 4 = 2^62 - 1
   * (1 block x 2^62 - 1 columns does not; x 2^62 does) */
  const uint64_t q = ((uint64_t)1 << 62) - 1;
  ASSERT_TRUE(rk__lev_cost(64, (size_t)q) == q + 64 + q + 1);
  ASSERT_TRUE(rk__lev_cost(64, (size_t)q + 1) == UINT64_MAX / 2);
}

/* -------------------------------------------------------------- cer/wer */

TEST(wer_cer_published) {
  /* B13: WER("the cat sat on the mat", "the cat sit on mat") = 2/6
   * (sat->sit, -the) -> reward 1 - 1/3; CER("kitten", "sitting") = 3/6. */
  ASSERT_NEAR(SCORE("\"wer\"", "\"the cat sit on mat\"", "\"the cat sat on the mat\""),
              1.0 - 2.0 / 6.0, 1e-12);
  ASSERT_NEAR(SCORE("\"cer\"", "\"sitting\"", "\"kitten\""), 0.5, 1e-12);
}

TEST(wer_jiwer_split_quirk) {
  uint32_t s[64];
  size_t st[64], ln[64];
  /* "a\nb": a lone newline is not a separator in jiwer: one word. */
  size_t n = dec("a\nb", s);
  ASSERT_EQ_INT(rk__wer_words(s, n, 0, st, ln), 1);
  ASSERT_EQ_INT(rk__wer_words(s, n, 1, st, ln), 2);
  /* "  a \t b  c\n": runs of two or more become " ", then strip. */
  n = dec("  a \t b  c\n", s);
  ASSERT_EQ_INT(rk__wer_words(s, n, 0, st, ln), 3);
  /* U+3000 between words: whitespace for Python, but not " " -> 1 word. */
  n = dec("x\xe3\x80\x80y", s);
  ASSERT_EQ_INT(rk__wer_words(s, n, 0, st, ln), 1);
  ASSERT_EQ_INT(rk__wer_words(s, n, 1, st, ln), 2);
  /* the one-pass splitter used by wer agrees: "a\nb x  y\tz" -> jiwer
   * words "a\nb", "x", "y\tz" (ids 0, 1, 2); clean: 5 words */
  {
    rk__arena ar;
    rk__arena_init(&ar, 0);
    uint32_t ids[64];
    n = dec("a\nb x  y\tz", s);
    ASSERT_EQ_INT(rk__wer_ids(s, n, 0, rk__lev_intern_new(&ar, 64), ids), 3);
    ASSERT_EQ_INT(rk__wer_ids(s, n, 1, rk__lev_intern_new(&ar, 64), ids), 5);
    n = dec("b a b", s);
    ASSERT_EQ_INT(rk__wer_ids(s, n, 0, rk__lev_intern_new(&ar, 64), ids), 3);
    ASSERT_TRUE(ids[0] == 0 && ids[1] == 1 && ids[2] == 0);
    /* the byte splitter (what wer runs): same words; U+3000 is whitespace
     * but not " ", so "x\u3000y" is one jiwer word and two clean ones;
     * a trailing lone "\n" is stripped */
    const char *z = "a\nb x  y\tz";
    ASSERT_EQ_INT(rk__wer_ids_utf8(z, strlen(z), 0, rk__lev_intern_new(&ar, 64), ids), 3);
    ASSERT_EQ_INT(rk__wer_ids_utf8(z, strlen(z), 1, rk__lev_intern_new(&ar, 64), ids), 5);
    z = "x\xe3\x80\x80y b\n";
    ASSERT_EQ_INT(rk__wer_ids_utf8(z, strlen(z), 0, rk__lev_intern_new(&ar, 64), ids), 2);
    ASSERT_EQ_INT(rk__wer_ids_utf8(z, strlen(z), 1, rk__lev_intern_new(&ar, 64), ids), 3);
    rk__arena_release(&ar);
  }
  /* ref "a b" vs hyp "a\nb" = ["a\nb"]: 1 substitution + 1 deletion over
   * 2 words -> rate 1 -> reward 0; split "whitespace": perfect. */
  ASSERT_NEAR(SCORE("\"wer\"", "\"a\\nb\"", "\"a b\""), 0.0, 0);
  ASSERT_NEAR(SCORE("{\"name\": \"wer\", \"fn\": \"wer\", \"args\": {\"split\": \"whitespace\"}}",
                    "\"a\\nb\"", "\"a b\""),
              1.0, 0);
}

TEST(wer_cer_edges) {
  char st[32];
  /* rate above 1 is clipped: ref "a", hyp "x y z": 1 sub + 2 ins = 3 -> 0 */
  ASSERT_NEAR(SCORE("\"wer\"", "\"x y z\"", "\"a\""), 0.0, 0);
  /* several references: the best. "cat" vs ["dog", "cat"] -> 1 */
  ASSERT_NEAR(SCORE("\"wer\"", "\"cat\"", "[\"dog\", \"cat\"]"), 1.0, 0);
  /* CER over code points: "héllo" vs "hello" = 1/5 -> 0.8 (bytes: 2/6) */
  ASSERT_NEAR(SCORE("\"cer\"", "\"hello\"", "\"h\\u00e9llo\""), 0.8, 1e-12);
  /* CJK: 我爱北京 vs 我爱上海: 2 substitutions / 4 -> 0.5 */
  ASSERT_NEAR(SCORE("\"cer\"", "\"\\u6211\\u7231\\u4e0a\\u6d77\"",
                    "\"\\u6211\\u7231\\u5317\\u4eac\""),
              0.5, 1e-12);
  /* CER counts spaces: "ab" vs "a b" = 1 deletion / 3 -> 2/3 */
  ASSERT_NEAR(SCORE("\"cer\"", "\"ab\"", "\"a b\""), 2.0 / 3.0, 1e-12);
  /* case matters by default (jiwer), not with normalize */
  ASSERT_NEAR(SCORE("\"wer\"", "\"The Cat\"", "\"the cat\""), 0.0, 0);
  ASSERT_NEAR(SCORE("{\"fn\": \"wer\", \"args\": {\"case_sensitive\": false}}", "\"The Cat\"",
                    "\"the cat\""),
              1.0, 0);
  /* empty reference: jiwer raises -> invalid_reference; or scored */
  double v = run("\"wer\"", "{\"response\": \"x\", \"reference\": \"  \"}", st);
  ASSERT_EQ_STR(st, "invalid_reference");
  (void)v;
  ASSERT_NEAR(SCORE("{\"fn\": \"cer\", \"args\": {\"empty_reference\": \"score\"}}", "\"x\"",
                    "\"\""),
              0.0, 0);
  /* empty response: nothing extracted -> unparseable, 0 */
  v = run("\"cer\"", "{\"response\": \"  \", \"reference\": \"abc\"}", st);
  ASSERT_EQ_STR(st, "unparseable");
  /* <answer> is taken by default */
  ASSERT_NEAR(SCORE("\"cer\"", "\"thinking <answer>kitten</answer>\"", "\"kitten\""), 1.0, 0);
  /* Python's strip() cuts U+00A0 and U+0085 (Latin-1 texts are compared
   * as bytes; the cut must be the same): "\u00a0caf\u00e9\u0085" is
   * "café", 1 substitution / 4 against "cafe" -> 0.75 */
  ASSERT_NEAR(SCORE("\"cer\"", "\"\\u00a0caf\\u00e9\\u0085\"", "\"cafe\""), 0.75, 1e-12);
  ASSERT_NEAR(SCORE("\"cer\"", "\"cafe\"", "\"\\u00a0caf\\u00e9\\u0085\""), 0.75, 1e-12);
  /* one side Latin-1 with a stripped NBSP, the other wider: "\u00a0na\u00efve"
   * (reference, 5 code points after the strip) vs "na\u0129ve" (i with
   * tilde, U+0129): 1 substitution / 5 -> 0.8 */
  ASSERT_NEAR(SCORE("\"cer\"", "\"na\\u0129ve\"", "\"\\u00a0na\\u00efve\""), 0.8, 1e-12);
  ASSERT_NEAR(SCORE("\"cer\"", "\"\\u00a0na\\u00efve \"", "\"na\\u0129ve\""), 0.8, 1e-12);
}

TEST(wer_budget_timeout) {
  /* 5000 x 5000 words need ceil(5000/64) * 5000 = 395000 steps for the
   * distance; with a 200000-step budget the reading (~70000 steps) fits
   * and the distance is refused with its size in the explanation. */
  char *rec = malloc(40000);
  size_t o = (size_t)sprintf(rec, "{\"response\": \"");
  for (int i = 0; i < 5000; i++) o += (size_t)sprintf(rec + o, "%c ", 'a' + i % 3);
  o += (size_t)sprintf(rec + o, "\", \"reference\": \"");
  for (int i = 0; i < 5000; i++) o += (size_t)sprintf(rec + o, "%c ", 'a' + i % 5);
  sprintf(rec + o, "\"}");
  rk_spec *s = NULL;
  const char *spec = "{\"reward\": {\"fn\": \"wer\"}}";
  char err[256];
  ASSERT_TRUE(rk_spec_compile(spec, strlen(spec), &s, err, sizeof err) == RK_OK);
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  ASSERT_TRUE(rk_ctx_create(&co, &ctx) == RK_OK);
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.explain = 1;
  so.step_budget = 200000;
  char *out = NULL;
  size_t n = 0;
  ASSERT_TRUE(rk_score_one(ctx, s, &so, rec, strlen(rec), &out, &n) == RK_OK);
  const char *tail = out ? strstr(out, "\"reward\":") : NULL;
  ASSERT_CONTAINS(tail, "\"status\":\"timeout\"");
  ASSERT_CONTAINS(tail, "edit distance of 5000 x 5000 words");
  rk_free(out);
  rk_ctx_destroy(ctx);
  rk_spec_free(s);
  free(rec);
}

/* ---------------------------------------------------------- edit_ratio */

TEST(edit_ratio_values) {
  /* Levenshtein: 1 - 3/7 for kitten/sitting */
  ASSERT_NEAR(SCORE("\"edit_ratio\"", "\"sitting\"", "\"kitten\""), 1.0 - 3.0 / 7.0, 1e-12);
  /* InDel, python-Levenshtein 0.12.2 Levenshtein.ratio:
   *   ratio('kitten','sitting') = 0.6153846153846154 (LCS 4: 8/13)
   *   ratio('héllo wörld','hello world') = 0.8181818181818182
   *   ratio('我爱北京天安门','我爱上海') = 0.36363636363636365
   *   ratio(fox/dog sentence) = 0.9069767441860465 */
  const char *ind = "{\"fn\": \"edit_ratio\", \"args\": {\"method\": \"indel\"}}";
  ASSERT_NEAR(SCORE(ind, "\"sitting\"", "\"kitten\""), 0.6153846153846154, 1e-15);
  ASSERT_NEAR(SCORE(ind, "\"h\\u00e9llo w\\u00f6rld\"", "\"hello world\""), 0.8181818181818182,
              1e-15);
  ASSERT_NEAR(SCORE(ind, "\"\\u6211\\u7231\\u5317\\u4eac\\u5929\\u5b89\\u95e8\"",
                    "\"\\u6211\\u7231\\u4e0a\\u6d77\""),
              0.36363636363636365, 1e-15);
  ASSERT_NEAR(SCORE(ind, "\"The quick brown fox jumps over the lazy dog\"",
                    "\"The quick brown dog jumps over the lazy fox\""),
              0.9069767441860465, 1e-15);
  /* both empty = 1 (python-Levenshtein ratio('', '') = 1.0) */
  ASSERT_NEAR(rk__edit_ratio_value(0, 0, 0, 1), 1.0, 0);
  ASSERT_NEAR(rk__edit_ratio_value(0, 0, 0, 0), 1.0, 0);
  /* best of several: "abc" vs ["xyz", "abd"]: 1 - 1/3 */
  ASSERT_NEAR(SCORE("\"edit_ratio\"", "\"abc\"", "[\"xyz\", \"abd\"]"), 2.0 / 3.0, 1e-12);
  /* normalize default: case and punctuation gone -> equal */
  ASSERT_NEAR(SCORE("{\"fn\": \"edit_ratio\", \"args\": {\"normalize\": \"default\"}}",
                    "\"Paris!\"", "\"paris\""),
              1.0, 0);
}

/* python3-levenshtein 0.12.2 (Debian 12), run outside the test by
 * tests/data/edit/gen_levenshtein.py on 243 pairs: lengths 1-300 code
 * points (the 64- and 128-symbol boundaries of the byte kernels well
 * covered), ASCII, a 3-letter alphabet, Latin-1, CJK, emoji, mixes; near
 * copies, many edits, unrelated texts. edit_ratio must give 1 - d / max
 * with its distance d, and the indel method its ratio. */
TEST(edit_ratio_vs_python_levenshtein) {
  FILE *f = fopen("data/edit/levenshtein_ref.tsv", "r");
  ASSERT_TRUE(f != NULL);
  static char line[8192];
  const char *lev = "\"edit_ratio\"";
  const char *ind = "{\"fn\": \"edit_ratio\", \"args\": {\"method\": \"indel\"}}";
  int n = 0, bad = 0;
  for (int wide = 0; wide < 2; wide++) {
    rk__wide = wide;
    rewind(f);
    while (fgets(line, sizeof line, f)) {
      if (line[0] == '#') continue;
      long d, la, lb;
      char ratio[64];
      int used = 0;
      ASSERT_TRUE(sscanf(line, "%ld\t%63s\t%ld\t%ld\t%n", &d, ratio, &la, &lb, &used) == 4 &&
                  used);
      line[strcspn(line, "\n")] = '\0';
      const char *rec = line + used;
      double want = 1.0 - (double)d / (double)(la > lb ? la : lb);
      double r1 = run(lev, rec, NULL), r2 = run(ind, rec, NULL), pr = strtod(ratio, NULL);
      if ((r1 != want || fabs(r2 - pr) > 4e-16) && bad++ < 5)
        fprintf(stderr, "  wide=%d: %s: lev %.17g vs %.17g, indel %.17g vs %.17g\n", wide, rec, r1,
                want, r2, pr);
      n++;
    }
  }
  rk__wide = 1;
  fclose(f);
  ASSERT_EQ_INT(n, 2 * 243);
  ASSERT_EQ_INT(bad, 0);
}

/* ---------------------------------------------------------------- anls */

TEST(edit_ratio_symbol_paths) {
  /* Latin-1 on both sides (bytes): 1 substitution over 12 code points;
   * python-Levenshtein 0.12.2: distance 1, ratio 0x1.d555555555555p-1
   * (= 1 - 2/24). */
  ASSERT_NEAR(SCORE("\"edit_ratio\"", "\"caf\\u00e9 au lait\"", "\"cafe au lait\""),
              1.0 - 1.0 / 12.0, 0);
  ASSERT_NEAR(SCORE("{\"fn\": \"edit_ratio\", \"args\": {\"method\": \"indel\"}}",
                    "\"caf\\u00e9 au lait\"", "\"cafe au lait\""),
              0x1.d555555555555p-1, 0);
  /* CJK on both sides (code points): 中文abc / 中英abc, 1 of 5 */
  ASSERT_NEAR(SCORE("\"edit_ratio\"", "\"\\u4e2d\\u6587abc\"", "\"\\u4e2d\\u82f1abc\""),
              1.0 - 1.0 / 5.0, 0);
  /* one side Latin-1, the other not: code points for that pair only
   * ("naïve" vs "naïve€": 1 insertion over 6, the best; vs "naive": 1
   * substitution over 5), in either order of the references */
  ASSERT_NEAR(SCORE("\"edit_ratio\"", "\"na\\u00efve\"", "[\"na\\u00efve\\u20ac\", \"naive\"]"),
              1.0 - 1.0 / 6.0, 0);
  ASSERT_NEAR(SCORE("\"edit_ratio\"", "\"na\\u00efve\"", "[\"naive\", \"na\\u00efve\\u20ac\"]"),
              1.0 - 1.0 / 6.0, 0);
}

TEST(anls_published) {
  /* B1 vectors. ("Hello World", "hello wrld"): distance 1, L = max(11, 10)
   * = 11 -> 1 - 1/11 = 0.909090... */
  ASSERT_NEAR(SCORE("\"anls\"", "\"hello wrld\"", "[\"Hello World\"]"), 1.0 - 1.0 / 11.0,
              1e-12);
  ASSERT_NEAR(SCORE("\"anls\"", "\"xyz\"", "[\"abc\"]"), 0.0, 0);
  ASSERT_NEAR(SCORE("\"anls\"", "\"total: 5\"", "[\"  Total:  5 \"]"), 1.0, 0);
  /* ("ab","abcd") vs "abc": 1/3 and 1/4 -> 1 - 0.25 */
  ASSERT_NEAR(SCORE("\"anls\"", "\"abc\"", "[\"ab\", \"abcd\"]"), 0.75, 1e-12);
}

TEST(anls_length_quirk) {
  /* gold "New   York" (10 code points raw, "new york" 8 normalised) vs
   * "new yrk": distance 1. raw L = max(10, 7) = 10 -> 0.9;
   * normalised L = max(8, 7) = 8 -> 0.875. */
  ASSERT_NEAR(SCORE("\"anls\"", "\"new yrk\"", "\"New   York\""), 0.9, 1e-12);
  ASSERT_NEAR(SCORE("{\"fn\": \"anls\", \"args\": {\"length\": \"normalized\"}}", "\"new yrk\"",
                    "\"New   York\""),
              0.875, 1e-12);
  /* len("ß".upper()) == 2: gold "straße" raw upper length 7; pred
   * "strasse" (7); norm distance("straße","strasse") = 2 (ß->s, +e);
   * 1 - 2/7 = 0.7142857... */
  ASSERT_NEAR(SCORE("\"anls\"", "\"strasse\"", "\"stra\\u00dfe\""), 1.0 - 2.0 / 7.0, 1e-12);
  /* threshold: "abcd" vs "ab": 2/4 -> 0.5, kept (s < 0.5 is zeroed) */
  ASSERT_NEAR(SCORE("\"anls\"", "\"ab\"", "\"abcd\""), 0.5, 1e-12);
  ASSERT_NEAR(SCORE("{\"fn\": \"anls\", \"args\": {\"threshold\": 0.6}}", "\"ab\"", "\"abcd\""),
              0.0, 0);
}

/* ------------------------------------------------------------- vqa_acc */

/* textvqa: 0 VQAv2, 1 EvalAI; + 2: the intended period rule. */
static void norm_is(int textvqa, const char *in, const char *want) {
  uint32_t s[256], out[12 * 256 + 16], w[256];
  size_t n = dec(in, s), nw = dec(want, w);
  const int intended = textvqa >= 2;
  size_t k = textvqa & 1 ? rk__vqa_norm_evalai(s, n, out, intended)
                         : rk__vqa_norm_answer(s, n, out, intended);
  int ok = k == nw && memcmp(out, w, k * sizeof *w) == 0;
  if (!ok) {
    rk__arena a;
    rk__arena_init(&a, 0);
    rk__str got;
    rk__cp_encode_arena(&a, out, k, &got);
    RK_T_FAIL_("normalise(%s) = '%s', want '%s'", in, got.p, want);
    rk__arena_release(&a);
  }
}

TEST(vqa_normalisation) {
  /* period strip: '.' not followed by a digit goes; number words; case */
  norm_is(0, "Two dogs.", "2 dogs");
  norm_is(0, "3.5", "3.5");
  /* "a-b": no space next to '-' -> replaced by ' ' -> "a b" -> the
   * article "a" is dropped */
  norm_is(0, "a-b", "b");
  /* ", " occurs -> ',' deleted, not replaced */
  norm_is(0, "hello, world", "hello world");
  /* digit,digit anywhere -> every punctuation mark is deleted */
  norm_is(0, "1,000 (approx)", "1000 approx");
  /* contractions and articles */
  norm_is(0, "Dont know the answer", "don't know answer");
  norm_is(0, "\tTen\n", "10");
  /* at most 32 periods go (re.UNICODE passed as count): 33 leave one */
  norm_is(0, "................................yes", "yes");
  norm_is(0, ".................................yes", ".yes");
  /* The rule the regex meant, (?<!\d)(\.)(?!\d) without a count (values
   * from Python's re.sub on the same strings): a '.' next to a digit on
   * either side stays, every other one goes. */
  norm_is(0, "5.", "5");
  norm_is(2, "5.", "5.");
  norm_is(2, "Two dogs.", "2 dogs");
  norm_is(2, "3.5", "3.5");
  norm_is(2, ".5", ".5");
  norm_is(2, "a.b", "ab");
  norm_is(2, ".................................yes", "yes");
  norm_is(3, "It's 5.", "it 's 5.");
  /* EvalAI: "'s" split off, ',' and '?' deleted, lower-cased */
  norm_is(1, "It's RED?", "it 's red");
  norm_is(1, "1,000", "1000");
}

TEST(vqa_published) {
  /* B3: acc = mean over 10 leave-one-out sets of min(1, matches/3).
   * k = 2: (2*(1/3) + 8*(2/3))/10 = 0.6; k = 3: (3*(2/3) + 7*1)/10 = 0.9;
   * k = 4: (4*1 + 6*1)/10 = 1; k = 0: 0. */
  ASSERT_NEAR(rk__vqa_soft(2, 10), 0.6, 1e-12);
  ASSERT_NEAR(rk__vqa_soft(3, 10), 0.9, 1e-12);
  ASSERT_NEAR(rk__vqa_soft(4, 10), 1.0, 1e-12);
  ASSERT_NEAR(rk__vqa_soft(10, 10), 1.0, 1e-12);
  ASSERT_NEAR(rk__vqa_soft(0, 10), 0.0, 0);
  ASSERT_NEAR(rk__vqa_soft(1, 10), 0.3, 1e-12); /* (1*0 + 9*(1/3))/10 */
#define TEN_2 "[\"red\",\"red\",\"blue\",\"blue\",\"blue\",\"blue\",\"blue\",\"blue\",\"blue\",\"blue\"]"
  ASSERT_NEAR(SCORE("\"vqa_acc\"", "\"Red.\"", TEN_2), 0.6, 1e-12);
#define TEN_3 "[\"2 dogs\",\"2 dogs\",\"2 dogs\",\"dogs\",\"dogs\",\"dogs\",\"dogs\",\"dogs\",\"dogs\",\"dogs\"]"
  ASSERT_NEAR(SCORE("\"vqa_acc\"", "\"Two dogs\"", TEN_3), 0.9, 1e-12);
  ASSERT_NEAR(SCORE("\"vqa_acc\"", "\"cat\"", TEN_3), 0.0, 0);
  /* VQA annotation objects {"answer": ...} are read too */
  ASSERT_NEAR(SCORE("\"vqa_acc\"", "\"red\"",
                    "[{\"answer\":\"red\"},{\"answer\":\"red\"},{\"answer\":\"blue\"}]"),
              /* k=2, n=3: (2*(1/3) + 1*(2/3))/3 = 4/9 */ 4.0 / 9.0, 1e-12);
}

TEST(vqa_quirks) {
  /* All ten answers "Yes": not normalised (vqaEval.py); the prediction is
   * lower-cased -> "yes" != "Yes" -> 0; normalize_references -> 1. */
#define TEN_YES "[\"Yes\",\"Yes\",\"Yes\",\"Yes\",\"Yes\",\"Yes\",\"Yes\",\"Yes\",\"Yes\",\"Yes\"]"
  ASSERT_NEAR(SCORE("\"vqa_acc\"", "\"Yes\"", TEN_YES), 0.0, 0);
  ASSERT_NEAR(SCORE("{\"fn\": \"vqa_acc\", \"args\": {\"normalize_references\": true}}",
                    "\"Yes\"", TEN_YES),
              1.0, 0);
  /* textvqa normalises both sides */
  ASSERT_NEAR(SCORE("{\"fn\": \"vqa_acc\", \"args\": {\"variant\": \"textvqa\"}}", "\"Yes?\"",
                    TEN_YES),
              1.0, 0);
  /* periods: the script strips every '.' not followed by a digit, so
   * "5." = "5" and all ten answers below are "5": k = 10, 1. "intended"
   * keeps a '.' after a digit: three "5." answers match "5.": k = 3, .9. */
#define TEN_5 "[\"5.\",\"5.\",\"5.\",\"5\",\"5\",\"5\",\"5\",\"5\",\"5\",\"5\"]"
  ASSERT_NEAR(SCORE("\"vqa_acc\"", "\"5.\"", TEN_5), 1.0, 0);
  ASSERT_NEAR(SCORE("{\"fn\": \"vqa_acc\", \"args\": {\"periods\": \"intended\"}}", "\"5.\"",
                    TEN_5),
              0.9, 1e-12);
  /* vqaEval.py strips and un-tabs only the prediction, never the human
   * answers: ten "yes " are identical (so not normalised either) and
   * never equal "yes" (0); "yes\n" x3 + "no" x7 are not identical, get
   * processPunctuation only (no period or punctuation to change) and stay
   * "yes\n": 0 again. normalize_references runs the prediction's
   * pipeline on them: k = 3, 0.9. */
  ASSERT_NEAR(SCORE("\"vqa_acc\"", "\"yes\"",
                    "[\"yes \",\"yes \",\"yes \",\"yes \",\"yes \",\"yes \",\"yes \","
                    "\"yes \",\"yes \",\"yes \"]"),
              0.0, 0);
#define YES3 "[\"yes\\n\",\"yes\\n\",\"yes\\n\",\"no\",\"no\",\"no\",\"no\",\"no\",\"no\",\"no\"]"
  ASSERT_NEAR(SCORE("\"vqa_acc\"", "\"yes\"", YES3), 0.0, 0);
  ASSERT_NEAR(SCORE("{\"fn\": \"vqa_acc\", \"args\": {\"normalize_references\": true}}",
                    "\"yes\"", YES3),
              0.9, 1e-12);
#undef YES3
  /* textvqa's word_tokenize deletes "," and "?" before it looks for
   * "'s": "x'?s" becomes "x 's", as the answers "x's" do (k = 4: 1). */
  ASSERT_NEAR(SCORE("{\"fn\": \"vqa_acc\", \"args\": {\"variant\": \"textvqa\"}}",
                    "\"x'?s\"", "[\"x's\",\"x's\",\"x's\",\"x's\",\"z\"]"),
              1.0, 0);
  /* Empty answers: all of them empty is invalid_reference; a prediction
   * that normalises to nothing ("the": an article) matches no answer,
   * even an empty one: 3 answers, 2 empty, "the" -> k = 0 -> 0. */
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"vqa_acc\"}}",
                           "{\"response\": \".\", \"reference\": \"\"}");
  ASSERT_E2E(r, NAN, "invalid_reference");
  r = e2e_score("{\"reward\": {\"fn\": \"vqa_acc\"}}",
                "{\"response\": \"the\", \"reference\": [\"\", \" \", \"\"]}");
  ASSERT_E2E(r, NAN, "invalid_reference");
  r = e2e_score("{\"reward\": {\"fn\": \"vqa_acc\"}}",
                "{\"response\": \"the\", \"reference\": [\"\", \"\", \"red\"]}");
  ASSERT_E2E(r, 0, "ok");
  /* one reference: exact match of the normalised strings; "official"
   * applies the formula: min(1, 0/3) = 0 whatever the prediction */
  ASSERT_NEAR(SCORE("\"vqa_acc\"", "\"Two\"", "\"2\""), 1.0, 0);
  ASSERT_NEAR(SCORE("{\"fn\": \"vqa_acc\", \"args\": {\"single_reference\": \"official\"}}",
                    "\"Two\"", "\"2\""),
              0.0, 0);
}

/* --------------------------------------------------------- relaxed_acc */

TEST(py_float_grammar) {
  uint32_t s[64];
  double v;
#define PYF(z) rk__py_float(s, dec(z, s), &v)
  ASSERT_TRUE(PYF(" 1e3 ") && v == 1000);
  ASSERT_TRUE(PYF("1_000") && v == 1000);
  ASSERT_TRUE(!PYF("1__000"));
  ASSERT_TRUE(!PYF("_1"));
  ASSERT_TRUE(!PYF("1,000"));
  ASSERT_TRUE(PYF(".5") && v == 0.5);
  ASSERT_TRUE(PYF("5.") && v == 5);
  ASSERT_TRUE(!PYF("."));
  ASSERT_TRUE(PYF("-Infinity") && isinf(v) && v < 0);
  ASSERT_TRUE(PYF("nan") && isnan(v));
  ASSERT_TRUE(!PYF("1e"));
  ASSERT_TRUE(PYF("\xe3\x80\x80" "7\xc2\xa0") && v == 7); /* U+3000, U+00A0 */
#undef PYF
}

TEST(relaxed_published) {
  /* B2 vectors */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"10.4\"", "\"10\""), 1.0, 0); /* 0.04 <= 0.05 */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"10.6\"", "\"10\""), 0.0, 0); /* 0.06 */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"12%\"", "\"0.12\""), 1.0, 0);
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"0\"", "\"0\""), 1.0, 0);
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"0.0\"", "\"0\""), 0.0, 0);
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"Yes\"", "\"yes\""), 1.0, 0);
}

TEST(relaxed_more) {
  /* clean zero target */
  ASSERT_NEAR(SCORE("{\"fn\": \"relaxed_acc\", \"args\": {\"zero_target\": \"numeric\"}}",
                    "\"0.0\"", "\"0\""),
              1.0, 0);
  /* "1,000" is no Python float -> string compare with "1000" fails */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"1,000\"", "\"1000\""), 0.0, 0);
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"1_000\"", "\"1000\""), 1.0, 0);
  /* number target given as a JSON number; several targets */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"52\"", "[17, 50]"), 1.0, 0); /* 2/50 = 0.04 */
  /* Unicode lower-casing in the fallback */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"\\u00c9T\\u00c9\"", "\"\\u00e9t\\u00e9\""), 1.0, 0);
  /* "12%%": rstrip('%') takes both -> 0.12 */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"12%%\"", "\"0.12\""), 1.0, 0);
  /* extraction: \boxed{} by default */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"so \\\\boxed{19.5}\"", "\"20\""), 1.0, 0); /* 0.025 */
}

/* Python's lower() lowers a capital sigma that ends a word to the final
 * form ς and any other to σ (text/pycase.h); anls, relaxed_acc and the
 * VQA normalisers lower whole strings as the originals do. Expected
 * values from python3:
 *   "ΑΘΗΝΑΣ".lower() == "αθηνας"   "ΟΔΟΣ".lower() == "οδος"
 *   "Σ".lower() == "σ"   "AΣ".lower() == "aς" (ASCII A is cased)
 *   "ΟΔΟΣ ΑΣ'Α".lower() == "οδος ασ'α" (' is case ignorable: the next
 *   letter counts)   "ΑΣ Α".lower() == "ας α"   "12 ΑΣΑ".lower() ==
 *   "12 ασα"   "ΟΔΟΣ?".lower() == "οδος?" */
#define ODOS_UP "\"\\u039f\\u0394\\u039f\\u03a3\""
#define ODOS_FINAL "\"\\u03bf\\u03b4\\u03bf\\u03c2\""
#define ODOS_SMALL "\"\\u03bf\\u03b4\\u03bf\\u03c3\""
TEST(final_sigma) {
  ASSERT_NEAR(SCORE("\"anls\"", "\"\\u0391\\u0398\\u0397\\u039d\\u0391\\u03a3\"",
                    "\"\\u03b1\\u03b8\\u03b7\\u03bd\\u03b1\\u03c2\""),
              1.0, 0);
  /* one substitution in 4 code points: 1 - 1/4 */
  ASSERT_NEAR(SCORE("\"anls\"", ODOS_UP, ODOS_SMALL), 0.75, 1e-12);
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", ODOS_UP, ODOS_FINAL), 1.0, 0);
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", ODOS_UP, ODOS_SMALL), 0.0, 0);
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"\\u03a3\"", "\"\\u03c3\""), 1.0, 0);
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"A\\u03a3\"", "\"a\\u03c2\""), 1.0, 0);
  ASSERT_NEAR(SCORE("\"vqa_acc\"", ODOS_UP, ODOS_FINAL), 1.0, 0);
  ASSERT_NEAR(SCORE("{\"fn\": \"vqa_acc\", \"args\": {\"variant\": \"textvqa\"}}", ODOS_UP,
                    ODOS_FINAL),
              1.0, 0);
  /* The VQA normalisers lower after their punctuation step, as the
   * scripts do: "ΑΣ,Α" -> "ΑΣ Α" (',' replaced) -> "ας α"; with a
   * digit-comma-digit the ',' is deleted: "12 ΑΣΑ" -> "12 ασα". */
  norm_is(0, "\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\x91\xce\xa3'\xce\x91",
          "\xce\xbf\xce\xb4\xce\xbf\xcf\x82 \xce\xb1\xcf\x83'\xce\xb1");
  norm_is(0, "\xce\x91\xce\xa3,\xce\x91", "\xce\xb1\xcf\x82 \xce\xb1");
  norm_is(0, "1,2 \xce\x91\xce\xa3,\xce\x91", "12 \xce\xb1\xcf\x83\xce\xb1");
  norm_is(1, "\xce\x9f\xce\x94\xce\x9f\xce\xa3?", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82");
}
#undef ODOS_UP
#undef ODOS_FINAL
#undef ODOS_SMALL

/* The ASCII parser's exact shortcut (mantissa <= 2^53, power of ten
 * within 1e-22..1e22) and its hand-over to strtod. Expected values: Python
 * 3.11 float(s).hex() run outside the test. */
TEST(py_float_ascii_pinned) {
  static const struct {
    const char *s;
    double v;
  } cases[] = {
      {"9007199254740992", 0x1p53},       /* 2^53: shortcut */
      {"9007199254740993", 0x1p53},       /* 2^53 + 1: strtod, ties to even */
      {"9007199254740995", 0x1.0000000000002p+53},
      {"1e22", 0x1.0f0cf064dd592p+73},    /* largest exact power */
      {"1e23", 0x1.52d02c7e14af6p+76},    /* strtod */
      {"1e-22", 0x1.e392010175ee6p-74},   /* one division */
      {"0.1", 0x1.999999999999ap-4},
      {"0.3", 0x1.3333333333333p-2},
      {"1.5E+22", 0x1.969368974c05bp+73},
      {"0.000000000000000000000001", 0x1.357c299a88ea7p-80}, /* 10^-24: strtod */
      {"123456789012345678901234567890", 0x1.8ee90ff6c373ep+96},
      {"3.14159265358979323846", 0x1.921fb54442d18p+1}, /* 21 digits */
      {"1234567890123456789", 0x1.12210f47de981p+60},   /* 19 digits > 2^53 */
      {"12345678901234567890", 0x1.56a95319d63e1p+63},  /* 20 digits */
      {"4503599627370497.5", 0x1.0000000000002p+52},
      {"72057594037927945", 0x1.0000000000001p+56},
      {"1.7976931348623157e308", 0x1.fffffffffffffp+1023},
      {"4.9e-324", 0x0.0000000000001p-1022},
      {"1_000.5", 0x1.f44p+9},
      {" \t12.5e-1\n", 0x1.4p+0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double v = -1;
    ASSERT_TRUE(rk__py_float_ascii(cases[i].s, strlen(cases[i].s), &v));
    if (memcmp(&v, &cases[i].v, sizeof v) != 0)
      fprintf(stderr, "  %s: got %a, want %a\n", cases[i].s, v, cases[i].v);
    ASSERT_TRUE(memcmp(&v, &cases[i].v, sizeof v) == 0);
  }
  double v = 1;
  ASSERT_TRUE(rk__py_float_ascii("-0", 2, &v) && v == 0 && signbit(v));
  ASSERT_TRUE(rk__py_float_ascii("-nan", 4, &v) && isnan(v) && signbit(v));
  ASSERT_TRUE(rk__py_float_ascii("+InFiNiTy", 9, &v) && isinf(v) && v > 0);
  static const char *const bad[] = {"", " ", ".", "e5", "1e", "1e+", "1__0", "_1", "1_",
                                    "1._5", "1,000", "0x10", "1.5.3", "--1", "+-1", "infinit",
                                    "nan1", "1e5x", "1 2", "-"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ASSERT_TRUE(!rk__py_float_ascii(bad[i], strlen(bad[i]), &v));
}

/* The ASCII parser against the code-point one on random strings from
 * the pieces of the grammar: same verdict, same bits. */
TEST(py_float_ascii_vs_codepoints) {
  static const char *const parts[] = {"0", "1", "5", "9", "00", "123", "4503599627370496",
                                      "_", ".", "e", "E", "+", "-", " ", "\t", "inf", "nan",
                                      "Infinity", "x", "%", "99999999999999999999", "e22",
                                      "e-22", "e23", "e400", "e-400", "7"};
  const size_t np = sizeof parts / sizeof parts[0];
  int bad = 0;
  for (int t = 0; t < 200000; t++) {
    char s[128];
    uint32_t w[128];
    size_t n = 0;
    int k = 1 + (int)(rnd() % 6);
    for (int q = 0; q < k; q++) {
      const char *pc = parts[rnd() % np];
      size_t l = strlen(pc);
      if (n + l >= sizeof s) break;
      memcpy(s + n, pc, l), n += l;
    }
    for (size_t q = 0; q < n; q++) w[q] = (unsigned char)s[q];
    double a = 0, b = 0;
    int ra = rk__py_float_ascii(s, n, &a), rb = rk__py_float(w, n, &b);
    if (ra != rb || (ra && memcmp(&a, &b, sizeof a) != 0 && !(isnan(a) && isnan(b) &&
                                                              signbit(a) == signbit(b)))) {
      if (bad++ < 5) fprintf(stderr, "  '%.*s': %d %a vs %d %a\n", (int)n, s, ra, a, rb, b);
    }
  }
  ASSERT_EQ_INT(bad, 0);
}

TEST(relaxed_ascii_paths) {
  /* ASCII strings compare without case by bytes; only letters fold
   * ('@' and '`' differ only in bit 0x20 and are not equal in Python). */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"YES sir\"", "\"yes SIR\""), 1.0, 0);
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"a@\"", "\"a`\""), 0.0, 0);
  /* Non-ASCII on one side: Python's 'K' (U+212A KELVIN SIGN).lower() == 'k' */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"k\"", "\"\\u212a\""), 1.0, 0);
  /* Unicode space around a number: the code-point path */
  ASSERT_NEAR(SCORE("\"relaxed_acc\"", "\"\\u00a012.5%\"", "\"0.125\""), 1.0, 0);
  /* Numbers at the shortcut's edges compare exactly: 2^53 + 1 reads as 2^53 */
  ASSERT_NEAR(SCORE("{\"fn\": \"relaxed_acc\", \"args\": {\"tolerance\": 0}}",
                    "\"9007199254740993\"", "\"9007199254740992\""),
              1.0, 0);
  ASSERT_NEAR(SCORE("{\"fn\": \"relaxed_acc\", \"args\": {\"tolerance\": 0}}",
                    "\"1e23\"", "\"99999999999999991611392\""),
              1.0, 0);
  ASSERT_NEAR(SCORE("{\"fn\": \"relaxed_acc\", \"args\": {\"tolerance\": 0}}",
                    "\"0.1\"", "\"0.10000000000000001\""),
              1.0, 0);
}

TEST(arg_errors) {
  char buf[512];
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"vqa_acc\", \"args\": {\"variant\": \"okvqa\"}}}",
                                 buf, sizeof buf),
                  "variant");
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"anls\", \"args\": {\"threshold\": 2}}}",
                                 buf, sizeof buf),
                  "threshold");
  ASSERT_EQ_STR(e2e_spec_error("{\"reward\": {\"fn\": \"wer\", \"args\": {\"split\": \"whitespace\"}}}",
                               buf, sizeof buf),
                "");
}

/* ------------------------------------------------------------ keywords */

TEST(nfkc_mark_runs_charged) {
  /* NFKC sorts a run of combining marks by insertion: "a", 12,000 U+0301
   * (class 230), then 12,000 U+0316 (class 220) takes 72 million swaps,
   * seconds of work for a 48 KB answer that 2 steps a byte charged as
   * 96,000. Charged k^2/2 for the run of k = 24,000 marks (288,000,000
   * steps, over the 200,000,000 of a record) it times out at once. */
  static char rec[24 * 2000 + 128];
  size_t o = (size_t)snprintf(rec, sizeof rec, "{\"response\": \"a");
  for (int k = 0; k < 24000; k++) o += (size_t)snprintf(rec + o, sizeof rec - o, "%s", k < 12000 ? "\xcc\x81" : "\xcc\x96");
  snprintf(rec + o, sizeof rec - o, "\", \"reference\": [\"b\"]}");
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"keywords\"}}", rec);
  ASSERT_EQ_STR(r.status, "timeout");
  /* A short run is cheap and scores as before ("a" and two marks do not
   * contain "b"). */
  r = e2e_score("{\"reward\": {\"fn\": \"keywords\"}}",
                "{\"response\": \"a\xcc\x81\xcc\x96\", \"reference\": [\"b\"]}");
  ASSERT_E2E(r, 0, "ok");
}

TEST(keywords_coverage) {
  /* "drip irrigation" (15 code points, k = floor(0.2*15) = 3) is 1 edit
   * from "drip irigation"; "fertiliser" (10, k = 2) 1 substitution from
   * "fertilizer"; "crop rotation" absent -> 2/3. */
#define AGRI "\"Use drip irigation and organic fertilizer to fight leaf blight.\""
#define AGRI_KW "[[\"drip irrigation\", \"trickle irrigation\"], \"fertiliser\", \"crop rotation\"]"
  ASSERT_NEAR(SCORE("\"keywords\"", AGRI, AGRI_KW), 2.0 / 3.0, 1e-12);
  /* exact only: neither fuzzy match counts -> 0 */
  ASSERT_NEAR(SCORE("{\"fn\": \"keywords\", \"args\": {\"min_similarity\": 1}}", AGRI, AGRI_KW),
              0.0, 0);
  /* max_edits 1 overrides: both found again */
  ASSERT_NEAR(SCORE("{\"fn\": \"keywords\", \"args\": {\"max_edits\": 1}}", AGRI, AGRI_KW),
              2.0 / 3.0, 1e-12);
  /* a CJK reference string is split on U+FF0C: 3 groups, all present */
  ASSERT_NEAR(SCORE("\"keywords\"", "\"\\u5148\\u704c\\u6e89\\uff0c\\u518d\\u65bd\\u80a5\"",
                    "\"\\u704c\\u6e89\\uff0c\\u65bd\\u80a5\\uff0c\\u9664\\u8349\""),
              2.0 / 3.0, 1e-12); /* 灌溉 and 施肥 found, 除草 not: 2/3 */
  /* NFKC + case folding: fullwidth "ＡＢＣ Corp" matches "abc corp" */
  ASSERT_NEAR(SCORE("\"keywords\"", "\"see abc corp\"", "[\"\\uff21\\uff22\\uff23 Corp\"]"), 1.0,
              0);
  /* keywords from args; synonyms: "gamma" stands for group 2 -> 1/2 */
  ASSERT_NEAR(SCORE("{\"fn\": \"keywords\", \"args\": {\"keywords\": [\"alpha\", [\"beta\", "
                    "\"gamma\"]]}}",
                    "\"gamma ray\"", "null"),
              0.5, 1e-12);
  char st[32];
  run("\"keywords\"", "{\"response\": \"x\", \"reference\": []}", st);
  ASSERT_EQ_STR(st, "invalid_reference");
}

/* rk__cp_digit: Unicode Nd digits and their values (all 660 of Python
 * 3.11's unicodedata.decimal() were compared once; here the edges). */
TEST(cp_digit_values) {
  static const struct { uint32_t c; int d; } cases[] = {
      {'0', 0},      {'9', 9},      {'a', -1},     {0x660, 0},    {0x669, 9},
      {0xFF10, 0},   {0xFF19, 9},   {0x966, 0},    {0x1D7CE, 0},  {0x1D7D7, 9},
      {0x1D7D8, 0},  {0x1D7FF, 9},  {0x1D7CD, -1}, {0xB2, -1},    {0xBD, -1},
      {0x2460, -1},  {0x3007, -1},  {0x110000, -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    if (rk__cp_digit(cases[i].c) != cases[i].d)
      fprintf(stderr, "  U+%04X: %d, want %d\n", (unsigned)cases[i].c, rk__cp_digit(cases[i].c),
              cases[i].d);
    ASSERT_EQ_INT(rk__cp_digit(cases[i].c), cases[i].d);
  }
}

/* keywords, "grading": "tiers" (Agri-R1's fuzzy_match_score_v3), by
 * hand: one group per line, the tier each reaches. */
TEST(keywords_tiers) {
  const char *t = "{\"fn\": \"keywords\", \"args\": {\"grading\": \"tiers\"}}";
  /* 1: "late blight" is in the lower-cased answer. */
  ASSERT_NEAR(SCORE(t, "\"Tomato with LATE BLIGHT\"", "[[\"late blight\"]]"), 1.0, 0);
  /* 2: "late blight disease" misses one word ("late" is found, "blight"
   * and "disease" count only when found: "disease" is). 2 of 3 >= 2. */
  ASSERT_NEAR(SCORE(t, "\"a late disease\"", "[[\"late blight disease\"]]"), 0.85, 0);
  /* 3: "infestation" (11) is not in "infested leaves", but its first six
   * ("infest") are in the answer word "infested". */
  ASSERT_NEAR(SCORE(t, "\"infested leaves\"", "[[\"infestation\"]]"), 0.7, 0);
  /* 4: a core word (over 3 code points) in the answer: "mold" of "leaf
   * mold" ("leaf" absent; tier 2 needs 1 of 2 words over 3: "mold" is
   * found, so that is tier 2). With three words, "tomato leaf mold":
   * only "mold" is found, 1 < 2: tier 3 fails (no word over 4 shares a
   * 6-prefix), tier 4: 0.5. */
  ASSERT_NEAR(SCORE(t, "\"grey mold\"", "[[\"leaf mold\"]]"), 0.85, 0);
  ASSERT_NEAR(SCORE(t, "\"grey mold\"", "[[\"tomato leaf mold\"]]"), 0.5, 0);
  /* 5: "early blight" contains "blight"; the answer has "lesion"
   * (Agri-R1's related table); nothing else matches. */
  ASSERT_NEAR(SCORE(t, "\"a dark lesion\"", "[[\"early blight\"]]"), 0.25, 0);
  ASSERT_NEAR(SCORE(t, "\"a dark dot\"", "[[\"early blight\"]]"), 0.0, 0);
  /* Python's lower(): final sigma: "ΟΔΟΣ" is "οδος", which holds "οδος". */
  ASSERT_NEAR(SCORE(t, "\"\u039f\u0394\u039f\u03a3\"", "[[\"\u03bf\u03b4\u03bf\u03c2\"]]"), 1.0, 0);
  /* Weights: Agri-R1's plant 0.8 + disease 1.2, over their sum: the plant
   * whole (1), the disease "leaf mold disease" by a core word (0.5: only
   * "mold" of its three words is in the answer, and no 6-letter prefix is
   * shared): (0.8 + 0.6) / 2 = 0.7. */
  const char *w = "{\"fn\": \"keywords\", \"args\": {\"grading\": \"tiers\", \"weights\": [0.8, 1.2]}}";
  ASSERT_NEAR(SCORE(w, "\"tomato leaves, grey mold\"",
                    "[[\"tomato\", \"tomato plant\"], [\"leaf mold disease\"]]"),
              0.7, 1e-15);
  /* An empty answer is unparseable (reward 0), as for every reward. */
  char st[32];
  run(t, "{\"response\": \"\", \"reference\": [\"a\"]}", st);
  ASSERT_EQ_STR(st, "unparseable");
  /* related given: replaces Agri-R1's table */
  ASSERT_NEAR(SCORE("{\"fn\": \"keywords\", \"args\": {\"grading\": \"tiers\", \"related\": "
                    "{\"scab\": [\"crust\"]}}}",
                    "\"a crust\"", "[[\"apple scab\"]]"),
              0.25, 0);
  ASSERT_NEAR(SCORE("{\"fn\": \"keywords\", \"args\": {\"grading\": \"tiers\", \"related\": {}}}",
                    "\"a dark lesion\"", "[[\"early blight\"]]"),
              0.0, 0);
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"keywords\", \"args\": {\"grading\": \"tiers\", "
                           "\"weights\": [1, 2]}}}",
                           "{\"response\": \"x\", \"reference\": [\"a\", \"b\", \"c\"]}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
  ASSERT_CONTAINS(r.explain, "2 weights for 3 keyword groups");
  r = e2e_score("{\"reward\": {\"fn\": \"keywords\", \"args\": {\"grading\": \"tiers\"}}}",
                "{\"response\": \"grey mold\", \"reference\": [\"tomato leaf mold\", \"late blight\"]}");
  ASSERT_E2E(r, 0.25, "ok");
  ASSERT_CONTAINS(r.explain, "'tomato leaf mold' 0.5 (core word), 'late blight' 0 (none); mean 0.25");
  char buf[512];
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"keywords\", \"args\": {\"grading\": "
                                 "\"tiers\", \"min_similarity\": 0.9}}}", buf, sizeof buf),
                  "has no effect");
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"keywords\", \"args\": {\"weights\": [1]}}}",
                                 buf, sizeof buf),
                  "only with");
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"keywords\", \"args\": {\"grading\": "
                                 "\"tiers\", \"weights\": [0, 0]}}}", buf, sizeof buf),
                  "add up to 0");
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"keywords\", \"args\": {\"grading\": "
                                 "\"tiers\", \"keywords\": [\"a\", \"b\"], \"weights\": [1]}}}",
                                 buf, sizeof buf),
                  "1 weights for 2 keyword groups");
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"keyword_chain\", \"args\": {\"grading\": "
                                 "\"tiers\"}}}", buf, sizeof buf),
                  "grading");
}

/* The same against a Python port of the tiers run outside the test
 * (tests/data/edit/gen_tiers.py): 400 answers with typos, Unicode
 * spaces, final sigma and dotted İ, weights and related tables. */
TEST(keywords_tiers_port) {
  FILE *f = fopen("data/edit/tiers.tsv", "r");
  ASSERT_TRUE(f != NULL);
  static char line[16384];
  int n = 0, bad = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *spec = line, *rec = strchr(spec, '\t');
    ASSERT_TRUE(rec != NULL);
    *rec++ = '\0';
    char *want = strchr(rec, '\t');
    ASSERT_TRUE(want != NULL);
    *want++ = '\0';
    e2e_result r = e2e_score(spec, rec);
    double w = strtod(want, NULL);
    if ((strcmp(r.status, "ok") || fabs(r.reward - w) > 1e-15) && bad++ < 5)
      fprintf(stderr, "  %s %s: %s %.17g, want %.17g\n", spec, rec, r.status, r.reward, w);
    n++;
  }
  fclose(f);
  ASSERT_EQ_INT(n, 400);
  ASSERT_EQ_INT(bad, 0);
}

TEST(keyword_chain_order) {
  const char *ex = "{\"fn\": \"keyword_chain\", \"args\": {\"min_similarity\": 1}}";
  const char *st = "{\"fn\": \"keyword_chain\", \"args\": {\"min_similarity\": 1, \"strict\": true}}";
#define ABC "[\"alpha\", \"bravo\", \"charlie\"]"
  ASSERT_NEAR(SCORE(ex, "\"alpha then bravo then charlie\"", ABC), 1.0, 0);
  /* "charlie alpha bravo": alpha, bravo in order; charlie not after bravo */
  ASSERT_NEAR(SCORE(ex, "\"charlie alpha bravo\"", ABC), 2.0 / 3.0, 1e-12);
  /* "bravo alpha charlie": alpha found; bravo not after it (missing);
   * charlie after alpha -> 2/3; strict stops at bravo -> 1/3 */
  ASSERT_NEAR(SCORE(ex, "\"bravo alpha charlie\"", ABC), 2.0 / 3.0, 1e-12);
  ASSERT_NEAR(SCORE(st, "\"bravo alpha charlie\"", ABC), 1.0 / 3.0, 1e-12);
  /* unordered coverage of the same text is complete */
  ASSERT_NEAR(SCORE("\"keywords\"", "\"bravo alpha charlie\"", ABC), 1.0, 0);
}

/* ---------------------------------------------------- lang_consistency */

int rk__script_of(uint32_t c);
size_t rk__script_counts(const char *p, size_t n, size_t *counts);

/* One run of the test below: bytes for code points start.. (stray bytes
 * between when asked), and the number of counts that differ from the
 * definition's. */
static int script_run(char *buf, uint32_t *cp, uint32_t start, uint32_t run, int stray) {
  enum { NS = 17 };
  size_t n = 0;
  for (uint32_t c = start; c < start + run && c <= 0x10FFFF; c++) {
    if (stray && c % 97 == 0) buf[n++] = (char)0x80;
    if (stray && c % 101 == 0) buf[n++] = (char)0xFF;
    if (stray && c % 103 == 0) buf[n++] = (char)0xC0, buf[n++] = (char)0x80;
    if (stray && c % 107 == 0) /* overlong "A" */
      buf[n++] = (char)0xE0, buf[n++] = (char)0x81, buf[n++] = (char)0x81;
    if (c < 0x80) {
      buf[n++] = (char)c;
    } else if (c < 0x800) {
      buf[n++] = (char)(0xC0 | c >> 6), buf[n++] = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      buf[n++] = (char)(0xE0 | c >> 12), buf[n++] = (char)(0x80 | (c >> 6 & 0x3F));
      buf[n++] = (char)(0x80 | (c & 0x3F));
    } else {
      buf[n++] = (char)(0xF0 | c >> 18), buf[n++] = (char)(0x80 | (c >> 12 & 0x3F));
      buf[n++] = (char)(0x80 | (c >> 6 & 0x3F)), buf[n++] = (char)(0x80 | (c & 0x3F));
    }
  }
  if (start % 3 == 0) buf[n++] = (char)0xE4, buf[n++] = (char)0xB8; /* cut short */
  size_t got[NS] = {0}, want[NS] = {0}, wt = 0;
  size_t gt = rk__script_counts(buf, n, got);
  size_t m = rk__cp_decode(buf, n, cp);
  for (size_t i = 0; i < m; i++) {
    uint32_t c = cp[i];
    int letter;
    if (c < 0x80) {
      letter = (c | 32) >= 'a' && (c | 32) <= 'z';
    } else {
      utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
      letter = k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
    }
    if (letter) want[rk__script_of(c)]++, wt++;
  }
  int bad = gt != wt;
  for (int k = 0; k < NS; k++) bad += got[k] != want[k];
  return bad;
}

/* Every code point 0..0x10FFFF (surrogates encoded as their invalid
 * three bytes), in runs of 2000, with and without stray bytes between (a
 * lone continuation, 0xFF, overlong C0 80 and E0 81 81; a lead cut by the
 * run's end), counted by rk__script_counts (64-byte blocks with AVX-512 where
 * the processor has it, and without: ASCII 16 bytes at a time, tables for
 * the two- and three-byte forms) and by the definition: the decoder's
 * code points (U+FFFD for invalid bytes), utf8proc's category L*, the
 * block table's script. */
TEST(script_counts_every_code_point) {
  enum { RUN = 2000, NS = 17 };
  char *buf = malloc(RUN * 11 + 64); /* at most 4 + 7 stray bytes a code point */
  uint32_t *cp = malloc((RUN * 11 + 64) * sizeof *cp);
  int bad = 0;
  for (int pass = 0; pass < 4 && buf && cp; pass++) {
    rk__wide = pass < 2;
    for (uint32_t start = 0; start <= 0x10FFFF; start += RUN)
      bad += script_run(buf, cp, start, RUN, pass & 1);
  }
  rk__wide = 1;
  free(buf);
  free(cp);
  ASSERT_EQ_INT(bad, 0);
  /* A long ASCII run (without AVX-512 its letters summed 16 bytes at a
   * time, past 255 steps) between two Cyrillic letters: 9999 + 2
   * letters. */
  size_t n2 = 0;
  char *t = malloc(20100);
  ASSERT_TRUE(t != NULL);
  t[n2++] = (char)0xD0, t[n2++] = (char)0x96; /* Ж */
  for (int i = 0; i < 10000; i++) t[n2++] = i % 10 == 9 ? ' ' : (char)('a' + i % 7);
  for (int i = 0; i < 999; i++) t[n2++] = 'Z';
  t[n2++] = (char)0xD0, t[n2++] = (char)0xB6; /* ж */
  for (int w = 0; w < 2; w++) {
    size_t got2[NS] = {0};
    rk__wide = w;
    size_t tot2 = rk__script_counts(t, n2, got2);
    ASSERT_EQ_INT(tot2, 9000 + 999 + 2);
    ASSERT_EQ_INT(got2[rk__script_of('a')], 9000 + 999);
    ASSERT_EQ_INT(got2[rk__script_of(0x416)], 2);
  }
  rk__wide = 1;
  free(t);
}

TEST(lang_consistency_values) {
  /* "Hello мир": 5 Latin + 3 Cyrillic letters -> 5/8 */
  ASSERT_NEAR(SCORE("{\"fn\": \"lang_consistency\", \"args\": {\"script\": \"latin\"}}",
                    "\"Hello \\u043c\\u0438\\u0440!\"", "null"),
              0.625, 1e-12);
  /* two scripts allowed: 答案是 (3 Han) + Paris (5 Latin) -> 8/8 */
  ASSERT_NEAR(SCORE("{\"fn\": \"lang_consistency\", \"args\": {\"script\": [\"han\", \"latin\"]}}",
                    "\"\\u7b54\\u6848\\u662f Paris\"", "null"),
              1.0, 0);
  /* auto from the prompt (Cyrillic): Ответ(5) потому(6) что(3) так(3) =
   * 17 Cyrillic; the(3) answer(6) is(2) = 11 Latin; digits ignored */
  ASSERT_NEAR(run("\"lang_consistency\"",
                  "{\"prompt\": \"\\u041f\\u043e\\u0447\\u0435\\u043c\\u0443?\", \"response\": "
                  "\"\\u041e\\u0442\\u0432\\u0435\\u0442: the answer is 42, "
                  "\\u043f\\u043e\\u0442\\u043e\\u043c\\u0443 \\u0447\\u0442\\u043e "
                  "\\u0442\\u0430\\u043a.\"}",
                  NULL),
              17.0 / 28.0, 1e-12);
  /* auto: 東京です has kana -> japanese (Han + kana). 東京はtokyoです:
   * 2 Han + 3 Hiragana in script, 5 Latin out -> 5/10 */
  ASSERT_NEAR(SCORE("\"lang_consistency\"",
                    "\"\\u6771\\u4eac\\u306ftokyo\\u3067\\u3059\"",
                    "\"\\u6771\\u4eac\\u3067\\u3059\""),
              0.5, 1e-12);
  /* no letters at all in the answer: no_letters (default 1) */
  ASSERT_NEAR(SCORE("{\"fn\": \"lang_consistency\", \"args\": {\"script\": \"latin\"}}", "\"42\"",
                  "null"),
              1.0, 0);
  /* invalid UTF-8 bytes are not letters: "ab\xff" -> 2/2 */
  ASSERT_NEAR(SCORE("{\"fn\": \"lang_consistency\", \"args\": {\"script\": \"latin\"}}",
                    "\"ab\\ufffd\"", "null"),
              1.0, 0);
  char st[32], buf[512];
  run("\"lang_consistency\"", "{\"response\": \"hello\", \"reference\": \"42\"}", st);
  ASSERT_EQ_STR(st, "invalid_reference");
  ASSERT_CONTAINS(e2e_spec_error("{\"reward\": {\"fn\": \"lang_consistency\", \"args\": "
                                 "{\"script\": \"klingon\"}}}",
                                 buf, sizeof buf),
                  "unknown script \"klingon\"");
}


/* rk__wer_ids_utf8's split and interning written one byte at a time: the
 * definition its 16-byte block scan must agree with (ids and count).
 * Whitespace is rk__py_space's (Python's str.isspace); words are byte
 * strings. */
static size_t wer_ids_bytewise(const char *p, size_t n, int clean, rk__lev_intern *tab,
                               uint32_t *ids) {
  size_t i = 0, k = 0, sl;
  while (i < n && (sl = rk__py_space_fast(p + i, n - i))) i += sl; /* Strip (left) */
  while (i < n) {
    size_t w = i;
    uint32_t h = RK__LEV_HASH0;
    while (i < n) {
      unsigned char c = (unsigned char)p[i];
      if (c == ' ') break;
      if (rk__py_space_class[c] && (sl = rk__py_space_fast(p + i, n - i))) {
        /* A separator when clean, in a run of two or more, or trailing
         * (Strip); otherwise a lone whitespace character inside the word. */
        if (clean || i + sl == n || rk__py_space_fast(p + i + sl, n - i - sl)) break;
        for (size_t q = 0; q < sl; q++) h = RK__LEV_HASH_STEP(h, (unsigned char)p[i + q]);
        i += sl;
        continue;
      }
      h = RK__LEV_HASH_STEP(h, c);
      i++;
    }
    uint32_t id = rk__lev_intern_idb(tab, p + w, i - w, h);
    if (id == UINT32_MAX) return SIZE_MAX;
    ids[k++] = id;
    while (i < n && (sl = rk__py_space_fast(p + i, n - i))) i += sl;
  }
  return k;
}

/* The block scan of rk__wer_ids_utf8 (16 bytes at a time, one hash per
 * word) against the byte-at-a-time definition it replaced, on random
 * texts of words, ASCII and Unicode whitespace (lone and in runs),
 * control bytes, non-ASCII letters, invalid bytes and words longer than
 * 16 bytes: same count, same ids. */
TEST(wer_ids_block_vs_bytes) {
  static const char *const piece[] = {"a", "b", "ab", " ", "  ", "\t", "\n", "\xc2\xa0",
                                      "\xe3\x80\x80", "\xc2\x85", "\xc3\xa9", "\x1c", "\x01",
                                      "\xff", "abcdefghijklmnopqrstuvwxyz", "abcdefghi",
                                      "abcdefghj", ".,"};
  unsigned long long wrng = 0x2545F4914F6CDD1Dull;
  char buf[2048];
  static uint32_t a[2048], b[2048];
  rk__arena ar;
  rk__arena_init(&ar, 0);
  int bad = 0;
  for (int it = 0; it < 800; it++) {
    size_t n = 0;
    wrng ^= wrng << 13, wrng ^= wrng >> 7, wrng ^= wrng << 17;
    size_t np = (size_t)(wrng % 60);
    for (size_t i = 0; i < np; i++) {
      wrng ^= wrng << 13, wrng ^= wrng >> 7, wrng ^= wrng << 17;
      const char *pc = piece[wrng % (sizeof piece / sizeof *piece)];
      memcpy(buf + n, pc, strlen(pc));
      n += strlen(pc);
    }
    for (int clean = 0; clean < 2; clean++) {
      rk__arena_reset(&ar);
      size_t k1 = rk__wer_ids_utf8(buf, n, clean, rk__lev_intern_new(&ar, 4 * n + 16), a);
      size_t k2 = wer_ids_bytewise(buf, n, clean, rk__lev_intern_new(&ar, 4 * n + 16), b);
      if (k1 != k2 || memcmp(a, b, k1 * sizeof *a) != 0) bad++;
    }
  }
  rk__arena_release(&ar);
  ASSERT_EQ_INT(bad, 0);
}

/* ------------------------------------------------ adversarial inputs */

TEST(peq_flood_keyed) {
  /* The code points p_s = B + ((s K^-1 - B) mod 2W) (K = 0x9E3779B1, the
   * fixed multiplier of old, whose low bits were the slot) fill slots
   * 0..W-1 of the 2W-slot table, and p_0 + 2W is absent and lands in slot
   * 0: every lookup of it walked W slots (16384 per character). With the
   * slot taken from the top bits of a multiply by a random odd key the
   * walk is a few slots; 8 a lookup on average is a bound random keys
   * miss with negligible probability. */
  enum { W = 16384, Q = 20000 };
  const uint32_t K = 0x9E3779B1u, cap = 2 * W, B = 0x20000;
  uint32_t Ki = K; /* Newton: K^-1 mod 2^32 */
  for (int i = 0; i < 5; i++) Ki *= 2 - K * Ki;
  static uint32_t pat[W], q[Q];
  for (uint32_t s = 0; s < W; s++) pat[s] = B + ((s * Ki - B) % cap);
  for (uint32_t i = 0; i < Q; i++) q[i] = i % 2 ? pat[0] + cap : pat[i % W];
  ASSERT_EQ_INT((pat[0] + cap) * K % cap, 0); /* the control: slot 0 of old */
  rk__arena ar;
  rk__arena_init(&ar, 0);
  size_t probes = rk__lev_peq_probes(&ar, pat, W, q, Q);
  fprintf(stderr, "  peq probes: %zu for %d lookups\n", probes, Q);
  ASSERT_TRUE(probes < (size_t)8 * Q);
  rk__arena_release(&ar);
}

TEST(wer_intern_flood_keyed) {
  /* "aaaaaa" + two printable characters: 8836 words that all shared one
   * slot of the old index (h ^ h >> 29, low bits), each then read 200000
   * times more in a 14.5 MB record. Keyed top bits: the extra slots
   * stay near the lookups' count; 4 a lookup is a bound random keys miss
   * with negligible probability. */
  static char text[94 * 94 * 9 + 9 * 20000 + 1]; /* + sprintf's last NUL */
  size_t o = 0;
  for (int a = 33; a < 127; a++)
    for (int b = 33; b < 127; b++) o += (size_t)sprintf(text + o, "aaaaaa%c%c ", a, b);
  for (int i = 0; i < 20000; i++) o += (size_t)sprintf(text + o, "aaaaaa~~ ");
  rk__arena ar;
  rk__arena_init(&ar, 0);
  rk__lev_intern *tab = rk__lev_intern_new(&ar, o + 16);
  static uint32_t ids[94 * 94 + 20000];
  size_t k = rk__wer_ids_utf8(text, o, 0, tab, ids);
  ASSERT_EQ_INT(k, 94 * 94 + 20000);
  ASSERT_EQ_INT(ids[k - 1], 94 * 94 - 1);
  size_t probes = rk__lev_intern_probes(tab);
  fprintf(stderr, "  wer intern probes: %zu for %zu words\n", probes, k);
  ASSERT_TRUE(probes < 4 * k);
  rk__arena_release(&ar);
}

TEST_MAIN(TEST_ENTRY(arg_errors), TEST_ENTRY(lev_known), TEST_ENTRY(lev_random_vs_dp), TEST_ENTRY(lev_search),
          TEST_ENTRY(lev8_pinned), TEST_ENTRY(lev8_random_vs_dp), TEST_ENTRY(cp_narrow),
          TEST_ENTRY(edit_ratio_symbol_paths), TEST_ENTRY(py_float_ascii_pinned),
          TEST_ENTRY(py_float_ascii_vs_codepoints), TEST_ENTRY(relaxed_ascii_paths),
          TEST_ENTRY(cost_saturates), TEST_ENTRY(wer_cer_published),
          TEST_ENTRY(wer_jiwer_split_quirk), TEST_ENTRY(wer_cer_edges),
          TEST_ENTRY(wer_budget_timeout), TEST_ENTRY(edit_ratio_values),
          TEST_ENTRY(edit_ratio_vs_python_levenshtein),
          TEST_ENTRY(anls_published), TEST_ENTRY(anls_length_quirk),
          TEST_ENTRY(vqa_normalisation), TEST_ENTRY(vqa_published), TEST_ENTRY(vqa_quirks),
          TEST_ENTRY(py_float_grammar), TEST_ENTRY(relaxed_published), TEST_ENTRY(relaxed_more),
          TEST_ENTRY(final_sigma),
          TEST_ENTRY(nfkc_mark_runs_charged), TEST_ENTRY(keywords_coverage), TEST_ENTRY(cp_digit_values), TEST_ENTRY(keywords_tiers), TEST_ENTRY(keywords_tiers_port), TEST_ENTRY(keyword_chain_order),
          TEST_ENTRY(script_counts_every_code_point), TEST_ENTRY(lang_consistency_values), TEST_ENTRY(wer_ids_block_vs_bytes),
          TEST_ENTRY(peq_flood_keyed), TEST_ENTRY(wer_intern_flood_keyed))
