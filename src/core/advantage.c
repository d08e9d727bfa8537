/*
 * advantage.c - the group advantage estimators of advantage.h (DESIGN §5):
 * grpo, dr_grpo, rloo, reinforce_pp_baseline, grpo_passk, opo, gpg, one
 * scalar per rollout, with each framework's constants behind rk__adv_cfg.
 *
 * Not here: token-level estimators (gae, reinforce_plus_plus, remax), KL
 * in the reward, and parsing the spec's "advantage" object (the spec
 * compiler does that). docs/advantages.md documents every rule below.
 *
 * Everything is computed in double with two-pass group statistics; the
 * only allocation is one O(ngroups) scratch array, freed before return.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/advantage.h"

/* ------------------------------------------------------------- names */

static const struct {
  const char *name;
  rk__adv_estimator e;
} rk__adv_names[] = {
    {"grpo", RK__ADV_GRPO},
    {"dr_grpo", RK__ADV_DR_GRPO},
    {"rloo", RK__ADV_RLOO},
    {"reinforce_pp_baseline", RK__ADV_REINFORCE_PP_BASELINE},
    /* verl's spelling: AdvantageEstimator.REINFORCE_PLUS_PLUS_BASELINE. */
    {"reinforce_plus_plus_baseline", RK__ADV_REINFORCE_PP_BASELINE},
    {"grpo_passk", RK__ADV_GRPO_PASSK},
    {"opo", RK__ADV_OPO},
    {"gpg", RK__ADV_GPG},
};

#define RK__ADV_NNAMES (sizeof rk__adv_names / sizeof rk__adv_names[0])

rk__adv_estimator rk__adv_by_name(const char *name) {
  if (!name) return RK__ADV_NONE;
  for (size_t i = 0; i < RK__ADV_NNAMES; i++)
    if (strcmp(name, rk__adv_names[i].name) == 0) return rk__adv_names[i].e;
  return RK__ADV_NONE;
}

const char *rk__adv_name(rk__adv_estimator e) {
  /* The first entry for e is its canonical name; aliases come after it. */
  for (size_t i = 0; i < RK__ADV_NNAMES; i++)
    if (rk__adv_names[i].e == e) return rk__adv_names[i].name;
  return "none";
}

void rk__adv_defaults(rk__adv_cfg *cfg, rk__adv_estimator e) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->estimator = e;
  cfg->eps = 1e-6;        /* verl core_algos.py: epsilon=1e-6 */
  cfg->unbiased_std = 1;  /* verl: torch.std, Bessel-corrected */
  cfg->norm_by_std = 1;   /* verl: norm_adv_by_std_in_grpo=True */
  cfg->min_std = 0.0;     /* no floor: verl has none */
  cfg->singleton = RK__SINGLETON_VERL;
  cfg->whiten_eps = 1e-8; /* verl torch_functional.masked_whiten */
}

/* ------------------------------------------------------ group scratch */

/* Per-group accumulators. "Scored" members are those with a non-NaN
 * reward; only they enter any statistic. */
typedef struct rk__adv_grp {
  size_t n;          /* scored members */
  double first;      /* reward of the first scored member */
  int all_equal;     /* every scored reward == first (exact compare) */
  double sum;        /* pass 1: sum of rewards */
  double mean;       /* sum / n, or exactly `first` when all_equal */
  double m2;         /* pass 2: sum (r - mean)^2 */
  double dev;        /* pass 2: sum (r - mean), the rounding residue */
  double lsum;       /* opo: sum L_j */
  double lrsum;      /* opo: sum L_j r_j */
  size_t best;       /* grpo_passk: first index holding the maximum */
  double rmax;       /* grpo_passk: maximum reward */
  double r2;         /* grpo_passk: largest reward among the others */
} rk__adv_grp;

/* Group std, n >= 2. The corrected two-pass formula (Chan, Golub and
 * LeVeque 1983): ss = sum (r - mean)^2 - (sum (r - mean))^2 / n, which
 * removes the error of a rounded mean. An all-equal group is exactly 0,
 * so it never produces a rounding residue std (NeMo-RL PR #4161). */
