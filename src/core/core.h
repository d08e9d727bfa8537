/*
 * core.h - internal building blocks shared by every part of the library:
 * spans, arenas, bounded buffers, step budgets, the reward-function
 * interface, argument parsing for specs, and record access.
 *
 * Not API: nothing here is visible outside librewardkit. Reward functions
 * include this header (and json/json.h, text/extract.h as needed).
 */
#ifndef RK_CORE_H
#define RK_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "rewardkit.h"

#define RK__PRINTF(a, b) __attribute__((format(printf, a, b)))
#define RK__UNUSED(x) ((void)(x))

/* ------------------------------------------------------------- spans */

/* A borrowed byte span. Not NUL-terminated. */
typedef struct rk__str {
  const char *p;
  size_t n;
} rk__str;

#define RK__STR(lit) ((rk__str){(lit), sizeof(lit) - 1})

static inline rk__str rk__str_make(const char *p, size_t n) {
  rk__str s = {p, n};
  return s;
}
int rk__str_eq(rk__str a, rk__str b);
int rk__str_eq_cstr(rk__str a, const char *z);

/* Length of the ASCII start of p[0..n): the index of the first byte >=
 * 0x80, or n. Eight bytes at a time. */
static inline size_t rk__ascii_span(const char *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  size_t i = 0;
  while (i + 8 <= n) {
    uint64_t v;
    __builtin_memcpy(&v, s + i, 8);
    v &= 0x8080808080808080ull;
    if (v) return i + (size_t)(__builtin_ctzll(v) >> 3);
    i += 8;
  }
  while (i < n && s[i] < 0x80) i++;
  return i;
}

/* -------------------------------------------------------------- arena */

/* Bump allocator for per-record scratch memory. rk__arena_reset() after
 * each record frees everything at once; nothing can leak. Allocations
 * fail (NULL) past `limit` bytes in total, which bounds memory per item. */
typedef struct rk__arena_chunk rk__arena_chunk;
typedef struct rk__arena {
  rk__arena_chunk *head;  /* current chunk; older chunks follow ->next */
  size_t used;            /* bytes handed out since the last reset */
  size_t limit;           /* maximum bytes between resets */
} rk__arena;

#define RK__ARENA_DEFAULT_LIMIT ((size_t)1 << 30)

/* A point to come back to: allocations made after rk__arena_mark() are
 * released by rk__arena_rewind() (for scratch that one step of a loop
 * needs and the next does not). Marks nest like a stack. */
typedef struct rk__arena_mark {
  rk__arena_chunk *head;
  size_t chunk_used, used;
} rk__arena_mark;

void rk__arena_init(rk__arena *a, size_t limit);
/* 16-byte aligned; NULL when the limit or malloc fails. n may be 0. */
void *rk__arena_alloc(rk__arena *a, size_t n);
/* Copy of p[0..n) plus a NUL terminator. */
char *rk__arena_strdup(rk__arena *a, const char *p, size_t n);
/* Frees all allocations but keeps one chunk for reuse. */
void rk__arena_reset(rk__arena *a);
/* Frees everything. The arena may be re-initialised afterwards. */
void rk__arena_release(rk__arena *a);
rk__arena_mark rk__arena_here(const rk__arena *a);
/* Frees every allocation made since m (chunks newer than m included). */
void rk__arena_rewind(rk__arena *a, rk__arena_mark m);

/* ------------------------------------------------------- hash keys */

/* Keys of the hash tables that index text a record controls (token
 * interners, n-gram and pattern tables): random per process, so that no
 * input can be built in advance to send its keys into one probe run
 * (hash flooding). Nothing computed depends on them: the tables give the
 * same ids in the same order whatever the keys are. They are written once,
 * by a constructor that runs when the library is loaded (before main, or
 * inside dlopen), that is before any thread can call into the library,
 * and only read afterwards, so reading them needs no lock; until then
 * they hold fixed constants (valid keys, just not secret ones). */
