/*
 * fuzz_jsonl.c - the JSONL stream path end to end: arbitrary bytes through
 * rk_score_stream (line splitting, over-long lines, parse errors, aliases,
 * scoring, output writing), in small read pieces so that lines straddle
 * reads, or as one in-memory input (rk_stream_io.data). Checks: the call
 * succeeds, every output line is a JSON object (checked with jansson,
 * independently), one output line per non-blank
 * input line, and 'line' numbers increase. Then the batch path with the
 * response given apart (rk_score_batch_responses): the input split at a
 * byte into record and response, one result line each, always a JSON
 * object. Last the started batch (rk_score_batch_start/next): the input's
 * lines (for half the inputs), cycled to 140 records, every other one with
 * a response apart, must give byte for byte the lines of one
 * rk_score_batch_responses call on the same records, on a context of one
 * thread (pieces of 64) and one of two (on two CPUs, the caller helping).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rewardkit.h"

typedef struct {
  const uint8_t *p;
  size_t n, off, piece;
  char *out;
  size_t outn, outcap;
} io_t;

static long rd(void *u, char *buf, size_t cap) {
  io_t *s = u;
  size_t k = s->n - s->off;
  if (k > cap) k = cap;
  if (k > s->piece) k = s->piece;
  memcpy(buf, s->p + s->off, k);
  s->off += k;
  return (long)k;
}

static int wr(void *u, const char *p, size_t n) {
  io_t *s = u;
  if (s->outn + n > s->outcap) {
    size_t cap = (s->outn + n) * 2;
    char *q = realloc(s->out, cap);
    if (!q) return -1;
    s->out = q;
    s->outcap = cap;
  }
  memcpy(s->out + s->outn, p, n);
  s->outn += n;
  return 0;
}

static rk_spec *spec;
static rk_ctx *ctx, *ctx1;

/* The started batch on c equals `whole` line for line, in at least
 * min_pieces pieces. */
