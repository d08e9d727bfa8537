/*
 * main.c - the `rewardkit` command: score, check, corpus, list, validate.
 *
 * Uses only the public API (rewardkit.h) plus jansson to build specs from
 * --fn/--arg and to read the summary. Exit codes (docs/cli.md):
 *   0 success, 1 runtime failure (I/O, memory), 2 usage error,
 *   3 invalid spec.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rewardkit.h"
#include "server/server.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_SPEC = 3 };

static const char *prog = "rewardkit";

static void die_usage(const char *fmt, const char *arg) {
  fprintf(stderr, "%s: ", prog);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(run '%s --help' for usage)\n", prog);
  exit(EXIT_USAGE);
}

static const char *usage_main =
    "usage: rewardkit <command> [options]\n"
    "\n"
    "Reward engine for RL on language and vision-language models.\n"
    "\n"
    "commands:\n"
    "  score     score JSONL records with a spec or one built-in function\n"
    "  check     score one gold/response pair and explain the verdict\n"
    "  corpus    one corpus BLEU or chrF over JSONL records (sacreBLEU's corpus score)\n"
    "  serve     HTTP reward server (OpenRLHF remote reward, /v1/score)\n"
    "  list      list the built-in reward functions\n"
    "  validate  compile a spec and report the first problem\n"
    "\n"
    "  rewardkit --version | rewardkit <command> --help\n"
    "\n"
    "exit codes: 0 ok, 1 runtime failure (I/O, memory), 2 usage error,\n"
    "            3 invalid spec. Records that cannot be scored do not fail\n"
    "            the run: they get a status (see docs/cli.md).\n";

static const char *usage_score =
    "usage: rewardkit score [--spec FILE | --fn NAME [--arg KEY=VALUE]...]\n"
    "                       [--advantage ESTIMATOR] [--threads N] [--explain]\n"
    "                       [--timing] [--max-line BYTES] [--budget STEPS]\n"
    "                       [--summary FILE] [--quiet] [IN] [-o OUT]\n"
    "\n"
    "Reads JSONL records (one rollout per line; stdin when IN is absent or -)\n"
    "and writes each record plus reward, status and components (stdout by\n"
    "default), in input order.\n"
    "\n"
    "  --spec FILE         JSON spec (docs/spec.md)\n"
    "  --fn NAME           score with one built-in function (rewardkit list)\n"
    "  --arg KEY=VALUE     argument for --fn; VALUE is JSON if it parses\n"
    "                      (3, true, [\"a\",\"b\"]), else a string\n"
    "  --advantage EST     add advantages over the records' groups: grpo,\n"
    "                      dr_grpo, rloo, reinforce_pp_baseline, grpo_passk,\n"
    "                      opo, gpg (overrides the spec's)\n"
    "  --threads N         worker threads (default: all CPUs)\n"
    "  --explain           add a reason per component\n"
    "  --timing            add each record's scoring time as elapsed_us\n"
    "  --max-line BYTES    longest accepted line (default 16777216)\n"
    "  --budget STEPS      step budget per record (default 200000000)\n"
    "  --summary FILE      also write the summary as JSON to FILE\n"
    "  --quiet             no progress bar, no summary on stderr\n"
    "  -o OUT              output file (default stdout)\n";

static const char *usage_check =
    "usage: rewardkit check FN GOLD RESPONSE [--arg KEY=VALUE]... [--]\n"
    "       rewardkit check --spec FILE GOLD RESPONSE\n"
    "\n"
    "Scores one response against one gold answer and prints the reward, the\n"
    "status and why. GOLD is taken as a string; prefix it with json: to pass\n"
    "a JSON value (json:[\"a\",\"b\"]). RESPONSE - reads the response from stdin.\n"
    "Answers that start with '-' are fine (-1, -\\frac12); after -- everything is\n"
    "positional.\n"
    "\n"
    "  rewardkit check exact Paris 'The answer is paris.'\n";

static const char *usage_corpus =
    "usage: rewardkit corpus [--spec FILE | --fn bleu|chrf [--arg KEY=VALUE]...]\n"
    "                        [--json] [--max-line BYTES] [--budget STEPS] [IN]\n"
    "\n"
    "Reads JSONL records (stdin when IN is absent or -), sums the statistics of\n"
    "every record and prints ONE corpus score, as sacreBLEU's corpus_bleu /\n"
    "corpus_chrf do (not the mean of per-record rewards). The spec's reward must\n"
    "be one bleu or chrf leaf; its arguments apply as per record, except that\n"
    "bleu's effective_order is off unless the spec sets it (corpus_bleu's\n"
    "default). An answer that cannot be extracted counts as an empty line; any\n"
    "other record that cannot be scored stops the command, naming its line.\n"
    "\n"
    "  --spec FILE         JSON spec (docs/spec.md)\n"
    "  --fn NAME           bleu or chrf, with --arg KEY=VALUE arguments\n"
    "  --json              print the detail JSON (sums, settings) instead\n"
    "  --max-line BYTES    longest accepted line (default 16777216)\n"
    "  --budget STEPS      step budget per record (default 200000000)\n"
    "\n"
    "  rewardkit corpus --fn bleu hyps.jsonl\n"
    "  BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)\n"
    "    [3 records; case:mixed|eff:no|tok:13a|smooth:exp]   (one line)\n";

static const char *usage_list =
    "usage: rewardkit list\n\nLists the built-in reward functions.\n";

static const char *usage_validate =
    "usage: rewardkit validate FILE\n\nCompiles a spec; prints it compacted if it is valid,\n"
    "else the first problem with its path inside the spec (exit 3).\n";

/* ------------------------------------------------------------ helpers */

