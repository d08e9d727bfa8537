/*
 * test_extract.c - answer extraction (src/text/extract.c), mode by mode,
 * called directly with a hand-built rk__call. Expected values are derived
 * by hand from the rules in docs/extraction.md (each case says why), and
 * for gsm8k from verl's regexes read by hand: strict `#### (\-?[0-9\.\,]+)`
 * on the last 300 characters, flexible `(\-?[0-9\.\,]+)`.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "test.h"
#include "text/extract.h"

static rk__arena arena;
static rk__budget budget;
static rk__buf explain;
static rk__buf errbuf;
static char got[4096];
static rk_status last_status;

static void setup(void) {
  if (!arena.limit) {
    rk__arena_init(&arena, 0);
    rk__buf_init(&explain, 1 << 16);
    rk__buf_init(&errbuf, 1 << 12);
  }
}

static int mode_of(const char *name, rk__ex_mode *m) {
  for (int i = 0; i < RK__EX__COUNT; i++)
    if (strcmp(rk__ex_mode_name((rk__ex_mode)i), name) == 0) {
      *m = (rk__ex_mode)i;
      return 0;
    }
  return -1;
}

/* Extracts from text (n bytes, or strlen when n == (size_t)-1) with the
 * comma-separated modes; returns the answer, or "<none>" / "<timeout>". */
static const char *xn(const char *modes, const char *text, size_t n, size_t tail, uint64_t steps) {
  rk__extract_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s", modes);
  for (char *tok = strtok(tmp, ","); tok; tok = strtok(NULL, ","))
    if (mode_of(tok, &cfg.modes[cfg.nmodes++])) return "<bad mode>";
  cfg.tail = tail;
  setup();
  rk__arena_reset(&arena);
  rk__buf_reset(&explain);
  budget.used = 0;
  budget.limit = steps;
  rk__call c;
  memset(&c, 0, sizeof c);
  c.arena = &arena;
  c.budget = &budget;
  c.explain = &explain;
  c.error = &errbuf;
  rk__str out;
  const char *how = NULL;
  if (n == (size_t)-1) n = strlen(text);
  last_status = rk__extract(&cfg, &c, rk__str_make(text, n), &out, &how);
  if (last_status == RK_STATUS_TIMEOUT) return "<timeout>";
  if (last_status != RK_STATUS_OK) return "<none>";
  snprintf(got, sizeof got, "%.*s", (int)out.n, out.p);
  return got;
}

static const char *x(const char *modes, const char *text) {
  return xn(modes, text, (size_t)-1, 0, 1000000);
}

static const char *explained(void) {
  return rk__buf_cstr(&explain);
}

TEST(boxed_basic) {
  ASSERT_EQ_STR(x("boxed", "so the total is $\\boxed{42}$."), "42");
  /* Nested braces are matched (data README rule 1). */
  ASSERT_EQ_STR(x("boxed", "giving $\\boxed{\\frac{1}{\\sqrt{2}}}$"), "\\frac{1}{\\sqrt{2}}");
  /* Several boxes: the last one is the answer (rule 2, d-ext-01). */
  ASSERT_EQ_STR(x("boxed", "count is $\\boxed{3}$.\nwait: recounting gives $\\boxed{4}$."), "4");
  /* \fbox counts like \boxed (d-ext-10). */
  ASSERT_EQ_STR(x("boxed", "The remainder is $5$.\n\n$\\fbox{5}$"), "5");
  /* lm-eval's "\boxed 5$" form: up to the next '$'. */
  ASSERT_EQ_STR(x("boxed", "$\\boxed 5$"), "5");
  /* Escaped braces do not count for matching: the box holds \{1,2\}. */
  ASSERT_EQ_STR(x("boxed", "\\boxed{\\{1,2\\}}"), "\\{1,2\\}");
  /* A template box first, the real one last (d-adv-12). */
  ASSERT_EQ_STR(x("boxed", "I will answer in the form \\boxed{answer}.\n$\\boxed{12}$"), "12");
  /* Nested \boxed{\boxed{7}}: the last \boxed starts the inner one. */
  ASSERT_EQ_STR(x("boxed", "\\boxed{\\boxed{7}}"), "7");
  /* Space before the brace is allowed in TeX. */
  ASSERT_EQ_STR(x("boxed", "\\boxed {8}"), "8");
  /* Numbers after the box (a check) are ignored (d-ext-07). */
  ASSERT_EQ_STR(x("boxed", "is $\\boxed{12}$, since 12 + 8 = 20"), "12");
}

