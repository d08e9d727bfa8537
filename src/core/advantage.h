/*
 * advantage.h - advantage estimators over groups of rollouts (DESIGN §5):
 * grpo, dr_grpo, rloo, reinforce_pp_baseline, grpo_passk, opo, gpg, with
 * each framework's constants behind parity options (docs/advantages.md).
 *
 * Pure functions over arrays: no records, no JSON. The spec compiler turns
 * the spec's "advantage" object into an rk__adv_cfg.
 */
#ifndef RK_CORE_ADVANTAGE_H
#define RK_CORE_ADVANTAGE_H

#include <stddef.h>

typedef enum rk__adv_estimator {
  RK__ADV_NONE = 0,
  RK__ADV_GRPO,
  RK__ADV_DR_GRPO,
  RK__ADV_RLOO,
  RK__ADV_REINFORCE_PP_BASELINE,
  RK__ADV_GRPO_PASSK,
  RK__ADV_OPO,
  RK__ADV_GPG
} rk__adv_estimator;

typedef enum rk__adv_singleton {
  RK__SINGLETON_VERL = 0, /* grpo: mean 0, std 1 -> A = r/(1+eps); rloo: A = r */
  RK__SINGLETON_ZERO      /* A = 0 */
} rk__adv_singleton;

typedef struct rk__adv_cfg {
  rk__adv_estimator estimator;
  double eps;             /* added to std: 1e-6 verl (default), 1e-4 TRL, 1e-9 OpenRLHF */
  int unbiased_std;       /* 1 (default, verl/torch.std) or 0 (population) */
  int norm_by_std;        /* grpo, grpo_passk: divide by std (default 1) */
  double min_std;         /* std floor, applied before adding eps (default 0) */
  rk__adv_singleton singleton;
  double whiten_eps;      /* reinforce_pp_baseline batch whitening (1e-8) */
} rk__adv_cfg;

/* Fills cfg with verl's defaults for `e`. */
void rk__adv_defaults(rk__adv_cfg *cfg, rk__adv_estimator e);
/* Estimator by name ("grpo", ...); RK__ADV_NONE when unknown. */
rk__adv_estimator rk__adv_by_name(const char *name);
const char *rk__adv_name(rk__adv_estimator e);

typedef struct rk__adv_stats {
  size_t groups;             /* groups seen */
  size_t zero_variance;      /* groups with >= 2 scored members, all equal */
  size_t singletons;         /* groups with exactly 1 scored member */
} rk__adv_stats;

/* Computes advantages for n rollouts. r[i] is the reward (NaN = no reward:
 * the rollout is left out of its group's statistics and gets NaN);
 * group[i] in [0, ngroups) is a dense group index; len[i] is the response
 * length (used by opo; may be NULL otherwise). adv[i] receives the
 * advantage. stats may be NULL. Returns 0, or -1 if an input is out of
 * range (group index, infinite reward, opo without len, bad cfg) or memory
 * runs out; adv and stats are then left untouched. */
int rk__adv_compute(const rk__adv_cfg *cfg, const double *r,
                    const size_t *group, const double *len, size_t n,
                    size_t ngroups, double *adv, rk__adv_stats *stats);

#endif /* RK_CORE_ADVANTAGE_H */
