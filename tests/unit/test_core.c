/*
 * test_core.c - arena, bounded buffer, pool, and the public batch API
 * (statuses, order, summary, errors) on the plumbing functions, whose
 * values are plain arithmetic.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/pool.h"
#include "core/registry.h"
#include "test.h"

TEST(arena_limits_and_alignment) {
  rk__arena a;
  rk__arena_init(&a, 1000);
  char *p = rk__arena_alloc(&a, 10);
  ASSERT_TRUE(p != NULL);
  ASSERT_EQ_INT((uintptr_t)p % 16, 0);
  char *q = rk__arena_alloc(&a, 3);
  ASSERT_EQ_INT((uintptr_t)q % 16, 0);
  /* 16 + 16 used; 1000 - 32 = 968 left: 969 must fail, 960 fit. */
  ASSERT_TRUE(rk__arena_alloc(&a, 969) == NULL);
  ASSERT_TRUE(rk__arena_alloc(&a, 960) != NULL);
  rk__arena_reset(&a);
  ASSERT_EQ_INT(a.used, 0);
  ASSERT_TRUE(rk__arena_alloc(&a, 900) != NULL);
  ASSERT_TRUE(rk__arena_alloc(&a, SIZE_MAX) == NULL);
  rk__arena_release(&a);
}

TEST(buffer_respects_max) {
  rk__buf b;
  rk__buf_init(&b, 8);
  ASSERT_EQ_INT(rk__buf_puts(&b, "abcd"), 0);
  ASSERT_EQ_INT(rk__buf_printf(&b, "%d", 123), 0);
  ASSERT_EQ_STR(rk__buf_cstr(&b), "abcd123");
  ASSERT_EQ_INT(rk__buf_puts(&b, "xy"), -1); /* 9 > 8 */
  ASSERT_TRUE(b.oom);
  ASSERT_EQ_INT(rk__buf_putc(&b, 'z'), -1);  /* sticky */
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__buf_putc(&b, 'z'), 0);
  rk__buf_release(&b);
}

static void count_fn(void *arg, unsigned w, unsigned n) {
  int *hits = arg;
  hits[w] += (int)n;
}

TEST(pool_runs_every_worker_once_per_run) {
  rk__pool *p = NULL;
  ASSERT_EQ_INT(rk__pool_create(4, &p), 0);
  int hits[4] = {0};
  for (int r = 0; r < 100; r++) rk__pool_run(p, count_fn, hits, 4);
  for (int i = 0; i < 4; i++) ASSERT_EQ_INT(hits[i], 400);
  rk__pool_destroy(p);
  rk__pool_destroy(NULL);
}

TEST(pool_wakes_only_the_workers_a_run_can_use) {
  rk__pool *p = NULL;
  ASSERT_EQ_INT(rk__pool_create(4, &p), 0);
  int hits[4] = {0};
  /* One piece of work: the caller alone. */
  for (int r = 0; r < 50; r++) rk__pool_run(p, count_fn, hits, 1);
  ASSERT_EQ_INT(hits[0], 200);
  ASSERT_EQ_INT(hits[1] + hits[2] + hits[3], 0);
  /* Two pieces: the caller and exactly one worker per run, any of them. */
  for (int r = 0; r < 100; r++) rk__pool_run(p, count_fn, hits, 2);
  ASSERT_EQ_INT(hits[0], 600);
  ASSERT_EQ_INT(hits[1] + hits[2] + hits[3], 400);
  /* More pieces than threads: everyone, once per run. */
  memset(hits, 0, sizeof hits);
  for (int r = 0; r < 20; r++) rk__pool_run(p, count_fn, hits, 99);
  for (int i = 0; i < 4; i++) ASSERT_EQ_INT(hits[i], 80);
  rk__pool_destroy(p);
}

static rk_spec *compile(const char *js) {
  rk_spec *s = NULL;
  char err[256];
  if (rk_spec_compile(js, strlen(js), &s, err, sizeof err) != RK_OK)
    fprintf(stderr, "  spec error: %s\n", err);
  return s;
}

