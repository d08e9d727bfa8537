/*
 * registry.c - the table of built-in reward functions, built from the
 * single list in registry.h. Lookup is by exact name.
 */
#include <string.h>

#include "core/registry.h"

#define RK__FN_ENTRY(name) &rk__fn_##name,
static const rk__fn *const table[] = {RK__FN_LIST(RK__FN_ENTRY)};
#undef RK__FN_ENTRY

#define TABLE_N (sizeof table / sizeof table[0])

const rk__fn *rk__registry_find(const char *name, size_t n) {
  for (size_t i = 0; i < TABLE_N; i++)
    if (strlen(table[i]->name) == n && memcmp(table[i]->name, name, n) == 0)
      return table[i];
  return NULL;
}

const rk__fn *rk__registry_at(size_t i) { return i < TABLE_N ? table[i] : NULL; }
