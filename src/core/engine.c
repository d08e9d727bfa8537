/*
 * engine.c - scoring records: contexts and their workers, the per-record
 * pipeline (parse, resolve aliases, evaluate the spec, write the output
 * line), group post-processing (advantages, filters, zero-variance counts),
 * the summary, and the batch and stream entry points of rewardkit.h.
 *
 * Parallelism: a chunk of lines is split into one contiguous range per
 * worker; each worker writes its outputs into its own buffer, so emitting
 * the chunk in input order is one write per worker. Output order never
 * depends on the thread count.
 *
 * Model rewards (model/client.h): a block whose records queued server
 * requests is rolled back; the chunk's requests are sent together on the
 * calling thread and those blocks are scored again with the replies.
 *
 * A started batch (rk_score_batch_start) is scored by one more thread of
 * the context, created on first use, which plays the caller's part (worker
 * 0) piece after piece while the real caller takes the finished pieces.
 */
#include <math.h>
#include <pthread.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/pool.h"
#include "core/record.h"
#include "core/spec.h"
#include "json/json.h"
#include "model/client.h"

/* ---------------------------------------------------------------- ctx */

typedef struct worker {
  rk__arena arena;
  rk__buf err;       /* error message of the current record */
  rk__buf json;      /* the record as JSON, when given as Python marshal data */
  rk__buf resp;      /* the response as UTF-8, when given as a str's code units */
  rk__buf *explain;  /* one per component (when explaining) */
  size_t nexplain;
  double *comp;      /* component values of the current record */
  size_t ncomp;
  /* summary accumulators for the current run */
  double *comp_sum;
  uint64_t *comp_cnt;
  double reward_sum;
  uint64_t reward_cnt, records;
  uint64_t status[RK_STATUS_COUNT];
  /* model rewards: this worker's request queue and client view, and the
   * summary state saved before a block that may have to be rescored */
  rk__mqueue *mq;
  rk__mview view;
  double *snap_sum;
  uint64_t *snap_cnt;
} worker;

struct job;

/* The batch of rk_score_batch_start. The fields under mu are shared with
 * the scoring thread; `active` and `taken` belong to the caller's thread. */
typedef struct started {
  pthread_t thread;
  int have_thread;
  pthread_mutex_t mu;
  pthread_cond_t wake;   /* to the thread: a batch is queued, or stop */
  pthread_cond_t ready;  /* to the caller: a piece is scored, or done */
  int queued, stop, cancel, done;  /* under mu */
  size_t scored;         /* pieces finished; under mu */
  atomic_ulong starts;   /* batches queued so far, for the thread's watch */
  atomic_ulong progress; /* pieces opened and finished plus batches done,
                            for the caller's watch (written under mu) */
  pthread_cond_t helped; /* to the thread: the caller left the piece */
  struct job *cur;       /* the piece open to the caller's help; under mu */
  unsigned long cur_gen; /* pieces opened so far; under mu */
  atomic_ulong helpers;  /* callers scoring in cur (changed under mu) */
  unsigned helper;       /* the worker slot the caller scores with */
  rk_err rc;             /* the failed piece's code; under mu */
  char errmsg[512];      /* its message */
  rk_batch **pieces;     /* npieces results, NULL once taken */
  const rk_spec *spec;
  rk_score_options o;
  const char *const *recs;
  const size_t *lens;
  const char *const *resps;
  const size_t *resp_lens;
  const unsigned char *resp_kinds;
  size_t n, per, npieces;
  int active;            /* started and not ended (caller's thread) */
  size_t taken;          /* pieces returned by next() (caller's thread) */
} started;

struct rk_ctx {
  rk__pool *pool;
  unsigned n;
  worker *w;
  rk__mclient *mc;     /* created when a model reward first calls out */
  rk__mstats mstart;   /* client totals when the current call began */
  started st;
  unsigned cpus;       /* CPUs of the process at creation (rk__cpus) */
  unsigned use;        /* threads the current call scores with (<= n) */
  char errmsg[512];
};

rk_err rk_ctx_create(const rk_ctx_options *opts, rk_ctx **out) {
  if (!out) return RK_EINVAL;
  *out = NULL;
  unsigned n = opts ? opts->threads : 0;
  unsigned cpus = rk__cpus();
  if (n == 0) n = cpus;
  if (n > 256) n = 256;
  rk_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return RK_ENOMEM;
  ctx->w = calloc(n, sizeof *ctx->w);
  if (!ctx->w) {
    free(ctx);
    return RK_ENOMEM;
  }
  ctx->n = n;
  ctx->cpus = cpus;
  ctx->use = n;
  pthread_mutex_init(&ctx->st.mu, NULL);
  atomic_init(&ctx->st.starts, 0);
  atomic_init(&ctx->st.progress, 0);
  atomic_init(&ctx->st.helpers, 0);
  pthread_cond_init(&ctx->st.wake, NULL);
  pthread_cond_init(&ctx->st.ready, NULL);
  pthread_cond_init(&ctx->st.helped, NULL);
  for (unsigned i = 0; i < n; i++) {
    rk__arena_init(&ctx->w[i].arena, 0);
    rk__buf_init(&ctx->w[i].err, 4096);
    rk__buf_init(&ctx->w[i].json, 0);
    rk__buf_init(&ctx->w[i].resp, 0);
    if (!(ctx->w[i].mq = rk__mqueue_create())) {
      rk_ctx_destroy(ctx);
      return RK_ENOMEM;
    }
  }
  if (rk__pool_create(n, &ctx->pool) != 0) {
    ctx->pool = NULL;
    rk_ctx_destroy(ctx);
    return RK_ETHREAD;
  }
  *out = ctx;
  return RK_OK;
}

static void worker_free_comp(worker *w) {
  for (size_t i = 0; i < w->nexplain; i++) rk__buf_release(&w->explain[i]);
  free(w->explain);
  free(w->comp);
  free(w->comp_sum);
  free(w->comp_cnt);
  free(w->snap_sum);
  free(w->snap_cnt);
  w->snap_sum = NULL;
  w->snap_cnt = NULL;
  w->explain = NULL;
  w->nexplain = 0;
  w->comp = w->comp_sum = NULL;
  w->comp_cnt = NULL;
  w->ncomp = 0;
}

static void started_stop(rk_ctx *ctx);

void rk_ctx_destroy(rk_ctx *ctx) {
  if (!ctx) return;
  started_stop(ctx);
  rk__pool_destroy(ctx->pool);
  rk__mclient_destroy(ctx->mc);
  for (unsigned i = 0; i < ctx->n; i++) {
    worker *w = &ctx->w[i];
    rk__mqueue_destroy(w->mq);
    rk__arena_release(&w->arena);
    rk__buf_release(&w->err);
    rk__buf_release(&w->json);
    rk__buf_release(&w->resp);
    worker_free_comp(w);
  }
  free(ctx->w);
  free(ctx);
}

const char *rk_ctx_errmsg(const rk_ctx *ctx) { return ctx ? ctx->errmsg : ""; }
unsigned rk_ctx_threads(const rk_ctx *ctx) { return ctx ? ctx->n : 0; }

rk_err rk__ctx_fail(rk_ctx *ctx, rk_err rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
  va_end(ap);
  return rc;
}

static rk_err ctx_fail(rk_ctx *ctx, rk_err rc, const char *msg) {
  return rk__ctx_fail(ctx, rc, "%s", msg);
}

/* 1 (and the message) while a started batch owns the context. */
static int ctx_busy(rk_ctx *ctx) {
  if (!ctx->st.active) return 0;
  ctx_fail(ctx, RK_EBUSY,
           "the context is still scoring a batch from rk_score_batch_start: take its "
           "pieces with rk_score_batch_next or end it with rk_score_batch_abort first");
  return 1;
}

int rk__ctx_busy(rk_ctx *ctx) { return ctx_busy(ctx); }

/* Sizes each worker's component arrays for `spec` and zeroes the summary. */
static rk_err workers_prepare(rk_ctx *ctx, const rk_spec *spec, int explain) {
  size_t nc = spec->ncomp ? spec->ncomp : 1;
  for (unsigned i = 0; i < ctx->n; i++) {
    worker *w = &ctx->w[i];
    if (w->ncomp != nc || (explain && !w->explain)) {
      worker_free_comp(w);
      w->comp = calloc(nc, sizeof *w->comp);
      w->comp_sum = calloc(nc, sizeof *w->comp_sum);
      w->comp_cnt = calloc(nc, sizeof *w->comp_cnt);
      w->snap_sum = calloc(nc, sizeof *w->snap_sum);
      w->snap_cnt = calloc(nc, sizeof *w->snap_cnt);
      if (explain) {
        w->explain = calloc(nc, sizeof *w->explain);
        if (w->explain) {
          w->nexplain = nc;
          for (size_t k = 0; k < nc; k++) rk__buf_init(&w->explain[k], 64 << 10);
        }
      }
      w->ncomp = nc;
      if (!w->comp || !w->comp_sum || !w->comp_cnt || !w->snap_sum || !w->snap_cnt ||
          (explain && !w->explain))
        return RK_ENOMEM;
    }
    memset(w->comp_sum, 0, nc * sizeof *w->comp_sum);
    memset(w->comp_cnt, 0, nc * sizeof *w->comp_cnt);
    w->reward_sum = 0;
    w->reward_cnt = w->records = 0;
    memset(w->status, 0, sizeof w->status);
  }
  rk__mclient_stats(ctx->mc, &ctx->mstart);
  return RK_OK;
}

/* ------------------------------------------------------------- records */

/* One input line. p == NULL marks a line over the size limit (n = its
 * length as far as it was read). */
typedef struct line_in {
  const char *p;
  size_t n;
  uint64_t line;
  const char *resp;    /* response given apart (rk_score_batch_responses) */
  size_t resp_n;       /* its bytes, or code points when resp_kind > 0 */
  unsigned char resp_kind; /* 0: UTF-8; 1, 2, 4: a Python str's code units */
} line_in;

/* One output record. Text is in its block's buffer; with groups it is left
 * open (no closing brace) so the post-processing can append fields. */
typedef struct item {
  size_t idx;          /* input position within the call (batch) */
  double reward;       /* NaN when null */
  double length;       /* response length (opo) */
  rk_status status;
  size_t block;
  size_t off, len;     /* output text */
  size_t koff, klen;   /* group key; klen == 0: no group */
  const char *text;    /* resolved after the parallel phase */
  const char *key;
} item;

/* A chunk is scored in blocks of consecutive lines, handed out to the
 * workers one at a time (an atomic counter), each block writing into its
 * own buffers. Emitting the chunk in input order is then writing the
 * blocks in order, and no worker waits for a slow one's whole share.
 * Blocks hold BLOCK_LINES lines, fewer (down to BLOCK_MIN) when a small
 * batch would otherwise leave threads idle; a batch of at most BLOCK_LINES
 * records stays one block, scored by the caller alone (waking a worker
 * costs more than such a batch). */
#define BLOCK_LINES 64
#define BLOCK_MIN 16

typedef struct block {
  rk__buf out;         /* output text of the block's records */
  rk__buf keys;        /* their group keys */
  int pending;         /* a record waits for server replies: score again */
} block;

