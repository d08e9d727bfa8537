/*
 * formulas.h - the arithmetic of model-based rewards, with no network:
 * P(yes) from top logprobs, likelihood aggregates of a reference answer,
 * RLPR debiasing, the self-aligned reward, embedding rewards, score
 * parsing from generated text, CapRL's question shuffling, and the gate
 * that stops judge-hacking responses before any call.
 *
 * Everything here is pure: same inputs, same outputs, no allocation
 * unless an arena is passed. Formulas: docs/rewards/model.md.
 */
#ifndef RK_MODEL_FORMULAS_H
#define RK_MODEL_FORMULAS_H

#include "core/core.h"

/* ---------------------------------------------------------- P(yes) */

/* One alternative at a generated position: token text and its logprob.
 * Logprobs at or below -9999 (vLLM's clamp of -inf, SGLang's -999999999)
 * count as probability 0. */
typedef struct rk__toplp {
  rk__str token;
  double logprob;
} rk__toplp;

/* P(yes) renormalised over the yes and no surface variants found among the
 * alternatives: p_yes / (p_yes + p_no), where p_yes sums exp(logprob) of
 * every alternative whose text, with surrounding whitespace and the
 * tokenizer space markers U+2581 and U+0120 removed and ASCII case folded,
 * equals one of `yes` (NULL-terminated list, e.g. {"yes", NULL}); the same
 * for no. Duplicated alternatives (same text) are counted once.
 * Returns 0 with *p set; -1 when neither a yes nor a no variant is present
 * (*p = NAN). mass_yes / mass_no (may be NULL) receive the two sums. */
int rk__pyes(const rk__toplp *top, size_t n, const char *const *yes,
             const char *const *no, double *p, double *mass_yes, double *mass_no);

/* ------------------------------------------------- likelihood aggregates */

typedef enum rk__lp_mode {
  RK__LP_SUM,        /* sum_t l_t (Kwiatkowski et al.'s recommendation) */
  RK__LP_MEAN_LOG,   /* (1/L) sum_t l_t */
  RK__LP_MEAN_PROB,  /* (1/L) sum_t exp(l_t): RLPR's default */
  RK__LP_PROD,       /* exp(sum_t l_t): VeriFree's prob */
  RK__LP_GEO_MEAN    /* exp((1/L) sum_t l_t) */
} rk__lp_mode;

/* Aggregates token logprobs l_0..l_{n-1}, each first floored at `floor`
 * (e.g. -100, so that -inf stays finite) . n == 0 gives 0 for every mode
 * (RLPR: an empty span scores 0). */
double rk__lp_aggregate(const double *lp, size_t n, rk__lp_mode mode, double floor);

/* Nearest bfloat16 value (round to nearest even on the 16 dropped bits),
 * as RLPR stores its probability reward. NaN stays NaN. */
double rk__round_bf16(double x);

/* RLPR shaping threshold_0: max(score_b - score_a, 0). */
double rk__rlpr_debias(double score_b, double score_a);

/* Self-aligned reward (SAR): with ppl(x) = exp(-(1/n) sum l_t),
 * max((ppl(a) - ppl(a|q)) / (ppl(a) + 1e-9), -1). lp_q are the answer's
 * token logprobs given the query, lp_noq without it. Returns 0 and *r,
 * or -1 if either list is empty. */
int rk__sar(const double *lp_q, size_t nq, const double *lp_noq, size_t nnoq,
            double *r);

/* -------------------------------------------------------- embeddings */

/* cos(a, b) = a.b / (|a||b|); 0 when either norm is 0. */
double rk__cosine(const double *a, const double *b, size_t d);

