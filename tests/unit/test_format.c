/*
 * test_format.c - the `format` reward: the strict tag checker, the four
 * framework presets (checked against the frameworks' own regexes, run by
 * Python outside the test, and differentially against RE2 on generated
 * strings), linear time on hostile inputs, and end to end through the
 * public API.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "format/re2_shim.h"
#include "e2e.h"
#include "test.h"

static rk__arena g_arena;

/* Checks s with preset p (default tags think/answer); returns 1/0 and the
 * reason in why. */
static int chk_cfg(const rk__fmt_cfg *cfg, const char *s, size_t n, char *why) {
  rk__arena_reset(&g_arena);
  return rk__fmt_check(cfg, s, n, &g_arena, why, 192);
}

static int chk(rk__fmt_preset p, const char *s, char *why) {
  rk__fmt_cfg cfg;
  const char *err = NULL;
  if (rk__fmt_init(&cfg, p, NULL, 0, &err)) return -9;
  return chk_cfg(&cfg, s, strlen(s), why);
}

#define EXPECT_FMT(preset, s, want, why_sub)                     \
  do {                                                           \
    char why_[192];                                              \
    int got_ = chk((preset), (s), why_);                         \
    ASSERT_EQ_INT(got_, (want));                                 \
    if ((want) == 0) ASSERT_CONTAINS(why_, (why_sub));           \
  } while (0)

/* ------------------------------------------------------ strict default */

TEST(tags_ok) {
  EXPECT_FMT(RK__FMT_TAGS, "<think>a</think><answer>b</answer>", 1, "");
  /* Whitespace between and around blocks is allowed (Python whitespace,
   * incl. U+00A0 and U+3000). */
  EXPECT_FMT(RK__FMT_TAGS, "  <think>a</think>\n<answer>b</answer>\n", 1, "");
  EXPECT_FMT(RK__FMT_TAGS,
             "<think>a</think>\xc2\xa0\xe3\x80\x80<answer>b</answer>", 1, "");
  /* Invalid UTF-8 inside a block is just content. */
  EXPECT_FMT(RK__FMT_TAGS, "<think>\xff\xfe</think><answer>\xc3</answer>", 1, "");
}

TEST(tags_violations) {
  EXPECT_FMT(RK__FMT_TAGS, "", 0, "'<think>' missing");
  EXPECT_FMT(RK__FMT_TAGS, "<think>a", 0, "'</think>' missing");
  EXPECT_FMT(RK__FMT_TAGS, "<answer>b</answer><think>a</think>", 0,
             "'<answer>' before '<think>'");
  EXPECT_FMT(RK__FMT_TAGS, "<think>a</think><answer>b</answer><answer>c</answer>",
             0, "'<answer>' appears 2 times");
  EXPECT_FMT(RK__FMT_TAGS, "<think>a<answer>b</answer></think>", 0,
             "'<answer>' inside the '<think>' block");
  EXPECT_FMT(RK__FMT_TAGS, "</think>a<think><answer>b</answer>", 0,
             "'</think>' before '<think>'");
  EXPECT_FMT(RK__FMT_TAGS, "hello <think>a</think><answer>b</answer>", 0,
             "text before '<think>'");
  EXPECT_FMT(RK__FMT_TAGS, "<think>a</think> x <answer>b</answer>", 0,
             "text between '</think>' and '<answer>'");
  /* U+200B is not whitespace for Python. */
  EXPECT_FMT(RK__FMT_TAGS, "<think>a</think>\xe2\x80\x8b<answer>b</answer>", 0,
             "text between");
  EXPECT_FMT(RK__FMT_TAGS, "<think>a</think><answer>b</answer> bye", 0,
             "text after '</answer>'");
  EXPECT_FMT(RK__FMT_TAGS, "<think> \n</think><answer>b</answer>", 0,
             "empty '<think>' block");
  EXPECT_FMT(RK__FMT_TAGS, "\xff<think>a</think><answer>b</answer>", 0,
             "text before '<think>'");
}