/* Everything one chunk needs; the stream keeps two so that one is scored
 * while the other is written and refilled. */
typedef struct slot {
  line_in *lines;
  item *items;
  size_t n, cap;
  block *blocks;
  size_t nblocks, capblocks;
  size_t bl;           /* lines per block in this chunk */
  int pending;         /* scored, not yet written */
} slot;

typedef struct job {
  rk_ctx *ctx;
  const rk_spec *spec;
  rk_score_options opts;
  slot *sl;
  atomic_size_t next;  /* next block to score */
  const size_t *todo;  /* rescoring rounds: the pending blocks, else NULL */
  size_t ntodo;
  double *comp_out;    /* n x ncomp component values (batch), or NULL */
  int open;            /* leave records open for group post-processing */
  int quiet;           /* a record's line holds only its status unless that is
                          error or explain is set: nobody reads it (rk_py_score) */
  int want_length;
  started *help;       /* a started batch's piece the caller may help with */
} job;

/* Output keys: an input record's own copies are left out. */
static int is_reserved(rk__str k) {
  static const struct {
    const char *key;
    size_t len;
  } reserved[] = {{"reward", 6},     {"status", 6},     {"error", 5},
                  {"components", 10}, {"explain", 7},   {"elapsed_us", 10},
                  {"advantage", 9},  {"filtered", 8}};
  if (k.n < 5 || k.n > 10) return 0;
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (k.n == reserved[i].len && memcmp(k.p, reserved[i].key, k.n) == 0) return 1;
  return 0;
}

/* Writes the input record's members followed by a separator if needed, so
 * that the caller can append its own members. The input text is copied
 * byte for byte (numbers round-trip exactly) unless it carries one of our
 * output keys, which are then left out. */
static void put_input(rk__buf *o, const rk__jval *root) {
  const rk__jmember *m = root->u.obj.items;
  size_t n = root->u.obj.n;
  int clash = 0;
  for (size_t i = 0; i < n && !clash; i++) clash = is_reserved(m[i].key);
  if (!clash) {
    const char *p = root->raw.p;
    size_t len = root->raw.n - 1; /* drop the closing brace */
    while (len > 1 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
                       p[len - 1] == '\n' || p[len - 1] == '\r'))
      len--;
    rk__buf_put(o, p, len);
    if (n) rk__buf_putc(o, ',');
    return;
  }
  rk__buf_putc(o, '{');
  for (size_t i = 0; i < n; i++) {
    if (is_reserved(m[i].key)) continue;
    rk__buf_put(o, m[i].raw_key.p, m[i].raw_key.n);
    rk__buf_putc(o, ':');
    rk__buf_put(o, m[i].val.raw.p, m[i].val.raw.n);
    rk__buf_putc(o, ',');
  }
}

static void put_num(rk__buf *o, double v) {
  char tmp[32];
  size_t k = rk__fmt_double(tmp, v);
  rk__buf_put(o, tmp, k);
}

static void put_error_record(rk__buf *o, uint64_t line, const char *msg) {
  rk__buf_puts(o, "{\"line\":");
  rk__buf_printf(o, "%llu", (unsigned long long)line);
  rk__buf_puts(o, ",\"reward\":null,\"status\":\"error\",\"error\":");
  rk__json_put_str(o, msg, strlen(msg));
}

/* Unicode code points of s (bytes that do not start a sequence are
 * continuation bytes and are not counted). */
static double count_codepoints(rk__str s) {
  size_t k = 0;
  for (size_t i = 0; i < s.n; i++) k += ((unsigned char)s.p[i] & 0xC0) != 0x80;
  return (double)k;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Offset of the first byte of p[0..n) that is not valid UTF-8 or is NUL
 * (which a JSON string cannot hold either: the reader rejects \u0000),
 * or n. */
static size_t utf8_invalid_at(const char *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p, *e = s + n;
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  while (s < e) {
#ifdef __SSE2__
    /* 32 bytes a step while they are ASCII without a zero byte. */
    for (const __m128i zero = _mm_setzero_si128(); e - s >= 32; s += 32) {
      __m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
      __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
      __m128i bad = _mm_or_si128(_mm_or_si128(a, b),
                                 _mm_or_si128(_mm_cmpeq_epi8(a, zero), _mm_cmpeq_epi8(b, zero)));
      if (_mm_movemask_epi8(bad)) break;
    }
#endif
    while (e - s >= 8) {
      uint64_t w;
      memcpy(&w, s, 8);
      if ((w & highs) || ((w - ones) & ~w & highs)) break; /* non-ASCII or a zero byte */
      s += 8;
    }
    if (s >= e) break;
    if (*s == 0) return (size_t)(s - (const unsigned char *)p);
    if (*s < 0x80) {
      s++;
      continue;
    }
    size_t k = rk__utf8_seq(s, e);
    if (!k) return (size_t)(s - (const unsigned char *)p);
    s += k;
  }
  return n;
}

/* n code units of a Python str (kind 1: Latin-1, 2: UCS-2, 4: UCS-4) as
 * UTF-8, appended to o; a high surrogate followed by a low one is one
 * code point. Returns 0; -1 out of memory, or at a lone surrogate
 * (*lone: its index). */
static int units_to_utf8(rk__buf *o, const char *data, size_t n, unsigned kind, size_t *lone) {
  const unsigned char *p = (const unsigned char *)data;
  *lone = 0;
  if (rk__buf_reserve(o, n * (kind == 1 ? 2 : kind == 2 ? 3 : 4))) return -1;
  unsigned char *w = (unsigned char *)o->p + o->n;
  for (size_t i = 0; i < n; i++) {
    /* Runs of ASCII, eight code units at a time. */
    if (kind == 1) {
      for (uint64_t v; n - i >= 8 && (memcpy(&v, p + i, 8), !(v & 0x8080808080808080ull));) {
        memcpy(w, &v, 8);
        w += 8, i += 8;
      }
    } else if (kind == 2) {
#ifdef __SSE2__
      const __m128i high = _mm_set1_epi16((short)0xFF80), zero = _mm_setzero_si128();
      for (__m128i v; n - i >= 8;) {
        v = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * i));
        if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(v, high), zero)) != 0xFFFF) break;
        _mm_storel_epi64((__m128i *)(void *)w, _mm_packus_epi16(v, v));
        w += 8, i += 8;
      }
#endif
    }
    if (i >= n) break;
    uint32_t c = rk__py_unit(p, i, kind);
    if (c - 0xD800u < 0x800u) {
      uint32_t lo = c < 0xDC00 && i + 1 < n ? rk__py_unit(p, i + 1, kind) : 0;
      if (lo - 0xDC00u >= 0x400u) {
        *lone = i;
        return -1;
      }
      c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
      i++;
    }
    w = rk__utf8_put(w, c);
  }
  o->n = (size_t)((char *)w - o->p);
  return 0;
}

/* The record with a "response" member holding the text given apart,
 * appended so that it wins over the record's own (last wins). The value
 * has no source text (raw.n == 0): records are not echoed in this mode. */
static rk__jval *with_response(rk__jval *root, const char *p, size_t n, rk__arena *a) {
  size_t m = root->u.obj.n;
  rk__jmember *items = rk__arena_alloc(a, (m + 1) * sizeof *items);
  rk__jval *r = rk__arena_alloc(a, sizeof *r);
  if (!items || !r) return NULL;
  if (m) memcpy(items, root->u.obj.items, m * sizeof *items);
  rk__jmember *x = &items[m];
  memset(x, 0, sizeof *x);
  x->key = (rk__str){"response", 8};
  x->raw_key = (rk__str){"\"response\"", 10};
  x->val.type = RK__JSTR;
  x->val.u.str = (rk__str){p, n};
  *r = *root;
  r->u.obj.items = items;
  r->u.obj.n = m + 1;
  return r;
}

