/*
 * test_model_formulas.c - the arithmetic of model-based rewards
 * (src/model/formulas.c) on values derived by hand (arithmetic in the
 * comments) or, where marked "python:", by an independent few-line Python
 * computation run outside the test (the projection-matrix form of VLM-RM,
 * splitmix64, the seeded FNV-1a). Text parsers get exact-length heap copies of their
 * input, without a NUL, so that ASan catches any read past n.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "model/formulas.h"
#include "test.h"

#define SQRT1_2 0.70710678118654752440 /* 1/sqrt(2) */

/* An exact-length heap copy of z (no terminator). Freed by unheap(). */
static rk__str heap(const char *z) {
  size_t n = strlen(z);
  char *p = malloc(n ? n : 1);
  if (n) memcpy(p, z, n);
  return rk__str_make(p, n);
}
static void unheap(rk__str s) { free((void *)s.p); }

/* ---------------------------------------------------------------- P(yes) */

static const char *const YES[] = {"yes", NULL};
static const char *const NO[] = {"no", NULL};

static rk__toplp tl(const char *tok, double lp) {
  rk__toplp t = {rk__str_make(tok, strlen(tok)), lp};
  return t;
}

TEST(pyes_variants) {
  /* Yes=-0.1, " yes"=-2.3, No=-2.0, plus unrelated "Maybe":
   * (e^-0.1 + e^-2.3) / (e^-0.1 + e^-2.3 + e^-2.0)
   * = (0.904837418 + 0.100258844) / (1.005096262 + 0.135335283)
   * = 0.88132976167617 */
  rk__toplp top[] = {tl("Yes", -0.1), tl(" yes", -2.3), tl("No", -2.0), tl("Maybe", -3.0)};
  double p, my, mn;
  ASSERT_EQ_INT(rk__pyes(top, 4, YES, NO, &p, &my, &mn), 0);
  ASSERT_NEAR(p, 0.881329761676172, 1e-12);
  ASSERT_NEAR(my, exp(-0.1) + exp(-2.3), 1e-15);
  ASSERT_NEAR(mn, exp(-2.0), 1e-15);
}

TEST(pyes_markers_and_case) {
  /* "\xe2\x96\x81YES" (SentencePiece U+2581) and "\xc4\xa0No\n" (GPT-2
   * U+0120): e^-0.5 / (e^-0.5 + e^-1.2) = 0.60653066 / (0.60653066 +
   * 0.30119421) = 0.66818777216817 */
  rk__toplp top[] = {tl("\xe2\x96\x81YES", -0.5), tl("\xc4\xa0No\n", -1.2)};
  double p;
  ASSERT_EQ_INT(rk__pyes(top, 2, YES, NO, &p, NULL, NULL), 0);
  ASSERT_NEAR(p, 0.668187772168166, 1e-12);
  /* A marker inside the word is not stripped: "y\xe2\x96\x81es" is no yes. */
  rk__toplp in[] = {tl("y\xe2\x96\x81" "es", -0.1), tl("no", -1.0)};
  ASSERT_EQ_INT(rk__pyes(in, 2, YES, NO, &p, NULL, NULL), 0);
  ASSERT_NEAR(p, 0.0, 0);
}

TEST(pyes_clamped_and_duplicates) {
  /* vLLM's -9999 is probability 0: yes = e^-0.3, no = 0 + e^-9999 -> p = 1. */
  rk__toplp a[] = {tl("yes", -0.3), tl("no", -9999), tl("No", -1e9)};
  double p, my, mn;
  ASSERT_EQ_INT(rk__pyes(a, 3, YES, NO, &p, &my, &mn), 0);
  ASSERT_NEAR(p, 1.0, 0);
  ASSERT_NEAR(mn, 0.0, 0);
  /* "Yes" listed twice counts once: e^-1 / (e^-1 + e^-1) = 0.5 (counted
   * twice it would be 2/3). */
  rk__toplp b[] = {tl("Yes", -1.0), tl("No", -1.0), tl("Yes", -1.0)};
  ASSERT_EQ_INT(rk__pyes(b, 3, YES, NO, &p, &my, NULL), 0);
  ASSERT_NEAR(p, 0.5, 1e-15);
  ASSERT_NEAR(my, exp(-1.0), 1e-15);
  /* "Yes" and " Yes" are different tokens: both count,
   * 2e^-1 / (2e^-1 + e^-1) = 2/3. */
  rk__toplp c[] = {tl("Yes", -1.0), tl(" Yes", -1.0), tl("No", -1.0)};
  ASSERT_EQ_INT(rk__pyes(c, 3, YES, NO, &p, NULL, NULL), 0);
  ASSERT_NEAR(p, 2.0 / 3.0, 1e-15);
}

