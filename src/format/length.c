/*
 * length.c - length shaping rewards: `overlong_dapo` (verl's DAPO linear
 * overlong buffer), `soft_overlong` (TRL / EasyR1 soft overlong
 * punishment) and `cosine_length` (open-r1 / TRL cosine-scaled reward,
 * which also needs a correctness node).
 *
 * The length L is measured in the unit the spec asks for: the record's
 * token count `response_length` when present (what the trainers use),
 * else Unicode code points of the response (what TRL's len(content) uses),
 * or bytes, words, or any record field. Counting is a single vectorisable
 * pass, far below a microsecond per KB.
 *
 * Not for: n-gram repetition (repetition.c) or truncation flags.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "json/json.h"

#define RK__PI 3.14159265358979323846

/* ----------------------------------------------------------- formulas */

static double no_neg_zero(double v) { return v == 0.0 ? 0.0 : v; }

double rk__len_dapo(double L, double max_len, double buffer_len,
                    double factor, int clamp) {
  /* verl dapo.py: expected_len = max_resp_len - overlong_buffer_len;
   * exceed_len = L - expected_len;
   * overlong_reward = min(-exceed_len / overlong_buffer_len * factor, 0). */
  double expected = max_len - buffer_len;
  double pen = -(L - expected) / buffer_len * factor;
  if (pen > 0) pen = 0;
  if (clamp && pen < -factor) pen = -factor;
  return no_neg_zero(pen);
}

double rk__len_soft_overlong(double L, double max_len, double cache_len) {
  /* TRL _SoftOverlongPunishment / EasyR1 dapo.py soft_overlong_punishment. */
  double expected = max_len - cache_len;
  if (L <= expected) return 0.0;
  if (L <= max_len) return no_neg_zero((expected - L) / cache_len);
  return -1.0;
}

double rk__len_cosine(const rk__cosine_cfg *cfg, double L, int correct) {
  /* open-r1 get_cosine_scaled_reward: progress = L / max_len;
   * cosine = cos(progress * pi); correct: (min, max) = (min_value_correct,
   * max_value_correct); wrong: swapped, (max_value_wrong, min_value_wrong);
   * reward = min + 0.5 * (max - min) * (1 + cosine). */
  double t = L / cfg->max_len;
  if (cfg->clamp && t > 1.0) t = 1.0;
  double cs = cos(RK__PI * t);
  double lo = correct ? cfg->min_correct : cfg->max_wrong;
  double hi = correct ? cfg->max_correct : cfg->min_wrong;
  return no_neg_zero(lo + 0.5 * (hi - lo) * (1.0 + cs));
}

size_t rk__count_words(const char *p, size_t n) {
  /* Python len(s.split()): count the non-space bytes that follow a space
   * (or the start). Branch-free except on the rare bytes that may start a
   * multi-byte space. */
  size_t words = 0, i = 0;
  unsigned prev_ws = 1;
  while (i < n) {
    unsigned cls = rk__py_space_class[(unsigned char)p[i]];
    if (cls == 2) {
      size_t k = rk__py_space(p + i, n - i);
      if (k) {
        prev_ws = 1;
        i += k;
        continue;
      }
      cls = 0;
    }
    words += prev_ws & (cls ^ 1u);
    prev_ws = cls;
    i++;
  }
  return words;
}

/* --------------------------------------------------------------- units */

typedef enum { U_AUTO, U_CHARS, U_BYTES, U_WORDS, U_FIELD } unit_kind;

typedef struct len_unit {
  unit_kind kind;
  char *field; /* U_FIELD: dotted path */
} len_unit;

static int unit_compile(rk__argctx *ac, len_unit *u) {
  char *s = NULL;
  u->kind = U_AUTO;
  u->field = NULL;
  if (rk__arg_str(ac, "unit", "auto", &s)) return -1;
  int rc = 0;
  if (!s || strcmp(s, "auto") == 0)
    u->kind = U_AUTO;
  else if (strcmp(s, "chars") == 0)
    u->kind = U_CHARS;
  else if (strcmp(s, "bytes") == 0)
    u->kind = U_BYTES;
  else if (strcmp(s, "words") == 0)
    u->kind = U_WORDS;
  else if (strncmp(s, "field:", 6) == 0 && s[6] != '\0') {
    u->kind = U_FIELD;
    u->field = strdup(s + 6);
    if (!u->field) rc = rk__arg_error(ac, "unit", "out of memory");
  } else {
    rc = rk__arg_error(ac, "unit",
                       "expected \"auto\", \"chars\", \"bytes\", \"words\" "
                       "or \"field:NAME\", got \"%s\"",
                       s);
  }
  free(s);
  return rc;
}

/* Measures L. On success *L is set and the explanation names the source,
 * e.g. "L=5120 tokens from response_length". */