TEST(boxed_malformed) {
  /* Empty box = no answer (rule 3, d-adv-08), and extraction stops there:
   * the auto cascade does not fall back to the "Answer:" line. */
  ASSERT_EQ_STR(x("boxed", "Computing.\n\n$\\boxed{}$"), "<none>");
  ASSERT_EQ_STR(x("boxed", "$\\boxed{  }$"), "<none>");
  ASSERT_EQ_STR(x("auto,none", "Answer: 5\n$\\boxed{}$"), "<none>");
  ASSERT_CONTAINS(explained(), "empty");
  /* Unbalanced braces (d-mal-01); an earlier good box does not rescue it. */
  ASSERT_EQ_STR(x("boxed", "$\\boxed{1}$ then $\\boxed{\\frac{1}{2}$"), "<none>");
  ASSERT_CONTAINS(explained(), "unbalanced");
  /* "\boxedfoo" is another command, not a box. */
  ASSERT_EQ_STR(x("boxed", "\\boxedfoo{1}"), "<none>");
  ASSERT_EQ_STR(x("boxed", "no box here"), "<none>");
  ASSERT_EQ_STR(x("boxed", "ends with \\boxed"), "<none>");
  ASSERT_EQ_STR(x("boxed", "\\"), "<none>");
}

TEST(answer_tag) {
  ASSERT_EQ_STR(x("answer_tag", "<think>3 + 4 = 7</think>\n<answer> 7 </answer>"), "7");
  /* The last tag pair wins. */
  ASSERT_EQ_STR(x("answer_tag", "<answer>1</answer> no, <answer>2</answer>"), "2");
  /* Markdown bold and the final period are removed (rule 1). */
  ASSERT_EQ_STR(x("answer_tag", "<answer>**Paris**.</answer>"), "Paris");
  /* Unterminated: no match, like the regex `<answer>(.*?)</answer>`... */
  ASSERT_EQ_STR(x("answer_tag", "<answer>7"), "<none>");
  /* ...but an earlier complete pair still is the last match. */
  ASSERT_EQ_STR(x("answer_tag", "<answer>5</answer> then <answer>6"), "5");
  /* A closing tag alone is nothing. */
  ASSERT_EQ_STR(x("answer_tag", "7</answer>"), "<none>");
  /* Empty pair: present but empty, so no answer and no fallback. */
  ASSERT_EQ_STR(x("answer_tag,none", "<answer> </answer>"), "<none>");
  /* Non-greedy: from the last opener to the first closer after it. */
  ASSERT_EQ_STR(x("answer_tag", "<answer>a</answer>x</answer>"), "a");
  /* Multi-line content is kept. */
  ASSERT_EQ_STR(x("answer_tag", "<answer>line1\nline2</answer>"), "line1\nline2");
}

TEST(answer_tag_custom) {
  rk__extract_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.modes[0] = RK__EX_ANSWER_TAG;
  cfg.nmodes = 1;
  cfg.open_tag = "<final>";
  cfg.close_tag = "</final>";
  setup();
  budget.used = 0;
  budget.limit = 1000;
  rk__call c;
  memset(&c, 0, sizeof c);
  c.arena = &arena;
  c.budget = &budget;
  rk__str out;
  const char *s = "<answer>1</answer><final>2</final>";
  ASSERT_EQ_INT(rk__extract(&cfg, &c, rk__str_make(s, strlen(s)), &out, NULL), RK_STATUS_OK);
  ASSERT_EQ_SPAN(out.p, out.n, "2");
}

