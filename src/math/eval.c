/*
 * eval.c - values of math answers and the equivalence rules.
 *
 * Values are exact complex rationals (GMP mpq) whenever the arithmetic
 * allows: integers of any size up to RK__MATH_MAX_BITS, fractions,
 * decimals read as exactly the number written, integer and perfect-root
 * powers, factorials up to 5000!, binomials, i. Anything irrational (pi,
 * e, sqrt 2, trig, logs) is evaluated with MPFR, twice: at 192 and at 384
 * bits. Two values that are not both exact are equal when their difference
 * is 0 at 384 bits, or below 2^-344 of their size, or shrinks by at least
 * 2^100 from the 192-bit to the 384-bit evaluation (rounding noise shrinks
 * with the precision, a true difference does not). So 1/2004! vs 1/2006!
 * (exact) and sqrt 8 vs 2 sqrt 2 (numeric) are both decided correctly.
 *
 * Expressions with variables are compared at seeded pseudo-random rational
 * points (deterministic); rational functions are then compared exactly at
 * each point (Schwartz-Zippel), the rest numerically as above.
 *
 * Not for: parsing (parse.c) or extraction (math.c).
 */
#include <gmp.h>
#include <math.h>
#include <mpfr.h>
#include <stdlib.h>
#include <string.h>

#include "math/mexpr.h"

/* -------------------------------------------------------------- values */

enum { VK_EXACT, VK_REAL, VK_INF };
enum { E_OK = 0, E_UNDEF, E_TYPE, E_LIMIT };

typedef struct mval {
  int kind;
  int sign;      /* VK_INF */
  int ovf;       /* VK_REAL: overflowed to infinity (a finite huge value) */
  mpq_t re, im;  /* VK_EXACT */
  mpfr_t f;      /* VK_REAL */
  int finit;
} mval;

#define MAX_VARS 8

typedef struct ectx {
  rk__call *c;
  mpfr_prec_t prec;
  int trig;            /* inside a trig argument: degrees become radians */
  unsigned pm_mask;    /* sign choice per +- node, in evaluation order */
  int pm_idx;
  int pct_top;         /* top-level percent: 0 = /100, 1 = bare number */
  const mnode *top;
  int nvars;
  rk__str vars[MAX_VARS];
  const mpq_t *vals;   /* nvars values */
  int err;
  const char *why;
} ectx;

static void v_init(mval *v) {
  v->kind = VK_EXACT;
  v->sign = 0;
  v->ovf = 0;
  mpq_init(v->re);
  mpq_init(v->im);
  v->finit = 0;
}

static void v_clear(mval *v) {
  mpq_clear(v->re);
  mpq_clear(v->im);
  if (v->finit) mpfr_clear(v->f);
}

static void v_finit(ectx *x, mval *v) {
  if (!v->finit) {
    mpfr_init2(v->f, x->prec);
    v->finit = 1;
  }
}

static int fail(ectx *x, int e, const char *why) {
  if (!x->err) {
    x->err = e;
    x->why = why;
  }
  return -1;
}

static size_t q_bits(const mpq_t q) {
  return mpz_sizeinbase(mpq_numref(q), 2) + mpz_sizeinbase(mpq_denref(q), 2);
}

static int v_is_real_exact(const mval *v) { return v->kind == VK_EXACT && mpq_sgn(v->im) == 0; }

/* Converts v to VK_REAL (in place). */
static int v_to_real(ectx *x, mval *v) {
  if (v->kind == VK_REAL) return 0;
  if (v->kind == VK_INF) return fail(x, E_UNDEF, "infinity in arithmetic");
  if (mpq_sgn(v->im) != 0) return fail(x, E_TYPE, "non-real value in an irrational operation");
  v_finit(x, v);
  mpfr_set_q(v->f, v->re, MPFR_RNDN);
  v->kind = VK_REAL;
  return 0;
}

/* Charges `steps` (calibrated so that one step is about a nanosecond on
 * the benchmark machine: big-number operations cost a few steps per bit,
 * a transcendental MPFR function about 40 per bit of precision). */
static int charge(ectx *x, size_t steps) {
  if (!rk__spend(x->c, 1 + steps)) return fail(x, E_LIMIT, "step budget exhausted");
  return 0;
}

/* After an exact operation: too many bits -> continue numerically. */
static int v_check(ectx *x, mval *v) {
  if (v->kind != VK_EXACT) return 0;
  size_t b = q_bits(v->re) + q_bits(v->im);
  if (charge(x, b / 4)) return -1;
  if (b > RK__MATH_MAX_BITS) return v_to_real(x, v);
  return 0;
}

static void v_set_real_ovf(ectx *x, mval *v) {
  if (v->kind == VK_REAL && (mpfr_inf_p(v->f) || mpfr_nan_p(v->f))) v->ovf = 1;
  (void)x;
}

typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV } binop;

static int v_arith(ectx *x, binop op, mval *a, mval *b, mval *r) {
  if (a->kind == VK_INF || b->kind == VK_INF) return fail(x, E_UNDEF, "arithmetic with infinity");
  if (a->kind == VK_EXACT && b->kind == VK_EXACT) {
    r->kind = VK_EXACT;
    switch (op) {
      case OP_ADD:
        mpq_add(r->re, a->re, b->re);
        mpq_add(r->im, a->im, b->im);
        break;
      case OP_SUB:
        mpq_sub(r->re, a->re, b->re);
        mpq_sub(r->im, a->im, b->im);
        break;
      case OP_MUL:
        if (mpq_sgn(a->im) == 0 && mpq_sgn(b->im) == 0) {
          mpq_mul(r->re, a->re, b->re);
          mpq_set_ui(r->im, 0, 1);
        } else {
          mpq_t t1, t2;
          mpq_inits(t1, t2, NULL);
          mpq_mul(t1, a->re, b->re);
          mpq_mul(t2, a->im, b->im);
          mpq_sub(t1, t1, t2);
          mpq_mul(t2, a->re, b->im);
          mpq_mul(r->im, a->im, b->re);
          mpq_add(r->im, r->im, t2);
          mpq_set(r->re, t1);
          mpq_clears(t1, t2, NULL);
        }
        break;
      case OP_DIV:
        if (mpq_sgn(b->re) == 0 && mpq_sgn(b->im) == 0) return fail(x, E_UNDEF, "division by zero");
        if (mpq_sgn(a->im) == 0 && mpq_sgn(b->im) == 0) {
          mpq_div(r->re, a->re, b->re);
          mpq_set_ui(r->im, 0, 1);
        } else {
          mpq_t d, t1, t2, nr;
          mpq_inits(d, t1, t2, nr, NULL);
          mpq_mul(d, b->re, b->re);
          mpq_mul(t1, b->im, b->im);
          mpq_add(d, d, t1);
          mpq_mul(t1, a->re, b->re);
          mpq_mul(t2, a->im, b->im);
          mpq_add(nr, t1, t2);
          mpq_mul(t1, a->im, b->re);
          mpq_mul(t2, a->re, b->im);
          mpq_sub(t1, t1, t2);
          mpq_div(r->re, nr, d);
          mpq_div(r->im, t1, d);
          mpq_clears(d, t1, t2, nr, NULL);
        }
        break;
    }
    return v_check(x, r);
  }
  if (v_to_real(x, a) || v_to_real(x, b)) return -1;
  v_finit(x, r);
  r->kind = VK_REAL;
  switch (op) {
    case OP_ADD: mpfr_add(r->f, a->f, b->f, MPFR_RNDN); break;
    case OP_SUB: mpfr_sub(r->f, a->f, b->f, MPFR_RNDN); break;
    case OP_MUL: mpfr_mul(r->f, a->f, b->f, MPFR_RNDN); break;
    case OP_DIV:
      if (mpfr_zero_p(b->f)) return fail(x, E_UNDEF, "division by zero");
      mpfr_div(r->f, a->f, b->f, MPFR_RNDN);
      break;
  }
  r->ovf = a->ovf || b->ovf;
  v_set_real_ovf(x, r);
  return charge(x, (size_t)x->prec / 2);
}

static int eval(ectx *x, const mnode *n, mval *out);

/* Exact q-th root of a non-negative rational, if it is one. */
static int q_root_exact(mpq_t out, const mpq_t in, unsigned long k) {
  mpz_t a, b;
  mpz_inits(a, b, NULL);
  int ok = mpz_root(a, mpq_numref(in), k) && mpz_root(b, mpq_denref(in), k);
  if (ok) {
    mpq_set_num(out, a);
    mpq_set_den(out, b);
    mpq_canonicalize(out);
  }
  mpz_clears(a, b, NULL);
  return ok;
}