TEST(pyes_none) {
  rk__toplp a[] = {tl("Maybe", -0.1), tl("The", -1.0)};
  double p = 0;
  ASSERT_EQ_INT(rk__pyes(a, 2, YES, NO, &p, NULL, NULL), -1);
  ASSERT_TRUE(isnan(p));
  ASSERT_EQ_INT(rk__pyes(NULL, 0, YES, NO, &p, NULL, NULL), -1);
  /* Only clamped variants: 0 / 0 is undefined, reported as none. */
  rk__toplp b[] = {tl("yes", -9999), tl("no", -99999)};
  ASSERT_EQ_INT(rk__pyes(b, 2, YES, NO, &p, NULL, NULL), -1);
  ASSERT_TRUE(isnan(p));
  /* Only a no: p = 0. */
  rk__toplp c[] = {tl("no", -0.2)};
  ASSERT_EQ_INT(rk__pyes(c, 1, YES, NO, &p, NULL, NULL), 0);
  ASSERT_NEAR(p, 0.0, 0);
}

/* ----------------------------------------------------- likelihood aggregates */

TEST(lp_modes) {
  const double l[] = {-0.5, -1.0, -2.0};
  /* sum = -3.5 */
  ASSERT_NEAR(rk__lp_aggregate(l, 3, RK__LP_SUM, -100), -3.5, 1e-15);
  /* mean log = -3.5/3 = -1.16666666666667 */
  ASSERT_NEAR(rk__lp_aggregate(l, 3, RK__LP_MEAN_LOG, -100), -3.5 / 3, 1e-15);
  /* mean prob = (0.60653066 + 0.36787944 + 0.13533528)/3 = 0.36991512804023 */
  ASSERT_NEAR(rk__lp_aggregate(l, 3, RK__LP_MEAN_PROB, -100), 0.36991512804022947, 1e-15);
  /* prod = e^-3.5 = 0.0301973834223185 */
  ASSERT_NEAR(rk__lp_aggregate(l, 3, RK__LP_PROD, -100), 0.0301973834223185, 1e-15);
  /* geometric mean = e^(-3.5/3) = 0.311403223914598 */
  ASSERT_NEAR(rk__lp_aggregate(l, 3, RK__LP_GEO_MEAN, -100), 0.3114032239145977, 1e-15);
}

TEST(lp_empty_and_floor) {
  /* RLPR: an empty span scores 0, in every mode (not exp(0) = 1). */
  ASSERT_NEAR(rk__lp_aggregate(NULL, 0, RK__LP_SUM, -100), 0.0, 0);
  ASSERT_NEAR(rk__lp_aggregate(NULL, 0, RK__LP_MEAN_LOG, -100), 0.0, 0);
  ASSERT_NEAR(rk__lp_aggregate(NULL, 0, RK__LP_MEAN_PROB, -100), 0.0, 0);
  ASSERT_NEAR(rk__lp_aggregate(NULL, 0, RK__LP_PROD, -100), 0.0, 0);
  ASSERT_NEAR(rk__lp_aggregate(NULL, 0, RK__LP_GEO_MEAN, -100), 0.0, 0);
  /* [-0.5, -inf, NaN] floored at -100: sum = -0.5 - 100 - 100 = -200.5 */
  const double l[] = {-0.5, -INFINITY, NAN};
  ASSERT_NEAR(rk__lp_aggregate(l, 3, RK__LP_SUM, -100), -200.5, 1e-12);
  /* mean log = -200.5/3 = -66.8333... */
  ASSERT_NEAR(rk__lp_aggregate(l, 3, RK__LP_MEAN_LOG, -100), -200.5 / 3, 1e-12);
  /* mean prob = (e^-0.5 + 2 e^-100)/3 = 0.20217688 (e^-100 ~ 3.7e-44) */
  ASSERT_NEAR(rk__lp_aggregate(l, 3, RK__LP_MEAN_PROB, -100), exp(-0.5) / 3, 1e-15);
  /* A floor above a value raises it: [-0.5, -3] floored at -1: sum -1.5 */
  const double m[] = {-0.5, -3.0};
  ASSERT_NEAR(rk__lp_aggregate(m, 2, RK__LP_SUM, -1), -1.5, 1e-15);
}

TEST(bf16) {
  /* 1/3 as float32 = 0x3EAAAAAB; dropped 0xAAAB > 0x8000 -> up: 0x3EAB
   * = 2^-2 * (1 + 43/128) = 0.333984375 */
  ASSERT_NEAR(rk__round_bf16(1.0 / 3.0), 0.333984375, 0);
  /* 0.1f = 0x3DCCCCCD; 0xCCCD > 0x8000 -> 0x3DCD = 2^-4 (1 + 77/128)
   * = 0.10009765625 */
  ASSERT_NEAR(rk__round_bf16(0.1), 0.10009765625, 0);
  ASSERT_NEAR(rk__round_bf16(1.0), 1.0, 0);
  ASSERT_NEAR(rk__round_bf16(0.0), 0.0, 0);
  /* Ties: 1 + 2^-8 = 0x3F808000, kept 0x3F80 is even -> stays 1.0;
   * 1 + 3*2^-8 = 0x3F818000, kept 0x3F81 is odd -> 0x3F82 = 1 + 2/128 */
  ASSERT_NEAR(rk__round_bf16(1.0 + 1.0 / 256), 1.0, 0);
  ASSERT_NEAR(rk__round_bf16(1.0 + 3.0 / 256), 1.015625, 0);
  ASSERT_NEAR(rk__round_bf16(-(1.0 + 3.0 / 256)), -1.015625, 0);
  /* Just above the tie rounds up: 1 + 2^-8 + 2^-20 -> 1 + 1/128 */
  ASSERT_NEAR(rk__round_bf16(1.0 + 1.0 / 256 + 1.0 / 1048576), 1.0078125, 0);
  ASSERT_TRUE(isnan(rk__round_bf16(NAN)));
  /* Past the largest bfloat16 (0x7F7F = 3.3895e38) rounds to infinity. */
  ASSERT_TRUE(isinf(rk__round_bf16(3.4e38)));
  ASSERT_TRUE(isinf(rk__round_bf16(-1e300)) && rk__round_bf16(-1e300) < 0);
}

