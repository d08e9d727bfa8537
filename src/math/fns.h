/*
 * fns.h - the math family's entries for core/registry.h: `math` (answer
 * equivalence, src/math/math.c) and `countdown` (24-game style checks,
 * src/math/countdown.c).
 */
#ifndef RK_MATH_FNS_H
#define RK_MATH_FNS_H

#define RK__FN_LIST_MATH(X) X(math) X(countdown)

#endif /* RK_MATH_FNS_H */
