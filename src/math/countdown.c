/*
 * countdown.c - the `countdown` reward (TinyZero Countdown, the 24 game):
 * the response's final expression may use only + - * / and parentheses on
 * integers, must use exactly the given numbers (each once by default), and
 * must evaluate exactly (GMP rationals, so 8/(3-8/3) = 24 holds) to the
 * target. 1 when all hold, else `format_score` (default 0) with the reason.
 *
 * Target and numbers come from the reference object {"target": 24,
 * "numbers": [...]} (TinyZero's ground_truth; "nums" also read) or from the
 * record's top-level "target" and "numbers"/"nums" fields.
 *
 * Not for: general math answers (math.c).
 */
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "json/json.h"
#include "math/mexpr.h"
#include "text/extract.h"
#include "text/normalize.h"

typedef struct cd_cfg {
  rk__extract_cfg ex;
  int reuse;      /* numbers may be used more than once */
  int use_all;    /* every given number must be used */
  double format_score;
} cd_cfg;

static void cd_free(void *p) {
  cd_cfg *m = p;
  if (!m) return;
  rk__extract_cfg_free(&m->ex);
  free(m);
}

static int cd_compile(rk__argctx *ac, void **out) {
  cd_cfg *m = calloc(1, sizeof *m);
  if (!m) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__extract_cfg_compile(ac, RK__EX_AUTO, &m->ex) || rk__arg_bool(ac, "reuse", 0, &m->reuse) ||
      rk__arg_bool(ac, "use_all", 1, &m->use_all) ||
      rk__arg_num(ac, "format_score", 0, &m->format_score)) {
    cd_free(m);
    return -1;
  }
  *out = m;
  return 0;
}

#define CD_MAX_NUMS 32

static const rk__jval *cd_field(rk__call *c, const char *a, const char *b) {
  const rk__jval *ref = c->rec->reference, *v = NULL;
  if (ref && ref->type == RK__JOBJ) {
    v = rk__json_get(ref, a);
    if (!v && b) v = rk__json_get(ref, b);
  }
  if (!v) v = rk__record_field(c->rec, a);
  if (!v && b) v = rk__record_field(c->rec, b);
  return v;
}

/* Only digits, spaces, + - * / ( ) and \times \cdot \div; no implicit
 * products (a number or ')' followed by '(' or a number). Returns NULL or
 * the reason. */
static const char *cd_chars(rk__str s) {
  int prev_operand = 0;
  for (size_t i = 0; i < s.n;) {
    char ch = s.p[i];
    if (ch == ' ' || ch == '\t' || ch == '\n') {
      i++;
      continue;
    }
    if (ch >= '0' && ch <= '9') {
      if (prev_operand) return "two operands without an operator";
      while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9') i++;
      prev_operand = 1;
      continue;
    }
    if (ch == '(') {
      if (prev_operand) return "implicit multiplication before '('";
      i++;
      continue;
    }
    if (ch == ')') {
      prev_operand = 1;
      i++;
      continue;
    }
    if (ch == '+' || ch == '-' || ch == '*' || ch == '/') {
      prev_operand = 0;
      i++;
      continue;
    }
    if (ch == '\\') {
      static const char *const ok[] = {"\\times", "\\cdot", "\\div", NULL};
      int hit = 0;
      for (int k = 0; ok[k]; k++) {
        size_t l = strlen(ok[k]);
        if (s.n - i >= l && memcmp(s.p + i, ok[k], l) == 0) {
          i += l;
          hit = 1;
          break;
        }
      }
      if (hit) {
        prev_operand = 0;
        continue;
      }
    }
    return "only integers, + - * / and parentheses are allowed";
  }
  return NULL;
}

static int cd_leaves(const mnode *n, long *out, int *cnt, int depth) {
  if (!n || depth > 200) return -1;
  switch (n->k) {
    case MN_NUM: {
      if (n->dec || n->exp10 || n->s.n > 15) return -1;
      long v = 0;
      for (size_t i = 0; i < n->s.n; i++) v = v * 10 + (n->s.p[i] - '0');
      if (*cnt >= CD_MAX_NUMS * 4) return -1;
      out[(*cnt)++] = v;
      return 0;
    }
    case MN_NEG:
      return cd_leaves(n->kid[0], out, cnt, depth + 1);
    case MN_ADD: case MN_SUB: case MN_MUL: case MN_DIV:
      return cd_leaves(n->kid[0], out, cnt, depth + 1) || cd_leaves(n->kid[1], out, cnt, depth + 1) ? -1 : 0;
    default:
      return -1;
  }
}

