/*
 * test_advantage.c - unit tests for src/core/advantage.c (advantage.h).
 *
 * Every expected value is computed by hand in the comment above it (first
 * or second order expansions of 1/(1+x) and sqrt(1+x) where eps enters;
 * the neglected terms are below 1e-15) and was cross-checked with bc -l,
 * never by running the code under test. Tolerance: 1e-12 absolute unless
 * stated; exact zeros are compared with ==.
 */
#include <math.h>
#include <stddef.h>

#include "core/advantage.h"
#include "test.h"

#define TOL 1e-12

static rk__adv_cfg cfg_of(rk__adv_estimator e) {
  rk__adv_cfg c;
  rk__adv_defaults(&c, e);
  return c;
}

/* ------------------------------------------------------ names, defaults */

TEST(defaults_are_verl) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  ASSERT_EQ_INT(c.estimator, RK__ADV_GRPO);
  ASSERT_NEAR(c.eps, 1e-6, 0);
  ASSERT_EQ_INT(c.unbiased_std, 1);
  ASSERT_EQ_INT(c.norm_by_std, 1);
  ASSERT_NEAR(c.min_std, 0.0, 0);
  ASSERT_EQ_INT(c.singleton, RK__SINGLETON_VERL);
  ASSERT_NEAR(c.whiten_eps, 1e-8, 0);
  c = cfg_of(RK__ADV_OPO);
  ASSERT_EQ_INT(c.estimator, RK__ADV_OPO);
  rk__adv_defaults(NULL, RK__ADV_GRPO); /* no-op, no crash */
}

TEST(names) {
  ASSERT_EQ_INT(rk__adv_by_name("grpo"), RK__ADV_GRPO);
  ASSERT_EQ_INT(rk__adv_by_name("dr_grpo"), RK__ADV_DR_GRPO);
  ASSERT_EQ_INT(rk__adv_by_name("rloo"), RK__ADV_RLOO);
  ASSERT_EQ_INT(rk__adv_by_name("reinforce_pp_baseline"),
                RK__ADV_REINFORCE_PP_BASELINE);
  ASSERT_EQ_INT(rk__adv_by_name("reinforce_plus_plus_baseline"),
                RK__ADV_REINFORCE_PP_BASELINE);
  ASSERT_EQ_INT(rk__adv_by_name("grpo_passk"), RK__ADV_GRPO_PASSK);
  ASSERT_EQ_INT(rk__adv_by_name("opo"), RK__ADV_OPO);
  ASSERT_EQ_INT(rk__adv_by_name("gpg"), RK__ADV_GPG);
  ASSERT_EQ_INT(rk__adv_by_name("GRPO"), RK__ADV_NONE);
  ASSERT_EQ_INT(rk__adv_by_name("gae"), RK__ADV_NONE);
  ASSERT_EQ_INT(rk__adv_by_name(""), RK__ADV_NONE);
  ASSERT_EQ_INT(rk__adv_by_name(NULL), RK__ADV_NONE);
  ASSERT_EQ_STR(rk__adv_name(RK__ADV_GRPO), "grpo");
  ASSERT_EQ_STR(rk__adv_name(RK__ADV_REINFORCE_PP_BASELINE),
                "reinforce_pp_baseline");
  ASSERT_EQ_STR(rk__adv_name(RK__ADV_GPG), "gpg");
  ASSERT_EQ_STR(rk__adv_name(RK__ADV_NONE), "none");
}

/* ----------------------------------------------------------------- grpo */

/* rewards {1,0,0,1}: mean 0.5, deviations +-0.5, sum of squares 1.
 * unbiased var 1/3, std sqrt(1/3) = 0.5773502691896258.
 * A = 0.5/(sqrt(1/3) + 1e-6) = (sqrt(3)/2) / (1 + sqrt(3)*1e-6)
 *   = 0.8660254037844386 * (1 - 1.7320508e-6 + 3e-12)
 *   = 0.8660254037844386 - 1.5e-6 + 2.598e-12 = 0.8660239037870367. */
TEST(grpo_unbiased_default) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  double r[] = {1, 0, 0, 1}, a[4];
  size_t g[] = {0, 0, 0, 0};
  rk__adv_stats st;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 4, 1, a, &st), 0);
  ASSERT_NEAR(a[0], 0.8660239037870367, TOL);
  ASSERT_NEAR(a[1], -0.8660239037870367, TOL);
  ASSERT_NEAR(a[2], -0.8660239037870367, TOL);
  ASSERT_NEAR(a[3], 0.8660239037870367, TOL);
  ASSERT_EQ_INT(st.groups, 1);
  ASSERT_EQ_INT(st.zero_variance, 0);
  ASSERT_EQ_INT(st.singletons, 0);
}