TEST(tags_options) {
  rk__fmt_cfg cfg;
  const char *err = NULL;
  char why[192];
  ASSERT_EQ_INT(rk__fmt_init(&cfg, RK__FMT_TAGS, NULL, 0, &err), 0);
  const char *s1 = "Sure! <think>a</think> so <answer>b</answer> done";
  ASSERT_EQ_INT(chk_cfg(&cfg, s1, strlen(s1), why), 0);
  cfg.allow_prefix = cfg.allow_between = cfg.allow_suffix = 1;
  ASSERT_EQ_INT(chk_cfg(&cfg, s1, strlen(s1), why), 1);

  const char *s2 = "<think></think><answer>b</answer>";
  ASSERT_EQ_INT(chk_cfg(&cfg, s2, strlen(s2), why), 0);
  cfg.nonempty = 0;
  ASSERT_EQ_INT(chk_cfg(&cfg, s2, strlen(s2), why), 1);

  cfg.require_boxed = 1;
  ASSERT_EQ_INT(chk_cfg(&cfg, s2, strlen(s2), why), 0);
  ASSERT_CONTAINS(why, "no \\boxed{...} in the '<answer>' block");
  const char *s3 = "<think>x</think><answer>\\boxed{3}</answer>";
  ASSERT_EQ_INT(chk_cfg(&cfg, s3, strlen(s3), why), 1);
  /* The box must be in the last block, not in the reasoning. */
  const char *s4 = "<think>\\boxed{3}</think><answer>3</answer>";
  ASSERT_EQ_INT(chk_cfg(&cfg, s4, strlen(s4), why), 0);
}

TEST(tags_custom_names) {
  rk__fmt_cfg cfg;
  const char *err = NULL;
  char why[192];
  const char *names[] = {"reasoning", "<solution>"};
  ASSERT_EQ_INT(rk__fmt_init(&cfg, RK__FMT_TAGS, names, 2, &err), 0);
  ASSERT_EQ_STR(cfg.open[1], "<solution>");
  ASSERT_EQ_STR(cfg.close[1], "</solution>");
  const char *s = "<reasoning>r</reasoning>\n<solution>42</solution>";
  ASSERT_EQ_INT(chk_cfg(&cfg, s, strlen(s), why), 1);
  const char *s2 = "<think>r</think><answer>42</answer>";
  ASSERT_EQ_INT(chk_cfg(&cfg, s2, strlen(s2), why), 0);
  ASSERT_CONTAINS(why, "'<reasoning>' missing");

  /* One tag + require_boxed: the box comes after the block (text allowed). */
  const char *one[] = {"think"};
  ASSERT_EQ_INT(rk__fmt_init(&cfg, RK__FMT_TAGS, one, 1, &err), 0);
  cfg.require_boxed = 1;
  const char *s3 = "<think>x</think> so \\boxed{2}.";
  ASSERT_EQ_INT(chk_cfg(&cfg, s3, strlen(s3), why), 1);

  const char *bad1[] = {"a<b"};
  ASSERT_EQ_INT(rk__fmt_init(&cfg, RK__FMT_TAGS, bad1, 1, &err), -1);
  const char *bad2[] = {"x", "x"};
  ASSERT_EQ_INT(rk__fmt_init(&cfg, RK__FMT_TAGS, bad2, 2, &err), -1);
  const char *bad3[] = {""};
  ASSERT_EQ_INT(rk__fmt_init(&cfg, RK__FMT_TAGS, bad3, 1, &err), -1);
  ASSERT_EQ_INT(rk__fmt_init(&cfg, RK__FMT_R1, one, 1, &err), -1);
}

/* ------------------------------------------------------------- presets */

/* Expected values: Python's re on the framework patterns (run outside the
 * test, CPython 3.11). */
