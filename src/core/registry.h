/*
 * registry.h - the one list of built-in reward functions.
 *
 * Adding a reward function: write src/<family>/<name>.c defining
 * `const rk__fn rk__fn_<name>` (see core/core.h), then add one line here.
 * Grouped by family (the folder under src/), in the order `rewardkit list`
 * prints them.
 */
#ifndef RK_CORE_REGISTRY_H
#define RK_CORE_REGISTRY_H

#include "core/core.h"

#define RK__FN_LIST(X)                                                     \
  /* src/text: answers as text */                                           \
  X(exact) X(contains) X(mcq) X(yes_no) X(numeric)                          \
  /* src/math: math answers */                                              \
  X(math) X(countdown)                                                      \
  /* src/metrics: overlap metrics */                                        \
  X(f1) X(em) X(rouge) X(bleu) X(chrf) X(cider_d)                           \
  /* src/metrics: edit distance, VQA, keywords, language */                 \
  X(cer) X(wer) X(edit_ratio) X(anls) X(vqa_acc) X(relaxed_acc)             \
  X(keywords) X(keyword_chain) X(lang_consistency)                          \
  /* src/format: format and shaping */                                      \
  X(format) X(regex) X(json) X(overlong_dapo) X(soft_overlong)              \
  X(cosine_length) X(repetition)                                            \
  /* src/vision: boxes and detection */                                     \
  X(iou) X(giou) X(grounding) X(coco_map) X(detection)                      \
  X(detection_hungarian) X(detection_prf) X(count)                          \
  /* src/vision: points, 3D, actions, puzzles */                            \
  X(point_in_box) X(point_in_polygon) X(keypoint_distance) X(iou3d)         \
  X(action_distance) X(maze) X(jigsaw) X(rotation)                          \
  /* src/model: model-based rewards through inference servers */           \
  X(judge) X(ref_logprob) X(sar) X(prompt_echo) X(rm_score) X(embed_sim)    \
  X(qa_from_text)                                                           \
  /* src/record: numbers the record carries */                              \
  X(constant) X(field)

/* Weak, so that a function listed here but not written yet cannot break
 * the build of everything else; rk__registry_missing() (checked by
 * tests/unit/test_core.c) names any such function, so nothing goes missing
 * unnoticed. */
#define RK__FN_DECLARE(name) extern const rk__fn rk__fn_##name __attribute__((weak));
RK__FN_LIST(RK__FN_DECLARE)
#undef RK__FN_DECLARE

/* The function called `name`, or NULL. */
const rk__fn *rk__registry_find(const char *name, size_t n);
/* i-th function (0-based), or NULL past the end. */
const rk__fn *rk__registry_at(size_t i);
/* Name of the first listed function that has no definition, or NULL. */
const char *rk__registry_missing(void);

#endif /* RK_CORE_REGISTRY_H */