static void score_line(job *jb, worker *w, block *bk, size_t bi, const line_in *ln,
                       item *it) {
  const rk_spec *spec = jb->spec;
  rk__buf *o = &bk->out;
  uint64_t t0 = jb->opts.timing ? now_ns() : 0;
  it->block = bi;
  it->off = o->n;
  it->klen = 0;
  it->reward = NAN;
  it->length = 0;
  it->status = RK_STATUS_ERROR;
  rk__arena_reset(&w->arena);
  rk__buf_reset(&w->err);

  char msg[256];
  if (!ln->p) {
    snprintf(msg, sizeof msg,
             "line %llu is %zu bytes or more, over the limit of %zu bytes "
             "(raise max_line: --max-line in the CLI, max_line= in Python)",
             (unsigned long long)ln->line, ln->n, jb->opts.max_line);
    put_error_record(o, ln->line, msg);
    goto close;
  }
  const char *text = ln->p, *resp = ln->resp;
  size_t text_n = ln->n, resp_n = ln->resp_n;
  if (jb->opts.format == RK_FORMAT_PYMARSHAL) {
    /* Python's marshal data of a dict: its JSON text, and its "response"
     * str apart (as rk_score_batch_responses would have it). */
    char why[200];
    rk__str r;
    int have = 0;
    rk__buf_reset(&w->json);
    w->json.max = jb->opts.max_line;
    int mrc = rk__pym_json(ln->p, ln->n, &w->json, resp == NULL, &r, &have, why, sizeof why);
    if (mrc) {
      if (mrc == -2)
        snprintf(msg, sizeof msg,
                 "line %llu: the record's JSON text (without its response) is over the limit "
                 "of %zu bytes (raise max_line)",
                 (unsigned long long)ln->line, jb->opts.max_line);
      else
        snprintf(msg, sizeof msg, "line %llu: %s", (unsigned long long)ln->line, why);
      put_error_record(o, ln->line, msg);
      goto close;
    }
    text = w->json.p;
    text_n = w->json.n;
    if (have) {
      resp = r.p;
      resp_n = r.n;
    }
  }
  rk__jval *root = NULL;
  rk__json_error jerr;
  rk__json_limits lim = {.max_depth = 512, .max_bytes = jb->opts.max_line};
  int prc = rk__json_parse(text, text_n, &w->arena, &lim, &root, &jerr);
  if (prc != 0 || root->type != RK__JOBJ) {
    if (prc == -2)
      snprintf(msg, sizeof msg, "line %llu: out of memory while parsing",
               (unsigned long long)ln->line);
    else if (prc != 0)
      snprintf(msg, sizeof msg, "line %llu: invalid JSON at column %zu: %s",
               (unsigned long long)ln->line, jerr.column, jerr.msg);
    else
      snprintf(msg, sizeof msg, "line %llu: a record must be a JSON object, got %s",
               (unsigned long long)ln->line, rk__json_type_name(root->type));
    put_error_record(o, ln->line, msg);
    goto close;
  }
  if (resp && ln->resp_kind && ln->resp_kind != 1 && ln->resp_kind != 2 && ln->resp_kind != 4) {
    snprintf(msg, sizeof msg, "line %llu: the response's code units are of %u bytes (1, 2 or 4)",
             (unsigned long long)ln->line, (unsigned)ln->resp_kind);
    put_error_record(o, ln->line, msg);
    goto close;
  }
  if (resp && ln->resp_kind) {
    /* A Python str read in place (rk_py_records): its code units as
     * UTF-8, a surrogate pair joined as json would join its escapes. */
    size_t lone;
    rk__buf_reset(&w->resp);
    if (units_to_utf8(&w->resp, resp, resp_n, ln->resp_kind, &lone) != 0) {
      if (w->resp.oom)
        snprintf(msg, sizeof msg, "line %llu: out of memory", (unsigned long long)ln->line);
      else
        snprintf(msg, sizeof msg,
                 "line %llu: the response holds a lone surrogate (character %zu), which is "
                 "not text: it has no UTF-8 form",
                 (unsigned long long)ln->line, lone);
      put_error_record(o, ln->line, msg);
      goto close;
    }
    resp = w->resp.p ? w->resp.p : "";
    resp_n = w->resp.n;
  }
  if (resp) { /* (valid UTF-8 when converted: the check finds a NUL) */
    size_t bad = utf8_invalid_at(resp, resp_n);
    if (bad < resp_n) {
      if (resp[bad])
        snprintf(msg, sizeof msg,
                 "line %llu: the response is not valid UTF-8 text (invalid sequence at byte %zu)",
                 (unsigned long long)ln->line, bad);
      else
        snprintf(msg, sizeof msg, "line %llu: the response holds a NUL character (at byte %zu)",
                 (unsigned long long)ln->line, bad);
      put_error_record(o, ln->line, msg);
      goto close;
    }
  }
  if (resp && !(root = with_response(root, resp, resp_n, &w->arena))) {
    snprintf(msg, sizeof msg, "line %llu: out of memory", (unsigned long long)ln->line);
    put_error_record(o, ln->line, msg);
    goto close;
  }

  rk__record rec;
  rk__record_build(root, ln->line, &rec);
  rk__budget budget = {0, jb->opts.step_budget};
  size_t nc = spec->ncomp;
  for (size_t k = 0; k < nc; k++) w->comp[k] = NAN;
  rk__eval_state st = {.comp = w->comp,
                       .comp_explain = jb->opts.explain ? w->explain : NULL};
  if (st.comp_explain)
    for (size_t k = 0; k < nc; k++) rk__buf_reset(&w->explain[k]);
  rk__call call = {.rec = &rec, .arena = &w->arena, .budget = &budget,
                   .explain = NULL, .error = &w->err, .engine = &st,
                   .model = &w->view};
  double reward = NAN;
  rk_status s = rk__spec_eval(spec, &call, &reward);
  if (s == RK_STATUS_ERROR && w->err.n == 0) rk__buf_puts(&w->err, "scoring failed");
  it->status = s;
  it->reward = reward;

  if (rec.group) {
    /* Group key: a type tag plus the string's bytes or the raw JSON. */
    rk__buf *keys = &bk->keys;
    it->koff = keys->n;
    if (rec.group->type == RK__JSTR) {
      rk__buf_putc(keys, 's');
      rk__buf_put(keys, rec.group->u.str.p, rec.group->u.str.n);
    } else {
      rk__buf_putc(keys, 'j');
      rk__buf_put(keys, rec.group->raw.p, rec.group->raw.n);
    }
    it->klen = keys->n - it->koff;
  }
  if (jb->want_length) {
    const rk__jval *rl = rk__json_get(root, "response_length");
    it->length = rl && rl->type == RK__JNUM ? rl->u.num : count_codepoints(rec.response);
  }

  if (jb->comp_out) memcpy(jb->comp_out + it->idx * nc, w->comp, nc * sizeof *w->comp);
  if (jb->quiet && s != RK_STATUS_ERROR && !jb->opts.explain && !jb->opts.timing) {
    /* Still a JSON object once closed, also with an advantage after it. */
    rk__buf_puts(o, "{\"status\":\"");
    rk__buf_puts(o, rk_status_name(s));
    rk__buf_putc(o, '"');
    goto close;
  }
  if (jb->opts.results_only)
    rk__buf_putc(o, '{');
  else
    put_input(o, root);
  rk__buf_puts(o, "\"reward\":");
  put_num(o, reward);
  rk__buf_puts(o, ",\"status\":\"");
  rk__buf_puts(o, rk_status_name(s));
  rk__buf_putc(o, '"');
  if (s == RK_STATUS_ERROR) {
    rk__buf_puts(o, ",\"error\":");
    rk__json_put_str(o, w->err.p, w->err.n);
  }
  rk__buf_puts(o, ",\"components\":{");
  for (size_t k = 0; k < nc; k++) {
    if (k) rk__buf_putc(o, ',');
    rk__buf_put(o, spec->comp_keys[k], spec->comp_key_len[k]);
    put_num(o, w->comp[k]);
    if (!isnan(w->comp[k])) {
      w->comp_sum[k] += w->comp[k];
      w->comp_cnt[k]++;
    }
  }
  rk__buf_putc(o, '}');
  if (jb->opts.explain) {
    rk__buf_puts(o, ",\"explain\":{");
    int first = 1;
    for (size_t k = 0; k < nc; k++) {
      if (!w->explain[k].n) continue;
      if (!first) rk__buf_putc(o, ',');
      first = 0;
      rk__buf_put(o, spec->comp_keys[k], spec->comp_key_len[k]);
      rk__json_put_str(o, w->explain[k].p, w->explain[k].n);
    }
    rk__buf_putc(o, '}');
  }
  if (jb->opts.timing) {
    rk__buf_printf(o, ",\"elapsed_us\":%.3f", (double)(now_ns() - t0) / 1000.0);
  }
close:
  w->records++;
  w->status[it->status]++;
  if (!isnan(it->reward)) {
    w->reward_sum += it->reward;
    w->reward_cnt++;
  }
  if (!jb->open) rk__buf_put(o, "}\n", 2);
  it->len = o->n - it->off;
}

/* A block whose records queued server requests is scored again once the
 * replies are in (model/client.h): its output and its share of the
 * summary are rolled back to what they were before it. */
typedef struct block_mark {
  size_t out_n, keys_n;
  uint64_t records, reward_cnt, status[RK_STATUS_COUNT], queued;
  double reward_sum;
} block_mark;

static void block_save(const worker *w, const block *bk, size_t nc, block_mark *m) {
  m->out_n = bk->out.n;
  m->keys_n = bk->keys.n;
  m->records = w->records;
  m->reward_cnt = w->reward_cnt;
  m->reward_sum = w->reward_sum;
  m->queued = w->view.queued;
  memcpy(m->status, w->status, sizeof m->status);
  memcpy(w->snap_sum, w->comp_sum, nc * sizeof *w->snap_sum);
  memcpy(w->snap_cnt, w->comp_cnt, nc * sizeof *w->snap_cnt);
}

static void block_rollback(worker *w, block *bk, size_t nc, const block_mark *m) {
  bk->out.n = m->out_n;
  bk->keys.n = m->keys_n;
  w->records = m->records;
  w->reward_cnt = m->reward_cnt;
  w->reward_sum = m->reward_sum;
  memcpy(w->status, m->status, sizeof m->status);
  memcpy(w->comp_sum, w->snap_sum, nc * sizeof *w->snap_sum);
  memcpy(w->comp_cnt, w->snap_cnt, nc * sizeof *w->snap_cnt);
}

static void run_blocks(void *arg, unsigned wi, unsigned nw) {
  job *jb = arg;
  worker *w = &jb->ctx->w[wi];
  slot *sl = jb->sl;
  size_t nc = jb->spec->ncomp;
  RK__UNUSED(nw);
  for (;;) {
    size_t k = atomic_fetch_add(&jb->next, 1);
    if (k >= (jb->todo ? jb->ntodo : sl->nblocks)) break;
    size_t b = jb->todo ? jb->todo[k] : k;
    block *bk = &sl->blocks[b];
    block_mark mark;
    block_save(w, bk, nc, &mark);
    size_t a = b * sl->bl, e = a + sl->bl < sl->n ? a + sl->bl : sl->n;
    for (size_t i = a; i < e; i++) {
      sl->items[i].idx = i;
      if (jb->comp_out)
        for (size_t c = 0; c < nc; c++) jb->comp_out[i * nc + c] = NAN;
      score_line(jb, w, bk, b, &sl->lines[i], &sl->items[i]);
    }
    bk->pending = w->view.queued != mark.queued;
    if (bk->pending) block_rollback(w, bk, nc, &mark);
  }
}

static void slot_free(slot *sl) {
  for (size_t i = 0; i < sl->capblocks; i++) {
    rk__buf_release(&sl->blocks[i].out);
    rk__buf_release(&sl->blocks[i].keys);
  }
  free(sl->blocks);
  free(sl->lines);
  free(sl->items);
  memset(sl, 0, sizeof *sl);
}

/* Room for n lines (and their blocks). */
static int slot_reserve(slot *sl, size_t n) {
  if (n > sl->cap) {
    line_in *l = realloc(sl->lines, n * sizeof *l);
    if (l) sl->lines = l;
    item *it = realloc(sl->items, n * sizeof *it);
    if (it) sl->items = it;
    if (!l || !it) return -1;
    sl->cap = n;
  }
  size_t nb = (n + BLOCK_MIN - 1) / BLOCK_MIN;
  if (nb > sl->capblocks) {
    block *b = realloc(sl->blocks, nb * sizeof *b);
    if (!b) return -1;
    for (size_t i = sl->capblocks; i < nb; i++) {
      rk__buf_init(&b[i].out, 0);
      rk__buf_init(&b[i].keys, 0);
    }
    sl->blocks = b;
    sl->capblocks = nb;
  }
  return 0;
}

/* Starts scoring the slot's lines on the workers (not on the caller). */
static void chunk_begin(job *jb) {
  slot *sl = jb->sl;
  unsigned nt = jb->ctx->use + (jb->help != NULL);
  sl->bl = BLOCK_LINES;
  /* Small batches too: 64 records on 2 threads took 3.7 us a record in
   * one block, 2.6 in four (from Python, JSONL lines). */
  if (nt > 1 && sl->n > BLOCK_MIN && sl->n / nt < 4 * BLOCK_LINES) {
    size_t per = sl->n / (4 * (size_t)nt); /* about 4 blocks per thread */
    sl->bl = per < BLOCK_MIN ? BLOCK_MIN : per;
  }
  sl->nblocks = (sl->n + sl->bl - 1) / sl->bl;
  for (size_t i = 0; i < sl->nblocks; i++) {
    rk__buf_reset(&sl->blocks[i].out);
    rk__buf_reset(&sl->blocks[i].keys);
    sl->blocks[i].pending = 0;
  }
  rk_ctx *ctx = jb->ctx;
  rk__mclient_chunk_begin(ctx->mc);
  for (unsigned i = 0; i < ctx->n; i++) {
    rk__mview *v = &ctx->w[i].view;
    v->client = ctx->mc;
    v->queue = ctx->w[i].mq;
    v->round = 0;
    v->last_round = 0;
  }
  jb->todo = NULL;
  atomic_store(&jb->next, 0);
  rk__pool_start(jb->ctx->pool, run_blocks, jb,
                 sl->nblocks < jb->ctx->use ? sl->nblocks : jb->ctx->use);
}

