/*
 * test_text.c - the text rewards: the normalisers (called directly), then
 * exact, contains, mcq, yes_no and numeric end to end through the public
 * API (rk_spec_compile + rk_ctx_create + rk_score_one), reading reward,
 * status and explanation back with jansson. Expected values are worked
 * out by hand from the rules cited next to each case (data README rules,
 * SQuAD evaluate-v2.0, Unicode NFKC tables).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "rewardkit.h"
#include "test.h"
#include "text/normalize.h"

/* ---------------------------------------------------------- normalise */

static rk__arena arena;
static char nbuf[1024];

static const char *norm_with(rk__norm nm, const char *s, size_t n) {
  if (!arena.limit) rk__arena_init(&arena, 0);
  rk__arena_reset(&arena);
  rk__str out;
  if (rk__normalize(&nm, &arena, rk__str_make(s, n), &out)) return "<oom>";
  snprintf(nbuf, sizeof nbuf, "%.*s", (int)out.n, out.p);
  return nbuf;
}

static const char *norm(const char *s) {
  return norm_with(rk__norm_default(), s, strlen(s));
}

static const char *squad(const char *s) {
  rk__norm nm = {RK__NORM_SQUAD, RK__NORM_CASEFOLD};
  return norm_with(nm, s, strlen(s));
}

TEST(squad_vectors) {
  /* apis_metrics.md B11 test vector. */
  ASSERT_EQ_STR(squad("The U.S.A. isn't"), "usa isnt");
  /* Articles as whole words only; whitespace collapsed. */
  ASSERT_EQ_STR(squad("  A  cat\tthe  dog "), "cat dog");
  ASSERT_EQ_STR(squad("theater an ant"), "theater ant");
  ASSERT_EQ_STR(squad("The Eiffel Tower"), "eiffel tower");
  /* Punctuation is deleted, not replaced: "an-apple" -> "anapple". */
  ASSERT_EQ_STR(squad("an-apple"), "anapple");
  /* All 32 ASCII string.punctuation characters go, symbols included. */
  ASSERT_EQ_STR(squad("$5 + 3 = 8!"), "5 3 8");
  /* ("", "the") -> both empty. */
  ASSERT_EQ_STR(squad("the"), "");
  /* Non-ASCII: Python lower() then no NFKC; Python whitespace (U+3000). */
  ASSERT_EQ_STR(squad("\xC3\x89T\xC3\x89\xE3\x80\x80\x41"), "\xC3\xA9t\xC3\xA9");
  /* \b is Unicode-aware: "the" glued to "é" is not a word. */
  ASSERT_EQ_STR(squad("the\xC3\xA9 the"), "the\xC3\xA9");
  /* \x1c is whitespace for Python's str.split. */
  ASSERT_EQ_STR(squad("a\x1c"
                      "b"),
                "b");
  /* lower() runs over the whole text before punctuation goes, and a
   * capital sigma that ends a word lowers to the final form. From
   * python3: "ΟΔΟΣ".lower() == "οδος", "ΑΣ-Α".lower() == "ας-α" (so
   * "αςα" once '-' is deleted), "ΑΣ'Α".lower() == "ασ'α" (' is case
   * ignorable: the next letter counts). */
  ASSERT_EQ_STR(squad("\xce\x9f\xce\x94\xce\x9f\xce\xa3"), "\xce\xbf\xce\xb4\xce\xbf\xcf\x82");
  ASSERT_EQ_STR(squad("\xce\x91\xce\xa3-\xce\x91"), "\xce\xb1\xcf\x82\xce\xb1");
  ASSERT_EQ_STR(squad("\xce\x91\xce\xa3'\xce\x91"), "\xce\xb1\xcf\x83\xce\xb1");
  /* The default normaliser case-folds: casefold() has no final form,
   * "ΟΔΟΣ".casefold() == "οδοσ" == "οδος".casefold(). */
  ASSERT_EQ_STR(norm("\xce\x9f\xce\x94\xce\x9f\xce\xa3"), "\xce\xbf\xce\xb4\xce\xbf\xcf\x83");
  ASSERT_EQ_STR(norm("\xce\xbf\xce\xb4\xce\xbf\xcf\x82"), "\xce\xbf\xce\xb4\xce\xbf\xcf\x83");
}