TEST(preset_r1) {
  EXPECT_FMT(RK__FMT_R1, "<think>a</think>\n<answer>b</answer>", 1, "");
  /* The regex lets A and B hold tags: a duplicated answer still matches. */
  EXPECT_FMT(RK__FMT_R1, "<think>a</think><answer>b</answer><answer>c</answer>",
             1, "");
  EXPECT_FMT(RK__FMT_R1, "<think>a</think>x</think> <answer>b</answer>", 1, "");
  EXPECT_FMT(RK__FMT_R1, "<think></think><answer></answer>", 1, "");
  EXPECT_FMT(RK__FMT_R1, "<think>a</think>\xc2\xa0\xe3\x80\x80<answer>b</answer>",
             1, "");
  EXPECT_FMT(RK__FMT_R1, "<think>a</think>\x1c<answer>b</answer>", 1, "");
  EXPECT_FMT(RK__FMT_R1, " <think>a</think><answer>b</answer>", 0,
             "text before '<think>'");
  EXPECT_FMT(RK__FMT_R1, "<think>a</think><answer>b</answer>\n", 0,
             "text after '</answer>'");
  EXPECT_FMT(RK__FMT_R1, "<think>a</think>x<answer>b</answer>", 0,
             "text between '</think>' and '<answer>'");
  EXPECT_FMT(RK__FMT_R1, "<think>a</think>\xe2\x80\x8b<answer>b</answer>", 0,
             "text between");
  EXPECT_FMT(RK__FMT_R1, "<think>a<answer>b</answer>", 0, "'</think>' missing");
  EXPECT_FMT(RK__FMT_R1, "<think>a</think> b</answer>", 0, "'<answer>' missing");
  EXPECT_FMT(RK__FMT_R1, "", 0, "'<think>' missing");
  EXPECT_FMT(RK__FMT_R1, "<think>", 0, "'</answer>' missing");
}

TEST(preset_geo3k) {
  EXPECT_FMT(RK__FMT_GEO3K, "<think>x</think> The answer is \\boxed{5}.", 1, "");
  EXPECT_FMT(RK__FMT_GEO3K, "<think>x</think> no box", 0, "no \\boxed{");
  EXPECT_FMT(RK__FMT_GEO3K, "\\boxed{5}<think>x</think>", 0, "text before");
  EXPECT_FMT(RK__FMT_GEO3K, "<think>x\\boxed{5}</think>", 0, "no \\boxed{");
  EXPECT_FMT(RK__FMT_GEO3K, "<think>x</think>\\boxed{5", 0, "never closed");
  EXPECT_FMT(RK__FMT_GEO3K, "<think>x</think>}\\boxed{", 0, "never closed");
  EXPECT_FMT(RK__FMT_GEO3K, "<think>x", 0, "'</think>' missing");
}

TEST(preset_rlpr) {
  EXPECT_FMT(RK__FMT_RLPR, "<think>a</think>b<answer>c</answer>d", 1, "");
  EXPECT_FMT(RK__FMT_RLPR, "<think>a</think><answer>c</answer><answer>", 0,
             "'<answer>' appears 2 times");
  EXPECT_FMT(RK__FMT_RLPR, "x<think>a</think><answer>c</answer>", 0,
             "text before '<think>'");
  EXPECT_FMT(RK__FMT_RLPR, "<think>a<answer>c</think></answer>", 0,
             "'<answer>' before '</think>'");
}

TEST(preset_think) {
  /* The two examples of TRL's think_format_reward docstring. */
  EXPECT_FMT(RK__FMT_THINK,
             "<think>\nThis is my reasoning.\n</think>\nThis is my answer.", 1, "");
  EXPECT_FMT(RK__FMT_THINK, "<think>\nThis is my reasoning.\nThis is my answer.",
             0, "'</think>' missing");
  EXPECT_FMT(RK__FMT_THINK, "<think>a<think>b</think>", 0,
             "'<think>' appears 2 times");
  EXPECT_FMT(RK__FMT_THINK, "<think>a</think><think>", 0, "appears 2 times");
  EXPECT_FMT(RK__FMT_THINK, "x<think>a</think>", 0, "text before '<think>'");
}

