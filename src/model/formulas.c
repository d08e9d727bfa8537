/*
 * formulas.c - the arithmetic behind model-based rewards (formulas.h):
 * P(yes) from top logprobs, likelihood aggregates, RLPR's bf16 rounding and
 * debiasing, the self-aligned reward, embedding rewards (VLM-RM, VLM-RL,
 * CLIPScore, BMAS), reading scores and verdicts out of judge text, CapRL's
 * letters and shuffle, and the gate that refuses judge-hacking responses.
 *
 * Not for: talking to servers (wire.c, client.c) or reading spec arguments
 * (the reward files). Everything here is pure and allocation-free; every
 * text scanner is linear in its input and never reads past n.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "model/formulas.h"

/* ------------------------------------------------------ judge gate tables */

/* Master keys: whole responses that made LLM judges say "correct" in "One
 * Token to Fool LLM-as-a-Judge" (arXiv 2507.08794, table of keys), plus
 * the same reasoning openers in the languages RL data usually comes in.
 * A word key also refuses a response that is the key followed by nothing
 * but whitespace and punctuation ("Solution:", "Answer: ..."). */
static const char *const gate_keys[] = {
    ":", ".", ",", ";",
    "Thought process:",
    "Let's solve this problem step by step.",
    "Let's think step by step.",
    "Let me solve this step by step.",
    "Solution",
    "Answer",
    "Final answer",
    "The answer is",
    "Explanation",
    "Reasoning",
    "Step 1",
    "解", "解答", "答案", "答", "回答", /* Chinese: solution, answer */
    "かいせつ", "解説", "答え",        /* Japanese: explanation, answer */
    "Respuesta", "Solución",           /* Spanish */
    "Réponse",                         /* French */
    "Lösung", "Antwort",               /* German */
    "Resposta", "Solução",             /* Portuguese */
    "Risposta", "Soluzione",           /* Italian */
    "Ответ", "Решение",                /* Russian */
    NULL,
};

/* ---------------------------------------------------------- small helpers */

typedef unsigned char uchar;

static inline int is_digit(uchar c) { return c >= '0' && c <= '9'; }
static inline int is_alpha(uchar c) { return (uchar)((c | 32) - 'a') < 26; }
static inline uchar lower(uchar c) { return c >= 'A' && c <= 'Z' ? (uchar)(c + 32) : c; }
static inline int is_ws(uchar c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Case-insensitive match of the lowercase literal `lit` at p[i..n). */
static int lit_at(const uchar *p, size_t n, size_t i, const char *lit) {
  size_t k = strlen(lit);
  if (i > n || n - i < k) return 0;
  for (size_t j = 0; j < k; j++)
    if (lower(p[i + j]) != (uchar)lit[j]) return 0;
  return 1;
}

/* One code point of p[0..n) (n > 0). Invalid bytes decode one at a time
 * as -1 - byte, so that they never equal a real code point nor each other
 * unless the bytes are equal. */
static size_t next_cp(const uchar *p, size_t n, utf8proc_int32_t *u) {
  utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)(n > 4 ? 4 : n), u);
  if (k <= 0) {
    *u = -1 - (utf8proc_int32_t)p[0];
    return 1;
  }
  return (size_t)k;
}

/* ----------------------------------------------------------------- P(yes) */

/* Strips ASCII whitespace and the tokenizer space markers U+2581
 * (SentencePiece, E2 96 81) and U+0120 (GPT-2 byte-level BPE, C4 A0) at
 * both ends of a token's text. */
static rk__str strip_token(rk__str t) {
  const uchar *p = (const uchar *)t.p;
  size_t a = 0, b = t.n;
  for (;;) {
    if (a < b && is_ws(p[a])) a++;
    else if (b - a >= 3 && p[a] == 0xE2 && p[a + 1] == 0x96 && p[a + 2] == 0x81) a += 3;
    else if (b - a >= 2 && p[a] == 0xC4 && p[a + 1] == 0xA0) a += 2;
    else break;
  }
  for (;;) {
    if (a < b && is_ws(p[b - 1])) b--;
    else if (b - a >= 3 && p[b - 3] == 0xE2 && p[b - 2] == 0x96 && p[b - 1] == 0x81) b -= 3;
    else if (b - a >= 2 && p[b - 2] == 0xC4 && p[b - 1] == 0xA0) b -= 2;
    else break;
  }
  return rk__str_make(t.p + a, b - a);
}

static int in_list(rk__str t, const char *const *list) {
  for (size_t i = 0; list && list[i]; i++) {
    size_t k = strlen(list[i]);
    if (k != t.n) continue;
    size_t j = 0;
    while (j < k && lower((uchar)t.p[j]) == lower((uchar)list[i][j])) j++;
    if (j == k) return 1;
  }
  return 0;
}