TEST(rlpr_debias) {
  ASSERT_NEAR(rk__rlpr_debias(0.7, 0.4), 0.3, 1e-15); /* 0.7 - 0.4 */
  ASSERT_NEAR(rk__rlpr_debias(0.4, 0.7), 0.0, 0);     /* max(-0.3, 0) */
  ASSERT_TRUE(!signbit(rk__rlpr_debias(0.5, 0.5)));
}

TEST(sar) {
  double r = 0;
  /* lp_q = [-0.5, -0.5]: ppl(a|q) = e^0.5 = 1.64872127;
   * lp_noq = [-1, -1]: ppl(a) = e^1 = 2.71828183;
   * (2.71828183 - 1.64872127) / (2.71828183 + 1e-9) = 0.39346934014 */
  const double q[] = {-0.5, -0.5}, nq[] = {-1.0, -1.0};
  ASSERT_EQ_INT(rk__sar(q, 2, nq, 2, &r), 0);
  ASSERT_NEAR(r, 0.39346934014261725, 1e-12);
  /* The query makes the answer less likely: ppl(a|q) = e^3 = 20.0855,
   * ppl(a) = e^0.5 = 1.6487: (1.6487 - 20.0855)/1.6487 = -11.18 -> -1 */
  const double q2[] = {-3.0}, nq2[] = {-0.5};
  ASSERT_EQ_INT(rk__sar(q2, 1, nq2, 1, &r), 0);
  ASSERT_NEAR(r, -1.0, 0);
  /* Equal: 0 */
  ASSERT_EQ_INT(rk__sar(q, 2, q, 2, &r), 0);
  ASSERT_NEAR(r, 0.0, 0);
  /* A clamped -9999 without the query: ppl(a) = e^9999 overflows; the
   * ratio 1 - e^(0.5 - 9999) is 1, not inf/inf. */
  const double big[] = {-9999.0};
  ASSERT_EQ_INT(rk__sar(q, 2, big, 1, &r), 0);
  ASSERT_NEAR(r, 1.0, 1e-15);
  ASSERT_EQ_INT(rk__sar(q, 0, nq, 2, &r), -1);
  ASSERT_EQ_INT(rk__sar(q, 2, nq, 0, &r), -1);
}

/* ---------------------------------------------------------------- vectors */

TEST(cosine) {
  const double a[] = {1, 0, 0}, b[] = {0, 2, 0}, c[] = {1, 2, 3}, d[] = {2, 4, 6},
               e[] = {-1, -2, -3}, z[] = {0, 0, 0};
  ASSERT_NEAR(rk__cosine(a, b, 3), 0.0, 0);   /* orthogonal */
  ASSERT_NEAR(rk__cosine(c, d, 3), 1.0, 1e-15); /* parallel: 28/(sqrt14 sqrt56) */
  ASSERT_NEAR(rk__cosine(c, e, 3), -1.0, 1e-15);
  ASSERT_NEAR(rk__cosine(a, z, 3), 0.0, 0);   /* zero vector: 0 */
  ASSERT_NEAR(rk__cosine(z, z, 3), 0.0, 0);
  /* (1,0).(1,1) / sqrt2 = 0.70710678 */
  const double u[] = {1, 0}, v[] = {1, 1};
  ASSERT_NEAR(rk__cosine(u, v, 2), SQRT1_2, 1e-15);
}