/* Rounds of server calls: send what the pending blocks queued, then score
 * those blocks again, until none is pending. The last round refuses new
 * requests, so it always ends. Returns -1 when out of memory. */
static int model_rounds(job *jb) {
  rk_ctx *ctx = jb->ctx;
  slot *sl = jb->sl;
  size_t *todo = NULL;
  rk__mqueue **qs = malloc(ctx->n * sizeof *qs);
  int rc = qs ? 0 : -1;
  for (int round = 1; rc == 0; round++) {
    size_t nt = 0;
    for (size_t b = 0; b < sl->nblocks; b++) nt += sl->blocks[b].pending != 0;
    if (!nt) break;
    if (!todo && !(todo = malloc(sl->nblocks * sizeof *todo))) {
      rc = -1;
      break;
    }
    nt = 0;
    for (size_t b = 0; b < sl->nblocks; b++)
      if (sl->blocks[b].pending) todo[nt++] = b;
    if (!ctx->mc) rk__mclient_create(&ctx->mc); /* NULL: calls fail with a reason */
    for (unsigned i = 0; i < ctx->n; i++) qs[i] = ctx->w[i].mq;
    if (ctx->mc && rk__mclient_run(ctx->mc, qs, ctx->n)) rc = -1;
    for (unsigned i = 0; i < ctx->n; i++) {
      rk__mqueue_clear(ctx->w[i].mq);
      rk__mview *v = &ctx->w[i].view;
      v->client = ctx->mc;
      v->round = round;
      v->last_round = !ctx->mc || round >= RK__MODEL_ROUNDS - 1;
    }
    if (rc) break;
    jb->todo = todo;
    jb->ntodo = nt;
    atomic_store(&jb->next, 0);
    rk__pool_run(ctx->pool, run_blocks, jb, nt < ctx->use ? nt : ctx->use);
  }
  uint64_t hits = 0;
  for (unsigned i = 0; i < ctx->n; i++) {
    hits += ctx->w[i].view.cache_hits;
    ctx->w[i].view.cache_hits = 0;
  }
  rk__mclient_add_hits(ctx->mc, hits);
  jb->todo = NULL;
  free(todo);
  free(qs);
  return rc;
}

/* The caller scores the blocks still unclaimed, waits for the workers,
 * runs the rounds of server calls if records wait for replies, and
 * resolves the items' text and key pointers. Returns -1 if a buffer ran
 * out of memory. */
static void help_open(job *jb);
static void help_close(job *jb);

static int chunk_finish(job *jb) {
  slot *sl = jb->sl;
  if (jb->help) help_open(jb);
  run_blocks(jb, 0, jb->ctx->n);
  if (jb->help) help_close(jb);
  rk__pool_wait(jb->ctx->pool);
  if (model_rounds(jb)) return -1;
  for (size_t i = 0; i < sl->nblocks; i++)
    if (sl->blocks[i].out.oom || sl->blocks[i].keys.oom) return -1;
  for (size_t i = 0; i < sl->n; i++) {
    item *it = &sl->items[i];
    block *bk = &sl->blocks[it->block];
    it->text = bk->out.p + it->off;
    it->key = it->klen ? bk->keys.p + it->koff : NULL;
  }
  return 0;
}

/* -------------------------------------------------------------- groups */

typedef struct gstat {
  char *key;
  size_t klen;
  uint64_t hash;
  size_t count;        /* scored members (non-null reward) */
  size_t members;      /* all members */
  double min, max, sum;
  int filtered;        /* 0 keep, 1 zero variance, 2 mean out of range */
} gstat;

typedef struct gmap {
  gstat *g;            /* dense, insertion order */
  size_t n, cap;
  size_t *slots;       /* open addressing: index + 1, 0 = empty */
  size_t nslots;
} gmap;

/* Group keys come from the records: FNV-1a started from the process's
 * random key, and slots from the top bits of a keyed multiply (rk__hk_slot),
 * so that no set of keys can be made to share one probe run (the low
 * bits of plain FNV-1a collide at will). Nothing computed depends on the
 * keys: groups are kept in insertion order. */
static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ull ^ rk__hk.seed; /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
  return h;
}

static void gmap_free(gmap *m) {
  for (size_t i = 0; i < m->n; i++) free(m->g[i].key);
  free(m->g);
  free(m->slots);
  memset(m, 0, sizeof *m);
}

static int gmap_grow(gmap *m) {
  size_t ns = m->nslots ? m->nslots * 2 : 1024;
  size_t *s = calloc(ns, sizeof *s);
  if (!s) return -1;
  for (size_t i = 0; i < m->n; i++) {
    size_t j = rk__hk_slot(m->g[i].hash, (unsigned)__builtin_ctzll((unsigned long long)ns));
    while (s[j]) j = (j + 1) & (ns - 1);
    s[j] = i + 1;
  }
  free(m->slots);
  m->slots = s;
  m->nslots = ns;
  return 0;
}

/* Dense index of key, inserting it; (size_t)-1 on allocation failure. */
static size_t gmap_index(gmap *m, const char *key, size_t klen) {
  if ((m->n + 1) * 2 > m->nslots && gmap_grow(m)) return (size_t)-1;
  uint64_t h = hash_bytes(key, klen);
  size_t j = rk__hk_slot(h, (unsigned)__builtin_ctzll((unsigned long long)m->nslots));
  while (m->slots[j]) {
    gstat *g = &m->g[m->slots[j] - 1];
    if (g->hash == h && g->klen == klen && memcmp(g->key, key, klen) == 0)
      return m->slots[j] - 1;
    j = (j + 1) & (m->nslots - 1);
  }
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 256;
    gstat *g = realloc(m->g, cap * sizeof *g);
    if (!g) return (size_t)-1;
    m->g = g;
    m->cap = cap;
  }
  gstat *g = &m->g[m->n];
  memset(g, 0, sizeof *g);
  g->key = malloc(klen);
  if (!g->key) return (size_t)-1;
  memcpy(g->key, key, klen);
  g->klen = klen;
  g->hash = h;
  m->slots[j] = ++m->n;
  return m->n - 1;
}

static void gstat_add(gstat *g, double r) {
  g->members++;
  if (isnan(r)) return;
  if (g->count == 0 || r < g->min) g->min = r;
  if (g->count == 0 || r > g->max) g->max = r;
  g->sum += r;
  g->count++;
}

/* Groups all items (appending to m); gidx[i] gets the dense index, or
 * (size_t)-1 for records without a group. */
static int group_items(gmap *m, const item *items, size_t n, size_t *gidx) {
  for (size_t i = 0; i < n; i++) {
    size_t g = (size_t)-1;
    if (items[i].klen) {
      g = gmap_index(m, items[i].key, items[i].klen);
      if (g == (size_t)-1) return -1;
      gstat_add(&m->g[g], items[i].reward);
    }
    if (gidx) gidx[i] = g;
  }
  return 0;
}

/* ------------------------------------------------------------- summary */

typedef struct summary {
  uint64_t records, reward_cnt, status[RK_STATUS_COUNT];
  double reward_sum;
  double *comp_sum;
  uint64_t *comp_cnt;
  size_t ncomp;
  size_t groups, zero_variance, filtered_groups, dropped;
  int have_adv;
  rk__adv_stats adv;
  int have_model;      /* model rewards called out or used the cache */
  rk__mstats model;    /* during this call */
} summary;

static int summary_init(summary *s, const rk_spec *spec) {
  memset(s, 0, sizeof *s);
  s->ncomp = spec->ncomp;
  s->comp_sum = calloc(s->ncomp + 1, sizeof *s->comp_sum);
  s->comp_cnt = calloc(s->ncomp + 1, sizeof *s->comp_cnt);
  return s->comp_sum && s->comp_cnt ? 0 : -1;
}

static void summary_free(summary *s) {
  free(s->comp_sum);
  free(s->comp_cnt);
}

static void summary_merge(summary *s, rk_ctx *ctx) {
  for (unsigned i = 0; i < ctx->n; i++) {
    worker *w = &ctx->w[i];
    s->records += w->records;
    s->reward_sum += w->reward_sum;
    s->reward_cnt += w->reward_cnt;
    for (int k = 0; k < RK_STATUS_COUNT; k++) s->status[k] += w->status[k];
    for (size_t k = 0; k < s->ncomp; k++) {
      s->comp_sum[k] += w->comp_sum[k];
      s->comp_cnt[k] += w->comp_cnt[k];
      w->comp_sum[k] = 0;
      w->comp_cnt[k] = 0;
    }
    w->records = w->reward_cnt = 0;
    w->reward_sum = 0;
    memset(w->status, 0, sizeof w->status);
  }
}

/* The client's work during this call (since workers_prepare). */
static void summary_model(summary *s, const rk_ctx *ctx) {
  rk__mstats now;
  const rk__mstats *a = &ctx->mstart;
  rk__mclient_stats(ctx->mc, &now);
  s->model.requests = now.requests - a->requests;
  s->model.attempts = now.attempts - a->attempts;
  s->model.retries = now.retries - a->retries;
  s->model.errors = now.errors - a->errors;
  s->model.cache_hits = now.cache_hits - a->cache_hits;
  s->model.prompt_tokens = now.prompt_tokens - a->prompt_tokens;
  s->model.completion_tokens = now.completion_tokens - a->completion_tokens;
  s->model.wait_ms = now.wait_ms - a->wait_ms;
  s->have_model = s->model.requests || s->model.cache_hits;
}

static void summary_groups(summary *s, const gmap *m) {
  s->groups = m->n;
  s->zero_variance = 0;
  for (size_t i = 0; i < m->n; i++)
    if (m->g[i].count >= 2 && m->g[i].min == m->g[i].max) s->zero_variance++;
}

/* Counts in decimal: the summary is written for every batch, and printf
 * was a third of the cost of a one-record batch. */
static void put_u(rk__buf *o, uint64_t v) {
  char t[24];
  rk__buf_put(o, t, rk__fmt_u64(t, v));
}