/* RewardDance (arXiv 2509.08826) reads the reward as P("yes") at the
 * answer position; renormalising over the two answers is the 2-way
 * softmax p = sum_yes e^l / (sum_yes e^l + sum_no e^l), summed over the
 * surface variants a tokenizer produces ("Yes", " yes", "▁YES"...).
 * Servers clamp -inf to -9999 (vLLM) or -999999999 (SGLang): those are 0.
 * A NaN logprob is also 0; a positive one (impossible) is capped at 0.
 * When the variants found all have probability 0 the ratio is 0/0: that
 * is reported like "no variant" (-1, NAN), not as a made-up 0 or 0.5. */
int rk__pyes(const rk__toplp *top, size_t n, const char *const *yes,
             const char *const *no, double *p, double *mass_yes, double *mass_no) {
  double my = 0, mn = 0;
  int found = 0;
  for (size_t i = 0; i < n; i++) {
    /* An alternative listed twice (same bytes) is one token: count it once. */
    size_t j = 0;
    for (; j < i; j++)
      if (rk__str_eq(top[j].token, top[i].token)) break;
    if (j < i) continue;
    rk__str t = strip_token(top[i].token);
    int is_yes = in_list(t, yes);
    int is_no = !is_yes && in_list(t, no);
    if (!is_yes && !is_no) continue;
    found = 1;
    double lp = top[i].logprob;
    double pr = (isnan(lp) || lp <= -9999) ? 0.0 : exp(lp > 0 ? 0 : lp);
    if (is_yes) my += pr;
    else mn += pr;
  }
  if (mass_yes) *mass_yes = my;
  if (mass_no) *mass_no = mn;
  if (!found || !(my + mn > 0)) {
    *p = NAN;
    return -1;
  }
  *p = my / (my + mn);
  return 0;
}

/* ---------------------------------------------------- likelihood aggregates */

/* Kwiatkowski et al. (arXiv 2602.03979) compare these rewards of a
 * reference continuation with token logprobs l_t, t = 1..L:
 *   sum      R = sum_t l_t                (their recommendation)
 *   mean_log R = (1/L) sum_t l_t
 *   mean_prob R = (1/L) sum_t exp(l_t)    (RLPR's mean_exp_log_softmax)
 *   prod     R = exp(sum_t l_t)           (VeriFree)
 *   geo_mean R = exp((1/L) sum_t l_t)     (RLPR's exp_mean)
 * Each l_t is first raised to `floor` (NaN counts as the floor), since
 * log-prob is unbounded below. RLPR scores an empty span 0. */
double rk__lp_aggregate(const double *lp, size_t n, rk__lp_mode mode, double floor) {
  if (n == 0) return 0.0;
  double s = 0, sp = 0;
  for (size_t i = 0; i < n; i++) {
    double l = lp[i];
    if (isnan(l) || l < floor) l = floor;
    s += l;
    if (mode == RK__LP_MEAN_PROB) sp += exp(l);
  }
  double L = (double)n;
  switch (mode) {
    case RK__LP_SUM: return s;
    case RK__LP_MEAN_LOG: return s / L;
    case RK__LP_MEAN_PROB: return sp / L;
    case RK__LP_PROD: return exp(s);
    case RK__LP_GEO_MEAN: return exp(s / L);
  }
  return NAN;
}

/* RLPR keeps its probability reward in a bfloat16 tensor: the float32
 * value keeps its top 16 bits, rounded to nearest with ties to even (as
 * torch converts float32 to bfloat16). Adding 0x7FFF plus the lowest kept
 * bit before truncating does exactly that; a carry into the exponent is
 * the correct rounding up, to infinity past the largest bfloat16.
 * Beyond FLT_MAX the result is infinite either way; that range is handled
 * first because converting it to float is undefined outside IEEE Annex F. */
double rk__round_bf16(double x) {
  if (isnan(x)) return x;
  if (fabs(x) > FLT_MAX) return copysign(INFINITY, x);
  float f = (float)x;
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  u &= 0xFFFF0000u;
  memcpy(&f, &u, sizeof f);
  return (double)f;
}

/* RLPR (OpenBMB/RLPR, ray_trainer.py, shaping "threshold_0"):
 * s = max(scoreB - scoreA, 0), scoreA being the answer's probability
 * without reasoning. NaN propagates, as torch.clamp lets it through. */
double rk__rlpr_debias(double score_b, double score_a) {
  double d = score_b - score_a;
  if (isnan(d)) return d;
  return d > 0 ? d : 0.0;
}

