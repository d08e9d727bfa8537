/*
 * rewardkit.h - the whole public API of librewardkit.
 *
 * rewardkit turns rollouts of a language or vision-language model into
 * rewards for reinforcement learning. A JSON *spec* says how a record
 * becomes a reward; a *context* owns the worker threads; the scoring calls
 * take JSONL records and give JSONL results (input record + reward, status,
 * components, advantage, explain). If a declaration is not in this file it
 * is not API.
 *
 * Conventions
 * - Fallible functions return rk_err (RK_OK == 0). Details of the last
 *   failure are in the per-handle message (rk_ctx_errmsg) or in the caller's
 *   error buffer.
 * - Text is (pointer, length), UTF-8, not assumed NUL-terminated.
 * - Memory the library allocates for the caller is released with rk_free().
 * - X_destroy(NULL) and rk_spec_free(NULL) are no-ops.
 * - Thread rules: an rk_spec is immutable once compiled and may be used by
 *   any number of threads and contexts at once. An rk_ctx is used by one
 *   thread at a time (it runs its own worker threads inside each call).
 * - The library never prints, exits or aborts on bad input.
 */
#ifndef REWARDKIT_H
#define REWARDKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RK_API __attribute__((visibility("default")))
#else
#define RK_API
#endif

#define RK_VERSION_MAJOR 0
#define RK_VERSION_MINOR 1
#define RK_VERSION_PATCH 0
#define RK_VERSION_STRING "0.1.0"

/* The library's version string, e.g. "0.1.0". Static storage. */
RK_API const char *rk_version(void);

/* ---------------------------------------------------------------- errors */

/* Error codes. Codes are appended, never renumbered or removed. */
#define RK_ERR_MAP(XX)                                                      \
  XX(OK, 0, "success")                                                      \
  XX(EINVAL, -1, "invalid argument")                                        \
  XX(ENOMEM, -2, "out of memory")                                           \
  XX(ESPEC, -3, "invalid spec")                                             \
  XX(EJSON, -4, "invalid JSON")                                             \
  XX(EIO, -5, "input/output error")                                         \
  XX(ETOOSMALL, -6, "buffer too small")                                     \
  XX(ELIMIT, -7, "input exceeds a configured limit")                        \
  XX(ETHREAD, -8, "could not start a worker thread")                        \
  XX(ECALLBACK, -9, "a caller callback reported an error")                 \
  XX(EBUSY, -10, "the context is still scoring a started batch")

typedef enum {
#define RK__ERR_ENUM(name, code, msg) RK_##name = code,
  RK_ERR_MAP(RK__ERR_ENUM)
#undef RK__ERR_ENUM
} rk_err;

/* Name ("RK_ESPEC") and message ("invalid spec") of a code. Static storage;
 * unknown codes give "RK_EUNKNOWN" / "unknown error". */
RK_API const char *rk_err_name(rk_err e);
RK_API const char *rk_strerror(rk_err e);

/* -------------------------------------------------------------- statuses */

/* Why a record got the reward it got (DESIGN §2). Never a silent 0. */
typedef enum {
  RK_STATUS_OK = 0,            /* reward computed */
  RK_STATUS_UNPARSEABLE = 1,   /* the response had no answer in the expected form */
  RK_STATUS_INVALID_REFERENCE = 2, /* the reference is missing or cannot be used */
  RK_STATUS_TIMEOUT = 3,       /* a step budget ran out */
  RK_STATUS_ERROR = 4          /* anything else: malformed line, bad field... */
} rk_status;
#define RK_STATUS_COUNT 5

/* "ok", "unparseable", "invalid_reference", "timeout", "error". */
RK_API const char *rk_status_name(rk_status s);

/* Frees memory the library returned to the caller. NULL is a no-op. */
RK_API void rk_free(void *p);

/* --------------------------------------------------------------- context */

typedef struct rk_ctx rk_ctx;

