/*
 * test_math_rules.c - the `math` and `countdown` rewards construct by
 * construct: the parser's canonical forms, each equivalence rule of
 * docs/rewards/math.md on pairs whose labels were worked out by hand (the
 * arithmetic is in the comments), statuses, arguments, adversarial inputs
 * under a wall-clock bound, and the same answers from 1 and 2 threads.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "math/mexpr.h"
#include "rewardkit.h"
#include "test.h"

/* ------------------------------------------------------------ helpers */

typedef struct res {
  double reward;
  char status[32];
  char explain[2048];
  double ms;
} res;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Scores {"response": resp, "reference": gold, extra...} with spec. */
static res score_rec(const char *spec, json_t *rec) {
  res r;
  memset(&r, 0, sizeof r);
  r.reward = NAN;
  rk_spec *s = NULL;
  char err[256];
  if (rk_spec_compile(spec, strlen(spec), &s, err, sizeof err) != RK_OK) {
    snprintf(r.status, sizeof r.status, "spec-error");
    snprintf(r.explain, sizeof r.explain, "%s", err);
    return r;
  }
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  rk_ctx_create(&co, &ctx);
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.explain = 1;
  char *txt = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
  if (!txt) {
    snprintf(r.status, sizeof r.status, "no-record");
    rk_ctx_destroy(ctx);
    rk_spec_free(s);
    return r;
  }
  char *out = NULL;
  size_t on = 0;
  double t0 = now_ms();
  if (rk_score_one(ctx, s, &so, txt, strlen(txt), &out, &on) == RK_OK) {
    r.ms = now_ms() - t0;
    json_error_t je;
    json_t *o = json_loadb(out, on, 0, &je);
    if (o) {
      json_t *rw = json_object_get(o, "reward");
      r.reward = json_is_number(rw) ? json_number_value(rw) : NAN;
      snprintf(r.status, sizeof r.status, "%s", json_string_value(json_object_get(o, "status")));
      json_t *ex = json_object_get(o, "explain");
      const char *k;
      json_t *v;
      if (json_is_object(ex))
        json_object_foreach(ex, k, v) if (json_is_string(v))
            snprintf(r.explain, sizeof r.explain, "%s", json_string_value(v));
      json_decref(o);
    }
    rk_free(out);
  }
  free(txt);
  rk_ctx_destroy(ctx);
  rk_spec_free(s);
  return r;
}

static res mathc(const char *args, const char *gold, const char *resp) {
  char spec[512];
  snprintf(spec, sizeof spec, "{\"reward\": {\"fn\": \"math\"%s%s%s}}", args ? ", \"args\": " : "",
           args ? args : "", "");
  json_t *rec = json_pack("{s:s,s:s}", "response", resp, "reference", gold);
  res r = score_rec(spec, rec);
  json_decref(rec);
  return r;
}

/* Expect reward v (0/1) for the pair; prints the explanation on failure. */
#define EXPECT_MATH(args, gold, resp, v)                                              \
  do {                                                                                \
    res r_ = mathc(args, gold, resp);                                                 \
    double g_ = isnan(r_.reward) ? 0 : r_.reward;                                     \
    if (g_ != (v))                                                                    \
      RK_T_FAIL_("gold %s pred %s: want %d got %g (%s) %s", gold, resp, (int)(v),      \
                 r_.reward, r_.status, r_.explain);                                   \
  } while (0)

#define EXPECT_STATUS(args, gold, resp, st)                                           \
  do {                                                                                \
    res r_ = mathc(args, gold, resp);                                                 \
    if (strcmp(r_.status, st) != 0)                                                   \
      RK_T_FAIL_("gold %s pred %s: want status %s got %s: %s", gold, resp, st,        \
                 r_.status, r_.explain);                                              \
  } while (0)

/* Parses s and compares the canonical print with want ("!" = parse error). */
static void check_parse(const char *s, const char *want) {
  rk__arena a;
  rk__arena_init(&a, (size_t)64 << 20);
  rk__budget b = {0, 100000000};
  rk__call c;
  memset(&c, 0, sizeof c);
  c.arena = &a;
  c.budget = &b;
  mnode *m = NULL;
  char err[160];
  int rc = rk__math_parse(rk__str_make(s, strlen(s)), &c, &m, err, sizeof err);
  rk__buf out;
  rk__buf_init(&out, 4096);
  if (rc) rk__buf_printf(&out, "!");
  else rk__math_print(m, &out);
  if (strcmp(rk__buf_cstr(&out), want) != 0)
    RK_T_FAIL_("parse %s:\n    got:  %s (%s)\n    want: %s", s, rk__buf_cstr(&out), rc ? err : "",
               want);
  rk__buf_release(&out);
  rk__arena_release(&a);
}