/* out = a ^ e for an exact integer e (fits long). */
static int pow_int(ectx *x, mval *a, long e, mval *out) {
  if (a->kind == VK_EXACT) {
    unsigned long ue = e < 0 ? (unsigned long)(-(e + 1)) + 1 : (unsigned long)e;
    double est = (double)(q_bits(a->re) + q_bits(a->im)) * (double)ue;
    if (mpq_sgn(a->im) == 0 && est <= RK__MATH_MAX_BITS) {
      if (charge(x, (size_t)est * 2)) return -1;
      out->kind = VK_EXACT;
      mpz_pow_ui(mpq_numref(out->re), mpq_numref(a->re), ue);
      mpz_pow_ui(mpq_denref(out->re), mpq_denref(a->re), ue);
      mpq_canonicalize(out->re);
      mpq_set_ui(out->im, 0, 1);
      if (e < 0) {
        if (mpq_sgn(out->re) == 0) return fail(x, E_UNDEF, "zero to a negative power");
        mpq_inv(out->re, out->re);
      }
      return 0;
    }
    if (mpq_sgn(a->im) != 0) {
      if (ue > 64 || est > RK__MATH_MAX_BITS) return fail(x, E_LIMIT, "complex power too large");
      mval acc;
      v_init(&acc);
      mpq_set_ui(acc.re, 1, 1);
      int rc = 0;
      for (unsigned long i = 0; i < ue && !rc; i++) {
        mval t;
        v_init(&t);
        rc = v_arith(x, OP_MUL, &acc, a, &t);
        mpq_set(acc.re, t.re);
        mpq_set(acc.im, t.im);
        v_clear(&t);
      }
      if (!rc && e < 0) {
        mval one;
        v_init(&one);
        mpq_set_ui(one.re, 1, 1);
        rc = v_arith(x, OP_DIV, &one, &acc, out);
        v_clear(&one);
      } else if (!rc) {
        out->kind = VK_EXACT;
        mpq_set(out->re, acc.re);
        mpq_set(out->im, acc.im);
      }
      v_clear(&acc);
      return rc;
    }
  }
  if (v_to_real(x, a)) return -1;
  v_finit(x, out);
  out->kind = VK_REAL;
  if (mpfr_zero_p(a->f) && e < 0) return fail(x, E_UNDEF, "zero to a negative power");
  mpfr_pow_si(out->f, a->f, e, MPFR_RNDN);
  out->ovf = a->ovf;
  v_set_real_ovf(x, out);
  return charge(x, (size_t)x->prec * 8);
}

/* out = a ^ (p/q) for a rational exponent, exact when the root is. */
static int pow_rat(ectx *x, mval *a, const mpq_t ex, mval *out) {
  if (mpz_cmp_ui(mpq_denref(ex), 1) == 0) {
    if (!mpz_fits_slong_p(mpq_numref(ex))) {
      /* |e| >= 2^63: only 0, 1, -1 stay small */
      if (v_is_real_exact(a) && (mpq_sgn(a->re) == 0 || (mpz_cmpabs_ui(mpq_numref(a->re), 1) == 0 &&
                                                           mpz_cmp_ui(mpq_denref(a->re), 1) == 0))) {
        if (mpq_sgn(a->re) == 0 && mpq_sgn(ex) < 0) return fail(x, E_UNDEF, "zero to a negative power");
        out->kind = VK_EXACT;
        mpq_set(out->re, a->re);
        if (mpq_sgn(a->re) < 0 && mpz_even_p(mpq_numref(ex))) mpq_neg(out->re, out->re);
        mpq_set_ui(out->im, 0, 1);
        return 0;
      }
      if (v_to_real(x, a)) return -1;
      v_finit(x, out);
      out->kind = VK_REAL;
      mpfr_t fe;
      mpfr_init2(fe, x->prec);
      mpfr_set_q(fe, ex, MPFR_RNDN);
      mpfr_pow(out->f, a->f, fe, MPFR_RNDN);
      mpfr_clear(fe);
      v_set_real_ovf(x, out);
      return 0;
    }
    return pow_int(x, a, mpz_get_si(mpq_numref(ex)), out);
  }
  /* Non-integer exponent p/q. */
  if (a->kind == VK_EXACT && mpq_sgn(a->im) == 0 && mpz_fits_ulong_p(mpq_denref(ex)) &&
      mpz_get_ui(mpq_denref(ex)) <= 1000 && mpz_fits_slong_p(mpq_numref(ex))) {
    unsigned long q = mpz_get_ui(mpq_denref(ex));
    long p = mpz_get_si(mpq_numref(ex));
    int neg = mpq_sgn(a->re) < 0;
    if (neg && q % 2 == 0) {
      if (q == 2) {
        mpq_t ab, r;
        mpq_inits(ab, r, NULL);
        mpq_abs(ab, a->re);
        int ok = q_root_exact(r, ab, 2);
        int rc = 0;
        if (ok) {
          mval t;
          v_init(&t);
          mpq_set_ui(t.re, 0, 1);
          mpq_set(t.im, r); /* i sqrt|a| */
          rc = pow_int(x, &t, p, out);
          v_clear(&t);
        }
        mpq_clears(ab, r, NULL);
        if (ok) return rc;
      }
      return fail(x, E_TYPE, "even root of a negative number");
    }
    mpq_t ab, r;
    mpq_inits(ab, r, NULL);
    mpq_abs(ab, a->re);
    int ok = charge(x, q_bits(ab) * 4) == 0 && q_root_exact(r, ab, q);
    int rc = 0;
    if (ok) {
      mval t;
      v_init(&t);
      if (neg) mpq_neg(r, r);
      mpq_set(t.re, r);
      rc = pow_int(x, &t, p, out);
      v_clear(&t);
    } else {
      /* irrational: |a|^(p/q) with the sign of an odd root */
      mval t;
      v_init(&t);
      mpq_set(t.re, ab);
      rc = v_to_real(x, &t);
      if (!rc) {
        v_finit(x, out);
        out->kind = VK_REAL;
        if (q == 2) mpfr_sqrt(out->f, t.f, MPFR_RNDN);
        else mpfr_rootn_ui(out->f, t.f, q, MPFR_RNDN);
        rc = charge(x, (size_t)x->prec * 10);
        mpfr_pow_si(out->f, out->f, p, MPFR_RNDN);
        if (neg && (p % 2 != 0)) mpfr_neg(out->f, out->f, MPFR_RNDN);
        v_set_real_ovf(x, out);
      }
      v_clear(&t);
    }
    mpq_clears(ab, r, NULL);
    return rc;
  }
  if (v_to_real(x, a)) return -1;
  if (mpfr_sgn(a->f) < 0) return fail(x, E_TYPE, "negative base with a fractional power");
  v_finit(x, out);
  out->kind = VK_REAL;
  mpfr_t fe;
  mpfr_init2(fe, x->prec);
  mpfr_set_q(fe, ex, MPFR_RNDN);
  mpfr_pow(out->f, a->f, fe, MPFR_RNDN);
  mpfr_clear(fe);
  out->ovf = a->ovf;
  v_set_real_ovf(x, out);
  return charge(x, (size_t)x->prec * 40);
}

static int v_pow(ectx *x, mval *a, mval *b, mval *out) {
  if (a->kind == VK_INF || b->kind == VK_INF) return fail(x, E_UNDEF, "power with infinity");
  if (b->kind == VK_EXACT && mpq_sgn(b->im) == 0) return pow_rat(x, a, b->re, out);
  if (b->kind == VK_EXACT) return fail(x, E_TYPE, "complex exponent");
  if (v_to_real(x, a)) return -1;
  if (mpfr_sgn(a->f) < 0) return fail(x, E_TYPE, "negative base with an irrational power");
  if (mpfr_zero_p(a->f) && mpfr_sgn(b->f) <= 0) return fail(x, E_UNDEF, "0 to a non-positive power");
  v_finit(x, out);
  out->kind = VK_REAL;
  mpfr_pow(out->f, a->f, b->f, MPFR_RNDN);
  out->ovf = a->ovf || b->ovf;
  v_set_real_ovf(x, out);
  return charge(x, (size_t)x->prec * 40);
}

/* Exact non-negative integer value that fits an unsigned long, or -1. */
static int small_uint(const mval *v, unsigned long *u) {
  if (!v_is_real_exact(v) || mpz_cmp_ui(mpq_denref(v->re), 1) != 0 || mpq_sgn(v->re) < 0 ||
      !mpz_fits_ulong_p(mpq_numref(v->re)))
    return -1;
  *u = mpz_get_ui(mpq_numref(v->re));
  return 0;
}

/* log_b(a) exactly when a = b^k for an integer k (both positive rationals). */
static int log_exact(const mpq_t a, const mpq_t b, mpq_t out) {
  if (mpq_sgn(a) <= 0 || mpq_sgn(b) <= 0 || mpq_cmp_ui(b, 1, 1) == 0) return 0;
  if (mpq_cmp_ui(a, 1, 1) == 0) {
    mpq_set_ui(out, 0, 1);
    return 1;
  }
  if (q_bits(a) > 4096 || q_bits(b) > 4096) return 0;
  mpq_t t;
  mpq_init(t);
  int found = 0;
  /* a = b^k, k positive or negative, |k| <= 4096 */
  for (int sgn = 1; sgn >= -1 && !found; sgn -= 2) {
    mpq_set(t, b);
    if (sgn < 0) mpq_inv(t, t);
    for (long k = 1; k <= 4096; k++) {
      int c = mpq_cmp(t, a);
      if (c == 0) {
        mpq_set_si(out, sgn * k, 1);
        found = 1;
        break;
      }
      if (q_bits(t) > q_bits(a) + 2) break;
      if (sgn > 0) mpq_mul(t, t, b);
      else mpq_div(t, t, b);
    }
  }
  mpq_clear(t);
  return found;
}

