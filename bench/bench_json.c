/*
 * bench_json.c - record parsing speed: rewardkit's reader vs jansson.
 *
 * Generates N JSONL-style records in memory (a ~3 KB "<think>" response
 * with \n and LaTeX escapes and some non-ASCII text, plus the usual id,
 * group, prompt and reference fields), parses every one with
 * rk__json_parse (arena reset per record) and with jansson's json_loadb,
 * and prints MB/s and records/s for both, best of several passes.
 *
 * Two profiles run: "typical" (somewhat more escapes and non-ASCII than
 * real math rollouts) and "dense" (a stress case, twice the escapes, ~9%
 * non-ASCII bytes). Never run as a test.
 *
 *   build-json/bench_json [records] [passes]     (default 20000 5)
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json/json.h"

static uint64_t lcg_state = 0x9E3779B97F4A7C15ULL;
static unsigned rnd(unsigned n) {
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)((lcg_state >> 33) % n);
}

/* Word pools. "typical" is a little heavier than real math rollouts (the
 * math verifier's cases have ~16 escapes and <1 non-ASCII byte per KB;
 * this has ~26 and ~10); "dense" is a stress case (~52 escapes and ~90
 * non-ASCII bytes per KB). */
static const char *const plain[] = {
    "the", "sum", "of", "squares", "is", "therefore", "we", "get", "so",
    "equation", "let", "since", "integer", "divides", "modulo", "1000", "=",
    "step", "remainder", "and", "then", "number", "each", "pair", "total",
    "which", "gives", "+", "2", "x", "answer", "check", "both", "sides"};
static const char *const latex[] = {
    "$\\\\frac{a}{b}$", "$x^2 + y^2 = z^2$", "\\\\cdot", "$\\\\sqrt{2}$",
    "\\\\(n\\\\)", "$\\\\binom{7}{2}$", "\\\\quad", "$2^{10}$"};
static const char *const quoted[] = {"\\\"quoted\\\"", "\\\"it\\\""};
static const char *const other[] = {
    "caf\xc3\xa9", "\xe2\x80\x94", "\xe2\x86\x92", "\xce\xb1",
    "\xe6\x95\xb0\xe5\xad\xa6", "\xe2\x89\xa4"};

#define PICK(a) a[rnd(sizeof a / sizeof a[0])]

static const char *word(int dense) {
  unsigned r = rnd(100);
  if (dense) {
    if (r < 55) return PICK(plain);
    if (r < 75) return PICK(latex);
    if (r < 80) return PICK(quoted);
    return PICK(other);
  }
  if (r < 90) return PICK(plain);
  if (r < 97) return PICK(latex);
  if (r < 98) return PICK(quoted);
  return PICK(other);
}