typedef struct rk__hkeys {
  uint64_t seed; /* mixed into token hashes before their last multiply */
  uint64_t mul;  /* odd multipliers: token hashes, */
  uint64_t mul2;
  uint64_t tab;  /* and the multiply-shift index of integer keys */
  uint64_t tab2;
} rk__hkeys;
extern rk__hkeys rk__hk;
/* Derives the keys from x (the constructor passes random bits). For tests
 * only: single-threaded, with no table or df file alive that was built
 * with the old keys. */
void rk__hkeys_set(uint64_t x);

/* Home slot of hash h in a table of 2^bits slots (1 <= bits <= 63): the
 * top bits of a multiply by the random odd key (multiply-shift). */
static inline size_t rk__hk_slot(uint64_t h, unsigned bits) {
  return (size_t)((h * rk__hk.tab) >> (64 - bits));
}

/* ------------------------------------------------------------- buffer */

/* Growable byte buffer with a hard maximum. After a failed append
 * (malloc failure or past max) `oom` is set and further appends are
 * ignored, so callers may check once at the end. p is NUL-terminated
 * whenever n > 0 or after rk__buf_cstr(). */
typedef struct rk__buf {
  char *p;
  size_t n, cap, max;
  int oom;
} rk__buf;

void rk__buf_init(rk__buf *b, size_t max); /* max 0 = SIZE_MAX/2 */
int rk__buf_put(rk__buf *b, const void *p, size_t n); /* 0 ok, -1 failed */
/* One byte: written here while there is room (the usual case), else by
 * rk__buf_putc_grow (which also keeps the maximum and the oom flag). */
int rk__buf_putc_grow(rk__buf *b, char c);
static inline int rk__buf_putc(rk__buf *b, char c) {
  if (b->cap - b->n > 1 && b->n < b->max && !b->oom) {
    b->p[b->n++] = c;
    b->p[b->n] = '\0';
    return 0;
  }
  return rk__buf_putc_grow(b, c);
}
/* Room for extra more bytes (and the NUL) without growing: 0, or -1 (oom). */
int rk__buf_reserve(rk__buf *b, size_t extra);
int rk__buf_puts(rk__buf *b, const char *z);
int rk__buf_printf(rk__buf *b, const char *fmt, ...) RK__PRINTF(2, 3);
int rk__buf_vprintf(rk__buf *b, const char *fmt, va_list ap);
const char *rk__buf_cstr(rk__buf *b); /* "" for an empty buffer */
void rk__buf_reset(rk__buf *b);       /* n = 0, keeps memory */
void rk__buf_release(rk__buf *b);
/* Takes ownership of the bytes (malloc'd, NUL-terminated); buffer is reset. */
char *rk__buf_take(rk__buf *b, size_t *n);

/* ------------------------------------------------------------ budgets */

/* A per-record budget counted in steps (DESIGN §7). One step is roughly one
 * byte scanned or one loop iteration; parsers also cap depth and sizes.
 * When `used` passes `limit` the item ends with RK_STATUS_TIMEOUT. */
typedef struct rk__budget {
  uint64_t used, limit;
} rk__budget;

/* ------------------------------------------------------ JSON (forward) */

typedef struct rk__jval rk__jval; /* see json/json.h */

/* ------------------------------------------------------------ records */

/* One input record, with DESIGN §2 aliases resolved. All pointers borrow
 * from the parsed line and live until the record is done. */
typedef struct rk__record {
  const rk__jval *root;      /* the whole object */
  const rk__jval *id;        /* NULL when absent (same for the others) */
  const rk__jval *group;     /* group / uid / prompt_id */
  const rk__jval *prompt;    /* prompt / query */
  const rk__jval *reference; /* reference / ground_truth / label / answer / solution */
  const rk__jval *images;
  rk__str response;          /* response / solution_str / completion */
  int has_response;          /* 0: field missing or not a string */
  rk__str task;              /* task / data_source; n = 0 when absent */
  int has_task;
  uint64_t line;             /* 1-based input line, 0 when not from a stream */
} rk__record;

/* Field by dotted path ("meta.size", "items.0.name"); NULL when absent. */
const rk__jval *rk__record_field(const rk__record *r, const char *path);

