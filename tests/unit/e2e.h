/*
 * e2e.h - end-to-end helpers for the reward families' tests: build a
 * one-function spec and a record, compile and score through the public API only
 * (rk_spec_compile + rk_ctx_create + rk_score_one), then read reward,
 * status and explain back with jansson (independent of our JSON reader).
 */
#ifndef RK_TEST_E2E_H
#define RK_TEST_E2E_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewardkit.h"
#include "test.h"

typedef struct e2e_result {
  int ok;            /* 1 when the spec compiled and the record was scored */
  double reward;     /* NaN for null */
  char status[32];
  char explain[1024]; /* the first component's explanation */
  char error[512];    /* spec compile error or the record's "error" */
} e2e_result;

/* {"reward": {"fn": FN, "args": {ARGS}}}; ARGS is raw JSON members. The
 * text lives in a static buffer until the next call. */
static inline const char *e2e_spec(const char *fn, const char *args) {
  static char buf[2048];
  snprintf(buf, sizeof buf, "{\"reward\": {\"fn\": \"%s\", \"args\": {%s}}}", fn, args);
  return buf;
}

/* {"reference": REF, "response": "RESP"}: REF is raw JSON, RESP an already
 * escaped JSON string body. Static buffer, as above. */
static inline const char *e2e_rec(const char *ref, const char *resp) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "{\"reference\": %s, \"response\": \"%s\"}", ref, resp);
  return buf;
}

/* One record scored through the public API, with or without
 * explanations (rewards may take other paths without). */
static e2e_result e2e_score_ex(const char *spec, const char *rec, int explain) {
  e2e_result r;
  memset(&r, 0, sizeof r);
  r.reward = NAN;
  rk_spec *s = NULL;
  if (rk_spec_compile(spec, strlen(spec), &s, r.error, sizeof r.error) != RK_OK)
    return r;
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  if (rk_ctx_create(&co, &ctx) != RK_OK) {
    rk_spec_free(s);
    return r;
  }
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.explain = explain;
  char *out = NULL;
  size_t n = 0;
  if (rk_score_one(ctx, s, &so, rec, strlen(rec), &out, &n) == RK_OK) {
    json_error_t je;
    json_t *root = json_loadb(out, n, 0, &je);
    if (root) {
      json_t *rw = json_object_get(root, "reward");
      r.reward = json_is_number(rw) ? json_number_value(rw) : NAN;
      json_t *st = json_object_get(root, "status");
      if (json_is_string(st))
        snprintf(r.status, sizeof r.status, "%s", json_string_value(st));
      json_t *er = json_object_get(root, "error");
      if (json_is_string(er))
        snprintf(r.error, sizeof r.error, "%s", json_string_value(er));
      json_t *ex = json_object_get(root, "explain");
      if (json_is_object(ex)) {
        const char *k;
        json_t *v;
        json_object_foreach(ex, k, v) {
          if (json_is_string(v)) {
            snprintf(r.explain, sizeof r.explain, "%s", json_string_value(v));
            break;
          }
        }
      }
      r.ok = 1;
      json_decref(root);
    } else {
      snprintf(r.error, sizeof r.error, "output is not JSON: %s", je.text);
    }
    rk_free(out);
  }
  rk_ctx_destroy(ctx);
  rk_spec_free(s);
  return r;
}

static e2e_result e2e_score(const char *spec, const char *rec) {
  return e2e_score_ex(spec, rec, 1);
}

/* The spec compile error ("" when it compiled). */
static const char *e2e_spec_error(const char *spec, char *buf, size_t cap) {
  rk_spec *s = NULL;
  buf[0] = '\0';
  if (rk_spec_compile(spec, strlen(spec), &s, buf, cap) == RK_OK) {
    rk_spec_free(s);
    buf[0] = '\0';
  }
  return buf;
}

/* A corpus score through the public API (rk_corpus_score) on one thread.
 * detail is the parsed detail JSON (json_decref it; NULL on failure). */
typedef struct e2e_corpus_result {
  rk_err rc;          /* of rk_corpus_score, or RK_ESPEC when the spec did not compile */
  double score;
  json_t *detail;
  char error[512];    /* spec compile error or rk_ctx_errmsg */
} e2e_corpus_result;

static inline e2e_corpus_result e2e_corpus(const char *spec, const char *const *recs, size_t n,
                                           const rk_score_options *opts) {
  e2e_corpus_result r;
  memset(&r, 0, sizeof r);
  r.score = NAN;
  r.rc = RK_ESPEC;
  rk_spec *s = NULL;
  if (rk_spec_compile(spec, strlen(spec), &s, r.error, sizeof r.error) != RK_OK) return r;
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  if ((r.rc = rk_ctx_create(&co, &ctx)) != RK_OK) {
    rk_spec_free(s);
    return r;
  }
  size_t *lens = calloc(n ? n : 1, sizeof *lens);
  for (size_t i = 0; i < n; i++) lens[i] = recs[i] ? strlen(recs[i]) : 0;
  char *detail = NULL;
  size_t dn = 0;
  r.rc = rk_corpus_score(ctx, s, opts, recs, lens, n, &r.score, &detail, &dn);
  if (r.rc == RK_OK) {
    json_error_t je;
    r.detail = json_loadb(detail, dn, 0, &je);
    if (!r.detail) snprintf(r.error, sizeof r.error, "detail is not JSON: %s", je.text);
  } else {
    snprintf(r.error, sizeof r.error, "%s", rk_ctx_errmsg(ctx));
    if (detail) snprintf(r.error, sizeof r.error, "detail set on failure");
  }
  rk_free(detail);
  free(lens);
  rk_ctx_destroy(ctx);
  rk_spec_free(s);
  return r;
}

#define ASSERT_E2E(res, want_reward, want_status)                   \
  do {                                                              \
    e2e_result r_ = (res);                                          \
    if (!r_.ok) RK_T_FAIL_("scoring failed: %s", r_.error);         \
    ASSERT_NEAR(r_.reward, (want_reward), 1e-12);                   \
    ASSERT_EQ_STR(r_.status, (want_status));                        \
  } while (0)

#endif /* RK_TEST_E2E_H */