TEST(default_vectors) {
  /* Fullwidth letters are NFKC-compatible with ASCII. */
  ASSERT_EQ_STR(norm("\xEF\xBC\xB0\xEF\xBD\x81\xEF\xBD\x92\xEF\xBD\x89\xEF\xBD\x93"), "paris");
  /* Composed and decomposed é normalise alike (NFC composes e+U+0301). */
  ASSERT_EQ_STR(norm("Caf\xC3\xA9"), "caf\xC3\xA9");
  ASSERT_EQ_STR(norm("Cafe\xCC\x81"), "caf\xC3\xA9");
  /* Case folding: ß folds to ss. */
  ASSERT_EQ_STR(norm("Stra\xC3\x9F"
                     "e"),
                "strasse");
  ASSERT_EQ_STR(norm("STRASSE"), "strasse");
  /* The fi ligature U+FB01 is compatibility-decomposed. */
  ASSERT_EQ_STR(norm("\xEF\xAC\x81ne"), "fine");
  /* « » are Pi/Pf punctuation; '!' Po. */
  ASSERT_EQ_STR(norm("\xC2\xAB"
                     "Paris\xC2\xBB!"),
                "paris");
  /* Symbols (Sc, Sm) are not punctuation in the default normaliser. */
  ASSERT_EQ_STR(norm("$5 + 3"), "$5 + 3");
  /* LaTeX wrappers: \text{Tuesday} is Tuesday (README rule 15). */
  ASSERT_EQ_STR(norm("\\text{Tuesday}"), "tuesday");
  ASSERT_EQ_STR(norm("\\textbf{Even}"), "even");
  /* Ideographic space U+3000 is NFKC space. */
  ASSERT_EQ_STR(norm("paris\xE3\x80\x80"
                     "france"),
                "paris france");
  ASSERT_EQ_STR(norm("The the a an"), "");
  ASSERT_EQ_STR(norm("A cat, the dog."), "cat dog");
  /* A decimal point between digits stays (default kind only): "3.5" must
   * not equal "35"; SQuAD deletes it. */
  ASSERT_EQ_STR(norm("3.5"), "3.5");
  ASSERT_EQ_STR(norm("It is 1.5. Done."), "it is 1.5 done");
  ASSERT_EQ_STR(norm(".5 and 5."), "5 and 5");
  ASSERT_EQ_STR(squad("3.5"), "35");
  /* Invalid UTF-8 becomes U+FFFD (a symbol, kept), never a crash. */
  ASSERT_EQ_STR(norm_with(rk__norm_default(),
                          "x\xff"
                          "b\xc3",
                          4),
                "x\xEF\xBF\xBD"
                "b\xEF\xBF\xBD");
  /* ...and "a" before it is still an article (U+FFFD is not a letter). */
  ASSERT_EQ_STR(norm_with(rk__norm_default(), "a\xff", 2), "\xEF\xBF\xBD");
  /* CJK text passes through (no case, no punctuation), 。 is Po. */
  ASSERT_EQ_STR(norm("\xE5\x8C\x97\xE4\xBA\xAC\xE3\x80\x82"), "\xE5\x8C\x97\xE4\xBA\xAC");
}

TEST(norm_switches) {
  rk__norm nm = rk__norm_default();
  nm.steps &= ~(unsigned)RK__NORM_CASEFOLD;
  ASSERT_EQ_STR(norm_with(nm, "The Paris!", 10), "Paris");
  nm = rk__norm_default();
  nm.steps &= ~(unsigned)RK__NORM_ARTICLES;
  ASSERT_EQ_STR(norm_with(nm, "The Paris!", 10), "the paris");
  nm = rk__norm_default();
  nm.steps &= ~(unsigned)RK__NORM_SPACE;
  /* Without collapsing, the article becomes one space: " " + " paris". */
  ASSERT_EQ_STR(norm_with(nm, "The paris", 9), "  paris");
  /* Without NFKC the fi ligature survives only if case folding is off
   * too: full case folding maps U+FB01 to "fi" by itself. */
  nm = rk__norm_default();
  nm.steps &= ~(unsigned)RK__NORM_NFKC;
  ASSERT_EQ_STR(norm_with(nm, "\xEF\xAC\x81", 3), "fi");
  nm.steps &= ~(unsigned)RK__NORM_CASEFOLD;
  ASSERT_EQ_STR(norm_with(nm, "\xEF\xAC\x81", 3), "\xEF\xAC\x81");
  /* none: trim only. */
  nm.kind = RK__NORM_NONE;
  nm.steps = 0;
  ASSERT_EQ_STR(norm_with(nm, "  The Paris! ", 13), "The Paris!");
  nm.steps = RK__NORM_CASEFOLD;
  ASSERT_EQ_STR(norm_with(nm, "  The Paris! ", 13), "the paris!");
}

TEST(text_helpers) {
  rk__str s = rk__text_clean(rk__str_make(" **42**. ", 9));
  ASSERT_EQ_SPAN(s.p, s.n, "42");
  s = rk__text_clean(rk__str_make("$\\frac{3}{4}$", 13));
  ASSERT_EQ_SPAN(s.p, s.n, "\\frac{3}{4}");
  s = rk__text_clean(rk__str_make("$5 and $6", 9));
  ASSERT_EQ_SPAN(s.p, s.n, "$5 and $6");
  s = rk__text_clean(rk__str_make("...", 3));
  ASSERT_EQ_SPAN(s.p, s.n, "...");
  s = rk__text_clean(rk__str_make("\\boxed{\\frac{1}{2}}", 19));
  ASSERT_EQ_SPAN(s.p, s.n, "\\frac{1}{2}");
  s = rk__text_clean(rk__str_make("\\boxed{1}+\\boxed{2}", 19));
  ASSERT_EQ_SPAN(s.p, s.n, "\\boxed{1}+\\boxed{2}");
  s = rk__text_last_line(rk__str_make("a\nb \n\n  (B).\n", 13));
  ASSERT_EQ_SPAN(s.p, s.n, "(B)");
  ASSERT_EQ_INT(rk__text_words(rk__str_make(" a b\tc ", 7)), 3);
}

