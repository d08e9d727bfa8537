/*
 * fns_overlap.h - the overlap metrics' registry list (issue 4): SQuAD F1
 * and EM, ROUGE, BLEU, chrF, CIDEr-D. core/registry.h includes it.
 */
#ifndef RK_METRICS_FNS_OVERLAP_H
#define RK_METRICS_FNS_OVERLAP_H

#define RK__FN_LIST_OVERLAP(X) \
  X(f1)                        \
  X(em)                        \
  X(rouge)                     \
  X(bleu)                      \
  X(chrf)                      \
  X(cider_d)

#endif /* RK_METRICS_FNS_OVERLAP_H */