/* Self-aligned reward (amazon-science/Self-Aligned-Reward...,
 * efficiency_reward.py compute_ppl_qa_log; arXiv 2509.05489):
 *   ppl(a|q) = exp(-(1/|a|) sum_t log pi(a_t | q, a_<t)),  ppl(a) without q,
 *   R = max((ppl(a) - ppl(a|q)) / (ppl(a) + 1e-9), -1).
 * With A = -mean(lp_noq) and B = -mean(lp_q) the ratio is
 * (e^A - e^B) / (e^A + 1e-9). When e^A would overflow (clamped -9999
 * logprobs in a short answer) the 1e-9 is negligible and the ratio is
 * computed as 1 - e^(B-A) instead of inf/inf. */
int rk__sar(const double *lp_q, size_t nq, const double *lp_noq, size_t nnoq,
            double *r) {
  if (nq == 0 || nnoq == 0) return -1;
  double sq = 0, sn = 0;
  for (size_t i = 0; i < nq; i++) sq += lp_q[i];
  for (size_t i = 0; i < nnoq; i++) sn += lp_noq[i];
  double B = -sq / (double)nq, A = -sn / (double)nnoq;
  double v;
  if (isnan(A) || isnan(B)) v = NAN;
  else if (A > 700) v = 1.0 - exp(B - A);
  else {
    double pa = exp(A), pq = exp(B);
    v = (pa - pq) / (pa + 1e-9);
  }
  *r = v < -1 ? -1.0 : v;
  return 0;
}

/* -------------------------------------------------------------- embeddings */

/* a.b, |a|^2 and |b|^2 in one pass. */
static void dot3(const double *a, const double *b, size_t d, double *ab,
                 double *aa, double *bb) {
  double x = 0, y = 0, z = 0;
  for (size_t i = 0; i < d; i++) {
    x += a[i] * b[i];
    y += a[i] * a[i];
    z += b[i] * b[i];
  }
  *ab = x;
  *aa = y;
  *bb = z;
}

/* cos(a, b) = a.b / (|a||b|), clamped to [-1, 1] against rounding; 0 when
 * either vector is zero (an L2-normalised zero vector is taken as zero). */
double rk__cosine(const double *a, const double *b, size_t d) {
  double ab, aa, bb;
  dot3(a, b, d, &ab, &aa, &bb);
  if (aa == 0 || bb == 0) return 0.0;
  double c = ab / (sqrt(aa) * sqrt(bb));
  if (c > 1) return 1.0;
  if (c < -1) return -1.0;
  return c;
}

/* Mean over the pairs of rows of cos(P_i, Q_j): with unit rows p_i, q_j
 * this is (mean_i p_i) . (mean_j q_j). */
static double mean_cos(const double *P, size_t np, const double *Q, size_t nq,
                       size_t d) {
  double s = 0;
  for (size_t i = 0; i < np; i++)
    for (size_t j = 0; j < nq; j++) s += rk__cosine(P + i * d, Q + j * d, d);
  return s / ((double)np * (double)nq);
}

/* VLM-RM goal-baseline regularisation (AlignmentResearch/vlmrm,
 * reward_model.py): with the projection P = alpha u u^T + (1-alpha) I,
 *   r = 1 - 0.5 |P (x_hat - g)|^2
 *     = 1 - 0.5 (alpha (2-alpha) s^2 + (1-alpha)^2 |v|^2),
 * v = x_hat - g, u = (g-b)/|g-b|, s = v.u (P is symmetric and P u = u).
 * Every quantity is a dot product of means of unit vectors, so it is
 * computed from mean cosines without storing g or b (no allocation):
 *   x.g, x.b, g.g, g.b, b.b;  |v|^2 = x.x - 2 x.g + g.g;
 *   |g-b|^2 = g.g - 2 g.b + b.b;  s = (x.g - x.b - g.g + g.b) / |g-b|.
 * Cost O((1+k+m)^2 d), nothing for the handful of prompts VLM-RM uses.
 * |g-b|^2 is a difference of O(1) terms: below 1e-12 of their size it is
 * rounding noise, u is undefined, and alpha = 0 is used (the reference's
 * suggested guard). */
int rk__vlm_rm(const double *x, const double *goals, size_t k,
               const double *baselines, size_t m, size_t d, double alpha,
               double *r) {
  if (k == 0 || m == 0 || d == 0) return -1;
  double xx = rk__cosine(x, x, d); /* 1, or 0 for a zero image embedding */
  double xg = mean_cos(x, 1, goals, k, d);
  double xb = mean_cos(x, 1, baselines, m, d);
  double gg = mean_cos(goals, k, goals, k, d);
  double bb = mean_cos(baselines, m, baselines, m, d);
  double gb = mean_cos(goals, k, baselines, m, d);
  double vv = xx - 2 * xg + gg;
  if (vv < 0) vv = 0;
  double dd = gg - 2 * gb + bb;
  double s2 = 0;
  if (!(dd > 1e-12 * (gg + bb))) {
    alpha = 0; /* goal and baseline coincide: no direction to project on */
  } else {
    double s = (xg - xb - gg + gb) / sqrt(dd);
    s2 = s * s;
  }
  *r = 1.0 - 0.5 * (alpha * (2 - alpha) * s2 + (1 - alpha) * (1 - alpha) * vv);
  return 0;
}