/* ---------------------------------------------------------- end to end */

typedef struct res {
  double reward; /* NaN for null */
  char status[32];
  char explain[1024];
  char error[512];
} res;

static res score_b(const char *spec, const char *rec, uint64_t steps) {
  res r;
  memset(&r, 0, sizeof r);
  r.reward = NAN;
  rk_spec *s = NULL;
  if (rk_spec_compile(spec, strlen(spec), &s, r.error, sizeof r.error) != RK_OK) {
    snprintf(r.status, sizeof r.status, "spec-error");
    return r;
  }
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  if (rk_ctx_create(&co, &ctx) != RK_OK) {
    rk_spec_free(s);
    return r;
  }
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.explain = 1;
  so.step_budget = steps;
  char *out = NULL;
  size_t n = 0;
  if (rk_score_one(ctx, s, &so, rec, strlen(rec), &out, &n) == RK_OK) {
    json_error_t je;
    json_t *root = json_loadb(out, n, 0, &je);
    if (root) {
      json_t *v = json_object_get(root, "reward");
      r.reward = json_is_number(v) ? json_number_value(v) : NAN;
      v = json_object_get(root, "status");
      if (json_is_string(v)) snprintf(r.status, sizeof r.status, "%s", json_string_value(v));
      v = json_object_get(root, "error");
      if (json_is_string(v)) snprintf(r.error, sizeof r.error, "%s", json_string_value(v));
      json_t *ex = json_object_get(root, "explain");
      const char *k;
      json_object_foreach(ex, k, v) {
        if (json_is_string(v)) {
          snprintf(r.explain, sizeof r.explain, "%s", json_string_value(v));
          break;
        }
      }
      json_decref(root);
    } else {
      snprintf(r.error, sizeof r.error, "output is not JSON: %s", je.text);
    }
    rk_free(out);
  }
  rk_ctx_destroy(ctx);
  rk_spec_free(s);
  return r;
}

static res score(const char *spec, const char *rec) {
  return score_b(spec, rec, 0);
}

#define EXPECT(spec, rec, want_reward, want_status)                                               \
  do {                                                                                            \
    res r_ = score(spec, rec);                                                                    \
    if (strcmp(r_.status, want_status) != 0 ||                                                    \
        !((isnan((double)(want_reward)) && isnan(r_.reward)) ||                                   \
          r_.reward == (double)(want_reward)))                                                    \
      RK_T_FAIL_("%s\n    on %s\n    got reward %g status %s (%s%s)\n    want %g %s", spec, rec,  \
                 r_.reward, r_.status, r_.explain, r_.error, (double)(want_reward), want_status); \
  } while (0)

#define EXPLAINS(spec, rec, needle)                                                            \
  do {                                                                                         \
    res r_ = score(spec, rec);                                                                 \
    if (!strstr(r_.explain, needle))                                                           \
      RK_T_FAIL_("%s on %s\n    explain: %s\n    missing: %s", spec, rec, r_.explain, needle); \
  } while (0)

#define EXACT "{\"reward\":{\"fn\":\"exact\"}}"

TEST(exact_e2e) {
  EXPECT(EXACT, "{\"response\":\"<answer>Paris</answer>\",\"reference\":\"paris\"}", 1, "ok");
  EXPLAINS(EXACT, "{\"response\":\"<answer>Paris</answer>\",\"reference\":\"paris\"}",
           "pred 'paris' == gold 'paris' (normalised)");
  EXPLAINS(EXACT, "{\"response\":\"<answer>Paris</answer>\",\"reference\":\"paris\"}",
           "extracted 'Paris' by answer_tag");
  /* No marker: the whole response (exact's default fallback); NFKC. */
  EXPECT(EXACT,
         "{\"response\":\"\xEF\xBC\xB0\xEF\xBD\x81\xEF\xBD\x92\xEF\xBD\x89\xEF\xBD\x93\","
         "\"reference\":\"paris\"}",
         1, "ok");
  EXPECT(EXACT, "{\"response\":\"London\",\"reference\":\"Paris\"}", 0, "ok");
  EXPLAINS(EXACT, "{\"response\":\"London\",\"reference\":\"Paris\"}",
           "pred 'london' != gold 'paris' (normalised)");
  /* Several references: any one matches. */
  EXPECT(EXACT, "{\"response\":\"Answer: Paris\",\"reference\":[\"London\",\"Paris\"]}", 1, "ok");
  /* A number reference uses its source text. */
  EXPECT(EXACT, "{\"response\":\"The answer is 42.\",\"reference\":42}", 1, "ok");
  /* d-txt-06: \text{no} vs "Answer: No". */
  EXPECT(EXACT, "{\"response\":\"impossible.\\n\\nAnswer: No\",\"reference\":\"\\\\text{no}\"}", 1,
         "ok");
  /* d-txt-01: \boxed{\text{Tuesday}}. */
  EXPECT(EXACT, "{\"response\":\"$\\\\boxed{\\\\text{Tuesday}}$\",\"reference\":\"Tuesday\"}", 1,
         "ok");
  /* The default normaliser keeps decimal points: 35 is not 3.5. */
  EXPECT(EXACT, "{\"response\":\"Answer: 35\",\"reference\":\"3.5\"}", 0, "ok");
  /* d-adv-01: a hedge is not the answer. */
  EXPECT(EXACT, "{\"response\":\"The answer is 12 or 15 or 18.\",\"reference\":\"12\"}", 0, "ok");
  /* Missing or empty reference: no reward (null). */
  EXPECT(EXACT, "{\"response\":\"Paris\"}", NAN, "invalid_reference");
  EXPECT(EXACT, "{\"response\":\"Paris\",\"reference\":\"  \"}", NAN, "invalid_reference");
  EXPECT(EXACT, "{\"response\":\"Paris\",\"reference\":{\"a\":1}}", NAN, "invalid_reference");
  /* Empty response / empty box: unparseable (reward 0, core.h). */
  EXPECT(EXACT, "{\"response\":\"\",\"reference\":\"x\"}", 0, "unparseable");
  EXPECT(EXACT, "{\"response\":\"$\\\\boxed{}$\",\"reference\":\"x\"}", 0, "unparseable");
}