typedef struct rk_ctx_options {
  /* Worker threads, including the calling one. 0 = the CPUs this process
   * may run on (its affinity mask: a container's cpuset, taskset). */
  unsigned threads;
} rk_ctx_options;

/* CONSTRUCTOR. opts may be NULL for defaults. On failure *out is NULL. */
RK_API rk_err rk_ctx_create(const rk_ctx_options *opts, rk_ctx **out);
/* DESTRUCTOR. Joins the worker threads. NULL is a no-op. */
RK_API void rk_ctx_destroy(rk_ctx *ctx);
/* Message of the last failed call on ctx; "" when none. Valid until the
 * next call on ctx. */
RK_API const char *rk_ctx_errmsg(const rk_ctx *ctx);
/* Number of worker threads (>= 1). */
RK_API unsigned rk_ctx_threads(const rk_ctx *ctx);

/* ------------------------------------------------------------------ spec */

typedef struct rk_spec rk_spec;

/* CONSTRUCTOR. Compiles a JSON spec (docs/spec.md). On failure returns
 * RK_ESPEC or RK_EJSON, *out is NULL and err (if errcap > 0) holds a
 * message naming the place, e.g.
 *   "spec: reward.sum[1]: unknown function 'mth' (did you mean 'math'?)".
 * The result is immutable and thread-safe. */
RK_API rk_err rk_spec_compile(const char *json, size_t n, rk_spec **out,
                              char *err, size_t errcap);
/* DESTRUCTOR. NULL is a no-op. */
RK_API void rk_spec_free(rk_spec *spec);
/* The spec as compiled, as JSON text (library-allocated; rk_free). */
RK_API rk_err rk_spec_json(const rk_spec *spec, char **out, size_t *outlen);
/* 1 if the spec computes advantages or filters groups: such specs need
 * every record of a group in the same call. */
RK_API int rk_spec_needs_groups(const rk_spec *spec);

/* Number of components (leaves and named nodes) and the name of the k-th,
 * in the order of rk_batch_table's columns. Static for the spec's life. */
RK_API size_t rk_spec_ncomponents(const rk_spec *spec);
RK_API const char *rk_spec_component(const rk_spec *spec, size_t k);

/* The built-in reward functions, one per call: index 0.. until NULL.
 * *summary gets a one-line description. Static storage. */
RK_API const char *rk_fn_name(size_t i, const char **summary);

/* --------------------------------------------------------------- scoring */

typedef struct rk_score_options {
  int explain;            /* add "explain": {component: reason} */
  int timing;             /* add "elapsed_us": scoring time of the record */
  uint64_t step_budget;   /* steps per record; 0 = default (RK_DEFAULT_STEPS) */
  size_t max_line;        /* bytes per input line; 0 = default (16 MiB) */
  int results_only;       /* output lines hold only what rewardkit adds
                             (reward, status, components, ...), not the
                             input record's fields; a filter's "drop" then
                             flags instead, so that line i is record i:
                             for bindings that keep the records */
  int format;             /* of the records: RK_FORMAT_JSON (0), or
                             RK_FORMAT_PYMARSHAL: each record is what
                             Python's marshal.dumps(record, 4) wrote for a
                             dict (see rk_pymarshal_to_json); needs
                             results_only. A str "response" is then taken
                             apart as rk_score_batch_responses does. */
} rk_score_options;

#define RK_FORMAT_JSON 0
#define RK_FORMAT_PYMARSHAL 1

#define RK_DEFAULT_STEPS ((uint64_t)200000000)
#define RK_DEFAULT_MAX_LINE ((size_t)16 << 20)

/* Results of a batch: one JSON output line per input line, in input order,
 * plus a summary. Records dropped by a group filter have no line. */
typedef struct rk_batch rk_batch;

/* Scores n records given as JSON texts (one object each, no newline
 * needed). The result is owned by the caller: rk_batch_free. opts may be
 * NULL. Bad records do not fail the call: they get status "error". */
RK_API rk_err rk_score_batch(rk_ctx *ctx, const rk_spec *spec,
                             const rk_score_options *opts,
                             const char *const *recs, const size_t *lens,
                             size_t n, rk_batch **out);