/* VLM-RM goal-baseline reward. x: image embedding (d); goals: k rows of d,
 * baselines: m rows of d (row-major). x and every row are L2-normalised
 * first; g, b = the row means (not renormalised); u = (g-b)/|g-b|;
 * v = x_hat - g; s = v.u;
 * r = 1 - 0.5 * (alpha*(2-alpha)*s^2 + (1-alpha)^2 * |v|^2).
 * If |g - b| == 0 the projection is undefined and alpha = 0 is used.
 * Returns 0, or -1 when k == 0 or m == 0 or d == 0. */
int rk__vlm_rm(const double *x, const double *goals, size_t k,
               const double *baselines, size_t m, size_t d, double alpha,
               double *r);

/* VLM-RL contrasting-language-goal reward: z = cos(x,neg) - cos(x,pos);
 * r = 1 - clip(z, 0, margin) / margin (margin > 0; VLM-RL uses 0.03). */
double rk__vlm_rl(const double *x, const double *pos, const double *neg,
                  size_t d, double margin);

/* CLIPScore: w * max(cos(a, b), 0) (RLCF uses w = 2.5). */
double rk__clip_score(const double *a, const double *b, size_t d, double w);

/* Bidirectional max-average similarity between two sets of vectors (rows):
 * 0.5 * (mean_i max_j cos(a_i, b_j) + mean_j max_i cos(a_i, b_j)).
 * Returns 0, or -1 when either set is empty. */
int rk__bmas(const double *a, size_t na, const double *b, size_t nb, size_t d,
             double *r);

/* ----------------------------------------------------- text from judges */

/* A score written by a judge at the end of its reasoning. The last match
 * wins among: "\boxed{S}", "<score>S</score>", "[[S]]", "Score: S"
 * ("score" case-insensitive, ':' or '=' or 'is'), "S/MAX" or "S out of
 * MAX" (then *out_of = MAX), and, only when `last_number` is set, the last
 * number in the text. S is a decimal number, optionally signed.
 * Returns 0 with *score (and *out_of = NAN when no denominator was
 * written), or -1 when nothing matches. */
int rk__parse_judge_score(rk__str text, int last_number, double *score,
                          double *out_of);

/* A judge's verdict word: the first of true/false, yes/no, correct/
 * incorrect (ASCII case-insensitive, whole word, also inside \boxed{})
 * found in the text after skipping a <think>...</think> block. Returns 1
 * (positive), 0 (negative) or -1 (none found). */
int rk__parse_verdict(rk__str text);

/* CapRL: the first ASCII capital letter in 'A'..last (last <= 'I') of
 * the text, or 0 when there is none. */
char rk__parse_choice_letter(rk__str text, char last);

/* ------------------------------------------------ deterministic shuffle */

/* splitmix64 step: deterministic pseudo-random numbers from a seed. */
uint64_t rk__splitmix64(uint64_t *state);
/* Fisher-Yates shuffle of perm[0..n) driven by rk__splitmix64(state). */
void rk__shuffle(size_t *perm, size_t n, uint64_t *state);
/* 64-bit FNV-1a of bytes, for seeds and cache keys. */
uint64_t rk__hash64(const void *p, size_t n, uint64_t seed);

/* ------------------------------------------------------ judge gate */

/* Why a response must not be sent to a judge, or NULL when it may be.
 * Refused: empty; only whitespace; only punctuation and symbols (Unicode
 * categories P* and S*, with whitespace); a known master key (the list in
 * docs/rewards/model.md: ":", ".", ",", "Thought process:",
 * "Let's solve this problem step by step.", "Solution", "解", "かいせつ",
 * "Respuesta", and more), compared after trimming whitespace, ASCII case
 * folding and dropping trailing punctuation; an opener from that list
 * followed by nothing but whitespace and punctuation; or any of
 * `extra_keys` (NULL-terminated, may be NULL), compared the same way.
 * The returned reason is static text, e.g. "punctuation only" or
 * "master key 'Solution'" (the key is written into buf, cap bytes). */
const char *rk__judge_gate(rk__str response, const char *const *extra_keys,
                           char *buf, size_t cap);

#endif /* RK_MODEL_FORMULAS_H */