static void summary_json(const summary *s, const rk_spec *spec, rk__buf *o) {
  rk__buf_puts(o, "{\"records\":");
  put_u(o, s->records);
  rk__buf_puts(o, ",\"scored\":");
  put_u(o, s->reward_cnt);
  rk__buf_puts(o, ",\"reward_mean\":");
  put_num(o, s->reward_cnt ? s->reward_sum / (double)s->reward_cnt : NAN);
  rk__buf_puts(o, ",\"status\":{");
  for (int k = 0; k < RK_STATUS_COUNT; k++) {
    if (k) rk__buf_putc(o, ',');
    rk__buf_putc(o, '"');
    rk__buf_puts(o, rk_status_name((rk_status)k));
    rk__buf_puts(o, "\":");
    put_u(o, s->status[k]);
  }
  rk__buf_puts(o, "},\"components\":{");
  for (size_t k = 0; k < s->ncomp; k++) {
    if (k) rk__buf_putc(o, ',');
    rk__json_put_str(o, spec->comp_names[k], strlen(spec->comp_names[k]));
    rk__buf_putc(o, ':');
    put_num(o, s->comp_cnt[k] ? s->comp_sum[k] / (double)s->comp_cnt[k] : NAN);
  }
  rk__buf_puts(o, "},\"groups\":");
  put_u(o, s->groups);
  rk__buf_puts(o, ",\"zero_variance_groups\":");
  put_u(o, s->zero_variance);
  if (spec->filter.enabled)
    rk__buf_printf(o, ",\"filtered_groups\":%zu,\"dropped_records\":%zu",
                   s->filtered_groups, s->dropped);
  if (s->have_adv)
    rk__buf_printf(o, ",\"advantage\":{\"estimator\":\"%s\",\"singleton_groups\":%zu}",
                   rk__adv_name(spec->adv.estimator), s->adv.singletons);
  if (s->have_model) {
    const rk__mstats *m = &s->model;
    rk__buf_printf(o,
                   ",\"model\":{\"requests\":%llu,\"attempts\":%llu,\"retries\":%llu,"
                   "\"errors\":%llu,\"cache_hits\":%llu,\"prompt_tokens\":%llu,"
                   "\"completion_tokens\":%llu,\"wait_ms\":%.1f}",
                   (unsigned long long)m->requests, (unsigned long long)m->attempts,
                   (unsigned long long)m->retries, (unsigned long long)m->errors,
                   (unsigned long long)m->cache_hits, (unsigned long long)m->prompt_tokens,
                   (unsigned long long)m->completion_tokens, m->wait_ms);
  }
  rk__buf_putc(o, '}');
}

/* The summary as malloc'd JSON text, or NULL when memory runs out. */
static char *summary_text(const summary *s, const rk_spec *spec, size_t *len) {
  rk__buf b;
  rk__buf_init(&b, 0);
  summary_json(s, spec, &b);
  if (b.oom) {
    rk__buf_release(&b);
    return NULL;
  }
  return rk__buf_take(&b, len);
}

/* ------------------------------------------------- group post-processing */

/* Decides filters and advantages for items[0..n) (whole input), then
 * calls emit() for each kept record with its final text. */
typedef int (*emit_fn)(void *user, const item *it, double adv, int filtered,
                       const char *tail, size_t tlen);

static int finish_groups(const rk_spec *spec, item *items, size_t n, int keep_dropped,
                         summary *sum, emit_fn emit, void *user) {
  gmap m = {0};
  size_t *gidx = malloc((n ? n : 1) * sizeof *gidx);
  double *adv = NULL, *r = NULL, *len = NULL;
  size_t *dense = NULL;
  int rc = -1;
  if (!gidx || group_items(&m, items, n, gidx)) goto out;
  summary_groups(sum, &m);

  if (spec->filter.enabled) {
    const rk__filter *f = &spec->filter;
    for (size_t g = 0; g < m.n; g++) {
      gstat *gs = &m.g[g];
      double mean = gs->count ? gs->sum / (double)gs->count : NAN;
      if (f->zero_variance && gs->count >= 2 && gs->min == gs->max)
        gs->filtered = 1;
      else if (f->has_range && !(mean > f->lo && mean < f->hi))
        gs->filtered = 2;
      if (gs->filtered) {
        sum->filtered_groups++;
        if (f->drop) sum->dropped += gs->members;
      }
    }
  }
  if (spec->adv.estimator != RK__ADV_NONE) {
    /* Records without a group each form their own group. */
    size_t ng = m.n;
    adv = malloc((n ? n : 1) * sizeof *adv);
    r = malloc((n ? n : 1) * sizeof *r);
    len = malloc((n ? n : 1) * sizeof *len);
    dense = malloc((n ? n : 1) * sizeof *dense);
    if (!adv || !r || !len || !dense) goto out;
    for (size_t i = 0; i < n; i++) {
      r[i] = items[i].reward;
      len[i] = items[i].length;
      dense[i] = gidx[i] == (size_t)-1 ? ng++ : gidx[i];
    }
    if (rk__adv_compute(&spec->adv, r, dense, len, n, ng, adv, &sum->adv)) goto out;
    sum->have_adv = 1;
  }
  for (size_t i = 0; i < n; i++) {
    char tail[128];
    size_t tl = 0;
    int filt = gidx[i] != (size_t)-1 ? m.g[gidx[i]].filtered : 0;
    if (filt && spec->filter.drop && !keep_dropped) continue;
    if (adv) {
      memcpy(tail + tl, ",\"advantage\":", 13);
      tl += 13;
      tl += rk__fmt_double(tail + tl, adv[i]);
    }
    if (filt) {
      const char *why = filt == 1 ? ",\"filtered\":\"zero_variance\""
                                  : ",\"filtered\":\"mean_out_of_range\"";
      memcpy(tail + tl, why, strlen(why));
      tl += strlen(why);
    }
    memcpy(tail + tl, "}\n", 2);
    tl += 2;
    if (emit(user, &items[i], adv ? adv[i] : NAN, filt, tail, tl)) goto out;
  }
  rc = 0;
out:
  gmap_free(&m);
  free(gidx);
  free(adv);
  free(r);
  free(len);
  free(dense);
  return rc;
}

/* --------------------------------------------------------------- batch */

struct rk_batch {
  rk__buf text;        /* all output lines, each ending in "\n" */
  size_t *off;         /* line i = text[off[i] .. off[i+1]-1) */
  double *table;       /* line i: [reward, status, advantage, filtered, comps...] */
  size_t ncol;         /* 4 + components */
  const double *comp;  /* while scoring: input i's components, ncol-4 each */
  size_t n;
  char *summary;
  size_t summary_len;
};

static void opts_fill(rk_score_options *o, const rk_score_options *in) {
  memset(o, 0, sizeof *o);
  if (in) *o = *in;
  if (!o->step_budget) o->step_budget = RK_DEFAULT_STEPS;
  if (!o->max_line) o->max_line = RK_DEFAULT_MAX_LINE;
}

static int batch_emit(void *user, const item *it, double adv, int filt,
                      const char *tail, size_t tl) {
  rk_batch *b = user;
  double *row = b->table + b->n * b->ncol;
  size_t nc = b->ncol - 4;
  row[0] = it->reward;
  row[1] = (double)it->status;
  row[2] = adv;
  row[3] = filt;
  if (nc) memcpy(row + 4, b->comp + it->idx * nc, nc * sizeof *row);
  b->off[b->n] = b->text.n;
  b->n++;
  rk__buf_put(&b->text, it->text, it->len);
  rk__buf_put(&b->text, tail, tl);
  return b->text.oom ? -1 : 0;
}

void rk_batch_free(rk_batch *b) {
  if (!b) return;
  rk__buf_release(&b->text);
  free(b->off);
  free(b->table);
  free(b->summary);
  free(b);
}

rk_err rk_score_batch(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                      const char *const *recs, const size_t *lens, size_t n,
                      rk_batch **out) {
  return rk_score_batch_responses(ctx, spec, opts, recs, lens, NULL, NULL, n, out);
}

/* What a batch makes besides its table: the summary (rk_batch_summary),
 * and every record's whole line (else only {"status": ...} where the
 * status is not error and explain is not set). */
#define BR_SUMMARY 1u
#define BR_LINES 2u
#define BR_ALL (BR_SUMMARY | BR_LINES)

/* Scores records [0, n) of a batch whose first record is input line
 * line0 + 1; the caller checked the arguments. A failure's message goes
 * to errmsg (sizeof ctx->errmsg bytes). */
static rk_err batch_run(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *o_in,
                        const char *const *recs, const size_t *lens,
                        const char *const *responses, const size_t *resp_lens,
                        const unsigned char *resp_kinds, size_t n, uint64_t line0,
                        started *help, unsigned flags, char *errmsg, rk_batch **out) {
  rk_score_options o = *o_in;
  rk_err rc = workers_prepare(ctx, spec, o.explain);
  if (rc) {
    snprintf(errmsg, sizeof ctx->errmsg, "out of memory preparing workers");
    return rc;
  }

  rk_batch *b = calloc(1, sizeof *b);
  slot sl = {0};
  int have_slot = slot_reserve(&sl, n ? n : 1) == 0;
  line_in *lines = sl.lines;
  item *items = sl.items;
  summary sum;
  int have_sum = summary_init(&sum, spec) == 0;
  double *comp = malloc((n ? n : 1) * (spec->ncomp + 1) * sizeof *comp);
  if (b) {
    rk__buf_init(&b->text, 0);
    b->off = malloc((n + 1) * sizeof *b->off);
    b->ncol = 4 + spec->ncomp;
    b->table = malloc((n ? n : 1) * b->ncol * sizeof *b->table);
    b->comp = comp;
  }
  if (!b || !have_slot || !have_sum || !comp || !b->off || !b->table) {
    rc = RK_ENOMEM;
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    /* Marshal data holds the response: the limit applies to the JSON
     * text written for the rest (score_line), as for a response apart. */
    lines[i].p = lens[i] > o.max_line && o.format == RK_FORMAT_JSON ? NULL : recs[i];
    lines[i].n = lens[i];
    lines[i].line = line0 + i + 1;
    lines[i].resp = responses ? responses[i] : NULL;
    lines[i].resp_n = responses && responses[i] ? resp_lens[i] : 0;
    lines[i].resp_kind = responses && responses[i] && resp_kinds ? resp_kinds[i] : 0;
    if (!recs[i]) {
      rc = RK_EINVAL;
      goto fail;
    }
  }
  sl.n = n;
  job jb = {.ctx = ctx, .spec = spec, .opts = o, .sl = &sl, .open = 1,
            .comp_out = comp, .want_length = spec->adv.estimator == RK__ADV_OPO,
            .help = help, .quiet = !(flags & BR_LINES)};
  chunk_begin(&jb);
  if (chunk_finish(&jb)) {
    rc = RK_ENOMEM;
    goto fail;
  }
  summary_merge(&sum, ctx);
  if (!rk_spec_needs_groups(spec)) {
    /* No post-processing, but the summary still counts groups. */
    gmap m = {0};
    if (group_items(&m, items, n, NULL)) {
      gmap_free(&m);
      rc = RK_ENOMEM;
      goto fail;
    }
    summary_groups(&sum, &m);
    gmap_free(&m);
    for (size_t i = 0; i < n; i++)
      if (batch_emit(b, &items[i], NAN, 0, "}\n", 2)) {
        rc = RK_ENOMEM;
        goto fail;
      }
  } else if (finish_groups(spec, items, n, o.results_only, &sum, batch_emit, b)) {
    rc = RK_ENOMEM;
    goto fail;
  }
  b->off[b->n] = b->text.n;
  summary_model(&sum, ctx);
  if ((flags & BR_SUMMARY) && !(b->summary = summary_text(&sum, spec, &b->summary_len))) {
    rc = RK_ENOMEM;
    goto fail;
  }
  b->comp = NULL;
  free(comp);
  summary_free(&sum);
  slot_free(&sl);
  *out = b;
  return RK_OK;
fail:
  if (have_sum) summary_free(&sum);
  slot_free(&sl);
  free(comp);
  rk_batch_free(b);
  snprintf(errmsg, sizeof ctx->errmsg, "%s",
           rc == RK_EINVAL ? "a record pointer is NULL" : "out of memory while scoring a batch");
  return rc;
}