/* rk_score_batch with each record's response handed over apart, as UTF-8
 * text (responses[i], resp_lens[i]) instead of inside the record's JSON:
 * a binding that holds the response as a string skips escaping it into
 * JSON, and the library skips decoding it. The text replaces any
 * "response" member of the record; responses[i] == NULL keeps the
 * record's own. A response that is not valid UTF-8 or holds a NUL byte
 * (as a JSON string cannot) gives that record status "error". Requires opts->results_only (records are not echoed
 * back), else RK_EINVAL. */
RK_API rk_err rk_score_batch_responses(rk_ctx *ctx, const rk_spec *spec,
                                       const rk_score_options *opts,
                                       const char *const *recs, const size_t *lens,
                                       const char *const *responses,
                                       const size_t *resp_lens, size_t n, rk_batch **out);

/* A batch scored in the background and returned in pieces, for bindings
 * that convert results while the next records are scored.
 * rk_score_batch_start() takes what rk_score_batch_responses takes
 * (responses may be NULL), hands the batch to a thread of the context and
 * returns at once. Each rk_score_batch_next() returns the results of the
 * next consecutive records as an rk_batch of their own (the caller frees
 * it), waiting until they are scored; *out = NULL once every piece was
 * returned. The pieces together equal what rk_score_batch_responses
 * returns for the whole batch (same lines, same line numbers in error
 * messages); each piece's summary covers that piece only. A spec with
 * advantages, a group filter or a model reward is scored as one piece
 * (groups need the whole batch; server requests are sent together).
 * The arrays and texts must stay valid until the last piece is returned
 * or rk_score_batch_abort() returns. Between start and the end of the
 * batch the context refuses other calls with RK_EBUSY. A failed piece
 * (out of memory, a NULL record) ends the batch: next() returns its code
 * (rk_ctx_errmsg says why) and the later pieces are not scored.
 * The context's extra thread plays the caller's part (worker 0). When the
 * context's threads would take every CPU, the batch is scored with one
 * thread less, so that the caller keeps a CPU for its own work. */
RK_API rk_err rk_score_batch_start(rk_ctx *ctx, const rk_spec *spec,
                                   const rk_score_options *opts,
                                   const char *const *recs, const size_t *lens,
                                   const char *const *responses,
                                   const size_t *resp_lens, size_t n);
RK_API rk_err rk_score_batch_next(rk_ctx *ctx, rk_batch **out);
/* Ends a started batch early: waits for the piece being scored, frees the
 * pieces not returned yet. A no-op when no batch is started. */
RK_API void rk_score_batch_abort(rk_ctx *ctx);

/* Number of output lines (n minus records dropped by a group filter). */
RK_API size_t rk_batch_count(const rk_batch *b);
/* Output line i as JSON text without newline; borrowed from b. */
RK_API const char *rk_batch_line(const rk_batch *b, size_t i, size_t *len);
/* Reward of line i (NaN when null) and its status. */
RK_API double rk_batch_reward(const rk_batch *b, size_t i);
RK_API rk_status rk_batch_status(const rk_batch *b, size_t i);
/* All numbers of the batch in one call, for bindings: row i (one per
 * output line) is [reward, status, advantage, filtered, component 0 ..
 * k-1] with k = rk_spec_ncomponents(spec); NaN for null; filtered is 0
 * (kept), 1 (zero variance) or 2 (mean out of range). out needs
 * rk_batch_count(b) * (4 + k) doubles; RK_ETOOSMALL if cap is less. */
RK_API rk_err rk_batch_table(const rk_batch *b, double *out, size_t cap);
/* Summary of the batch as JSON text, borrowed from b: count, mean reward,
 * component means, status counts, zero-variance groups. */
RK_API const char *rk_batch_summary(const rk_batch *b, size_t *len);
/* DESTRUCTOR. NULL is a no-op. */
RK_API void rk_batch_free(rk_batch *b);