/* ---------------------------------------------------- reward functions */

typedef struct rk__node rk__node; /* a compiled spec node (core/spec.c) */

/* Everything a reward function sees while scoring one record. */
typedef struct rk__call {
  const rk__record *rec;
  rk__arena *arena;    /* scratch, reset after the record */
  rk__budget *budget;  /* step budget shared by the whole record */
  rk__buf *explain;    /* NULL unless explanations were requested */
  rk__buf *error;      /* message for RK_STATUS_ERROR (set by rk__fail) */
  void *engine;        /* private to core/engine.c */
  struct rk__mview *model; /* model rewards' client view (model/client.h) */
} rk__call;

/* Spends steps; returns 0 when the budget is exhausted (the function should
 * then return RK_STATUS_TIMEOUT). */
static inline int rk__spend(rk__call *c, uint64_t steps) {
  c->budget->used += steps;
  return c->budget->used <= c->budget->limit;
}

/* Appends a reason to the explanation (no-op unless requested). Several
 * calls are joined with "; ". Keep it short and concrete:
 * "pred '3/4' parsed as 3/4; gold '0.75' parsed as 3/4; equal". */
void rk__explain(rk__call *c, const char *fmt, ...) RK__PRINTF(2, 3);
static inline int rk__explaining(const rk__call *c) { return c->explain != NULL; }
/* Records an error message and returns RK_STATUS_ERROR. */
rk_status rk__fail(rk__call *c, const char *fmt, ...) RK__PRINTF(2, 3);

/* Evaluates a nested spec node (an argument compiled with rk__arg_node)
 * on the current record. The nested node's components are not reported. */
rk_status rk__node_eval(const rk__node *node, rk__call *c, double *value);

/* Compile-time context for a function's arguments. Functions read their
 * arguments only through the rk__arg_* helpers below, which check types
 * and name the spec path in errors; after compile() the spec compiler
 * rejects any argument the function never asked for. */
typedef struct rk__argctx rk__argctx;

/* The corpus side of a function that has one (bleu, chrf): sacreBLEU's
 * corpus_score sums each segment's sufficient statistics over the corpus
 * and computes one score from the sums, which is not the mean of the
 * sentence scores. metrics/corpus.c (rk_corpus_score) drives it. */
typedef struct rk__corpus_ops {
  size_t acc_size; /* bytes of the accumulator; zeroed before record 0 */
  /* Adds the record's statistics to acc through the same preparation as
   * score() (references, extraction, tokenization). OK; UNPARSEABLE when
   * no answer could be extracted: the record was added as an empty
   * hypothesis, as sacreBLEU scores an empty line. INVALID_REFERENCE,
   * TIMEOUT or ERROR: nothing was added (reason in c->explain, or the
   * message in c->error). */
  rk_status (*add)(const void *cfg, rk__call *c, void *acc);
  /* The corpus score (0-100) from the sums. Appends to `members` the
   * detail's own JSON members, each written as ,"key":value. */
  double (*finish)(const void *cfg, const void *acc, rk__buf *members);
} rk__corpus_ops;

/* A reward function. One file per function (or small family) defines one
 * `const rk__fn rk__fn_NAME`, listed once in core/registry.h. */
typedef struct rk__fn {
  const char *name;     /* what specs say in "fn" */
  const char *summary;  /* one line for `rewardkit list` */
  /* Reads the arguments into a private config (*cfg, may stay NULL).
   * Returns 0, or -1 after reporting through rk__arg_error(). */
  int (*compile)(rk__argctx *ac, void **cfg);
  /* Scores the record. *value must be set when the status is OK or
   * UNPARSEABLE (usually 0 then). May run on many threads at once: cfg is
   * read-only. */
  rk_status (*score)(const void *cfg, rk__call *c, double *value);
  /* Frees what compile() made. May be NULL. */
  void (*free)(void *cfg);
  /* 1 if the function does not read the response (constant, field): the
   * engine then scores records that have none. */
  int no_response;
  /* 1 if it may call an inference server (src/model): a started batch
   * (rk_score_batch_start) is then scored in one piece, so that the
   * server's requests are not split into several rounds. */
  int calls_model;
  /* Corpus statistics, for rk_corpus_score; NULL: no corpus score. */
  const rk__corpus_ops *corpus;
} rk__fn;

