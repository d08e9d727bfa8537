/*
 * record.h - building an rk__record from a parsed line (aliases of
 * DESIGN §2). Used by the engine only; reward functions see rk__record.
 */
#ifndef RK_CORE_RECORD_H
#define RK_CORE_RECORD_H

#include "core/core.h"

/* Fills r from the JSON object root (borrowed). */
void rk__record_build(const rk__jval *root, uint64_t line, rk__record *r);

#endif /* RK_CORE_RECORD_H */
