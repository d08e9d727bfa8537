/*
 * server.c - the HTTP reward server on libmicrohttpd: endpoints, limits,
 * bearer-token auth, Prometheus metrics, spec reload (SIGHUP) and graceful
 * drain (SIGTERM). Scoring goes through the public API only.
 *
 * Threads: libmicrohttpd runs a pool of --threads polling threads; a
 * request is scored on the thread that received it, with a library context
 * borrowed from a free list (one context per concurrent request). The
 * current spec is reference-counted so that a reload never frees a spec a
 * request is still using.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "core/pool.h"
#include "json/json.h"
#include "rewardkit.h"
#include "server/server.h"

/* ------------------------------------------------------------ options */

typedef struct options {
  const char *spec_file;
  const char *fn;
  const char **args;
  size_t nargs;
  const char *bind;
  unsigned port;
  unsigned threads;
  const char *token;
  size_t max_body;
  size_t max_records;
  unsigned max_connections;
  unsigned idle_timeout;
  unsigned deadline_ms;
  const char *response_marker;
  int access_log;
  int quiet;
} options;

/* ----------------------------------------------------------- buffers */

typedef struct sbuf {
  char *p;
  size_t n, cap;
  int oom;
} sbuf;

static void sb_put(sbuf *b, const char *p, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + n + 1) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) {
      b->oom = 1;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *z) { sb_put(b, z, strlen(z)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  if ((size_t)k < sizeof tmp) {
    sb_put(b, tmp, (size_t)k);
    return;
  }
  char *big = malloc((size_t)k + 1);
  if (!big) {
    b->oom = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)k + 1, fmt, ap);
  va_end(ap);
  sb_put(b, big, (size_t)k);
  free(big);
}

/* ------------------------------------------------------- spec, state */

typedef struct spec_ref {
  rk_spec *spec;
  char *json;
  size_t json_len;
  int refs;
} spec_ref;

enum { EP_SCORE, EP_GET_REWARD, EP_HEALTHZ, EP_METRICS, EP_SPEC, EP_OTHER, EP_N };
static const char *const ep_names[EP_N] = {"/v1/score", "/get_reward", "/healthz",
                                           "/metrics", "/v1/spec", "other"};
static const unsigned codes[] = {200, 400, 401, 404, 405, 408, 413, 500, 503};
#define NCODES (sizeof codes / sizeof codes[0])
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5, 5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])
#define MAX_COMP_METRICS 256

typedef struct comp_metric {
  char *name;
  double sum;
  unsigned long long count;
} comp_metric;

typedef struct server {
  options o;
  struct MHD_Daemon *daemon;
  pthread_mutex_t mu;        /* guards everything below */
  spec_ref *cur;
  rk_ctx **free_ctx;
  size_t nfree, capfree;
  int inflight;
  int draining;
  unsigned long long requests[EP_N][NCODES];
  unsigned long long hist[EP_N][NBUCKETS + 1];
  double latency_sum[EP_N];
  unsigned long long records[RK_STATUS_COUNT];
  comp_metric comps[MAX_COMP_METRICS];
  size_t ncomps;
  unsigned long long reloads, reload_failures;
  /* model rewards' calls to inference servers (from batch summaries) */
  unsigned long long model[7];
  double model_wait_ms;
  sbuf spare[8];             /* body buffers kept for reuse */
  size_t nspare;
} server;

static void logf_(server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(server *s, const char *fmt, ...) {
  if (s->o.quiet) return;
  char ts[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s rewardkit serve: ", ts);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* Builds the spec text from --spec or --fn/--arg. Returns malloc'd text or
 * NULL with a message in err. */
static char *spec_text(const options *o, char *err, size_t errcap) {
  if (o->spec_file) {
    FILE *f = fopen(o->spec_file, "rb");
    if (!f) {
      snprintf(err, errcap, "cannot open '%s': %s", o->spec_file, strerror(errno));
      return NULL;
    }
    sbuf b = {0};
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) sb_put(&b, tmp, k);
    int bad = ferror(f);
    fclose(f);
    if (bad || b.oom) {
      free(b.p);
      snprintf(err, errcap, "cannot read '%s'", o->spec_file);
      return NULL;
    }
    if (!b.p) sb_puts(&b, "");
    return b.p;
  }
  json_t *leaf = json_object();
  json_object_set_new(leaf, "fn", json_string(o->fn));
  if (o->nargs) {
    json_t *args = json_object();
    for (size_t i = 0; i < o->nargs; i++) {
      const char *eq = strchr(o->args[i], '=');
      if (!eq || eq == o->args[i]) {
        snprintf(err, errcap, "--arg '%s': expected KEY=VALUE", o->args[i]);
        json_decref(leaf);
        json_decref(args);
        return NULL;
      }
      char key[256];
      snprintf(key, sizeof key, "%.*s", (int)(eq - o->args[i]), o->args[i]);
      json_error_t je;
      json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, &je);
      json_object_set_new(args, key, v ? v : json_string(eq + 1));
    }
    json_object_set_new(leaf, "args", args);
  }
  json_t *root = json_object();
  json_object_set_new(root, "reward", leaf);
  char *text = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  if (!text) snprintf(err, errcap, "out of memory");
  return text;
}

static spec_ref *spec_load(const options *o, char *err, size_t errcap) {
  char *text = spec_text(o, err, errcap);
  if (!text) return NULL;
  spec_ref *r = calloc(1, sizeof *r);
  if (!r) {
    free(text);
    snprintf(err, errcap, "out of memory");
    return NULL;
  }
  if (rk_spec_compile(text, strlen(text), &r->spec, err, errcap) != RK_OK ||
      rk_spec_json(r->spec, &r->json, &r->json_len) != RK_OK) {
    rk_spec_free(r->spec);
    free(text);
    free(r);
    return NULL;
  }
  free(text);
  r->refs = 1;
  return r;
}

static void spec_unref(server *s, spec_ref *r) {
  pthread_mutex_lock(&s->mu);
  int last = --r->refs == 0;
  pthread_mutex_unlock(&s->mu);
  if (last) {
    rk_spec_free(r->spec);
    rk_free(r->json);
    free(r);
  }
}

static spec_ref *spec_acquire(server *s) {
  pthread_mutex_lock(&s->mu);
  spec_ref *r = s->cur;
  r->refs++;
  pthread_mutex_unlock(&s->mu);
  return r;
}

static rk_ctx *ctx_take(server *s) {
  pthread_mutex_lock(&s->mu);
  rk_ctx *c = s->nfree ? s->free_ctx[--s->nfree] : NULL;
  pthread_mutex_unlock(&s->mu);
  if (c) return c;
  rk_ctx_options co = {.threads = 1};
  if (rk_ctx_create(&co, &c) != RK_OK) return NULL;
  return c;
}

static void ctx_give(server *s, rk_ctx *c) {
  pthread_mutex_lock(&s->mu);
  if (s->nfree == s->capfree) {
    size_t cap = s->capfree ? s->capfree * 2 : 16;
    rk_ctx **p = realloc(s->free_ctx, cap * sizeof *p);
    if (!p) {
      pthread_mutex_unlock(&s->mu);
      rk_ctx_destroy(c);
      return;
    }
    s->free_ctx = p;
    s->capfree = cap;
  }
  s->free_ctx[s->nfree++] = c;
  pthread_mutex_unlock(&s->mu);
}

/* ----------------------------------------------------------- parsing */

static size_t skip_ws(const char *p, size_t n, size_t i) {
  while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) i++;
  return i;
}

