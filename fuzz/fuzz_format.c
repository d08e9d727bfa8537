/*
 * fuzz_format.c - libFuzzer target for the format family's scanners on
 * arbitrary bytes: the tag checker (default and every preset, with and
 * without the EasyR1 whitespace strip), the repetition counter, the length
 * units and the JSON candidate finder.
 *
 * Oracles, beyond "no crash, no sanitizer report":
 * - on valid UTF-8, the r1, geo3k and rlpr presets agree with RE2 running
 *   the frameworks' regexes (with Python's \s spelled out);
 * - the strip is idempotent and leaves no space next to < > /;
 * - word counts agree between the repetition splitter and the length unit.
 *
 *   build-fuzz/fuzz_format fuzz/corpus/format -max_total_time=120
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "format/re2_shim.h"

#define CHECK(c)                 \
  do {                           \
    if (!(c)) __builtin_trap();  \
  } while (0)

/* Python's \s as an RE2 class. */
#define PYS                                                                  \
  "[\\t\\n\\x0b\\f\\r\\x1c-\\x1f \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}" \
  "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"

static rk__re *g_r1, *g_geo, *g_rlpr;
static rk__arena g_arena;

static void init(void) {
  rk__re_options o = {0};
  o.dot_nl = 1;
  rk__re_errkind k;
  const char *p1 = "<think>.*?</think>" PYS "*<answer>.*?</answer>";
  const char *p2 = "<think>.*</think>.*\\\\boxed\\{.*\\}.*";
  const char *p3 = "<think>.*</think>.*<answer>.*</answer>.*";
  CHECK(rk__re_compile(p1, strlen(p1), &o, &g_r1, &k, NULL, 0) == 0);
  CHECK(rk__re_compile(p2, strlen(p2), &o, &g_geo, &k, NULL, 0) == 0);
  CHECK(rk__re_compile(p3, strlen(p3), &o, &g_rlpr, &k, NULL, 0) == 0);
  rk__arena_init(&g_arena, (size_t)256 << 20);
}

/* Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static int valid_utf8(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t k;
    unsigned cp, min;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      k = 1, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      k = 2, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      k = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return 0;
    }
    if (n - i <= k) return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += k + 1;
  }
  return 1;
}

static size_t count_sub(const char *s, size_t n, const char *t) {
  size_t k = strlen(t), c = 0;
  for (size_t i = 0; i + k <= n;) {
    if (memcmp(s + i, t, k) == 0) {
      c++;
      i += k;
    } else {
      i++;
    }
  }
  return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_r1) init();
  const char *p = (const char *)data;
  char why[192];
  int utf8 = valid_utf8(data, size);

  /* Tag checker, every preset, with and without the strip. */
  int res[5][2];
  for (int preset = 0; preset < 5; preset++) {
    for (int strip = 0; strip < 2; strip++) {
      rk__fmt_cfg cfg;
      const char *err;
      CHECK(rk__fmt_init(&cfg, (rk__fmt_preset)preset, NULL, 0, &err) == 0);
      cfg.strip_tag_spaces = strip;
      if (preset == 0 && size > 0) {
        cfg.allow_prefix = data[0] & 1;
        cfg.allow_suffix = data[0] >> 1 & 1;
        cfg.allow_between = data[0] >> 2 & 1;
        cfg.require_boxed = data[0] >> 3 & 1;
        cfg.nonempty = data[0] >> 4 & 1;
      }
      rk__arena_reset(&g_arena);
      int r = rk__fmt_check(&cfg, p, size, &g_arena, why, sizeof why);
      CHECK(r == 0 || r == 1);
      CHECK(r == 1 || why[0] != '\0');
      res[preset][strip] = r;
    }
  }
  if (utf8) {
    CHECK(res[RK__FMT_R1][0] == rk__re_fullmatch(g_r1, p, size));
    CHECK(res[RK__FMT_GEO3K][0] == rk__re_fullmatch(g_geo, p, size));
    int want = rk__re_fullmatch(g_rlpr, p, size) &&
               count_sub(p, size, "<think>") == 1 &&
               count_sub(p, size, "</think>") == 1 &&
               count_sub(p, size, "<answer>") == 1 &&
               count_sub(p, size, "</answer>") == 1;
    CHECK(res[RK__FMT_RLPR][0] == want);
  }

  /* The strip: idempotent, and no whitespace touches < > /. */
  {
    char *a = malloc(size + 1), *b = malloc(size + 1);
    if (a && b) {
      size_t na = rk__fmt_strip_tag_spaces(p, size, a);
      CHECK(na <= size);
      size_t nb = rk__fmt_strip_tag_spaces(a, na, b);
      CHECK(nb == na && memcmp(a, b, na) == 0);
      for (size_t i = 0; i < na; i++) {
        if (a[i] != '<' && a[i] != '>' && a[i] != '/') continue;
        if (i + 1 < na) CHECK(rk__py_space(a + i + 1, na - i - 1) == 0);
      }
    }
    free(a);
    free(b);
  }

  /* Repetition: counts are consistent; words agree with the length unit. */
  size_t words = rk__count_words(p, size);
  for (int lower = 0; lower < 2; lower++) {
    for (int us = 0; us < 2; us++) {
      rk__rep_result r;
      size_t n = size ? (size_t)data[size - 1] % 12 + 1 : 3;
      rk__arena_reset(&g_arena);
      CHECK(rk__rep_ngrams(p, size, n, lower, us, &g_arena, &r) == 0);
      CHECK(r.unique <= r.total && r.max_count <= r.total);
      CHECK(r.total == (r.words >= n ? r.words - n + 1 : 0));
      CHECK(r.total == 0 || (r.unique >= 1 && r.max_count >= 1));
      if (!us) CHECK(r.words == words);
      double pen = rk__rep_trl(&r, -1.0);
      CHECK(pen <= 0.0 && pen >= -1.0);
    }
  }

  /* Length units. */
  size_t cp = 0;
  for (size_t i = 0; i < size; i++) cp += (data[i] & 0xC0) != 0x80;
  CHECK(rk__utf8_count(p, size) == cp);

  /* JSON candidates stay inside the input. */
  for (int m = 0; m < 4; m++) {
    size_t b = 0, e = 0;
    const char *how;
    rk__arena_reset(&g_arena);
    int r = rk__json_candidate(p, size, (rk__jx_mode)m, &g_arena, &b, &e, &how);
    CHECK(r == 0 || r == 1);
    if (r == 1) CHECK(b <= e && e <= size);
  }
  return 0;
}