TEST(exact_long_fallback) {
  /* Without a marker the whole response is the answer. A long one is
   * rejected by a length bound without normalising it... */
  static char rec[8192];
  int k = snprintf(rec, sizeof rec, "{\"reference\":\"Paris\",\"response\":\"");
  for (int i = 0; i < 100; i++) k += snprintf(rec + k, sizeof rec - (size_t)k, "Lyon is big. ");
  snprintf(rec + k, sizeof rec - (size_t)k, "\"}");
  res r = score(EXACT, rec);
  ASSERT_EQ_STR(r.status, "ok");
  ASSERT_NEAR(r.reward, 0, 0);
  ASSERT_CONTAINS(r.explain, "too long to match");
  /* ...but the bound never rejects what normalises to the gold: 100
   * articles and punctuation around "Paris" normalise to "paris". */
  k = snprintf(rec, sizeof rec, "{\"reference\":\"Paris\",\"response\":\"");
  for (int i = 0; i < 100; i++) k += snprintf(rec + k, sizeof rec - (size_t)k, "the a, an! ");
  snprintf(rec + k, sizeof rec - (size_t)k, "\\\\textbf{Paris}...\"}");
  r = score(EXACT, rec);
  ASSERT_EQ_STR(r.status, "ok");
  ASSERT_NEAR(r.reward, 1, 0);
}

TEST(exact_args) {
  EXPECT("{\"reward\":{\"fn\":\"exact\",\"args\":{\"normalize\":\"squad\"}}}",
         "{\"response\":\"The U.S.A. isn't\",\"reference\":\"usa isnt\"}", 1, "ok");
  EXPECT("{\"reward\":{\"fn\":\"exact\",\"args\":{\"case_sensitive\":true}}}",
         "{\"response\":\"paris\",\"reference\":\"Paris\"}", 0, "ok");
  EXPECT("{\"reward\":{\"fn\":\"exact\",\"args\":{\"normalize\":\"none\"}}}",
         "{\"response\":\"Paris \",\"reference\":\"Paris\"}", 1, "ok");
  EXPECT("{\"reward\":{\"fn\":\"exact\",\"args\":{\"normalize\":\"none\"}}}",
         "{\"response\":\"Paris!\",\"reference\":\"Paris\"}", 0, "ok");
  /* Explicit extraction: no whole-response fallback. */
  EXPECT("{\"reward\":{\"fn\":\"exact\",\"args\":{\"extract\":\"answer_tag\"}}}",
         "{\"response\":\"Paris\",\"reference\":\"Paris\"}", 0, "unparseable");
  EXPECT("{\"reward\":{\"fn\":\"exact\",\"args\":{\"extract\":\"gsm8k_strict\"}}}",
         "{\"response\":\"so #### 1,000\",\"reference\":\"1000\"}", 1, "ok");
  EXPECT("{\"reward\":{\"fn\":\"exact\",\"args\":{\"extract\":[\"answer_tag\",\"last_number\"]}}}",
         "{\"response\":\"it is 7\",\"reference\":\"7\"}", 1, "ok");
  EXPECT("{\"reward\":{\"fn\":\"exact\",\"args\":{\"answer_tag\":\"final\"}}}",
         "{\"response\":\"<final>7</final>\",\"reference\":\"7\"}", 1, "ok");
  EXPECT("{\"reward\":{\"fn\":\"exact\",\"args\":{\"strip_articles\":false}}}",
         "{\"response\":\"Answer: the Beatles\",\"reference\":\"Beatles\"}", 0, "ok");
  /* Bad arguments fail at load time, naming the path. */
  res r = score("{\"reward\":{\"fn\":\"exact\",\"args\":{\"normalize\":\"foo\"}}}", "{}");
  ASSERT_EQ_STR(r.status, "spec-error");
  ASSERT_CONTAINS(r.error, "args.normalize");
  r = score("{\"reward\":{\"fn\":\"exact\",\"args\":{\"normalize\":\"squad\",\"nfkc\":false}}}",
            "{}");
  ASSERT_CONTAINS(r.error, "args.nfkc");
  r = score("{\"reward\":{\"fn\":\"exact\",\"args\":{\"extract\":\"boxd\"}}}", "{}");
  ASSERT_CONTAINS(r.error, "unknown mode 'boxd'");
  r = score("{\"reward\":{\"fn\":\"exact\",\"args\":{\"answer_tag\":\"<a>\"}}}", "{}");
  ASSERT_CONTAINS(r.error, "args.answer_tag");
  r = score("{\"reward\":{\"fn\":\"exact\",\"args\":{\"tail\":-1}}}", "{}");
  ASSERT_CONTAINS(r.error, "args.tail");
}