/* VLM-RL contrasting-language-goal reward (zihaosheng/VLM-RL,
 * clip_reward_model.py forward_vlm_rl):
 *   z = cos(x, e_neg) - cos(x, e_pos),  r = 1 - clip(z, 0, margin)/margin.
 * A margin <= 0 (not a valid argument) is taken as its limit margin -> 0+:
 * r = 0 when z > 0, else 1. */
double rk__vlm_rl(const double *x, const double *pos, const double *neg,
                  size_t d, double margin) {
  double z = rk__cosine(x, neg, d) - rk__cosine(x, pos, d);
  if (!(margin > 0)) return z > 0 ? 0.0 : 1.0;
  double c = z < 0 ? 0 : (z > margin ? margin : z);
  return 1.0 - c / margin;
}

/* CLIPScore as RLCF uses it (mzhaoshuai/RLCF, TPT/clip_reward.py):
 * w * max(cos(a, b), 0), w = 2.5 there. */
double rk__clip_score(const double *a, const double *b, size_t d, double w) {
  double c = rk__cosine(a, b, d);
  return w * (c > 0 ? c : 0.0);
}

/* Bidirectional max-average similarity:
 *   0.5 * (mean_i max_j cos(a_i, b_j) + mean_j max_i cos(a_i, b_j)).
 * Cosines are computed twice rather than stored (no allocation). */
int rk__bmas(const double *a, size_t na, const double *b, size_t nb, size_t d,
             double *r) {
  if (na == 0 || nb == 0) return -1;
  double s1 = 0, s2 = 0;
  for (size_t i = 0; i < na; i++) {
    double best = -INFINITY;
    for (size_t j = 0; j < nb; j++) {
      double c = rk__cosine(a + i * d, b + j * d, d);
      if (c > best) best = c;
    }
    s1 += best;
  }
  for (size_t j = 0; j < nb; j++) {
    double best = -INFINITY;
    for (size_t i = 0; i < na; i++) {
      double c = rk__cosine(a + i * d, b + j * d, d);
      if (c > best) best = c;
    }
    s2 += best;
  }
  *r = 0.5 * (s1 / (double)na + s2 / (double)nb);
  return 0;
}

/* --------------------------------------------------------- judge scores */