/* Argument helpers. `def` is used when the key is absent. Each returns 0,
 * or -1 after recording an error that names the path
 * ("spec: reward.sum[0].args.tol: expected a number, got string"). */
int rk__arg_num(rk__argctx *ac, const char *key, double def, double *out);
int rk__arg_num_range(rk__argctx *ac, const char *key, double def, double lo,
                      double hi, double *out);
int rk__arg_int(rk__argctx *ac, const char *key, long def, long lo, long hi,
                long *out);
int rk__arg_bool(rk__argctx *ac, const char *key, int def, int *out);
/* String argument, malloc'd copy (NULL when absent and def is NULL). */
int rk__arg_str(rk__argctx *ac, const char *key, const char *def, char **out);
/* One of `choices` (NULL-terminated); *out is the index. */
int rk__arg_enum(rk__argctx *ac, const char *key, const char *const *choices,
                 int def, int *out);
/* A string or an array of strings; malloc'd array of malloc'd strings,
 * NULL-terminated, *n = count. Free with rk__strlist_free. */
int rk__arg_strlist(rk__argctx *ac, const char *key, char ***out, size_t *n);
void rk__strlist_free(char **list);
/* A nested spec node (leaf or combinator), e.g. cosine length's "correct". */
int rk__arg_node(rk__argctx *ac, const char *key, rk__node **out);
void rk__node_free(rk__node *node);
/* The raw JSON value (NULL when absent); valid during compile() only. */
const rk__jval *rk__arg_raw(rk__argctx *ac, const char *key);
/* Reports an error at args.key (key may be NULL for the args object). */
int rk__arg_error(rk__argctx *ac, const char *key, const char *fmt, ...)
    RK__PRINTF(3, 4);

/* ------------------------------------------------------------ helpers */

/* Strings of a reference value: a string gives itself, a number its source
 * text, an object its string "answer" member (VQA's {"answer": ...}), an
 * array those of its items (at most max). Returns the count; 0 when the
 * reference is absent or of another type. */
size_t rk__ref_strings(const rk__jval *ref, rk__str *out, size_t max);

/* Most references a reward looks at (several gold answers, 10 VQA answers). */
#define RK__MAX_REFS 64

/* The record's reference strings (rk__ref_strings); *had_any says whether
 * the record has a non-null reference at all, so that "no reference" and
 * "a reference of the wrong type" get different explanations. */
size_t rk__record_refs(const rk__call *c, rk__str *out, size_t max, int *had_any);

/* Shortest decimal text that reads back as the same double ("0.9", "1",
 * "-0.25"); "null" for NaN and infinities. Returns the length written
 * (buf needs 32 bytes). */
size_t rk__fmt_double(char *buf, double v);
/* v in decimal; returns the length (buf needs 21 bytes). */
size_t rk__fmt_u64(char *buf, uint64_t v);

/* rk_score_pyrecords for rk_py_score, whose callers read only the table
 * and the lines of errors and explanations: no summary (rk_batch_summary
 * gives NULL), and other records' lines hold only their status. Each of
 * the two was about a tenth of a one-record call. */
/* For public entry points that live outside core/engine.c (metrics/
 * corpus.c). rk__ctx_busy: 1, with RK_EBUSY's message set, while a
 * started batch owns the context. rk__ctx_fail: sets the message that
 * rk_ctx_errmsg returns and returns rc; rk__ctx_fail(ctx, RK_OK, "")
 * clears it at the start of a call. */
int rk__ctx_busy(rk_ctx *ctx);
rk_err rk__ctx_fail(rk_ctx *ctx, rk_err rc, const char *fmt, ...) RK__PRINTF(3, 4);

rk_err rk__score_pyrecords_bare(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                                const rk_pyrecords *r, rk_batch **out);

#endif /* RK_CORE_H */