static int batch_args_ok(const rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                         const char *const *recs, const size_t *lens,
                         const char *const *responses, const size_t *resp_lens, size_t n) {
  if (!ctx || !spec || (n && (!recs || !lens))) return 0;
  if (opts && opts->format != RK_FORMAT_JSON &&
      (opts->format != RK_FORMAT_PYMARSHAL || !opts->results_only))
    return 0;
  return !responses || (resp_lens && opts && opts->results_only);
}

static rk_err score_now(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                        const char *const *recs, const size_t *lens,
                        const char *const *responses, const size_t *resp_lens,
                        const unsigned char *resp_kinds, size_t n, unsigned flags,
                        rk_batch **out) {
  if (!out) return RK_EINVAL;
  *out = NULL;
  if (!batch_args_ok(ctx, spec, opts, recs, lens, responses, resp_lens, n)) return RK_EINVAL;
  if (ctx_busy(ctx)) return RK_EBUSY;
  rk_score_options o;
  opts_fill(&o, opts);
  ctx->errmsg[0] = '\0';
  return batch_run(ctx, spec, &o, recs, lens, responses, resp_lens, resp_kinds, n, 0, NULL,
                   flags, ctx->errmsg, out);
}

rk_err rk_score_batch_responses(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                                const char *const *recs, const size_t *lens,
                                const char *const *responses, const size_t *resp_lens,
                                size_t n, rk_batch **out) {
  return score_now(ctx, spec, opts, recs, lens, responses, resp_lens, NULL, n, BR_ALL, out);
}

/* Records read in place from Python (rk_py_records): JSON texts, and
 * responses as UTF-8 or as a str's code units. */
static int pyrecords_ok(const rk_pyrecords *r, const rk_score_options *opts) {
  return r && (!opts || opts->format == RK_FORMAT_JSON);
}

rk_err rk_score_pyrecords(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                          const rk_pyrecords *r, rk_batch **out) {
  if (!pyrecords_ok(r, opts)) {
    if (out) *out = NULL;
    return RK_EINVAL;
  }
  return score_now(ctx, spec, opts, r->lines, r->lens, r->resps, r->rlens, r->kinds, r->n, BR_ALL,
                   out);
}

rk_err rk__score_pyrecords_bare(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                                const rk_pyrecords *r, rk_batch **out) {
  if (!pyrecords_ok(r, opts)) {
    if (out) *out = NULL;
    return RK_EINVAL;
  }
  return score_now(ctx, spec, opts, r->lines, r->lens, r->resps, r->rlens, r->kinds, r->n, 0,
                   out); /* no summary; lines only where read */
}

/* ------------------------------------------------------ started batches */

/* How long the scoring thread watches for the next batch, and the caller
 * for the next piece, before sleeping: longer than the pool's watch, as a
 * binding converts a piece (about 1 us a record) between two calls. Not
 * on a one-CPU machine, where the watcher would hold the scorer's CPU. */
#define STARTED_SPIN_NS 500000

/* Threads that score a started batch: the context's, less one when they
 * would take every CPU, so that the caller has one to convert pieces on
 * (the Python thread is otherwise a third thread on two CPUs, and every
 * worker hand-over waits for the scheduler). */
static unsigned started_threads(const rk_ctx *ctx) {
  if (ctx->n < ctx->cpus) return ctx->n;
  return ctx->cpus > 1 ? ctx->cpus - 1 : 1;
}

/* The worker slot the caller scores with while it waits for a piece, or
 * 0 when it does not help: when the context's threads take every CPU
 * (started_threads leaves one slot free) and there is more than one. */
static unsigned helper_slot(const rk_ctx *ctx) {
  unsigned use = started_threads(ctx);
  return use < ctx->n && ctx->cpus > 1 ? use : 0;
}

/* Records per piece. Small enough that the caller's work on the last
 * piece, which nothing overlaps, stays short; large enough that every
 * worker gets blocks of its own and the per-piece costs (a summary, a
 * wake-up of the workers, the hand-overs with a helping caller) stay
 * small. When the caller helps, pieces of 512 records or more measured
 * best (bench/bench_python.py, 2 CPUs: 256-record batches in one piece
 * 2.6 us a record, in four 3.3 us). One piece when groups or servers need
 * the whole batch at once. */
static size_t piece_size(const rk_ctx *ctx, const rk_spec *spec, size_t n) {
  if (rk_spec_needs_groups(spec) || spec->calls_model) return n ? n : 1;
  int helped = helper_slot(ctx) != 0;
  size_t per = helped ? n / 8 : n / 4;
  size_t lo = helped ? 8 * (size_t)BLOCK_LINES
              : started_threads(ctx) > 1 ? 2 * (size_t)BLOCK_LINES : (size_t)BLOCK_LINES;
  if (per < lo) per = lo;
  if (per > 1024) per = 1024;
  return per;
}

static void *started_main(void *arg) {
  rk_ctx *ctx = arg;
  started *s = &ctx->st;
  unsigned long seen = 0;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    if (!s->stop && !s->queued && ctx->cpus > 1) {
      /* The next batch often follows at once: watch before sleeping. */
      pthread_mutex_unlock(&s->mu);
      rk__spin_while(&s->starts, seen, 1, NULL, STARTED_SPIN_NS);
      pthread_mutex_lock(&s->mu);
    }
    while (!s->stop && !s->queued) pthread_cond_wait(&s->wake, &s->mu);
    if (s->stop) break;
    s->queued = 0;
    seen = atomic_load(&s->starts);
    for (size_t k = 0; k < s->npieces && !s->cancel; k++) {
      pthread_mutex_unlock(&s->mu);
      size_t a = k * s->per, m = s->n - a < s->per ? s->n - a : s->per;
      rk_batch *b = NULL;
      rk_err rc = batch_run(ctx, s->spec, &s->o, s->recs + a, s->lens + a,
                            s->resps ? s->resps + a : NULL,
                            s->resps ? s->resp_lens + a : NULL,
                            s->resp_kinds ? s->resp_kinds + a : NULL, m, a,
                            s->helper && !s->spec->calls_model ? s : NULL, BR_ALL, s->errmsg,
                            &b);
      pthread_mutex_lock(&s->mu);
      s->pieces[k] = b;
      s->scored = k + 1;
      atomic_fetch_add_explicit(&s->progress, 1, memory_order_release);
      pthread_cond_signal(&s->ready);
      if (rc) {
        s->rc = rc;
        break;
      }
    }
    s->done = 1;
    atomic_fetch_add_explicit(&s->progress, 1, memory_order_release);
    pthread_cond_signal(&s->ready);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* The caller's help (s->helper != 0: the context's threads take every
 * CPU, so a started batch is scored by one thread less, and the caller's
 * thread scores too while it waits for a piece). The thread opens each
 * piece to the caller before scoring its own share and closes it after:
 * once closed, no caller joins, and the thread waits for the one inside to
 * finish its block before the piece is assembled. */
static void help_open(job *jb) {
  started *s = jb->help;
  pthread_mutex_lock(&s->mu);
  s->cur = jb;
  s->cur_gen++;
  atomic_fetch_add_explicit(&s->progress, 1, memory_order_release);
  pthread_cond_broadcast(&s->ready);
  pthread_mutex_unlock(&s->mu);
}

static void help_close(job *jb) {
  started *s = jb->help;
  pthread_mutex_lock(&s->mu);
  s->cur = NULL;
  pthread_mutex_unlock(&s->mu);
  /* A caller inside has at most one block left. */
  if (atomic_load_explicit(&s->helpers, memory_order_acquire))
    rk__spin_while(&s->helpers, 0, 0, NULL, STARTED_SPIN_NS);
  pthread_mutex_lock(&s->mu);
  while (atomic_load_explicit(&s->helpers, memory_order_acquire))
    pthread_cond_wait(&s->helped, &s->mu);
  pthread_mutex_unlock(&s->mu);
}

/* Locks s->mu once piece k is scored or the batch is done. Meanwhile it
 * scores blocks of the open piece (once per piece), watches the thread's
 * progress for a while, then sleeps. */
static void started_wait(rk_ctx *ctx, size_t k) {
  started *s = &ctx->st;
  unsigned long helped = 0;
  int watch = ctx->cpus > 1;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    if (s->scored > k || s->done) return;
    if (s->cur && s->cur_gen != helped) {
      struct job *j = s->cur;
      helped = s->cur_gen;
      atomic_fetch_add_explicit(&s->helpers, 1, memory_order_relaxed);
      pthread_mutex_unlock(&s->mu);
      run_blocks(j, s->helper, ctx->n);
      pthread_mutex_lock(&s->mu);
      if (atomic_fetch_sub_explicit(&s->helpers, 1, memory_order_release) == 1)
        pthread_cond_signal(&s->helped);
      watch = ctx->cpus > 1;
      continue;
    }
    if (watch) {
      unsigned long seen = atomic_load(&s->progress);
      pthread_mutex_unlock(&s->mu);
      watch = rk__spin_while(&s->progress, seen, 1, NULL, STARTED_SPIN_NS);
      pthread_mutex_lock(&s->mu);
      continue;
    }
    pthread_cond_wait(&s->ready, &s->mu);
  }
}

static rk_err start_batch(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                          const char *const *recs, const size_t *lens,
                          const char *const *responses, const size_t *resp_lens,
                          const unsigned char *resp_kinds, size_t n) {
  if (!batch_args_ok(ctx, spec, opts, recs, lens, responses, resp_lens, n)) return RK_EINVAL;
  if (ctx_busy(ctx)) return RK_EBUSY;
  started *s = &ctx->st;
  ctx->errmsg[0] = '\0';
  size_t per = piece_size(ctx, spec, n);
  size_t np = n ? (n + per - 1) / per : 1;
  rk_batch **pieces = calloc(np, sizeof *pieces);
  if (!pieces) return ctx_fail(ctx, RK_ENOMEM, "out of memory starting a batch");
  if (!s->have_thread) {
    if (pthread_create(&s->thread, NULL, started_main, ctx) != 0) {
      free(pieces);
      return ctx_fail(ctx, RK_ETHREAD, "could not start the thread that scores started batches");
    }
    s->have_thread = 1;
  }
  ctx->use = started_threads(ctx);
  pthread_mutex_lock(&s->mu);
  s->helper = helper_slot(ctx);
  s->pieces = pieces;
  s->spec = spec;
  opts_fill(&s->o, opts);
  s->recs = recs;
  s->lens = lens;
  s->resps = responses;
  s->resp_lens = resp_lens;
  s->resp_kinds = resp_kinds;
  s->n = n;
  s->per = per;
  s->npieces = np;
  s->scored = 0;
  s->rc = RK_OK;
  s->errmsg[0] = '\0';
  s->cancel = s->done = 0;
  s->queued = 1;
  atomic_fetch_add_explicit(&s->starts, 1, memory_order_release);
  pthread_cond_signal(&s->wake);
  pthread_mutex_unlock(&s->mu);
  s->active = 1;
  s->taken = 0;
  return RK_OK;
}