TEST(batch_with_responses_apart) {
  rk_spec *spec = compile("{\"reward\":{\"fn\":\"exact\",\"name\":\"e\"}}");
  ASSERT_TRUE(spec != NULL);
  rk_ctx *ctx = NULL;
  rk_ctx_options o = {.threads = 2};
  ASSERT_EQ_INT(rk_ctx_create(&o, &ctx), RK_OK);
  const char *recs[] = {
      "{\"reference\":\"caf\\u00e9\",\"response\":\"tea\"}", /* replaced: exact 1 */
      "{\"reference\":\"tea\",\"response\":\"tea\"}",         /* kept (NULL): exact 1 */
      "{\"reference\":\"x\"}",                               /* added: exact 0 */
      "{\"reference\":\"x\"}",                               /* invalid UTF-8: error */
      "[1]",                                                  /* not an object: error */
  };
  const char *resps[] = {"caf\xc3\xa9", NULL, "y", "ab\xc3(", "x"};
  size_t lens[5], rl[5];
  for (int i = 0; i < 5; i++) {
    lens[i] = strlen(recs[i]);
    rl[i] = resps[i] ? strlen(resps[i]) : 0;
  }
  rk_score_options so = {.results_only = 1};
  rk_batch *b = NULL;
  /* Records would be echoed without results_only: refused. */
  ASSERT_EQ_INT(rk_score_batch_responses(ctx, spec, NULL, recs, lens, resps, rl, 5, &b),
                RK_EINVAL);
  ASSERT_TRUE(b == NULL);
  ASSERT_EQ_INT(rk_score_batch_responses(ctx, spec, &so, recs, lens, resps, rl, 5, &b), RK_OK);
  ASSERT_EQ_INT(rk_batch_count(b), 5);
  ASSERT_EQ_INT(rk_batch_status(b, 0), RK_STATUS_OK);
  ASSERT_NEAR(rk_batch_reward(b, 0), 1, 0);
  ASSERT_NEAR(rk_batch_reward(b, 1), 1, 0);
  ASSERT_NEAR(rk_batch_reward(b, 2), 0, 0);
  ASSERT_EQ_INT(rk_batch_status(b, 3), RK_STATUS_ERROR);
  ASSERT_EQ_INT(rk_batch_status(b, 4), RK_STATUS_ERROR);
  size_t n = 0;
  const char *line = rk_batch_line(b, 3, &n);
  ASSERT_CONTAINS(line, "line 4: the response is not valid UTF-8 text (invalid sequence at byte 2)");
  line = rk_batch_line(b, 0, &n);
  ASSERT_EQ_SPAN(line, n, "{\"reward\":1,\"status\":\"ok\",\"components\":{\"e\":1}}");
  rk_batch_free(b);
  /* A NUL (past the first 8 bytes: the word-at-a-time scan) is refused
   * too, as the JSON reader refuses \u0000. */
  const char nul[] = "abcdefghij\0k";
  const char *r2[] = {nul};
  size_t rl2[] = {sizeof nul - 1};
  ASSERT_EQ_INT(rk_score_batch_responses(ctx, spec, &so, recs + 2, lens + 2, r2, rl2, 1, &b),
                RK_OK);
  ASSERT_EQ_INT(rk_batch_status(b, 0), RK_STATUS_ERROR);
  ASSERT_CONTAINS(rk_batch_line(b, 0, &n), "holds a NUL character (at byte 10)");
  rk_batch_free(b);
  /* No responses at all: the same as rk_score_batch. */
  ASSERT_EQ_INT(rk_score_batch_responses(ctx, spec, &so, recs, lens, NULL, NULL, 2, &b), RK_OK);
  ASSERT_NEAR(rk_batch_reward(b, 0), 0, 0);
  rk_batch_free(b);
  rk_ctx_destroy(ctx);
  rk_spec_free(spec);
}