#define CONTAINS_(args) "{\"reward\":{\"fn\":\"contains\",\"args\":{" args "}}}"

TEST(contains_e2e) {
  EXPECT(CONTAINS_(""), "{\"response\":\"<answer>Paris, France</answer>\",\"reference\":\"paris\"}",
         1, "ok");
  EXPECT(CONTAINS_(""), "{\"response\":\"<answer>Lyon</answer>\",\"reference\":\"paris\"}", 0,
         "ok");
  /* The known hack, and its guard. */
  EXPECT(CONTAINS_(""),
         "{\"response\":\"<answer>London Paris Rome Berlin</answer>\",\"reference\":\"Paris\"}", 1,
         "ok");
  EXPECT(CONTAINS_("\"max_answer_words\":2"),
         "{\"response\":\"<answer>London Paris Rome Berlin</answer>\",\"reference\":\"Paris\"}", 0,
         "ok");
  EXPLAINS(CONTAINS_("\"max_answer_words\":2"),
           "{\"response\":\"<answer>London Paris Rome Berlin</answer>\",\"reference\":\"Paris\"}",
           "4 words > max_answer_words 2");
  EXPECT(CONTAINS_(""), "{\"response\":\"concatenate\",\"reference\":\"cat\"}", 1, "ok");
  EXPECT(CONTAINS_("\"word_boundary\":true"),
         "{\"response\":\"concatenate\",\"reference\":\"cat\"}", 0, "ok");
  EXPECT(CONTAINS_("\"word_boundary\":true"), "{\"response\":\"a cat sat\",\"reference\":\"cat\"}",
         1, "ok");
  /* A reference that normalises to nothing would be inside anything. */
  EXPECT(CONTAINS_(""), "{\"response\":\"x\",\"reference\":\"the\"}", NAN, "invalid_reference");
}

#define MCQ "{\"reward\":{\"fn\":\"mcq\"}}"
#define MCQ_(args) "{\"reward\":{\"fn\":\"mcq\",\"args\":{" args "}}}"

TEST(mcq_forms) {
  /* d-mcq-01 */
  EXPECT(MCQ, "{\"response\":\"matches option (C).\\n\\nThe answer is (C).\",\"reference\":\"C\"}",
         1, "ok");
  EXPECT(MCQ, "{\"response\":\"The answer is (D).\",\"reference\":\"C\"}", 0, "ok");
  EXPECT(MCQ, "{\"response\":\"Answer: B\",\"reference\":\"(B)\"}", 1, "ok");
  /* d-mcq-03 / d-txt-03 */
  EXPECT(MCQ, "{\"response\":\"$\\\\boxed{\\\\text{(B)}}$\",\"reference\":\"B\"}", 1, "ok");
  EXPECT(MCQ, "{\"response\":\"$\\\\boxed{B}$\",\"reference\":\"\\\\text{(B)}\"}", 1, "ok");
  /* d-mcq-07: AMC letter plus value. */
  EXPECT(
      MCQ,
      "{\"response\":\"$4! = 24$.\\n\\n$\\\\boxed{\\\\textbf{(B)}\\\\ 24}$\",\"reference\":\"B\"}",
      1, "ok");
  /* d-mcq-05 */
  EXPECT(MCQ, "{\"response\":\"(A), (B) and (C) fail.\\n\\n**Answer: D**\",\"reference\":\"(D)\"}",
         1, "ok");
  EXPECT(MCQ, "{\"response\":\"<answer>B)</answer>\",\"reference\":\"B\"}", 1, "ok");
  EXPECT(MCQ, "{\"response\":\"<answer>B. Paris</answer>\",\"reference\":\"B\"}", 1, "ok");
  EXPECT(MCQ, "{\"response\":\"The correct answer is **B**.\",\"reference\":\"B\"}", 1, "ok");
  /* Lowercase counts in bracket forms. */
  EXPECT(MCQ, "{\"response\":\"<answer>(b)</answer>\",\"reference\":\"B\"}", 1, "ok");
  EXPECT(MCQ, "{\"response\":\"<answer>C</answer>\",\"reference\":\"c\"}", 1, "ok");
  /* Reasoning after the letter does not add letters. */
  EXPECT(MCQ, "{\"response\":\"The answer is B because A fails.\",\"reference\":\"B\"}", 1, "ok");
  /* No marker: the last line. */
  EXPECT(MCQ, "{\"response\":\"Thinking...\\nB\",\"reference\":\"B\"}", 1, "ok");
  EXPECT(MCQ, "{\"response\":\"Both fail, so the only one left:\\n(C)\",\"reference\":\"C\"}", 1,
         "ok");
  /* Full-width brackets and letters read through NFKC: U+FF08 C U+FF09, U+FF23. */
  EXPECT(MCQ, "{\"response\":\"<answer>\uff08C\uff09</answer>\",\"reference\":\"C\"}", 1, "ok");
  EXPECT(MCQ, "{\"response\":\"<answer>\uff08C\uff09</answer>\",\"reference\":\"B\"}", 0, "ok");
  EXPECT(MCQ, "{\"response\":\"<answer>\uff23</answer>\",\"reference\":\"C\"}", 1, "ok");
}