static double rk__adv_grp_std(const rk__adv_grp *g, int unbiased) {
  if (g->all_equal) return 0.0;
  double ss = g->m2 - g->dev * g->dev / (double)g->n;
  if (ss < 0.0) ss = 0.0;
  /* torch.std (verl, TRL, OpenRLHF): divide by n - 1; biased: by n. */
  return sqrt(ss / (double)(unbiased ? g->n - 1 : g->n));
}

/* std_used = max(std, min_std); the divisor is std_used + eps. */
static double rk__adv_denom(const rk__adv_cfg *cfg, double std) {
  if (std < cfg->min_std) std = cfg->min_std;
  return std + cfg->eps;
}

/* Advantage of the only scored member of a group (r finite). */
static double rk__adv_single(const rk__adv_cfg *cfg, double r,
                             double gpg_alpha) {
  if (cfg->singleton == RK__SINGLETON_ZERO) return 0.0;
  /* RK__SINGLETON_VERL. verl core_algos.py gives a group of one mean 0
   * (and std 1 where a std is used), so the baseline vanishes. */
  switch (cfg->estimator) {
  case RK__ADV_GRPO:
  case RK__ADV_GRPO_PASSK:
    /* grpo: A = (r - 0) / (1 + eps), with the std floor applied to the
     * pseudo-std 1 like any other std. verl's grpo_passk raises for a
     * group of one; we extend grpo's rule (missing runner-up = 0). */
    return cfg->norm_by_std ? r / rk__adv_denom(cfg, 1.0) : r;
  case RK__ADV_GPG:
    return gpg_alpha * r; /* verl gpg: alpha (r - 0) / f_norm, f_norm = 1 */
  case RK__ADV_DR_GRPO:   /* verl grpo without std: r - 0 */
  case RK__ADV_RLOO:      /* verl rloo: baseline 0 (rloo_vectorized: 0) */
  case RK__ADV_REINFORCE_PP_BASELINE: /* r - 0, then batch whitening */
  case RK__ADV_OPO:       /* verl opo: id2bsl = 0 */
  default:
    return r;
  }
}

/* ---------------------------------------------------------- compute */

static int rk__adv_cfg_ok(const rk__adv_cfg *cfg) {
  if (cfg->estimator <= RK__ADV_NONE || cfg->estimator > RK__ADV_GPG)
    return 0;
  if (cfg->singleton != RK__SINGLETON_VERL &&
      cfg->singleton != RK__SINGLETON_ZERO)
    return 0;
  /* !(x >= 0) also rejects NaN. */
  if (!(cfg->eps >= 0.0) || !isfinite(cfg->eps)) return 0;
  if (!(cfg->min_std >= 0.0) || !isfinite(cfg->min_std)) return 0;
  if (!(cfg->whiten_eps >= 0.0) || !isfinite(cfg->whiten_eps)) return 0;
  return 1;
}

/* Whether rollout i takes part in reinforce_pp_baseline's batch whitening:
 * scored, and not a singleton zeroed by RK__SINGLETON_ZERO (that one keeps
 * A = 0 and stays out of the batch statistics). */
static int rk__adv_in_batch(const rk__adv_cfg *cfg, const double *r,
                            const size_t *group, const rk__adv_grp *gs,
                            size_t i) {
  return !isnan(r[i]) &&
         !(gs[group[i]].n == 1 && cfg->singleton == RK__SINGLETON_ZERO);
}

/* Batch whitening for reinforce_pp_baseline, in place over the
 * pre-whitening values adv[i] = r_i - mean_G of the rollouts in the batch.
 * verl verl/utils/torch_functional.py masked_whiten:
 *   (x - mean_batch) * rsqrt(var_unbiased_batch + 1e-8).
 * verl whitens over tokens (every token of a response carries the same
 * value); we have one value per rollout, so this whitens over sequences. */