/* rk_score_batch_start / _next / _abort: the pieces together are the
 * batch, in order, with the batch's line numbers; the context refuses
 * other calls meanwhile; abort and destroy end a batch half taken. */
static void check_pieces(unsigned threads) {
  enum { N = 1000 };
  rk_spec *spec = compile("{\"reward\":{\"fn\":\"field\",\"args\":{\"field\":\"x\"}}}");
  ASSERT_TRUE(spec != NULL);
  rk_ctx *ctx = NULL;
  rk_ctx_options o = {.threads = threads};
  ASSERT_EQ_INT(rk_ctx_create(&o, &ctx), RK_OK);
  static char text[N * 40];
  const char *recs[N];
  size_t lens[N], at = 0;
  for (int i = 0; i < N; i++) {
    if (i % 97 == 5)
      lens[i] = (size_t)sprintf(text + at, "not json %d", i);
    else
      lens[i] = (size_t)sprintf(text + at, "{\"response\":\"a\",\"x\":%d.5}", i);
    recs[i] = text + at;
    at += lens[i];
  }
  rk_score_options so = {.results_only = 1};
  rk_batch *b = (rk_batch *)1;
  /* Nothing started: next() says so with NULL. */
  ASSERT_EQ_INT(rk_score_batch_next(ctx, &b), RK_OK);
  ASSERT_TRUE(b == NULL);
  /* Responses apart need results_only, as in rk_score_batch_responses. */
  const char *one[1] = {"x"};
  size_t onel[1] = {1};
  ASSERT_EQ_INT(rk_score_batch_start(ctx, spec, NULL, recs, lens, one, onel, 1), RK_EINVAL);
  ASSERT_EQ_INT(rk_score_batch_start(ctx, spec, &so, recs, lens, NULL, NULL, N), RK_OK);
  ASSERT_EQ_INT(rk_score_batch_start(ctx, spec, &so, recs, lens, NULL, NULL, N), RK_EBUSY);
  ASSERT_EQ_INT(rk_score_batch(ctx, spec, &so, recs, lens, 1, &b), RK_EBUSY);
  ASSERT_CONTAINS(rk_ctx_errmsg(ctx), "rk_score_batch_next");
  int i = 0, pieces = 0;
  for (;;) {
    ASSERT_EQ_INT(rk_score_batch_next(ctx, &b), RK_OK);
    if (!b) break;
    pieces++;
    size_t m = rk_batch_count(b);
    ASSERT_TRUE(m > 0);
    for (size_t k = 0; k < m; k++, i++) {
      if (i % 97 == 5) {
        char want[32];
        snprintf(want, sizeof want, "line %d:", i + 1);
        ASSERT_EQ_INT(rk_batch_status(b, k), RK_STATUS_ERROR);
        size_t len;
        ASSERT_CONTAINS(rk_batch_line(b, k, &len), want);
      } else {
        ASSERT_NEAR(rk_batch_reward(b, k), i + 0.5, 0);
      }
    }
    rk_batch_free(b);
  }
  ASSERT_EQ_INT(i, N);
  ASSERT_TRUE(pieces >= 2); /* 1000 records come in several pieces */
  /* The context is free again. */
  ASSERT_EQ_INT(rk_score_batch(ctx, spec, &so, recs, lens, 1, &b), RK_OK);
  rk_batch_free(b);

  /* Abort after the first piece; the context is usable at once. */
  ASSERT_EQ_INT(rk_score_batch_start(ctx, spec, &so, recs, lens, NULL, NULL, N), RK_OK);
  ASSERT_EQ_INT(rk_score_batch_next(ctx, &b), RK_OK);
  ASSERT_TRUE(b != NULL);
  ASSERT_NEAR(rk_batch_reward(b, 0), 0.5, 0);
  rk_batch_free(b);
  rk_score_batch_abort(ctx);
  rk_score_batch_abort(ctx); /* a no-op now */
  ASSERT_EQ_INT(rk_score_batch_next(ctx, &b), RK_OK);
  ASSERT_TRUE(b == NULL);

  /* Responses apart: record 700's is not UTF-8, the others keep their
   * own. Its error names line 701. */
  static const char *rp[N];
  static size_t rl[N];
  rp[700] = "a\xff" "b", rl[700] = 3;
  ASSERT_EQ_INT(rk_score_batch_start(ctx, spec, &so, recs, lens, rp, rl, N), RK_OK);
  int got = 0;
  while (rk_score_batch_next(ctx, &b) == RK_OK && b) {
    for (size_t k = 0; k < rk_batch_count(b); k++, got++) {
      if (got != 700) continue;
      size_t len;
      ASSERT_EQ_INT(rk_batch_status(b, k), RK_STATUS_ERROR);
      ASSERT_CONTAINS(rk_batch_line(b, k, &len),
                      "line 701: the response is not valid UTF-8 text (invalid sequence at "
                      "byte 1)");
    }
    rk_batch_free(b);
  }
  ASSERT_EQ_INT(got, N);

  /* A NULL record in a later piece: the pieces before it arrive, then
   * next() fails with the reason and the batch is over. */
  recs[700] = NULL;
  ASSERT_EQ_INT(rk_score_batch_start(ctx, spec, &so, recs, lens, NULL, NULL, N), RK_OK);
  rk_err rc;
  got = 0;
  while ((rc = rk_score_batch_next(ctx, &b)) == RK_OK && b) {
    got += (int)rk_batch_count(b);
    rk_batch_free(b);
  }
  ASSERT_EQ_INT(rc, RK_EINVAL);
  ASSERT_EQ_STR(rk_ctx_errmsg(ctx), "a record pointer is NULL");
  ASSERT_TRUE(got < 700);
  recs[700] = text + (recs[699] - text) + lens[699];

  /* An empty batch is one empty piece. */
  ASSERT_EQ_INT(rk_score_batch_start(ctx, spec, &so, recs, lens, NULL, NULL, 0), RK_OK);
  ASSERT_EQ_INT(rk_score_batch_next(ctx, &b), RK_OK);
  ASSERT_TRUE(b != NULL);
  ASSERT_EQ_INT(rk_batch_count(b), 0);
  rk_batch_free(b);
  ASSERT_EQ_INT(rk_score_batch_next(ctx, &b), RK_OK);
  ASSERT_TRUE(b == NULL);

  /* Destroyed with a batch running: waits, frees the pieces (ASan). */
  ASSERT_EQ_INT(rk_score_batch_start(ctx, spec, &so, recs, lens, NULL, NULL, N), RK_OK);
  rk_ctx_destroy(ctx);
  rk_spec_free(spec);
}