/* Powers of ten exactly representable as doubles. */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A decimal number at p[i]: [+-]? (digits ('.' digits)? | '.' digits), the
 * sign only when allow_sign. Returns the end (i when there is no number);
 * *ok says whether *v holds its value: numbers longer than 63 bytes are
 * consumed but give no value (no judge writes such a score). The value is
 * correctly rounded: mantissa < 2^53 over an exact power of ten is one
 * correctly rounded division (Clinger's fast path); anything else goes
 * through strtod on a copy (C locale assumed, as in json_parse.c). */
static size_t read_num(const uchar *p, size_t n, size_t i, int allow_sign,
                       double *v, int *ok) {
  size_t j = i;
  int neg = 0;
  *ok = 0;
  if (allow_sign && j < n && (p[j] == '+' || p[j] == '-')) {
    neg = p[j] == '-';
    j++;
  }
  uint64_t mant = 0;
  size_t sig = 0, frac = 0, digits = 0;
  int exact = 1;
  for (; j < n && is_digit(p[j]); j++, digits++) {
    if (mant == 0 && p[j] == '0') continue;
    if (++sig > 19) exact = 0;
    else mant = mant * 10 + (uint64_t)(p[j] - '0');
  }
  if (j + 1 < n && p[j] == '.' && is_digit(p[j + 1])) {
    for (j++; j < n && is_digit(p[j]); j++, digits++, frac++) {
      if (mant == 0 && p[j] == '0') continue;
      if (++sig > 19) exact = 0;
      else mant = mant * 10 + (uint64_t)(p[j] - '0');
    }
  }
  if (digits == 0) return i;
  if (j - i > 63) return j;
  double d;
  if (exact && frac <= 22 && mant <= ((uint64_t)1 << 53)) {
    d = (double)mant / exact_pow10[frac];
  } else {
    char tmp[64];
    memcpy(tmp, p + i, j - i);
    tmp[j - i] = '\0';
    d = fabs(strtod(tmp, NULL));
  }
  if (!isfinite(d)) return j;
  *v = neg ? -d : d;
  *ok = 1;
  return j;
}

static size_t skip_ws(const uchar *p, size_t n, size_t i) {
  while (i < n && is_ws(p[i])) i++;
  return i;
}
static size_t skip_hs(const uchar *p, size_t n, size_t i) {
  while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
  return i;
}
/* Whitespace and markdown emphasis: "**Score:** 7". */
static size_t skip_ws_star(const uchar *p, size_t n, size_t i) {
  while (i < n && (is_ws(p[i]) || p[i] == '*')) i++;
  return i;
}

/* After a number ending at e: "/MAX" or "out of MAX" on the same line,
 * MAX an unsigned number > 0. Returns the end of MAX, or 0 when absent. */
static size_t read_denom(const uchar *p, size_t n, size_t e, double *max) {
  size_t j = skip_hs(p, n, e);
  if (j < n && p[j] == '/') {
    j = skip_hs(p, n, j + 1);
  } else if (lit_at(p, n, j, "out") && j + 3 < n && (p[j + 3] == ' ' || p[j + 3] == '\t')) {
    j = skip_hs(p, n, j + 3);
    if (!lit_at(p, n, j, "of") || j + 2 >= n || !(p[j + 2] == ' ' || p[j + 2] == '\t'))
      return 0;
    j = skip_hs(p, n, j + 2);
  } else {
    return 0;
  }
  int ok;
  double v = 0;
  size_t k = read_num(p, n, j, 0, &v, &ok);
  if (k == j || !ok || !(v > 0)) return 0;
  *max = v;
  return k;
}

/* S with an optional denominator at p[i]; returns the end or 0. */
static size_t read_score(const uchar *p, size_t n, size_t i, double *s, double *max) {
  int ok;
  size_t e = read_num(p, n, i, 1, s, &ok);
  if (e == i || !ok) return 0;
  *max = NAN;
  size_t k = read_denom(p, n, e, max);
  return k ? k : e;
}

/* opener already matched; then ws, S, ws, closer (lowercase literal). */
static int try_wrapped(const uchar *p, size_t n, size_t i, const char *closer,
                       double *s, double *max) {
  size_t j = read_score(p, n, skip_ws(p, n, i), s, max);
  if (!j) return 0;
  return lit_at(p, n, skip_ws(p, n, j), closer);
}

/* "score" already matched, ending at i: [ws*] (':' | '=' | "is") [ws*] S. */
static int try_label(const uchar *p, size_t n, size_t i, double *s, double *max) {
  size_t j = skip_ws_star(p, n, i);
  if (j < n && (p[j] == ':' || p[j] == '=')) j++;
  else if (lit_at(p, n, j, "is") && !(j + 2 < n && is_alpha(p[j + 2]))) j += 2;
  else return 0;
  j = skip_ws_star(p, n, j);
  return read_score(p, n, j, s, max) != 0;
}

/* Could a number start at p[i]? Not inside a number or a word-glued sign:
 * in "5-3" the '-' is not a sign, "3" is the number. */
static int num_start(const uchar *p, size_t n, size_t i) {
  uchar c = p[i];
  uchar prev = i ? p[i - 1] : ' ';
  if (is_digit(prev) || prev == '.') return 0;
  if (is_digit(c)) return 1;
  size_t j = i;
  if (c == '+' || c == '-') {
    if (is_alpha(prev)) return 0;
    j++;
  }
  if (j < n && is_digit(p[j])) return 1; /* a sign before a digit */
  return j + 1 < n && p[j] == '.' && is_digit(p[j + 1]);
}

/* One left-to-right pass; every pattern is tried where it can start and
 * reads a bounded number of tokens, each byte being looked at a constant
 * number of times. The pattern starting last wins; a bare number is only
 * the fallback when no pattern matched and last_number is set (otherwise
 * the "10" of "Score: 7/10" would always win). */
int rk__parse_judge_score(rk__str text, int last_number, double *score,
                          double *out_of) {
  const uchar *p = (const uchar *)text.p;
  size_t n = text.p ? text.n : 0;
  int found = 0, have_last = 0;
  double fs = 0, fo = NAN, ls = 0;
  for (size_t i = 0; i < n;) {
    uchar c = p[i];
    double s, mx;
    if (c == '\\' && lit_at(p, n, i, "\\boxed{")) {
      if (try_wrapped(p, n, i + 7, "}", &s, &mx)) found = 1, fs = s, fo = mx;
    } else if (c == '<' && lit_at(p, n, i, "<score>")) {
      if (try_wrapped(p, n, i + 7, "</score>", &s, &mx)) found = 1, fs = s, fo = mx;
    } else if (c == '[' && lit_at(p, n, i, "[[")) {
      if (try_wrapped(p, n, i + 2, "]]", &s, &mx)) found = 1, fs = s, fo = mx;
    } else if (lower(c) == 's' && lit_at(p, n, i, "score") && !(i && is_alpha(p[i - 1]))) {
      if (try_label(p, n, i + 5, &s, &mx)) found = 1, fs = s, fo = mx;
    } else if (num_start(p, n, i)) {
      int ok;
      size_t e = read_num(p, n, i, 1, &s, &ok);
      if (ok) {
        have_last = 1;
        ls = s;
        mx = NAN;
        if (read_denom(p, n, e, &mx)) found = 1, fs = s, fo = mx;
      }
      if (e > i) {
        i = e;
        continue;
      }
    }
    i++;
  }
  if (!found && last_number && have_last) found = 1, fs = ls, fo = NAN;
  if (!found) return -1;
  *score = fs;
  *out_of = fo;
  return 0;
}

/* ------------------------------------------------------------ verdicts */

/* A letter, digit, mark or '_' continues a word; so does an invalid byte
 * (unknown text is not a boundary). */
static int word_cp(utf8proc_int32_t u) {
  if (u < 0) return 1;
  if (u < 0x80) return is_alpha((uchar)u) || is_digit((uchar)u) || u == '_';
  switch (utf8proc_category(u)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return 1;
    default:
      return 0;
  }
}

/* First occurrence of lit (case-sensitive) in p[from..n), or n. */
static size_t find_lit(const uchar *p, size_t n, size_t from, const char *lit) {
  size_t k = strlen(lit);
  for (size_t i = from; i + k <= n; i++)
    if (memcmp(p + i, lit, k) == 0) return i;
  return n;
}

static const struct {
  const char *w;
  int v;
} verdict_words[] = {{"true", 1}, {"false", 0}, {"yes", 1},
                     {"no", 0},   {"correct", 1}, {"incorrect", 0}};

/* The reasoning block is skipped: "<think>...</think>" at the start, or
 * everything up to a "</think>" whose opening tag the chat template put
 * in the prompt (DeepSeek-R1 style). Without a closing tag the whole text
 * is searched. */
int rk__parse_verdict(rk__str text) {
  const uchar *p = (const uchar *)text.p;
  size_t n = text.p ? text.n : 0;
  size_t start = 0;
  size_t j = skip_ws(p, n, 0);
  size_t close = find_lit(p, n, lit_at(p, n, j, "<think>") ? j + 7 : 0, "</think>");
  if (close < n) start = close + 8;
  int prev_word = 0;
  for (size_t i = start; i < n;) {
    utf8proc_int32_t u;
    size_t l = next_cp(p + i, n - i, &u);
    if (!prev_word && u >= 0 && u < 0x80 && is_alpha((uchar)u)) {
      for (size_t w = 0; w < sizeof verdict_words / sizeof verdict_words[0]; w++) {
        size_t k = strlen(verdict_words[w].w);
        if (!lit_at(p, n, i, verdict_words[w].w)) continue;
        utf8proc_int32_t after = ' ';
        if (i + k < n) next_cp(p + i + k, n - i - k, &after);
        if (!word_cp(after)) return verdict_words[w].v;
      }
    }
    prev_word = word_cp(u);
    i += l;
  }
  return -1;
}

/* CapRL (InternLM/CapRL, reward_fn.py): the answer is the first capital
 * letter among the options' labels, A up to `last` (at most I). */
char rk__parse_choice_letter(rk__str text, char last) {
  if (last > 'I') last = 'I';
  if (last < 'A' || !text.p) return 0;
  for (size_t i = 0; i < text.n; i++)
    if (text.p[i] >= 'A' && text.p[i] <= last) return text.p[i];
  return 0;
}

/* --------------------------------------------------- deterministic shuffle */

/* The output mix of splitmix64 (no increment): a bijection of 64-bit
 * words with mix(0) = 0. */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

/* splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014; the constants of Vigna's splitmix64.c): add
 * the golden-ratio increment, then mix with two xor-shift-multiplies. */
uint64_t rk__splitmix64(uint64_t *state) {
  return mix64(*state += 0x9E3779B97F4A7C15u);
}

/* Uniform in [0, bound) without modulo bias: draws below 2^64 mod bound
 * are rejected (fewer than one in 2^32 for any bound we use). */
static uint64_t uniform_below(uint64_t bound, uint64_t *state) {
  uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    uint64_t x = rk__splitmix64(state);
    if (x >= threshold) return x % bound;
  }
}

