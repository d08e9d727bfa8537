/*
 * test_server.c - the server's body parsing: splitting a JSON array of
 * records into spans, and cutting the response out of an OpenRLHF query.
 * Expected spans are written out by hand.
 */
#include <string.h>

#include "server/server.h"
#include "test.h"

static long split(const char *s, const char **st, size_t *ln, size_t cap, size_t *at,
                  const char **err) {
  return rk_server_split_array(s, strlen(s), st, ln, cap, at, err);
}

TEST(split_array) {
  const char *st[8];
  size_t ln[8], at = 0;
  const char *err = NULL;
  ASSERT_EQ_INT(split(" [ {\"a\": [1, \"],\\\"\"]} , 2,\n\"x\" ] ", st, ln, 8, &at, &err), 3);
  ASSERT_EQ_SPAN(st[0], ln[0], "{\"a\": [1, \"],\\\"\"]}");
  ASSERT_EQ_SPAN(st[1], ln[1], "2");
  ASSERT_EQ_SPAN(st[2], ln[2], "\"x\"");
  ASSERT_EQ_INT(split("[]", st, ln, 8, &at, &err), 0);
  /* Counting only (cap 0) gives the same count. */
  ASSERT_EQ_INT(split("[1,2,3,4,5,6,7,8,9]", NULL, NULL, 0, &at, &err), 9);
}

TEST(split_array_errors) {
  size_t at = 0;
  const char *err = NULL;
  ASSERT_EQ_INT(split("{\"a\":1}", NULL, NULL, 0, &at, &err), -1);
  ASSERT_EQ_INT(at, 0);
  ASSERT_EQ_STR(err, "expected a JSON array of records or JSON lines");
  ASSERT_EQ_INT(split("[{\"a\":1}, ", NULL, NULL, 0, &at, &err), -1);
  ASSERT_EQ_INT(at, 10);
  ASSERT_EQ_STR(err, "the array is not closed (truncated body?)");
  ASSERT_EQ_INT(split("[1,,2]", NULL, NULL, 0, &at, &err), -1);
  ASSERT_EQ_INT(at, 3);
  ASSERT_EQ_INT(split("[1] x", NULL, NULL, 0, &at, &err), -1);
  ASSERT_EQ_INT(at, 4);
  ASSERT_EQ_INT(split("[\"unterminated]", NULL, NULL, 0, &at, &err), -1);
  char deep[1100];
  memset(deep, '[', sizeof deep - 1);
  deep[sizeof deep - 1] = '\0';
  ASSERT_EQ_INT(split(deep, NULL, NULL, 0, &at, &err), -1);
  ASSERT_EQ_STR(err, "nesting deeper than 512");
}

static void cut(const char *q, const char *p, const char *marker, const char *want) {
  const char *out = NULL;
  size_t n = 0;
  rk_server_cut_response(q, strlen(q), p, strlen(p), marker, &out, &n);
  ASSERT_EQ_SPAN(out, n, want);
}

TEST(cut_response) {
  cut("PROMPT the answer<|im_end|>", "PROMPT", NULL, "the answer");
  cut("<s>user: hi</s>assistant: ok</s><|endoftext|>\n", "other", "assistant:", "ok");
  cut("no prompt match", "xyz", NULL, "no prompt match");
  cut("A marker B marker C", "", "marker", "C");
  cut("PROMPT", "PROMPT", NULL, "");
}

TEST_MAIN(TEST_ENTRY(split_array), TEST_ENTRY(split_array_errors), TEST_ENTRY(cut_response))