TEST(started_batch_in_pieces) {
  check_pieces(1);
  check_pieces(3);
}

/* Advantages need the whole batch: one piece. Each group holds rewards 1
 * and 3: mean 2, unbiased std sqrt(2), so advantages -+1/(sqrt(2)+eps). */
TEST(started_batch_with_groups_is_one_piece) {
  rk_spec *spec = compile("{\"reward\":{\"fn\":\"field\",\"args\":{\"field\":\"x\"}},"
                          "\"advantage\":{\"estimator\":\"grpo\"}}");
  ASSERT_TRUE(spec != NULL);
  rk_ctx *ctx = NULL;
  ASSERT_EQ_INT(rk_ctx_create(NULL, &ctx), RK_OK);
  enum { N = 600 };
  static char text[N * 48];
  const char *recs[N];
  size_t lens[N], at = 0;
  for (int i = 0; i < N; i++) {
    lens[i] = (size_t)sprintf(text + at, "{\"response\":\"a\",\"x\":%d,\"group\":\"g%d\"}",
                              i % 2 ? 3 : 1, i / 2);
    recs[i] = text + at;
    at += lens[i];
  }
  rk_score_options so = {.results_only = 1};
  rk_batch *b = NULL;
  ASSERT_EQ_INT(rk_score_batch_start(ctx, spec, &so, recs, lens, NULL, NULL, N), RK_OK);
  ASSERT_EQ_INT(rk_score_batch_next(ctx, &b), RK_OK);
  ASSERT_EQ_INT(rk_batch_count(b), N);
  double *table = malloc(N * 5 * sizeof *table);
  ASSERT_EQ_INT(rk_batch_table(b, table, N * 5), RK_OK);
  /* Divisor: unbiased std + eps 1e-6 (docs/advantages.md). */
  ASSERT_NEAR(table[2], -1 / (sqrt(2) + 1e-6), 1e-12);
  ASSERT_NEAR(table[5 + 2], 1 / (sqrt(2) + 1e-6), 1e-12);
  ASSERT_NEAR(table[(N - 1) * 5 + 2], 1 / (sqrt(2) + 1e-6), 1e-12);
  free(table);
  rk_batch_free(b);
  ASSERT_EQ_INT(rk_score_batch_next(ctx, &b), RK_OK);
  ASSERT_TRUE(b == NULL);
  rk_ctx_destroy(ctx);
  rk_spec_free(spec);
}