/* ------------------------------------------------------------- parser */

TEST(parse_numbers) {
  check_parse("042", "042");
  check_parse("1,000", "1000");
  check_parse("1{,}234.5", "1234.5");
  check_parse("25 000", "25000");
  check_parse("1\\,000\\,000", "1000000");
  check_parse("1,2", "1, 2");         /* a group of one digit: a list */
  check_parse("1,000,00", "1, 000, 00"); /* not every group has 3 digits */
  check_parse("10.000", "10.000");    /* '.' is always a decimal point */
  check_parse(".5", "0.5");
  check_parse("1.5e3", "1.5e3");
  check_parse("3\\frac{1}{2}", "3 + 1/2"); /* mixed number */
  check_parse("2\\frac{x}{3}", "2*(x/3)");
  check_parse("\\frac12", "1/2");
  check_parse("\\tfrac34", "3/4");
  check_parse("\\frac1{23}", "1/23");
  check_parse("\\sqrt3", "sqrt(3)");
  check_parse("\\sqrt[3]{16}", "sqrt(16, 3)");
  check_parse("0.1\\overline{6}", "0.1(6)");
  check_parse("0.\\overline{3}", "0.(3)");
  check_parse("\\overline{3}", "!");
}

TEST(parse_operators) {
  check_parse("2\\cdot 3 \\times 4 \\div 6", "2*3*4/6");
  check_parse("a/b c", "a/b*c");
  check_parse("-x^2", "-x^2");
  check_parse("2^{-99}", "2^(-99)");
  check_parse("10^{10^{10}}", "10^10^10");
  check_parse("2^2^2", "!"); /* double superscript */
  check_parse("\\left( x+1 \\right)^2", "(x + 1)^2");
  check_parse("5!", "5!");
  check_parse("\\binom{5}{2}", "binom(5, 2)");
  check_parse("|x-1|", "abs(x - 1)");
  check_parse("\\lfloor x \\rfloor", "floor(x)");
  check_parse("x_1 + x_{12}", "x_1 + x_12");
  check_parse("\\alpha+\\beta", "alpha + beta");
}

TEST(parse_functions) {
  check_parse("\\sin^2 x + \\cos^2 x", "sin(x)^2 + cos(x)^2");
  check_parse("2\\sin x\\cos x", "2*sin(x)*cos(x)");
  check_parse("\\sin 2x", "sin(2*x)");
  check_parse("\\log_2 8", "log_2(8)");
  check_parse("\\ln(5)", "ln(5)");
  check_parse("\\sin^{-1} x", "asin(x)");
  check_parse("\\sin 60^\\circ", "sin(60deg)");
  check_parse("\\operatorname{sin} x", "sin(x)");
  check_parse("sqrt(2)", "sqrt(2)");
  check_parse("\\sin", "!");
}

