/*
 * score_batch.c - the C API in thirty lines: compile a spec, score a batch
 * of records, read rewards and statuses.
 *
 *   cc score_batch.c $(pkg-config --cflags --libs rewardkit) -o score_batch
 */
#include <rewardkit.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  const char *spec_json =
      "{\"reward\": {\"sum\": ["
      "  {\"fn\": \"format\", \"name\": \"format\", \"args\": {\"preset\": \"r1\"}},"
      "  {\"fn\": \"exact\", \"name\": \"accuracy\", \"args\": {\"extract\": \"answer_tag\"}}]}}";
  const char *recs[] = {
      "{\"id\": 1, \"response\": \"<think>48/2 = 24</think><answer>72</answer>\", \"reference\": \"72\"}",
      "{\"id\": 2, \"response\": \"72\", \"reference\": \"72\"}",
      "{\"id\": 3, \"response\": \"<think>hmm</think><answer>70</answer>\", \"reference\": \"72\"}",
  };
  size_t lens[3];
  for (int i = 0; i < 3; i++) lens[i] = strlen(recs[i]);

  char err[512];
  rk_spec *spec = NULL;
  if (rk_spec_compile(spec_json, strlen(spec_json), &spec, err, sizeof err) != RK_OK) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  rk_ctx *ctx = NULL;
  rk_batch *batch = NULL;
  if (rk_ctx_create(NULL, &ctx) != RK_OK ||
      rk_score_batch(ctx, spec, NULL, recs, lens, 3, &batch) != RK_OK) {
    fprintf(stderr, "scoring failed: %s\n", rk_ctx_errmsg(ctx));
    return 1;
  }
  for (size_t i = 0; i < rk_batch_count(batch); i++)
    printf("record %zu: reward %g, status %s\n", i + 1, rk_batch_reward(batch, i),
           rk_status_name(rk_batch_status(batch, i)));
  size_t n = 0;
  printf("summary: %s\n", rk_batch_summary(batch, &n));
  rk_batch_free(batch);
  rk_ctx_destroy(ctx);
  rk_spec_free(spec);
  return 0;
}