/* Fisher-Yates (Durstenfeld): for i = n-1 down to 1, swap perm[i] with
 * perm[j], j uniform in [0, i]. */
void rk__shuffle(size_t *perm, size_t n, uint64_t *state) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)uniform_below((uint64_t)i, state);
    size_t t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }
}

/* FNV-1a 64 (Fowler, Noll, Vo): h = 14695981039346656037; for each byte,
 * h = (h xor byte) * 1099511628211. The seed enters the offset basis as
 * basis xor mix64(seed): seed 0 is plain FNV-1a (its published test
 * vectors hold), and since mix64 is a bijection spreading every seed over
 * all 64 bits, different seeds start from different, unrelated states
 * (a plain basis xor seed would make seed 1 with "a" collide with seed 0
 * with "`"). */
uint64_t rk__hash64(const void *p, size_t n, uint64_t seed) {
  const uint64_t prime = 0x100000001B3u;
  uint64_t h = 0xCBF29CE484222325u ^ mix64(seed);
  const uchar *b = p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= prime;
  }
  return h;
}

/* -------------------------------------------------------------- judge gate */

enum { CP_BLANK, CP_PUNCT, CP_CONTENT };

/* Blank: whitespace, separators, control and format characters (zero
 * width space, BOM): nothing a judge can read. Punct: Unicode P* and S*
 * except the math symbols Sm (and ASCII punctuation, '+' '<' '=' included).
 * Everything else, invalid bytes included, is content. */