static char *read_all(FILE *f, size_t *n) {
  size_t cap = 1 << 16, len = 0;
  char *p = malloc(cap);
  if (!p) return NULL;
  for (;;) {
    if (len == cap) {
      char *q = realloc(p, cap *= 2);
      if (!q) {
        free(p);
        return NULL;
      }
      p = q;
    }
    size_t k = fread(p + len, 1, cap - len, f);
    len += k;
    if (k == 0) break;
  }
  if (ferror(f)) {
    free(p);
    return NULL;
  }
  *n = len;
  return p;
}

static char *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open '%s': %s\n", prog, path, strerror(errno));
    return NULL;
  }
  char *p = read_all(f, n);
  fclose(f);
  if (!p) fprintf(stderr, "%s: cannot read '%s'\n", prog, path);
  return p;
}

/* Spec sources: a file, or --fn + --arg pairs; plus an advantage override. */
typedef struct spec_src {
  const char *file;
  const char *fn;
  const char **args; /* "key=value" */
  size_t nargs;
  const char *advantage;
} spec_src;

static json_t *arg_value(const char *v) {
  json_error_t e;
  json_t *j = json_loads(v, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
  return j ? j : json_string(v);
}

/* Builds and compiles the spec; exits with a message on failure. */
static rk_spec *load_spec(const spec_src *s) {
  json_t *root = NULL;
  if (s->file) {
    if (s->fn) die_usage("%s", "use either --spec or --fn, not both");
    if (s->nargs) die_usage("%s", "--arg goes with --fn; put arguments in the spec file");
    size_t n = 0;
    char *text = read_file(s->file, &n);
    if (!text) exit(EXIT_RUNTIME);
    if (!s->advantage) {
      char err[1024];
      rk_spec *spec = NULL;
      if (rk_spec_compile(text, n, &spec, err, sizeof err) != RK_OK) {
        fprintf(stderr, "%s: %s: %s\n", prog, s->file, err);
        free(text);
        exit(EXIT_SPEC);
      }
      free(text);
      return spec;
    }
    json_error_t e;
    root = json_loadb(text, n, 0, &e);
    free(text);
    if (!root) {
      fprintf(stderr, "%s: %s: invalid JSON at line %d, column %d: %s\n", prog,
              s->file, e.line, e.column, e.text);
      exit(EXIT_SPEC);
    }
  } else if (s->fn) {
    json_t *leaf = json_object();
    json_object_set_new(leaf, "fn", json_string(s->fn));
    if (s->nargs) {
      json_t *args = json_object();
      for (size_t i = 0; i < s->nargs; i++) {
        const char *eq = strchr(s->args[i], '=');
        if (!eq || eq == s->args[i]) die_usage("--arg '%s': expected KEY=VALUE", s->args[i]);
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - s->args[i]), s->args[i]);
        json_object_set_new(args, key, arg_value(eq + 1));
      }
      json_object_set_new(leaf, "args", args);
    }
    root = json_object();
    json_object_set_new(root, "reward", leaf);
  } else {
    die_usage("%s", "say how to score: --spec FILE or --fn NAME");
  }
  if (s->advantage) {
    if (!json_is_object(root)) {
      fprintf(stderr, "%s: %s: a spec is a JSON object\n", prog, s->file);
      exit(EXIT_SPEC);
    }
    json_t *adv = json_object();
    json_object_set_new(adv, "estimator", json_string(s->advantage));
    json_object_set_new(root, "advantage", adv);
  }
  char *text = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  if (!text) {
    fprintf(stderr, "%s: out of memory\n", prog);
    exit(EXIT_RUNTIME);
  }
  char err[1024];
  rk_spec *spec = NULL;
  if (rk_spec_compile(text, strlen(text), &spec, err, sizeof err) != RK_OK) {
    fprintf(stderr, "%s: %s%s%s\n", prog, s->file ? s->file : "", s->file ? ": " : "", err);
    free(text);
    exit(EXIT_SPEC);
  }
  free(text);
  return spec;
}