TEST(vlm_rm) {
  /* x = (3,3,0) -> x_hat = (1,1,0)/sqrt2; goal (2,0,0) -> (1,0,0) = g,
   * |g| = 1; baseline (0,1,0) = b. */
  const double x[] = {3, 3, 0}, goal[] = {2, 0, 0}, base[] = {0, 1, 0};
  double r = 0;
  /* alpha 0: 1 - |x_hat - g|^2/2 = cos(x_hat, g) = 1/sqrt2 = 0.70710678 */
  ASSERT_EQ_INT(rk__vlm_rm(x, goal, 1, base, 1, 3, 0.0, &r), 0);
  ASSERT_NEAR(r, SQRT1_2, 1e-12);
  /* alpha 1: d = (1,-1,0), u = d/sqrt2, v = (1/sqrt2 - 1, 1/sqrt2, 0),
   * s = v.u = -1/sqrt2, s^2 = 1/2: r = 1 - 0.5 * 1 * 0.5 = 0.75 */
  ASSERT_EQ_INT(rk__vlm_rm(x, goal, 1, base, 1, 3, 1.0, &r), 0);
  ASSERT_NEAR(r, 0.75, 1e-12);
  /* alpha 0.5: |v|^2 = 2 - sqrt2 = 0.58578644;
   * 1 - 0.5 (0.75 * 0.5 + 0.25 * 0.58578644) = 0.73927669529664 */
  ASSERT_EQ_INT(rk__vlm_rm(x, goal, 1, base, 1, 3, 0.5, &r), 0);
  ASSERT_NEAR(r, 0.7392766952966369, 1e-12);
  /* Goal equal to baseline: d = 0, alpha falls back to 0 -> cos = 1/sqrt2 */
  ASSERT_EQ_INT(rk__vlm_rm(x, goal, 1, goal, 1, 3, 1.0, &r), 0);
  ASSERT_NEAR(r, SQRT1_2, 1e-12);
  /* Parallel but differently scaled rows normalise to the same unit vector
   * up to rounding: |g-b|^2 is ~1e-17 of noise, not a direction. alpha 1
   * must fall back to alpha 0: r = cos(x2, (1,2,3)) = 1/sqrt14 = 0.26726124 */
  const double x2[] = {1, 0, 0}, gp[] = {1, 2, 3}, bp[] = {0.1, 0.2, 0.3};
  ASSERT_EQ_INT(rk__vlm_rm(x2, gp, 1, bp, 1, 3, 1.0, &r), 0);
  ASSERT_NEAR(r, 1 / sqrt(14.0), 1e-12);
  /* Means are not renormalised: goals (1,0,0), (0,0,1) -> g = (.5,0,.5),
   * x = (1,0,0): v = (.5,0,-.5), |v|^2 = .5, alpha 0: r = 0.75 (renormalised
   * it would be 1/sqrt2). alpha 1: d = (.5,-1,.5), v.d = 0 -> r = 1. */
  const double goals2[] = {1, 0, 0, 0, 0, 1};
  ASSERT_EQ_INT(rk__vlm_rm(x2, goals2, 2, base, 1, 3, 0.0, &r), 0);
  ASSERT_NEAR(r, 0.75, 1e-12);
  ASSERT_EQ_INT(rk__vlm_rm(x2, goals2, 2, base, 1, 3, 1.0, &r), 0);
  ASSERT_NEAR(r, 1.0, 1e-12);
  /* python: the projection-matrix form 1 - 0.5 |(x_hat - g) P|^2 with
   * P = a d d^T/|d|^2 + (1-a) I, on unnormalised rows, alpha 0.5. */
  const double x3[] = {0.2, -0.5, 0.9}, g3[] = {1, 0.3, 0, 0, 0.2, 1},
               b3[] = {0, 1, 0.1, 0.4, 0.4, 0.4};
  ASSERT_EQ_INT(rk__vlm_rm(x3, g3, 2, b3, 2, 3, 0.5, &r), 0);
  ASSERT_NEAR(r, 0.7460057797697025, 1e-12);
  ASSERT_EQ_INT(rk__vlm_rm(x, goal, 0, base, 1, 3, 0.5, &r), -1);
  ASSERT_EQ_INT(rk__vlm_rm(x, goal, 1, base, 0, 3, 0.5, &r), -1);
  ASSERT_EQ_INT(rk__vlm_rm(x, goal, 1, base, 1, 0, 0.5, &r), -1);
}

TEST(vlm_rl) {
  /* x = (1,0,0); cos(x, pos) = 0.5. */
  const double x[] = {1, 0, 0}, pos[] = {0.5, sqrt(0.75), 0};
  /* neg with cos 0.515: z = 0.015 -> 1 - 0.015/0.03 = 0.5 */
  const double neg_mid[] = {0.515, sqrt(1 - 0.515 * 0.515), 0};
  ASSERT_NEAR(rk__vlm_rl(x, pos, neg_mid, 3, 0.03), 0.5, 1e-12);
  /* cos 0.4: z = -0.1 < 0 -> clip 0 -> r = 1 */
  const double neg_lo[] = {0.4, sqrt(1 - 0.16), 0};
  ASSERT_NEAR(rk__vlm_rl(x, pos, neg_lo, 3, 0.03), 1.0, 0);
  /* z = 0: r = 1 */
  ASSERT_NEAR(rk__vlm_rl(x, pos, pos, 3, 0.03), 1.0, 0);
  /* cos 0.6: z = 0.1 > 0.03 -> clip 0.03 -> r = 0 */
  const double neg_hi[] = {0.6, 0.8, 0};
  ASSERT_NEAR(rk__vlm_rl(x, pos, neg_hi, 3, 0.03), 0.0, 1e-15);
}

TEST(clip_score) {
  const double a[] = {1, 0}, b[] = {1, 1}, c[] = {-1, 1};
  /* 2.5 * 1/sqrt2 = 1.76776695 */
  ASSERT_NEAR(rk__clip_score(a, b, 2, 2.5), 2.5 * SQRT1_2, 1e-12);
  /* cos = -1/sqrt2 < 0 -> 0 */
  ASSERT_NEAR(rk__clip_score(a, c, 2, 2.5), 0.0, 0);
}