/* Biased (population) std of {1,0,0,1}: sqrt(1/4) = 0.5.
 * A = 0.5/(0.5 + 1e-6) = 1/(1 + 2e-6) = 1 - 2e-6 + 4e-12 = 0.999998000004. */
TEST(grpo_biased_std) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  c.unbiased_std = 0;
  double r[] = {1, 0, 0, 1}, a[4];
  size_t g[] = {0, 0, 0, 0};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 4, 1, a, NULL), 0);
  ASSERT_NEAR(a[0], 0.999998000004, TOL);
  ASSERT_NEAR(a[1], -0.999998000004, TOL);
}

/* eps presets on {1,0,0,1} (unbiased std sqrt(1/3), as TRL and OpenRLHF
 * both use torch.std). With a = sqrt(3)/2, x = eps*sqrt(3):
 *  TRL 1e-4: x = 1.7320508075688772e-4,
 *    A = a(1 - x + x^2 - x^3) = 0.8660254037844386 - 1.5e-4
 *        + 2.5980762e-8 - 4.5e-12 = 0.8658754297607015
 *  OpenRLHF 1e-9: A = a - 1.5e-9 = 0.8660254022844386 */
TEST(grpo_eps_presets) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  double r[] = {1, 0, 0, 1}, a[4];
  size_t g[] = {0, 0, 0, 0};
  c.eps = 1e-4;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 4, 1, a, NULL), 0);
  ASSERT_NEAR(a[0], 0.8658754297607015, TOL);
  ASSERT_NEAR(a[1], -0.8658754297607015, TOL);
  c.eps = 1e-9;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 4, 1, a, NULL), 0);
  ASSERT_NEAR(a[0], 0.8660254022844386, TOL);
  ASSERT_NEAR(a[2], -0.8660254022844386, TOL);
}

/* norm_by_std = 0: A = r - mean = +-0.5 on {1,0,0,1}. */
TEST(grpo_no_std) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  c.norm_by_std = 0;
  double r[] = {1, 0, 0, 1}, a[4];
  size_t g[] = {0, 0, 0, 0};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 4, 1, a, NULL), 0);
  ASSERT_NEAR(a[0], 0.5, TOL);
  ASSERT_NEAR(a[1], -0.5, TOL);
}

/* 7-vs-1 split {1,1,1,1,1,1,1,0}: mean 7/8, deviations 1/8 (x7), -7/8;
 * sum of squares 7/64 + 49/64 = 56/64 = 0.875; unbiased var 0.875/7 =
 * 0.125; std sqrt(0.125) = 0.35355339059327373.
 *  no floor: A_1 = 0.125/(sqrt(.125) + 1e-6) = sqrt(.125)/(1 + 1e-6*sqrt(8))
 *            = 0.35355339059327373 - 1e-6 + 2.83e-12 = 0.3535523905961022
 *            A_0 = -7 * that = -2.4748667341727153
 *  min_std 0.1 < std: floor inactive, same values.
 *  min_std 0.5 > std: A_1 = 0.125/0.500001 = 0.25(1 - 2e-6 + 4e-12)
 *            = 0.249999500001; A_0 = -0.875/0.500001 = -1.749996500007 */
TEST(grpo_min_std_floor) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  double r[] = {1, 1, 1, 1, 1, 1, 1, 0}, a[8];
  size_t g[8] = {0};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 8, 1, a, NULL), 0);
  ASSERT_NEAR(a[0], 0.3535523905961022, TOL);
  ASSERT_NEAR(a[7], -2.4748667341727153, TOL);
  c.min_std = 0.1;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 8, 1, a, NULL), 0);
  ASSERT_NEAR(a[0], 0.3535523905961022, TOL);
  ASSERT_NEAR(a[7], -2.4748667341727153, TOL);
  c.min_std = 0.5;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 8, 1, a, NULL), 0);
  ASSERT_NEAR(a[0], 0.249999500001, TOL);
  ASSERT_NEAR(a[6], 0.249999500001, TOL);
  ASSERT_NEAR(a[7], -1.749996500007, TOL);
}