TEST(strip_tag_spaces) {
  /* Expected strings: re.sub(r"\s*(<|>|/)\s*", r"\1", s) in CPython. */
  struct {
    const char *in, *out;
  } v[] = {
      {"< think >x< / think > \\boxed{5}", "<think>x</think>\\boxed{5}"},
      {"a / b  c <\xc2\xa0x >\n y", "a/b  c<x>y"},
      {"  <think>\n\n", "<think>"},
      {" / / ", "//"},
      {"x\xe2\x80\x83<y", "x<y"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    char buf[64];
    const char *out = buf;
    size_t n = rk__fmt_strip_tag_spaces(v[i].in, strlen(v[i].in), buf);
    ASSERT_EQ_SPAN(out, n, v[i].out);
  }
  rk__fmt_cfg cfg;
  const char *err = NULL;
  char why[192];
  ASSERT_EQ_INT(rk__fmt_init(&cfg, RK__FMT_GEO3K, NULL, 0, &err), 0);
  const char *s = "< think >x< / think > \\boxed{5}";
  ASSERT_EQ_INT(chk_cfg(&cfg, s, strlen(s), why), 0);
  cfg.strip_tag_spaces = 1;
  ASSERT_EQ_INT(chk_cfg(&cfg, s, strlen(s), why), 1);
}

/* ------------------------------------------- differential against RE2 */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (uint32_t)(g_rng >> 11);
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

/* Random strings over the pieces the patterns care about; only ASCII
 * whitespace that RE2's \s and Python's \s agree on (space, \n, \t). */
TEST(presets_match_re2) {
  static const char *const pieces[] = {
      "<think>", "</think>", "<answer>", "</answer>", " ", "\n", "\t", "a",
      "\\boxed{", "}", "<", "/", ">", "think", "<think", "</answer"};
  const size_t np = sizeof pieces / sizeof pieces[0];
  rk__re_options o = {0};
  o.dot_nl = 1;
  rk__re *r1 = NULL, *geo = NULL, *rl = NULL;
  rk__re_errkind kind;
  const char *p1 = "<think>.*?</think>\\s*<answer>.*?</answer>";
  const char *p2 = "<think>.*</think>.*\\\\boxed\\{.*\\}.*";
  const char *p3 = "<think>.*</think>.*<answer>.*</answer>.*";
  ASSERT_EQ_INT(rk__re_compile(p1, strlen(p1), &o, &r1, &kind, NULL, 0), 0);
  ASSERT_EQ_INT(rk__re_compile(p2, strlen(p2), &o, &geo, &kind, NULL, 0), 0);
  ASSERT_EQ_INT(rk__re_compile(p3, strlen(p3), &o, &rl, &kind, NULL, 0), 0);
  if (!r1 || !geo || !rl) return;
  rk__fmt_cfg c1, c2, c3;
  const char *err;
  rk__fmt_init(&c1, RK__FMT_R1, NULL, 0, &err);
  rk__fmt_init(&c2, RK__FMT_GEO3K, NULL, 0, &err);
  rk__fmt_init(&c3, RK__FMT_RLPR, NULL, 0, &err);
  char buf[512];
  int mism = 0, pos[3] = {0, 0, 0};
  for (int it = 0; it < 200000 && mism < 5; it++) {
    size_t n = 0, k = rnd() % 14;
    /* Bias towards well-formed skeletons so that matches are common. */
    if (rnd() % 2) {
      static const char *const skel[] = {"<think>", "a", "</think>", " ",
                                         "<answer>", "\\boxed{", "}", "</answer>"};
      for (size_t j = 0; j < 8; j++) {
        const char *piece = rnd() % 6 ? skel[j] : pieces[rnd() % np];
        size_t L = strlen(piece);
        memcpy(buf + n, piece, L);
        n += L;
        if (rnd() % 4 == 0) {
          const char *extra = pieces[rnd() % np];
          memcpy(buf + n, extra, strlen(extra));
          n += strlen(extra);
        }
      }
    } else {
      for (size_t j = 0; j < k; j++) {
        const char *piece = pieces[rnd() % np];
        size_t L = strlen(piece);
        memcpy(buf + n, piece, L);
        n += L;
      }
    }
    char why[192];
    int want1 = rk__re_fullmatch(r1, buf, n);
    int want2 = rk__re_fullmatch(geo, buf, n);
    int want3 = rk__re_fullmatch(rl, buf, n) &&
                count_sub(buf, n, "<think>") == 1 &&
                count_sub(buf, n, "</think>") == 1 &&
                count_sub(buf, n, "<answer>") == 1 &&
                count_sub(buf, n, "</answer>") == 1;
    int got1 = chk_cfg(&c1, buf, n, why);
    int got2 = chk_cfg(&c2, buf, n, why);
    int got3 = chk_cfg(&c3, buf, n, why);
    pos[0] += want1;
    pos[1] += want2;
    pos[2] += want3;
    if (got1 != want1 || got2 != want2 || got3 != want3) {
      RK_T_FAIL_("mismatch on '%.*s': r1 %d/%d geo3k %d/%d rlpr %d/%d", (int)n,
                 buf, got1, want1, got2, want2, got3, want3);
      mism++;
    }
  }
  /* The generator must exercise both outcomes of every preset. */
  ASSERT_TRUE(pos[0] > 1000 && pos[1] > 1000 && pos[2] > 1000);
  rk__re_free(r1);
  rk__re_free(geo);
  rk__re_free(rl);
}

/* ------------------------------------------------------ hostile inputs */

/* 1 MiB inputs: every checker must finish (linear scans) and give 0. No
 * timing assertion; a quadratic checker would take minutes here. */
TEST(huge_inputs_linear) {
  size_t n = (size_t)1 << 20;
  char *s = malloc(n + 64);
  ASSERT_TRUE(s != NULL);
  if (!s) return;
  const char fills[] = {'<', 'a', ' '};
  rk__fmt_preset presets[] = {RK__FMT_TAGS, RK__FMT_R1, RK__FMT_GEO3K,
                              RK__FMT_RLPR, RK__FMT_THINK};
  for (size_t f = 0; f < sizeof fills; f++) {
    memset(s, fills[f], n);
    for (size_t p = 0; p < 5; p++) {
      rk__fmt_cfg cfg;
      const char *err;
      char why[192];
      rk__fmt_init(&cfg, presets[p], NULL, 0, &err);
      ASSERT_EQ_INT(chk_cfg(&cfg, s, n, why), 0);
      cfg.strip_tag_spaces = 1;
      ASSERT_EQ_INT(chk_cfg(&cfg, s, n, why), 0);
    }
  }
  /* Worst case for the r1 search: many "</think>" followed by whitespace
   * runs but never "<answer>". */
  size_t o = 0;
  memcpy(s, "<think>", 7);
  o = 7;
  while (o + 32 < n) {
    memcpy(s + o, "</think>    \n\n  ", 16);
    o += 16;
  }
  memcpy(s + o, "</answer>", 9);
  o += 9;
  char why[192];
  rk__fmt_cfg cfg;
  const char *err;
  rk__fmt_init(&cfg, RK__FMT_R1, NULL, 0, &err);
  ASSERT_EQ_INT(chk_cfg(&cfg, s, o, why), 0);
  ASSERT_CONTAINS(why, "'<answer>' missing");
  /* Many "<think" prefixes that never complete. */
  for (size_t i = 0; i + 6 <= n; i += 6) memcpy(s + i, "<think", 6);
  rk__fmt_init(&cfg, RK__FMT_TAGS, NULL, 0, &err);
  ASSERT_EQ_INT(chk_cfg(&cfg, s, n - n % 6, why), 0);
  free(s);
}

/* ------------------------------------------------------ end to end */

TEST(e2e_format) {
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"format\"}}",
                           "{\"response\": \"<think>a</think>\\n<answer>b</answer>\"}");
  ASSERT_E2E(r, 1.0, "ok");
  ASSERT_CONTAINS(r.explain, "format ok");

  r = e2e_score("{\"reward\": {\"fn\": \"format\"}}",
                "{\"response\": \"<think>a</think><answer>b</answer><answer>c</answer>\"}");
  ASSERT_E2E(r, 0.0, "ok");
  ASSERT_CONTAINS(r.explain, "'<answer>' appears 2 times");

  r = e2e_score("{\"reward\": {\"fn\": \"format\", \"args\": {\"preset\": \"r1\"}}}",
                "{\"response\": \"<think>a</think><answer>b</answer><answer>c</answer>\"}");
  ASSERT_E2E(r, 1.0, "ok");

  r = e2e_score("{\"reward\": {\"fn\": \"format\", \"args\": {\"preset\": \"geo3k\", "
                "\"strip_tag_spaces\": true}}}",
                "{\"response\": \"< think >x< / think > so \\\\boxed{5}\"}");
  ASSERT_E2E(r, 1.0, "ok");

  r = e2e_score("{\"reward\": {\"fn\": \"format\", \"args\": {\"tags\": "
                "[\"reasoning\", \"solution\"], \"allow_suffix\": true}}}",
                "{\"response\": \"<reasoning>r</reasoning><solution>s</solution> ok\"}");
  ASSERT_E2E(r, 1.0, "ok");

  r = e2e_score("{\"reward\": {\"fn\": \"format\"}}", "{\"response\": \"\"}");
  ASSERT_E2E(r, 0.0, "ok");
  ASSERT_CONTAINS(r.explain, "'<think>' missing");

  r = e2e_score("{\"reward\": {\"fn\": \"format\", \"args\": {\"preset\": \"think\"}}}",
                "{\"completion\": \"<think>\\nreasoning\\n</think>\\nanswer\"}");
  ASSERT_E2E(r, 1.0, "ok");
}