TEST(mcq_hacks) {
  /* Several options named: 0, status ok. */
  EXPECT(MCQ, "{\"response\":\"<answer>A or B or C</answer>\",\"reference\":\"A\"}", 0, "ok");
  EXPLAINS(MCQ, "{\"response\":\"<answer>A or B or C</answer>\",\"reference\":\"A\"}",
           "names several options: A, B, C");
  /* d-mcq-04 */
  EXPECT(MCQ,
         "{\"response\":\"Both (A) and (C) work.\\n\\n$\\\\boxed{A, C}$\",\"reference\":\"A\"}", 0,
         "ok");
  /* README rule 2: chained boxes are one answer. */
  EXPECT(MCQ, "{\"response\":\"$\\\\boxed{A}$ or $\\\\boxed{B}$\",\"reference\":\"B\"}", 0, "ok");
  /* "x = \boxed{A} and x = \boxed{C}" is one answer {A, C}. */
  EXPECT(MCQ, "{\"response\":\"x = $\\\\boxed{A}$ and x = $\\\\boxed{C}$\",\"reference\":\"A, C\"}",
         1, "ok");
  /* ...but a corrected box is not a chain (rule 2). */
  EXPECT(MCQ,
         "{\"response\":\"$\\\\boxed{A}$. Wait, recheck: $\\\\boxed{B}$\",\"reference\":\"B\"}", 1,
         "ok");
  /* d-mcq-06: letters in the reasoning do not count. */
  EXPECT(MCQ,
         "{\"response\":\"Option (E) would need x = 3, so (E) is out.\\nOption (B) works.\\n\\n"
         "So the correct choice is $\\\\boxed{B}$.\",\"reference\":\"E\"}",
         0, "ok");
  /* The article "A" is not an answer. */
  EXPECT(MCQ, "{\"response\":\"A train leaves the station at 5pm.\",\"reference\":\"A\"}", 0,
         "unparseable");
  EXPECT(MCQ, "{\"response\":\"<answer>A is correct</answer>\",\"reference\":\"A\"}", 1, "ok");
  /* A multi-select gold matches the same set, in any order. */
  EXPECT(MCQ, "{\"response\":\"<answer>C and A</answer>\",\"reference\":\"A, C\"}", 1, "ok");
  EXPECT(MCQ, "{\"response\":\"no idea\",\"reference\":\"A\"}", 0, "unparseable");
}

TEST(mcq_options) {
  EXPECT(MCQ_("\"options\":[\"London\",\"Paris\",\"Rome\"]"),
         "{\"response\":\"<answer>Paris</answer>\",\"reference\":\"B\"}", 1, "ok");
  EXPLAINS(MCQ_("\"options\":[\"London\",\"Paris\",\"Rome\"]"),
           "{\"response\":\"<answer>Paris</answer>\",\"reference\":\"B\"}", "text of option B");
  /* The reference may be the option text. */
  EXPECT(MCQ_("\"options\":[\"London\",\"Paris\",\"Rome\"]"),
         "{\"response\":\"Answer: B\",\"reference\":\"Paris\"}", 1, "ok");
  EXPECT(MCQ_("\"options\":[\"London\",\"Paris\",\"Rome\"]"),
         "{\"response\":\"<answer>Paris or Rome</answer>\",\"reference\":\"B\"}", 0, "ok");
  /* Options from the record. */
  EXPECT(MCQ_("\"options_field\":\"choices\""),
         "{\"response\":\"Answer: y\",\"reference\":\"B\",\"choices\":[\"x\",\"y\"]}", 1, "ok");
  EXPECT(MCQ_("\"options_field\":\"meta.choices\""),
         "{\"response\":\"Answer: "
         "(B)\",\"reference\":\"B\",\"meta\":{\"choices\":{\"A\":\"x\",\"B\":\"y\"}}}",
         1, "ok");
  EXPECT(MCQ_("\"options_field\":\"choices\""), "{\"response\":\"Answer: y\",\"reference\":\"B\"}",
         NAN, "invalid_reference");
  /* Letters restricted: E is not an option. */
  EXPECT(MCQ_("\"letters\":\"ABCD\""),
         "{\"response\":\"<answer>(E)</answer>\",\"reference\":\"A\"}", 0, "unparseable");
  EXPECT(MCQ_("\"letters\":\"ABCD\""),
         "{\"response\":\"<answer>(D)</answer>\",\"reference\":\"E\"}", NAN, "invalid_reference");
  /* A text reference without options cannot be checked. */
  EXPECT(MCQ, "{\"response\":\"Answer: C\",\"reference\":\"Vitamin C\"}", NAN, "invalid_reference");
  res r = score(MCQ_("\"letters\":\"AAB\""), "{}");
  ASSERT_CONTAINS(r.error, "args.letters");
  r = score(MCQ_("\"options\":\"ABC\""), "{}");
  ASSERT_CONTAINS(r.error, "args.options");
}