TEST(answer_is) {
  /* d-ext-04: bold and the period go. */
  ASSERT_EQ_STR(x("answer_is", "We add: 30 + 12 = 42.\n\nSo the final answer is **42**."), "42");
  /* d-ext-09 (Minerva style): up to the end of the sentence, $ removed. */
  ASSERT_EQ_STR(x("answer_is",
                  "Final Answer: The final answer is $\\frac{3}{4}$. I hope it is "
                  "correct."),
                "\\frac{3}{4}");
  ASSERT_EQ_STR(x("answer_is", "The answer is (C)."), "(C)");
  ASSERT_EQ_STR(x("answer_is", "THE ANSWER IS: 12"), "12");
  /* A decimal point is not a sentence end. */
  ASSERT_EQ_STR(x("answer_is", "the answer is 3.5 meters. Done."), "3.5 meters");
  /* Nothing after it on the line: the next non-empty line. */
  ASSERT_EQ_STR(x("answer_is", "The answer is:\n\n$$42$$\n"), "42");
  /* The last statement wins. */
  ASSERT_EQ_STR(x("answer_is", "The answer is 5. No wait, the answer is 6."), "6");
  /* "answer island" / "answer isn't" are not statements. */
  ASSERT_EQ_STR(x("answer_is", "my answer island"), "<none>");
  ASSERT_EQ_STR(x("answer_is", "the answer isn't clear"), "<none>");
  /* Hedges are extracted whole; the reward decides (d-adv-01). */
  ASSERT_EQ_STR(x("answer_is", "The answer is 12 or 15 or 18."), "12 or 15 or 18");
  ASSERT_EQ_STR(x("answer_is", "The answer is"), "<none>");
}

TEST(answer_line) {
  /* d-ext-06. */
  ASSERT_EQ_STR(x("answer_line", "so a = 7.\n\nAnswer: 7"), "7");
  ASSERT_EQ_STR(x("answer_line", "answer : 12\nmore text"), "12");
  /* d-mcq-05: "**Answer: D**" gives D (markdown stripped). */
  ASSERT_EQ_STR(x("answer_line", "(A), (B) fail.\n\n**Answer: D**"), "D");
  ASSERT_EQ_STR(x("answer_line", "**Answer:** 42"), "42");
  /* `\s*` after the colon crosses newlines, as in the regex. */
  ASSERT_EQ_STR(x("answer_line", "Answer:\n\n42"), "42");
  /* The regex has no word boundary: "FinalAnswer:" matches too. */
  ASSERT_EQ_STR(x("answer_line", "FinalAnswer: x"), "x");
  ASSERT_EQ_STR(x("answer_line", "Answer: 1\nAnswer: 2"), "2");
  /* An empty last "Answer:" is skipped for the previous one. */
  ASSERT_EQ_STR(x("answer_line", "Answer: 1\nAnswer:"), "1");
  ASSERT_EQ_STR(x("answer_line", "Answers: 3"), "<none>");
}

TEST(gsm8k_strict) {
  ASSERT_EQ_STR(x("gsm8k_strict", "She has 72 clips.\n#### 72"), "72");
  ASSERT_CONTAINS(explained(), "extracted '72' by gsm8k_strict");
  /* Commas are stripped (verl: .replace(",", "")). */
  ASSERT_EQ_STR(x("gsm8k_strict", "#### 1,234"), "1234");
  ASSERT_EQ_STR(x("gsm8k_strict", "#### -5"), "-5");
  /* The last match wins. */
  ASSERT_EQ_STR(x("gsm8k_strict", "#### 1\nno, #### 2"), "2");
  /* No space after ####, or '$' before the number: the regex fails. */
  ASSERT_EQ_STR(x("gsm8k_strict", "####72"), "<none>");
  ASSERT_EQ_STR(x("gsm8k_strict", "#### $5"), "<none>");
  /* "##### 5" contains "#### 5". */
  ASSERT_EQ_STR(x("gsm8k_strict", "##### 5"), "5");
  /* A sentence-final '.' is dropped (verl would keep "72."). */
  ASSERT_EQ_STR(x("gsm8k_strict", "#### 72."), "72");
  /* A match without digits is no answer. */
  ASSERT_EQ_STR(x("gsm8k_strict", "#### ..."), "<none>");
  /* Only the last 300 bytes by default: push the marker out. */
  char buf[1024];
  memset(buf, 'x', sizeof buf);
  memcpy(buf, "#### 5 ", 7);
  buf[600] = '\0';
  ASSERT_EQ_STR(x("gsm8k_strict", buf), "<none>");
  /* tail = SIZE_MAX ("tail": 0 in a spec) searches everything. */
  ASSERT_EQ_STR(xn("gsm8k_strict", buf, (size_t)-1, SIZE_MAX, 100000), "5");
  /* Exactly at the edge: the marker starts at byte n-300. */
  memset(buf, 'x', sizeof buf);
  memcpy(buf + 300, "#### 9", 6);
  buf[600] = '\0';
  ASSERT_EQ_STR(x("gsm8k_strict", buf), "9");
  memset(buf, 'x', sizeof buf);
  memcpy(buf + 299, "#### 9", 6);
  buf[600] = '\0';
  ASSERT_EQ_STR(x("gsm8k_strict", buf), "<none>");
}

