/*
 * spec.h - the compiled spec (internal view) and its evaluation, used by
 * the engine. The format itself is documented in docs/spec.md.
 */
#ifndef RK_CORE_SPEC_H
#define RK_CORE_SPEC_H

#include "core/advantage.h"
#include "core/core.h"

typedef struct rk__filter {
  int enabled;
  int zero_variance;   /* groups whose scored rewards are all equal */
  int has_range;       /* group mean must lie strictly inside (lo, hi) */
  double lo, hi;
  int drop;            /* 1: drop the records, 0: flag them */
} rk__filter;

struct rk_spec {
  rk__node *root;
  size_t ncomp;
  char **comp_names;   /* component names, index = component slot */
  char **comp_keys;    /* the same as JSON keys: "\"name\":" */
  size_t *comp_key_len;
  rk__adv_cfg adv;     /* estimator RK__ADV_NONE when absent */
  rk__filter filter;
  int calls_model;     /* a leaf's function calls inference servers */
  char *json;          /* the spec as given, re-serialised compactly */
  size_t json_len;
};

/* Per-record evaluation state owned by the engine (rk__call.engine). */
typedef struct rk__eval_state {
  double *comp;        /* ncomp values, NaN = not computed */
  rk__buf *comp_explain; /* ncomp buffers when explaining, else NULL */
  int nested;          /* > 0 while inside rk__node_eval: no components */
} rk__eval_state;

/* Evaluates the spec's root on c->rec. Returns the record status (most
 * severe among the leaves evaluated) and *reward (NaN when null). */
rk_status rk__spec_eval(const rk_spec *spec, rk__call *c, double *reward);

/* The function and config of the spec's root when it is a leaf
 * ({"reward": {"fn": ...}}), else NULL with *kind the root's kind
 * ("sum", "gate", ...); for calls that take one reward function only
 * (rk_corpus_score). */
const rk__fn *rk__spec_root_fn(const rk_spec *spec, const void **cfg, const char **kind);

/* Severity order for merging statuses: error > timeout > invalid_reference
 * > unparseable > ok. */
rk_status rk__status_worse(rk_status a, rk_status b);

#endif /* RK_CORE_SPEC_H */