/* Scores one record; *out is library-allocated JSON text (rk_free). Group
 * post-processing (advantages, filters) sees a group of one; if a filter
 * with action "drop" removes it, *out is an empty string. */
RK_API rk_err rk_score_one(rk_ctx *ctx, const rk_spec *spec,
                           const rk_score_options *opts, const char *rec,
                           size_t len, char **out, size_t *outlen);

/* The batch's results as Python marshal data (format 4) for
 * marshal.loads: a list of one dict per line, {"reward": float or None,
 * "status": name, "components": {name: float or None, ...}, then
 * "advantage" (when `advantage` is non-zero) and "filtered" (only on
 * flagged lines)}; keys interned and written once. *errors counts the
 * lines with status "error" (their message is in rk_batch_line). *out is
 * library-allocated (rk_free). The Python binding builds its results with
 * one marshal.loads instead of a Python loop. */
RK_API rk_err rk_batch_pymarshal(const rk_batch *b, const rk_spec *spec, int advantage,
                                 char **out, size_t *outlen, size_t *errors);

/* The JSON text Python's json.dumps(obj, separators=(",", ":")) writes for
 * the object whose marshal.dumps(obj, 4) bytes are data[0..len): dicts,
 * lists, tuples, str, int, float, bool and None. Anything else (bytes,
 * sets, ...), a structure containing itself, or malformed data: RK_EINVAL
 * and a message in err. *out is library-allocated (rk_free). Bindings use
 * it to check that the library reads their records as json would. */
RK_API rk_err rk_pymarshal_to_json(const char *data, size_t len, char **out, size_t *outlen,
                                   char *err, size_t errcap);

/* Python objects read in place, for the Python binding: the records of a
 * Python list (or tuple) of dicts as JSON texts and responses, ready for
 * rk_score_pyrecords / rk_score_pyrecords_start, without turning them
 * into bytes in Python first. Must be called with the GIL held (ctypes:
 * a PyDLL handle); the library calls the CPython functions given in
 * rk_pyapi (stable ABI), and reads directly only an object's type pointer
 * (at type_offset) and, when state_offset is set, a str's state word and
 * code units. */
typedef struct rk_pyapi {
  size_t type_offset;  /* of ob_type in every object: sizeof(Py_ssize_t) */
  /* the exact types read; anything else (subclasses included) is not */
  const void *dict_type, *list_type, *tuple_type, *str_type, *int_type, *float_type;
  const void *none, *true_, *false_;  /* the singletons */
  int (*dict_next)(void *dict, ptrdiff_t *pos, void **key, void **value);
  ptrdiff_t (*list_size)(void *list);
  void *(*list_item)(void *list, ptrdiff_t i);    /* borrowed */
  ptrdiff_t (*tuple_size)(void *tuple);
  void *(*tuple_item)(void *tuple, ptrdiff_t i);  /* borrowed */
  const char *(*utf8)(void *str, ptrdiff_t *n);   /* PyUnicode_AsUTF8AndSize */
  double (*float_value)(void *f);                  /* PyFloat_AsDouble */
  long long (*long_value)(void *i, int *overflow); /* PyLong_AsLongLongAndOverflow */
  void (*err_clear)(void);
  void (*incref)(void *o);                         /* Py_IncRef */
  void (*decref)(void *o);                         /* Py_DecRef */
  ptrdiff_t (*str_length)(void *str);              /* PyUnicode_GetLength */
  /* A str's code units read where CPython keeps them (PEP 393 compact
   * strings), which the binding checked on probes of every kind; 0 in
   * state_offset: not known, every str goes through utf8() (which keeps
   * a UTF-8 copy in each non-ASCII str: a cost on the GIL's thread). */
  size_t state_offset;     /* of the 32-bit state word */
  unsigned kind_shift;     /* kind (1, 2, 4) = state >> kind_shift & 7 */
  unsigned compact_mask, ascii_mask;
  size_t ascii_data, compact_data; /* offsets of the code units */
  /* rk_py_score lets go of the GIL while it scores and takes it back
   * after (PyEval_SaveThread, PyEval_RestoreThread); NULL: it keeps it. */
  void *(*save_thread)(void);
  void (*restore_thread)(void *state);
} rk_pyapi;