static unsigned long long parse_count(const char *flag, const char *v) {
  char *end = NULL;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (errno || !end || *end || v[0] == '-' || v[0] == '\0')
    die_usage("%s expects a non-negative integer", flag);
  return x;
}

/* ------------------------------------------------------------- score */

typedef struct io_state {
  FILE *in, *out;
  /* progress */
  int show;
  double t0;
  uint64_t total_bytes;
  double last;
} io_state;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long read_cb(void *user, char *buf, size_t cap) {
  io_state *s = user;
  size_t k = fread(buf, 1, cap, s->in);
  if (k == 0 && ferror(s->in)) return -1;
  return (long)k;
}

static int write_cb(void *user, const char *p, size_t n) {
  io_state *s = user;
  return fwrite(p, 1, n, s->out) == n ? 0 : -1;
}

static void progress_cb(void *user, uint64_t records, uint64_t bytes) {
  io_state *s = user;
  if (!s->show) return;
  double t = now_s();
  if (t - s->last < 0.2) return;
  s->last = t;
  double dt = t - s->t0 > 1e-9 ? t - s->t0 : 1e-9;
  double rate = (double)records / dt;
  fprintf(stderr, "\r  %llu records  %.0f rec/s  %.1f MB", (unsigned long long)records,
          rate, (double)bytes / 1e6);
  if (s->total_bytes && bytes > 0 && bytes <= s->total_bytes) {
    double frac = (double)bytes / (double)s->total_bytes;
    int width = 24, fill = (int)(frac * width);
    double eta = dt * (1 - frac) / (frac > 1e-9 ? frac : 1e-9);
    fprintf(stderr, "  [%.*s%*s] %3.0f%%  ETA %d:%02d", fill,
            "########################", width - fill, "", frac * 100,
            (int)eta / 60, (int)eta % 60);
  }
  fprintf(stderr, "   ");
  fflush(stderr);
}