TEST(batch_statuses_order_and_summary) {
  rk_spec *spec = compile("{\"reward\":{\"fn\":\"field\",\"args\":{\"field\":\"x\"}}}");
  ASSERT_TRUE(spec != NULL);
  rk_ctx *ctx = NULL;
  rk_ctx_options o = {.threads = 3};
  ASSERT_EQ_INT(rk_ctx_create(&o, &ctx), RK_OK);
  ASSERT_EQ_INT(rk_ctx_threads(ctx), 3);
  const char *recs[] = {
      "{\"response\":\"a\",\"x\":0.25,\"group\":\"g\"}",
      "{\"response\":\"a\",\"x\":0.75,\"group\":\"g\"}",
      "not json",
      "{\"response\":\"a\"}",
      "{\"response\":\"a\",\"x\":1,\"group\":\"h\"}",
  };
  size_t lens[5];
  for (int i = 0; i < 5; i++) lens[i] = strlen(recs[i]);
  rk_batch *b = NULL;
  ASSERT_EQ_INT(rk_score_batch(ctx, spec, NULL, recs, lens, 5, &b), RK_OK);
  ASSERT_EQ_INT(rk_batch_count(b), 5);
  ASSERT_NEAR(rk_batch_reward(b, 0), 0.25, 0);
  ASSERT_NEAR(rk_batch_reward(b, 1), 0.75, 0);
  ASSERT_TRUE(isnan(rk_batch_reward(b, 2)));
  ASSERT_EQ_INT(rk_batch_status(b, 2), RK_STATUS_ERROR);
  ASSERT_EQ_INT(rk_batch_status(b, 3), RK_STATUS_ERROR);
  ASSERT_EQ_INT(rk_batch_status(b, 4), RK_STATUS_OK);
  size_t n = 0;
  const char *line = rk_batch_line(b, 0, &n);
  ASSERT_EQ_SPAN(line, n,
                 "{\"response\":\"a\",\"x\":0.25,\"group\":\"g\",\"reward\":0.25,"
                 "\"status\":\"ok\",\"components\":{\"field\":0.25}}");
  line = rk_batch_line(b, 2, &n);
  ASSERT_EQ_SPAN(line, n,
                 "{\"line\":3,\"reward\":null,\"status\":\"error\",\"error\":\"line 3: "
                 "invalid JSON at column 2: invalid literal: expected 'null', got 'o' at its byte 2\"}");
  const char *sum = rk_batch_summary(b, &n);
  /* mean of 0.25, 0.75, 1 = 2/3; groups g and h, none zero-variance. */
  ASSERT_CONTAINS(sum, "\"records\":5,\"scored\":3,\"reward_mean\":0.6666666666666666");
  ASSERT_CONTAINS(sum, "\"status\":{\"ok\":3,\"unparseable\":0,\"invalid_reference\":0,"
                       "\"timeout\":0,\"error\":2}");
  ASSERT_CONTAINS(sum, "\"groups\":2,\"zero_variance_groups\":0");
  rk_batch_free(b);
  rk_batch_free(NULL);

  char *one = NULL;
  ASSERT_EQ_INT(rk_score_one(ctx, spec, NULL, recs[4], lens[4], &one, &n), RK_OK);
  ASSERT_CONTAINS(one, "\"reward\":1,");
  rk_free(one);
  rk_ctx_destroy(ctx);
  rk_ctx_destroy(NULL);
  rk_spec_free(spec);
  rk_spec_free(NULL);
}