/* What rk_py_records read: record i is lines[i][0..lens[i]), the JSON text
 * json.dumps(record, separators=(",", ":")) gives without its "response"
 * member when that is a str; the response is then resps[i] (read in
 * place: the str is held until rk_py_records_free), else NULL. kinds[i]
 * is 0 when resps[i][0..rlens[i]) is UTF-8, or 1, 2, 4 when it is rlens[i]
 * code units of that many bytes (Latin-1, UCS-2, UCS-4), turned into
 * UTF-8 by the scoring threads (surrogate pairs joined; a lone surrogate
 * is the record's error). Score them with rk_score_pyrecords or
 * rk_score_pyrecords_start, which take the kinds. */
typedef struct rk_pyrecords {
  size_t n;
  const char **lines;
  size_t *lens;
  const char **resps;
  size_t *rlens;
  unsigned char *kinds;
} rk_pyrecords;

/* Reads seq[start .. start + n) (seq a list or tuple). Every record must be
 * a dict holding only dicts, lists, tuples, str, int (64-bit), float,
 * bool and None, nested at most 512 deep, with str keys: otherwise
 * RK_EINVAL and nothing is kept (the binding then encodes the batch
 * itself, with the messages of that path). RK_ENOMEM if out of memory. */
RK_API rk_err rk_py_records(const rk_pyapi *api, void *seq, size_t start, size_t n,
                            rk_pyrecords **out);
/* Releases the responses held and the texts; with the GIL held, after
 * the batch is scored. */
RK_API void rk_py_records_free(rk_pyrecords *r);
/* rk_score_batch_responses and rk_score_batch_start for what
 * rk_py_records read (opts->format must be RK_FORMAT_JSON). */
RK_API rk_err rk_score_pyrecords(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                                 const rk_pyrecords *r, rk_batch **out);
RK_API rk_err rk_score_pyrecords_start(rk_ctx *ctx, const rk_spec *spec,
                                       const rk_score_options *opts, const rk_pyrecords *r);
/* A whole small batch in one call, for a binding whose per-call cost
 * would otherwise be most of a one-record call (a trainer that scores
 * sample by sample): rk_py_records of all of seq (a list or tuple),
 * rk_score_pyrecords without the GIL (when api has save_thread), the
 * records given back, and the results as rk_batch_pymarshal writes them
 * in out->data[0..out->len) (free with rk_free); out->errors counts the
 * records with status "error". out->batch is the batch, for the lines
 * of those records and the explanations (rk_batch_line), when
 * opts->explain is set or some record has status "error", else NULL
 * (already freed); it has no summary, and without explain the line of a
 * record whose status is not "error" holds only that status (nothing
 * else reads it: formatting it was a tenth of a call). RK_EINVAL when
 * seq is not readable in place (nothing scored: the binding takes its
 * other paths); with the GIL held. */
typedef struct rk_py_result {
  rk_batch *batch;
  char *data;
  size_t len;
  size_t errors;
} rk_py_result;
RK_API rk_err rk_py_score(const rk_pyapi *api, rk_ctx *ctx, const rk_spec *spec,
                          const rk_score_options *opts, int advantage, void *seq,
                          rk_py_result *out);

/* --------------------------------------------------------- corpus scores */

