/*
 * test_json_reward.c - the `json` reward: candidate extraction (whole,
 * code block, last object), required keys and types, partial credit,
 * invalid JSON as a legitimate 0, hostile inputs, end to end.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "format/format.h"
#include "e2e.h"
#include "test.h"

static rk__arena g_arena;

/* The candidate text for mode m, or "(none)". */
static const char *cand(const char *s, rk__jx_mode m, char *buf, size_t cap) {
  size_t b = 0, e = 0;
  const char *how = "";
  rk__arena_reset(&g_arena);
  int rc = rk__json_candidate(s, strlen(s), m, &g_arena, &b, &e, &how);
  if (rc != 1) return "(none)";
  snprintf(buf, cap, "%.*s", (int)(e - b), s + b);
  return buf;
}

TEST(setup_) { rk__arena_init(&g_arena, 0); }

TEST(candidates) {
  char buf[256];
  ASSERT_EQ_STR(cand("  {\"a\": 1}\n", RK__JX_WHOLE, buf, sizeof buf), "{\"a\": 1}");
  ASSERT_EQ_STR(cand("   ", RK__JX_WHOLE, buf, sizeof buf), "(none)");
  ASSERT_EQ_STR(cand("Here:\n```json\n{\"a\": 1}\n```\nbye", RK__JX_AUTO, buf, sizeof buf),
                "{\"a\": 1}");
  /* The last complete block wins. */
  ASSERT_EQ_STR(cand("```\n[1]\n``` and ```json\n{\"b\": 2}\n```", RK__JX_CODE_BLOCK, buf,
                     sizeof buf),
                "{\"b\": 2}");
  /* An unclosed block (truncated output) runs to the end. */
  ASSERT_EQ_STR(cand("```json\n{\"a\": 1}", RK__JX_CODE_BLOCK, buf, sizeof buf), "{\"a\": 1}");
  /* Inline block without a newline keeps its whole content. */
  ASSERT_EQ_STR(cand("```{\"a\":1}```", RK__JX_CODE_BLOCK, buf, sizeof buf), "{\"a\":1}");
  ASSERT_EQ_STR(cand("no fences", RK__JX_CODE_BLOCK, buf, sizeof buf), "(none)");
  /* auto without a block: the whole text. */
  ASSERT_EQ_STR(cand(" x {\"a\": 1}", RK__JX_AUTO, buf, sizeof buf), "x {\"a\": 1}");
  /* Last balanced object; braces inside strings do not count. */
  ASSERT_EQ_STR(cand("a {\"x\": 1} b {\"y\": {\"z\": \"}\"}} c", RK__JX_LAST_OBJECT, buf,
                     sizeof buf),
                "{\"y\": {\"z\": \"}\"}}");
  /* A stray unclosed '{' before the object does not hide it. */
  ASSERT_EQ_STR(cand("oops { then {\"a\": 1}", RK__JX_LAST_OBJECT, buf, sizeof buf),
                "{\"a\": 1}");
  ASSERT_EQ_STR(cand("no braces", RK__JX_LAST_OBJECT, buf, sizeof buf), "(none)");
  ASSERT_EQ_STR(cand("}}}", RK__JX_LAST_OBJECT, buf, sizeof buf), "(none)");
}

#define J(args) "{\"reward\": {\"fn\": \"json\", \"args\": " args "}}"

TEST(e2e_json_valid) {
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"json\"}}",
                           "{\"response\": \"{\\\"a\\\": 1}\"}");
  ASSERT_E2E(r, 1.0, "ok");
  ASSERT_CONTAINS(r.explain, "valid JSON object (whole response)");
  r = e2e_score("{\"reward\": {\"fn\": \"json\"}}",
                "{\"response\": \"Sure:\\n```json\\n[1, 2]\\n```\"}");
  ASSERT_E2E(r, 1.0, "ok");
  ASSERT_CONTAINS(r.explain, "code block");
  /* Invalid JSON: reward 0, status ok, position in the response. The
   * whole response "Here: {...}" fails at its first byte. */
  r = e2e_score("{\"reward\": {\"fn\": \"json\"}}",
                "{\"response\": \"Here: {\\\"a\\\": 1}\"}");
  ASSERT_E2E(r, 0.0, "ok");
  ASSERT_CONTAINS(r.explain, "invalid JSON (whole response) at byte 0");
  r = e2e_score(J("{\"extract\": \"last_object\"}"),
                "{\"response\": \"Here: {\\\"a\\\": 1}\"}");
  ASSERT_E2E(r, 1.0, "ok");
  /* Trailing comma at byte 8 of "{\"a\": 1,}" (offset of the '}'), inside
   * a code block that starts at byte 8 of the response: 8 + 8 = 16. */
  r = e2e_score("{\"reward\": {\"fn\": \"json\"}}",
                "{\"response\": \"```json\\n{\\\"a\\\": 1,}\\n```\"}");
  ASSERT_E2E(r, 0.0, "ok");
  ASSERT_CONTAINS(r.explain, "invalid JSON (code block) at byte 16");
  r = e2e_score("{\"reward\": {\"fn\": \"json\"}}", "{\"response\": \"\"}");
  ASSERT_E2E(r, 0.0, "ok");
  ASSERT_CONTAINS(r.explain, "no JSON found");
  r = e2e_score(J("{\"extract\": \"code_block\"}"), "{\"response\": \"{}\"}");
  ASSERT_E2E(r, 0.0, "ok");
  ASSERT_CONTAINS(r.explain, "no ``` code block");
}