static void check_started(rk_ctx *c, const rk_score_options *ro, const char *const *recp,
                          const size_t *rl, const char *const *rp, const size_t *rpl, size_t nr,
                          const rk_batch *whole, size_t min_pieces) {
  if (rk_score_batch_start(c, spec, ro, recp, rl, rp, rpl, nr) != RK_OK) __builtin_trap();
  size_t k = 0, pieces = 0;
  for (;;) {
    rk_batch *pb = NULL;
    if (rk_score_batch_next(c, &pb) != RK_OK) __builtin_trap();
    if (!pb) break;
    pieces++;
    for (size_t i = 0; i < rk_batch_count(pb); i++, k++) {
      size_t n1 = 0, n2 = 0;
      const char *l1 = rk_batch_line(pb, i, &n1), *l2 = rk_batch_line(whole, k, &n2);
      if (!l1 || !l2 || n1 != n2 || memcmp(l1, l2, n1)) __builtin_trap();
    }
    rk_batch_free(pb);
  }
  if (k != nr || pieces < min_pieces) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!spec) {
    const char *js =
        "{\"reward\":{\"sum\":[{\"fn\":\"format\"},{\"fn\":\"exact\"},"
        "{\"fn\":\"mcq\"},{\"fn\":\"field\",\"args\":{\"field\":\"x\",\"default\":0}}]}}";
    char err[256];
    if (rk_spec_compile(js, strlen(js), &spec, err, sizeof err) != RK_OK) __builtin_trap();
    rk_ctx_options o = {.threads = 2}, o1 = {.threads = 1};
    if (rk_ctx_create(&o, &ctx) != RK_OK || rk_ctx_create(&o1, &ctx1) != RK_OK)
      __builtin_trap();
  }
  io_t s = {.p = data, .n = size, .piece = size ? (data[0] % 7) * 37 + 1 : 1};
  rk_stream_io io = {.read = rd, .read_user = &s, .write = wr, .write_user = &s};
  if (size && (data[0] & 2)) {
    /* The in-memory path (what the CLI uses for mapped files). */
    io.data = (const char *)data;
    io.data_len = size;
  }
  rk_score_options opts = {.explain = size && (data[0] & 1), .max_line = 300,
                           .step_budget = 100000};
  char *sum = NULL;
  if (rk_score_stream(ctx, spec, &opts, &io, &sum, NULL) != RK_OK) __builtin_trap();
  rk_free(sum);

  /* Expected lines: those with a non-blank byte (space, tab, CR are blank). */
  size_t want = 0;
  int nonblank = 0;
  for (size_t i = 0; i <= size; i++) {
    if (i == size || data[i] == '\n') {
      want += nonblank;
      nonblank = 0;
    } else if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r') {
      nonblank = 1;
    }
  }
  size_t got = 0, start = 0;
  for (size_t i = 0; i < s.outn; i++) {
    if (s.out[i] != '\n') continue;
    json_error_t e;
    /* Input numbers are copied through byte for byte; jansson rejects
     * integers past 64 bits unless told to read them as reals. */
    json_t *j = json_loadb(s.out + start, i - start, JSON_DECODE_INT_AS_REAL, &e);
    if (!j || !json_is_object(j)) __builtin_trap();
    json_t *status = json_object_get(j, "status");
    if (!json_is_string(status)) __builtin_trap();
    json_decref(j);
    got++;
    start = i + 1;
  }
  if (start != s.outn || got != want) __builtin_trap();
  free(s.out);

  size_t cut = size ? data[size - 1] % (size + 1) : 0;
  const char *rec[2] = {(const char *)data, "{\"response\":\"\",\"reference\":\"1\"}"};
  const char *resp[2] = {(const char *)data + cut, (const char *)data};
  size_t lens[2] = {cut, strlen(rec[1])}, rlens[2] = {size - cut, cut};
  rk_score_options ro = {.results_only = 1, .max_line = 300, .step_budget = 100000};
  rk_batch *b = NULL;
  if (rk_score_batch_responses(ctx, spec, &ro, rec, lens, resp, rlens, 2, &b) != RK_OK ||
      rk_batch_count(b) != 2)
    __builtin_trap();
  for (size_t i = 0; i < 2; i++) {
    size_t n = 0;
    const char *line = rk_batch_line(b, i, &n);
    json_error_t e;
    json_t *j = json_loadb(line, n, 0, &e);
    if (!j || !json_is_object(j)) __builtin_trap();
    json_decref(j);
  }
  rk_batch_free(b);

  if (!size || !(data[0] & 4)) return 0;
  enum { NR = 140 };
  static const char *recp[NR], *rp[NR];
  static size_t rl[NR], rpl[NR];
  size_t nl = 0, at = 0;
  static size_t lo[NR], ln[NR];
  for (size_t i = 0; i <= size && nl < NR; i++)
    if (i == size || data[i] == '\n') {
      lo[nl] = at, ln[nl] = i - at, nl++;
      at = i + 1;
    }
  size_t total = 0, rtotal = 0;
  for (size_t i = 0; i < NR; i++) {
    total += ln[i % nl];
    if (i % 2) rtotal += ln[(i + 1) % nl];
  }
  char *text = malloc(total + 1), *rtext = malloc(rtotal + 1);
  if (!text || !rtext) __builtin_trap();
  size_t tn = 0, rn = 0;
  for (size_t i = 0; i < NR; i++) {
    const char *src = (const char *)data + lo[i % nl];
    recp[i] = text + tn, rl[i] = ln[i % nl];
    memcpy(text + tn, src, rl[i]);
    tn += rl[i];
    rp[i] = NULL, rpl[i] = 0;
    if (i % 2) {
      rp[i] = rtext + rn, rpl[i] = ln[(i + 1) % nl];
      memcpy(rtext + rn, data + lo[(i + 1) % nl], rpl[i]);
      rn += rpl[i];
    }
  }
  rk_batch *whole = NULL;
  if (rk_score_batch_responses(ctx, spec, &ro, recp, rl, rp, rpl, NR, &whole) != RK_OK)
    __builtin_trap();
  /* One thread: pieces of 64 records. Two threads: on a machine with two
   * CPUs, one piece scored by the context's thread and this one. */
  check_started(ctx1, &ro, recp, rl, rp, rpl, NR, whole, 2);
  check_started(ctx, &ro, recp, rl, rp, rpl, NR, whole, 1);
  rk_batch_free(whole);
  free(text);
  free(rtext);
  return 0;
}