long rk_server_split_array(const char *p, size_t n, const char **starts, size_t *lens,
                           size_t cap, size_t *err_at, const char **err) {
  size_t i = skip_ws(p, n, 0);
  long count = 0;
  if (i >= n || p[i] != '[') {
    *err_at = i;
    *err = "expected a JSON array of records or JSON lines";
    return -1;
  }
  i = skip_ws(p, n, i + 1);
  if (i < n && p[i] == ']') {
    i = skip_ws(p, n, i + 1);
    if (i != n) {
      *err_at = i;
      *err = "unexpected text after the array";
      return -1;
    }
    return 0;
  }
  for (;;) {
    size_t start = i;
    int depth = 0;
    /* One element: up to a ',' or ']' at depth 0, strings skipped. */
    while (i < n) {
      char ch = p[i];
      if (ch == '"') {
        /* Skip the string: the next quote not escaped by an odd run of
         * backslashes (memchr keeps this at memory speed on long texts). */
        size_t j = i + 1;
        for (;;) {
          const char *q = j < n ? memchr(p + j, '"', n - j) : NULL;
          if (!q) {
            j = n;
            break;
          }
          size_t k = (size_t)(q - p), bs = 0;
          while (k - bs > i + 1 && p[k - bs - 1] == '\\') bs++;
          j = k + 1;
          if (bs % 2 == 0) break;
        }
        if (j > n || (j == n && (n == 0 || p[n - 1] != '"'))) {
          i = n;
          break;
        }
        i = j;
        continue;
      }
      if (ch == '{' || ch == '[') {
        if (++depth > 512) {
          *err_at = i;
          *err = "nesting deeper than 512";
          return -1;
        }
      } else if (ch == '}' || ch == ']') {
        if (depth == 0) break;
        depth--;
      } else if (ch == ',' && depth == 0) {
        break;
      }
      i++;
    }
    if (i >= n) {
      *err_at = n;
      *err = "the array is not closed (truncated body?)";
      return -1;
    }
    size_t end = i;
    while (end > start && (p[end - 1] == ' ' || p[end - 1] == '\t' || p[end - 1] == '\n' ||
                           p[end - 1] == '\r'))
      end--;
    if (end == start) {
      *err_at = i;
      *err = "empty element in the array";
      return -1;
    }
    if ((size_t)count < cap) {
      starts[count] = p + start;
      lens[count] = end - start;
    }
    count++;
    if (p[i] == ']') {
      i = skip_ws(p, n, i + 1);
      if (i != n) {
        *err_at = i;
        *err = "unexpected text after the array";
        return -1;
      }
      return count;
    }
    i = skip_ws(p, n, i + 1); /* after ',' */
  }
}

static const char *const eos_tokens[] = {"<|im_end|>", "<|endoftext|>", "</s>", "<|eot_id|>",
                                         "<|end_of_text|>", "<eos>", "<|end|>", NULL};

void rk_server_cut_response(const char *q, size_t qn, const char *prompt, size_t pn,
                            const char *marker, const char **out, size_t *outn) {
  const char *r = q;
  size_t rn = qn;
  if (pn && qn >= pn && memcmp(q, prompt, pn) == 0) {
    r = q + pn;
    rn = qn - pn;
  } else if (marker && *marker) {
    size_t mn = strlen(marker);
    const char *last = NULL;
    for (const char *s = q; (s = memmem(s, (size_t)(q + qn - s), marker, mn)); s += 1) last = s;
    if (last) {
      r = last + mn;
      rn = (size_t)(q + qn - r);
    }
  }
  int changed = 1;
  while (changed) {
    changed = 0;
    while (rn && (r[rn - 1] == ' ' || r[rn - 1] == '\n' || r[rn - 1] == '\t' ||
                  r[rn - 1] == '\r'))
      rn--;
    for (const char *const *t = eos_tokens; *t; t++) {
      size_t tn = strlen(*t);
      if (rn >= tn && memcmp(r + rn - tn, *t, tn) == 0) {
        rn -= tn;
        changed = 1;
      }
    }
  }
  while (rn && (*r == ' ' || *r == '\n' || *r == '\t' || *r == '\r')) {
    r++;
    rn--;
  }
  *out = r;
  *outn = rn;
}

/* ---------------------------------------------------------- requests */

typedef struct request {
  double t0;
  int endpoint;
  sbuf body;
  int too_big;
  unsigned long long records;
} request;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int code_index(unsigned code) {
  for (size_t i = 0; i < NCODES; i++)
    if (codes[i] == code) return (int)i;
  return (int)NCODES - 2; /* counted as 500 */
}