TEST(e2e_json_requirements) {
  const char *rec =
      "{\"response\": \"{\\\"a\\\": {\\\"b\\\": [1, 2.0, 2.5]}, \\\"s\\\": \\\"x\\\", "
      "\\\"n\\\": null, \\\"t\\\": true}\"}";
  e2e_result r = e2e_score(J("{\"required\": [\"a.b.1\", \"s\", \"t\"]}"), rec);
  ASSERT_E2E(r, 1.0, "ok");
  /* 2.0 is an integer (JSON Schema), 2.5 is not. */
  r = e2e_score(J("{\"types\": {\"a.b.1\": \"integer\", \"a.b.0\": \"number\"}}"), rec);
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score(J("{\"types\": {\"a.b.2\": \"integer\"}}"), rec);
  ASSERT_E2E(r, 0.0, "ok");
  ASSERT_CONTAINS(r.explain, "'a.b.2' is number, expected integer");
  r = e2e_score(J("{\"types\": {\"n\": [\"string\", \"null\"], \"t\": \"boolean\", "
                  "\"a\": \"object\", \"a.b\": \"array\"}}"),
                rec);
  ASSERT_E2E(r, 1.0, "ok");
  /* Partial: required a, s, zz + types s: number -> a ok, s wrong type,
   * zz missing: 1 of 3 met. */
  r = e2e_score(J("{\"required\": [\"a\", \"s\", \"zz\"], \"types\": {\"s\": \"number\"}, "
                  "\"partial\": true}"),
                rec);
  ASSERT_E2E(r, 1.0 / 3.0, "ok");
  ASSERT_CONTAINS(r.explain, "1/3 requirements met; 's' is string, expected number");
  r = e2e_score(J("{\"required\": [\"a.b.9\", \"s.x\"]}"), rec);
  ASSERT_E2E(r, 0.0, "ok");
  ASSERT_CONTAINS(r.explain, "'a.b.9' missing");
}

TEST(e2e_json_hostile) {
  /* 100-deep array with a depth cap of 64: invalid, reward 0, no crash. */
  char rec[512];
  size_t o = (size_t)snprintf(rec, sizeof rec, "{\"response\": \"");
  for (int i = 0; i < 100; i++) rec[o++] = '[';
  for (int i = 0; i < 100; i++) rec[o++] = ']';
  snprintf(rec + o, sizeof rec - o, "\"}");
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"json\"}}", rec);
  ASSERT_E2E(r, 0.0, "ok");
  r = e2e_score(J("{\"max_depth\": 128}"), rec);
  ASSERT_E2E(r, 1.0, "ok");
  /* 1 MiB of '{' (last_object: nothing closes) and of '[' (depth). */
  size_t n = (size_t)1 << 20;
  char *big = malloc(n + 64);
  ASSERT_TRUE(big != NULL);
  if (!big) return;
  const char fills[] = {'{', '[', '"', '`'};
  for (size_t f = 0; f < sizeof fills; f++) {
    o = (size_t)snprintf(big, n + 64, "{\"response\": \"");
    for (size_t i = 0; i < n; i++) big[o + i] = fills[f] == '"' ? '\\' : fills[f];
    if (fills[f] == '"')
      for (size_t i = 0; i < n; i += 2) big[o + i + 1] = '"';
    o += n;
    snprintf(big + o, 64, "\"}");
    r = e2e_score(J("{\"extract\": \"last_object\"}"), big);
    ASSERT_E2E(r, 0.0, "ok");
    r = e2e_score("{\"reward\": {\"fn\": \"json\"}}", big);
    ASSERT_E2E(r, 0.0, "ok");
  }
  free(big);
  /* Invalid UTF-8 cannot reach a record (the reader rejects the line), but
   * the candidate finder takes any bytes. */
  char buf[64];
  ASSERT_EQ_STR(cand("\xff{\"a\":\xfe}\xff", RK__JX_LAST_OBJECT, buf, sizeof buf),
                "{\"a\":\xfe}");
}

TEST(e2e_json_spec_errors) {
  char err[512];
  e2e_spec_error(J("{\"types\": {\"a\": \"str\"}}"), err, sizeof err);
  ASSERT_CONTAINS(err, "args.types");
  e2e_spec_error(J("{\"types\": [\"a\"]}"), err, sizeof err);
  ASSERT_CONTAINS(err, "expected an object");
  e2e_spec_error(J("{\"extract\": \"xml\"}"), err, sizeof err);
  ASSERT_CONTAINS(err, "args.extract");
  e2e_spec_error(J("{\"required\": 3}"), err, sizeof err);
  ASSERT_CONTAINS(err, "args.required");
}

TEST(teardown_) { rk__arena_release(&g_arena); }

TEST_MAIN(TEST_ENTRY(setup_), TEST_ENTRY(candidates), TEST_ENTRY(e2e_json_valid),
          TEST_ENTRY(e2e_json_requirements), TEST_ENTRY(e2e_json_hostile),
          TEST_ENTRY(e2e_json_spec_errors), TEST_ENTRY(teardown_))