static int eval_func(ectx *x, const mnode *n, mval *out) {
  mval a;
  v_init(&a);
  int trig = n->op <= MF_COT;
  if (trig) x->trig++;
  int rc = eval(x, n->kid[0], &a);
  if (trig) x->trig--;
  if (rc) goto done;
  if (a.kind == VK_INF) {
    rc = fail(x, E_UNDEF, "function of infinity");
    goto done;
  }
  /* exact special cases */
  if (a.kind == VK_EXACT) {
    int zero = mpq_sgn(a.re) == 0 && mpq_sgn(a.im) == 0;
    switch (n->op) {
      case MF_ABS:
        if (mpq_sgn(a.im) == 0) {
          out->kind = VK_EXACT;
          mpq_abs(out->re, a.re);
          goto done;
        } else {
          mpq_t s;
          mpq_init(s);
          mpq_mul(s, a.re, a.re);
          mpq_mul(out->re, a.im, a.im);
          mpq_add(s, s, out->re);
          mval t;
          v_init(&t);
          mpq_set(t.re, s);
          mpq_t half;
          mpq_init(half);
          mpq_set_ui(half, 1, 2);
          rc = pow_rat(x, &t, half, out);
          mpq_clears(s, half, NULL);
          v_clear(&t);
          goto done;
        }
      case MF_FLOOR:
      case MF_CEIL:
        if (mpq_sgn(a.im) != 0) break;
        out->kind = VK_EXACT;
        if (n->op == MF_FLOOR) mpz_fdiv_q(mpq_numref(out->re), mpq_numref(a.re), mpq_denref(a.re));
        else mpz_cdiv_q(mpq_numref(out->re), mpq_numref(a.re), mpq_denref(a.re));
        mpz_set_ui(mpq_denref(out->re), 1);
        goto done;
      case MF_SIN: case MF_TAN: case MF_ASIN: case MF_ATAN: case MF_SINH: case MF_TANH:
        if (zero) {
          out->kind = VK_EXACT;
          goto done;
        }
        break;
      case MF_COS: case MF_SEC: case MF_COSH: case MF_EXP:
        if (zero) {
          out->kind = VK_EXACT;
          mpq_set_ui(out->re, 1, 1);
          goto done;
        }
        break;
      case MF_LN:
        if (mpq_sgn(a.im) == 0 && mpq_cmp_ui(a.re, 1, 1) == 0) {
          out->kind = VK_EXACT;
          goto done;
        }
        break;
      case MF_LOG:
        if (n->nk > 1 && n->kid[1] && mpq_sgn(a.im) == 0) {
          mval b;
          v_init(&b);
          rc = eval(x, n->kid[1], &b);
          if (!rc && v_is_real_exact(&b) && log_exact(a.re, b.re, out->re)) {
            out->kind = VK_EXACT;
            v_clear(&b);
            goto done;
          }
          v_clear(&b);
          if (rc) goto done;
        } else if (mpq_sgn(a.im) == 0 && mpq_cmp_ui(a.re, 1, 1) == 0) {
          out->kind = VK_EXACT;
          goto done;
        }
        break;
      default:
        break;
    }
  }
  if ((rc = v_to_real(x, &a))) goto done;
  if ((rc = charge(x, (size_t)x->prec * 40))) goto done;
  /* Argument reduction of a huge argument costs as many bits as its
   * exponent (sin(10^100000) takes seconds): capped. */
  if (n->op <= MF_COT && !mpfr_zero_p(a.f) && mpfr_number_p(a.f) && mpfr_get_exp(a.f) > 64) {
    rc = fail(x, E_LIMIT, "trigonometric argument larger than 2^64");
    goto done;
  }
  v_finit(x, out);
  out->kind = VK_REAL;
  mpfr_ptr f = out->f;
  mpfr_srcptr s = a.f;
  switch (n->op) {
    case MF_SIN: mpfr_sin(f, s, MPFR_RNDN); break;
    case MF_COS: mpfr_cos(f, s, MPFR_RNDN); break;
    case MF_TAN: mpfr_tan(f, s, MPFR_RNDN); break;
    case MF_SEC: mpfr_sec(f, s, MPFR_RNDN); break;
    case MF_CSC: mpfr_csc(f, s, MPFR_RNDN); break;
    case MF_COT: mpfr_cot(f, s, MPFR_RNDN); break;
    case MF_ASIN:
    case MF_ACOS:
      if (mpfr_cmpabs_ui(s, 1) > 0) {
        rc = fail(x, E_UNDEF, "inverse sine/cosine outside [-1, 1]");
        goto done;
      }
      if (n->op == MF_ASIN) mpfr_asin(f, s, MPFR_RNDN);
      else mpfr_acos(f, s, MPFR_RNDN);
      break;
    case MF_ATAN: mpfr_atan(f, s, MPFR_RNDN); break;
    case MF_SINH: mpfr_sinh(f, s, MPFR_RNDN); break;
    case MF_COSH: mpfr_cosh(f, s, MPFR_RNDN); break;
    case MF_TANH: mpfr_tanh(f, s, MPFR_RNDN); break;
    case MF_EXP: mpfr_exp(f, s, MPFR_RNDN); break;
    case MF_ABS: mpfr_abs(f, s, MPFR_RNDN); break;
    case MF_FLOOR: mpfr_floor(f, s); break;
    case MF_CEIL: mpfr_ceil(f, s); break;
    case MF_LN:
    case MF_LOG:
      if (mpfr_sgn(s) <= 0) {
        rc = fail(x, E_UNDEF, "logarithm of a non-positive number");
        goto done;
      }
      mpfr_log(f, s, MPFR_RNDN);
      if (n->op == MF_LOG && n->nk > 1 && n->kid[1]) {
        mval b;
        v_init(&b);
        rc = eval(x, n->kid[1], &b);
        if (!rc) rc = v_to_real(x, &b);
        if (!rc && (mpfr_sgn(b.f) <= 0 || mpfr_cmp_ui(b.f, 1) == 0))
          rc = fail(x, E_UNDEF, "logarithm base not positive or 1");
        if (!rc) {
          mpfr_log(b.f, b.f, MPFR_RNDN);
          mpfr_div(f, f, b.f, MPFR_RNDN);
        }
        v_clear(&b);
      }
      break;
    default:
      rc = fail(x, E_TYPE, "unknown function");
  }
  if (!rc) {
    out->ovf = a.ovf;
    v_set_real_ovf(x, out);
    if (mpfr_nan_p(out->f)) rc = fail(x, E_UNDEF, "undefined value");
  }
done:
  v_clear(&a);
  return rc;
}

static int eval_num(ectx *x, const mnode *n, mval *out) {
  if (charge(x, n->s.n * 8 + n->s.n * n->s.n / 4000)) return -1;
  out->kind = VK_EXACT;
  mpz_ptr z = mpq_numref(out->re);
  if (n->s.n == 0) {
    mpz_set_ui(z, 0);
  } else if (n->s.n < 19) {
    unsigned long long v = 0;
    for (size_t i = 0; i < n->s.n; i++) v = v * 10 + (unsigned)(n->s.p[i] - '0');
    mpz_set_ui(z, (unsigned long)v);
  } else {
    char *tmp = rk__arena_strdup(x->c->arena, n->s.p, n->s.n);
    if (!tmp) return fail(x, E_LIMIT, "out of memory");
    mpz_set_str(z, tmp, 10);
  }
  long e = n->exp10 - n->frac;
  if (e > 100000 || e < -100000) {
    /* 1e999999: numeric */
    mpq_canonicalize(out->re);
    if (v_to_real(x, out)) return -1;
    mpfr_t t;
    mpfr_init2(t, x->prec);
    mpfr_set_ui(t, 10, MPFR_RNDN);
    mpfr_pow_si(t, t, e, MPFR_RNDN);
    mpfr_mul(out->f, out->f, t, MPFR_RNDN);
    mpfr_clear(t);
    v_set_real_ovf(x, out);
    return 0;
  }
  mpz_t p;
  mpz_init(p);
  mpz_ui_pow_ui(p, 10, (unsigned long)(e < 0 ? -e : e));
  if (e >= 0) mpz_mul(z, z, p);
  else mpz_set(mpq_denref(out->re), p);
  mpz_clear(p);
  mpq_canonicalize(out->re);
  if (n->rep.n) {
    /* 0.1(6): + rep / (10^frac * (10^len - 1)) */
    mpq_t r;
    mpq_init(r);
    char buf[64];
    memcpy(buf, n->rep.p, n->rep.n);
    buf[n->rep.n] = 0;
    mpz_set_str(mpq_numref(r), buf, 10);
    mpz_ui_pow_ui(mpq_denref(r), 10, n->rep.n);
    mpz_sub_ui(mpq_denref(r), mpq_denref(r), 1);
    mpz_t t;
    mpz_init(t);
    mpz_ui_pow_ui(t, 10, (unsigned long)n->frac);
    mpz_mul(mpq_denref(r), mpq_denref(r), t);
    mpz_clear(t);
    mpq_canonicalize(r);
    mpq_add(out->re, out->re, r);
    mpq_clear(r);
  }
  return v_check(x, out);
}