static enum MHD_Result respond(server *s, struct MHD_Connection *c, request *rq,
                               unsigned code, const char *type, char *body, size_t n) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", type);
  if (code == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
  enum MHD_Result ret = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  double dt = now_s() - rq->t0;
  pthread_mutex_lock(&s->mu);
  s->requests[rq->endpoint][code_index(code)]++;
  size_t b = 0;
  while (b < NBUCKETS && dt > buckets[b]) b++;
  s->hist[rq->endpoint][b]++;
  s->latency_sum[rq->endpoint] += dt;
  pthread_mutex_unlock(&s->mu);
  if (s->o.access_log) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[64] = "-";
    if (ci && ci->client_addr)
      getnameinfo(ci->client_addr, sizeof(struct sockaddr_storage), host, sizeof host, NULL, 0,
                  NI_NUMERICHOST);
    fprintf(stderr,
            "{\"ts\":%.3f,\"client\":\"%s\",\"endpoint\":\"%s\",\"code\":%u,\"ms\":%.3f,"
            "\"bytes_in\":%zu,\"records\":%llu}\n",
            wall_s(), host, ep_names[rq->endpoint], code, dt * 1000, rq->body.n,
            rq->records);
  }
  return ret;
}

static enum MHD_Result respond_json_error(server *s, struct MHD_Connection *c, request *rq,
                                          unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result respond_json_error(server *s, struct MHD_Connection *c, request *rq,
                                          unsigned code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_t *j = json_pack("{s:s,s:i}", "error", msg, "code", (int)code);
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (!text) return MHD_NO;
  size_t n = strlen(text);
  return respond(s, c, rq, code, "application/json", text, n);
}

/* Constant-time comparison: the time depends only on the token's length. */
static int token_ok(const char *want, const char *header) {
  if (!header || strncmp(header, "Bearer ", 7) != 0) return 0;
  const char *got = header + 7;
  size_t wn = strlen(want), gn = strlen(got);
  unsigned char diff = (unsigned char)(wn != gn);
  for (size_t i = 0; i < wn; i++) diff |= (unsigned char)(want[i] ^ (i < gn ? got[i] : 0));
  return diff == 0;
}

static const char *const model_keys[7] = {"requests", "attempts", "retries", "errors",
                                          "cache_hits", "prompt_tokens", "completion_tokens"};

/* Adds a batch summary's "model" object (engine.c writes it in this exact
 * form) to the server's counters. */
static void count_model(server *s, const rk_batch *b) {
  size_t n = 0;
  const char *sum = b ? rk_batch_summary(b, &n) : NULL;
  const char *m = sum ? strstr(sum, "\"model\":{") : NULL;
  unsigned long long v[7];
  double w;
  if (!m || sscanf(m, "\"model\":{\"requests\":%llu,\"attempts\":%llu,\"retries\":%llu,"
                      "\"errors\":%llu,\"cache_hits\":%llu,\"prompt_tokens\":%llu,"
                      "\"completion_tokens\":%llu,\"wait_ms\":%lf",
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &w) != 8)
    return;
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < 7; i++) s->model[i] += v[i];
  s->model_wait_ms += w;
  pthread_mutex_unlock(&s->mu);
}

static void count_results(server *s, const spec_ref *sr, const double *table, size_t n,
                          size_t ncol) {
  size_t ncomp = ncol - 4;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < n; i++) {
    const double *row = table + i * ncol;
    int st = (int)row[1];
    if (st >= 0 && st < RK_STATUS_COUNT) s->records[st]++;
    for (size_t k = 0; k < ncomp; k++) {
      if (isnan(row[4 + k])) continue;
      const char *name = rk_spec_component(sr->spec, k);
      size_t m;
      for (m = 0; m < s->ncomps; m++)
        if (strcmp(s->comps[m].name, name) == 0) break;
      if (m == s->ncomps) {
        if (m == MAX_COMP_METRICS) continue;
        s->comps[m].name = strdup(name);
        if (!s->comps[m].name) continue;
        s->ncomps++;
      }
      s->comps[m].sum += row[4 + k];
      s->comps[m].count++;
    }
  }
  pthread_mutex_unlock(&s->mu);
}

/* Scores n records (resps: responses given apart, or NULL; see
 * rk_score_batch_responses); on success returns the batch and the numeric
 * table. */
static rk_batch *score_records(server *s, spec_ref *sr, const char **recs, const size_t *lens,
                               const char *const *resps, const size_t *resp_lens, size_t n,
                               double **table, char *err, size_t errcap) {
  rk_ctx *ctx = ctx_take(s);
  if (!ctx) {
    snprintf(err, errcap, "cannot create a scoring context");
    return NULL;
  }
  rk_score_options so = {.results_only = 1};
  rk_batch *b = NULL;
  rk_err rc = rk_score_batch_responses(ctx, sr->spec, &so, recs, lens, resps, resp_lens, n, &b);
  if (rc != RK_OK) snprintf(err, errcap, "%s", rk_ctx_errmsg(ctx));
  ctx_give(s, ctx);
  if (rc != RK_OK) return NULL;
  size_t ncol = 4 + rk_spec_ncomponents(sr->spec);
  size_t cnt = rk_batch_count(b);
  *table = malloc((cnt ? cnt : 1) * ncol * sizeof **table);
  if (!*table || rk_batch_table(b, *table, cnt * ncol) != RK_OK) {
    free(*table);
    rk_batch_free(b);
    snprintf(err, errcap, "out of memory");
    return NULL;
  }
  count_results(s, sr, *table, cnt, ncol);
  count_model(s, b);
  return b;
}