#define YN "{\"reward\":{\"fn\":\"yes_no\"}}"

TEST(yes_no_e2e) {
  EXPECT(YN, "{\"response\":\"<answer>Yes</answer>\",\"reference\":\"yes\"}", 1, "ok");
  EXPECT(YN, "{\"response\":\"<answer>Yes</answer>\",\"reference\":true}", 1, "ok");
  EXPECT(YN, "{\"response\":\"<answer>Yes</answer>\",\"reference\":\"no\"}", 0, "ok");
  EXPECT(YN, "{\"response\":\"<answer>False.</answer>\",\"reference\":false}", 1, "ok");
  EXPECT(YN, "{\"response\":\"<answer>yes or no</answer>\",\"reference\":\"yes\"}", 0, "ok");
  EXPLAINS(YN, "{\"response\":\"<answer>yes or no</answer>\",\"reference\":\"yes\"}",
           "names both answers: 'yes' and 'no'");
  EXPECT(YN, "{\"response\":\"I think so.\",\"reference\":\"yes\"}", 0, "unparseable");
  /* d-txt-06 */
  EXPECT(YN, "{\"response\":\"Answer: No\",\"reference\":\"\\\\text{no}\"}", 1, "ok");
  /* Last-line fallback; "know" is not "no". */
  EXPECT(YN, "{\"response\":\"I know this.\\nYes.\",\"reference\":\"yes\"}", 1, "ok");
  EXPECT(YN, "{\"response\":\"Yes\",\"reference\":\"maybe\"}", NAN, "invalid_reference");
  EXPECT(
      "{\"reward\":{\"fn\":\"yes_no\",\"args\":{\"yes_words\":[\"correct\"],"
      "\"no_words\":[\"incorrect\"]}}}",
      "{\"response\":\"Answer: Incorrect\",\"reference\":\"incorrect\"}", 1, "ok");
  res r = score("{\"reward\":{\"fn\":\"yes_no\",\"args\":{\"no_words\":[\"yes\"]}}}", "{}");
  ASSERT_CONTAINS(r.error, "args.no_words");
}

#define NUM "{\"reward\":{\"fn\":\"numeric\"}}"
#define NUM_(args) "{\"reward\":{\"fn\":\"numeric\",\"args\":{" args "}}}"

TEST(numeric_exact) {
  /* Rule 7 separators and trailing zeros: exact decimal equality. */
  EXPECT(NUM, "{\"response\":\"The answer is 1,000.\",\"reference\":\"1000.0\"}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: $1,234.50\",\"reference\":1234.5}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: 25 000\",\"reference\":25000}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: 1{,}234.5\",\"reference\":1234.5}", 1, "ok");
  /* '.' is always a decimal point: 10.000 is ten. */
  EXPECT(NUM, "{\"response\":\"Answer: 10.000\",\"reference\":10}", 1, "ok");
  /* "1,2" is a list; "1,2345" is not a grouping. */
  EXPECT(NUM, "{\"response\":\"Answer: 1,2\",\"reference\":12}", 0, "ok");
  EXPLAINS(NUM, "{\"response\":\"Answer: 1,2\",\"reference\":12}", "several numbers");
  EXPECT(NUM, "{\"response\":\"Answer: 1,2345\",\"reference\":12345}", 0, "ok");
  /* Rule 5: no tolerance by default. */
  EXPECT(NUM, "{\"response\":\"Answer: 2.999\",\"reference\":3}", 0, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: 0.1\",\"reference\":0.10000001}", 0, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: 042\",\"reference\":42}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: -0\",\"reference\":0}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: \\u22125\",\"reference\":-5}", 1, "ok");
  /* Scientific notation. */
  EXPECT(NUM, "{\"response\":\"Answer: 1.5e3\",\"reference\":1500}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"$\\\\boxed{1.5 \\\\times 10^{3}}$\",\"reference\":1500}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"$\\\\boxed{10^{-2}}$\",\"reference\":0.01}", 1, "ok");
  /* Units and variables around the value. */
  EXPECT(NUM, "{\"response\":\"$\\\\boxed{x = 5}$\",\"reference\":5}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"$\\\\boxed{5 \\\\text{ cm}^2}$\",\"reference\":5}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"The answer is 12 apples.\",\"reference\":\"12\"}", 1, "ok");
  /* Not decimals. */
  EXPECT(NUM, "{\"response\":\"$\\\\boxed{\\\\frac{1}{2}}$\",\"reference\":0.5}", 0, "unparseable");
  EXPECT(NUM, "{\"response\":\"$\\\\boxed{2^{10}}$\",\"reference\":1024}", 0, "unparseable");
  EXPECT(NUM, "{\"response\":\"Answer: 1e999999999999\",\"reference\":1}", 0, "unparseable");
  EXPECT(NUM, "{\"response\":\"Answer: many\",\"reference\":1}", 0, "unparseable");
  /* No marker and several numbers: no answer rather than a hedge. */
  EXPECT(NUM, "{\"response\":\"3 plus 4 is 7\",\"reference\":7}", 0, "unparseable");
  EXPECT(NUM, "{\"response\":\"7\",\"reference\":7}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: 7\",\"reference\":\"seven\"}", NAN, "invalid_reference");
  EXPECT(NUM, "{\"response\":\"Answer: 7\",\"reference\":\"\\\\frac{1}{2}\"}", NAN,
         "invalid_reference");
}