static int eval(ectx *x, const mnode *n, mval *out) {
  if (!n) return fail(x, E_TYPE, "missing operand");
  if (x->err) return -1;
  if (charge(x, 1)) return -1;
  int rc = 0;
  switch (n->k) {
    case MN_NUM:
      return eval_num(x, n, out);
    case MN_SYM:
      for (int i = 0; i < x->nvars; i++)
        if (rk__str_eq(x->vars[i], n->s)) {
          out->kind = VK_EXACT;
          mpq_set(out->re, x->vals[i]);
          return 0;
        }
      return fail(x, E_TYPE, "unassigned variable");
    case MN_CONST:
      switch (n->op) {
        case MC_PI:
          v_finit(x, out);
          out->kind = VK_REAL;
          mpfr_const_pi(out->f, MPFR_RNDN);
          return 0;
        case MC_E:
          v_finit(x, out);
          out->kind = VK_REAL;
          mpfr_set_ui(out->f, 1, MPFR_RNDN);
          mpfr_exp(out->f, out->f, MPFR_RNDN);
          return 0;
        case MC_I:
          out->kind = VK_EXACT;
          mpq_set_ui(out->im, 1, 1);
          return 0;
        default:
          out->kind = VK_INF;
          out->sign = 1;
          return 0;
      }
    case MN_NEG:
      if ((rc = eval(x, n->kid[0], out))) return rc;
      if (out->kind == VK_EXACT) {
        mpq_neg(out->re, out->re);
        mpq_neg(out->im, out->im);
      } else if (out->kind == VK_REAL) {
        mpfr_neg(out->f, out->f, MPFR_RNDN);
      } else {
        out->sign = -out->sign;
      }
      return 0;
    case MN_ADD: case MN_SUB: case MN_MUL: case MN_DIV: case MN_PM: {
      mval a, b;
      v_init(&a);
      v_init(&b);
      binop op = n->k == MN_ADD ? OP_ADD : n->k == MN_SUB ? OP_SUB : n->k == MN_MUL ? OP_MUL : OP_DIV;
      if (n->k == MN_PM) {
        int bit = x->pm_idx++;
        int minus = (int)((x->pm_mask >> (bit & 31)) & 1u) ^ (n->op ? 1 : 0);
        op = minus ? OP_SUB : OP_ADD;
      }
      if (n->kid[0]) rc = eval(x, n->kid[0], &a);
      if (!rc) rc = eval(x, n->kid[1], &b);
      if (!rc) rc = v_arith(x, op, &a, &b, out);
      v_clear(&a);
      v_clear(&b);
      return rc;
    }
    case MN_POW: {
      mval a, b;
      v_init(&a);
      v_init(&b);
      if (n->kid[0]->k == MN_CONST && n->kid[0]->op == MC_E) {
        /* e^y */
        rc = eval(x, n->kid[1], &b);
        if (!rc && v_is_real_exact(&b) && mpq_sgn(b.re) == 0) {
          out->kind = VK_EXACT;
          mpq_set_ui(out->re, 1, 1);
        } else if (!rc && !(rc = v_to_real(x, &b))) {
          v_finit(x, out);
          out->kind = VK_REAL;
          mpfr_exp(out->f, b.f, MPFR_RNDN);
          v_set_real_ovf(x, out);
        }
      } else {
        rc = eval(x, n->kid[0], &a);
        if (!rc) rc = eval(x, n->kid[1], &b);
        if (!rc) rc = v_pow(x, &a, &b, out);
      }
      v_clear(&a);
      v_clear(&b);
      return rc;
    }
    case MN_ROOT: {
      mval a;
      v_init(&a);
      rc = eval(x, n->kid[0], &a);
      mpq_t e;
      mpq_init(e);
      mpq_set_ui(e, 1, 2);
      if (!rc && n->nk > 1 && n->kid[1]) {
        mval k;
        v_init(&k);
        rc = eval(x, n->kid[1], &k);
        unsigned long u;
        if (!rc && (small_uint(&k, &u) || u == 0 || u > 1000))
          rc = fail(x, E_TYPE, "root index is not a small positive integer");
        if (!rc) mpq_set_ui(e, 1, u);
        v_clear(&k);
      }
      if (!rc) {
        if (a.kind == VK_REAL && mpfr_sgn(a.f) < 0 && mpz_even_p(mpq_denref(e)))
          rc = fail(x, E_TYPE, "even root of a negative number");
        else
          rc = pow_rat(x, &a, e, out);
      }
      mpq_clear(e);
      v_clear(&a);
      return rc;
    }
    case MN_FACT: {
      mval a;
      v_init(&a);
      rc = eval(x, n->kid[0], &a);
      unsigned long u = 0;
      if (!rc && small_uint(&a, &u)) {
        if (a.kind == VK_REAL && mpfr_integer_p(a.f) && mpfr_sgn(a.f) >= 0 && !a.ovf) {
          /* huge factorial of a numeric integer: overflow */
          v_finit(x, out);
          out->kind = VK_REAL;
          mpfr_set_inf(out->f, 1);
          out->ovf = 1;
        } else {
          rc = fail(x, E_UNDEF, "factorial of a non-natural number");
        }
      } else if (!rc && u <= RK__MATH_MAX_FACT) {
        size_t lg = 1;
        while ((1ul << lg) < u) lg++;
        if (!(rc = charge(x, u * lg * 4))) {
          out->kind = VK_EXACT;
          mpz_fac_ui(mpq_numref(out->re), u);
          mpz_set_ui(mpq_denref(out->re), 1);
        }
      } else if (!rc) {
        v_finit(x, out);
        out->kind = VK_REAL;
        if (u > 100000000UL) {
          mpfr_set_inf(out->f, 1);
          out->ovf = 1;
        } else {
          mpfr_set_ui(out->f, u + 1, MPFR_RNDN);
          mpfr_gamma(out->f, out->f, MPFR_RNDN);
          v_set_real_ovf(x, out);
        }
        rc = charge(x, (size_t)x->prec * 100);
      }
      v_clear(&a);
      return rc;
    }
    case MN_BINOM: {
      mval a, b;
      v_init(&a);
      v_init(&b);
      rc = eval(x, n->kid[0], &a);
      if (!rc) rc = eval(x, n->kid[1], &b);
      unsigned long un = 0, uk = 0;
      if (!rc && (small_uint(&a, &un) || small_uint(&b, &uk)))
        rc = fail(x, E_TYPE, "binomial of non-natural numbers");
      if (!rc && uk > un) {
        out->kind = VK_EXACT; /* C(n, k) = 0 for k > n */
        v_clear(&a);
        v_clear(&b);
        return 0;
      }
      if (!rc && un > 100000) rc = fail(x, E_LIMIT, "binomial too large");
      if (!rc && !(rc = charge(x, (uk < un - uk ? uk : un - uk) * 25 + 1))) {
        out->kind = VK_EXACT;
        mpz_bin_uiui(mpq_numref(out->re), un, uk);
        mpz_set_ui(mpq_denref(out->re), 1);
      }
      v_clear(&a);
      v_clear(&b);
      return rc;
    }
    case MN_PCT: {
      if ((rc = eval(x, n->kid[0], out))) return rc;
      if (n == x->top && x->pct_top) return 0;
      mval h, t;
      v_init(&h);
      v_init(&t);
      mpq_set_ui(h.re, 100, 1);
      rc = v_arith(x, OP_DIV, out, &h, &t);
      if (!rc) {
        out->kind = t.kind;
        mpq_set(out->re, t.re);
        mpq_set(out->im, t.im);
        if (t.kind == VK_REAL) {
          v_finit(x, out);
          mpfr_set(out->f, t.f, MPFR_RNDN);
        }
      }
      v_clear(&h);
      v_clear(&t);
      return rc;
    }
    case MN_DEG: {
      if ((rc = eval(x, n->kid[0], out))) return rc;
      if (!x->trig) return 0;
      if ((rc = v_to_real(x, out))) return rc;
      mpfr_t pi;
      mpfr_init2(pi, x->prec);
      mpfr_const_pi(pi, MPFR_RNDN);
      mpfr_mul(out->f, out->f, pi, MPFR_RNDN);
      mpfr_div_ui(out->f, out->f, 180, MPFR_RNDN);
      mpfr_clear(pi);
      return 0;
    }
    case MN_FUNC:
      return eval_func(x, n, out);
    case MN_TEXT:
      return fail(x, E_TYPE, "text in place of a value");
    default:
      return fail(x, E_TYPE, "a set, tuple, interval, matrix or relation in place of a number");
  }
}

/* ---------------------------------------------------------- structure */

static int has_kind(const mnode *n, mkind k, int depth) {
  if (!n || depth > 300) return 0;
  if (n->k == k) return 1;
  for (int i = 0; i < n->nk; i++)
    if (has_kind(n->kid[i], k, depth + 1)) return 1;
  return 0;
}

static int has_decimal(const mnode *n, int depth) {
  if (!n || depth > 300) return 0;
  if (n->k == MN_NUM && n->dec) return 1;
  for (int i = 0; i < n->nk; i++)
    if (has_decimal(n->kid[i], depth + 1)) return 1;
  return 0;
}

static int count_pm(const mnode *n, int depth) {
  if (!n || depth > 300) return 0;
  int c = n->k == MN_PM;
  for (int i = 0; i < n->nk; i++) c += count_pm(n->kid[i], depth + 1);
  return c;
}

static void collect_vars(const mnode *n, rk__str *v, int *nv, int *over, int depth) {
  if (!n || depth > 300) return;
  if (n->k == MN_SYM) {
    for (int i = 0; i < *nv; i++)
      if (rk__str_eq(v[i], n->s)) return;
    if (*nv >= MAX_VARS) {
      *over = 1;
      return;
    }
    v[(*nv)++] = n->s;
    return;
  }
  for (int i = 0; i < n->nk; i++) collect_vars(n->kid[i], v, nv, over, depth + 1);
}

static int is_scalar(const mnode *n) {
  switch (n->k) {
    case MN_TUPLE: case MN_SET: case MN_INTERVAL: case MN_UNION: case MN_MATRIX: case MN_REL:
    case MN_LIST: case MN_TEXT: case MN_EMPTY: case MN_REALS:
      return 0;
    default:
      return !has_kind(n, MN_MATRIX, 0) && !has_kind(n, MN_TUPLE, 0);
  }
}

/* ------------------------------------------------------ scalar compare */

typedef struct cmpctx {
  rk__call *c;
  const rk__math_opts *o;
  int limit;           /* a cap was hit */
  const char *limit_why;
  const char *unsupported; /* why a value could not be evaluated, if so */
  const char *rule;
} cmpctx;

typedef struct side {
  const mnode *n;
  unsigned pm_mask;
  int pct_top;
} side;

/* Evaluates s at precision prec with the given variable assignment. */
static int eval_side(cmpctx *cc, const side *s, mpfr_prec_t prec, rk__str *vars, int nv,
                     const mpq_t *vals, mval *out, int *err) {
  ectx x;
  memset(&x, 0, sizeof x);
  x.c = cc->c;
  x.prec = prec;
  x.pm_mask = s->pm_mask;
  x.pct_top = s->pct_top;
  x.top = s->n;
  x.nvars = nv;
  for (int i = 0; i < nv; i++) x.vars[i] = vars[i];
  x.vals = vals;
  int rc = eval(&x, s->n, out);
  *err = rc ? (x.err ? x.err : E_TYPE) : 0;
  if (*err == E_LIMIT && !cc->limit_why) cc->limit_why = x.why;
  if (*err == E_TYPE && !cc->unsupported) cc->unsupported = x.why;
  return rc;
}