static enum MHD_Result handle_score(server *s, struct MHD_Connection *c, request *rq) {
  const char *p = rq->body.p ? rq->body.p : "";
  size_t n = rq->body.n;
  size_t i = skip_ws(p, n, 0);
  const char **starts = NULL;
  size_t *lens = NULL, count = 0;
  if (i < n && p[i] == '[') {
    size_t err_at = 0;
    const char *err = NULL;
    /* One pass fills up to 256 spans; a bigger batch takes a second pass
     * into arrays of the size the first one counted. */
    size_t cap = 256;
    starts = malloc(cap * sizeof *starts);
    lens = malloc(cap * sizeof *lens);
    long k = starts && lens ? rk_server_split_array(p, n, starts, lens, cap, &err_at, &err) : 0;
    if (k > 0 && (size_t)k > cap && (size_t)k <= s->o.max_records) {
      free(starts);
      free(lens);
      cap = (size_t)k;
      starts = malloc(cap * sizeof *starts);
      lens = malloc(cap * sizeof *lens);
      if (starts && lens) rk_server_split_array(p, n, starts, lens, cap, &err_at, &err);
    }
    if (!starts || !lens) {
      free(starts);
      free(lens);
      return respond_json_error(s, c, rq, 500, "out of memory");
    }
    if (k < 0 || (size_t)k > s->o.max_records) {
      free(starts);
      free(lens);
      if (k < 0)
        return respond_json_error(s, c, rq, 400, "bad request body at byte %zu: %s", err_at,
                                  err);
      return respond_json_error(s, c, rq, 413, "%zu records; the limit is %zu (--max-records)",
                                (size_t)k, s->o.max_records);
    }
    count = (size_t)k;
  } else {
    /* JSON lines: non-blank lines are records. */
    size_t cap = 64;
    starts = malloc(cap * sizeof *starts);
    lens = malloc(cap * sizeof *lens);
    size_t pos = 0;
    while (starts && lens && pos < n) {
      const char *nl = memchr(p + pos, '\n', n - pos);
      size_t end = nl ? (size_t)(nl - p) : n;
      size_t a = skip_ws(p, end, pos), e = end;
      while (e > a && (p[e - 1] == ' ' || p[e - 1] == '\r' || p[e - 1] == '\t')) e--;
      if (e > a) {
        if (count == s->o.max_records) {
          free(starts);
          free(lens);
          return respond_json_error(s, c, rq, 413, "more than %zu records (--max-records)",
                                    s->o.max_records);
        }
        if (count == cap) {
          cap *= 2;
          const char **ns = realloc(starts, cap * sizeof *ns);
          if (ns) starts = ns;
          size_t *nl2 = realloc(lens, cap * sizeof *nl2);
          if (nl2) lens = nl2;
          if (!ns || !nl2) break;
        }
        starts[count] = p + a;
        lens[count] = e - a;
        count++;
      }
      pos = end + 1;
    }
    if (!starts || !lens || count == 0) {
      free(starts);
      free(lens);
      if (count == 0 && n > 0 && skip_ws(p, n, 0) < n)
        return respond_json_error(s, c, rq, 500, "out of memory");
      return respond_json_error(s, c, rq, 400,
                                "empty body: send a JSON array of records or JSON lines");
    }
  }
  rq->records = count;
  spec_ref *sr = spec_acquire(s);
  double *table = NULL;
  char err[512];
  rk_batch *b = count ? score_records(s, sr, starts, lens, NULL, NULL, count, &table, err,
                                      sizeof err)
                      : NULL;
  free(starts);
  free(lens);
  if (count && !b) {
    spec_unref(s, sr);
    return respond_json_error(s, c, rq, 500, "scoring failed: %s", err);
  }
  sbuf out = {0};
  sb_puts(&out, "{\"results\":[");
  size_t cnt = b ? rk_batch_count(b) : 0;
  for (size_t k = 0; k < cnt; k++) {
    size_t ln = 0;
    const char *line = rk_batch_line(b, k, &ln);
    if (k) sb_put(&out, ",", 1);
    sb_put(&out, line, ln);
  }
  sb_puts(&out, "],\"summary\":");
  size_t sn = 0;
  const char *sum = b ? rk_batch_summary(b, &sn) : "{\"records\":0}";
  sb_put(&out, sum, b ? sn : strlen(sum));
  sb_puts(&out, "}");
  rk_batch_free(b);
  free(table);
  spec_unref(s, sr);
  if (out.oom) {
    free(out.p);
    return respond_json_error(s, c, rq, 500, "out of memory");
  }
  return respond(s, c, rq, 200, "application/json", out.p, out.n);
}

/* A number as OpenRLHF's client reads it: always with a fraction or an
 * exponent ("2.0", not "2"), so the rewards decode as floats. */
static void put_real(sbuf *b, double v) {
  char t[40];
  size_t n = rk__fmt_double(t, v);
  if (!memchr(t, '.', n) && !memchr(t, 'e', n)) {
    memcpy(t + n, ".0", 2);
    n += 2;
  }
  sb_put(b, t, n);
}

void rk_server_samples_free(rk_server_samples *s) {
  if (!s) return;
  free(s->text);
  free(s->off);
  free(s->resp);
  free(s->resp_len);
  if (s->mem) rk__arena_release(s->mem);
  free(s->mem);
  memset(s, 0, sizeof *s);
}