static rk_status unit_measure(const len_unit *u, rk__call *c, double *L,
                              char *src, size_t srccap) {
  const rk__record *r = c->rec;
  const char *path = u->kind == U_FIELD ? u->field : "response_length";
  if (u->kind == U_AUTO || u->kind == U_FIELD) {
    const rk__jval *v = rk__record_field(r, path);
    if (v) {
      if (v->type == RK__JNUM) {
        if (!(v->u.num >= 0) || !isfinite(v->u.num))
          return rk__fail(c, "length field '%s' must be a finite number >= 0",
                          path);
        *L = v->u.num;
        snprintf(src, srccap, "%s from %s",
                 u->kind == U_AUTO ? "tokens" : "units", path);
        return RK_STATUS_OK;
      }
      if (u->kind == U_FIELD && v->type == RK__JARR) {
        *L = (double)v->u.arr.n;
        snprintf(src, srccap, "items of %s", path);
        return RK_STATUS_OK;
      }
      if (u->kind == U_FIELD && v->type == RK__JSTR) {
        if (!rk__spend(c, v->u.str.n + 1)) return RK_STATUS_TIMEOUT;
        *L = (double)rk__utf8_count(v->u.str.p, v->u.str.n);
        snprintf(src, srccap, "code points of %s", path);
        return RK_STATUS_OK;
      }
      return rk__fail(c, "length field '%s' is a %s, expected a number%s",
                      path, rk__json_type_name(v->type),
                      u->kind == U_FIELD ? ", an array or a string" : "");
    }
    if (u->kind == U_FIELD)
      return rk__fail(c, "length field '%s' missing from the record", path);
  }
  if (!r->has_response) return rk__fail(c, "record has no response text");
  const char *p = r->response.p;
  size_t n = r->response.n;
  if (!rk__spend(c, (uint64_t)n + 1)) return RK_STATUS_TIMEOUT;
  switch (u->kind) {
    case U_BYTES:
      *L = (double)n;
      snprintf(src, srccap, "bytes of the response");
      break;
    case U_WORDS:
      *L = (double)rk__count_words(p, n);
      snprintf(src, srccap, "words of the response");
      break;
    default: /* U_AUTO without response_length, U_CHARS */
      *L = (double)rk__utf8_count(p, n);
      snprintf(src, srccap, "code points of the response");
      break;
  }
  return RK_STATUS_OK;
}

/* A required positive number. */
static int arg_required_num(rk__argctx *ac, const char *key, double lo,
                            double *out) {
  if (!rk__arg_raw(ac, key))
    return rk__arg_error(ac, key, "required (a length in the unit of \"unit\")");
  return rk__arg_num_range(ac, key, 0, lo, 1e300, out);
}

/* ------------------------------------------------------- overlong_dapo */

typedef struct dapo_cfg {
  len_unit unit;
  double max_len, buffer_len, factor;
  int clamp;
} dapo_cfg;

static void dapo_free(void *v) {
  dapo_cfg *cfg = v;
  if (!cfg) return;
  free(cfg->unit.field);
  free(cfg);
}

static int dapo_compile(rk__argctx *ac, void **out) {
  dapo_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (unit_compile(ac, &cfg->unit) ||
      arg_required_num(ac, "max_len", 0, &cfg->max_len) ||
      arg_required_num(ac, "buffer_len", 0, &cfg->buffer_len) ||
      rk__arg_num_range(ac, "penalty_factor", 1.0, 0, 1e300, &cfg->factor) ||
      rk__arg_bool(ac, "clamp", 0, &cfg->clamp)) {
    dapo_free(cfg);
    return -1;
  }
  if (!(cfg->buffer_len > 0) || cfg->buffer_len > cfg->max_len) {
    dapo_free(cfg);
    return rk__arg_error(ac, "buffer_len", "must be > 0 and <= max_len");
  }
  *out = cfg;
  return 0;
}