static void print_summary(const char *js, double secs, unsigned threads) {
  json_error_t e;
  json_t *s = json_loads(js, 0, &e);
  if (!s) return;
  json_int_t n = json_integer_value(json_object_get(s, "records"));
  json_int_t scored = json_integer_value(json_object_get(s, "scored"));
  fprintf(stderr, "rewardkit: %lld records in %.2f s (%.0f records/s, %u thread%s)\n",
          (long long)n, secs, secs > 0 ? (double)n / secs : 0.0, threads,
          threads == 1 ? "" : "s");
  json_t *mean = json_object_get(s, "reward_mean");
  if (json_is_number(mean))
    fprintf(stderr, "  reward mean %.4f over %lld scored\n", json_number_value(mean),
            (long long)scored);
  else
    fprintf(stderr, "  no record could be scored\n");
  fprintf(stderr, "  status:");
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(s, "status"), k, v) {
    if (json_integer_value(v)) fprintf(stderr, " %s %lld", k, (long long)json_integer_value(v));
  }
  fprintf(stderr, "\n  components:");
  json_object_foreach(json_object_get(s, "components"), k, v) {
    if (json_is_number(v))
      fprintf(stderr, " %s %.4f", k, json_number_value(v));
    else
      fprintf(stderr, " %s -", k);
  }
  fprintf(stderr, "\n  groups %lld, zero-variance %lld",
          (long long)json_integer_value(json_object_get(s, "groups")),
          (long long)json_integer_value(json_object_get(s, "zero_variance_groups")));
  json_t *fg = json_object_get(s, "filtered_groups");
  if (fg)
    fprintf(stderr, ", filtered %lld (records dropped %lld)",
            (long long)json_integer_value(fg),
            (long long)json_integer_value(json_object_get(s, "dropped_records")));
  fprintf(stderr, "\n");
  json_t *m = json_object_get(s, "model");
  if (m) {
#define MI(key) ((long long)json_integer_value(json_object_get(m, key)))
    fprintf(stderr,
            "  model calls: %lld requests (%lld attempts, %lld retries, %lld failed), "
            "%lld cache hits, tokens %lld prompt + %lld completion, waited %.2f s\n",
            MI("requests"), MI("attempts"), MI("retries"), MI("errors"), MI("cache_hits"),
            MI("prompt_tokens"), MI("completion_tokens"),
            json_number_value(json_object_get(m, "wait_ms")) / 1000.0);
#undef MI
  }
  json_decref(s);
}

/* The options `score` and `corpus` share: the spec (--spec, --fn, --arg)
 * and the per-record limits (--max-line, --budget). 1 when argv[*i] was
 * one of them (its value consumed), 0 otherwise. */
static int shared_option(int argc, char **argv, int *i, spec_src *src, rk_score_options *opts) {
  const char *a = argv[*i];
  int spec_opt = !strcmp(a, "--spec") || !strcmp(a, "--fn") || !strcmp(a, "--arg");
  if (!spec_opt && strcmp(a, "--max-line") != 0 && strcmp(a, "--budget") != 0) return 0;
  if (*i + 1 >= argc) die_usage("%s needs a value", a);
  const char *v = argv[++*i];
  if (!strcmp(a, "--spec")) {
    src->file = v;
  } else if (!strcmp(a, "--fn")) {
    src->fn = v;
  } else if (!strcmp(a, "--arg")) {
    src->args[src->nargs++] = v;
  } else if (!strcmp(a, "--max-line")) {
    opts->max_line = (size_t)parse_count(a, v);
    if (!opts->max_line) die_usage("%s", "--max-line must be at least 1");
  } else {
    opts->step_budget = parse_count(a, v);
    if (!opts->step_budget) die_usage("%s", "--budget must be at least 1");
  }
  return 1;
}

static int cmd_score(int argc, char **argv) {
  spec_src src = {0};
  src.args = calloc((size_t)argc + 1, sizeof *src.args);
  rk_score_options opts = {0};
  unsigned threads = 0;
  int quiet = 0;
  const char *in_path = NULL, *out_path = NULL, *summary_path = NULL;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
#define NEED_VALUE() \
  if (i + 1 >= argc) die_usage("%s needs a value", a);
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage_score, stdout);
      free(src.args);
      return EXIT_OK;
    } else if (shared_option(argc, argv, &i, &src, &opts)) {
      continue;
    } else if (!strcmp(a, "--advantage")) {
      NEED_VALUE();
      src.advantage = argv[++i];
    } else if (!strcmp(a, "--threads")) {
      NEED_VALUE();
      unsigned long long t = parse_count(a, argv[++i]);
      if (t < 1 || t > 256) die_usage("%s", "--threads must be between 1 and 256");
      threads = (unsigned)t;
    } else if (!strcmp(a, "--explain")) {
      opts.explain = 1;
    } else if (!strcmp(a, "--timing")) {
      opts.timing = 1;
    } else if (!strcmp(a, "--summary")) {
      NEED_VALUE();
      summary_path = argv[++i];
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      quiet = 1;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      NEED_VALUE();
      out_path = argv[++i];
    } else if (a[0] == '-' && a[1] != '\0') {
      die_usage("unknown option '%s'", a);
    } else if (!in_path) {
      in_path = a;
    } else {
      die_usage("unexpected argument '%s' (one input file at most)", a);
    }