int rk_server_openrlhf_records(const char *body, size_t len, const char *marker,
                               size_t max_records, rk_server_samples *out, char *msg,
                               size_t msgcap) {
  memset(out, 0, sizeof *out);
  rk__arena *a = malloc(sizeof *a);
  if (!a) {
    snprintf(msg, msgcap, "out of memory");
    return 500;
  }
  rk__arena_init(a, RK__ARENA_DEFAULT_LIMIT);
  out->mem = a;
  rk__jval *root = NULL;
  rk__json_error je;
  int rc = rk__json_parse(body, len, a, NULL, &root, &je);
  const rk__jval *query = NULL, *prompts = NULL, *labels = NULL;
  if (rc == -2) {
    snprintf(msg, msgcap, "out of memory");
    rc = 500;
  } else if (rc != 0) {
    snprintf(msg, msgcap, "invalid JSON at line %zu, column %zu: %s", je.line, je.column,
             je.msg);
    rc = 400;
  } else if (root->type != RK__JOBJ) {
    snprintf(msg, msgcap, "expected a JSON object {\"query\": [...], ...}");
    rc = 400;
  } else if (!(query = rk__json_get(root, "query")) || query->type != RK__JARR) {
    snprintf(msg, msgcap, "'query' must be an array of strings");
    rc = 400;
  } else if (query->u.arr.n > max_records) {
    snprintf(msg, msgcap, "%zu queries; the limit is %zu (--max-records)", query->u.arr.n,
             max_records);
    rc = 413;
  }
  if (rc) goto fail;
  size_t n = query->u.arr.n;
  prompts = rk__json_get(root, "prompts");
  labels = rk__json_get(root, "labels");
  if (prompts && prompts->type == RK__JNULL) prompts = NULL;
  if (labels && labels->type == RK__JNULL) labels = NULL;
  if ((prompts && (prompts->type != RK__JARR || prompts->u.arr.n != n)) ||
      (labels && (labels->type != RK__JARR || labels->u.arr.n != n))) {
    snprintf(msg, msgcap, "'prompts' and 'labels' must be arrays as long as 'query' (%zu)", n);
    rc = 400;
    goto fail;
  }
  rk__buf t;
  rk__buf_init(&t, 0);
  out->off = malloc((n + 1) * sizeof *out->off);
  out->resp = calloc(n ? n : 1, sizeof *out->resp);
  out->resp_len = calloc(n ? n : 1, sizeof *out->resp_len);
  for (size_t i = 0; out->off && out->resp && out->resp_len && i < n; i++) {
    const rk__jval *q = &query->u.arr.items[i];
    const rk__jval *pr = prompts ? &prompts->u.arr.items[i] : NULL;
    const rk__jval *l = labels ? &labels->u.arr.items[i] : NULL;
    out->off[i] = t.n;
    if (q->type == RK__JSTR) {
      int ps = pr && pr->type == RK__JSTR;
      rk_server_cut_response(q->u.str.p, q->u.str.n, ps ? pr->u.str.p : "",
                             ps ? pr->u.str.n : 0, marker, &out->resp[i], &out->resp_len[i]);
    }
    char sep = '{';
    if (pr) {
      rk__buf_puts(&t, "{\"prompt\":");
      rk__json_put_val(&t, pr);
      sep = ',';
    }
    if (l && l->type != RK__JNULL) {
      rk__buf_putc(&t, sep);
      rk__buf_puts(&t, "\"reference\":");
      rk__json_put_val(&t, l);
      sep = ',';
    }
    rk__buf_puts(&t, sep == '{' ? "{}" : "}");
  }
  if (!out->off || !out->resp || !out->resp_len || t.oom) {
    rk__buf_release(&t);
    snprintf(msg, msgcap, "out of memory");
    rc = 500;
    goto fail;
  }
  out->off[n] = t.n;
  size_t tn = 0;
  out->text = rk__buf_take(&t, &tn);
  out->n = n;
  return 0;
fail:
  rk_server_samples_free(out);
  return rc;
}

/* OpenRLHF: {"query": [...], "prompts": [...], "labels": [...]}, read with
 * the library's JSON reader (jansson, at ~75 MB/s, was most of the cost of
 * a request); the samples are scored like /v1/score records. */