TEST(parse_structures) {
  check_parse("(1, 2]", "(1, 2]");
  check_parse("\\left[ 1, 2 \\right)", "[1, 2)");
  check_parse("(1,2,3)", "(1, 2, 3)");
  check_parse("\\{3, 1\\}", "{3, 1}");
  check_parse("\\emptyset", "{}");
  check_parse("\\varnothing", "{}");
  check_parse("\\mathbb{R}", "R");
  check_parse("(-\\infty, 3) \\cup (4, \\infty)", "(-oo, 3) U (4, oo)");
  check_parse("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "[1, 2; 3, 4]");
  check_parse("\\begin{array}{cc} 1 & 2 \\end{array}", "[1, 2]");
  check_parse("-1 \\le x < 2", "-1 <= x < 2");
  check_parse("x \\in [0, 1]", "x in [0, 1]");
  check_parse("1 \\pm \\sqrt{2}", "1 +- sqrt(2)");
  check_parse("12 or 15 and 18", "12, 15, 18");
}

TEST(parse_units_text) {
  check_parse("5 \\text{ cm}", "5");
  check_parse("24 \\text{ cm}^2", "24");
  check_parse("5 cm", "5");
  check_parse("30^\\circ", "30deg");
  check_parse("\\$12", "12");
  check_parse("40 percent", "40%");
  check_parse("25\\%", "25%");
  check_parse("2t", "2*t");   /* a single letter is never a unit */
  check_parse("7 s", "7*s");
  check_parse("5 cm + 1", "5*c*m + 1"); /* not trailing: letters */
  check_parse("\\text{Tuesday}", "text:Tuesday");
  check_parse("\\mathrm{e}", "e");
  check_parse("\\text{13}", "13");
}

TEST(parse_malformed) {
  check_parse("\\frac{1}", "!");
  check_parse("\\frac{1}{2", "!");
  check_parse("\\sqrt{}3", "!");
  check_parse("((1, 2)", "!");
  check_parse("(1, 2))", "!");
  check_parse("\\begin{pmatrix} 1 & 2", "!");
  check_parse("3x+4y+14=", "!");
  check_parse("1 +", "!");
  check_parse("", "!");
  check_parse("\\foo{1}", "!");
  check_parse("\xff\xfe", "!");
}

/* -------------------------------------------------------- equivalence */

TEST(numbers_exact) {
  EXPECT_MATH(NULL, "\\frac{3}{8}", "\\boxed{0.375}", 1); /* 375/1000 = 3/8 */
  EXPECT_MATH(NULL, "\\frac{1}{3}", "\\boxed{0.333}", 0); /* 333/1000 != 1/3 */
  EXPECT_MATH(NULL, "8", "\\boxed{8.000}", 1);
  EXPECT_MATH(NULL, "2^{100}", "\\boxed{1267650600228229401496703205376}", 1);
  EXPECT_MATH(NULL, "2^{64}", "\\boxed{18446744073709551615}", 0); /* 2^64 - 1 */
  /* 1/2004! vs 1/2006!: differ by a factor 2005*2006 (Math-Verify #14) */
  EXPECT_MATH(NULL, "\\frac{1}{2004!}", "\\boxed{\\frac{1}{2006!}}", 0);
  /* (2^2005+1)/(3*2^2006) - 1/(3*2^2006) = 2^2005/(3*2^2006) = 1/6 */
  EXPECT_MATH(NULL, "\\frac{2^{2005}+1}{3\\cdot 2^{2006}}", "\\boxed{\\frac{1}{3\\cdot 2^{2006}}}", 0);
  EXPECT_MATH(NULL, "10^{-20}", "\\boxed{0}", 0);
  EXPECT_MATH(NULL, "1-10^{-30}", "\\boxed{0.999999999999999999999999999999}", 1); /* 30 nines */
  EXPECT_MATH(NULL, "\\binom{40}{20}", "\\boxed{137846528820}", 1);
  EXPECT_MATH(NULL, "3\\frac{1}{2}", "\\boxed{\\frac{7}{2}}", 1);
  EXPECT_MATH(NULL, "-\\frac{3}{4}", "\\boxed{-0.75}", 1);
  EXPECT_MATH(NULL, "\\lfloor 2.5 \\rfloor", "\\boxed{2}", 1);
  EXPECT_MATH(NULL, "\\sqrt[3]{-8}", "\\boxed{-2}", 1);
  EXPECT_MATH(NULL, "8^{2/3}", "\\boxed{4}", 1); /* (8^(1/3))^2 = 4 */
  /* 0.1(6) = 1/10 + 6/90 = 15/90 = 1/6; 0.(9) = 9/9 = 1 */
  EXPECT_MATH(NULL, "\\frac{1}{6}", "\\boxed{0.1\\overline{6}}", 1);
  EXPECT_MATH(NULL, "0.6", "\\boxed{0.1\\overline{6}}", 0);
  EXPECT_MATH(NULL, "1", "\\boxed{0.\\overline{9}}", 1);
}

TEST(numbers_irrational) {
  EXPECT_MATH(NULL, "2\\sqrt{2}", "\\boxed{\\sqrt{8}}", 1);
  EXPECT_MATH(NULL, "\\sqrt{2}+\\sqrt{3}", "\\boxed{\\sqrt{5+2\\sqrt{6}}}", 1); /* squares: 5+2sqrt6 */
  EXPECT_MATH(NULL, "\\sqrt{7}", "\\boxed{2.6458}", 0);
  EXPECT_MATH(NULL, "2\\pi", "\\boxed{6.28}", 0);
  EXPECT_MATH(NULL, "\\frac{\\sqrt{3}}{2}", "\\boxed{\\sin 60^\\circ}", 1);
  EXPECT_MATH(NULL, "1", "\\boxed{\\sin^2 3 + \\cos^2 3}", 1);
  EXPECT_MATH(NULL, "0", "\\boxed{\\sin \\pi}", 1);
  EXPECT_MATH(NULL, "0", "\\boxed{e^{-1000}}", 0); /* tiny but not zero */
  EXPECT_MATH(NULL, "4\\sqrt{2}", "\\boxed{4}", 0);     /* Math-Verify #41 */
  EXPECT_MATH(NULL, "\\log_2 5", "\\boxed{\\frac{\\ln 5}{\\ln 2}}", 1);
  EXPECT_MATH(NULL, "i", "\\boxed{\\sqrt{-1}}", 1);
  EXPECT_MATH(NULL, "\\frac{1}{1+i}", "\\boxed{\\frac{1-i}{2}}", 1); /* (1-i)/((1+i)(1-i)) */
}

TEST(decimal_rules) {
  EXPECT_MATH(NULL, "0.667", "\\boxed{\\frac{2}{3}}", 1); /* 2/3 = 0.6666.. -> 0.667 */
  EXPECT_MATH(NULL, "0.67", "\\boxed{0.667}", 0);         /* decimals never rounded */
  EXPECT_MATH(NULL, "0.63", "\\boxed{\\frac{5}{8}}", 0);  /* 5/8 = 0.625 terminates */
  EXPECT_MATH(NULL, "3.14", "\\boxed{\\pi}", 1);          /* 3.14159.. -> 3.14 */
  EXPECT_MATH(NULL, "3.15", "\\boxed{\\pi}", 0);
  /* float_rounding parity: both rounded to 2 places */
  EXPECT_MATH("{\"float_rounding\": 2}", "\\frac{1}{3}", "\\boxed{0.333}", 1);
  EXPECT_MATH("{\"float_rounding\": 6}", "\\frac{1}{3}", "\\boxed{0.333}", 0);
  EXPECT_MATH("{\"tolerance\": 0.01}", "100", "\\boxed{100.5}", 1); /* 0.5/100.5 < 1% */
  EXPECT_MATH("{\"tolerance\": 0.001}", "100", "\\boxed{100.5}", 0);
}

TEST(percent_units) {
  EXPECT_MATH(NULL, "25", "\\boxed{25\\%}", 1);
  EXPECT_MATH(NULL, "0.25", "\\boxed{25\\%}", 1);
  EXPECT_MATH(NULL, "25", "\\boxed{0.25}", 0);
  EXPECT_MATH(NULL, "5", "\\boxed{500}", 0);
  EXPECT_MATH(NULL, "20\\%", "\\boxed{2\\%}", 0);
  EXPECT_MATH("{\"strict\": true}", "25", "\\boxed{25\\%}", 0); /* strict: only /100 */
  EXPECT_MATH(NULL, "5", "\\boxed{5\\text{ meters}}", 1);
  EXPECT_MATH(NULL, "2", "\\boxed{2t}", 0);
  EXPECT_MATH(NULL, "3", "\\boxed{3h}", 0);
  EXPECT_MATH(NULL, "12", "\\boxed{12 more}", 0);
  EXPECT_MATH(NULL, "30", "\\boxed{30^{\\circ}}", 1);
  EXPECT_MATH(NULL, "7", "\\boxed{7\\text{ s}}", 1); /* a \\text wrapper is a unit */
  EXPECT_MATH(NULL, "7", "\\boxed{7\\mbox{s}}", 1);
  EXPECT_MATH(NULL, "36", "\\boxed{36\\ \\text{square units}}", 1);
  EXPECT_MATH(NULL, "12", "The answer is $12$ apples.", 1); /* the $...$ segment */
}

TEST(structures) {
  EXPECT_MATH(NULL, "[1,2)", "\\boxed{(1,2]}", 0);
  EXPECT_MATH(NULL, "(1,2)", "\\boxed{(2,1)}", 0);
  EXPECT_MATH(NULL, "(-1,4)", "\\boxed{[-1,4]}", 0);
  EXPECT_MATH(NULL, "x \\le 3", "\\boxed{(-\\infty, 3]}", 1);
  EXPECT_MATH(NULL, "x \\le 3", "\\boxed{(-\\infty, 3)}", 0);
  EXPECT_MATH(NULL, "x > 5", "\\boxed{5 < x}", 1);
  EXPECT_MATH(NULL, "x<-2 \\text{ or } x>3", "\\boxed{(3,\\infty)\\cup(-\\infty,-2)}", 1);
  /* interval gold, inequality pred: refused unless allow_set_relation */
  EXPECT_MATH(NULL, "(-\\infty, 3]", "\\boxed{x \\le 3}", 0);
  EXPECT_MATH("{\"allow_set_relation\": true}", "(-\\infty, 3]", "\\boxed{x \\le 3}", 1);
  EXPECT_MATH(NULL, "\\{1,2,3\\}", "\\boxed{3, 1, 2}", 1);
  EXPECT_MATH(NULL, "1 \\pm \\sqrt{2}", "\\boxed{1-\\sqrt2, 1+\\sqrt2}", 1);
  EXPECT_MATH(NULL, "\\begin{pmatrix} 2 \\\\ -1 \\end{pmatrix}", "\\boxed{\\begin{pmatrix} 2 & -1 \\end{pmatrix}}", 0);
  EXPECT_MATH(NULL, "\\begin{pmatrix} -2 & 1 \\end{pmatrix}", "\\boxed{-\\begin{bmatrix} 2 & -1 \\end{bmatrix}}", 1);
  EXPECT_MATH(NULL, "(2,5)", "\\boxed{(a,b)=(2,5)}", 1);
}

TEST(equations_symbolic) {
  EXPECT_MATH(NULL, "3x+4y+14=0", "\\boxed{0}", 0);
  EXPECT_MATH(NULL, "3x+4y+14=0", "\\boxed{3x-1y+13=0}", 0); /* Math-Verify #60 */
  EXPECT_MATH(NULL, "3x+4y+14=0", "\\boxed{-6x-8y=28}", 1); /* times -2 */
  EXPECT_MATH(NULL, "x=3", "\\boxed{3}", 1);
  EXPECT_MATH(NULL, "3", "\\boxed{x=3}", 1);
  EXPECT_MATH(NULL, "x=3", "\\boxed{y=3}", 0);
  EXPECT_MATH(NULL, "y=2x+1", "\\boxed{2x+1}", 0); /* gold is not v = constant */
  EXPECT_MATH(NULL, "x^2-1", "\\boxed{(x-1)(x+1)}", 1);
  EXPECT_MATH(NULL, "\\frac{1}{x-1}-\\frac{1}{x+1}", "\\boxed{\\frac{2}{x^2-1}}", 1);
  EXPECT_MATH(NULL, "x", "\\boxed{\\sqrt{x^2}}", 0);
  EXPECT_MATH(NULL, "|x|", "\\boxed{\\sqrt{x^2}}", 1);
  EXPECT_MATH(NULL, "\\tan x", "\\boxed{\\cot x}", 0);
  /* domains: a removable point is tolerated, a half-line is not */
  EXPECT_MATH(NULL, "\\frac{x^2-1}{x-1}", "\\boxed{x+1}", 1);
  EXPECT_MATH(NULL, "\\ln(x^2)", "\\boxed{2\\ln |x|}", 1);
  EXPECT_MATH(NULL, "\\ln(x^2)", "\\boxed{2\\ln x}", 0);
  EXPECT_MATH(NULL, "2x+1", "\\boxed{f(x) = 2x+1}", 1);
  EXPECT_MATH(NULL, "5", "\\boxed{AB = 5}", 1);
}

TEST(extraction_and_text) {
  EXPECT_MATH(NULL, "\\{-1,1\\}", "so $x = \\boxed{1}$ and $x = \\boxed{-1}$.", 1);
  EXPECT_MATH(NULL, "12", "either $\\boxed{12}$ or $\\boxed{15}$", 0);
  EXPECT_MATH(NULL, "4", "$\\boxed{3}$. Hmm, wait: recounting gives $\\boxed{4}$.", 1);
  EXPECT_MATH("{\"several_boxes\": false}", "15", "$\\boxed{12}$ or $\\boxed{15}$", 1);
  EXPECT_MATH(NULL, "42", "So the final answer is **42**.", 1);
  EXPECT_MATH(NULL, "7", "<think>3+4</think><answer>7</answer>", 1);
  EXPECT_MATH(NULL, "B", "\\boxed{\\textbf{(B)}\\ 24}", 1);
  EXPECT_MATH(NULL, "A", "\\boxed{A, C}", 0);
  EXPECT_MATH(NULL, "A", "\\boxed{(A) (B) (C)}", 0);  /* listing options */
  EXPECT_MATH(NULL, "A", "The answer is (A) or (B).", 0);
  EXPECT_MATH(NULL, "A", "\\boxed{A}\\boxed{B}", 0);
  EXPECT_MATH(NULL, "12", "\\boxed{\\text{The answer is 12}}", 0);
  EXPECT_MATH(NULL, "3x+4y+14=0", "\\boxed{0=0}", 0);
  EXPECT_MATH(NULL, "x \\le 3", "\\boxed{x \\le 3 \\text{ or } x > 3}", 0);
  EXPECT_MATH(NULL, "5", "\\boxed{\\frac{0}{0}}", 0);
  EXPECT_MATH(NULL, "Tuesday", "\\boxed{\\text{tuesday}}", 1);
  EXPECT_MATH(NULL, "12", "\\boxed{\\text{correct}}", 0);
  /* a reference stored as a whole solution: its last box */
  EXPECT_MATH(NULL, "Adding, $2+3=5$, so the answer is $\\boxed{5}$.", "\\boxed{5}", 1);
  EXPECT_MATH(NULL, "Adding, $2+3=5$, so the answer is $\\boxed{5}$.", "\\boxed{3}", 0);
  /* several references: any match */
  json_t *rec = json_pack("{s:s,s:[s,s]}", "response", "\\boxed{0.5}", "reference", "7", "\\frac12");
  res r = score_rec("{\"reward\": {\"fn\": \"math\"}}", rec);
  ASSERT_NEAR(r.reward, 1, 0);
  json_decref(rec);
}

TEST(statuses) {
  EXPECT_STATUS(NULL, "12", "no final answer here", "unparseable");
  EXPECT_STATUS(NULL, "12", "\\boxed{}", "unparseable");
  EXPECT_STATUS(NULL, "12", "\\boxed{\\frac{1}}", "unparseable");
  EXPECT_STATUS(NULL, "\\frac{1}", "\\boxed{12}", "invalid_reference");
  EXPECT_STATUS(NULL, "", "\\boxed{12}", "invalid_reference");
  EXPECT_STATUS(NULL, "12", "\\boxed{13}", "ok");
  res r = mathc(NULL, "\\frac{1}{2}", "\\boxed{0.5}");
  ASSERT_CONTAINS(r.explain, "extracted '0.5' by boxed");
  ASSERT_CONTAINS(r.explain, "parsed as 1/2");
  ASSERT_CONTAINS(r.explain, "equal");
  char err[256];
  rk_spec *s = NULL;
  const char *bad = "{\"reward\": {\"fn\": \"math\", \"args\": {\"tolerance\": \"x\"}}}";
  ASSERT_TRUE(rk_spec_compile(bad, strlen(bad), &s, err, sizeof err) != RK_OK);
  ASSERT_CONTAINS(err, "tolerance");
}

/* ---------------------------------------------------------- adversarial */

static char *rep(const char *pre, const char *unit, int n, const char *mid, const char *unit2,
                 const char *post) {
  size_t l = strlen(pre) + (strlen(unit) + strlen(unit2)) * (size_t)n + strlen(mid) + strlen(post) + 1;
  char *s = malloc(l), *p = s;
  p += sprintf(p, "%s", pre);
  for (int i = 0; i < n; i++) p += sprintf(p, "%s", unit);
  p += sprintf(p, "%s", mid);
  for (int i = 0; i < n; i++) p += sprintf(p, "%s", unit2);
  sprintf(p, "%s", post);
  return s;
}

/* Every hostile input ends in a few ms with a status, never a crash. */
#define EXPECT_FAST(gold, resp)                                                          \
  do {                                                                                   \
    res r_ = mathc(NULL, gold, resp);                                                    \
    if (r_.ms > 50 || r_.status[0] == 0)                                                 \
      RK_T_FAIL_("%.40s: %.3f ms status '%s'", resp, r_.ms, r_.status);                  \
  } while (0)

TEST(adversarial) {
  char *s;
  s = rep("\\boxed{", "(", 10000, "1", ")", "}");
  EXPECT_FAST("1", s);
  EXPECT_STATUS(NULL, "1", s, "timeout");
  free(s);
  s = rep("\\boxed{", "{", 10000, "1", "}", "}");
  EXPECT_FAST("1", s);
  free(s);
  s = rep("\\boxed{", "\\frac{1}{", 3000, "2", "}", "}");
  EXPECT_FAST("1", s);
  free(s);
  s = rep("\\boxed{", "\\sqrt{", 3000, "2", "}", "}");
  EXPECT_FAST("1", s);
  free(s);
  EXPECT_FAST("5", "\\boxed{10^{10^{10}}}");
  EXPECT_MATH(NULL, "5", "\\boxed{10^{10^{10}}}", 0);
  EXPECT_FAST("9", "\\boxed{9^{9^{9}}}");
  EXPECT_FAST("1", "\\boxed{(10^{9})!}");
  EXPECT_FAST("1", "\\boxed{2^{2^{64}}}");
  EXPECT_FAST("1", "\\boxed{\\binom{100000}{50000}}");
  s = rep("\\boxed{1", "0", 100000, "", "", "}");
  EXPECT_FAST("1", s);
  free(s);
  s = rep("\\boxed{\\frac{1", "0", 100000, "}{3", "", "}}");
  EXPECT_FAST("1", s);
  free(s);
  s = rep("", "$\\boxed{7}$ and ", 1000, "", "", "");
  EXPECT_FAST("7", s);
  EXPECT_MATH(NULL, "7", s, 1); /* 1000 equal boxes: the set {7} */
  free(s);
  s = rep("\\boxed{\\frac{1}{2}", "{", 50000, "", "", "");
  EXPECT_FAST("1", s);
  free(s);
  s = rep("\\boxed{", "\\pm 1", 40, "", "", "}");
  EXPECT_FAST("1", s);
  free(s);
  s = rep("\\boxed{", "x+", 30000, "1", "", "}");
  EXPECT_FAST("1", s);
  free(s);
  /* Invalid UTF-8 cannot reach a reward through JSON records (the reader
   * rejects it); parse_malformed and fuzz_math feed it to the parser. */
}

/* ------------------------------------------------------------ threads */

TEST(threads_agree) {
  const char *spec = "{\"reward\": {\"fn\": \"math\"}}";
  rk_spec *s = NULL;
  char err[256];
  ASSERT_EQ_INT(rk_spec_compile(spec, strlen(spec), &s, err, sizeof err), RK_OK);
  enum { N = 400 };
  static char bufs[N][128];
  const char *recs[N];
  size_t lens[N];
  static const char *pairs[][2] = {{"\\\\frac{1}{2}", "\\\\boxed{0.5}"},
                                   {"2\\\\sqrt{2}", "\\\\boxed{\\\\sqrt{8}}"},
                                   {"x^2-1", "\\\\boxed{(x-1)(x+1)}"},
                                   {"\\\\frac13", "\\\\boxed{0.333}"}};
  for (int i = 0; i < N; i++) {
    snprintf(bufs[i], sizeof bufs[i], "{\"reference\": \"%s\", \"response\": \"%s\"}", pairs[i % 4][0],
             pairs[i % 4][1]);
    recs[i] = bufs[i];
    lens[i] = strlen(bufs[i]);
  }
  for (unsigned th = 1; th <= 2; th++) {
    rk_ctx *ctx = NULL;
    rk_ctx_options co = {th};
    ASSERT_EQ_INT(rk_ctx_create(&co, &ctx), RK_OK);
    rk_batch *b = NULL;
    ASSERT_EQ_INT(rk_score_batch(ctx, s, NULL, recs, lens, N, &b), RK_OK);
    for (int i = 0; i < N; i++) {
      double want = (i % 4) == 3 ? 0 : 1;
      if (rk_batch_reward(b, (size_t)i) != want) {
        RK_T_FAIL_("threads %u record %d: %g", th, i, rk_batch_reward(b, (size_t)i));
        break;
      }
    }
    rk_batch_free(b);
    rk_ctx_destroy(ctx);
  }
  rk_spec_free(s);
}

/* ---------------------------------------------------------- countdown */

static res cd(const char *args, const char *resp, int target, const char *nums) {
  char spec[256], rec[1024];
  snprintf(spec, sizeof spec, "{\"reward\": {\"fn\": \"countdown\"%s%s}}", args ? ", \"args\": " : "",
           args ? args : "");
  json_t *r = json_pack("{s:s,s:{s:i,s:o}}", "response", resp, "reference", "target", target, "numbers",
                        json_loads(nums, 0, NULL));
  (void)rec;
  res out = score_rec(spec, r);
  json_decref(r);
  return out;
}

TEST(countdown) {
  /* 8/(3-8/3) = 8/(1/3) = 24: needs exact rationals */
  ASSERT_NEAR(cd(NULL, "<answer>8/(3-8/3)</answer>", 24, "[3,3,8,8]").reward, 1, 0);
  ASSERT_NEAR(cd(NULL, "<answer>(1+2+3)*4</answer>", 24, "[1,2,3,4]").reward, 1, 0);
  ASSERT_NEAR(cd(NULL, "<answer>(1+2+3)*4 = 24</answer>", 24, "[1,2,3,4]").reward, 1, 0);
  ASSERT_NEAR(cd(NULL, "<answer>1*2*3*4</answer>", 24, "[4,3,2,1]").reward, 1, 0);
  ASSERT_NEAR(cd(NULL, "<answer>(1+2)*8</answer>", 24, "[1,2,3,4]").reward, 0, 0); /* 8 not given */
  ASSERT_NEAR(cd(NULL, "<answer>4*3*2</answer>", 24, "[1,2,3,4]").reward, 0, 0);   /* 1 unused */
  ASSERT_NEAR(cd("{\"use_all\": false}", "<answer>4*3*2</answer>", 24, "[1,2,3,4]").reward, 1, 0);
  ASSERT_NEAR(cd(NULL, "<answer>4*4+4+4</answer>", 24, "[4,4,2,1]").reward, 0, 0); /* 4 twice */
  ASSERT_NEAR(cd("{\"reuse\": true, \"use_all\": false}", "<answer>4*4+4+4</answer>", 24, "[4]").reward, 1, 0);
  ASSERT_NEAR(cd(NULL, "<answer>1+2+3+4</answer>", 24, "[1,2,3,4]").reward, 0, 0); /* = 10 */
  ASSERT_NEAR(cd("{\"format_score\": 0.1}", "<answer>1+2+3+4</answer>", 24, "[1,2,3,4]").reward, 0.1, 1e-12);
  res r = cd(NULL, "<answer>2(3+4)</answer>", 14, "[2,3,4]");
  ASSERT_EQ_STR(r.status, "unparseable");
  r = cd(NULL, "<answer>2^3*3</answer>", 24, "[2,3,3]");
  ASSERT_EQ_STR(r.status, "unparseable");
  r = cd(NULL, "<answer>1/(2-2)</answer>", 24, "[1,2,2]");
  ASSERT_NEAR(r.reward, 0, 0);
  ASSERT_CONTAINS(r.explain, "no exact value");
  r = cd(NULL, "<answer>1+2+3+4</answer>", 24, "[1,2,3,4]");
  ASSERT_CONTAINS(r.explain, "evaluates to 10");
}

TEST_MAIN(TEST_ENTRY(parse_numbers), TEST_ENTRY(parse_operators), TEST_ENTRY(parse_functions),
          TEST_ENTRY(parse_structures), TEST_ENTRY(parse_units_text), TEST_ENTRY(parse_malformed),
          TEST_ENTRY(numbers_exact), TEST_ENTRY(numbers_irrational), TEST_ENTRY(decimal_rules),
          TEST_ENTRY(percent_units), TEST_ENTRY(structures), TEST_ENTRY(equations_symbolic),
          TEST_ENTRY(extraction_and_text), TEST_ENTRY(statuses), TEST_ENTRY(adversarial),
          TEST_ENTRY(threads_agree), TEST_ENTRY(countdown))