TEST(bmas) {
  /* a = {(1,0), (0,1)}, b = {(3,4), (-1,0)}:
   * cos a0.b0 = 0.6, a0.b1 = -1, a1.b0 = 0.8, a1.b1 = 0.
   * rows: max(0.6,-1) = 0.6, max(0.8,0) = 0.8 -> mean 0.7
   * cols: max(0.6,0.8) = 0.8, max(-1,0) = 0 -> mean 0.4
   * r = 0.5 (0.7 + 0.4) = 0.55 */
  const double a[] = {1, 0, 0, 1}, b[] = {3, 4, -1, 0};
  double r = 0;
  ASSERT_EQ_INT(rk__bmas(a, 2, b, 2, 2, &r), 0);
  ASSERT_NEAR(r, 0.55, 1e-12);
  /* b = {(1,0), (1,0)}: rows 1 and 0 -> 0.5; cols 1 and 1 -> 1; r = 0.75 */
  const double b2[] = {1, 0, 1, 0};
  ASSERT_EQ_INT(rk__bmas(a, 2, b2, 2, 2, &r), 0);
  ASSERT_NEAR(r, 0.75, 1e-12);
  ASSERT_EQ_INT(rk__bmas(a, 0, b, 2, 2, &r), -1);
  ASSERT_EQ_INT(rk__bmas(a, 2, b, 0, 2, &r), -1);
}

/* ------------------------------------------------------------ judge text */

/* Parses z (heap copy); returns the status, *s and *o. */
static int score_of(const char *z, int last, double *s, double *o) {
  rk__str t = heap(z);
  *s = -12345;
  *o = -12345;
  int rc = rk__parse_judge_score(t, last, s, o);
  unheap(t);
  return rc;
}

TEST(judge_score_patterns) {
  double s, o;
  ASSERT_EQ_INT(score_of("so the result is \\boxed{7}", 0, &s, &o), 0);
  ASSERT_NEAR(s, 7, 0);
  ASSERT_TRUE(isnan(o));
  ASSERT_EQ_INT(score_of("<score> 8.0 </score>", 0, &s, &o), 0);
  ASSERT_NEAR(s, 8, 0);
  ASSERT_EQ_INT(score_of("<SCORE>8</Score>", 0, &s, &o), 0);
  ASSERT_NEAR(s, 8, 0);
  ASSERT_EQ_INT(score_of("Rating: [[ -2.5 ]]", 0, &s, &o), 0);
  ASSERT_NEAR(s, -2.5, 0);
  ASSERT_EQ_INT(score_of("Score: 7/10", 0, &s, &o), 0);
  ASSERT_NEAR(s, 7, 0);
  ASSERT_NEAR(o, 10, 0);
  ASSERT_EQ_INT(score_of("**Score:** 6", 0, &s, &o), 0);
  ASSERT_NEAR(s, 6, 0);
  ASSERT_TRUE(isnan(o));
  ASSERT_EQ_INT(score_of("The score is 4.", 0, &s, &o), 0);
  ASSERT_NEAR(s, 4, 0);
  ASSERT_EQ_INT(score_of("final score = 3.5", 0, &s, &o), 0);
  ASSERT_NEAR(s, 3.5, 0);
  ASSERT_EQ_INT(score_of("I give it 9 out of 10.", 0, &s, &o), 0);
  ASSERT_NEAR(s, 9, 0);
  ASSERT_NEAR(o, 10, 0);
  ASSERT_EQ_INT(score_of("Score: -2", 0, &s, &o), 0);
  ASSERT_NEAR(s, -2, 0);
  ASSERT_EQ_INT(score_of("\\boxed{ 4 / 5 }", 0, &s, &o), 0);
  ASSERT_NEAR(s, 4, 0);
  ASSERT_NEAR(o, 5, 0);
}

TEST(judge_score_last_wins) {
  double s, o;
  /* 6/10 first, \boxed{8} later: 8 with no denominator. */
  ASSERT_EQ_INT(score_of("draft 6/10, final \\boxed{8}", 0, &s, &o), 0);
  ASSERT_NEAR(s, 8, 0);
  ASSERT_TRUE(isnan(o));
  ASSERT_EQ_INT(score_of("\\boxed{8} on reflection: Score: 3/5", 0, &s, &o), 0);
  ASSERT_NEAR(s, 3, 0);
  ASSERT_NEAR(o, 5, 0);
  ASSERT_EQ_INT(score_of("[[2]] [[5]] [[9]]", 0, &s, &o), 0);
  ASSERT_NEAR(s, 9, 0);
  /* A pattern beats a later bare number even with last_number set. */
  ASSERT_EQ_INT(score_of("Score: 7, with 3 caveats", 1, &s, &o), 0);
  ASSERT_NEAR(s, 7, 0);
}