TEST(gsm8k_flexible) {
  ASSERT_EQ_STR(x("gsm8k_flexible", "I have 3 apples and 5 pears."), "5");
  ASSERT_EQ_STR(x("gsm8k_flexible", "The total is 1,000."), "1000");
  ASSERT_EQ_STR(x("gsm8k_flexible", "value -3"), "-3");
  /* verl skips "." matches; we skip every match without a digit. */
  ASSERT_EQ_STR(x("gsm8k_flexible", "it is 7. . ..."), "7");
  ASSERT_EQ_STR(x("gsm8k_flexible", "no digits, sorry..."), "<none>");
  /* "3-4" gives the matches "3" and "-4" in the regex. */
  ASSERT_EQ_STR(x("gsm8k_flexible", "pages 3-4"), "-4");
}

TEST(last_number) {
  ASSERT_EQ_STR(x("last_number", "x = 3.14 and y = 2"), "2");
  ASSERT_EQ_STR(x("last_number", "cost 1,234,567 dollars"), "1234567");
  /* "1,2" is a list (rule 7): the last item. */
  ASSERT_EQ_STR(x("last_number", "the list 1,2"), "2");
  ASSERT_EQ_STR(x("last_number", "rate 1.5e-3 per s"), "1.5e-3");
  ASSERT_EQ_STR(x("last_number", "-7"), "-7");
  ASSERT_EQ_STR(x("last_number", "answer 5."), "5");
  ASSERT_EQ_STR(x("last_number", "version 1.2.3"), "3");
  ASSERT_EQ_STR(x("last_number", "about .5 of it"), ".5");
  ASSERT_EQ_STR(x("last_number", "nothing"), "<none>");
}

TEST(bold) {
  ASSERT_EQ_STR(x("bold", "Some **bold** text and **final**"), "final");
  ASSERT_EQ_STR(x("bold", "**42**."), "42");
  ASSERT_EQ_STR(x("bold", "****"), "<none>");
  ASSERT_EQ_STR(x("bold", "just ** one"), "<none>");
  /* Bold does not span a blank line: the pair before it is used. */
  ASSERT_EQ_STR(x("bold", "**a** and **b\n\nc**"), "a");
}

TEST(code_block) {
  ASSERT_EQ_STR(x("code_block", "Here:\n```python\nprint(1)\n```\nDone."), "print(1)");
  ASSERT_EQ_STR(x("code_block", "```\na\n```\ntext\n```js\nb\n```"), "b");
  /* Unterminated fence = not found. */
  ASSERT_EQ_STR(x("code_block", "```python\nx = 1"), "<none>");
  /* Three fences: the third opens an unterminated block. */
  ASSERT_EQ_STR(x("code_block", "```\na\n```\ntext\n```\nb"), "<none>");
  /* A closing fence at the end of a code line is accepted. */
  ASSERT_EQ_STR(x("code_block", "```\nx = 2```"), "x = 2");
  /* Inline ``` in prose is not a fence. */
  ASSERT_EQ_STR(x("code_block", "use ``` to fence"), "<none>");
}

TEST(json_mode) {
  ASSERT_EQ_STR(x("json", "Result: {\"a\": [1, 2]} done"), "{\"a\": [1, 2]}");
  /* Braces inside strings do not count. */
  ASSERT_EQ_STR(x("json", "x {\"a\": \"}\"}"), "{\"a\": \"}\"}");
  ASSERT_EQ_STR(x("json", "not json {a: 1}"), "<none>");
  /* The last candidate fails to parse; the one before it is used. */
  ASSERT_EQ_STR(x("json", "[1,2] and {bad}"), "[1,2]");
  /* The outermost value that ends last. */
  ASSERT_EQ_STR(x("json", "{\"boxes\": [[1, 2, 3, 4]]}"), "{\"boxes\": [[1, 2, 3, 4]]}");
  ASSERT_EQ_STR(x("json", "]]]]}}}}"), "<none>");
}

TEST(none_mode) {
  ASSERT_EQ_STR(x("none", "  Paris \n"), "Paris");
  ASSERT_EQ_STR(x("none", ""), "<none>");
  ASSERT_EQ_STR(x("none", " \n\t "), "<none>");
}