TEST(spec_errors_name_the_path) {
  rk_spec *s = (rk_spec *)1;
  char err[256];
  const char *js = "{\"reward\":{\"sum\":[{\"fn\":\"constant\"},{\"fn\":\"mcqq\"}]}}";
  ASSERT_EQ_INT(rk_spec_compile(js, strlen(js), &s, err, sizeof err), RK_ESPEC);
  ASSERT_TRUE(s == NULL);
  ASSERT_EQ_STR(err, "spec: reward.sum[1]: unknown function 'mcqq' (did you mean 'mcq'?)");
  js = "{\"reward\":{\"fn\":\"constant\"},\"advantage\":{\"estimator\":\"grpo\",\"std\":\"x\"}}";
  ASSERT_EQ_INT(rk_spec_compile(js, strlen(js), &s, err, sizeof err), RK_ESPEC);
  ASSERT_EQ_STR(err, "spec: advantage.std: expected \"unbiased\" or \"biased\"");
  js = "{\"reward\":";
  ASSERT_EQ_INT(rk_spec_compile(js, strlen(js), &s, err, sizeof err), RK_EJSON);
  ASSERT_CONTAINS(err, "spec: invalid JSON at line 1");
  ASSERT_EQ_INT(rk_spec_compile(NULL, 0, &s, err, sizeof err), RK_EINVAL);
}

TEST(every_listed_function_is_defined) {
  const char *missing = rk__registry_missing();
  ASSERT_EQ_STR(missing ? missing : "(none)", "(none)");
  /* Names are unique and each is found by its name. */
  for (size_t i = 0; rk__registry_at(i); i++) {
    const rk__fn *f = rk__registry_at(i);
    ASSERT_TRUE(rk__registry_find(f->name, strlen(f->name)) == f);
    ASSERT_TRUE(f->score != NULL && f->summary != NULL);
  }
}

TEST(error_names) {
  ASSERT_EQ_STR(rk_err_name(RK_ESPEC), "RK_ESPEC");
  ASSERT_EQ_STR(rk_strerror(RK_OK), "success");
  ASSERT_EQ_STR(rk_strerror((rk_err)-999), "unknown error");
  ASSERT_EQ_STR(rk_status_name(RK_STATUS_INVALID_REFERENCE), "invalid_reference");
  ASSERT_EQ_STR(rk_version(), RK_VERSION_STRING);
}

/* Records as Python marshal data (RK_FORMAT_PYMARSHAL): scored as their
 * JSON text would be, the response taken apart, refusals as that record's
 * error with its line number. Bytes as marshal.dumps(obj, 4) writes them
 * (checked with Python's marshal.loads when the test was written). */