/* A near-zero-variance group is scaled up to unit size without a floor:
 * {0,0,0,4e-4}: mean 1e-4, deviations -1e-4 (x3), 3e-4; sum of squares
 * 3e-8 + 9e-8 = 1.2e-7; var 4e-8; std 2e-4.
 *  no floor: A_3 = 3e-4/(2e-4 + 1e-6) = 300/201 = 1.4925373134328358,
 *            A_0 = -100/201 = -0.4975124378109453
 *  min_std 0.1: A_3 = 3e-4/0.100001 = 3e-3(1 - 1e-5 + 1e-10)
 *            = 0.0029999700003, A_0 = -0.00099999000010 */
TEST(grpo_min_std_near_zero_variance) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  double r[] = {0, 0, 0, 4e-4}, a[4];
  size_t g[4] = {0};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 4, 1, a, NULL), 0);
  ASSERT_NEAR(a[3], 1.4925373134328358, TOL);
  ASSERT_NEAR(a[0], -0.4975124378109453, TOL);
  c.min_std = 0.1;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 4, 1, a, NULL), 0);
  ASSERT_NEAR(a[3], 0.0029999700003, TOL);
  ASSERT_NEAR(a[0], -0.00099999000010, TOL);
}

/* ------------------------------------------------------ zero variance */

/* {0.1,0.1,0.1}: in double 0.1+0.1+0.1 = 0.30000000000000004, and /3 is
 * not 0.1, so a naive mean leaves a residue. A must be exactly 0, also
 * with eps = 0 (0/0 otherwise), and the group counts as zero-variance. */
TEST(grpo_all_equal_exact_zero) {
  volatile double s = 0.1;
  s = s + 0.1 + 0.1;
  ASSERT_TRUE(s / 3 != 0.1); /* the trap this test is about */

  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  double r[] = {0.1, 0.1, 0.1}, a[3];
  size_t g[] = {0, 0, 0};
  rk__adv_stats st;
  c.eps = 0.0;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 3, 1, a, &st), 0);
  for (size_t i = 0; i < 3; i++) ASSERT_TRUE(a[i] == 0.0);
  ASSERT_EQ_INT(st.groups, 1);
  ASSERT_EQ_INT(st.zero_variance, 1);
  ASSERT_EQ_INT(st.singletons, 0);
}

/* Every estimator gives exactly 0 on all-equal groups: grpo/dr_grpo/gpg
 * r - mean = 0, rloo n/(n-1)*0, passk r_max - r_2nd = 0, opo the
 * length-weighted mean of equal values is that value; reinforce_pp_baseline
 * whitens a batch of zeros, which stays 0. Two groups: {0.1 x3}, {0.7 x2}. */
TEST(all_equal_every_estimator) {
  double r[] = {0.1, 0.7, 0.1, 0.7, 0.1}, a[5];
  size_t g[] = {0, 1, 0, 1, 0};
  double len[] = {3, 7, 11, 13, 17};
  for (int e = RK__ADV_GRPO; e <= RK__ADV_GPG; e++) {
    rk__adv_cfg c = cfg_of((rk__adv_estimator)e);
    rk__adv_stats st;
    ASSERT_EQ_INT(rk__adv_compute(&c, r, g, len, 5, 2, a, &st), 0);
    for (size_t i = 0; i < 5; i++) ASSERT_TRUE(a[i] == 0.0);
    ASSERT_EQ_INT(st.groups, 2);
    ASSERT_EQ_INT(st.zero_variance, 2);
  }
}

/* ------------------------------------------------------------ singletons */

/* Batch: group 0 = {2} (singleton), group 1 = {1, 0}.
 * VERL rule (mean 0, std 1):
 *  grpo, grpo_passk: 2/(1 + 1e-6) = 2(1 - 1e-6 + 1e-12) = 1.999998000002
 *  grpo without std: 2; dr_grpo, rloo, opo: 2
 *  gpg: B = 3 scored, 2 nonzero (2 and 1), alpha = 3/2, A = 1.5*2 = 3
 *  min_std 2 floors the pseudo-std 1: 2/(2 + 1e-6) = 1/(1 + 5e-7)
 *      = 1 - 5e-7 + 2.5e-13 = 0.99999950000025
 * ZERO rule: 0 for every estimator. */