static int cp_class(utf8proc_int32_t u) {
  if (u < 0) return CP_CONTENT;
  if (u < 0x80) {
    if (u <= 0x20 || u == 0x7F) return CP_BLANK;
    if ((u >= 0x21 && u <= 0x2F) || (u >= 0x3A && u <= 0x40) || (u >= 0x5B && u <= 0x60) ||
        (u >= 0x7B && u <= 0x7E))
      return CP_PUNCT;
    return CP_CONTENT;
  }
  switch (utf8proc_category(u)) {
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF:
      return CP_BLANK;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
      return CP_PUNCT;
    /* Math symbols (Sm) are content: "∞", "≥", "∅" can be whole answers. */
    default:
      return CP_CONTENT;
  }
}

/* Start of the code point that ends at p[e] (e > 0), for backward scans;
 * a byte that does not end a valid sequence stands alone. */
static size_t prev_cp(const uchar *p, size_t e, utf8proc_int32_t *u) {
  for (size_t back = 1; back <= 4 && back <= e; back++) {
    uchar c = p[e - back];
    if ((c & 0xC0) == 0x80 && back < 4) continue;
    if (next_cp(p + e - back, back, u) == back && *u >= 0) return e - back;
    break;
  }
  *u = -1 - (utf8proc_int32_t)p[e - 1];
  return e - 1;
}

/* Length of p[0..n) once trailing code points of class <= `upto` are
 * dropped: blanks (upto = CP_BLANK) or blanks and punctuation (CP_PUNCT). */
static size_t rtrim(const uchar *p, size_t n, int upto) {
  while (n > 0) {
    utf8proc_int32_t u;
    size_t s = prev_cp(p, n, &u);
    if (cp_class(u) > upto) break;
    n = s;
  }
  return n;
}

/* Key comparison folds case (utf8proc simple lowercase, ASCII included)
 * and reads the typographic apostrophe U+2019 as "'" ("Let’s"). */
static utf8proc_int32_t fold_cp(utf8proc_int32_t u) {
  if (u < 0) return u;
  if (u == 0x2019) return '\'';
  if (u < 0x80) return lower((uchar)u);
  return utf8proc_tolower(u);
}

/* Does key k[0..kn) match a prefix of r[0..rn)? Case folded, a run of
 * blanks in the key matches any non-empty run of blanks in the response.
 * Returns the bytes of r consumed, or SIZE_MAX. */
static size_t match_prefix(const uchar *r, size_t rn, const uchar *k, size_t kn) {
  size_t i = 0, j = 0;
  while (j < kn) {
    utf8proc_int32_t ku, ru;
    size_t kl = next_cp(k + j, kn - j, &ku);
    if (cp_class(ku) == CP_BLANK) {
      while (j < kn && (kl = next_cp(k + j, kn - j, &ku), cp_class(ku) == CP_BLANK)) j += kl;
      size_t run = 0;
      while (i < rn) {
        size_t rl = next_cp(r + i, rn - i, &ru);
        if (cp_class(ru) != CP_BLANK) break;
        i += rl;
        run++;
      }
      if (!run) return SIZE_MAX;
      continue;
    }
    if (i >= rn) return SIZE_MAX;
    size_t rl = next_cp(r + i, rn - i, &ru);
    if (fold_cp(ku) != fold_cp(ru)) return SIZE_MAX;
    i += rl;
    j += kl;
  }
  return i;
}

