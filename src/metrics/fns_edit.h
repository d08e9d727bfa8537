/*
 * fns_edit.h - the edit-distance and open-answer metrics (issue 4, second
 * half), picked up by core/registry.h. Docs: docs/rewards/edit.md.
 */
#ifndef RK_METRICS_FNS_EDIT_H
#define RK_METRICS_FNS_EDIT_H

#define RK__FN_LIST_EDIT(X) \
  X(cer)                    \
  X(wer)                    \
  X(edit_ratio)             \
  X(anls)                   \
  X(vqa_acc)                \
  X(relaxed_acc)            \
  X(keywords)               \
  X(keyword_chain)          \
  X(lang_consistency)

#endif /* RK_METRICS_FNS_EDIT_H */
