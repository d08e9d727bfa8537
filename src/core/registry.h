/*
 * registry.h - the one list of built-in reward functions.
 *
 * Adding a reward function: write src/<family>/<name>.c defining
 * `const rk__fn rk__fn_<name>` (see core/core.h), then add one line here.
 * Keep the list sorted by family, then name.
 */
#ifndef RK_CORE_REGISTRY_H
#define RK_CORE_REGISTRY_H

#include "core/core.h"

/* Families under construction keep their list in src/<family>/fns.h until
 * they are folded into the list below. */
#if __has_include("math/fns.h")
#include "math/fns.h"
#else
#define RK__FN_LIST_MATH(X)
#endif
#if __has_include("metrics/fns_overlap.h")
#include "metrics/fns_overlap.h"
#else
#define RK__FN_LIST_OVERLAP(X)
#endif
#if __has_include("metrics/fns_edit.h")
#include "metrics/fns_edit.h"
#else
#define RK__FN_LIST_EDIT(X)
#endif
#if __has_include("vision/fns_boxes.h")
#include "vision/fns_boxes.h"
#else
#define RK__FN_LIST_BOXES(X)
#endif
#if __has_include("vision/fns_geometry.h")
#include "vision/fns_geometry.h"
#else
#define RK__FN_LIST_GEOMETRY(X)
#endif

#define RK__FN_LIST(X) \
  /* text */                \
  X(exact)                  \
  X(contains)               \
  X(mcq)                    \
  X(yes_no)                 \
  X(numeric)                \
  /* format and shaping */  \
  X(format)                 \
  X(regex)                  \
  X(json)                   \
  X(overlong_dapo)          \
  X(soft_overlong)          \
  X(cosine_length)          \
  X(repetition)             \
  /* plumbing */            \
  X(constant)               \
  X(field)                  \
  RK__FN_LIST_MATH(X)       \
  RK__FN_LIST_OVERLAP(X)    \
  RK__FN_LIST_EDIT(X)       \
  RK__FN_LIST_BOXES(X)      \
  RK__FN_LIST_GEOMETRY(X)

/* Weak so that a listed function whose file is not written yet leaves the
 * build working; rk__registry_missing() (checked by tests/unit/test_core.c)
 * names any such function, so nothing can go missing unnoticed. */
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