/* The response, trimmed, as the gate sees it. */
typedef struct gate_text {
  const uchar *t;      /* trimmed of blanks at both ends */
  size_t n;
  const uchar *w;      /* t without leading punctuation ("**Solution**") */
  size_t wn;
  size_t last_content; /* offset in w of the last content code point + 1,
                          0 when there is none */
} gate_text;

/* Writes the reason into buf (cut at a UTF-8 boundary when cap is short)
 * and returns it; without a buffer, the static `fallback`. */
static const char *put_reason(char *buf, size_t cap, const char *fallback,
                              const char *what, const char *key, const char *tail) {
  if (!buf || cap == 0) return fallback;
  int w = snprintf(buf, cap, "%s \"%s\"%s", what, key, tail);
  if (w >= 0 && (size_t)w >= cap) {
    /* Truncated: drop a partial UTF-8 sequence at the end. */
    size_t e = cap - 1;
    size_t s = e;
    while (s > 0 && ((uchar)buf[s - 1] & 0xC0) == 0x80) s--;
    if (s > 0 && (uchar)buf[s - 1] >= 0xC0) {
      uchar lead = (uchar)buf[s - 1];
      size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
      if (e - (s - 1) < need) buf[s - 1] = '\0';
    }
  }
  return buf;
}

/* Checks one key; returns the reason or NULL. */
static const char *gate_key(const gate_text *g, const char *key, const char *what,
                            char *buf, size_t cap) {
  const uchar *k = (const uchar *)key;
  size_t kn = strlen(key);
  /* Trim the key as the response was trimmed. */
  size_t ka = 0;
  while (ka < kn) {
    utf8proc_int32_t u;
    size_t l = next_cp(k + ka, kn - ka, &u);
    if (cp_class(u) != CP_BLANK) break;
    ka += l;
  }
  kn = rtrim(k, kn, CP_BLANK);
  if (ka >= kn) return NULL;
  size_t core = rtrim(k, kn, CP_PUNCT);
  if (core <= ka) {
    /* A punctuation key (":"): only the exact response. */
    if (match_prefix(g->t, g->n, k + ka, kn - ka) == g->n)
      return put_reason(buf, cap, what, what, key, "");
    return NULL;
  }
  /* A word key: its words (trailing punctuation dropped) start the
   * response, after which nothing is left but blanks and punctuation. */
  size_t m = match_prefix(g->w, g->wn, k + ka, core - ka);
  if (m == SIZE_MAX || g->last_content > m) return NULL;
  int exact = g->w == g->t && match_prefix(g->t, g->n, k + ka, kn - ka) == g->n;
  return put_reason(buf, cap, what, what, key,
                    exact ? "" : " followed only by punctuation");
}

/* Order: empty, blank, the keys (so ":" is named as the master key it
 * is), then punctuation only. */
const char *rk__judge_gate(rk__str response, const char *const *extra_keys,
                           char *buf, size_t cap) {
  const uchar *p = (const uchar *)response.p;
  size_t n = response.p ? response.n : 0;
  if (buf && cap) buf[0] = '\0';
  if (n == 0) return "empty response";

  gate_text g = {0};
  size_t a = 0, e = 0;
  int seen_nonblank = 0, seen_content = 0;
  size_t w_start = 0, last_content_end = 0;
  for (size_t i = 0; i < n;) {
    utf8proc_int32_t u;
    size_t l = next_cp(p + i, n - i, &u);
    int c = cp_class(u);
    if (c != CP_BLANK) {
      if (!seen_nonblank) a = i;
      seen_nonblank = 1;
      e = i + l;
    }
    if (c == CP_CONTENT) {
      if (!seen_content) w_start = i;
      seen_content = 1;
      last_content_end = i + l;
    }
    i += l;
  }
  if (!seen_nonblank) return "whitespace only";
  g.t = p + a;
  g.n = e - a;
  if (seen_content) {
    g.w = p + w_start;
    g.wn = e - w_start;
    g.last_content = last_content_end - w_start;
  } else {
    g.w = g.t;
    g.wn = g.n;
    g.last_content = 0;
  }

  for (size_t i = 0; gate_keys[i]; i++) {
    const char *why = gate_key(&g, gate_keys[i], "master key", buf, cap);
    if (why) return why;
  }
  for (size_t i = 0; extra_keys && extra_keys[i]; i++) {
    const char *why = gate_key(&g, extra_keys[i], "extra key", buf, cap);
    if (why) return why;
  }
  if (!seen_content) return "punctuation only";
  return NULL;
}