TEST(auto_cascade) {
  /* Data README rule 1: the first source present wins, in the order
   * boxed, answer tag, "answer is", "Answer:", bold. */
  ASSERT_EQ_STR(x("auto", "<answer>5</answer> and \\boxed{6}"), "6");
  ASSERT_CONTAINS(explained(), "by boxed");
  ASSERT_EQ_STR(x("auto", "The answer is 4. <answer>5</answer>"), "5");
  ASSERT_EQ_STR(x("auto", "Answer: 6\nThe answer is 5"), "5");
  ASSERT_EQ_STR(x("auto", "**7** then Answer: 6"), "6");
  ASSERT_EQ_STR(x("auto", "so it is **7**"), "7");
  /* d-adv-05: the gold appears in the question; the box decides. */
  ASSERT_EQ_STR(x("auto", "(A) 8 (B) 10 (C) 12 (D) 14.\n$6 \\cdot 4 = 24$\n\n$\\boxed{14}$"), "14");
  ASSERT_EQ_STR(x("auto", "Let's solve this step by step."), "<none>");
  ASSERT_EQ_INT(last_status, RK_STATUS_UNPARSEABLE);
  ASSERT_CONTAINS(explained(),
                  "no answer found (tried boxed, answer_tag, answer_is, answer_line, bold)");
  /* With none after auto (exact's default), the whole response. */
  ASSERT_EQ_STR(x("auto,none", "  Paris "), "Paris");
  ASSERT_CONTAINS(explained(), "by none");
  /* A zero-initialised config means auto. */
  rk__extract_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  setup();
  budget.used = 0;
  budget.limit = 1000;
  rk__call c;
  memset(&c, 0, sizeof c);
  c.arena = &arena;
  c.budget = &budget;
  rk__str out;
  const char *how = NULL;
  const char *s = "Answer: 3";
  ASSERT_EQ_INT(rk__extract(&cfg, &c, rk__str_make(s, strlen(s)), &out, &how), RK_STATUS_OK);
  ASSERT_EQ_SPAN(out.p, out.n, "3");
  ASSERT_EQ_STR(how, "answer_line");
}

TEST(budget) {
  /* 10 KB of text, 100 steps: every mode gives up with a timeout. */
  static char big[10000];
  memset(big, 'a', sizeof big - 1);
  for (int m = 0; m < RK__EX__COUNT; m++) {
    const char *name = rk__ex_mode_name((rk__ex_mode)m);
    if (strcmp(xn(name, big, (size_t)-1, SIZE_MAX, 100), "<timeout>"))
      RK_T_FAIL_("mode %s did not time out", name);
  }
  /* A generous budget: not found, and the steps spent stay near 1/byte
   * per mode (auto runs 5 scans). */
  ASSERT_EQ_STR(xn("auto", big, (size_t)-1, 0, 1000000), "<none>");
  ASSERT_TRUE(budget.used <= 6 * sizeof big);
}

TEST(hostile_bytes) {
  /* Invalid UTF-8, NULs and lone markers must not crash any mode. */
  static const char junk[] =
      "\xff\xfe\\boxed{\xc3}\x00<answer>\x80</answer>#### \xe2\x88 **\xf0**"
      "```\xff\n```{\"a\":\"\xff\"}";
  for (int m = 0; m < RK__EX__COUNT; m++) {
    const char *name = rk__ex_mode_name((rk__ex_mode)m);
    const char *r = xn(name, junk, sizeof junk - 1, 0, 100000);
    ASSERT_TRUE(r != NULL);
  }
  ASSERT_EQ_STR(xn("boxed", junk, sizeof junk - 1, 0, 100000), "\xc3");
  ASSERT_EQ_STR(xn("answer_tag", junk, sizeof junk - 1, 0, 100000), "\x80");
}

TEST_MAIN(TEST_ENTRY(boxed_basic), TEST_ENTRY(boxed_malformed), TEST_ENTRY(answer_tag),
          TEST_ENTRY(answer_tag_custom), TEST_ENTRY(answer_is), TEST_ENTRY(answer_line),
          TEST_ENTRY(gsm8k_strict), TEST_ENTRY(gsm8k_flexible), TEST_ENTRY(last_number),
          TEST_ENTRY(bold), TEST_ENTRY(code_block), TEST_ENTRY(json_mode), TEST_ENTRY(none_mode),
          TEST_ENTRY(auto_cascade), TEST_ENTRY(budget), TEST_ENTRY(hostile_bytes))
