/*
 * server.h - `rewardkit serve`: the HTTP reward server (docs/server.md).
 *
 * Built on libmicrohttpd and the public API only (rewardkit.h); linked
 * into the CLI, not into librewardkit. The pieces that parse request
 * bodies are exposed here for the unit tests and the fuzz target.
 */
#ifndef RK_SERVER_H
#define RK_SERVER_H

#include <stddef.h>

/* Runs the server; argv are the options after "serve". Returns the exit
 * code (0 after a graceful stop). */
int rk_serve_main(int argc, char **argv);

/* Splits a JSON array of records ("[{...}, {...}]") into element spans
 * without validating the elements (the library does that per record).
 * Returns the count, or -1 with *err_at = byte offset and *err = reason
 * when the envelope is malformed. Spans are written to starts/lens (at
 * most cap; the count may exceed cap, then only cap are written). */
long rk_server_split_array(const char *p, size_t n, const char **starts, size_t *lens,
                           size_t cap, size_t *err_at, const char **err);

/* The samples of an OpenRLHF body {"query": [...], "prompts": [...],
 * "labels": [...]} as records for rk_score_batch_responses: record i is
 * text[off[i] .. off[i+1]), {"prompt": prompts[i], "reference": labels[i]}
 * (each key only when it applies), and its response, the query cut by
 * rk_server_cut_response, is resp[i] (resp_len[i] bytes; NULL when the
 * query is not a string), handed over apart so that it is neither escaped
 * nor decoded again. Responses point into the body or into `mem`. */
typedef struct rk_server_samples {
  char *text;
  size_t *off;           /* n + 1 */
  const char **resp;     /* n */
  size_t *resp_len;      /* n */
  size_t n;
  void *mem;             /* the parsed body's strings */
} rk_server_samples;

/* Returns 0 with *out filled (free it with rk_server_samples_free, and
 * keep the body alive while using it); or an HTTP status (400, 413, 500)
 * with the reason in msg and *out empty. */
int rk_server_openrlhf_records(const char *body, size_t n, const char *marker,
                               size_t max_records, rk_server_samples *out, char *msg,
                               size_t msgcap);
void rk_server_samples_free(rk_server_samples *s);

/* The response part of an OpenRLHF query: the query minus its prompt when
 * the prompt is a prefix, else the text after the last `marker` (may be
 * NULL), else the whole query; then trailing end-of-sequence tokens and
 * surrounding whitespace removed. Returns a span inside query. */
void rk_server_cut_response(const char *query, size_t qn, const char *prompt, size_t pn,
                            const char *marker, const char **out, size_t *outn);

#endif /* RK_SERVER_H */
