/*
 * test_math_dev.c - the math dev set (tests/data/math_dev.jsonl, labels
 * decided by the data README's rules, not by this code): every case must
 * score its expected label through the public API with the default `math`
 * arguments. Failing ids are printed with the explanation.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewardkit.h"
#include "test.h"

TEST(dev_set) {
  FILE *f = fopen("data/math_dev.jsonl", "rb");
  if (!f) f = fopen("tests/data/math_dev.jsonl", "rb");
  ASSERT_TRUE(f != NULL);
  if (!f) return;
  const char *spec = "{\"reward\": {\"fn\": \"math\"}}";
  rk_spec *s = NULL;
  char err[256];
  ASSERT_EQ_INT(rk_spec_compile(spec, strlen(spec), &s, err, sizeof err), RK_OK);
  rk_ctx *ctx = NULL;
  rk_ctx_options co = {1};
  ASSERT_EQ_INT(rk_ctx_create(&co, &ctx), RK_OK);
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.explain = 1;
  char line[1 << 16];
  int n = 0, bad = 0;
  while (fgets(line, sizeof line, f)) {
    json_error_t je;
    json_t *c = json_loads(line, 0, &je);
    if (!c) continue;
    const char *id = json_string_value(json_object_get(c, "id"));
    int expected = (int)json_integer_value(json_object_get(c, "expected"));
    json_t *rec = json_pack("{s:O,s:O}", "response", json_object_get(c, "response"), "reference",
                            json_object_get(c, "gold"));
    char *txt = json_dumps(rec, JSON_COMPACT);
    char *out = NULL;
    size_t on = 0;
    double reward = NAN;
    char status[32] = "", explain[2048] = "";
    if (rk_score_one(ctx, s, &so, txt, strlen(txt), &out, &on) == RK_OK) {
      json_t *o = json_loadb(out, on, 0, &je);
      if (o) {
        json_t *rw = json_object_get(o, "reward");
        reward = json_is_number(rw) ? json_number_value(rw) : NAN;
        snprintf(status, sizeof status, "%s", json_string_value(json_object_get(o, "status")));
        json_t *ex = json_object_get(json_object_get(o, "explain"), "math");
        if (json_is_string(ex)) snprintf(explain, sizeof explain, "%s", json_string_value(ex));
        json_decref(o);
      }
      rk_free(out);
    }
    double got = isnan(reward) ? 0 : reward;
    if ((int)got != expected || (got != 0 && got != 1)) {
      fprintf(stderr, "  FAIL %s: expected %d got %g (%s): %s\n", id, expected, reward, status, explain);
      bad++;
    }
    n++;
    free(txt);
    json_decref(rec);
    json_decref(c);
  }
  fclose(f);
  fprintf(stderr, "  math dev: %d cases, %d failing\n", n, bad);
  ASSERT_TRUE(n >= 174);
  ASSERT_EQ_INT(bad, 0);
  rk_ctx_destroy(ctx);
  rk_spec_free(s);
}

TEST_MAIN(TEST_ENTRY(dev_set))
