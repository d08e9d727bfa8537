/*
 * regex.c - the `regex` reward: does a user pattern match the response (or
 * a record field)? Patterns run on RE2 through re2_shim.h, in time linear
 * in the subject; patterns RE2 cannot express (backreferences, lookaround)
 * are refused when the spec loads, never at scoring time.
 *
 * Not for: the built-in tag checks (format.c needs no regex) or answer
 * extraction (text/extract.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "format/re2_shim.h"
#include "json/json.h"

enum { MODE_SEARCH = 0, MODE_FULLMATCH = 1 };
static const char *const k_modes[] = {"search", "fullmatch", NULL};

typedef struct regex_cfg {
  rk__re *re;
  int mode;
  double on_match, on_miss;
  long count;  /* 0: off; k: reward min(matches / k, 1) */
  char *field; /* NULL: the response */
} regex_cfg;

static void regex_free(void *v) {
  regex_cfg *cfg = v;
  if (!cfg) return;
  rk__re_free(cfg->re);
  free(cfg->field);
  free(cfg);
}

static int regex_compile(rk__argctx *ac, void **out) {
  regex_cfg *cfg = calloc(1, sizeof *cfg);
  char *pat = NULL;
  int dotall = 0, icase = 0;
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (!rk__arg_raw(ac, "pattern")) {
    rk__arg_error(ac, "pattern", "required (an RE2 regular expression)");
    goto fail;
  }
  if (rk__arg_str(ac, "pattern", NULL, &pat) ||
      rk__arg_enum(ac, "mode", k_modes, MODE_SEARCH, &cfg->mode) ||
      rk__arg_bool(ac, "dotall", 0, &dotall) ||
      rk__arg_bool(ac, "ignore_case", 0, &icase) ||
      rk__arg_num(ac, "on_match", 1.0, &cfg->on_match) ||
      rk__arg_num(ac, "on_miss", 0.0, &cfg->on_miss) ||
      rk__arg_int(ac, "count", 0, 0, 1000000, &cfg->count) ||
      rk__arg_str(ac, "field", NULL, &cfg->field))
    goto fail;
  if (cfg->count && cfg->mode == MODE_FULLMATCH) {
    rk__arg_error(ac, "count", "counts matches, so it needs mode \"search\"");
    goto fail;
  }
  if (cfg->count && (rk__arg_raw(ac, "on_match") || rk__arg_raw(ac, "on_miss"))) {
    rk__arg_error(ac, "count",
                  "the reward is min(matches / count, 1); on_match and "
                  "on_miss do not apply");
    goto fail;
  }
  rk__re_options o = {0};
  o.dot_nl = dotall;
  o.case_insensitive = icase;
  rk__re_errkind kind;
  char err[256];
  if (rk__re_compile(pat, strlen(pat), &o, &cfg->re, &kind, err, sizeof err)) {
    switch (kind) {
      case RK__RE_UNSUPPORTED:
        rk__arg_error(ac, "pattern",
                      "regex: pattern not supported by RE2 (backreferences "
                      "and lookaround are not supported, linear-time "
                      "engine): %s",
                      err);
        break;
      case RK__RE_TOO_BIG:
        rk__arg_error(ac, "pattern",
                      "regex: pattern too large for RE2's 8 MiB program "
                      "budget: %s",
                      err);
        break;
      case RK__RE_NOMEM:
        rk__arg_error(ac, "pattern", "regex: out of memory");
        break;
      default:
        rk__arg_error(ac, "pattern", "regex: invalid pattern: %s", err);
        break;
    }
    goto fail;
  }
  free(pat);
  *out = cfg;
  return 0;
fail:
  free(pat);
  regex_free(cfg);
  return -1;
}

/* The subject: the response, or a field (strings as their text, other
 * values as their JSON source text). */
static rk_status subject(const regex_cfg *cfg, rk__call *c, rk__str *s) {
  if (!cfg->field) {
    if (!c->rec->has_response)
      return rk__fail(c, "record has no response text");
    *s = c->rec->response;
    return RK_STATUS_OK;
  }
  const rk__jval *v = rk__record_field(c->rec, cfg->field);
  if (!v) return rk__fail(c, "field '%s' missing from the record", cfg->field);
  *s = v->type == RK__JSTR ? v->u.str : v->raw;
  return RK_STATUS_OK;
}

static rk_status regex_score(const void *v, rk__call *c, double *value) {
  const regex_cfg *cfg = v;
  rk__str s = {NULL, 0};
  *value = 0;
  rk_status st = subject(cfg, c, &s);
  if (st != RK_STATUS_OK) return st;
  const char *what = cfg->field ? cfg->field : "response";

  if (cfg->count) {
    uint64_t left = c->budget->limit > c->budget->used
                        ? c->budget->limit - c->budget->used
                        : 0;
    size_t found = 0;
    uint64_t spent = 0;
    int rc = rk__re_count(cfg->re, s.p, s.n, (size_t)cfg->count, left, &found,
                          &spent);
    rk__spend(c, spent);
    if (rc < 0) return rk__fail(c, "regex: internal RE2 failure");
    if (rc == 2) {
      rk__spend(c, left + 1); /* mark the budget as exhausted */
      return RK_STATUS_TIMEOUT;
    }
    double frac = (double)found / (double)cfg->count;
    *value = frac > 1.0 ? 1.0 : frac;
    if (rk__explaining(c)) {
      char d[32];
      rk__fmt_double(d, *value);
      rk__explain(c, "%zu match%s in the %s (counting up to %ld); reward %s",
                  found, found == 1 ? "" : "es", what, cfg->count, d);
    }
    return RK_STATUS_OK;
  }

  /* Charge the worst case before matching: RE2 is linear, but its NFA
   * fallback costs bytes x program size (see rk__re_cost). */
  if (!rk__spend(c, ((uint64_t)s.n + 1) * rk__re_cost(cfg->re)))
    return RK_STATUS_TIMEOUT;
  int m;
  size_t mb = 0, me = 0;
  if (cfg->mode == MODE_FULLMATCH)
    m = rk__re_fullmatch(cfg->re, s.p, s.n);
  else
    m = rk__re_search(cfg->re, s.p, s.n, 0, &mb, &me);
  if (m < 0) return rk__fail(c, "regex: internal RE2 failure");
  *value = m ? cfg->on_match : cfg->on_miss;
  if (rk__explaining(c)) {
    if (!m)
      rk__explain(c, "no %s of the pattern in the %s",
                  cfg->mode == MODE_FULLMATCH ? "full match" : "match", what);
    else if (cfg->mode == MODE_FULLMATCH)
      rk__explain(c, "the whole %s matches", what);
    else {
      /* Quote at most 40 bytes, cut on a character boundary. */
      size_t show = me - mb > 40 ? 40 : me - mb;
      while (show > 0 && show < me - mb &&
             ((unsigned char)s.p[mb + show] & 0xC0) == 0x80)
        show--;
      rk__explain(c, "match at bytes %zu-%zu of the %s: '%.*s%s'", mb, me,
                  what, (int)show, s.p + mb, show < me - mb ? "..." : "");
    }
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_regex = {
    .name = "regex",
    .summary = "RE2 pattern (search or fullmatch) on the response or a field; linear time",
    .compile = regex_compile,
    .score = regex_score,
    .free = regex_free,
};