#undef NEED_VALUE
  }
  rk_spec *spec = load_spec(&src);
  free(src.args);

  io_state st = {.in = stdin, .out = stdout};
  if (in_path && strcmp(in_path, "-") != 0) {
    st.in = fopen(in_path, "rb");
    if (!st.in) {
      fprintf(stderr, "%s: cannot open '%s': %s\n", prog, in_path, strerror(errno));
      rk_spec_free(spec);
      return EXIT_RUNTIME;
    }
  }
  struct stat sb;
  if (fstat(fileno(st.in), &sb) == 0 && S_ISREG(sb.st_mode))
    st.total_bytes = (uint64_t)sb.st_size;
  if (out_path && strcmp(out_path, "-") != 0) {
    st.out = fopen(out_path, "wb");
    if (!st.out) {
      fprintf(stderr, "%s: cannot write '%s': %s\n", prog, out_path, strerror(errno));
      rk_spec_free(spec);
      return EXIT_RUNTIME;
    }
  }
  st.show = !quiet && isatty(fileno(stderr));
  st.t0 = st.last = now_s();

  rk_ctx *ctx = NULL;
  rk_ctx_options copts = {.threads = threads};
  rk_err rc = rk_ctx_create(&copts, &ctx);
  if (rc != RK_OK) {
    fprintf(stderr, "%s: cannot start: %s\n", prog, rk_strerror(rc));
    rk_spec_free(spec);
    return EXIT_RUNTIME;
  }
  rk_stream_io io = {.read = read_cb, .read_user = &st, .write = write_cb,
                     .write_user = &st, .progress = progress_cb, .progress_user = &st};
  /* A regular file is mapped: records are then parsed where they lie,
   * without copying the input. Anything else (a pipe, stdin) is read. */
  void *map = MAP_FAILED;
  if (st.total_bytes > 0 && st.total_bytes < ((uint64_t)1 << 46)) {
    map = mmap(NULL, (size_t)st.total_bytes, PROT_READ, MAP_PRIVATE, fileno(st.in), 0);
    if (map != MAP_FAILED) {
      posix_madvise(map, (size_t)st.total_bytes, POSIX_MADV_SEQUENTIAL);
      io.data = map;
      io.data_len = (size_t)st.total_bytes;
    }
  }
  char *summary = NULL;
  size_t summary_len = 0;
  rc = rk_score_stream(ctx, spec, &opts, &io, &summary, &summary_len);
  double secs = now_s() - st.t0;
  if (map != MAP_FAILED) munmap(map, (size_t)st.total_bytes);
  if (st.show) fprintf(stderr, "\r%*s\r", 100, "");
  int code = EXIT_OK;
  if (fflush(st.out) != 0 || ferror(st.out)) {
    fprintf(stderr, "%s: writing the output failed: %s\n", prog, strerror(errno));
    code = EXIT_RUNTIME;
  }
  if (rc != RK_OK) {
    fprintf(stderr, "%s: %s\n", prog, rk_ctx_errmsg(ctx));
    code = EXIT_RUNTIME;
  } else {
    if (!quiet) print_summary(summary, secs, rk_ctx_threads(ctx));
    if (summary_path) {
      FILE *f = fopen(summary_path, "wb");
      if (!f || fwrite(summary, 1, summary_len, f) != summary_len || fputc('\n', f) == EOF) {
        fprintf(stderr, "%s: cannot write summary '%s'\n", prog, summary_path);
        code = EXIT_RUNTIME;
      }
      if (f && fclose(f) != 0) code = EXIT_RUNTIME;
    }
  }
  rk_free(summary);
  rk_ctx_destroy(ctx);
  rk_spec_free(spec);
  if (st.in != stdin) fclose(st.in);
  if (st.out != stdout && fclose(st.out) != 0) code = EXIT_RUNTIME;
  return code;
}

/* ------------------------------------------------------------- check */