TEST(singleton_rules) {
  double r[] = {1, 2, 0}, a[3];
  size_t g[] = {1, 0, 1};
  double len[] = {5, 5, 5};
  rk__adv_stats st;
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 3, 2, a, &st), 0);
  ASSERT_NEAR(a[1], 1.999998000002, TOL);
  ASSERT_EQ_INT(st.groups, 2);
  ASSERT_EQ_INT(st.singletons, 1);
  ASSERT_EQ_INT(st.zero_variance, 0);
  c.min_std = 2.0;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 3, 2, a, NULL), 0);
  ASSERT_NEAR(a[1], 0.99999950000025, TOL);
  c = cfg_of(RK__ADV_GRPO);
  c.norm_by_std = 0;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 3, 2, a, NULL), 0);
  ASSERT_NEAR(a[1], 2.0, TOL);
  c = cfg_of(RK__ADV_GRPO_PASSK);
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 3, 2, a, NULL), 0);
  ASSERT_NEAR(a[1], 1.999998000002, TOL);
  c = cfg_of(RK__ADV_DR_GRPO);
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 3, 2, a, NULL), 0);
  ASSERT_NEAR(a[1], 2.0, TOL);
  c = cfg_of(RK__ADV_RLOO);
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 3, 2, a, NULL), 0);
  ASSERT_NEAR(a[1], 2.0, TOL);
  c = cfg_of(RK__ADV_OPO);
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, len, 3, 2, a, NULL), 0);
  ASSERT_NEAR(a[1], 2.0, TOL);
  c = cfg_of(RK__ADV_GPG);
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 3, 2, a, NULL), 0);
  ASSERT_NEAR(a[1], 3.0, TOL);

  for (int e = RK__ADV_GRPO; e <= RK__ADV_GPG; e++) {
    c = cfg_of((rk__adv_estimator)e);
    c.singleton = RK__SINGLETON_ZERO;
    ASSERT_EQ_INT(rk__adv_compute(&c, r, g, len, 3, 2, a, &st), 0);
    ASSERT_TRUE(a[1] == 0.0);
    ASSERT_EQ_INT(st.singletons, 1);
  }
}

/* --------------------------------------------------- NaN, interleaving */

/* group 0: {1, NaN, 0, 0, 1} -> scored {1,0,0,1}: +-0.8660239037870367
 * (see grpo_unbiased_default). group 1: {NaN, NaN}: counts nowhere.
 * group 2: {NaN, 5}: singleton, 5/(1 + 1e-6) = 5(1 - 1e-6 + 1e-12)
 * = 4.999995000005. NaN rows get NaN. */
TEST(nan_members) {
  double r[] = {1, NAN, NAN, 0, NAN, 0, 5, 1, NAN}, a[9];
  size_t g[] = {0, 1, 0, 0, 2, 0, 2, 0, 1};
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  rk__adv_stats st;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 9, 3, a, &st), 0);
  ASSERT_NEAR(a[0], 0.8660239037870367, TOL);
  ASSERT_NEAR(a[3], -0.8660239037870367, TOL);
  ASSERT_NEAR(a[5], -0.8660239037870367, TOL);
  ASSERT_NEAR(a[7], 0.8660239037870367, TOL);
  ASSERT_NEAR(a[6], 4.999995000005, TOL);
  ASSERT_TRUE(isnan(a[1]));
  ASSERT_TRUE(isnan(a[2]));
  ASSERT_TRUE(isnan(a[4]));
  ASSERT_TRUE(isnan(a[8]));
  ASSERT_EQ_INT(st.groups, 2);
  ASSERT_EQ_INT(st.singletons, 1);
  ASSERT_EQ_INT(st.zero_variance, 0);
}

/* Groups interleaved in the array, group 3 empty:
 *  g0 {1,3}: mean 2, unbiased var 2, std sqrt 2;
 *     A = +-1/(sqrt2 + 1e-6) = 0.7071067811865476(1 - 7.0710678e-7 + 5e-13)
 *       = +-(0.7071067811865476 - 5e-7 + 3.5e-13) = +-0.7071062811869011
 *  g1 {2,4,6}: mean 4, var (4+0+4)/2 = 4, std 2;
 *     A = +-2/(2 + 1e-6) = +-(1 - 5e-7 + 2.5e-13) = +-0.99999950000025, 0
 *  g2 {10,10}: zero variance, 0. */