TEST(e2e_format_spec_errors) {
  char err[512];
  e2e_spec_error("{\"reward\": {\"fn\": \"format\", \"args\": {\"preset\": \"r1\", "
                 "\"allow_prefix\": true}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "allow_prefix");
  ASSERT_CONTAINS(err, "preset 'r1'");
  e2e_spec_error("{\"reward\": {\"fn\": \"format\", \"args\": {\"tags\": [\"a<b\"]}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "args.tags");
  e2e_spec_error("{\"reward\": {\"fn\": \"format\", \"args\": {\"preset\": \"r2\"}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "args.preset");
  e2e_spec_error("{\"reward\": {\"fn\": \"format\", \"args\": {\"preset\": \"geo3k\", "
                 "\"tags\": [\"a\", \"b\"]}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "exactly 1 tag");
  e2e_spec_error("{\"reward\": {\"fn\": \"format\", \"args\": {\"tags\": []}}}", err,
                 sizeof err);
  ASSERT_CONTAINS(err, "at least one tag");
  e2e_spec_error("{\"reward\": {\"fn\": \"format\", \"args\": {\"allow_prefx\": true}}}",
                 err, sizeof err);
  ASSERT_CONTAINS(err, "allow_prefx");
}

static void setup(void) { rk__arena_init(&g_arena, 0); }
static void teardown(void) { rk__arena_release(&g_arena); }

TEST(setup_) { setup(); }
TEST(teardown_) { teardown(); }

TEST_MAIN(TEST_ENTRY(setup_), TEST_ENTRY(tags_ok), TEST_ENTRY(tags_violations),
          TEST_ENTRY(tags_options), TEST_ENTRY(tags_custom_names),
          TEST_ENTRY(preset_r1), TEST_ENTRY(preset_geo3k),
          TEST_ENTRY(preset_rlpr), TEST_ENTRY(preset_think),
          TEST_ENTRY(strip_tag_spaces), TEST_ENTRY(presets_match_re2),
          TEST_ENTRY(huge_inputs_linear), TEST_ENTRY(e2e_format),
          TEST_ENTRY(e2e_format_spec_errors), TEST_ENTRY(teardown_))
