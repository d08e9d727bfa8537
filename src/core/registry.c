/*
 * registry.c - the table of built-in reward functions, built from the
 * single list in registry.h. Lookup is by exact name.
 */
#include <string.h>

#include "core/registry.h"

#define RK__FN_ENTRY(name) &rk__fn_##name,
static const rk__fn *const table[] = {RK__FN_LIST(RK__FN_ENTRY)};
#undef RK__FN_ENTRY
#define RK__FN_NAME(name) #name,
static const char *const names[] = {RK__FN_LIST(RK__FN_NAME)};
#undef RK__FN_NAME

#define TABLE_N (sizeof table / sizeof table[0])

const rk__fn *rk__registry_find(const char *name, size_t n) {
  for (size_t i = 0; i < TABLE_N; i++)
    if (table[i] && strlen(table[i]->name) == n && memcmp(table[i]->name, name, n) == 0)
      return table[i];
  return NULL;
}

const rk__fn *rk__registry_at(size_t i) {
  /* Skips listed functions without a definition (see registry.h). */
  for (size_t j = 0; j < TABLE_N; j++) {
    if (!table[j]) continue;
    if (i-- == 0) return table[j];
  }
  return NULL;
}

const char *rk__registry_missing(void) {
  for (size_t i = 0; i < TABLE_N; i++)
    if (!table[i]) return names[i];
  return NULL;
}