TEST(batch_of_python_marshal_records) {
  rk_spec *spec = compile("{\"reward\":{\"fn\":\"exact\",\"name\":\"e\"}}");
  ASSERT_TRUE(spec != NULL);
  rk_ctx *ctx = NULL;
  ASSERT_EQ_INT(rk_ctx_create(NULL, &ctx), RK_OK);
  /* {"response": "tea", "reference": "tea"} */
  static const char r0[] = "{z\x08responsez\x03teaz\x09referencez\x03tea0";
  /* {"reference": "x", "response": "y"} */
  static const char r1[] = "{z\x09referencez\x01xz\x08responsez\x01y0";
  /* {"response": "a", "reference": {1}}: a set */
  static const char r2[] = "{z\x08responsez\x01" "az\x09reference<\x01\x00\x00\x00i\x01\x00\x00\x00" "0";
  /* {"reference": "caf\u00e9", "response": "caf\u00e9"} (UTF-8 str) */
  static const char r3[] = "{z\x09referenceu\x05\x00\x00\x00" "caf\xc3\xa9z\x08responseu\x05\x00\x00\x00" "caf\xc3\xa9" "0";
  const char *recs[] = {r0, r1, r2, r3};
  size_t lens[] = {sizeof r0 - 1, sizeof r1 - 1, sizeof r2 - 1, sizeof r3 - 1};
  rk_score_options so = {.results_only = 1, .format = RK_FORMAT_PYMARSHAL};
  rk_batch *b = NULL;
  ASSERT_EQ_INT(rk_score_batch(ctx, spec, &so, recs, lens, 4, &b), RK_OK);
  ASSERT_NEAR(rk_batch_reward(b, 0), 1, 0);
  ASSERT_NEAR(rk_batch_reward(b, 1), 0, 0);
  ASSERT_EQ_INT(rk_batch_status(b, 2), RK_STATUS_ERROR);
  ASSERT_NEAR(rk_batch_reward(b, 3), 1, 0);
  size_t n = 0;
  ASSERT_CONTAINS(rk_batch_line(b, 2, &n),
                  "line 3: field \\\"reference\\\": a Python set has no JSON form");
  rk_batch_free(b);
  /* Needs results_only (the records are not JSON to echo); streams are
   * JSONL only. */
  rk_score_options echo = {.format = RK_FORMAT_PYMARSHAL};
  ASSERT_EQ_INT(rk_score_batch(ctx, spec, &echo, recs, lens, 4, &b), RK_EINVAL);
  rk_score_options other = {.results_only = 1, .format = 7};
  ASSERT_EQ_INT(rk_score_batch(ctx, spec, &other, recs, lens, 4, &b), RK_EINVAL);
  rk_ctx_destroy(ctx);
  rk_spec_free(spec);
}

/* Responses as a Python str's code units (rk_score_pyrecords): each
 * reference is the response's UTF-8, written out by hand, so that exact
 * scores 1 only if the units became exactly those bytes. */