TEST(judge_score_garbage) {
  double s, o;
  ASSERT_EQ_INT(score_of("", 1, &s, &o), -1);
  ASSERT_EQ_INT(score_of("no digits at all", 1, &s, &o), -1);
  ASSERT_EQ_INT(score_of("The answer is 42", 0, &s, &o), -1);
  ASSERT_EQ_INT(score_of("The answer is 42", 1, &s, &o), 0);
  ASSERT_NEAR(s, 42, 0);
  ASSERT_TRUE(isnan(o));
  /* "5-3": the '-' is not a sign, the last number is 3. */
  ASSERT_EQ_INT(score_of("it went 5-3", 1, &s, &o), 0);
  ASSERT_NEAR(s, 3, 0);
  ASSERT_EQ_INT(score_of("Subscore: 5", 0, &s, &o), -1);      /* not "score" */
  ASSERT_EQ_INT(score_of("\\boxed{7", 0, &s, &o), -1);        /* unclosed */
  ASSERT_EQ_INT(score_of("[[7]", 0, &s, &o), -1);             /* cut at n */
  ASSERT_EQ_INT(score_of("<score>7</sco", 0, &s, &o), -1);
  ASSERT_EQ_INT(score_of("7/0", 0, &s, &o), -1);              /* no zero MAX */
  ASSERT_EQ_INT(score_of("Score:", 0, &s, &o), -1);
  ASSERT_EQ_INT(score_of("Score: -", 0, &s, &o), -1);
  ASSERT_EQ_INT(score_of("3 out of", 0, &s, &o), -1);
  ASSERT_EQ_INT(score_of("\\boxed{\\boxed{[[<score>", 1, &s, &o), -1);
  /* 80 digits: consumed, no value, no crash. */
  ASSERT_EQ_INT(score_of("Score: 12345678901234567890123456789012345678901234567890"
                         "123456789012345678901234567890", 0, &s, &o), -1);
  /* 25 significant digits (slow path): 1.5 */
  ASSERT_EQ_INT(score_of("[[1.500000000000000000000000]]", 0, &s, &o), 0);
  ASSERT_NEAR(s, 1.5, 0);
}

static int verdict_of(const char *z) {
  rk__str t = heap(z);
  int v = rk__parse_verdict(t);
  unheap(t);
  return v;
}

TEST(verdict) {
  ASSERT_EQ_INT(verdict_of("Yes."), 1);
  ASSERT_EQ_INT(verdict_of("NO"), 0);
  ASSERT_EQ_INT(verdict_of("The final verdict: \\boxed{True}"), 1);
  ASSERT_EQ_INT(verdict_of("The answer is incorrect, not correct"), 0);
  ASSERT_EQ_INT(verdict_of("<think>yes, no, maybe</think>\nThe answer is correct."), 1);
  ASSERT_EQ_INT(verdict_of("  <think>it is false</think>"), -1); /* nothing after */
  /* Unclosed think block: the whole text is searched. */
  ASSERT_EQ_INT(verdict_of("<think>I think yes"), 1);
  /* Opening tag in the prompt (R1 template): skip up to </think>. */
  ASSERT_EQ_INT(verdict_of("hmm, no wait</think>Yes"), 1);
  ASSERT_EQ_INT(verdict_of("I know nothing; incorrectly; yesterday"), -1);
  ASSERT_EQ_INT(verdict_of("no\xc3\xa9"), -1);           /* "noé" is a word */
  ASSERT_EQ_INT(verdict_of("yes\xe3\x80\x82"), 1);        /* "yes。" */
  ASSERT_EQ_INT(verdict_of("yes_no"), -1);
  ASSERT_EQ_INT(verdict_of(""), -1);
}

static char letter_of(const char *z, char last) {
  rk__str t = heap(z);
  char c = rk__parse_choice_letter(t, last);
  unheap(t);
  return c;
}

TEST(choice_letter) {
  ASSERT_EQ_INT(letter_of("The answer is B", 'F'), 'B'); /* 'T' is past F */
  ASSERT_EQ_INT(letter_of("I think C", 'F'), 'C');
  ASSERT_EQ_INT(letter_of("I think C", 'I'), 'I');       /* CapRL: first A-I */
  ASSERT_EQ_INT(letter_of("Z, J, then E", 'Z'), 'E');    /* last capped at I */
  ASSERT_EQ_INT(letter_of("none of these", 'F'), 0);
  ASSERT_EQ_INT(letter_of("A", '@'), 0);
  ASSERT_EQ_INT(letter_of("", 'F'), 0);
}

/* ----------------------------------------------------------- shuffle, hash */

TEST(splitmix_vectors) {
  /* python (and the published splitmix64 sequence for seed 0). */
  uint64_t st = 0;
  ASSERT_TRUE(rk__splitmix64(&st) == 0xE220A8397B1DCDAFu);
  ASSERT_TRUE(rk__splitmix64(&st) == 0x6E789E6AA1B965F4u);
  ASSERT_TRUE(rk__splitmix64(&st) == 0x06C45D188009454Fu);
  st = 42;
  ASSERT_TRUE(rk__splitmix64(&st) == 0xBDD732262FEB6E95u);
}

