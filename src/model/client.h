/*
 * client.h - how model-based rewards reach inference servers.
 *
 * Reward functions are pure functions of the record and of server replies.
 * A reward that needs a reply it does not have yet queues the request
 * (rk__model_call returns 0) and returns rk__model_pending(); the engine
 * then sends every queued request of the chunk at once through one curl
 * multi handle (concurrency per server, retries with backoff, round robin
 * over several URLs, unhealthy URLs skipped), stores the replies in the
 * context's cache keyed by the request's content, and scores the affected
 * records again, now finding their replies. A record needing requests that
 * depend on earlier replies takes one round per step (at most
 * RK__MODEL_ROUNDS).
 *
 * Thread rules: during scoring, workers only read the cache and append to
 * their own queue; the client runs on the calling thread while the workers
 * are idle. An rk__endpoint is immutable after compile.
 */
#ifndef RK_MODEL_CLIENT_H
#define RK_MODEL_CLIENT_H

#include "core/core.h"
#include "model/wire.h"

#define RK__MODEL_ROUNDS 6

/* Where and how to call a server: the "url", "server", "model",
 * "api_key_env", "timeout_ms", "connect_timeout_ms", "retries",
 * "backoff_ms", "concurrency", "cache" arguments of a model reward. */
typedef struct rk__endpoint {
  rk__srv kind;
  char **urls;             /* base URLs without a trailing '/' */
  size_t nurls;
  char *model;             /* NULL: no "model" member is sent */
  char *auth;              /* "Authorization: Bearer ..." or NULL */
  long timeout_ms;         /* one attempt, connection included */
  long connect_timeout_ms;
  long retries;            /* attempts after the first, on 429/5xx/transport errors */
  long backoff_ms;         /* delay before retry k is backoff_ms * 2^(k-1), at most 5 s */
  long concurrency;        /* requests in flight per URL */
  int cache;               /* keep replies for later calls with the same content */
  uint64_t id;             /* hash of the fields above (cache keys) */
} rk__endpoint;

/* Reads the endpoint arguments. Without "url" (*out = NULL, returns 0) the
 * reward runs offline on numbers carried by the record. */
int rk__endpoint_compile(rk__argctx *ac, rk__endpoint **out);
void rk__endpoint_free(rk__endpoint *e);

/* A server's answer as a reward sees it. */
typedef struct rk__reply {
  int ok;                  /* HTTP 200 */
  long http;               /* HTTP status; 0 when none came */
  const char *body;        /* reply body (NUL-terminated), also on errors */
  size_t n;
  const char *error;       /* !ok: what went wrong, for the record's "error":
                              "HTTP 503 from http://h:8000/v1/completions
                              after 4 attempts: <server's message>" */
} rk__reply;

/* The reply to POST body at e's path. Returns 1 with *r when known (from
 * the cache or fetched in an earlier round), 0 when the request has been
 * queued (return rk__model_pending(c) then), -1 when it cannot be queued
 * (no client in this context, out of memory, or too many dependent rounds:
 * *r then holds an error reply). */
int rk__model_call(rk__call *c, const rk__endpoint *e, const char *path,
                   const char *body, size_t n, const rk__reply **r);

/* The status a reward returns after queueing: the engine discards the
 * record's result and scores it again once the replies are in. */
rk_status rk__model_pending(rk__call *c);

/* ------------------------------------------------- engine side (core) */

typedef struct rk__mclient rk__mclient; /* one per rk_ctx: curl, cache, stats */
typedef struct rk__mqueue rk__mqueue;   /* one per worker */

/* What rk__call.model points to while scoring. */
typedef struct rk__mview {
  rk__mclient *client;     /* NULL until the context first needs one */
  rk__mqueue *queue;
  int round;               /* 0 on the first pass */
  int last_round;          /* queueing is refused */
  uint64_t queued;         /* requests queued by this worker so far */
  uint64_t cache_hits;     /* first-pass lookups answered by the cache */
} rk__mview;

rk__mqueue *rk__mqueue_create(void);
void rk__mqueue_destroy(rk__mqueue *q);
size_t rk__mqueue_len(const rk__mqueue *q);
/* Drops whatever is queued (requests a round could not send). */
void rk__mqueue_clear(rk__mqueue *q);

int rk__mclient_create(rk__mclient **out);
void rk__mclient_destroy(rk__mclient *cl);
/* Before a chunk: drops error replies and, past the cache limits, every
 * reply. Never called between a round and its rescoring. */
void rk__mclient_chunk_begin(rk__mclient *cl);
/* Sends every request queued in qs[0..nq) (duplicates once), waits for
 * all replies (each bounded by its endpoint's timeouts and retries), stores
 * them, and empties the queues. Returns 0, or -1 when out of memory. */
int rk__mclient_run(rk__mclient *cl, rk__mqueue **qs, size_t nq);

/* Totals since the context was created. */
typedef struct rk__mstats {
  uint64_t requests;       /* distinct requests sent */
  uint64_t attempts;       /* HTTP attempts, retries included */
  uint64_t retries;
  uint64_t errors;         /* requests that ended without a 200 */
  uint64_t cache_hits;
  uint64_t prompt_tokens, completion_tokens;
  double wait_ms;          /* wall time spent waiting for servers */
} rk__mstats;
void rk__mclient_stats(const rk__mclient *cl, rk__mstats *out);
void rk__mclient_add_hits(rk__mclient *cl, uint64_t hits);

#endif /* RK_MODEL_CLIENT_H */