static int cmd_check(int argc, char **argv) {
  spec_src src = {0};
  src.args = calloc((size_t)argc + 1, sizeof *src.args);
  const char *pos[3];
  int npos = 0, only_pos = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    /* Answers may start with '-' ("-1", "-\frac12"): anything that is not a
     * known option is positional, and so is everything after "--". */
    int looks_negative = a[0] == '-' && (a[1] == '.' || a[1] == '\\' || (a[1] >= '0' && a[1] <= '9'));
    if (only_pos || looks_negative) {
      if (npos >= 3) die_usage("unexpected argument '%s'", a);
      pos[npos++] = a;
    } else if (!strcmp(a, "--")) {
      only_pos = 1;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage_check, stdout);
      free(src.args);
      return EXIT_OK;
    } else if (!strcmp(a, "--arg") && i + 1 < argc) {
      src.args[src.nargs++] = argv[++i];
    } else if (!strcmp(a, "--spec") && i + 1 < argc) {
      src.file = argv[++i];
    } else if (a[0] == '-' && a[1] != '\0') {
      die_usage("unknown option '%s'", a);
    } else if (npos < 3) {
      pos[npos++] = a;
    } else {
      die_usage("unexpected argument '%s'", a);
    }
  }
  int need = src.file ? 2 : 3;
  if (npos != need) die_usage("%s", src.file ? "expected GOLD RESPONSE" : "expected FN GOLD RESPONSE");
  if (!src.file) src.fn = pos[0];
  const char *gold = pos[need - 2], *resp = pos[need - 1];
  char *resp_buf = NULL;
  if (!strcmp(resp, "-")) {
    size_t n = 0;
    resp_buf = read_all(stdin, &n);
    if (!resp_buf) return EXIT_RUNTIME;
    char *q = realloc(resp_buf, n + 1);
    if (!q) return EXIT_RUNTIME;
    resp_buf = q;
    resp_buf[n] = '\0';
    resp = resp_buf;
  }
  rk_spec *spec = load_spec(&src);
  free(src.args);

  json_t *rec = json_object();
  json_t *ref;
  if (!strncmp(gold, "json:", 5)) {
    json_error_t e;
    ref = json_loads(gold + 5, JSON_DECODE_ANY, &e);
    if (!ref) die_usage("GOLD after json: is not valid JSON: %s", e.text);
  } else {
    ref = json_string(gold);
  }
  if (!ref) die_usage("%s", "GOLD is not valid UTF-8");
  json_t *js_resp = json_string(resp);
  if (!js_resp) die_usage("%s", "RESPONSE is not valid UTF-8");
  json_object_set_new(rec, "reference", ref);
  json_object_set_new(rec, "response", js_resp);
  char *line = json_dumps(rec, JSON_COMPACT);
  json_decref(rec);

  rk_ctx *ctx = NULL;
  rk_ctx_options copts = {.threads = 1};
  if (rk_ctx_create(&copts, &ctx) != RK_OK) return EXIT_RUNTIME;
  rk_score_options opts = {.explain = 1};
  char *out = NULL;
  size_t outlen = 0;
  rk_err rc = rk_score_one(ctx, spec, &opts, line, strlen(line), &out, &outlen);
  free(line);
  int code = EXIT_OK;
  if (rc != RK_OK) {
    fprintf(stderr, "%s: %s\n", prog, rk_ctx_errmsg(ctx));
    code = EXIT_RUNTIME;
  } else {
    json_error_t e;
    json_t *res = json_loadb(out, outlen, 0, &e);
    json_t *reward = json_object_get(res, "reward");
    if (json_is_number(reward))
      printf("reward  %g\n", json_number_value(reward));
    else
      printf("reward  null\n");
    printf("status  %s\n", json_string_value(json_object_get(res, "status")));
    json_t *err = json_object_get(res, "error");
    if (err) printf("error   %s\n", json_string_value(err));
    const char *k;
    json_t *v;
    json_t *expl = json_object_get(res, "explain");
    json_object_foreach(json_object_get(res, "components"), k, v) {
      json_t *why = json_object_get(expl, k);
      if (json_is_number(v))
        printf("  %-14s %-8g %s\n", k, json_number_value(v), why ? json_string_value(why) : "");
      else
        printf("  %-14s %-8s %s\n", k, "null", why ? json_string_value(why) : "");
    }
    json_decref(res);
  }
  rk_free(out);
  free(resp_buf);
  rk_ctx_destroy(ctx);
  rk_spec_free(spec);
  return code;
}