/* Are two evaluated values equal? 1 yes, 0 no, -1 cannot tell yet (need
 * the second precision). */
static int quick_eq(const mval *a, const mval *b) {
  if (a->kind == VK_INF || b->kind == VK_INF)
    return a->kind == VK_INF && b->kind == VK_INF && a->sign == b->sign;
  if (a->kind == VK_EXACT && b->kind == VK_EXACT)
    return mpq_equal(a->re, b->re) && mpq_equal(a->im, b->im);
  if (a->ovf || b->ovf) return (a->ovf && b->ovf) ? -2 : 0;
  return -1;
}

/* Numeric difference d = a - b (both converted to reals). */
static int real_diff(mpfr_prec_t prec, mval *a, mval *b, mpfr_t d, mpfr_t s) {
  mpfr_t fa, fb;
  mpfr_inits2(prec, fa, fb, NULL);
  int ok = 1;
  for (int k = 0; k < 2; k++) {
    mval *v = k ? b : a;
    mpfr_ptr f = k ? fb : fa;
    if (v->kind == VK_REAL) mpfr_set(f, v->f, MPFR_RNDN);
    else if (mpq_sgn(v->im) == 0) mpfr_set_q(f, v->re, MPFR_RNDN);
    else ok = 0;
  }
  if (ok) {
    mpfr_sub(d, fa, fb, MPFR_RNDN);
    mpfr_abs(fa, fa, MPFR_RNDN);
    mpfr_abs(fb, fb, MPFR_RNDN);
    mpfr_max(s, fa, fb, MPFR_RNDN);
  }
  mpfr_clears(fa, fb, NULL);
  return ok;
}

/* Compares a and b at one assignment. 1 equal, 0 not, -1 undefined at
 * this point (skip it), -2 cannot be decided (limit). */
static int values_eq(cmpctx *cc, const side *a, const side *b, rk__str *vars, int nv,
                     const mpq_t *vals) {
  mval va, vb;
  v_init(&va);
  v_init(&vb);
  int ea = 0, eb = 0, r;
  eval_side(cc, a, RK__MATH_PREC1, vars, nv, vals, &va, &ea);
  if (ea != E_LIMIT) eval_side(cc, b, RK__MATH_PREC1, vars, nv, vals, &vb, &eb);
  if (ea == E_LIMIT || eb == E_LIMIT) {
    r = -2;
  } else if (ea || eb) {
    r = (ea == E_UNDEF || eb == E_UNDEF) ? -1 : 0;
    if (!ea != !eb && r == -1) r = -4; /* defined on one side only */
    if (ea == E_TYPE || eb == E_TYPE) r = -3;
  } else {
    r = quick_eq(&va, &vb);
    if (r == -2 && !cc->limit_why)
      cc->limit_why = "both values overflow MPFR's exponent range (beyond 10^300000000): not comparable";
    if (r == -1) {
      mpfr_t d1, s1;
      mpfr_inits2(RK__MATH_PREC1, d1, s1, NULL);
      if (!real_diff(RK__MATH_PREC1, &va, &vb, d1, s1)) {
        r = 0;
      } else {
        mval wa, wb;
        v_init(&wa);
        v_init(&wb);
        eval_side(cc, a, RK__MATH_PREC2, vars, nv, vals, &wa, &ea);
        if (!ea) eval_side(cc, b, RK__MATH_PREC2, vars, nv, vals, &wb, &eb);
        if (ea || eb) {
          r = (ea == E_LIMIT || eb == E_LIMIT) ? -2 : 0;
        } else {
          mpfr_t d2, s2;
          mpfr_inits2(RK__MATH_PREC2, d2, s2, NULL);
          if (!real_diff(RK__MATH_PREC2, &wa, &wb, d2, s2)) {
            r = 0;
          } else if (mpfr_zero_p(d2)) {
            r = 1;
          } else {
            /* |d2| <= 2^-344 |s2|, or |d2| * 2^100 <= |d1| */
            mpfr_abs(d2, d2, MPFR_RNDN);
            mpfr_abs(d1, d1, MPFR_RNDN);
            mpfr_mul_2si(s2, s2, -(RK__MATH_PREC2 - 40), MPFR_RNDN);
            if (mpfr_cmp(d2, s2) <= 0) {
              r = 1;
            } else {
              mpfr_mul_2si(d2, d2, 100, MPFR_RNDN);
              r = mpfr_cmp(d2, d1) <= 0;
            }
          }
          mpfr_clears(d2, s2, NULL);
        }
        v_clear(&wa);
        v_clear(&wb);
      }
      mpfr_clears(d1, s1, NULL);
    } else if (r == -2) {
      r = -2;
    }
  }
  v_clear(&va);
  v_clear(&vb);
  return r;
}

/* Deterministic xorshift for the evaluation points. */
static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

static void random_point(uint64_t *seed, mpq_t *vals, int nv) {
  for (int i = 0; i < nv; i++) {
    long num = (long)(rng_next(seed) % 37) - 18;
    if (num == 0) num = 7;
    unsigned long den = 1 + rng_next(seed) % 6;
    mpq_set_si(vals[i], num, den);
    mpq_canonicalize(vals[i]);
  }
}

/* Equality of two scalar sides for all values of their variables. */
static int sides_eq(cmpctx *cc, const side *a, const side *b) {
  rk__str vars[MAX_VARS];
  int nv = 0, over = 0;
  collect_vars(a->n, vars, &nv, &over, 0);
  collect_vars(b->n, vars, &nv, &over, 0);
  if (over) return 0;
  if (nv == 0) {
    int r = values_eq(cc, a, b, NULL, 0, NULL);
    if (r == -2) cc->limit = 1;
    return r == 1;
  }
  mpq_t vals[MAX_VARS];
  for (int i = 0; i < nv; i++) mpq_init(vals[i]);
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  int good = 0, verdict = -1, one_sided = 0;
  for (int attempt = 0; attempt < 16 && good < 5; attempt++) {
    random_point(&seed, vals, nv);
    int r = values_eq(cc, a, b, vars, nv, (const mpq_t *)vals);
    if (r == -1) continue;
    if (r == -4) {
      /* Defined on one side only: a removable point such as x = 1 in
       * (x^2-1)/(x-1) is tolerated; a domain that differs on a region
       * (ln(x^2) vs 2 ln x at every negative x) is not. */
      if (++one_sided >= 3) {
        verdict = 0;
        break;
      }
      continue;
    }
    if (r == -2) {
      cc->limit = 1;
      verdict = 0;
      break;
    }
    if (r != 1) {
      verdict = 0;
      break;
    }
    good++;
  }
  for (int i = 0; i < nv; i++) mpq_clear(vals[i]);
  if (verdict == 0) return 0;
  return good >= 3;
}

/* Gold decimal with k places (data README rule 6). */
static int gold_decimal_places(const mnode *g) {
  if (g->k == MN_NEG) g = g->kid[0];
  if (g->k == MN_NUM && g->dec && g->exp10 == 0 && g->frac > 0) return g->frac;
  return 0;
}

/* Does the pred's value round to the gold at k places, the pred being an
 * exact non-decimal with a non-terminating expansion? */
static int rounds_to(cmpctx *cc, const side *g, const side *p, int k) {
  mval vg, vp;
  v_init(&vg);
  v_init(&vp);
  int eg, ep, r = 0;
  eval_side(cc, g, RK__MATH_PREC2, NULL, 0, NULL, &vg, &eg);
  eval_side(cc, p, RK__MATH_PREC2, NULL, 0, NULL, &vp, &ep);
  if (!eg && !ep && v_is_real_exact(&vg) && (vp.kind == VK_REAL || v_is_real_exact(&vp))) {
    mpz_t scale, gi;
    mpz_inits(scale, gi, NULL);
    mpz_ui_pow_ui(scale, 10, (unsigned long)k);
    mpz_mul(gi, mpq_numref(vg.re), scale);
    mpz_divexact(gi, gi, mpq_denref(vg.re)); /* gold * 10^k is an integer */
    if (vp.kind == VK_EXACT) {
      /* terminating? denominator of the form 2^a 5^b */
      mpz_t d;
      mpz_init_set(d, mpq_denref(vp.re));
      mpz_t two, five;
      mpz_init_set_ui(two, 2);
      mpz_init_set_ui(five, 5);
      mpz_remove(d, d, two);
      mpz_remove(d, d, five);
      int terminating = mpz_cmp_ui(d, 1) == 0;
      if (!terminating) {
        /* round(p * 10^k), half away from zero (no ties: non-terminating) */
        mpq_t t;
        mpq_init(t);
        mpq_set_z(t, scale);
        mpq_mul(t, t, vp.re);
        mpz_t q2;
        mpz_init(q2);
        mpz_mul_2exp(q2, mpq_numref(t), 1);
        mpz_add(q2, q2, mpq_denref(t));
        mpz_fdiv_q(q2, q2, mpq_denref(t));
        mpz_fdiv_q_2exp(q2, q2, 1); /* floor(t + 1/2) */
        r = mpz_cmp(q2, gi) == 0;
        mpz_clear(q2);
        mpq_clear(t);
      }
      mpz_clears(d, two, five, NULL);
    } else if (!vp.ovf) {
      mpfr_t t;
      mpfr_init2(t, RK__MATH_PREC2);
      mpfr_mul_z(t, vp.f, scale, MPFR_RNDN);
      mpfr_round(t, t);
      mpz_t q2;
      mpz_init(q2);
      mpfr_get_z(q2, t, MPFR_RNDN);
      r = mpz_cmp(q2, gi) == 0;
      mpz_clear(q2);
      mpfr_clear(t);
    }
    mpz_clears(scale, gi, NULL);
  }
  v_clear(&vg);
  v_clear(&vp);
  return r;
}