static void rk__adv_whiten(const rk__adv_cfg *cfg, const double *r,
                           const size_t *group, const rk__adv_grp *gs,
                           size_t n, double *adv) {
  size_t m = 0;
  double sum = 0.0, first = 0.0;
  int all_equal = 1;
  for (size_t i = 0; i < n; i++) {
    if (!rk__adv_in_batch(cfg, r, group, gs, i)) continue;
    if (m == 0) first = adv[i];
    else if (adv[i] != first) all_equal = 0;
    sum += adv[i];
    m++;
  }
  if (m == 0) return;
  /* All equal (including m == 1, where verl's unbiased masked_var raises
   * on a division by zero): every whitened value is exactly 0. */
  if (all_equal) {
    for (size_t i = 0; i < n; i++)
      if (rk__adv_in_batch(cfg, r, group, gs, i)) adv[i] = 0.0;
    return;
  }
  /* Corrected two-pass mean and variance, as for the groups. */
  double mean = sum / (double)m, m2 = 0.0, dev = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (!rk__adv_in_batch(cfg, r, group, gs, i)) continue;
    double d = adv[i] - mean;
    m2 += d * d;
    dev += d;
  }
  double ss = m2 - dev * dev / (double)m;
  if (ss < 0.0) ss = 0.0;
  double var = ss / (double)(m - 1); /* m >= 2 here: not all equal */
  double scale = sqrt(var + cfg->whiten_eps);
  for (size_t i = 0; i < n; i++)
    if (rk__adv_in_batch(cfg, r, group, gs, i))
      adv[i] = (adv[i] - mean) / scale;
}