static rk_status cd_score_inner(const void *cfgp, rk__call *c, double *value) {
  const cd_cfg *cfg = cfgp;
  *value = 0;
  const rk__jval *tv = cd_field(c, "target", NULL), *nv = cd_field(c, "numbers", "nums");
  if (!tv || tv->type != RK__JNUM || !nv || nv->type != RK__JARR || nv->u.arr.n == 0 ||
      nv->u.arr.n > CD_MAX_NUMS) {
    rk__explain(c, "need a numeric 'target' and a 'numbers' array of 1..32 integers");
    return RK_STATUS_INVALID_REFERENCE;
  }
  long nums[CD_MAX_NUMS];
  size_t nn = nv->u.arr.n;
  for (size_t i = 0; i < nn; i++) {
    const rk__jval *e = &nv->u.arr.items[i];
    if (e->type != RK__JNUM || e->u.num != (double)(long)e->u.num || e->u.num < 0 || e->u.num > 1e15) {
      rk__explain(c, "numbers must be non-negative integers");
      return RK_STATUS_INVALID_REFERENCE;
    }
    nums[i] = (long)e->u.num;
  }
  rk__str ans;
  const char *how;
  rk_status st = rk__extract(&cfg->ex, c, c->rec->response, &ans, &how);
  if (st != RK_STATUS_OK) return st;
  ans = rk__text_clean(ans);
  /* "(1+2)*8 = 24": drop a trailing "= result" */
  const char *eq = memchr(ans.p, '=', ans.n);
  if (eq) ans = rk__text_trim(rk__str_make(ans.p, (size_t)(eq - ans.p)));
  const char *why = cd_chars(ans);
  if (!ans.n) why = "empty expression";
  if (why) {
    rk__explain(c, "expression '%.*s': %s", ans.n > 60 ? 60 : (int)ans.n, ans.p, why);
    *value = 0;
    return RK_STATUS_UNPARSEABLE;
  }
  mnode *m;
  char err[160];
  int rc = rk__math_parse(ans, c, &m, err, sizeof err);
  if (rc == MP_LIMIT) return RK_STATUS_TIMEOUT;
  long used[CD_MAX_NUMS * 4];
  int nu = 0;
  if (rc || cd_leaves(m, used, &nu, 0)) {
    rk__explain(c, "expression does not parse: %s", rc ? err : "unsupported operation");
    return RK_STATUS_UNPARSEABLE;
  }
  *value = cfg->format_score;
  /* multiset check */
  int taken[CD_MAX_NUMS] = {0};
  for (int i = 0; i < nu; i++) {
    int hit = -1;
    for (size_t j = 0; j < nn && hit < 0; j++)
      if (nums[j] == used[i] && (cfg->reuse ? 1 : !taken[j])) hit = (int)j;
    if (hit < 0) {
      rk__explain(c, "uses %ld, which is not available%s", used[i], cfg->reuse ? "" : " (or used twice)");
      return RK_STATUS_OK;
    }
    taken[hit]++;
  }
  if (cfg->use_all)
    for (size_t j = 0; j < nn; j++)
      if (!taken[j]) {
        rk__explain(c, "does not use %ld", nums[j]);
        return RK_STATUS_OK;
      }
  mpz_t num, den;
  mpz_inits(num, den, NULL);
  int ev = rk__math_exact_value(m, c, num, den);
  rk_status out = RK_STATUS_OK;
  if (ev == MV_LIMIT) {
    out = RK_STATUS_TIMEOUT;
  } else if (ev != 1) {
    rk__explain(c, "expression has no exact value (division by zero?)");
  } else {
    mpq_t v, t;
    mpq_inits(v, t, NULL);
    mpq_set_num(v, num);
    mpq_set_den(v, den);
    mpq_canonicalize(v);
    mpq_set_d(t, tv->u.num);
    char buf[64];
    if (mpq_equal(v, t)) {
      *value = 1;
      rk__explain(c, "uses the numbers and equals the target %s", tv->raw.n < 40 ? "exactly" : "");
    } else {
      gmp_snprintf(buf, sizeof buf, "%Qd", v);
      rk__explain(c, "evaluates to %s, target %.*s", buf, (int)(tv->raw.n > 30 ? 30 : tv->raw.n), tv->raw.p);
    }
    mpq_clears(v, t, NULL);
  }
  mpz_clears(num, den, NULL);
  return out;
}

/* Runs the scoring under a sub-budget of RK__MATH_MAX_STEPS, so that one
 * hostile item ends in milliseconds even under a generous record budget. */
static rk_status cd_score(const void *cfgp, rk__call *c, double *value) {
  rk__budget *outer = c->budget;
  rk__budget local = *outer;
  if (local.limit - local.used > RK__MATH_MAX_STEPS && local.used <= local.limit)
    local.limit = local.used + RK__MATH_MAX_STEPS;
  c->budget = &local;
  rk_status st = cd_score_inner(cfgp, c, value);
  c->budget = outer;
  outer->used = local.used;
  if (st == RK_STATUS_TIMEOUT && local.used > local.limit && local.limit < outer->limit)
    rk__explain(c, "math work cap of %d steps reached", RK__MATH_MAX_STEPS);
  return st;
}

const rk__fn rk__fn_countdown = {
    "countdown",
    "Countdown / 24 game: the expression uses the given numbers and equals the target exactly",
    cd_compile, cd_score, cd_free, 0};