static rk_status dapo_score(const void *v, rk__call *c, double *value) {
  const dapo_cfg *cfg = v;
  char src[96];
  double L = 0;
  *value = 0;
  rk_status st = unit_measure(&cfg->unit, c, &L, src, sizeof src);
  if (st != RK_STATUS_OK) return st;
  *value = rk__len_dapo(L, cfg->max_len, cfg->buffer_len, cfg->factor,
                        cfg->clamp);
  if (rk__explaining(c)) {
    char a[32], b[32], d[32];
    rk__fmt_double(a, L);
    rk__fmt_double(b, cfg->max_len - cfg->buffer_len);
    rk__fmt_double(d, *value);
    rk__explain(c, "L=%s %s; expected <= %s; penalty %s", a, src, b, d);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_overlong_dapo = {
    .name = "overlong_dapo",
    .summary = "verl DAPO overlong buffer: min(-(L - (max_len - buffer_len)) / buffer_len * factor, 0)",
    .compile = dapo_compile,
    .score = dapo_score,
    .free = dapo_free,
};

/* ------------------------------------------------------- soft_overlong */

typedef struct soft_cfg {
  len_unit unit;
  double max_len, cache_len, factor;
} soft_cfg;

static void soft_free(void *v) {
  soft_cfg *cfg = v;
  if (!cfg) return;
  free(cfg->unit.field);
  free(cfg);
}

static int soft_compile(rk__argctx *ac, void **out) {
  soft_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (unit_compile(ac, &cfg->unit) ||
      arg_required_num(ac, "max_len", 0, &cfg->max_len) ||
      arg_required_num(ac, "cache_len", 0, &cfg->cache_len) ||
      rk__arg_num_range(ac, "penalty_factor", 1.0, 0, 1e300, &cfg->factor)) {
    soft_free(cfg);
    return -1;
  }
  if (cfg->cache_len > cfg->max_len) {
    soft_free(cfg);
    return rk__arg_error(ac, "cache_len", "must be <= max_len");
  }
  *out = cfg;
  return 0;
}

static rk_status soft_score(const void *v, rk__call *c, double *value) {
  const soft_cfg *cfg = v;
  char src[96];
  double L = 0;
  *value = 0;
  rk_status st = unit_measure(&cfg->unit, c, &L, src, sizeof src);
  if (st != RK_STATUS_OK) return st;
  *value = no_neg_zero(
      rk__len_soft_overlong(L, cfg->max_len, cfg->cache_len) * cfg->factor);
  if (rk__explaining(c)) {
    char a[32], b[32], d[32], e[32];
    rk__fmt_double(a, L);
    rk__fmt_double(b, cfg->max_len - cfg->cache_len);
    rk__fmt_double(d, cfg->max_len);
    rk__fmt_double(e, *value);
    rk__explain(c, "L=%s %s; free up to %s, -1 past %s; penalty %s", a, src,
                b, d, e);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_soft_overlong = {
    .name = "soft_overlong",
    .summary = "TRL/DAPO soft overlong punishment: 0, linear to -1 over the last cache_len, -1 beyond max_len",
    .compile = soft_compile,
    .score = soft_score,
    .free = soft_free,
};

/* ------------------------------------------------------- cosine_length */

typedef struct cos_cfg {
  len_unit unit;
  rk__cosine_cfg f;
  rk__node *correct;
  double correct_at;
} cos_cfg;

static void cos_free(void *v) {
  cos_cfg *cfg = v;
  if (!cfg) return;
  free(cfg->unit.field);
  rk__node_free(cfg->correct);
  free(cfg);
}

static int cos_compile(rk__argctx *ac, void **out) {
  cos_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (unit_compile(ac, &cfg->unit) ||
      arg_required_num(ac, "max_len", 0, &cfg->f.max_len) ||
      rk__arg_num(ac, "min_value_wrong", -1.0, &cfg->f.min_wrong) ||
      rk__arg_num(ac, "max_value_wrong", -0.5, &cfg->f.max_wrong) ||
      rk__arg_num(ac, "min_value_correct", 0.5, &cfg->f.min_correct) ||
      rk__arg_num(ac, "max_value_correct", 1.0, &cfg->f.max_correct) ||
      rk__arg_bool(ac, "clamp", 1, &cfg->f.clamp) ||
      rk__arg_num(ac, "correct_at", 1.0, &cfg->correct_at)) {
    cos_free(cfg);
    return -1;
  }
  if (!(cfg->f.max_len > 0)) {
    cos_free(cfg);
    return rk__arg_error(ac, "max_len", "must be > 0");
  }
  if (!rk__arg_raw(ac, "correct")) {
    cos_free(cfg);
    return rk__arg_error(ac, "correct",
                         "required: a node that scores correctness, e.g. "
                         "{\"fn\": \"exact\"}");
  }
  if (rk__arg_node(ac, "correct", &cfg->correct)) {
    cos_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

static rk_status cos_score(const void *v, rk__call *c, double *value) {
  const cos_cfg *cfg = v;
  double acc = 0;
  *value = 0;
  rk_status nst = rk__node_eval(cfg->correct, c, &acc);
  /* An answer that could not be parsed is a wrong answer (TRL: verify() of
   * an empty parse is False). A bad reference, a timeout or an error
   * propagates: unlike open-r1 we never turn an unusable gold into 1.0. */
  if (nst != RK_STATUS_OK && nst != RK_STATUS_UNPARSEABLE) return nst;
  int correct = nst == RK_STATUS_OK && acc >= cfg->correct_at;
  char src[96];
  double L = 0;
  rk_status st = unit_measure(&cfg->unit, c, &L, src, sizeof src);
  if (st != RK_STATUS_OK) return st;
  *value = rk__len_cosine(&cfg->f, L, correct);
  if (rk__explaining(c)) {
    char a[32], b[32], d[32], e[32];
    rk__fmt_double(a, L);
    rk__fmt_double(b, acc);
    rk__fmt_double(d, cfg->correct_at);
    rk__fmt_double(e, *value);
    if (nst == RK_STATUS_UNPARSEABLE)
      rk__explain(c, "L=%s %s; answer unparseable, counted wrong; value %s",
                  a, src, e);
    else
      rk__explain(c, "L=%s %s; %s (score %s %s %s); value %s", a, src,
                  correct ? "correct" : "wrong", b, correct ? ">=" : "<", d,
                  e);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_cosine_length = {
    .name = "cosine_length",
    .summary = "cosine length scaling (open-r1/TRL): short correct answers earn most, short wrong ones lose most",
    .compile = cos_compile,
    .score = cos_score,
    .free = cos_free,
};