/* One record into b (no trailing newline). */
static void make_record(rk__buf *b, unsigned id, int dense) {
  rk__buf_printf(b,
                 "{\"id\":%u,\"group\":\"g%u\",\"prompt\":\"Find the "
                 "remainder when N is divided by 1000. Show your work.\","
                 "\"response\":\"<think>",
                 id, id / 8);
  size_t target = b->n + 3000;
  unsigned col = 0;
  while (b->n < target) {
    const char *w = word(dense);
    rk__buf_puts(b, w);
    col += (unsigned)strlen(w) + 1;
    if (col > 60 + rnd(40)) {
      rk__buf_puts(b, "\\n");
      col = 0;
    } else {
      rk__buf_putc(b, ' ');
    }
  }
  unsigned ans = rnd(1000);
  rk__buf_printf(b, "</think> So the answer is \\\\boxed{%u}.\",\"reference\":\"%u\"}",
                 ans, ans);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Generates, checks and times one profile. Returns 0 on success. */
static int run(int dense, size_t nrec, int passes) {
  rk__buf all;
  rk__buf_init(&all, 0);
  size_t *off = malloc((nrec + 1) * sizeof *off);
  if (!off) return 1;
  lcg_state = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < nrec; i++) {
    off[i] = all.n;
    make_record(&all, (unsigned)i, dense);
  }
  off[nrec] = all.n;
  if (all.oom) return 1;
  double mb = (double)all.n / 1e6;

  /* Sanity: both parsers accept every record and agree on the response. */
  rk__arena a;
  rk__arena_init(&a, 0);
  for (size_t i = 0; i < nrec; i++) {
    rk__jval *v;
    rk__json_error err;
    json_error_t jerr;
    const char *p = all.p + off[i];
    size_t n = off[i + 1] - off[i];
    json_t *j = json_loadb(p, n, JSON_DECODE_ANY, &jerr);
    if (rk__json_parse(p, n, &a, NULL, &v, &err) != 0 || !j) {
      fprintf(stderr, "record %zu rejected: %s / %s\n", i, err.msg, jerr.text);
      return 1;
    }
    const rk__jval *r = rk__json_get(v, "response");
    json_t *jr = json_object_get(j, "response");
    if (!r || r->u.str.n != json_string_length(jr) ||
        memcmp(r->u.str.p, json_string_value(jr), r->u.str.n) != 0) {
      fprintf(stderr, "record %zu: parsers disagree on the response\n", i);
      return 1;
    }
    json_decref(j);
    rk__arena_reset(&a);
  }

  /* Escapes and non-ASCII bytes per KB, to describe the profile. */
  size_t esc = 0, high = 0;
  for (size_t i = 0; i < all.n; i++) {
    unsigned char c = (unsigned char)all.p[i];
    if (c == '\\') {
      esc++;
      i++;
    } else if (c >= 0x80) {
      high++;
    }
  }

  double best_ours = 1e30, best_jansson = 1e30;
  size_t sink = 0;
  for (int pass = 0; pass < passes; pass++) {
    double t0 = now();
    for (size_t i = 0; i < nrec; i++) {
      rk__jval *v;
      if (rk__json_parse(all.p + off[i], off[i + 1] - off[i], &a, NULL, &v,
                         NULL) == 0)
        sink += v->u.obj.n;
      rk__arena_reset(&a);
    }
    double t1 = now();
    for (size_t i = 0; i < nrec; i++) {
      json_error_t jerr;
      json_t *j = json_loadb(all.p + off[i], off[i + 1] - off[i],
                             JSON_DECODE_ANY, &jerr);
      if (j) sink += json_object_size(j);
      json_decref(j);
    }
    double t2 = now();
    if (t1 - t0 < best_ours) best_ours = t1 - t0;
    if (t2 - t1 < best_jansson) best_jansson = t2 - t1;
  }

  printf("%s records: %zu x %.0f bytes (%.1f MB; per KB: %.1f escapes, %.1f "
         "non-ASCII bytes), best of %d passes\n",
         dense ? "dense" : "typical", nrec, (double)all.n / (double)nrec, mb,
         (double)esc * 1024 / (double)all.n, (double)high * 1024 / (double)all.n,
         passes);
  printf("  rewardkit: %8.1f MB/s  %10.0f records/s\n", mb / best_ours,
         (double)nrec / best_ours);
  printf("  jansson:   %8.1f MB/s  %10.0f records/s\n", mb / best_jansson,
         (double)nrec / best_jansson);
  printf("  ratio:     %8.1fx   (checksum %zu)\n", best_jansson / best_ours,
         sink);
  rk__arena_release(&a);
  rk__buf_release(&all);
  free(off);
  return 0;
}

/* Output numbers: rk__fmt_double (shortest of 15-17 digits that reads
 * back exactly) against snprintf("%.17g"), what jansson and most C code
 * write, on doubles in [0, 1) with full mantissas (IoU, F1, P(yes),
 * advantages are such numbers; short decimals take a faster path). */
static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void run_numbers(int passes) {
  enum { N = 200000 };
  static double v[N];
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < N; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v[i] = (double)(x >> 11) / 9007199254740992.0;
  }
  char buf[40];
  size_t sink = 0;
  double best_ours = 1e30, best_printf = 1e30;
  for (int p = 0; p < passes; p++) {
    double t0 = now_ns();
    for (int i = 0; i < N; i++) sink += rk__fmt_double(buf, v[i]);
    double t1 = now_ns();
    for (int i = 0; i < N; i++) sink += (size_t)snprintf(buf, sizeof buf, "%.17g", v[i]);
    double t2 = now_ns();
    if (t1 - t0 < best_ours) best_ours = t1 - t0;
    if (t2 - t1 < best_printf) best_printf = t2 - t1;
  }
  printf("numbers: %d doubles in [0, 1), best of %d passes (checksum %zu)\n", N, passes, sink);
  printf("  rk__fmt_double:   %6.1f ns/number (shortest round-trip text)\n", best_ours / N);
  printf("  snprintf %%.17g:   %6.1f ns/number (17 digits, not shortest)\n", best_printf / N);
}

int main(int argc, char **argv) {
  size_t nrec = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 20000;
  int passes = argc > 2 ? atoi(argv[2]) : 5;
  if (nrec == 0) nrec = 1;
  if (passes < 1) passes = 1;
  printf("bench_json: rk__json_parse vs jansson %s json_loadb, one core\n",
         jansson_version_str());
  if (run(0, nrec, passes) || run(1, nrec, passes)) return 1;
  run_numbers(passes);
  printf("reproduce: cmake --build build-json --target bench_json && "
         "build-json/bench_json %zu %d\n",
         nrec, passes);
  return 0;
}