TEST(interleaved_groups) {
  double r[] = {2, 1, 10, 4, 3, 6, 10}, a[7];
  size_t g[] = {1, 0, 2, 1, 0, 1, 2};
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  rk__adv_stats st;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 7, 4, a, &st), 0);
  ASSERT_NEAR(a[0], -0.99999950000025, TOL);
  ASSERT_NEAR(a[1], -0.7071062811869011, TOL);
  ASSERT_TRUE(a[2] == 0.0);
  ASSERT_NEAR(a[3], 0.0, TOL);
  ASSERT_NEAR(a[4], 0.7071062811869011, TOL);
  ASSERT_NEAR(a[5], 0.99999950000025, TOL);
  ASSERT_TRUE(a[6] == 0.0);
  ASSERT_EQ_INT(st.groups, 3);
  ASSERT_EQ_INT(st.zero_variance, 1);
  ASSERT_EQ_INT(st.singletons, 0);
}

/* -------------------------------------------------------- dr_grpo, rloo */

/* dr_grpo {3,1,2}: mean 2 -> {1,-1,0}; norm_by_std is ignored. */
TEST(dr_grpo) {
  rk__adv_cfg c = cfg_of(RK__ADV_DR_GRPO);
  double r[] = {3, 1, 2}, a[3];
  size_t g[] = {0, 0, 0};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 3, 1, a, NULL), 0);
  ASSERT_NEAR(a[0], 1.0, TOL);
  ASSERT_NEAR(a[1], -1.0, TOL);
  ASSERT_NEAR(a[2], 0.0, TOL);
}

/* rloo {1,0,0,1}: r_0 = 1 minus mean of {0,0,1} = 1/3 -> 2/3;
 *                 r_1 = 0 minus mean of {1,0,1} = 2/3 -> -2/3.
 * rloo {3,1,2}:   3 - (1+2)/2 = 1.5; 1 - (3+2)/2 = -1.5; 2 - 2 = 0. */
TEST(rloo) {
  rk__adv_cfg c = cfg_of(RK__ADV_RLOO);
  double r[] = {1, 3, 0, 1, 0, 2, 1}, a[7];
  size_t g[] = {0, 1, 0, 1, 0, 1, 0};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 7, 2, a, NULL), 0);
  ASSERT_NEAR(a[0], 2.0 / 3.0, TOL);
  ASSERT_NEAR(a[2], -2.0 / 3.0, TOL);
  ASSERT_NEAR(a[4], -2.0 / 3.0, TOL);
  ASSERT_NEAR(a[6], 2.0 / 3.0, TOL);
  ASSERT_NEAR(a[1], 1.5, TOL);
  ASSERT_NEAR(a[3], -1.5, TOL);
  ASSERT_NEAR(a[5], 0.0, TOL);
}

/* ------------------------------------------------ reinforce_pp_baseline */

/* rows: r = {1,3,0,1,2,2}, group {0,1,0,1,1,2}.
 * group means: g0 {1,0} 0.5; g1 {3,1,2} 2; g2 {2} singleton (VERL: 0).
 * pre-whitening x = {0.5, 1, -0.5, -1, 0, 2}; batch mean 2/6 = 1/3.
 * deviations {1/6, 2/3, -5/6, -4/3, -1/3, 5/3}; squares *36:
 *   1 + 16 + 25 + 64 + 4 + 100 = 210 -> 210/36 = 35/6; unbiased var
 *   35/6/5 = 7/6. 1/sqrt(7/6 + 1e-8) = sqrt(6/7)(1 - 1e-8/(2*7/6))
 *   = 0.9258200997725514(1 - 4.2857142857e-9) = 0.9258200958047510 = c.
 * A = dev * c: 1/6 c = 0.1543033493007918, 2/3 c = 0.6172133972031674,
 *   -5/6 c = -0.7715167465039592, -4/3 c = -1.2344267944063347,
 *   -1/3 c = -0.3086066986015837, 5/3 c = 1.5430334930079184. */
TEST(reinforce_pp_baseline_whitening) {
  rk__adv_cfg c = cfg_of(RK__ADV_REINFORCE_PP_BASELINE);
  double r[] = {1, 3, 0, 1, 2, 2}, a[6];
  size_t g[] = {0, 1, 0, 1, 1, 2};
  rk__adv_stats st;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 6, 3, a, &st), 0);
  ASSERT_NEAR(a[0], 0.1543033493007918, TOL);
  ASSERT_NEAR(a[1], 0.6172133972031674, TOL);
  ASSERT_NEAR(a[2], -0.7715167465039592, TOL);
  ASSERT_NEAR(a[3], -1.2344267944063347, TOL);
  ASSERT_NEAR(a[4], -0.3086066986015837, TOL);
  ASSERT_NEAR(a[5], 1.5430334930079184, TOL);
  ASSERT_EQ_INT(st.singletons, 1);
}