/* sacreBLEU's corpus score (BLEU / CHRF corpus_score, what corpus_bleu()
 * and corpus_chrf() print): each record's statistics are summed over the
 * n records, then ONE score is computed from the sums; it is not the
 * mean of the per-record rewards. docs/rewards/overlap.md, "Corpus
 * scores".
 *
 * spec: its reward must be one leaf of fn "bleu" or "chrf", without
 * "advantage" or "filter"; anything else gives RK_ESPEC and a message
 * naming what the spec has. The leaf's arguments apply as in the
 * per-record reward (tokenize, smooth, lowercase, max_ngram_order,
 * extract; char_order, word_order, beta, eps_smoothing, whitespace), with
 * one difference: bleu's effective_order, when the spec does not set it,
 * is false here, as in corpus_bleu() (the per-record default, true, is
 * sentence_bleu()'s). A spec that sets it is followed.
 * recs[i][0..lens[i]): one JSON object each, read as rk_score_batch reads
 * a record (response and reference, with their aliases).
 * opts (may be NULL): step_budget and max_line bound each record as in
 * rk_score_batch; format must be RK_FORMAT_JSON (else RK_EINVAL); the
 * other fields are ignored.
 *
 * On success *score is on sacreBLEU's 0-100 scale, and *detail (when
 * detail is not NULL; library-allocated, rk_free) a JSON object: metric,
 * score, records, unparseable, text (the line sacreBLEU prints, e.g.
 * "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ...)"), the sums the
 * score comes from (BLEU: counts, totals, precisions, bp, ratio, sys_len,
 * ref_len; chrF: stats per order) and the settings used. n == 0 gives
 * score 0, as sacreBLEU gives for an empty corpus.
 *
 * Records: one whose answer cannot be extracted (an extract mode found
 * nothing) counts as an empty hypothesis, as sacreBLEU scores an empty
 * line, and in "unparseable". Any other record that cannot be scored
 * fails the whole call (a corpus score with a record left out would be a
 * different corpus): nothing is returned, and rk_ctx_errmsg starts with
 * "record K: " (K its index in recs) and says why. Codes: RK_EJSON (not
 * JSON, or not an object), RK_EINVAL (no response string; no usable
 * reference: absent, of another type, or only empty strings), RK_ELIMIT
 * (longer than max_line, or its step budget ran out), RK_ENOMEM.
 * RK_EINVAL also for NULL arguments, RK_EBUSY during a started batch.
 * Runs on the calling thread; the context's workers are not used. */
RK_API rk_err rk_corpus_score(rk_ctx *ctx, const rk_spec *spec, const rk_score_options *opts,
                              const char *const *recs, const size_t *lens, size_t n,
                              double *score, char **detail, size_t *detail_len);

/* Streams. read() fills buf with up to cap bytes and returns the count,
 * 0 at end of input, or -1 on error. write() takes n bytes and returns 0,
 * or non-zero to abort. progress() (may be NULL) is called after each
 * chunk with the records done so far and the bytes read. */
typedef long (*rk_read_fn)(void *user, char *buf, size_t cap);
typedef int (*rk_write_fn)(void *user, const char *p, size_t n);
typedef void (*rk_progress_fn)(void *user, uint64_t records, uint64_t bytes);

typedef struct rk_stream_io {
  rk_read_fn read;
  void *read_user;
  rk_write_fn write;
  void *write_user;
  rk_progress_fn progress;
  void *progress_user;
  /* Optional: the whole input already in memory (e.g. a mapped file). When
   * data is not NULL, read is not called and records are parsed in place,
   * without copying the input. data must stay valid during the call. */
  const char *data;
  size_t data_len;
} rk_stream_io;

/* Reads JSONL (from io->read, or io->data), writes JSONL results in input
 * order. Lines that are not
 * JSON objects, or longer than max_line, become status "error" records
 * with "line" and "error"; empty lines are skipped. When the spec needs
 * groups (rk_spec_needs_groups), the whole input is held in memory and
 * written at the end. *summary (if not NULL) receives the summary JSON
 * (rk_free). Returns RK_EIO if read fails, RK_ECALLBACK if write does. */
RK_API rk_err rk_score_stream(rk_ctx *ctx, const rk_spec *spec,
                              const rk_score_options *opts,
                              const rk_stream_io *io, char **summary,
                              size_t *summary_len);

#ifdef __cplusplus
}
#endif
#endif /* REWARDKIT_H */