TEST(batch_of_responses_as_code_units) {
  rk_spec *spec = compile("{\"reward\":{\"fn\":\"exact\",\"name\":\"e\"}}");
  ASSERT_TRUE(spec != NULL);
  rk_ctx *ctx = NULL;
  rk_ctx_options o = {.threads = 2};
  ASSERT_EQ_INT(rk_ctx_create(&o, &ctx), RK_OK);
  /* (ASCII runs of 8 and more: the converter's wide path) */
  static const uint8_t latin1[] = "abcdefghijcaf\xE9";                    /* ...café */
  static const uint16_t ucs2[] = {0x20AC, ' ', 0xE9, 'a', 'b', 'c', 'd', 'e', 'f', 'g',
                                  'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 0xE9};
  static const uint16_t pair[] = {'a', 0xD83D, 0xDE00, 'b'};        /* a U+1F600 b */
  static const uint16_t lone[] = {'a', 0xDE00, 0xD83D, 'b'};        /* low then high */
  static const uint32_t ucs4[] = {0x1F600, 'k'};
  static const uint16_t nul[] = {'a', 0, 'b'};
  static const uint16_t high_last[] = {'a', 0xD83D};               /* a high at the end */
  const char *lines[] = {
      "{\"reference\":\"abcdefghijcaf\\u00e9\"}",
      "{\"reference\":\"\\u20ac \\u00e9abcdefghijklmnop\\u00e9\"}",
      "{\"reference\":\"a\\ud83d\\ude00b\"}",
      "{\"reference\":\"x\"}",
      "{\"reference\":\"\\ud83d\\ude00k\"}",
      "{\"reference\":\"x\"}",
      "{\"reference\":\"x\"}",
      "{\"reference\":\"plain\"}",
  };
  const char *resps[] = {(const char *)latin1, (const char *)ucs2, (const char *)pair,
                         (const char *)lone,   (const char *)ucs4, (const char *)nul,
                         (const char *)high_last, "plain"};
  size_t lens[8], rlens[] = {14, 20, 4, 4, 2, 3, 2, 5};
  unsigned char kinds[] = {1, 2, 2, 2, 4, 2, 2, 0};
  for (int i = 0; i < 8; i++) lens[i] = strlen(lines[i]);
  rk_pyrecords r = {8, lines, lens, resps, rlens, kinds};
  rk_score_options so = {.results_only = 1};
  rk_batch *b = NULL;
  ASSERT_EQ_INT(rk_score_pyrecords(ctx, spec, &so, &r, &b), RK_OK);
  ASSERT_EQ_INT(rk_batch_count(b), 8);
  ASSERT_NEAR(rk_batch_reward(b, 0), 1, 0);
  ASSERT_NEAR(rk_batch_reward(b, 1), 1, 0);
  ASSERT_NEAR(rk_batch_reward(b, 2), 1, 0);
  ASSERT_NEAR(rk_batch_reward(b, 4), 1, 0);
  ASSERT_NEAR(rk_batch_reward(b, 7), 1, 0);
  size_t n = 0;
  ASSERT_CONTAINS(rk_batch_line(b, 3, &n), "line 4: the response holds a lone surrogate "
                                           "(character 1)");
  ASSERT_CONTAINS(rk_batch_line(b, 5, &n), "line 6: the response holds a NUL character "
                                           "(at byte 1)");
  ASSERT_CONTAINS(rk_batch_line(b, 6, &n), "line 7: the response holds a lone surrogate "
                                           "(character 1)");
  rk_batch_free(b);
  /* Started, in pieces: the same results. */
  ASSERT_EQ_INT(rk_score_pyrecords_start(ctx, spec, &so, &r), RK_OK);
  size_t seen = 0;
  for (;;) {
    ASSERT_EQ_INT(rk_score_batch_next(ctx, &b), RK_OK);
    if (!b) break;
    for (size_t i = 0; i < rk_batch_count(b); i++, seen++)
      if (seen != 3 && seen != 5 && seen != 6) ASSERT_NEAR(rk_batch_reward(b, i), 1, 0);
    rk_batch_free(b);
  }
  ASSERT_EQ_INT(seen, 8);
  /* A unit size that is not 1, 2 or 4: that record's error. */
  unsigned char three[] = {3};
  rk_pyrecords r3 = {1, lines, lens, resps, rlens, three};
  ASSERT_EQ_INT(rk_score_pyrecords(ctx, spec, &so, &r3, &b), RK_OK);
  ASSERT_CONTAINS(rk_batch_line(b, 0, &n), "line 1: the response's code units are of 3 bytes");
  rk_batch_free(b);
  /* Only JSON texts: another format is refused. */
  rk_score_options other = {.results_only = 1, .format = RK_FORMAT_PYMARSHAL};
  ASSERT_EQ_INT(rk_score_pyrecords(ctx, spec, &other, &r, &b), RK_EINVAL);
  ASSERT_TRUE(b == NULL);
  rk_ctx_destroy(ctx);
  rk_spec_free(spec);
}

TEST_MAIN(TEST_ENTRY(arena_limits_and_alignment), TEST_ENTRY(buffer_respects_max),
          TEST_ENTRY(pool_runs_every_worker_once_per_run),
          TEST_ENTRY(pool_wakes_only_the_workers_a_run_can_use),
          TEST_ENTRY(batch_with_responses_apart),
          TEST_ENTRY(batch_of_python_marshal_records),
          TEST_ENTRY(batch_of_responses_as_code_units), TEST_ENTRY(started_batch_in_pieces),
          TEST_ENTRY(started_batch_with_groups_is_one_piece),
          TEST_ENTRY(batch_statuses_order_and_summary),
          TEST_ENTRY(spec_errors_name_the_path), TEST_ENTRY(every_listed_function_is_defined),
          TEST_ENTRY(error_names))