rk_err rk_score_batch_start(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                            const char *const *recs, const size_t *lens,
                            const char *const *responses, const size_t *resp_lens,
                            size_t n) {
  return start_batch(ctx, spec, opts, recs, lens, responses, resp_lens, NULL, n);
}

rk_err rk_score_pyrecords_start(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                                const rk_pyrecords *r) {
  if (!pyrecords_ok(r, opts)) return RK_EINVAL;
  return start_batch(ctx, spec, opts, r->lines, r->lens, r->resps, r->rlens, r->kinds, r->n);
}

/* Waits until the thread is done with the batch, frees the pieces not
 * taken, and frees the context for other calls. */
static void started_end(rk_ctx *ctx, int cancel) {
  started *s = &ctx->st;
  pthread_mutex_lock(&s->mu);
  if (cancel) s->cancel = 1;
  pthread_mutex_unlock(&s->mu);
  started_wait(ctx, SIZE_MAX);
  pthread_mutex_unlock(&s->mu);
  ctx->use = ctx->n;
  for (size_t k = s->taken; k < s->npieces; k++) rk_batch_free(s->pieces[k]);
  free(s->pieces);
  s->pieces = NULL;
  s->active = 0;
}

rk_err rk_score_batch_next(rk_ctx *ctx, rk_batch **out) {
  if (!out) return RK_EINVAL;
  *out = NULL;
  if (!ctx) return RK_EINVAL;
  started *s = &ctx->st;
  if (!s->active) return RK_OK;
  size_t k = s->taken;
  started_wait(ctx, k);
  rk_batch *b = k < s->scored ? s->pieces[k] : NULL;
  rk_err rc = b ? RK_OK : s->rc;
  pthread_mutex_unlock(&s->mu);
  if (b) {
    s->pieces[k] = NULL;
    s->taken = k + 1;
    if (s->taken == s->npieces) started_end(ctx, 0);
    *out = b;
    return RK_OK;
  }
  /* The piece failed (or, defensively, the thread stopped short). */
  if (rc == RK_OK) rc = RK_ENOMEM;
  ctx_fail(ctx, rc, s->errmsg[0] ? s->errmsg : "scoring the batch failed");
  started_end(ctx, 1);
  return rc;
}

void rk_score_batch_abort(rk_ctx *ctx) {
  if (ctx && ctx->st.active) started_end(ctx, 1);
}

static void started_stop(rk_ctx *ctx) {
  started *s = &ctx->st;
  if (s->active) started_end(ctx, 1);
  if (s->have_thread) {
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->have_thread = 0;
  }
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->wake);
  pthread_cond_destroy(&s->ready);
  pthread_cond_destroy(&s->helped);
}

size_t rk_batch_count(const rk_batch *b) { return b ? b->n : 0; }

const char *rk_batch_line(const rk_batch *b, size_t i, size_t *len) {
  if (!b || i >= b->n) {
    if (len) *len = 0;
    return NULL;
  }
  if (len) *len = b->off[i + 1] - b->off[i] - 1; /* without the newline */
  return b->text.p + b->off[i];
}

double rk_batch_reward(const rk_batch *b, size_t i) {
  return b && i < b->n ? b->table[i * b->ncol] : NAN;
}

rk_status rk_batch_status(const rk_batch *b, size_t i) {
  return b && i < b->n ? (rk_status)b->table[i * b->ncol + 1] : RK_STATUS_ERROR;
}

rk_err rk_batch_pymarshal(const rk_batch *b, const rk_spec *spec, int advantage, char **out,
                          size_t *outlen, size_t *errors) {
  if (out) *out = NULL;
  if (outlen) *outlen = 0;
  if (errors) *errors = 0;
  if (!b || !spec || !out || b->ncol != 4 + spec->ncomp) return RK_EINVAL;
  if (b->n > INT32_MAX) return RK_ELIMIT;
  static const char *const why[3] = {"", "zero_variance", "mean_out_of_range"};
  static const char *const keys[] = {"reward", "status", "components", "advantage",
                                     "filtered", "zero_variance", "mean_out_of_range"};
  size_t nc = spec->ncomp, nerr = 0;
  /* Room: a record takes at most 57 + 14 nc bytes when every str in it is
   * a 5-byte reference (a '{', 5 str slots, 3 numbers of 9 bytes, 2 dict
   * ends, and a name slot and a number per component); each str is once
   * written in full instead, its length more. */
  size_t once = 0;
  for (size_t k = 0; k < nc; k++) once += strlen(spec->comp_names[k]);
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) once += strlen(keys[k]);
  for (int k = 0; k < RK_STATUS_COUNT; k++) once += strlen(rk_status_name((rk_status)k));
  size_t per = 57 + 14 * nc;
  if (b->n > (SIZE_MAX - once - 8) / per) return RK_ELIMIT;
  unsigned char *buf = malloc(5 + once + b->n * per + 1);
  long *names = malloc((nc ? nc : 1) * sizeof *names);
  if (!buf || !names) {
    free(buf);
    free(names);
    return RK_ENOMEM;
  }
  for (size_t k = 0; k < nc; k++) names[k] = -1;
  long nref = 0, r_reward = -1, r_status = -1, r_comp = -1, r_adv = -1, r_filt = -1;
  long r_st[RK_STATUS_COUNT], r_why[3] = {-1, -1, -1};
  for (int k = 0; k < RK_STATUS_COUNT; k++) r_st[k] = -1;
  unsigned char *w = buf;
  *w++ = '[';
  for (int k = 0; k < 4; k++) *w++ = (unsigned char)(b->n >> (8 * k));
  for (size_t i = 0; i < b->n; i++) {
    const double *row = b->table + i * b->ncol;
    *w++ = '{';
    w = rk__pym_str(w, &r_reward, &nref, "reward", 6);
    w = rk__pym_num(w, row[0]);
    int st = (int)row[1];
    if (st < 0 || st >= RK_STATUS_COUNT) st = RK_STATUS_ERROR;
    nerr += st == RK_STATUS_ERROR;
    const char *sn = rk_status_name((rk_status)st);
    w = rk__pym_str(w, &r_status, &nref, "status", 6);
    w = rk__pym_str(w, &r_st[st], &nref, sn, strlen(sn));
    w = rk__pym_str(w, &r_comp, &nref, "components", 10);
    *w++ = '{';
    for (size_t k = 0; k < nc; k++) {
      const char *name = spec->comp_names[k];
      w = rk__pym_str(w, &names[k], &nref, name, names[k] < 0 ? strlen(name) : 0);
      w = rk__pym_num(w, row[4 + k]);
    }
    *w++ = '0';
    if (advantage) {
      w = rk__pym_str(w, &r_adv, &nref, "advantage", 9);
      w = rk__pym_num(w, row[2]);
    }
    int f = (int)row[3];
    if (f == 1 || f == 2) {
      w = rk__pym_str(w, &r_filt, &nref, "filtered", 8);
      w = rk__pym_str(w, &r_why[f], &nref, why[f], strlen(why[f]));
    }
    *w++ = '0';
  }
  free(names);
  *out = (char *)buf;
  if (outlen) *outlen = (size_t)(w - buf);
  if (errors) *errors = nerr;
  return RK_OK;
}

rk_err rk_batch_table(const rk_batch *b, double *out, size_t cap) {
  if (!b || (!out && b->n)) return RK_EINVAL;
  size_t need = b->n * b->ncol;
  if (cap < need) return RK_ETOOSMALL;
  if (need) memcpy(out, b->table, need * sizeof *out);
  return RK_OK;
}

const char *rk_batch_summary(const rk_batch *b, size_t *len) {
  if (!b) return NULL;
  if (len) *len = b->summary_len;
  return b->summary;
}

rk_err rk_score_one(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                    const char *rec, size_t len, char **out, size_t *outlen) {
  if (!out) return RK_EINVAL;
  *out = NULL;
  rk_batch *b = NULL;
  /* Checks busy; no summary (nothing reads it here). */
  rk_err rc = score_now(ctx, spec, opts, &rec, &len, NULL, NULL, NULL, 1, BR_LINES, &b);
  if (rc) return rc;
  size_t n = 0;
  const char *line = rk_batch_line(b, 0, &n);
  if (!line) {
    /* Dropped by a filter: a group of one is never zero-variance, but a
     * mean range can exclude it. Report it as an error-free empty result. */
    line = "";
    n = 0;
  }
  char *p = malloc(n + 1);
  if (!p) {
    rk_batch_free(b);
    return RK_ENOMEM;
  }
  memcpy(p, line, n);
  p[n] = '\0';
  *out = p;
  if (outlen) *outlen = n;
  rk_batch_free(b);
  return RK_OK;
}

/* -------------------------------------------------------------- stream */

#define CHUNK_LINES 4096
#define READ_MIN ((size_t)8 << 20)

typedef struct writer {
  const rk_stream_io *io;
  rk__buf buf;
  int failed;
} writer;

static int writer_flush(writer *wr) {
  if (wr->buf.n && !wr->failed && wr->io->write(wr->io->write_user, wr->buf.p, wr->buf.n))
    wr->failed = 1;
  rk__buf_reset(&wr->buf);
  return wr->failed ? -1 : 0;
}

/* Small pieces are gathered into one buffer; large ones (a block's output)
 * go straight to write() after what is buffered, saving a copy. */
static int writer_put(writer *wr, const char *p, size_t n) {
  if (wr->failed) return -1;
  if (n >= ((size_t)64 << 10)) {
    if (writer_flush(wr)) return -1;
    if (wr->io->write(wr->io->write_user, p, n)) wr->failed = 1;
    return wr->failed ? -1 : 0;
  }
  if (wr->buf.n + n > ((size_t)1 << 20) && writer_flush(wr)) return -1;
  return rk__buf_put(&wr->buf, p, n);
}

static int stream_emit(void *user, const item *it, double adv, int filtered,
                       const char *tail, size_t tl) {
  writer *wr = user;
  RK__UNUSED(adv);
  RK__UNUSED(filtered);
  if (writer_put(wr, it->text, it->len) || writer_put(wr, tail, tl)) return -1;
  return 0;
}

/* Input: three buffers used in turn. Lines handed out for a chunk point
 * into the current buffer; the unconsumed tail then moves to the next
 * buffer, which is refilled while the chunk is being scored. A buffer is
 * reused only after the chunk that points into it has been written: while
 * chunk k (buffer i) is scored, chunk k-1 (buffer i-1) is written, then
 * chunk k+1 is read into buffer i+1 and its tail moved to buffer i+2, which
 * is buffer i-1 again. */
typedef struct inbuf {
  char *p;
  size_t cap, start, end; /* unconsumed bytes are p[start..end) */
} inbuf;

typedef struct reader {
  const rk_stream_io *io;
  inbuf b[3];
  int cur;
  int mem;                /* input is io->data: one view, never refilled */
  int eof, failed;
  uint64_t line;          /* lines consumed so far */
  uint64_t bytes;
  int skipping;           /* inside an over-long line, discarding */
} reader;

