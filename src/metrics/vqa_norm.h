/*
 * vqa_norm.h - the answer normalisers of VQA evaluation, over code points:
 * the official VQAv2 processPunctuation / processDigitArticle
 * (GT-Vision-Lab/VQA vqaEval.py) and the EvalAI answer processor of
 * TextVQA (mmf m4c_evaluators.py). Used by vqa_acc.c.
 *
 * The two pipelines need out to hold 12 * n + 16 code points (scratch;
 * lower-casing U+0130, "'s" -> " 's" and contractions lengthen text).
 * rk__vqa_punct never lengthens; rk__vqa_digit_article at most doubles
 * (out must not overlap in).
 */
#ifndef RK_METRICS_VQA_NORM_H
#define RK_METRICS_VQA_NORM_H

#include <stddef.h>
#include <stdint.h>

/* "\n", "\t" -> " ", then Python strip(). In place; returns the new length
 * and sets *off to where the text now starts. */
size_t rk__vqa_prep(uint32_t *s, size_t n, size_t *off);

/* processPunctuation: out may equal in. intended = 0: the script's
 * period rule (every "." not followed by a digit, at most 32); 1: the rule
 * its regex meant, (?<!\d)(\.)(?!\d) with no count (a "." next to a digit
 * on either side stays). */
size_t rk__vqa_punct(const uint32_t *in, size_t n, uint32_t *out, int intended);

/* processDigitArticle: lower, split, number words -> digits, drop
 * a/an/the, contractions ("dont" -> "don't"), join with " ". */
size_t rk__vqa_digit_article(const uint32_t *in, size_t n, uint32_t *out);

/* The whole VQAv2 prediction pipeline (prep, punct, digit_article);
 * intended as rk__vqa_punct. */
size_t rk__vqa_norm_answer(const uint32_t *in, size_t n, uint32_t *out, int intended);

/* The whole EvalAI (TextVQA) processor; intended as rk__vqa_punct. */
size_t rk__vqa_norm_evalai(const uint32_t *in, size_t n, uint32_t *out, int intended);

#endif /* RK_METRICS_VQA_NORM_H */