static enum MHD_Result handle_get_reward(server *s, struct MHD_Connection *c, request *rq) {
  char msg[512];
  rk_server_samples sm;
  int code = rk_server_openrlhf_records(rq->body.p ? rq->body.p : "", rq->body.n,
                                        s->o.response_marker, s->o.max_records, &sm, msg,
                                        sizeof msg);
  if (code) return respond_json_error(s, c, rq, (unsigned)code, "%s", msg);
  size_t n = sm.n;
  const char **recs = malloc((n ? n : 1) * sizeof *recs);
  size_t *lens = malloc((n ? n : 1) * sizeof *lens);
  if (!recs || !lens) {
    free(recs);
    free(lens);
    rk_server_samples_free(&sm);
    return respond_json_error(s, c, rq, 500, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    recs[i] = sm.text + sm.off[i];
    lens[i] = sm.off[i + 1] - sm.off[i];
  }
  rq->records = n;
  spec_ref *sr = spec_acquire(s);
  double *table = NULL;
  char err[512];
  rk_batch *b =
      n ? score_records(s, sr, recs, lens, sm.resp, sm.resp_len, n, &table, err, sizeof err)
        : NULL;
  free(recs);
  free(lens);
  rk_server_samples_free(&sm);
  if (n && !b) {
    spec_unref(s, sr);
    return respond_json_error(s, c, rq, 500, "scoring failed: %s", err);
  }
  /* A null reward cannot travel as a number: it is sent as 0.0, with
   * extra_logs.rk_valid = 0 for that sample. */
  size_t ncomp = rk_spec_ncomponents(sr->spec), ncol = 4 + ncomp;
  size_t cnt = b ? rk_batch_count(b) : 0;
  sbuf out = {0}, col = {0};
  sb_puts(&col, "[");
  for (size_t i = 0; i < cnt; i++) {
    if (i) sb_put(&col, ",", 1);
    double r = table[i * ncol];
    put_real(&col, isnan(r) ? 0.0 : r);
  }
  sb_puts(&col, "]");
  sb_puts(&out, "{\"rewards\":");
  sb_put(&out, col.p, col.n);
  sb_puts(&out, ",\"scores\":");
  sb_put(&out, col.p, col.n);
  sb_puts(&out, ",\"extra_logs\":{");
  for (size_t k = 0; k <= ncomp; k++) {
    /* Components in spec order, then rk_valid. */
    const char *name = k < ncomp ? rk_spec_component(sr->spec, k) : "rk_valid";
    rk__buf kb;
    rk__buf_init(&kb, 0);
    rk__json_put_str(&kb, name, strlen(name));
    if (k) sb_put(&out, ",", 1);
    sb_put(&out, kb.oom ? "\"?\"" : kb.p, kb.oom ? 3 : kb.n);
    rk__buf_release(&kb);
    sb_puts(&out, ":[");
    for (size_t i = 0; i < cnt; i++) {
      if (i) sb_put(&out, ",", 1);
      const double *row = table + i * ncol;
      double v = k < ncomp ? row[4 + k] : !isnan(row[0]);
      put_real(&out, isnan(v) ? 0.0 : v);
    }
    sb_puts(&out, "]");
  }
  sb_puts(&out, "}}");
  free(col.p);
  rk_batch_free(b);
  free(table);
  spec_unref(s, sr);
  if (out.oom || col.oom) {
    free(out.p);
    return respond_json_error(s, c, rq, 500, "out of memory");
  }
  return respond(s, c, rq, 200, "application/json", out.p, out.n);
}

static enum MHD_Result handle_metrics(server *s, struct MHD_Connection *c, request *rq) {
  sbuf m = {0};
  pthread_mutex_lock(&s->mu);
  sb_puts(&m, "# HELP rewardkit_requests_total HTTP requests by endpoint and status code.\n"
              "# TYPE rewardkit_requests_total counter\n");
  for (int e = 0; e < EP_N; e++)
    for (size_t k = 0; k < NCODES; k++)
      if (s->requests[e][k])
        sb_printf(&m, "rewardkit_requests_total{endpoint=\"%s\",code=\"%u\"} %llu\n",
                  ep_names[e], codes[k], s->requests[e][k]);
  sb_puts(&m, "# HELP rewardkit_request_seconds Request latency.\n"
              "# TYPE rewardkit_request_seconds histogram\n");
  for (int e = 0; e < EP_N; e++) {
    unsigned long long cum = 0, total = 0;
    for (size_t b = 0; b <= NBUCKETS; b++) total += s->hist[e][b];
    if (!total) continue;
    for (size_t b = 0; b < NBUCKETS; b++) {
      cum += s->hist[e][b];
      sb_printf(&m, "rewardkit_request_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
                ep_names[e], buckets[b], cum);
    }
    sb_printf(&m, "rewardkit_request_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n",
              ep_names[e], total);
    sb_printf(&m, "rewardkit_request_seconds_sum{endpoint=\"%s\"} %.6f\n", ep_names[e],
              s->latency_sum[e]);
    sb_printf(&m, "rewardkit_request_seconds_count{endpoint=\"%s\"} %llu\n", ep_names[e],
              total);
  }
  sb_puts(&m, "# HELP rewardkit_records_total Records scored, by status.\n"
              "# TYPE rewardkit_records_total counter\n");
  for (int k = 0; k < RK_STATUS_COUNT; k++)
    sb_printf(&m, "rewardkit_records_total{status=\"%s\"} %llu\n",
              rk_status_name((rk_status)k), s->records[k]);
  sb_puts(&m, "# HELP rewardkit_component_mean Mean of each component since start.\n"
              "# TYPE rewardkit_component_mean gauge\n");
  for (size_t k = 0; k < s->ncomps; k++)
    sb_printf(&m, "rewardkit_component_mean{component=\"%s\"} %.17g\n", s->comps[k].name,
              s->comps[k].count ? s->comps[k].sum / (double)s->comps[k].count : 0.0);
  sb_puts(&m, "# HELP rewardkit_model_total Calls of model rewards to inference servers "
              "(requests, attempts, retries, errors, cache hits, tokens).\n"
              "# TYPE rewardkit_model_total counter\n");
  for (int i = 0; i < 7; i++)
    sb_printf(&m, "rewardkit_model_total{what=\"%s\"} %llu\n", model_keys[i], s->model[i]);
  sb_printf(&m, "# TYPE rewardkit_model_wait_seconds_total counter\n"
                "rewardkit_model_wait_seconds_total %.3f\n", s->model_wait_ms / 1000.0);
  sb_printf(&m, "# TYPE rewardkit_spec_reloads_total counter\n"
                "rewardkit_spec_reloads_total{result=\"ok\"} %llu\n"
                "rewardkit_spec_reloads_total{result=\"failed\"} %llu\n"
                "# TYPE rewardkit_inflight_requests gauge\nrewardkit_inflight_requests %d\n",
            s->reloads, s->reload_failures, s->inflight);
  pthread_mutex_unlock(&s->mu);
  if (m.oom) {
    free(m.p);
    return respond_json_error(s, c, rq, 500, "out of memory");
  }
  return respond(s, c, rq, 200, "text/plain; version=0.0.4", m.p, m.n);
}

static int endpoint_of(const char *url) {
  for (int e = 0; e < EP_OTHER; e++)
    if (strcmp(url, ep_names[e]) == 0) return e;
  return EP_OTHER;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version,
                               const char *upload, size_t *upload_size, void **con_cls) {
  server *s = cls;
  (void)version;
  request *rq = *con_cls;
  if (!rq) {
    rq = calloc(1, sizeof *rq);
    if (!rq) return MHD_NO;
    rq->t0 = now_s();
    rq->endpoint = endpoint_of(url);
    *con_cls = rq;
    pthread_mutex_lock(&s->mu);
    s->inflight++;
    pthread_mutex_unlock(&s->mu);
    /* Refuse oversized bodies before reading them. */
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    unsigned long long want = 0;
    if (cl) {
      char *end = NULL;
      unsigned long long v = strtoull(cl, &end, 10);
      if (end && *end == '\0' && v > s->o.max_body) rq->too_big = 1;
      else if (end && *end == '\0') want = v;
    }
    /* Reuse a body buffer from an earlier request (no fresh pages, no
     * regrowth), sized from Content-Length when there is one. */
    pthread_mutex_lock(&s->mu);
    if (s->nspare) rq->body = s->spare[--s->nspare];
    pthread_mutex_unlock(&s->mu);
    rq->body.n = 0;
    if (!rq->too_big && want + 1 > rq->body.cap) {
      char *q = realloc(rq->body.p, (size_t)want + 1);
      if (q) {
        rq->body.p = q;
        rq->body.cap = (size_t)want + 1;
      }
    }
    if (!rq->too_big) return MHD_YES;
  }
  if (*upload_size) {
    if (!rq->too_big && rq->body.n + *upload_size > s->o.max_body) rq->too_big = 1;
    if (!rq->too_big) {
      sb_put(&rq->body, upload, *upload_size);
      if (rq->body.oom) rq->too_big = 1;
    }
    *upload_size = 0;
    if (s->o.deadline_ms && (now_s() - rq->t0) * 1000 > s->o.deadline_ms) {
      /* A response cannot be queued in the middle of a body: the slow
       * client is disconnected, and counted as a 408. */
      pthread_mutex_lock(&s->mu);
      s->requests[rq->endpoint][code_index(408)]++;
      pthread_mutex_unlock(&s->mu);
      logf_(s, "closed a connection whose request body took over %u ms (--deadline)",
            s->o.deadline_ms);
      return MHD_NO;
    }
    return MHD_YES;
  }
  if (rq->too_big)
    return respond_json_error(s, c, rq, 413, "request body over %zu bytes (--max-body)",
                              s->o.max_body);
  int ep = rq->endpoint;
  if (ep != EP_HEALTHZ && s->o.token &&
      !token_ok(s->o.token,
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization")))
    return respond_json_error(s, c, rq, 401, "missing or wrong bearer token");
  int is_get = strcmp(method, "GET") == 0, is_post = strcmp(method, "POST") == 0;
  switch (ep) {
    case EP_SCORE:
      if (!is_post) break;
      return handle_score(s, c, rq);
    case EP_GET_REWARD:
      if (!is_post) break;
      return handle_get_reward(s, c, rq);
    case EP_HEALTHZ:
      if (!is_get) break;
      {
        pthread_mutex_lock(&s->mu);
        int draining = s->draining;
        pthread_mutex_unlock(&s->mu);
        char *ok = strdup(draining ? "{\"status\":\"draining\"}" : "{\"status\":\"ok\"}");
        if (!ok) return MHD_NO;
        return respond(s, c, rq, draining ? 503 : 200, "application/json", ok, strlen(ok));
      }
    case EP_METRICS:
      if (!is_get) break;
      return handle_metrics(s, c, rq);
    case EP_SPEC:
      if (!is_get) break;
      {
        spec_ref *sr = spec_acquire(s);
        char *js = malloc(sr->json_len + 1);
        if (js) memcpy(js, sr->json, sr->json_len + 1);
        size_t n = sr->json_len;
        spec_unref(s, sr);
        if (!js) return respond_json_error(s, c, rq, 500, "out of memory");
        return respond(s, c, rq, 200, "application/json", js, n);
      }
    default:
      return respond_json_error(s, c, rq, 404,
                                "no such endpoint '%.100s' (POST /v1/score, POST /get_reward, "
                                "GET /healthz, GET /metrics, GET /v1/spec)",
                                url);
  }
  return respond_json_error(s, c, rq, 405, "%s is not allowed on %s", method, ep_names[ep]);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
  server *s = cls;
  (void)c;
  (void)toe;
  request *rq = *con_cls;
  if (!rq) return;
  /* Keep the body buffer for the next request, up to 8 of them and
   * 64 MiB each; a buffer's pages then stay mapped. */
  pthread_mutex_lock(&s->mu);
  if (s->nspare < 8 && rq->body.cap <= ((size_t)64 << 20) && !rq->body.oom && rq->body.p) {
    s->spare[s->nspare++] = rq->body;
    rq->body.p = NULL;
  }
  pthread_mutex_unlock(&s->mu);
  free(rq->body.p);
  free(rq);
  *con_cls = NULL;
  pthread_mutex_lock(&s->mu);
  s->inflight--;
  pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------ main */

static const char *usage_serve =
    "usage: rewardkit serve [--spec FILE | --fn NAME [--arg KEY=VALUE]...]\n"
    "                       [--bind ADDR] [--port N] [--threads N]\n"
    "                       [--token T | --token-file F] [--max-body BYTES]\n"
    "                       [--max-records N] [--max-connections N]\n"
    "                       [--idle-timeout S] [--deadline MS]\n"
    "                       [--response-marker TEXT] [--access-log] [--quiet]\n"
    "\n"
    "HTTP reward server (docs/server.md):\n"
    "  POST /v1/score     records as a JSON array or JSON lines -> results\n"
    "  POST /get_reward   OpenRLHF {query, prompts, labels} -> {rewards, scores, extra_logs}\n"
    "  GET  /healthz      liveness (never needs the token)\n"
    "  GET  /metrics      Prometheus text\n"
    "  GET  /v1/spec      the spec being served\n"
    "\n"
    "  --bind ADDR          listen address (default 127.0.0.1)\n"
    "  --port N             port (default 8000; 0 = any free port, printed)\n"
    "  --threads N          request threads (default: CPUs)\n"
    "  --token T            require 'Authorization: Bearer T'\n"
    "  --token-file F       the same, token read from F\n"
    "  --max-body BYTES     largest request body (default 67108864), else 413\n"
    "  --max-records N      most records per request (default 65536), else 413\n"
    "  --max-connections N  simultaneous connections (default 512)\n"
    "  --idle-timeout S     close connections idle for S seconds (default 30)\n"
    "  --deadline MS        most time to receive a body (default 60000); slower\n"
    "                       clients are disconnected\n"
    "  --response-marker T  /get_reward: response starts after the last T when the\n"
    "                       prompt is not a prefix of the query\n"
    "  --access-log         one JSON line per request on stderr (never bodies)\n"
    "\n"
    "SIGHUP reloads the spec (a bad spec keeps the old one); SIGTERM stops\n"
    "accepting, finishes in-flight requests and exits 0.\n";

static int parse_uint(const char *flag, const char *v, unsigned long long max,
                      unsigned long long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (errno || !end || *end || v[0] == '-' || !v[0] || x > max) {
    fprintf(stderr, "rewardkit serve: %s expects an integer up to %llu, got '%s'\n", flag, max,
            v);
    return -1;
  }
  *out = x;
  return 0;
}

/* Reads the token into buf (cap bytes); 0 or -1 with a message. */
static int read_token_file(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "rewardkit serve: cannot open token file '%s': %s\n", path,
            strerror(errno));
    return -1;
  }
  size_t n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = '\0';
  if (!n) {
    fprintf(stderr, "rewardkit serve: token file '%s' is empty\n", path);
    return -1;
  }
  return 0;
}

int rk_serve_main(int argc, char **argv) {
  server s;
  memset(&s, 0, sizeof s);
  options *o = &s.o;
  o->bind = "127.0.0.1";
  o->port = 8000;
  o->max_body = (size_t)64 << 20;
  o->max_records = 65536;
  o->max_connections = 512;
  o->idle_timeout = 30;
  o->deadline_ms = 60000;
  /* On the stack: every early return below is then leak-free. */
  const char *argv_args[argc + 1];
  o->args = argv_args;
  char token_buf[4096];
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    unsigned long long v;
#define VALUE()                                                                 \
  do {                                                                          \
    if (i + 1 >= argc) {                                                        \
      fprintf(stderr, "rewardkit serve: %s needs a value\n", a);                \
      return 2;                                                                 \
    }                                                                           \
  } while (0)
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage_serve, stdout);
      return 0;
    } else if (!strcmp(a, "--spec")) {
      VALUE();
      o->spec_file = argv[++i];
    } else if (!strcmp(a, "--fn")) {
      VALUE();
      o->fn = argv[++i];
    } else if (!strcmp(a, "--arg")) {
      VALUE();
      o->args[o->nargs++] = argv[++i];
    } else if (!strcmp(a, "--bind")) {
      VALUE();
      o->bind = argv[++i];
    } else if (!strcmp(a, "--port")) {
      VALUE();
      if (parse_uint(a, argv[++i], 65535, &v)) return 2;
      o->port = (unsigned)v;
    } else if (!strcmp(a, "--threads")) {
      VALUE();
      if (parse_uint(a, argv[++i], 256, &v) || v == 0) return 2;
      o->threads = (unsigned)v;
    } else if (!strcmp(a, "--token")) {
      VALUE();
      o->token = argv[++i];
    } else if (!strcmp(a, "--token-file")) {
      VALUE();
      if (read_token_file(argv[++i], token_buf, sizeof token_buf)) return 2;
      o->token = token_buf;
    } else if (!strcmp(a, "--max-body")) {
      VALUE();
      if (parse_uint(a, argv[++i], (unsigned long long)1 << 34, &v) || v == 0) return 2;
      o->max_body = (size_t)v;
    } else if (!strcmp(a, "--max-records")) {
      VALUE();
      if (parse_uint(a, argv[++i], 100000000, &v) || v == 0) return 2;
      o->max_records = (size_t)v;
    } else if (!strcmp(a, "--max-connections")) {
      VALUE();
      if (parse_uint(a, argv[++i], 100000, &v) || v == 0) return 2;
      o->max_connections = (unsigned)v;
    } else if (!strcmp(a, "--idle-timeout")) {
      VALUE();
      if (parse_uint(a, argv[++i], 86400, &v) || v == 0) return 2;
      o->idle_timeout = (unsigned)v;
    } else if (!strcmp(a, "--deadline")) {
      VALUE();
      if (parse_uint(a, argv[++i], 86400000, &v)) return 2;
      o->deadline_ms = (unsigned)v;
    } else if (!strcmp(a, "--response-marker")) {
      VALUE();
      o->response_marker = argv[++i];
    } else if (!strcmp(a, "--access-log")) {
      o->access_log = 1;
    } else if (!strcmp(a, "--quiet")) {
      o->quiet = 1;
    } else {
      fprintf(stderr, "rewardkit serve: unknown option '%s' (see --help)\n", a);
      return 2;
    }
#undef VALUE
  }
  if (!o->spec_file == !o->fn) {
    fprintf(stderr, "rewardkit serve: say what to serve: --spec FILE or --fn NAME\n");
    return 2;
  }
  if (!o->threads) o->threads = rk__cpus();
  char err[1024];
  pthread_mutex_init(&s.mu, NULL);
  s.cur = spec_load(o, err, sizeof err);
  if (!s.cur) {
    fprintf(stderr, "rewardkit serve: %s%s%s\n", o->spec_file ? o->spec_file : "",
            o->spec_file ? ": " : "", err);
    return 3;
  }

  /* Signals are taken by sigwait() in this thread only. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
  struct addrinfo *ai = NULL;
  char port[16];
  snprintf(port, sizeof port, "%u", o->port);
  int gai = getaddrinfo(o->bind, port, &hints, &ai);
  if (gai != 0) {
    fprintf(stderr, "rewardkit serve: --bind '%s': %s (give a numeric address)\n", o->bind,
            gai_strerror(gai));
    return 2;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG;
  if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  s.daemon = MHD_start_daemon(
      flags, (uint16_t)o->port, NULL, NULL, handler, &s, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
      MHD_OPTION_THREAD_POOL_SIZE, o->threads, MHD_OPTION_CONNECTION_LIMIT,
      o->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 << 10, MHD_OPTION_NOTIFY_COMPLETED,
      completed, &s, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
  freeaddrinfo(ai);
  if (!s.daemon) {
    fprintf(stderr, "rewardkit serve: cannot listen on %s:%u (in use? permission?)\n", o->bind,
            o->port);
    return 1;
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(s.daemon, MHD_DAEMON_INFO_BIND_PORT);
  unsigned actual = di ? di->port : o->port;
  /* Always printed (even with --quiet): scripts read the port from it. */
  fprintf(stderr, "rewardkit serve: listening on %s:%u (%u threads%s)\n", o->bind, actual,
          o->threads, o->token ? ", bearer token required" : "");
  fflush(stderr);

  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (!o->spec_file) {
        logf_(&s, "SIGHUP: nothing to reload (serving --fn)");
        continue;
      }
      spec_ref *nr = spec_load(o, err, sizeof err);
      pthread_mutex_lock(&s.mu);
      if (nr) {
        spec_ref *old = s.cur;
        s.cur = nr;
        s.reloads++;
        pthread_mutex_unlock(&s.mu);
        spec_unref(&s, old);
        logf_(&s, "SIGHUP: reloaded %s", o->spec_file);
      } else {
        s.reload_failures++;
        pthread_mutex_unlock(&s.mu);
        logf_(&s, "SIGHUP: %s is invalid, still serving the previous spec: %s", o->spec_file,
              err);
      }
      continue;
    }
    break; /* SIGTERM or SIGINT */
  }
  /* Drain: stop accepting, let in-flight requests finish (at most 60 s). */
  pthread_mutex_lock(&s.mu);
  s.draining = 1;
  pthread_mutex_unlock(&s.mu);
  MHD_socket lfd = MHD_quiesce_daemon(s.daemon);
  if (lfd != MHD_INVALID_SOCKET) close(lfd);
  logf_(&s, "stopping: no new connections; finishing in-flight requests");
  for (int waited = 0; waited < 6000; waited++) {
    pthread_mutex_lock(&s.mu);
    int n = s.inflight;
    pthread_mutex_unlock(&s.mu);
    if (n == 0) break;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(s.daemon);
  for (size_t i = 0; i < s.nfree; i++) rk_ctx_destroy(s.free_ctx[i]);
  free(s.free_ctx);
  spec_unref(&s, s.cur);
  for (size_t k = 0; k < s.ncomps; k++) free(s.comps[k].name);
  for (size_t k = 0; k < s.nspare; k++) free(s.spare[k].p);
  logf_(&s, "stopped");
  return 0;
}