TEST(shuffle) {
  size_t p[10], q[10];
  for (size_t i = 0; i < 10; i++) p[i] = q[i] = i;
  uint64_t s1 = 7, s2 = 7;
  rk__shuffle(p, 10, &s1);
  rk__shuffle(q, 10, &s2);
  /* Same seed, same permutation, same state afterwards. */
  ASSERT_TRUE(memcmp(p, q, sizeof p) == 0);
  ASSERT_TRUE(s1 == s2);
  /* python (Fisher-Yates with splitmix64 and rejection as documented):
   * seed 7 -> [8, 1, 5, 9, 0, 4, 3, 2, 6, 7] */
  const size_t want[10] = {8, 1, 5, 9, 0, 4, 3, 2, 6, 7};
  for (size_t i = 0; i < 10; i++) ASSERT_EQ_INT(p[i], want[i]);
  /* A permutation: every value once. */
  int seen[10] = {0};
  for (size_t i = 0; i < 10; i++) seen[p[i] < 10 ? p[i] : 0]++;
  for (size_t i = 0; i < 10; i++) ASSERT_EQ_INT(seen[i], 1);
  /* Another seed: python seed 8 -> [5, 7, 0, 3, 6, 4, 8, 1, 9, 2] */
  for (size_t i = 0; i < 10; i++) q[i] = i;
  uint64_t s3 = 8;
  rk__shuffle(q, 10, &s3);
  ASSERT_EQ_INT(q[0], 5);
  ASSERT_EQ_INT(q[9], 2);
  /* n = 0 and 1 draw nothing. */
  uint64_t s4 = 9;
  size_t one = 0;
  rk__shuffle(&one, 1, &s4);
  rk__shuffle(NULL, 0, &s4);
  ASSERT_TRUE(s4 == 9 && one == 0);
}

TEST(hash64) {
  /* Seed 0 is plain FNV-1a 64: the published vectors (Fowler/Noll/Vo
   * test suite) for "", "a" and "foobar". */
  ASSERT_TRUE(rk__hash64("", 0, 0) == 0xCBF29CE484222325u);
  ASSERT_TRUE(rk__hash64("a", 1, 0) == 0xAF63DC4C8601EC8Cu);
  ASSERT_TRUE(rk__hash64("foobar", 6, 0) == 0x85944171F73967E8u);
  /* python: basis xor mix64(seed), mix64 = splitmix64's output mix. */
  ASSERT_TRUE(rk__hash64("foobar", 6, 1) == 0x290B9BC7240A29DDu);
  /* Seed and data do not trade places: seed 1 + "a" (python
   * 0x9432c716c1eca393) != seed 0 + "`" (0xaf63dd4c8601ee3f). */
  ASSERT_TRUE(rk__hash64("a", 1, 1) == 0x9432C716C1ECA393u);
  ASSERT_TRUE(rk__hash64("a", 1, 1) != rk__hash64("`", 1, 0));
}

/* ------------------------------------------------------------ judge gate */

static const char *gate(const char *z, const char *const *extra, char *buf, size_t cap) {
  rk__str t = heap(z);
  const char *why = rk__judge_gate(t, extra, buf, cap);
  unheap(t);
  return why;
}

TEST(gate_refuses) {
  char buf[128];
  ASSERT_EQ_STR(gate("", NULL, buf, sizeof buf), "empty response");
  ASSERT_EQ_STR(gate(" \n\t ", NULL, buf, sizeof buf), "whitespace only");
  ASSERT_EQ_STR(gate("\xe2\x80\x8b\xc2\xa0", NULL, buf, sizeof buf), "whitespace only");
  ASSERT_EQ_STR(gate("...", NULL, buf, sizeof buf), "punctuation only");
  ASSERT_EQ_STR(gate("!!! *** ---", NULL, buf, sizeof buf), "punctuation only");
  ASSERT_EQ_STR(gate("\xe2\x80\x94\xe3\x80\x82", NULL, buf, sizeof buf), "punctuation only");
  ASSERT_EQ_STR(gate("\xf0\x9f\x98\x80", NULL, buf, sizeof buf), "punctuation only"); /* So */
  ASSERT_EQ_STR(gate(":", NULL, buf, sizeof buf), "master key \":\"");
  ASSERT_EQ_STR(gate(" . ", NULL, buf, sizeof buf), "master key \".\"");
  ASSERT_EQ_STR(gate("  Thought process:\n", NULL, buf, sizeof buf),
                "master key \"Thought process:\"");
  ASSERT_EQ_STR(gate("Let's solve this problem step by step.", NULL, buf, sizeof buf),
                "master key \"Let's solve this problem step by step.\"");
  /* Typographic apostrophe, no final period, extra spaces. */
  ASSERT_CONTAINS(gate("Let\xe2\x80\x99s  solve this problem step by step", NULL, buf,
                       sizeof buf),
                  "master key \"Let's solve this problem step by step.\"");
  ASSERT_EQ_STR(gate("solution", NULL, buf, sizeof buf), "master key \"Solution\"");
  ASSERT_EQ_STR(gate("Solution:", NULL, buf, sizeof buf),
                "master key \"Solution\" followed only by punctuation");
  ASSERT_CONTAINS(gate("**Solution**", NULL, buf, sizeof buf), "\"Solution\"");
  ASSERT_CONTAINS(gate("Thought process: ...", NULL, buf, sizeof buf), "\"Thought process:\"");
  ASSERT_CONTAINS(gate("Step 1:", NULL, buf, sizeof buf), "\"Step 1\"");
  ASSERT_EQ_STR(gate("\xe8\xa7\xa3", NULL, buf, sizeof buf), "master key \"\xe8\xa7\xa3\"");
  ASSERT_CONTAINS(gate("\xe8\xa7\xa3\xef\xbc\x9a", NULL, buf, sizeof buf), /* 解： */
                  "\"\xe8\xa7\xa3\"");
  ASSERT_CONTAINS(gate("\xe8\xa7\xa3\xe7\xad\x94", NULL, buf, sizeof buf), /* 解答 */
                  "\"\xe8\xa7\xa3\xe7\xad\x94\"");
  ASSERT_CONTAINS(gate("\xe3\x81\x8b\xe3\x81\x84\xe3\x81\x9b\xe3\x81\xa4", NULL, buf,
                       sizeof buf), "master key"); /* かいせつ */
  ASSERT_CONTAINS(gate("Respuesta:", NULL, buf, sizeof buf), "\"Respuesta\"");
  ASSERT_CONTAINS(gate("R\xc3\xa9ponse", NULL, buf, sizeof buf), "\"R\xc3\xa9ponse\"");
  /* Unicode case folding: "ОТВЕТ:" matches "Ответ". */
  ASSERT_CONTAINS(gate("\xd0\x9e\xd0\xa2\xd0\x92\xd0\x95\xd0\xa2:", NULL, buf, sizeof buf),
                  "master key");
  /* Extra keys, compared the same way. */
  const char *const extra[] = {"I don't know", NULL};
  ASSERT_EQ_STR(gate("i don't know.", extra, buf, sizeof buf),
                "extra key \"I don't know\" followed only by punctuation");
  ASSERT_TRUE(gate("i don't know why x = 2", extra, buf, sizeof buf) == NULL);
}