TEST(numeric_percent) {
  /* Rule 8: one side with %, either reading. */
  EXPECT(NUM, "{\"response\":\"Answer: 25%\",\"reference\":0.25}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: 25\\\\%\",\"reference\":25}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: 0.25\",\"reference\":\"25%\"}", 1, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: 25 percent\",\"reference\":0.25}", 1, "ok");
  /* Both sides: compared directly. */
  EXPECT(NUM, "{\"response\":\"Answer: 2%\",\"reference\":\"20%\"}", 0, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: 20%\",\"reference\":\"20\\\\%\"}", 1, "ok");
  /* Neither side: no x100 reading. */
  EXPECT(NUM, "{\"response\":\"Answer: 0.25\",\"reference\":25}", 0, "ok");
  EXPECT(NUM, "{\"response\":\"Answer: 500\",\"reference\":5}", 0, "ok");
}

TEST(numeric_tolerance) {
  EXPECT(NUM_("\"abs_tol\":1e-6"), "{\"response\":\"Answer: 0.1\",\"reference\":0.10000001}", 1,
         "ok");
  /* Edges: |1.5 - 1| = 0.5 exactly in binary, so abs_tol 0.5 accepts. */
  EXPECT(NUM_("\"abs_tol\":0.5"), "{\"response\":\"Answer: 1.5\",\"reference\":1}", 1, "ok");
  EXPECT(NUM_("\"abs_tol\":0.4999"), "{\"response\":\"Answer: 1.5\",\"reference\":1}", 0, "ok");
  /* rel_tol is relative to the larger magnitude: |101-100| = 1 <= 0.01*101. */
  EXPECT(NUM_("\"rel_tol\":0.01"), "{\"response\":\"Answer: 101\",\"reference\":100}", 1, "ok");
  EXPECT(NUM_("\"rel_tol\":0.009"), "{\"response\":\"Answer: 101\",\"reference\":100}", 0, "ok");
  EXPLAINS(NUM_("\"rel_tol\":0.01"), "{\"response\":\"Answer: 101\",\"reference\":100}",
           "within tolerance");
  /* The percent reading combines with a tolerance. */
  EXPECT(NUM_("\"abs_tol\":0.001"), "{\"response\":\"Answer: 25.05%\",\"reference\":0.25}", 1,
         "ok");
  res r = score(NUM_("\"abs_tol\":-1"), "{}");
  ASSERT_CONTAINS(r.error, "args.abs_tol");
}

TEST(timeouts) {
  /* A 20 KB response and a 50-step budget: every function times out. */
  static char rec[25000];
  const char *fns[] = {"exact", "contains", "mcq", "yes_no", "numeric"};
  const char *refs[] = {"A", "A", "A", "yes", "1"};
  for (int i = 0; i < 5; i++) {
    int k = snprintf(rec, sizeof rec, "{\"reference\":\"%s\",\"response\":\"", refs[i]);
    for (int j = 0; j < 20000; j++) rec[k++] = 'x';
    snprintf(rec + k, sizeof rec - (size_t)k, "\"}");
    char spec[128];
    snprintf(spec, sizeof spec, "{\"reward\":{\"fn\":\"%s\"}}", fns[i]);
    res r = score_b(spec, rec, 50);
    if (strcmp(r.status, "timeout") != 0) RK_T_FAIL_("%s: status %s", fns[i], r.status);
  }
}

TEST_MAIN(TEST_ENTRY(squad_vectors), TEST_ENTRY(default_vectors), TEST_ENTRY(norm_switches),
          TEST_ENTRY(text_helpers), TEST_ENTRY(exact_e2e), TEST_ENTRY(exact_long_fallback),
          TEST_ENTRY(exact_args), TEST_ENTRY(contains_e2e), TEST_ENTRY(mcq_forms),
          TEST_ENTRY(mcq_hacks), TEST_ENTRY(mcq_options), TEST_ENTRY(yes_no_e2e),
          TEST_ENTRY(numeric_exact), TEST_ENTRY(numeric_percent), TEST_ENTRY(numeric_tolerance),
          TEST_ENTRY(timeouts))