/* v as a real MPFR number in f (precision of f); 0 when v is complex. */
static int to_mpfr(const mval *v, mpfr_t f) {
  if (v->kind == VK_REAL) return mpfr_set(f, v->f, MPFR_RNDN), 1;
  if (v_is_real_exact(v)) return mpfr_set_q(f, v->re, MPFR_RNDN), 1;
  return 0;
}

/* Math-Verify parity: both values rounded to k decimals (half even). */
static int float_rounding_eq(cmpctx *cc, const side *g, const side *p, int k) {
  mval vg, vp;
  v_init(&vg);
  v_init(&vp);
  int eg, ep, r = 0;
  eval_side(cc, g, RK__MATH_PREC2, NULL, 0, NULL, &vg, &eg);
  eval_side(cc, p, RK__MATH_PREC2, NULL, 0, NULL, &vp, &ep);
  mpfr_t a, b, s;
  mpfr_inits2(RK__MATH_PREC2, a, b, s, NULL);
  if (!eg && !ep && !vg.ovf && !vp.ovf && to_mpfr(&vg, a) && to_mpfr(&vp, b)) {
    mpfr_set_ui(s, 10, MPFR_RNDN);
    mpfr_pow_ui(s, s, (unsigned long)k, MPFR_RNDN);
    mpfr_mul(a, a, s, MPFR_RNDN);
    mpfr_mul(b, b, s, MPFR_RNDN);
    mpfr_rint(a, a, MPFR_RNDN);
    mpfr_rint(b, b, MPFR_RNDN);
    r = mpfr_equal_p(a, b);
  }
  mpfr_clears(a, b, s, NULL);
  v_clear(&vg);
  v_clear(&vp);
  return r;
}

/* |a - b| <= tol * max(|a|, |b|). */
static int tolerance_eq(cmpctx *cc, const side *g, const side *p, double tol) {
  mval vg, vp;
  v_init(&vg);
  v_init(&vp);
  int eg, ep, r = 0;
  eval_side(cc, g, RK__MATH_PREC1, NULL, 0, NULL, &vg, &eg);
  eval_side(cc, p, RK__MATH_PREC1, NULL, 0, NULL, &vp, &ep);
  mpfr_t a, b;
  mpfr_inits2(RK__MATH_PREC1, a, b, NULL);
  if (!eg && !ep && !vg.ovf && !vp.ovf && to_mpfr(&vg, a) && to_mpfr(&vp, b)) {
    double da = mpfr_get_d(a, MPFR_RNDN), db = mpfr_get_d(b, MPFR_RNDN);
    double m = fabs(da) > fabs(db) ? fabs(da) : fabs(db);
    r = fabs(da - db) <= tol * m;
  }
  mpfr_clears(a, b, NULL);
  v_clear(&vg);
  v_clear(&vp);
  return r;
}

/* Scalar rule: exact / numeric equality, percent readings, the decimal
 * rounding rule, then the optional parity and tolerance rules. */
static int scalar_eq(cmpctx *cc, const mnode *g, unsigned gm, const mnode *p, unsigned pm) {
  side sg = {g, gm, 0}, sp = {p, pm, 0};
  int gpct = g->k == MN_PCT, ppct = p->k == MN_PCT;
  const rk__math_opts *o = cc->o;
  if (!o->strict && gpct && ppct) {
    sg.pct_top = sp.pct_top = 1;
    if (sides_eq(cc, &sg, &sp)) return cc->rule = "percent on both sides: numbers equal", 1;
    return 0;
  }
  if (sides_eq(cc, &sg, &sp)) {
    cc->rule = gpct || ppct ? "percent read as /100: equal" : "equal";
    return 1;
  }
  if (!o->strict && (gpct || ppct)) {
    sg.pct_top = gpct;
    sp.pct_top = ppct;
    if (sides_eq(cc, &sg, &sp)) return cc->rule = "percent on one side, read as the bare number: equal", 1;
    sg.pct_top = sp.pct_top = 0;
  }
  int k = gold_decimal_places(g);
  if (k > 0 && k <= 1000 && !has_decimal(p, 0)) {
    rk__str vars[MAX_VARS];
    int nv = 0, over = 0;
    collect_vars(p, vars, &nv, &over, 0);
    if (nv == 0 && !over && count_pm(p, 0) == 0 && rounds_to(cc, &sg, &sp, k))
      return cc->rule = "gold is a rounded decimal; exact pred rounds to it", 1;
  }
  if (o->float_rounding >= 0 && (has_decimal(g, 0) || has_decimal(p, 0)) &&
      float_rounding_eq(cc, &sg, &sp, o->float_rounding))
    return cc->rule = "float_rounding: equal after rounding", 1;
  if (o->tolerance > 0 && tolerance_eq(cc, &sg, &sp, o->tolerance))
    return cc->rule = "within tolerance", 1;
  return 0;
}

/* ------------------------------------------------------------ structures */

typedef struct item {
  const mnode *n;
  unsigned mask;
} item;

#define MAX_ITEMS 64
#define MAX_IVLS 32

static int is_assign(const mnode *n) {
  if (n->k != MN_REL || n->nk < 2) return 0;
  for (int i = 0; i < n->nk - 1; i++)
    if (n->ops[i] != MR_EQ && n->ops[i] != MR_IN) return 0;
  if (n->nk > 2 && n->ops[0] == MR_IN) return 0;
  const mnode *l = n->kid[0];
  if (l->k == MN_SYM) return 1;
  /* a name written as letters: AB = 5, BC = 3 */
  if (l->k == MN_MUL) {
    const mnode *t = l;
    while (t->k == MN_MUL && t->kid[1]->k == MN_SYM) t = t->kid[0];
    return t->k == MN_SYM;
  }
  if (l->k == MN_TUPLE) {
    for (int i = 0; i < l->nk; i++)
      if (l->kid[i]->k != MN_SYM) return 0;
    return 1;
  }
  return 0;
}

static int no_vars(const mnode *n) {
  rk__str v[MAX_VARS];
  int nv = 0, over = 0;
  collect_vars(n, v, &nv, &over, 0);
  return nv == 0 && !over;
}

static int is_ineq(const mnode *n) {
  if (n->k == MN_LIST) {
    if (n->op & 1) return 0; /* "and": an intersection, not supported as a set */
    for (int i = 0; i < n->nk; i++)
      if (!is_ineq(n->kid[i])) return 0;
    return n->nk > 0;
  }
  if (n->k != MN_REL) return 0;
  for (int i = 0; i < n->nk - 1; i++)
    if (n->ops[i] == MR_EQ || n->ops[i] == MR_IN) return 0;
  return 1;
}

static int is_setlike(const mnode *n) {
  return n->k == MN_INTERVAL || n->k == MN_UNION || n->k == MN_REALS || n->k == MN_EMPTY ||
         (n->k == MN_TUPLE && n->nk == 2 && n->lo == '(' && n->hi == ')');
}

typedef struct ivl {
  const mnode *lo, *hi;
  int lo_inf, hi_inf; /* -1 / +1 when infinite */
  int lc, hc;         /* closed ends */
} ivl;

static int inf_sign(const mnode *n) {
  if (n->k == MN_CONST && n->op == MC_INF) return 1;
  if (n->k == MN_NEG && n->kid[0]->k == MN_CONST && n->kid[0]->op == MC_INF) return -1;
  return 0;
}

static int push_ivl(ivl *v, int *cnt, const mnode *lo, int lc, const mnode *hi, int hc, int loinf,
                    int hiinf) {
  if (*cnt >= MAX_IVLS) return -1;
  ivl *x = &v[(*cnt)++];
  x->lo = lo;
  x->hi = hi;
  x->lo_inf = loinf ? loinf : lo ? inf_sign(lo) : 0;
  x->hi_inf = hiinf ? hiinf : hi ? inf_sign(hi) : 0;
  x->lc = x->lo_inf ? 0 : lc;
  x->hc = x->hi_inf ? 0 : hc;
  return 0;
}

static int to_ivls(const mnode *n, ivl *v, int *cnt) {
  switch (n->k) {
    case MN_INTERVAL:
      return push_ivl(v, cnt, n->kid[0], n->lo == '[', n->kid[1], n->hi == ']', 0, 0);
    case MN_TUPLE:
      if (n->nk != 2 || n->lo != '(' || n->hi != ')') return -1;
      return push_ivl(v, cnt, n->kid[0], 0, n->kid[1], 0, 0, 0);
    case MN_UNION:
      for (int i = 0; i < n->nk; i++)
        if (to_ivls(n->kid[i], v, cnt)) return -1;
      return 0;
    case MN_REALS:
      return push_ivl(v, cnt, NULL, 0, NULL, 0, -1, 1);
    case MN_EMPTY:
      return 0;
    default:
      return -1;
  }
}

/* One-variable inequalities as intervals: x < c, c <= x, a < x <= b, lists
 * joined by "or", x != c. *var names the variable (all must agree). */
