/*
 * errors.c - names and messages of error codes and statuses, the version,
 * and rk_free. All strings are static.
 */
#include <stdlib.h>

#include "core/core.h"

const char *rk_version(void) { return RK_VERSION_STRING; }

const char *rk_err_name(rk_err e) {
  switch (e) {
#define RK__ERR_NAME(name, code, msg) \
  case RK_##name:                     \
    return "RK_" #name;
    RK_ERR_MAP(RK__ERR_NAME)
#undef RK__ERR_NAME
  }
  return "RK_EUNKNOWN";
}

const char *rk_strerror(rk_err e) {
  switch (e) {
#define RK__ERR_MSG(name, code, msg) \
  case RK_##name:                    \
    return msg;
    RK_ERR_MAP(RK__ERR_MSG)
#undef RK__ERR_MSG
  }
  return "unknown error";
}

const char *rk_status_name(rk_status s) {
  switch (s) {
    case RK_STATUS_OK: return "ok";
    case RK_STATUS_UNPARSEABLE: return "unparseable";
    case RK_STATUS_INVALID_REFERENCE: return "invalid_reference";
    case RK_STATUS_TIMEOUT: return "timeout";
    case RK_STATUS_ERROR: return "error";
  }
  return "error";
}

void rk_free(void *p) { free(p); }
