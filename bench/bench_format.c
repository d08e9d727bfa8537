/*
 * bench_format.c - speed of the format family's scanners on a typical
 * ~3 KB "<think>...</think><answer>...</answer>" rollout: the tag checker
 * (default and every preset), the length units (code points, words) and
 * the repetition counter. Prints ns per call and ns per KB, best of
 * several passes. The product target is well under 1 us per KB for
 * `format` and the length functions.
 *
 *   build/bench_format [iterations] [passes]     (default 200000 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "format/format.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static size_t make_response(char *buf, size_t cap) {
  static const char *const words[] = {
      "Let", "x", "be", "the", "number", "of", "apples,", "so", "$x", "+",
      "3", "=", "7$", "and", "therefore", "\\frac{a}{b}", "we", "get",
      "\xc3\xa9t\xc3\xa9", "check:", "2x", "<", "10.", "Then", "\n"};
  size_t nw = sizeof words / sizeof words[0];
  size_t o = 0;
  unsigned s = 12345;
  o += (size_t)snprintf(buf + o, cap - o, "<think>\n");
  while (o < 2900) {
    s = s * 1103515245u + 12345u;
    o += (size_t)snprintf(buf + o, cap - o, "%s ", words[(s >> 16) % nw]);
  }
  o += (size_t)snprintf(buf + o, cap - o,
                        "\n</think>\n<answer>The answer is \\boxed{4}.</answer>");
  return o;
}

typedef int (*bench_fn)(const char *p, size_t n, void *ctx);

static double run(bench_fn f, const char *p, size_t n, void *ctx, long iters,
                  int passes) {
  double best = 1e30;
  volatile int sink = 0;
  for (int k = 0; k < passes; k++) {
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) sink += f(p, n, ctx);
    double dt = (now_ns() - t0) / (double)iters;
    if (dt < best) best = dt;
  }
  (void)sink;
  return best;
}

typedef struct fmt_ctx {
  rk__fmt_cfg cfg;
  rk__arena arena;
} fmt_ctx;

static int do_fmt(const char *p, size_t n, void *v) {
  fmt_ctx *c = v;
  rk__arena_reset(&c->arena);
  return rk__fmt_check(&c->cfg, p, n, &c->arena, NULL, 0);
}

static int do_chars(const char *p, size_t n, void *v) {
  (void)v;
  return (int)rk__utf8_count(p, n);
}

static int do_words(const char *p, size_t n, void *v) {
  (void)v;
  return (int)rk__count_words(p, n);
}

static int do_rep(const char *p, size_t n, void *v) {
  rk__arena *a = v;
  rk__rep_result r;
  rk__arena_reset(a);
  rk__rep_ngrams(p, n, 3, 1, 0, a, &r);
  return (int)r.unique;
}

int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 200000;
  int passes = argc > 2 ? atoi(argv[2]) : 5;
  static char resp[8192];
  size_t n = make_response(resp, sizeof resp);
  double kb = (double)n / 1024.0;
  printf("bench_format: %zu-byte response, %ld iterations, best of %d\n", n,
         iters, passes);
  printf("reproduce: %s %ld %d\n", argv[0], iters, passes);

  static const char *const names[] = {"format (tags)", "format r1",
                                      "format geo3k", "format rlpr",
                                      "format think"};
  for (int p = 0; p < 5; p++) {
    fmt_ctx c;
    const char *why;
    rk__fmt_init(&c.cfg, (rk__fmt_preset)p, NULL, 0, &why);
    rk__arena_init(&c.arena, 0);
    int ok = do_fmt(resp, n, &c);
    double ns = run(do_fmt, resp, n, &c, iters, passes);
    printf("  %-26s %8.1f ns/call %8.1f ns/KB  (result %d)\n", names[p], ns,
           ns / kb, ok);
    if (p == 0) {
      c.cfg.strip_tag_spaces = 1;
      ns = run(do_fmt, resp, n, &c, iters, passes);
      printf("  %-26s %8.1f ns/call %8.1f ns/KB\n", "format + strip_tag_spaces",
             ns, ns / kb);
    }
    rk__arena_release(&c.arena);
  }
  double ns = run(do_chars, resp, n, NULL, iters, passes);
  printf("  %-26s %8.1f ns/call %8.1f ns/KB\n", "length unit chars", ns, ns / kb);
  ns = run(do_words, resp, n, NULL, iters, passes);
  printf("  %-26s %8.1f ns/call %8.1f ns/KB\n", "length unit words", ns, ns / kb);
  rk__arena a;
  rk__arena_init(&a, 0);
  ns = run(do_rep, resp, n, &a, iters / 10 + 1, passes);
  printf("  %-26s %8.1f ns/call %8.1f ns/KB\n", "repetition 3-grams", ns, ns / kb);
  rk__arena_release(&a);
  return 0;
}