/* ------------------------------------------------------------ corpus */

/* "record K: why" from rk_corpus_score, with K an index into the records
 * handed over, as "line L: why" with L the input line (blank lines are
 * skipped, so the two differ). */
static void print_corpus_error(const char *msg, const size_t *line_of, size_t n) {
  size_t k = 0;
  int used = 0;
  if (sscanf(msg, "record %zu: %n", &k, &used) == 1 && used > 0 && k < n)
    fprintf(stderr, "%s: line %zu: %s\n", prog, line_of[k], msg + used);
  else
    fprintf(stderr, "%s: %s\n", prog, msg);
}

/* The bracket after sacreBLEU's line: records, and the settings in the
 * words of sacreBLEU's signature (case, eff, tok, smooth / nc, nw,
 * space), so that the figure can be matched with sacreBLEU's output. */
static void print_corpus_line(json_t *d) {
  const char *metric = json_string_value(json_object_get(d, "metric"));
  json_int_t n = json_integer_value(json_object_get(d, "records"));
  json_int_t u = json_integer_value(json_object_get(d, "unparseable"));
  const char *cased = json_is_true(json_object_get(d, "lowercase")) ? "lc" : "mixed";
  printf("%s [%lld record%s", json_string_value(json_object_get(d, "text")), (long long)n,
         n == 1 ? "" : "s");
  if (u) printf(", %lld without an extractable answer, scored as empty", (long long)u);
  if (metric && !strcmp(metric, "bleu")) {
    printf("; case:%s|eff:%s|tok:%s|smooth:%s", cased,
           json_is_true(json_object_get(d, "effective_order")) ? "yes" : "no",
           json_string_value(json_object_get(d, "tokenize")),
           json_string_value(json_object_get(d, "smooth")));
    json_t *sv = json_object_get(d, "smooth_value");
    if (json_is_number(sv)) printf("[%g]", json_number_value(sv));
  } else if (metric && !strcmp(metric, "chrf")) {
    printf("; case:%s|eff:%s|nc:%lld|nw:%lld|space:%s", cased,
           json_is_true(json_object_get(d, "eps_smoothing")) ? "no" : "yes",
           (long long)json_integer_value(json_object_get(d, "char_order")),
           (long long)json_integer_value(json_object_get(d, "word_order")),
           json_is_true(json_object_get(d, "whitespace")) ? "yes" : "no");
  }
  printf("]\n");
}