/* Same rows, ZERO singleton: the singleton keeps A = 0 and stays out of
 * the batch statistics. x = {0.5, 1, -0.5, -1, 0}: mean 0, sum of squares
 * 2.5, unbiased var 2.5/4 = 0.625. 1/sqrt(0.625 + 1e-8) = sqrt(1.6)(1 -
 * 1e-8/1.25) = 1.2649110640673518(1 - 8e-9) = 1.2649110539480633 = d.
 * A = x d: 0.6324555269740317, 1.2649110539480633, -0.632..., -1.264..., 0.
 * A NaN row changes nothing. */
TEST(reinforce_pp_baseline_zero_singleton) {
  rk__adv_cfg c = cfg_of(RK__ADV_REINFORCE_PP_BASELINE);
  c.singleton = RK__SINGLETON_ZERO;
  double r[] = {1, 3, 0, 1, 2, 2, NAN}, a[7];
  size_t g[] = {0, 1, 0, 1, 1, 2, 0};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 7, 3, a, NULL), 0);
  ASSERT_NEAR(a[0], 0.6324555269740317, TOL);
  ASSERT_NEAR(a[1], 1.2649110539480633, TOL);
  ASSERT_NEAR(a[2], -0.6324555269740317, TOL);
  ASSERT_NEAR(a[3], -1.2649110539480633, TOL);
  ASSERT_NEAR(a[4], 0.0, TOL);
  ASSERT_TRUE(a[5] == 0.0);
  ASSERT_TRUE(isnan(a[6]));
}

/* A batch with one scored rollout: verl's unbiased masked_var would divide
 * by zero; we give 0 (x - mean = 0). */
TEST(reinforce_pp_baseline_single_rollout) {
  rk__adv_cfg c = cfg_of(RK__ADV_REINFORCE_PP_BASELINE);
  double r[] = {5, NAN}, a[2];
  size_t g[] = {0, 1};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 2, 2, a, NULL), 0);
  ASSERT_TRUE(a[0] == 0.0);
  ASSERT_TRUE(isnan(a[1]));
}

/* ----------------------------------------------------------- grpo_passk */

/* {0,3,1,0}: best index 1 (3), runner-up 1, r_max - r_2nd = 2.
 * mean 1, deviations {-1,2,0,-1}, sum of squares 6, unbiased var 2.
 *  with std: 2/(sqrt2 + 1e-6) = sqrt2(1 - 7.0710678e-7 + 5e-13)
 *     = 1.4142135623730951 - 1e-6 + 7.07e-13 = 1.4142125623738022
 *  without: 2. Others 0. */
TEST(grpo_passk_basic) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO_PASSK);
  double r[] = {0, 3, 1, 0}, a[4];
  size_t g[] = {0, 0, 0, 0};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 4, 1, a, NULL), 0);
  ASSERT_TRUE(a[0] == 0.0);
  ASSERT_NEAR(a[1], 1.4142125623738022, TOL);
  ASSERT_TRUE(a[2] == 0.0);
  ASSERT_TRUE(a[3] == 0.0);
  c.norm_by_std = 0;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 4, 1, a, NULL), 0);
  ASSERT_NEAR(a[1], 2.0, TOL);
  ASSERT_TRUE(a[0] == 0.0);
}

/* Ties at the top: {1,0,1,0.5} has r_max = r_2nd = 1, so every A is 0
 * (the group is not zero-variance). Negative rewards {-1,-3} without std:
 * best -1, runner-up -3, A = {2, 0} (the runner-up is not taken as 0).
 * Two members {1,0} with std: unbiased std sqrt(0.5), A_0 = 1/(sqrt(.5) +
 * 1e-6) = sqrt2(1 - 1.41421356e-6 + 2e-12) = 1.4142135623730951 - 2e-6 +
 * 2.83e-12 = 1.4142115623759235. */
TEST(grpo_passk_ties_and_signs) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO_PASSK);
  double r[] = {1, 0, 1, 0.5}, a[4];
  size_t g[] = {0, 0, 0, 0};
  rk__adv_stats st;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 4, 1, a, &st), 0);
  for (size_t i = 0; i < 4; i++) ASSERT_TRUE(a[i] == 0.0);
  ASSERT_EQ_INT(st.zero_variance, 0);

  double rn[] = {-1, -3}, an[2];
  size_t gn[] = {0, 0};
  c.norm_by_std = 0;
  ASSERT_EQ_INT(rk__adv_compute(&c, rn, gn, NULL, 2, 1, an, NULL), 0);
  ASSERT_NEAR(an[0], 2.0, TOL);
  ASSERT_TRUE(an[1] == 0.0);

  double r2[] = {1, 0};
  c.norm_by_std = 1;
  ASSERT_EQ_INT(rk__adv_compute(&c, r2, gn, NULL, 2, 1, an, NULL), 0);
  ASSERT_NEAR(an[0], 1.4142115623759235, TOL);
  ASSERT_TRUE(an[1] == 0.0);
}