static int rel_to_ivls(const mnode *n, ivl *v, int *cnt, rk__str *var) {
  if (n->k == MN_LIST) {
    for (int i = 0; i < n->nk; i++)
      if (rel_to_ivls(n->kid[i], v, cnt, var)) return -1;
    return 0;
  }
  if (n->k != MN_REL) return -1;
  const mnode *sym = NULL;
  if (n->nk == 2) {
    int op = n->ops[0];
    const mnode *a = n->kid[0], *b = n->kid[1];
    int flip = 0;
    if (a->k == MN_SYM && no_vars(b)) sym = a;
    else if (b->k == MN_SYM && no_vars(a)) sym = b, flip = 1;
    else return -1;
    const mnode *c = flip ? a : b;
    if (flip) op = op == MR_LT ? MR_GT : op == MR_LE ? MR_GE : op == MR_GT ? MR_LT : op == MR_GE ? MR_LE : op;
    if (var->n && !rk__str_eq(*var, sym->s)) return -1;
    *var = sym->s;
    switch (op) {
      case MR_LT: return push_ivl(v, cnt, NULL, 0, c, 0, -1, 0);
      case MR_LE: return push_ivl(v, cnt, NULL, 0, c, 1, -1, 0);
      case MR_GT: return push_ivl(v, cnt, c, 0, NULL, 0, 0, 1);
      case MR_GE: return push_ivl(v, cnt, c, 1, NULL, 0, 0, 1);
      case MR_NE:
        if (push_ivl(v, cnt, NULL, 0, c, 0, -1, 0)) return -1;
        return push_ivl(v, cnt, c, 0, NULL, 0, 0, 1);
      default: return -1;
    }
  }
  if (n->nk == 3) {
    const mnode *a = n->kid[0], *b = n->kid[2];
    sym = n->kid[1];
    if (sym->k != MN_SYM || !no_vars(a) || !no_vars(b)) return -1;
    if (var->n && !rk__str_eq(*var, sym->s)) return -1;
    *var = sym->s;
    int o1 = n->ops[0], o2 = n->ops[1];
    int up = (o1 == MR_LT || o1 == MR_LE) && (o2 == MR_LT || o2 == MR_LE);
    int down = (o1 == MR_GT || o1 == MR_GE) && (o2 == MR_GT || o2 == MR_GE);
    if (up) return push_ivl(v, cnt, a, o1 == MR_LE, b, o2 == MR_LE, 0, 0);
    if (down) return push_ivl(v, cnt, b, o2 == MR_GE, a, o1 == MR_GE, 0, 0);
  }
  return -1;
}

static int end_eq(cmpctx *cc, const mnode *a, int ainf, const mnode *b, int binf) {
  if (ainf || binf) return ainf == binf;
  if (!is_scalar(a) || !is_scalar(b)) return 0;
  return scalar_eq(cc, a, 0, b, 0);
}

static int ivl_eq(cmpctx *cc, const ivl *a, const ivl *b) {
  return a->lc == b->lc && a->hc == b->hc && end_eq(cc, a->lo, a->lo_inf, b->lo, b->lo_inf) &&
         end_eq(cc, a->hi, a->hi_inf, b->hi, b->hi_inf);
}

static int ivls_eq(cmpctx *cc, const ivl *g, int ng, const ivl *p, int np) {
  if (ng != np) return 0;
  for (int i = 0; i < ng; i++) {
    int found = 0;
    for (int j = 0; j < np && !found; j++) found = ivl_eq(cc, &g[i], &p[j]);
    if (!found) return 0;
  }
  for (int j = 0; j < np; j++) {
    int found = 0;
    for (int i = 0; i < ng && !found; i++) found = ivl_eq(cc, &g[i], &p[j]);
    if (!found) return 0;
  }
  return 1;
}

static int item_eq(cmpctx *cc, item g, item p);

static int flatten(cmpctx *cc, const mnode *n, item *out, int *cnt, int unwrap, int top) {
  if ((n->k == MN_LIST || (n->k == MN_SET && top)) && top) {
    for (int i = 0; i < n->nk; i++)
      if (flatten(cc, n->kid[i], out, cnt, unwrap, 0)) return -1;
    return 0;
  }
  if (unwrap && is_assign(n)) n = n->kid[n->nk - 1];
  if (n->k == MN_SET && top) return flatten(cc, n, out, cnt, unwrap, 1);
  int k = is_scalar(n) ? count_pm(n, 0) : 0;
  if (k > 4) {
    cc->limit = 1;
    return -1;
  }
  for (unsigned m = 0; m < (1u << k); m++) {
    if (*cnt >= MAX_ITEMS) {
      cc->limit = 1;
      return -1;
    }
    out[*cnt].n = n;
    out[*cnt].mask = m;
    (*cnt)++;
  }
  return 0;
}

static int items_eq(cmpctx *cc, const item *g, int ng, const item *p, int np) {
  for (int i = 0; i < ng; i++) {
    int found = 0;
    for (int j = 0; j < np && !found; j++) found = item_eq(cc, g[i], p[j]);
    if (!found) return 0;
  }
  for (int j = 0; j < np; j++) {
    int found = 0;
    for (int i = 0; i < ng && !found; i++) found = item_eq(cc, g[i], p[j]);
    if (!found) return 0;
  }
  return 1;
}

/* scalar * matrix, matrix * scalar, matrix / scalar, -matrix -> a matrix
 * of products (built in the arena). */
static const mnode *as_matrix(cmpctx *cc, const mnode *n) {
  if (n->k == MN_MATRIX) return n;
  const mnode *m = NULL, *s = NULL;
  mkind op = MN_MUL;
  int right = 0;
  if (n->k == MN_NEG && n->kid[0]->k == MN_MATRIX) {
    m = n->kid[0];
    op = MN_NEG;
  } else if ((n->k == MN_MUL || n->k == MN_DIV) && n->nk == 2) {
    const mnode *a = as_matrix(cc, n->kid[1]);
    if (n->k == MN_MUL && a && is_scalar(n->kid[0])) {
      m = a;
      s = n->kid[0];
    } else if ((a = as_matrix(cc, n->kid[0])) && is_scalar(n->kid[1])) {
      m = a;
      s = n->kid[1];
      right = 1;
      op = n->k;
    }
  }
  if (!m) return NULL;
  int cells = m->rows * m->cols;
  mnode *r = rk__arena_alloc(cc->c->arena, sizeof *r + sizeof(mnode *) * (size_t)cells);
  mnode *prods = rk__arena_alloc(cc->c->arena, sizeof(mnode) * (size_t)cells);
  mnode **kk = rk__arena_alloc(cc->c->arena, sizeof(mnode *) * (size_t)cells * 2);
  if (!r || !prods || !kk) return NULL;
  *r = *m;
  r->kid = (mnode **)(r + 1);
  for (int i = 0; i < cells; i++) {
    mnode *pn = &prods[i];
    memset(pn, 0, sizeof *pn);
    pn->k = op;
    pn->kid = &kk[2 * i];
    if (op == MN_NEG) {
      pn->nk = 1;
      pn->kid[0] = m->kid[i];
    } else {
      pn->nk = 2;
      pn->kid[0] = right ? m->kid[i] : (mnode *)s;
      pn->kid[1] = right ? (mnode *)s : m->kid[i];
    }
    r->kid[i] = pn;
  }
  return r;
}

static int text_eq(rk__str a, rk__str b) {
  size_t i = 0, j = 0;
  for (;;) {
    while (i < a.n && (a.p[i] == ' ' || a.p[i] == '-')) i++;
    while (j < b.n && (b.p[j] == ' ' || b.p[j] == '-')) j++;
    if (i >= a.n || j >= b.n) return i >= a.n && j >= b.n;
    char x = a.p[i], y = b.p[j];
    if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
    if (x != y) return 0;
    i++, j++;
  }
}

/* Relations: equations up to sides and a nonzero factor, inequalities up
 * to a positive factor (after turning > into <). */