TEST(gate_passes_answers) {
  char buf[128];
  ASSERT_TRUE(gate("42", NULL, buf, sizeof buf) == NULL);
  ASSERT_TRUE(gate("x = 5", NULL, buf, sizeof buf) == NULL);
  ASSERT_TRUE(gate("No.", NULL, buf, sizeof buf) == NULL);
  ASSERT_TRUE(gate("Solution: x = 3", NULL, buf, sizeof buf) == NULL);
  ASSERT_TRUE(gate("Answer: 42", NULL, buf, sizeof buf) == NULL);
  ASSERT_TRUE(gate("Solutions exist", NULL, buf, sizeof buf) == NULL);
  ASSERT_TRUE(gate("Step 10", NULL, buf, sizeof buf) == NULL);
  ASSERT_TRUE(gate("\xe8\xa7\xa3\xef\xbc\x9ax=3", NULL, buf, sizeof buf) == NULL); /* 解：x=3 */
  ASSERT_TRUE(gate("\xcf\x80", NULL, buf, sizeof buf) == NULL);                   /* π */
  ASSERT_TRUE(gate("-7", NULL, buf, sizeof buf) == NULL);
  /* Math symbols (Unicode Sm) are whole answers: ∞, ≥. */
  ASSERT_TRUE(gate("\xe2\x88\x9e", NULL, buf, sizeof buf) == NULL);
  ASSERT_TRUE(gate(" \xe2\x89\xa5 ", NULL, buf, sizeof buf) == NULL);
  /* Invalid UTF-8 is content, not punctuation. */
  ASSERT_TRUE(gate("\xff\xfe", NULL, buf, sizeof buf) == NULL);
  ASSERT_TRUE(gate(".\x80.", NULL, buf, sizeof buf) == NULL);
  ASSERT_TRUE(gate("Thought process: the area is 12", NULL, buf, sizeof buf) == NULL);
}

TEST(gate_buffers) {
  /* No buffer: the static kind of reason. */
  ASSERT_EQ_STR(gate("Solution", NULL, NULL, 0), "master key");
  /* A short buffer is cut, NUL-terminated, never mid-character:
   * "master key \"解\"" needs 17 bytes; with 15 the 3-byte 解 is dropped. */
  char small[15];
  const char *why = gate("\xe8\xa7\xa3", NULL, small, sizeof small);
  ASSERT_TRUE(why == small);
  ASSERT_EQ_STR(small, "master key \"");
  char tiny[1] = {'x'};
  ASSERT_EQ_STR(gate(".", NULL, tiny, 1), "");
}

TEST_MAIN(TEST_ENTRY(pyes_variants), TEST_ENTRY(pyes_markers_and_case),
          TEST_ENTRY(pyes_clamped_and_duplicates), TEST_ENTRY(pyes_none),
          TEST_ENTRY(lp_modes), TEST_ENTRY(lp_empty_and_floor), TEST_ENTRY(bf16),
          TEST_ENTRY(rlpr_debias), TEST_ENTRY(sar), TEST_ENTRY(cosine), TEST_ENTRY(vlm_rm),
          TEST_ENTRY(vlm_rl), TEST_ENTRY(clip_score), TEST_ENTRY(bmas),
          TEST_ENTRY(judge_score_patterns), TEST_ENTRY(judge_score_last_wins),
          TEST_ENTRY(judge_score_garbage), TEST_ENTRY(verdict), TEST_ENTRY(choice_letter),
          TEST_ENTRY(splitmix_vectors), TEST_ENTRY(shuffle), TEST_ENTRY(hash64),
          TEST_ENTRY(gate_refuses), TEST_ENTRY(gate_passes_answers), TEST_ENTRY(gate_buffers))
