/*
 * mexpr.h - internals of the math family: the answer AST (arena nodes), the
 * hand-written LaTeX / plain-text parser, exact (GMP) and high-precision
 * (MPFR) evaluation, and the equivalence rules of docs/rewards/math.md.
 *
 * Not for: answer extraction (text/extract.h, plus the several-boxes rule in
 * math.c) or the reward-function glue (math.c, countdown.c).
 *
 * Thread rules: nothing here has global mutable state; everything an item
 * needs lives in its arena and in the mctx it passes around.
 */
#ifndef RK_MATH_MEXPR_H
#define RK_MATH_MEXPR_H

#include "core/core.h"

/* ---------------------------------------------------------------- AST */

typedef enum mkind {
  MN_NUM,      /* literal: digits (no point) / 10^frac * 10^exp10 */
  MN_SYM,      /* variable: s = name ("x", "x_1", "alpha") */
  MN_CONST,    /* op: MC_PI, MC_E, MC_I, MC_INF */
  MN_NEG,      /* -kid[0] */
  MN_ADD,      /* kid[0] + kid[1] */
  MN_SUB,
  MN_MUL,
  MN_DIV,
  MN_POW,      /* kid[0] ^ kid[1] */
  MN_PM,       /* kid[0] +- kid[1]; kid[0] NULL for a unary +-; op 1: \mp */
  MN_FUNC,     /* op: MF_*; kid[0] argument, kid[1] log base or NULL */
  MN_ROOT,     /* kid[0]^(1/kid[1]); kid[1] NULL = square root */
  MN_FACT,     /* kid[0]! */
  MN_BINOM,    /* binom(kid[0], kid[1]) */
  MN_PCT,      /* kid[0] % */
  MN_DEG,      /* kid[0] degrees */
  MN_TUPLE,    /* (a, b, ...) ; lo/hi = bracket characters */
  MN_SET,      /* \{a, b, ...\} */
  MN_INTERVAL, /* lo '(' or '[' , hi ')' or ']' ; 2 kids */
  MN_UNION,    /* kid[0] \cup kid[1] \cup ... */
  MN_MATRIX,   /* rows x cols kids, row-major */
  MN_REL,      /* chain kid[0] op[0] kid[1] op[1] ... */
  MN_LIST,     /* top-level "a, b" / "a and b" / "a or b" */
  MN_TEXT,     /* a word answer; s = the text */
  MN_EMPTY,    /* \emptyset, \varnothing, \{\} */
  MN_REALS     /* \mathbb{R} */
} mkind;

enum { MC_PI, MC_E, MC_I, MC_INF };
enum {
  MF_SIN, MF_COS, MF_TAN, MF_SEC, MF_CSC, MF_COT,
  MF_ASIN, MF_ACOS, MF_ATAN,
  MF_SINH, MF_COSH, MF_TANH,
  MF_LN, MF_LOG, MF_EXP, MF_ABS, MF_FLOOR, MF_CEIL,
  MF__COUNT
};
enum { MR_EQ, MR_LT, MR_LE, MR_GT, MR_GE, MR_NE, MR_IN };

typedef struct mnode mnode;
struct mnode {
  mkind k;
  int op;
  int nk;
  mnode **kid;
  rk__str s;        /* NUM: digits; SYM: name; TEXT: text */
  int frac;         /* NUM: digits after the decimal point (0 = integer) */
  int dec;          /* NUM: written with a decimal point */
  long exp10;       /* NUM: scientific exponent */
  rk__str rep;      /* NUM: repeating digits after the fraction (0.1\overline{6}) */
  char lo, hi;      /* brackets of TUPLE / INTERVAL */
  int rows, cols;   /* MATRIX */
  int *ops;         /* REL: nk - 1 relation operators */
};

/* ------------------------------------------------------------- limits */

#define RK__MATH_MAX_TOKENS 20000
#define RK__MATH_MAX_DEPTH 200
#define RK__MATH_MAX_DIGITS 20000   /* per literal */
#define RK__MATH_MAX_BITS 400000    /* exact intermediate values */
#define RK__MATH_MAX_FACT 5000      /* exact n!; beyond: MPFR */
#define RK__MATH_MAX_STEPS 6000000 /* work per item (~6 ms), on top of the record budget */
#define RK__MATH_PREC1 192          /* bits, first numeric evaluation */
#define RK__MATH_PREC2 384          /* bits, confirmation */

/* Parse results. */
enum { MP_OK = 0, MP_SYNTAX = -1, MP_LIMIT = -2, MP_OOM = -3 };

/* Parses a whole answer. On MP_SYNTAX / MP_LIMIT, err (cap bytes) says why
 * ("\\frac is missing its second argument at byte 7"). Spends about one
 * step per byte and per token from c's budget (MP_LIMIT when it runs out). */
int rk__math_parse(rk__str in, rk__call *c, mnode **out, char *err, size_t cap);

/* Canonical text of a node for explanations ("(1/2, 3]", "x^2 - 1"). */
void rk__math_print(const mnode *n, rk__buf *b);

/* -------------------------------------------------------- equivalence */

typedef struct rk__math_opts {
  double tolerance;       /* relative; 0 = exact (default) */
  int float_rounding;     /* -1 off; else Math-Verify decimal rounding */
  int allow_set_relation; /* interval gold accepts an inequality pred */
  int strict;             /* 1: no assignment unwrapping, no percent readings */
} rk__math_opts;

/* Verdicts. */
enum { MV_NO = 0, MV_YES = 1, MV_LIMIT = -2 };

/* Compares a parsed gold and pred. *rule names the rule that decided
 * (static text). MV_LIMIT when a cap or the budget stopped the decision. */
int rk__math_equiv(const mnode *gold, const mnode *pred, const rk__math_opts *o,
                   rk__call *c, const char **rule);

/* Exact value of a constant expression as a reduced fraction, for
 * countdown: returns 1 and sets num and den (mpz_t, caller-initialised) when
 * exact and rational, 0 when not, MV_LIMIT past a cap. */
int rk__math_exact_value(const mnode *n, rk__call *c, void *num, void *den);

#endif /* RK_MATH_MEXPR_H */