int rk__adv_compute(const rk__adv_cfg *cfg, const double *r,
                    const size_t *group, const double *len, size_t n,
                    size_t ngroups, double *adv, rk__adv_stats *stats) {
  if (!cfg || !rk__adv_cfg_ok(cfg)) return -1;
  if (n > 0 && (!r || !group || !adv)) return -1;
  if (cfg->estimator == RK__ADV_OPO && n > 0 && !len) return -1;

  /* Validate everything before writing anything: on failure the outputs
   * are left untouched. */
  for (size_t i = 0; i < n; i++) {
    if (group[i] >= ngroups) return -1;
    if (isnan(r[i])) continue;           /* no reward: left out */
    if (isinf(r[i])) return -1;          /* not a reward */
    if (cfg->estimator == RK__ADV_OPO && !(len[i] >= 0.0 && isfinite(len[i])))
      return -1;
  }

  rk__adv_grp *gs = NULL;
  if (ngroups > 0) {
    gs = calloc(ngroups, sizeof *gs); /* calloc checks the product */
    if (!gs) return -1;
  }

  /* Pass 1: counts, sums, all-equal, opo weights, pass@k top two. */
  size_t scored = 0, nonzero = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(r[i])) continue;
    rk__adv_grp *g = &gs[group[i]];
    double x = r[i];
    if (g->n == 0) {
      g->first = x;
      g->all_equal = 1;
      g->best = i;
      g->rmax = x;
      g->r2 = -(double)INFINITY; /* no runner-up yet */
    } else {
      if (x != g->first) g->all_equal = 0;
      /* Strict >: the first index holding the maximum stays the best. */
      if (x > g->rmax) {
        g->r2 = g->rmax;
        g->rmax = x;
        g->best = i;
      } else if (x > g->r2) {
        g->r2 = x; /* includes x == rmax: a tie makes r2 = rmax */
      }
    }
    g->n++;
    g->sum += x;
    if (cfg->estimator == RK__ADV_OPO) {
      g->lsum += len[i];
      g->lrsum += len[i] * x;
    }
    scored++;
    if (x != 0.0) nonzero++;
  }
  for (size_t k = 0; k < ngroups; k++) {
    rk__adv_grp *g = &gs[k];
    if (g->n == 0) continue;
    /* The mean of equal values is that value, exactly: sum / n may be off
     * by an ulp (0.1 + 0.1 + 0.1 = 0.30000000000000004). */
    g->mean = g->all_equal ? g->first : g->sum / (double)g->n;
  }

  /* Pass 2: squared deviations from the group mean. */
  for (size_t i = 0; i < n; i++) {
    if (isnan(r[i])) continue;
    rk__adv_grp *g = &gs[group[i]];
    double d = r[i] - g->mean;
    g->m2 += d * d;
    g->dev += d;
  }

  /* gpg (verl core_algos.py compute_gpg_outcome_advantage):
   *   alpha = B / max(1, #{i : r_i != 0}), B = scored rollouts in the batch.
   * verl counts every row of the batch; unscored (NaN) rows are not part
   * of the batch here. */
  double gpg_alpha = (double)scored / (double)(nonzero > 0 ? nonzero : 1);

  for (size_t i = 0; i < n; i++) {
    if (isnan(r[i])) {
      adv[i] = (double)NAN; /* no reward, no advantage */
      continue;
    }
    const rk__adv_grp *g = &gs[group[i]];
    double x = r[i];
    if (g->n == 1) {
      adv[i] = rk__adv_single(cfg, x, gpg_alpha);
      continue;
    }
    if (g->all_equal) {
      /* Every estimator's numerator is exactly 0 here (r - mean = 0,
       * r_max - r_2nd = 0, opo's weighted mean of equal values = r), and
       * 0 / (0 + eps) is 0 even with eps = 0. reinforce_pp_baseline's 0
       * is its pre-whitening value. */
      adv[i] = 0.0;
      continue;
    }
    double nn = (double)g->n;
    switch (cfg->estimator) {
    case RK__ADV_GRPO:
      /* verl core_algos.py compute_grpo_outcome_advantage:
       *   A_i = (r_i - mean_G) / (std_G + eps), eps 1e-6, torch.std;
       * TRL GRPOTrainer eps 1e-4; OpenRLHF group_norm eps 1e-9.
       * norm_adv_by_std_in_grpo=False: A_i = r_i - mean_G. */
      if (cfg->norm_by_std)
        adv[i] = (x - g->mean) /
                 rk__adv_denom(cfg, rk__adv_grp_std(g, cfg->unbiased_std));
      else
        adv[i] = x - g->mean;
      break;
    case RK__ADV_DR_GRPO:
    case RK__ADV_REINFORCE_PP_BASELINE:
      /* Dr.GRPO (OpenRLHF dr_grpo, verl grpo without std) and the
       * pre-whitening value of verl compute_reinforce_plus_plus_baseline_
       * outcome_advantage: A_i = r_i - mean_G. */
      adv[i] = x - g->mean;
      break;
    case RK__ADV_RLOO:
      /* verl compute_rloo_outcome_advantage, OpenRLHF rloo:
       *   A_i = r_i - mean_{j != i} r_j = n/(n-1) (r_i - mean_G). */
      adv[i] = nn / (nn - 1.0) * (x - g->mean);
      break;
    case RK__ADV_GRPO_PASSK:
      /* verl compute_grpo_passk_outcome_advantage (arXiv 2503.19595):
       * only the best sample gets A = r_max - r_2nd, divided by
       * (std_G + eps) when norm_adv_by_std_in_grpo; the rest get 0.
       * With a tie at the top r_2nd = r_max, so which tied index is
       * "best" never changes a value. */
      if (i != g->best) {
        adv[i] = 0.0;
      } else {
        double a = g->rmax - g->r2;
        if (cfg->norm_by_std)
          a /= rk__adv_denom(cfg, rk__adv_grp_std(g, cfg->unbiased_std));
        adv[i] = a;
      }
      break;
    case RK__ADV_OPO: {
      /* verl compute_opo_outcome_advantage (arXiv 2505.23585):
       *   b = sum_j L_j r_j / sum_j L_j, A_i = r_i - b.
       * All lengths 0 (verl: 0/0 = NaN): fall back to the plain mean. */
      double b = g->lsum > 0.0 ? g->lrsum / g->lsum : g->mean;
      adv[i] = x - b;
      break;
    }
    case RK__ADV_GPG:
      /* verl compute_gpg_outcome_advantage: A_i = alpha (r_i - mean_G) /
       * f_norm with f_norm = 1 (no std). */
      adv[i] = gpg_alpha * (x - g->mean);
      break;
    case RK__ADV_NONE:
    default:
      adv[i] = (double)NAN; /* unreachable: rk__adv_cfg_ok rejected it */
      break;
    }
  }

  if (cfg->estimator == RK__ADV_REINFORCE_PP_BASELINE)
    rk__adv_whiten(cfg, r, group, gs, n, adv);

  if (stats) {
    rk__adv_stats s = {0, 0, 0};
    for (size_t k = 0; k < ngroups; k++) {
      if (gs[k].n == 0) continue; /* empty or all-NaN: counts nowhere */
      s.groups++;
      if (gs[k].n == 1) s.singletons++;
      else if (gs[k].all_equal) s.zero_variance++;
    }
    *stats = s;
  }
  free(gs);
  return 0;
}