/* Held chunks when the spec needs every group in memory. */
typedef struct held {
  rk__buf *bufs;          /* output text and keys of every block so far */
  size_t nbufs, capbufs;
  item *items;
  size_t n, cap;
} held;

static int held_push(held *h, rk__buf *src) {
  if (h->nbufs == h->capbufs) {
    size_t cap = h->capbufs ? h->capbufs * 2 : 64;
    rk__buf *p = realloc(h->bufs, cap * sizeof *p);
    if (!p) return -1;
    h->bufs = p;
    h->capbufs = cap;
  }
  h->bufs[h->nbufs++] = *src;
  rk__buf_init(src, 0);
  return 0;
}

/* Moves a scored slot's blocks and items into storage; the items keep
 * pointing into the moved buffers (their memory does not move). */
static int held_take_chunk(held *h, slot *sl) {
  if (h->n + sl->n > h->cap) {
    size_t cap = h->cap ? h->cap : 4096;
    while (cap < h->n + sl->n) cap *= 2;
    item *p = realloc(h->items, cap * sizeof *p);
    if (!p) return -1;
    h->items = p;
    h->cap = cap;
  }
  for (size_t i = 0; i < sl->nblocks; i++) {
    if (sl->blocks[i].out.n && held_push(h, &sl->blocks[i].out)) return -1;
    if (sl->blocks[i].keys.n && held_push(h, &sl->blocks[i].keys)) return -1;
  }
  memcpy(h->items + h->n, sl->items, sl->n * sizeof *sl->items);
  h->n += sl->n;
  return 0;
}

static void held_free(held *h) {
  for (size_t i = 0; i < h->nbufs; i++) rk__buf_release(&h->bufs[i]);
  free(h->bufs);
  free(h->items);
}

/* Reads more input into the current buffer; -1 on read or memory error. */
static int reader_fill(reader *rd, size_t max_line) {
  inbuf *ib = &rd->b[rd->cur];
  if (ib->start > 0 && ib->start == ib->end) ib->start = ib->end = 0;
  if (ib->end == ib->cap) {
    if (ib->start > 0) {
      memmove(ib->p, ib->p + ib->start, ib->end - ib->start);
      ib->end -= ib->start;
      ib->start = 0;
    } else {
      size_t cap = ib->cap ? ib->cap * 2 : READ_MIN;
      if (cap > max_line + READ_MIN + 1) cap = max_line + READ_MIN + 1;
      if (cap <= ib->cap) return 0; /* full: the caller handles the long line */
      char *p = realloc(ib->p, cap);
      if (!p) return -1;
      ib->p = p;
      ib->cap = cap;
    }
  }
  long k = rd->io->read(rd->io->read_user, ib->p + ib->end, ib->cap - ib->end);
  if (k < 0 || (size_t)k > ib->cap - ib->end) {
    rd->failed = 1;
    return -1;
  }
  if (k == 0) rd->eof = 1;
  ib->end += (size_t)k;
  rd->bytes += (uint64_t)k;
  return 0;
}

/* Takes up to CHUNK_LINES complete lines from the current buffer. Blank
 * lines are skipped but counted. */
static size_t reader_lines(reader *rd, line_in *out, size_t max_line) {
  inbuf *ib = &rd->b[rd->cur];
  size_t n = 0;
  while (n < CHUNK_LINES) {
    char *s = ib->p + ib->start;
    size_t avail = ib->end - ib->start;
    char *nl = avail ? memchr(s, '\n', avail) : NULL;
    if (rd->skipping) {
      /* Discarding the rest of an over-long line. */
      if (!nl) {
        ib->start = ib->end;
        if (!rd->eof) break;
        rd->skipping = 0;
        continue;
      }
      ib->start += (size_t)(nl - s) + 1;
      rd->skipping = 0;
      continue;
    }
    size_t len;
    if (nl) {
      len = (size_t)(nl - s);
    } else if (rd->eof && avail) {
      len = avail;
    } else if (avail > max_line) {
      /* A line longer than the limit: report it and skip the rest. */
      out[n] = (line_in){.p = NULL, .n = avail, .line = ++rd->line};
      n++;
      rd->skipping = 1;
      ib->start = ib->end;
      continue;
    } else {
      break; /* need more input */
    }
    ib->start += len + (nl ? 1 : 0);
    rd->line++;
    size_t t = len;
    while (t && (s[t - 1] == '\r' || s[t - 1] == ' ' || s[t - 1] == '\t')) t--;
    size_t h = 0;
    while (h < t && (s[h] == ' ' || s[h] == '\t')) h++;
    if (h == t) continue; /* blank line */
    if (len > max_line)
      out[n] = (line_in){.p = NULL, .n = len, .line = rd->line};
    else
      out[n] = (line_in){.p = s + h, .n = t - h, .line = rd->line};
    n++;
  }
  return n;
}

/* Fills sl with the next chunk of lines (0 at the end of the input), then
 * moves the unconsumed tail to the other buffer so that this one stays
 * untouched while the chunk is scored. */
static int reader_chunk(reader *rd, slot *sl, size_t max_line) {
  sl->n = 0;
  if (rd->mem) {
    /* The whole input is one buffer that nobody writes: lines point into
     * it and nothing moves. */
    sl->n = reader_lines(rd, sl->lines, max_line);
    rd->bytes = rd->b[0].start;
    return 0;
  }
  for (;;) {
    if (!rd->eof && reader_fill(rd, max_line)) return -1;
    sl->n = reader_lines(rd, sl->lines, max_line);
    inbuf *ib = &rd->b[rd->cur];
    if (sl->n) break;
    if (rd->eof && ib->start == ib->end && !rd->skipping) return 0;
  }
  inbuf *ib = &rd->b[rd->cur], *ob = &rd->b[(rd->cur + 1) % 3];
  size_t rest = ib->end - ib->start;
  if (ob->cap < rest || !ob->p) {
    size_t cap = rest > READ_MIN ? rest : READ_MIN;
    char *p = realloc(ob->p, cap);
    if (!p) return -1;
    ob->p = p;
    ob->cap = cap;
  }
  if (rest) memcpy(ob->p, ib->p + ib->start, rest);
  ob->start = 0;
  ob->end = rest;
  ib->start = ib->end = 0;
  rd->cur = (rd->cur + 1) % 3;
  return 0;
}

/* Writes a scored slot (streaming mode) and counts its groups. */
static int slot_write(slot *sl, writer *wr, gmap *m) {
  if (group_items(m, sl->items, sl->n, NULL)) return -2;
  for (size_t i = 0; i < sl->nblocks; i++)
    if (writer_put(wr, sl->blocks[i].out.p, sl->blocks[i].out.n)) return -1;
  if (writer_flush(wr)) return -1;
  sl->pending = 0;
  return 0;
}

rk_err rk_score_stream(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                       const rk_stream_io *io, char **summary_out, size_t *summary_len) {
  if (summary_out) *summary_out = NULL;
  if (!ctx || !spec || !io || (!io->read && !io->data) || !io->write) return RK_EINVAL;
  if (opts && opts->format != RK_FORMAT_JSON) return RK_EINVAL; /* streams are JSONL */
  if (ctx_busy(ctx)) return RK_EBUSY;
  rk_score_options o;
  opts_fill(&o, opts);
  ctx->errmsg[0] = '\0';
  rk_err rc = workers_prepare(ctx, spec, o.explain);
  if (rc) return ctx_fail(ctx, rc, "out of memory preparing workers");
  int grouped = rk_spec_needs_groups(spec);

  reader rd = {.io = io};
  if (io->data) {
    rd.mem = 1;
    rd.eof = 1;
    rd.cur = 0;
    rd.b[0].p = (char *)io->data; /* only read, never written */
    rd.b[0].cap = rd.b[0].end = io->data_len;
  }
  writer wr = {.io = io};
  rk__buf_init(&wr.buf, 0);
  held h = {0};
  gmap m = {0};
  slot sl[2] = {{0}};
  summary sum;
  int have_sum = summary_init(&sum, spec) == 0;
  if (!have_sum || slot_reserve(&sl[0], CHUNK_LINES) || slot_reserve(&sl[1], CHUNK_LINES)) {
    rc = RK_ENOMEM;
    goto done;
  }
  /* Pipeline: while the workers score slot `cur`, the caller writes the
   * previous slot and reads the next chunk into it; then it joins the
   * scoring. With one thread this runs the same steps in sequence. */
  int cur = 0;
  if (reader_chunk(&rd, &sl[cur], o.max_line)) {
    rc = rd.failed ? RK_EIO : RK_ENOMEM;
    goto done;
  }
  while (sl[cur].n > 0) {
    int other = cur ^ 1;
    job jb = {.ctx = ctx, .spec = spec, .opts = o, .sl = &sl[cur], .open = grouped,
              .want_length = spec->adv.estimator == RK__ADV_OPO};
    chunk_begin(&jb);
    int wrc = sl[other].pending ? slot_write(&sl[other], &wr, &m) : 0;
    int rrc = wrc ? 0 : reader_chunk(&rd, &sl[other], o.max_line);
    int frc = chunk_finish(&jb);
    if (wrc || rrc || frc) {
      rc = wrc == -1 ? RK_ECALLBACK : rrc && rd.failed ? RK_EIO : RK_ENOMEM;
      goto done;
    }
    summary_merge(&sum, ctx);
    if (grouped) {
      if (held_take_chunk(&h, &sl[cur])) {
        rc = RK_ENOMEM;
        goto done;
      }
    } else {
      sl[cur].pending = 1;
    }
    if (io->progress) io->progress(io->progress_user, sum.records, rd.bytes);
    cur = other;
  }
  for (int i = 0; i < 2; i++) {
    int wrc = sl[i ^ cur].pending ? slot_write(&sl[i ^ cur], &wr, &m) : 0;
    if (wrc) {
      rc = wrc == -1 ? RK_ECALLBACK : RK_ENOMEM;
      goto done;
    }
  }
  if (grouped) {
    if (finish_groups(spec, h.items, h.n, o.results_only, &sum, stream_emit, &wr)) {
      rc = wr.failed ? RK_ECALLBACK : RK_ENOMEM;
      goto done;
    }
  } else {
    summary_groups(&sum, &m);
  }
  if (writer_flush(&wr)) {
    rc = RK_ECALLBACK;
    goto done;
  }
  summary_model(&sum, ctx);
  if (summary_out && !(*summary_out = summary_text(&sum, spec, summary_len))) {
    rc = RK_ENOMEM;
    goto done;
  }
  rc = RK_OK;
done:
  if (rc == RK_EIO) ctx_fail(ctx, rc, "reading the input failed");
  else if (rc == RK_ECALLBACK) ctx_fail(ctx, rc, "writing the output failed");
  else if (rc == RK_ENOMEM) ctx_fail(ctx, rc, "out of memory while scoring the stream");
  if (have_sum) summary_free(&sum);
  held_free(&h);
  gmap_free(&m);
  rk__buf_release(&wr.buf);
  for (int i = rd.mem ? 1 : 0; i < 3; i++) free(rd.b[i].p);
  slot_free(&sl[0]);
  slot_free(&sl[1]);
  return rc;
}