/* ------------------------------------------------------------------ opo */

/* {1,0,0} with lengths {30,10,20}: b = (30*1 + 0 + 0)/60 = 0.5,
 * A = {0.5, -0.5, -0.5} (the plain mean 1/3 would give 2/3, -1/3).
 * All lengths 0: plain mean 1/3, A = {2/3, -1/3, -1/3}. */
TEST(opo_lengths) {
  rk__adv_cfg c = cfg_of(RK__ADV_OPO);
  double r[] = {1, 0, 0}, a[3];
  size_t g[] = {0, 0, 0};
  double len[] = {30, 10, 20};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, len, 3, 1, a, NULL), 0);
  ASSERT_NEAR(a[0], 0.5, TOL);
  ASSERT_NEAR(a[1], -0.5, TOL);
  ASSERT_NEAR(a[2], -0.5, TOL);
  double zero[] = {0, 0, 0};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, zero, 3, 1, a, NULL), 0);
  ASSERT_NEAR(a[0], 2.0 / 3.0, TOL);
  ASSERT_NEAR(a[1], -1.0 / 3.0, TOL);
  /* A NaN reward's length is not read: it may be anything. */
  double rn[] = {1, NAN, 0, 0};
  size_t gn[] = {0, 0, 0, 0};
  double ln[] = {30, NAN, 10, 20};
  double an[4];
  ASSERT_EQ_INT(rk__adv_compute(&c, rn, gn, ln, 4, 1, an, NULL), 0);
  ASSERT_NEAR(an[0], 0.5, TOL);
  ASSERT_TRUE(isnan(an[1]));
  ASSERT_NEAR(an[3], -0.5, TOL);
}

/* ------------------------------------------------------------------ gpg */

/* Batch: g0 {1,0,0,1}, g1 {0, NaN, 0}, g2 {2}.
 * B = 7 scored rollouts (the NaN is not scored), nonzero {1,1,2} = 3,
 * alpha = 7/3. g0: 7/3 * +-0.5 = +-7/6; g1 zero variance: 0;
 * g2 singleton VERL: 7/3 * 2 = 14/3; ZERO: 0.
 * All-zero batch {0,0},{0}: alpha = 3/max(1,0) = 3, every A = 0. */
TEST(gpg_alpha) {
  rk__adv_cfg c = cfg_of(RK__ADV_GPG);
  double r[] = {1, 0, 0, 0, NAN, 0, 1, 2}, a[8];
  size_t g[] = {0, 1, 0, 1, 1, 0, 0, 2};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 8, 3, a, NULL), 0);
  ASSERT_NEAR(a[0], 7.0 / 6.0, TOL);
  ASSERT_NEAR(a[2], -7.0 / 6.0, TOL);
  ASSERT_NEAR(a[5], -7.0 / 6.0, TOL);
  ASSERT_NEAR(a[6], 7.0 / 6.0, TOL);
  ASSERT_TRUE(a[1] == 0.0);
  ASSERT_TRUE(a[3] == 0.0);
  ASSERT_TRUE(isnan(a[4]));
  ASSERT_NEAR(a[7], 14.0 / 3.0, TOL);
  c.singleton = RK__SINGLETON_ZERO;
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 8, 3, a, NULL), 0);
  ASSERT_TRUE(a[7] == 0.0);
  ASSERT_NEAR(a[0], 7.0 / 6.0, TOL); /* the singleton still counts in B */

  double rz[] = {0, 0, 0}, az[3];
  size_t gz[] = {0, 0, 1};
  c = cfg_of(RK__ADV_GPG);
  ASSERT_EQ_INT(rk__adv_compute(&c, rz, gz, NULL, 3, 2, az, NULL), 0);
  for (size_t i = 0; i < 3; i++) ASSERT_TRUE(az[i] == 0.0);
}

/* ------------------------------------------------------ invalid inputs */