static int rel_eq(cmpctx *cc, const mnode *g, const mnode *p) {
  if (g->nk != 2 || p->nk != 2) {
    if (g->nk != p->nk) return 0;
    for (int i = 0; i < g->nk - 1; i++)
      if (g->ops[i] != p->ops[i]) return 0;
    for (int i = 0; i < g->nk; i++)
      if (!item_eq(cc, (item){g->kid[i], 0}, (item){p->kid[i], 0})) return 0;
    return 1;
  }
  int og = g->ops[0], op = p->ops[0];
  if (og == MR_IN || op == MR_IN) {
    if (og != op || g->kid[0]->k != MN_SYM || p->kid[0]->k != MN_SYM ||
        !rk__str_eq(g->kid[0]->s, p->kid[0]->s))
      return 0;
    return item_eq(cc, (item){g->kid[1], 0}, (item){p->kid[1], 0});
  }
  const mnode *gl = g->kid[0], *gr = g->kid[1], *pl = p->kid[0], *pr = p->kid[1];
  if (!is_scalar(gl) || !is_scalar(gr) || !is_scalar(pl) || !is_scalar(pr)) {
    if (og != MR_EQ || op != MR_EQ) return 0;
    return item_eq(cc, (item){gl, 0}, (item){pl, 0}) && item_eq(cc, (item){gr, 0}, (item){pr, 0});
  }
  if (og == MR_GT || og == MR_GE) {
    const mnode *t = gl;
    gl = gr, gr = t;
    og = og == MR_GT ? MR_LT : MR_LE;
  }
  if (op == MR_GT || op == MR_GE) {
    const mnode *t = pl;
    pl = pr, pr = t;
    op = op == MR_GT ? MR_LT : MR_LE;
  }
  if (og != op) return 0;
  /* d = rhs - lhs on both sides; ratio dg/dp must be a constant, nonzero
   * (positive for inequalities), and dp = 0 exactly where dg = 0. */
  mnode dg, dp;
  const mnode *kg[2] = {gr, gl}, *kp[2] = {pr, pl};
  memset(&dg, 0, sizeof dg);
  memset(&dp, 0, sizeof dp);
  dg.k = dp.k = MN_SUB;
  dg.nk = dp.nk = 2;
  dg.kid = (mnode **)kg;
  dp.kid = (mnode **)kp;
  rk__str vars[MAX_VARS];
  int nv = 0, over = 0;
  collect_vars(&dg, vars, &nv, &over, 0);
  collect_vars(&dp, vars, &nv, &over, 0);
  if (over) return 0;
  mpq_t vals[MAX_VARS];
  for (int i = 0; i < nv; i++) mpq_init(vals[i]);
  uint64_t seed = 0xD1B54A32D192ED03ull;
  mpfr_t r0, r, t;
  mpfr_inits2(RK__MATH_PREC2, r0, r, t, NULL);
  int have_r0 = 0, good = 0, verdict = 1;
  side sg = {&dg, 0, 0}, sp = {&dp, 0, 0};
  for (int attempt = 0; attempt < 16 && good < 5 && verdict; attempt++) {
    random_point(&seed, vals, nv);
    mval a, b;
    v_init(&a);
    v_init(&b);
    int ea, eb;
    eval_side(cc, &sg, RK__MATH_PREC2, vars, nv, (const mpq_t *)vals, &a, &ea);
    eval_side(cc, &sp, RK__MATH_PREC2, vars, nv, (const mpq_t *)vals, &b, &eb);
    if (ea == E_LIMIT || eb == E_LIMIT) {
      cc->limit = 1;
      verdict = 0;
    } else if (!ea && !eb && to_mpfr(&a, t) && to_mpfr(&b, r)) {
      int az = v_is_real_exact(&a) ? mpq_sgn(a.re) == 0 : mpfr_cmpabs(t, r) < 0 && mpfr_get_exp(t) < -300;
      int bz = v_is_real_exact(&b) ? mpq_sgn(b.re) == 0 : mpfr_get_exp(r) < -300 || mpfr_zero_p(r);
      if (az || bz) {
        if (az != bz) verdict = 0;
        else good++;
      } else {
        mpfr_div(r, t, r, MPFR_RNDN);
        if (!have_r0) {
          mpfr_set(r0, r, MPFR_RNDN);
          have_r0 = 1;
          if (og != MR_EQ && og != MR_NE && mpfr_sgn(r0) <= 0) verdict = 0;
        } else {
          mpfr_sub(t, r, r0, MPFR_RNDN);
          mpfr_abs(t, t, MPFR_RNDN);
          mpfr_abs(r, r0, MPFR_RNDN);
          mpfr_mul_2si(r, r, -(RK__MATH_PREC2 - 60), MPFR_RNDN);
          if (mpfr_cmp(t, r) > 0) verdict = 0;
        }
        good++;
      }
    } else if (ea == E_TYPE || eb == E_TYPE) {
      verdict = 0;
    }
    v_clear(&a);
    v_clear(&b);
  }
  mpfr_clears(r0, r, t, NULL);
  for (int i = 0; i < nv; i++) mpq_clear(vals[i]);
  return verdict && good >= 3;
}

static int item_eq(cmpctx *cc, item g, item p) {
  const mnode *a = g.n, *b = p.n;
  if (!rk__spend(cc->c, 4)) {
    cc->limit = 1;
    return 0;
  }
  if (is_scalar(a) && is_scalar(b)) return scalar_eq(cc, a, g.mask, b, p.mask);
  const mnode *ma = as_matrix(cc, a), *mb = as_matrix(cc, b);
  if (ma || mb) {
    if (!ma || !mb || ma->rows != mb->rows || ma->cols != mb->cols) return 0;
    for (int i = 0; i < ma->rows * ma->cols; i++)
      if (!item_eq(cc, (item){ma->kid[i], 0}, (item){mb->kid[i], 0})) return 0;
    cc->rule = "matrices of the same shape, equal entries";
    return 1;
  }
  if (a->k == MN_REL && b->k == MN_REL) {
    int r = rel_eq(cc, a, b);
    if (r) cc->rule = "equivalent relations (same sides up to a constant factor)";
    return r;
  }
  if (a->k == MN_TEXT || b->k == MN_TEXT) {
    int r = a->k == b->k && text_eq(a->s, b->s);
    if (r) cc->rule = "same words (case-insensitive)";
    return r;
  }
  if (a->k == MN_TUPLE && b->k == MN_TUPLE) {
    if (a->nk != b->nk || a->lo != b->lo || a->hi != b->hi) return 0;
    for (int i = 0; i < a->nk; i++)
      if (!item_eq(cc, (item){a->kid[i], 0}, (item){b->kid[i], 0})) return 0;
    cc->rule = "tuples equal element by element";
    return 1;
  }
  if (is_setlike(a) && is_setlike(b)) {
    ivl ga[MAX_IVLS], pb[MAX_IVLS];
    int ng = 0, np = 0;
    if (to_ivls(a, ga, &ng) || to_ivls(b, pb, &np)) return 0;
    int r = ivls_eq(cc, ga, ng, pb, np);
    if (r) cc->rule = "same intervals (endpoints and openness), any order";
    return r;
  }
  if (a->k == MN_SET && b->k == MN_SET) {
    item gi[MAX_ITEMS], pi[MAX_ITEMS];
    int ng = 0, np = 0;
    if (flatten(cc, a, gi, &ng, 0, 1) || flatten(cc, b, pi, &np, 0, 1)) return 0;
    return items_eq(cc, gi, ng, pi, np);
  }
  return 0;
}

int rk__math_equiv(const mnode *gold, const mnode *pred, const rk__math_opts *o, rk__call *c,
                   const char **rule) {
  cmpctx cc;
  memset(&cc, 0, sizeof cc);
  cc.c = c;
  cc.o = o;
  cc.rule = "not equal";
  const mnode *g = gold, *p = pred;
  int r;
  if (!o->strict) {
    if (is_assign(p) && !(g->k == MN_REL)) p = p->kid[p->nk - 1];
    if (is_assign(g) && (g->ops[0] == MR_IN || no_vars(g->kid[g->nk - 1])) && p->k != MN_REL &&
        !(p->k == MN_LIST && p->nk && p->kid[0]->k == MN_REL))
      g = g->kid[g->nk - 1];
  }
  ivl gi[MAX_IVLS], pi[MAX_IVLS];
  int ng = 0, np = 0;
  rk__str var = {"", 0};
  if (is_ineq(g) && is_setlike(p)) {
    if (rel_to_ivls(g, gi, &ng, &var) || to_ivls(p, pi, &np)) {
      *rule = "gold inequality could not be read as intervals";
      return MV_NO;
    }
    r = ivls_eq(&cc, gi, ng, pi, np);
    *rule = r ? "gold inequality equals the pred's interval set" : "gold inequality differs from the pred's intervals";
    return cc.limit && !r ? MV_LIMIT : r;
  }
  if (is_ineq(p) && is_setlike(g)) {
    if (!o->allow_set_relation) {
      *rule = "interval gold, inequality pred: not accepted (allow_set_relation is off)";
      return MV_NO;
    }
    var.n = 0;
    if (rel_to_ivls(p, pi, &np, &var) || to_ivls(g, gi, &ng)) return *rule = "pred inequality not readable as intervals", MV_NO;
    r = ivls_eq(&cc, gi, ng, pi, np);
    *rule = r ? "pred inequality equals the gold's intervals (allow_set_relation)" : "pred inequality differs from the gold's intervals";
    return cc.limit && !r ? MV_LIMIT : r;
  }
  if (is_ineq(g) && is_ineq(p)) {
    var.n = 0;
    if (!rel_to_ivls(g, gi, &ng, &var)) {
      rk__str var2 = {"", 0};
      if (!rel_to_ivls(p, pi, &np, &var2) && rk__str_eq(var, var2)) {
        r = ivls_eq(&cc, gi, ng, pi, np);
        *rule = r ? "inequalities describe the same set" : "inequalities describe different sets";
        return cc.limit && !r ? MV_LIMIT : r;
      }
    }
  }
  item gitems[MAX_ITEMS], pitems[MAX_ITEMS];
  int ngi = 0, npi = 0;
  int g_has_rel = g->k == MN_REL || (g->k == MN_LIST && has_kind(g, MN_REL, 0));
  if (flatten(&cc, g, gitems, &ngi, 0, 1) || flatten(&cc, p, pitems, &npi, !o->strict && !g_has_rel, 1)) {
    *rule = "more than 64 answers or 4 +- signs";
    return MV_LIMIT;
  }
  if (ngi == 1 && npi == 1) {
    r = item_eq(&cc, gitems[0], pitems[0]);
    if (r) *rule = cc.rule;
    else if (gitems[0].n->k == MN_REL && pitems[0].n->k != MN_REL)
      *rule = "gold is an equation; a bare value does not match it";
    else if (gitems[0].n->k != pitems[0].n->k && (!is_scalar(gitems[0].n) || !is_scalar(pitems[0].n)))
      *rule = "different kinds of answer";
    else if (cc.unsupported)
      *rule = cc.unsupported; /* e.g. "complex exponent": not evaluated, not equal */
    else
      *rule = "values differ";
  } else {
    r = items_eq(&cc, gitems, ngi, pitems, npi);
    *rule = r ? "same set of answers (unordered)" : ngi != npi ? "different number of answers" : "sets of answers differ";
  }
  if (!r && cc.limit) {
    *rule = cc.limit_why ? cc.limit_why : "a size cap or the step budget stopped the comparison";
    return MV_LIMIT;
  }
  return r;
}

int rk__math_exact_value(const mnode *n, rk__call *c, void *num, void *den) {
  ectx x;
  memset(&x, 0, sizeof x);
  x.c = c;
  x.prec = RK__MATH_PREC1;
  x.top = n;
  mval v;
  v_init(&v);
  int rc = eval(&x, n, &v), r = 0;
  if (rc) r = x.err == E_LIMIT ? MV_LIMIT : 0;
  else if (v_is_real_exact(&v)) {
    mpz_set((mpz_ptr)num, mpq_numref(v.re));
    mpz_set((mpz_ptr)den, mpq_denref(v.re));
    r = 1;
  }
  v_clear(&v);
  return r;
}