static int cmd_corpus(int argc, char **argv) {
  spec_src src = {0};
  src.args = calloc((size_t)argc + 1, sizeof *src.args);
  rk_score_options opts = {0};
  int as_json = 0;
  const char *in_path = NULL;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage_corpus, stdout);
      free(src.args);
      return EXIT_OK;
    } else if (shared_option(argc, argv, &i, &src, &opts)) {
      continue;
    } else if (!strcmp(a, "--json")) {
      as_json = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      die_usage("unknown option '%s'", a);
    } else if (!in_path) {
      in_path = a;
    } else {
      die_usage("unexpected argument '%s' (one input file at most)", a);
    }
  }
  rk_spec *spec = load_spec(&src);
  free(src.args);

  size_t len = 0;
  char *text = NULL;
  if (in_path && strcmp(in_path, "-") != 0) {
    text = read_file(in_path, &len);
  } else {
    text = read_all(stdin, &len);
    if (!text) fprintf(stderr, "%s: cannot read the standard input\n", prog);
  }
  if (!text) {
    rk_spec_free(spec);
    return EXIT_RUNTIME;
  }
  /* Lines as `score` reads them (engine.c, reader_lines): spaces, tabs
   * and a \r trimmed at the ends, blank lines skipped but counted in line
   * numbers. */
  size_t cap = 1, n = 0;
  for (size_t i = 0; i < len; i++) cap += text[i] == '\n';
  const char **recs = malloc(cap * sizeof *recs);
  size_t *lens = malloc(cap * sizeof *lens), *line_of = malloc(cap * sizeof *line_of);
  if (!recs || !lens || !line_of) {
    fprintf(stderr, "%s: out of memory\n", prog);
    free(text);
    free(recs);
    free(lens);
    free(line_of);
    rk_spec_free(spec);
    return EXIT_RUNTIME;
  }
  size_t line = 0;
  for (size_t i = 0; i < len;) {
    const char *nl = memchr(text + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - text) : len, e = end, b = i;
    line++;
    while (e > b && (text[e - 1] == '\r' || text[e - 1] == ' ' || text[e - 1] == '\t')) e--;
    while (b < e && (text[b] == ' ' || text[b] == '\t')) b++;
    if (b < e) {
      recs[n] = text + b;
      lens[n] = e - b;
      line_of[n++] = line;
    }
    i = end + 1;
  }

  rk_ctx *ctx = NULL;
  rk_ctx_options copts = {.threads = 1};
  rk_err rc = rk_ctx_create(&copts, &ctx);
  int code = EXIT_OK;
  double score = 0;
  char *detail = NULL;
  size_t dlen = 0;
  if (rc != RK_OK) {
    fprintf(stderr, "%s: cannot start: %s\n", prog, rk_strerror(rc));
    code = EXIT_RUNTIME;
  } else if ((rc = rk_corpus_score(ctx, spec, &opts, recs, lens, n, &score, &detail, &dlen)) !=
             RK_OK) {
    print_corpus_error(rk_ctx_errmsg(ctx), line_of, n);
    code = rc == RK_ESPEC ? EXIT_SPEC : EXIT_RUNTIME;
  } else if (as_json) {
    printf("%.*s\n", (int)dlen, detail);
  } else {
    json_error_t e;
    json_t *d = json_loadb(detail, dlen, 0, &e);
    if (d) {
      print_corpus_line(d);
      json_decref(d);
    } else {
      printf("%.*s\n", (int)dlen, detail);
    }
  }
  if (code == EXIT_OK && (fflush(stdout) != 0 || ferror(stdout))) {
    fprintf(stderr, "%s: writing the output failed: %s\n", prog, strerror(errno));
    code = EXIT_RUNTIME;
  }
  rk_free(detail);
  rk_ctx_destroy(ctx);
  rk_spec_free(spec);
  free(recs);
  free(lens);
  free(line_of);
  free(text);
  return code;
}

/* ------------------------------------------------------- list, validate */

static int cmd_list(int argc, char **argv) {
  if (argc > 0 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
    fputs(usage_list, stdout);
    return EXIT_OK;
  }
  if (argc > 0) die_usage("unexpected argument '%s'", argv[0]);
  const char *summary = NULL;
  for (size_t i = 0;; i++) {
    const char *name = rk_fn_name(i, &summary);
    if (!name) break;
    printf("%-16s %s\n", name, summary ? summary : "");
  }
  return EXIT_OK;
}

static int cmd_validate(int argc, char **argv) {
  if (argc != 1) die_usage("%s", "expected one spec FILE");
  if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
    fputs(usage_validate, stdout);
    return EXIT_OK;
  }
  spec_src src = {.file = argv[0]};
  rk_spec *spec = load_spec(&src);
  char *js = NULL;
  size_t n = 0;
  if (rk_spec_json(spec, &js, &n) == RK_OK) printf("%.*s\n", (int)n, js);
  fprintf(stderr, "%s: %s: valid%s\n", prog, argv[0],
          rk_spec_needs_groups(spec) ? " (group post-processing: needs whole groups)" : "");
  rk_free(js);
  rk_spec_free(spec);
  return EXIT_OK;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_main, stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
    printf("rewardkit %s\n", rk_version());
    return EXIT_OK;
  }
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(usage_main, stdout);
    return EXIT_OK;
  }
  if (!strcmp(cmd, "score")) return cmd_score(argc - 2, argv + 2);
  if (!strcmp(cmd, "check")) return cmd_check(argc - 2, argv + 2);
  if (!strcmp(cmd, "corpus")) return cmd_corpus(argc - 2, argv + 2);
  if (!strcmp(cmd, "list")) return cmd_list(argc - 2, argv + 2);
  if (!strcmp(cmd, "serve")) return rk_serve_main(argc - 2, argv + 2);
  if (!strcmp(cmd, "validate")) return cmd_validate(argc - 2, argv + 2);
  die_usage("unknown command '%s'", cmd);
  return EXIT_USAGE;
}