TEST(invalid_inputs) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  double r[] = {1, 0}, a[2] = {42, 42};
  size_t g[] = {0, 4};
  rk__adv_stats st = {7, 7, 7};
  /* group index >= ngroups: -1, outputs untouched */
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g, NULL, 2, 4, a, &st), -1);
  ASSERT_TRUE(a[0] == 42 && a[1] == 42);
  ASSERT_EQ_INT(st.groups, 7);
  size_t g0[] = {0, 0};
  ASSERT_EQ_INT(rk__adv_compute(&c, r, g0, NULL, 2, 0, a, NULL), -1);
  ASSERT_EQ_INT(rk__adv_compute(NULL, r, g0, NULL, 2, 1, a, NULL), -1);
  ASSERT_EQ_INT(rk__adv_compute(&c, NULL, g0, NULL, 2, 1, a, NULL), -1);
  /* infinite reward */
  double ri[] = {1, INFINITY};
  ASSERT_EQ_INT(rk__adv_compute(&c, ri, g0, NULL, 2, 1, a, NULL), -1);
  /* bad configuration */
  rk__adv_cfg bad = c;
  bad.estimator = RK__ADV_NONE;
  ASSERT_EQ_INT(rk__adv_compute(&bad, r, g0, NULL, 2, 1, a, NULL), -1);
  bad = c;
  bad.eps = -1e-6;
  ASSERT_EQ_INT(rk__adv_compute(&bad, r, g0, NULL, 2, 1, a, NULL), -1);
  bad = c;
  bad.min_std = NAN;
  ASSERT_EQ_INT(rk__adv_compute(&bad, r, g0, NULL, 2, 1, a, NULL), -1);
  /* opo needs finite, non-negative lengths */
  rk__adv_cfg o = cfg_of(RK__ADV_OPO);
  double lneg[] = {1, -1}, lnan[] = {NAN, 1};
  ASSERT_EQ_INT(rk__adv_compute(&o, r, g0, NULL, 2, 1, a, NULL), -1);
  ASSERT_EQ_INT(rk__adv_compute(&o, r, g0, lneg, 2, 1, a, NULL), -1);
  ASSERT_EQ_INT(rk__adv_compute(&o, r, g0, lnan, 2, 1, a, NULL), -1);
  ASSERT_TRUE(a[0] == 42 && a[1] == 42);
}

TEST(empty_batch) {
  rk__adv_cfg c = cfg_of(RK__ADV_GRPO);
  rk__adv_stats st = {7, 7, 7};
  ASSERT_EQ_INT(rk__adv_compute(&c, NULL, NULL, NULL, 0, 0, NULL, &st), 0);
  ASSERT_EQ_INT(st.groups, 0);
  ASSERT_EQ_INT(st.zero_variance, 0);
  ASSERT_EQ_INT(st.singletons, 0);
  /* Groups without any row count nowhere. */
  ASSERT_EQ_INT(rk__adv_compute(&c, NULL, NULL, NULL, 0, 5, NULL, &st), 0);
  ASSERT_EQ_INT(st.groups, 0);
  c = cfg_of(RK__ADV_REINFORCE_PP_BASELINE);
  ASSERT_EQ_INT(rk__adv_compute(&c, NULL, NULL, NULL, 0, 0, NULL, NULL), 0);
}

TEST_MAIN(TEST_ENTRY(defaults_are_verl), TEST_ENTRY(names),
          TEST_ENTRY(grpo_unbiased_default), TEST_ENTRY(grpo_biased_std),
          TEST_ENTRY(grpo_eps_presets), TEST_ENTRY(grpo_no_std),
          TEST_ENTRY(grpo_min_std_floor),
          TEST_ENTRY(grpo_min_std_near_zero_variance),
          TEST_ENTRY(grpo_all_equal_exact_zero),
          TEST_ENTRY(all_equal_every_estimator), TEST_ENTRY(singleton_rules),
          TEST_ENTRY(nan_members), TEST_ENTRY(interleaved_groups),
          TEST_ENTRY(dr_grpo), TEST_ENTRY(rloo),
          TEST_ENTRY(reinforce_pp_baseline_whitening),
          TEST_ENTRY(reinforce_pp_baseline_zero_singleton),
          TEST_ENTRY(reinforce_pp_baseline_single_rollout),
          TEST_ENTRY(grpo_passk_basic), TEST_ENTRY(grpo_passk_ties_and_signs),
          TEST_ENTRY(opo_lengths), TEST_ENTRY(gpg_alpha),
          TEST_ENTRY(invalid_inputs), TEST_ENTRY(empty_batch))
