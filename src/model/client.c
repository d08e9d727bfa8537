/*
 * client.c - the HTTP client of model-based rewards (see client.h for the
 * round protocol): endpoint arguments, per-worker request queues, the
 * content-keyed reply cache, and one libcurl multi loop that sends a
 * round's requests concurrently with per-URL limits, retries, backoff and
 * health tracking.
 *
 * Not here: request bodies and reply parsing (wire.c), formulas
 * (formulas.c), what a reward does with a reply (the reward files).
 */
#define _GNU_SOURCE /* strdup, memmem with the strict C17 mode */
#include "model/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#define MAX_REPLY ((size_t)64 << 20)      /* bytes of one reply */
#define MAX_ROUND ((size_t)1 << 30)       /* bytes of all replies of a round */
#define CACHE_MAX_BYTES ((size_t)256 << 20)
#define CACHE_MAX_ENTRIES ((size_t)1 << 20)
#define BACKOFF_CAP_MS 5000
#define DOWN_AFTER 3                       /* consecutive failures */
#define DOWN_MS 2000                       /* how long a URL is skipped */

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* FNV-1a, 64 bits: cache keys (full bytes are compared on lookup too). */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* ------------------------------------------------------------ endpoint */

int rk__endpoint_compile(rk__argctx *ac, rk__endpoint **out) {
  static const char *const kinds[] = {"vllm", "sglang", "llamacpp", "tgi", NULL};
  *out = NULL;
  char **urls = NULL;
  size_t nurls = 0;
  if (rk__arg_strlist(ac, "url", &urls, &nurls)) return -1;
  rk__endpoint *e = calloc(1, sizeof *e);
  if (!e) {
    rk__strlist_free(urls);
    return rk__arg_error(ac, NULL, "out of memory");
  }
  int kind = 0, rc = 0;
  char *keyenv = NULL;
  rc |= rk__arg_enum(ac, "server", kinds, 0, &kind);
  rc |= rk__arg_str(ac, "model", NULL, &e->model);
  rc |= rk__arg_str(ac, "api_key_env", NULL, &keyenv);
  rc |= rk__arg_int(ac, "timeout_ms", 30000, 1, 3600000, &e->timeout_ms);
  rc |= rk__arg_int(ac, "connect_timeout_ms", 2000, 1, 600000, &e->connect_timeout_ms);
  rc |= rk__arg_int(ac, "retries", 3, 0, 20, &e->retries);
  rc |= rk__arg_int(ac, "backoff_ms", 200, 0, 60000, &e->backoff_ms);
  rc |= rk__arg_int(ac, "concurrency", 64, 1, 4096, &e->concurrency);
  rc |= rk__arg_bool(ac, "cache", 1, &e->cache);
  e->kind = (rk__srv)kind;
  e->urls = urls;
  e->nurls = nurls;
  if (!rc && !nurls) {
    /* Offline: the endpoint arguments are read (so they are not reported
     * as unknown) but nothing will be called. */
    free(keyenv);
    rk__endpoint_free(e);
    return 0;
  }
  for (size_t i = 0; !rc && i < nurls; i++) {
    char *u = urls[i];
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
      rc = rk__arg_error(ac, "url", "'%s' is not an http:// or https:// URL", u);
    size_t n = strlen(u);
    while (n > 8 && u[n - 1] == '/') u[--n] = '\0';
  }
  if (!rc && keyenv) {
    const char *key = getenv(keyenv);
    if (!key || !*key)
      rc = rk__arg_error(ac, "api_key_env",
                         "environment variable %s is not set (it should hold the "
                         "server's API key)", keyenv);
    else {
      size_t n = strlen(key) + 32;
      e->auth = malloc(n);
      if (e->auth) snprintf(e->auth, n, "Authorization: Bearer %s", key);
      if (!e->auth) rc = rk__arg_error(ac, NULL, "out of memory");
    }
  }
  free(keyenv);
  if (rc) {
    rk__endpoint_free(e);
    return -1;
  }
  uint64_t h = 0xcbf29ce484222325ull;
  h = fnv(h, &e->kind, sizeof e->kind);
  for (size_t i = 0; i < nurls; i++) h = fnv(h, urls[i], strlen(urls[i]) + 1);
  if (e->model) h = fnv(h, e->model, strlen(e->model));
  if (e->auth) h = fnv(h, e->auth, strlen(e->auth));
  e->id = h;
  *out = e;
  return 0;
}

void rk__endpoint_free(rk__endpoint *e) {
  if (!e) return;
  rk__strlist_free(e->urls);
  free(e->model);
  free(e->auth);
  free(e);
}

/* ----------------------------------------------------------- requests */

typedef struct req {
  const rk__endpoint *e;
  const char *path;        /* static string from wire.c */
  char *body;
  size_t n;
  uint64_t h;
} req;

struct rk__mqueue {
  req *r;
  size_t n, cap;
};

rk__mqueue *rk__mqueue_create(void) { return calloc(1, sizeof(rk__mqueue)); }

void rk__mqueue_clear(rk__mqueue *q) {
  for (size_t i = 0; i < q->n; i++) free(q->r[i].body);
  q->n = 0;
}

void rk__mqueue_destroy(rk__mqueue *q) {
  if (!q) return;
  rk__mqueue_clear(q);
  free(q->r);
  free(q);
}

size_t rk__mqueue_len(const rk__mqueue *q) { return q ? q->n : 0; }

static uint64_t req_hash(const rk__endpoint *e, const char *path, const char *body,
                         size_t n) {
  uint64_t h = fnv(0xcbf29ce484222325ull, &e->id, sizeof e->id);
  h = fnv(h, path, strlen(path) + 1);
  return fnv(h, body, n);
}

/* -------------------------------------------------------------- cache */

typedef struct centry {
  uint64_t h, eid;
  const char *path;
  char *body;              /* the request */
  size_t n;
  rk__reply rep;           /* body and error malloc'd */
  int keep;                /* survives chunk_begin */
} centry;

typedef struct urlstate {
  char *url;
  long inflight;
  int fails;
  uint64_t down_until;
} urlstate;

struct rk__mclient {
  CURLM *multi;
  centry **tab;            /* open addressing, power of two */
  size_t cap, count, bytes;
  urlstate *urls;
  size_t nurls;
  size_t rr;               /* round-robin cursor */
  int epfd;                /* sockets libcurl asks us to watch */
  uint64_t timer_at;       /* when libcurl wants a timeout call (ms), or never */
  rk__mstats st;
};

static int same_req(const centry *c, uint64_t h, const rk__endpoint *e, const char *path,
                    const char *body, size_t n) {
  return c->h == h && c->eid == e->id && c->n == n && strcmp(c->path, path) == 0 &&
         memcmp(c->body, body, n) == 0;
}

static const centry *cache_find(const rk__mclient *cl, uint64_t h, const rk__endpoint *e,
                                const char *path, const char *body, size_t n) {
  if (!cl || !cl->cap) return NULL;
  for (size_t i = h & (cl->cap - 1);; i = (i + 1) & (cl->cap - 1)) {
    const centry *c = cl->tab[i];
    if (!c) return NULL;
    if (same_req(c, h, e, path, body, n)) return c;
  }
}

static void centry_free(centry *c) {
  if (!c) return;
  free(c->body);
  free((char *)c->rep.body);
  free((char *)c->rep.error);
  free(c);
}

static int cache_insert_raw(rk__mclient *cl, centry *c) {
  if ((cl->count + 1) * 2 > cl->cap) {
    size_t ncap = cl->cap ? cl->cap * 2 : 1024;
    centry **nt = calloc(ncap, sizeof *nt);
    if (!nt) return -1;
    for (size_t i = 0; i < cl->cap; i++) {
      centry *o = cl->tab[i];
      if (!o) continue;
      size_t j = o->h & (ncap - 1);
      while (nt[j]) j = (j + 1) & (ncap - 1);
      nt[j] = o;
    }
    free(cl->tab);
    cl->tab = nt;
    cl->cap = ncap;
  }
  size_t j = c->h & (cl->cap - 1);
  while (cl->tab[j]) j = (j + 1) & (cl->cap - 1);
  cl->tab[j] = c;
  cl->count++;
  cl->bytes += c->n + c->rep.n + sizeof *c;
  return 0;
}

void rk__mclient_chunk_begin(rk__mclient *cl) {
  if (!cl || !cl->count) return;
  int all = cl->bytes > CACHE_MAX_BYTES || cl->count > CACHE_MAX_ENTRIES;
  size_t cap = cl->cap;
  centry **old = cl->tab;
  centry **keep = malloc((cl->count ? cl->count : 1) * sizeof *keep);
  size_t nk = 0;
  for (size_t i = 0; i < cap; i++) {
    centry *c = old[i];
    if (!c) continue;
    if (!all && c->keep && keep) keep[nk++] = c;
    else centry_free(c);
  }
  memset(old, 0, cap * sizeof *old);
  cl->count = cl->bytes = 0;
  for (size_t i = 0; i < nk; i++) cache_insert_raw(cl, keep[i]); /* cannot grow */
  free(keep);
}

/* ------------------------------------------------------------- calls */

static const rk__reply no_client = {
    0, 0, "", 0, "model reward used outside the engine (no HTTP client)"};
#define STR_(x) #x
#define STR(x) STR_(x)
static const rk__reply too_deep = {
    0, 0, "", 0,
    "this record needed more than " STR(RK__MODEL_ROUNDS) " dependent rounds of server calls"};
static const rk__reply no_curl = {0, 0, "", 0, "could not start the HTTP client (libcurl)"};
static const rk__reply queue_oom = {0, 0, "", 0, "out of memory queueing a server call"};

int rk__model_call(rk__call *c, const rk__endpoint *e, const char *path,
                   const char *body, size_t n, const rk__reply **r) {
  rk__mview *v = c->model;
  if (!v || !v->queue) {
    *r = &no_client;
    return -1;
  }
  uint64_t h = req_hash(e, path, body, n);
  const centry *hit = cache_find(v->client, h, e, path, body, n);
  if (hit) {
    if (v->round == 0) v->cache_hits++;
    *r = &hit->rep;
    return 1;
  }
  if (v->last_round) {
    *r = v->client ? &too_deep : &no_curl;
    return -1;
  }
  rk__mqueue *q = v->queue;
  if (q->n == q->cap) {
    size_t ncap = q->cap ? q->cap * 2 : 64;
    req *nr = realloc(q->r, ncap * sizeof *nr);
    if (!nr) {
      *r = &queue_oom;
      return -1;
    }
    q->r = nr;
    q->cap = ncap;
  }
  char *copy = malloc(n + 1);
  if (!copy) {
    *r = &queue_oom;
    return -1;
  }
  memcpy(copy, body, n);
  copy[n] = '\0';
  q->r[q->n++] = (req){e, path, copy, n, h};
  v->queued++;
  return 0;
}

rk_status rk__model_pending(rk__call *c) {
  /* The value is discarded: the engine rescores the record. */
  return rk__fail(c, "waiting for a server reply");
}

/* ------------------------------------------------------------ client */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;
static void curl_init_once(void) { curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == 0; }

/* libcurl's socket interface: it says which sockets to watch for what,
 * and when it next needs a timeout call; one epoll_wait then serves every
 * transfer, and only the sockets with events are handed back to libcurl,
 * so a wake-up costs O(ready sockets), not O(transfers in flight). */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *sockp) {
  rk__mclient *cl = user;
  (void)easy;
  (void)sockp;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(cl->epfd, EPOLL_CTL_DEL, fd, NULL);
    return 0;
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  if (epoll_ctl(cl->epfd, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
    epoll_ctl(cl->epfd, EPOLL_CTL_ADD, fd, &ev);
  return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *user) {
  rk__mclient *cl = user;
  (void)multi;
  cl->timer_at = timeout_ms < 0 ? UINT64_MAX : now_ms() + (uint64_t)timeout_ms;
  return 0;
}

int rk__mclient_create(rk__mclient **out) {
  *out = NULL;
  pthread_once(&curl_once, curl_init_once);
  if (!curl_ok) return -1;
  rk__mclient *cl = calloc(1, sizeof *cl);
  if (!cl) return -1;
  cl->epfd = epoll_create1(EPOLL_CLOEXEC);
  cl->multi = cl->epfd >= 0 ? curl_multi_init() : NULL;
  if (!cl->multi) {
    if (cl->epfd >= 0) close(cl->epfd);
    free(cl);
    return -1;
  }
  cl->timer_at = UINT64_MAX;
  /* Keep-alive connections are reused across rounds and calls. */
  curl_multi_setopt(cl->multi, CURLMOPT_MAXCONNECTS, 1024L);
  curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
  curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
  *out = cl;
  return 0;
}

void rk__mclient_destroy(rk__mclient *cl) {
  if (!cl) return;
  for (size_t i = 0; i < cl->cap; i++) centry_free(cl->tab[i]);
  free(cl->tab);
  for (size_t i = 0; i < cl->nurls; i++) free(cl->urls[i].url);
  free(cl->urls);
  curl_multi_cleanup(cl->multi);
  close(cl->epfd);
  free(cl);
}

void rk__mclient_stats(const rk__mclient *cl, rk__mstats *out) {
  if (cl) *out = cl->st;
  else memset(out, 0, sizeof *out);
}

void rk__mclient_add_hits(rk__mclient *cl, uint64_t hits) {
  if (cl) cl->st.cache_hits += hits;
}

static urlstate *url_state(rk__mclient *cl, const char *url) {
  for (size_t i = 0; i < cl->nurls; i++)
    if (strcmp(cl->urls[i].url, url) == 0) return &cl->urls[i];
  urlstate *nu = realloc(cl->urls, (cl->nurls + 1) * sizeof *nu);
  if (!nu) return NULL;
  cl->urls = nu;
  urlstate *u = &nu[cl->nurls];
  memset(u, 0, sizeof *u);
  if (!(u->url = strdup(url))) return NULL;
  cl->nurls++;
  return u;
}

/* One request of a round. */
typedef struct xfer {
  req rq;
  CURL *h;
  struct curl_slist *hdrs;
  rk__buf resp;
  size_t *round_bytes;     /* shared by the round's transfers */
  char errbuf[CURL_ERROR_SIZE];
  char why[96];            /* our own reason for aborting a transfer */
  size_t url_i;            /* index into cl->urls of the current attempt */
  long attempts;
  uint64_t not_before;     /* ms; next attempt may start then */
  int running, done;
  /* outcome of the last attempt */
  long http;
  CURLcode cc;
  char last_url[512];
} xfer;

static size_t on_data(char *p, size_t sz, size_t nm, void *user) {
  xfer *x = user;
  size_t n = sz * nm;
  /* Returning less than n aborts the transfer (CURLE_WRITE_ERROR). */
  if (x->resp.n + n > MAX_REPLY) {
    snprintf(x->why, sizeof x->why, "reply larger than %zu MiB", MAX_REPLY >> 20);
    return 0;
  }
  if (*x->round_bytes + n > MAX_ROUND) {
    snprintf(x->why, sizeof x->why, "the replies of this round passed %zu MiB in total",
             MAX_ROUND >> 20);
    return 0;
  }
  *x->round_bytes += n;
  return rk__buf_put(&x->resp, p, n) == 0 ? n : 0;
}

/* Picks a URL for x: round robin among the endpoint's URLs that have room
 * and are not marked down; a down URL is used only if every URL is down.
 * Returns 0, or -1 when all are at their concurrency limit. */
static int pick_url(rk__mclient *cl, xfer *x, uint64_t now) {
  const rk__endpoint *e = x->rq.e;
  size_t best = (size_t)-1, fallback = (size_t)-1;
  for (size_t k = 0; k < e->nurls; k++) {
    size_t i = (cl->rr + k) % e->nurls;
    urlstate *u = url_state(cl, e->urls[i]);
    if (!u) return -1;
    if (u->inflight >= e->concurrency) continue;
    if (u->down_until > now) {
      if (fallback == (size_t)-1) fallback = (size_t)(u - cl->urls);
      continue;
    }
    best = (size_t)(u - cl->urls);
    break;
  }
  cl->rr++;
  if (best == (size_t)-1) best = fallback;
  if (best == (size_t)-1) return -1;
  /* A down URL is retried only when no healthy URL of the endpoint has
   * room; if a healthy one is merely busy, wait for it. */
  if (best == fallback) {
    for (size_t k = 0; k < e->nurls; k++) {
      urlstate *u = url_state(cl, e->urls[k]);
      if (u && u->down_until <= now) return -1;
    }
  }
  x->url_i = best;
  return 0;
}

static int start(rk__mclient *cl, xfer *x) {
  urlstate *u = &cl->urls[x->url_i];
  if (!x->h && !(x->h = curl_easy_init())) return -1;
  CURL *h = x->h;
  curl_easy_reset(h);
  snprintf(x->last_url, sizeof x->last_url, "%s%s", u->url, x->rq.path);
  rk__buf_reset(&x->resp);
  x->errbuf[0] = '\0';
  x->why[0] = '\0';
  if (!x->hdrs) {
    x->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (x->hdrs) x->hdrs = curl_slist_append(x->hdrs, "Expect:");
    if (x->hdrs && x->rq.e->auth) x->hdrs = curl_slist_append(x->hdrs, x->rq.e->auth);
    if (!x->hdrs) return -1;
  }
  curl_easy_setopt(h, CURLOPT_URL, x->last_url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->rq.body);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->rq.n);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, x->rq.e->timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, x->rq.e->connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(h, CURLOPT_PRIVATE, x);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  if (curl_multi_add_handle(cl->multi, h) != CURLM_OK) return -1;
  u->inflight++;
  x->attempts++;
  x->running = 1;
  cl->st.attempts++;
  return 0;
}

static int retryable(const xfer *x) {
  if (x->cc != CURLE_OK)
    return x->cc != CURLE_WRITE_ERROR && x->cc != CURLE_URL_MALFORMAT &&
           x->cc != CURLE_UNSUPPORTED_PROTOCOL && x->cc != CURLE_OUT_OF_MEMORY;
  return x->http == 429 || x->http >= 500;
}

/* The number after the last `"key":` of a reply that is JSON syntax, not
 * text inside a string (there the quote would be escaped), or -1. A scan
 * instead of a parse: the reward parses the reply anyway, and replies can
 * be megabytes of embeddings. */
static double last_count(const char *p, size_t n, const char *key) {
  size_t k = strlen(key);
  double v = -1;
  for (const char *q = p; (q = memmem(q, (size_t)(p + n - q), key, k)) != NULL; q += k) {
    if (q == p || q[-1] != '"' || q - p < 2 || q[-2] == '\\') continue;
    const char *r = q + k;
    if (r >= p + n || *r != '"') continue;
    for (r++; r < p + n && (*r == ' ' || *r == ':'); r++) {}
    char *e = NULL;
    double x = r < p + n ? strtod(r, &e) : 0;
    if (e && e > r && x >= 0) v = x;
  }
  return v;
}

/* Token accounting: OpenAI "usage" and SGLang "meta_info" both name
 * prompt_tokens and completion_tokens; TGI's details give
 * generated_tokens (its prompt is not counted). */
static void count_tokens(rk__mclient *cl, const char *p, size_t n) {
  double pt = last_count(p, n, "prompt_tokens");
  double ct = last_count(p, n, "completion_tokens");
  if (ct < 0) ct = last_count(p, n, "generated_tokens");
  if (pt > 0) cl->st.prompt_tokens += (uint64_t)pt;
  if (ct > 0) cl->st.completion_tokens += (uint64_t)ct;
}

/* Moves x's outcome into the cache. */
static int finish(rk__mclient *cl, xfer *x) {
  centry *c = calloc(1, sizeof *c);
  if (!c) return -1;
  c->h = x->rq.h;
  c->eid = x->rq.e->id;
  c->path = x->rq.path;
  c->body = x->rq.body;
  c->n = x->rq.n;
  x->rq.body = NULL;
  size_t bn = 0;
  char *body = rk__buf_take(&x->resp, &bn);
  if (!body) body = strdup("");
  if (!body) {
    centry_free(c);
    return -1;
  }
  c->rep.body = body;
  c->rep.n = bn;
  c->rep.http = x->http;
  c->rep.ok = x->cc == CURLE_OK && x->http == 200;
  if (c->rep.ok) {
    c->keep = x->rq.e->cache;
    count_tokens(cl, body, bn);
  } else {
    char msg[400], *err = malloc(1024);
    if (!err) {
      centry_free(c);
      return -1;
    }
    const char *tries = x->attempts > 1 ? "s" : "";
    if (x->cc != CURLE_OK) {
      snprintf(err, 1024, "%s: %s (%ld attempt%s)", x->last_url,
               x->why[0] ? x->why : x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->cc),
               x->attempts, tries);
    } else {
      rk__wire_error_message(body, bn, msg, sizeof msg);
      snprintf(err, 1024, "HTTP %ld from %s (%ld attempt%s): %s", x->http, x->last_url,
               x->attempts, tries, msg[0] ? msg : "(empty body)");
    }
    c->rep.error = err;
    cl->st.errors++;
  }
  if (cache_insert_raw(cl, c)) {
    centry_free(c);
    return -1;
  }
  return 0;
}

static int by_hash(const void *a, const void *b) {
  const req *x = a, *y = b;
  if (x->h != y->h) return x->h < y->h ? -1 : 1;
  if (x->e->id != y->e->id) return x->e->id < y->e->id ? -1 : 1;
  if (x->n != y->n) return x->n < y->n ? -1 : 1;
  int k = strcmp(x->path, y->path);
  return k ? k : memcmp(x->body, y->body, x->n);
}

int rk__mclient_run(rk__mclient *cl, rk__mqueue **qs, size_t nq) {
  size_t total = 0;
  for (size_t i = 0; i < nq; i++) total += qs[i]->n;
  if (!total) return 0;
  req *all = malloc(total * sizeof *all);
  xfer *xs = calloc(total, sizeof *xs);
  if (!all || !xs) {
    free(all);
    free(xs);
    return -1;
  }
  size_t k = 0;
  for (size_t i = 0; i < nq; i++) {
    if (qs[i]->n) memcpy(all + k, qs[i]->r, qs[i]->n * sizeof *all);
    k += qs[i]->n;
    qs[i]->n = 0; /* bodies now owned by `all` */
  }
  /* Duplicates (several records, or passes, asking the same thing) go
   * out once. Sorting also makes the order of requests deterministic. */
  qsort(all, total, sizeof *all, by_hash);
  size_t nx = 0;
  for (size_t i = 0; i < total; i++) {
    if ((nx && by_hash(&all[i], &xs[nx - 1].rq) == 0) ||
        cache_find(cl, all[i].h, all[i].e, all[i].path, all[i].body, all[i].n)) {
      free(all[i].body);
      continue;
    }
    xs[nx].rq = all[i];
    rk__buf_init(&xs[nx].resp, 0);
    nx++;
  }
  free(all);
  cl->st.requests += nx;
  size_t round_bytes = 0;
  for (size_t i = 0; i < nx; i++) xs[i].round_bytes = &round_bytes;

  int rc = 0;
  uint64_t t0 = now_ms();
  size_t left = nx;
  /* xs[0..cursor) have all been started at least once; later ones wait in
   * order. Retries wait in `again`. The scan for startable transfers stops
   * after BLOCKED_SCAN that cannot start (their URLs are full), so a
   * round of thousands of requests costs O(in flight) per wake-up, while
   * requests for another, idle server still get past a busy one. */
  enum { BLOCKED_SCAN = 64 };
  size_t cursor = 0, nagain = 0;
  xfer **again = malloc((nx ? nx : 1) * sizeof *again);
  if (!again) rc = -1;
  while (left && rc == 0) {
    uint64_t now = now_ms(), wake = now + 200;
    for (size_t i = 0; i < nagain && rc == 0;) {
      xfer *x = again[i];
      if (x->not_before > now) {
        if (x->not_before < wake) wake = x->not_before;
        i++;
      } else if (pick_url(cl, x, now) == 0) {
        if (start(cl, x)) rc = -1;
        again[i] = again[--nagain];
      } else {
        i++;
      }
    }
    size_t blocked = 0;
    for (size_t i = cursor; i < nx && blocked < BLOCKED_SCAN && rc == 0; i++) {
      xfer *x = &xs[i];
      if (x->attempts) {
        if (i == cursor) cursor++;
        continue;
      }
      if (pick_url(cl, x, now) == 0) {
        if (start(cl, x)) rc = -1;
        if (i == cursor) cursor++;
      } else {
        blocked++;
      }
    }
    int still = 0;
    if (cl->timer_at <= now_ms()) {
      cl->timer_at = UINT64_MAX;
      curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &still);
    }
    CURLMsg *m;
    int q, finished = 0;
    while ((m = curl_multi_info_read(cl->multi, &q))) {
      if (m->msg != CURLMSG_DONE) continue;
      xfer *x = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      CURLcode cc = m->data.result;
      curl_multi_remove_handle(cl->multi, m->easy_handle);
      if (!x) continue;
      urlstate *u = &cl->urls[x->url_i];
      u->inflight--;
      x->running = 0;
      x->cc = cc;
      x->http = 0;
      curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->http);
      int fail = retryable(x);
      if (fail) {
        if (++u->fails >= DOWN_AFTER) u->down_until = now_ms() + DOWN_MS;
      } else {
        u->fails = 0;
        u->down_until = 0;
      }
      if (fail && x->attempts <= x->rq.e->retries) {
        long d = x->rq.e->backoff_ms;
        for (long a = 1; a < x->attempts && d < BACKOFF_CAP_MS; a++) d *= 2;
        if (d > BACKOFF_CAP_MS) d = BACKOFF_CAP_MS;
        x->not_before = now_ms() + (uint64_t)d;
        again[nagain++] = x;
        cl->st.retries++;
        finished = 1; /* recompute the wake-up time */
        continue;
      }
      if (finish(cl, x)) rc = -1;
      x->done = 1;
      left--;
      finished = 1;
    }
    /* A finished transfer frees a slot: start the next one before waiting. */
    if (left && rc == 0 && !finished) {
      uint64_t t = now_ms(), until = wake < cl->timer_at ? wake : cl->timer_at;
      int ms = until > t ? (int)(until - t > 200 ? 200 : until - t) : 0;
      struct epoll_event ev[128];
      int nev = epoll_wait(cl->epfd, ev, 128, ms);
      for (int i = 0; i < nev; i++) {
        int flags = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                    (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                    (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(cl->multi, ev[i].data.fd, flags, &still);
      }
    }
  }
  for (size_t i = 0; i < nx; i++) {
    xfer *x = &xs[i];
    if (x->running) {
      curl_multi_remove_handle(cl->multi, x->h);
      cl->urls[x->url_i].inflight--;
    }
    if (x->h) curl_easy_cleanup(x->h);
    curl_slist_free_all(x->hdrs);
    rk__buf_release(&x->resp);
    free(x->rq.body);
  }
  free(xs);
  free(again);
  cl->st.wait_ms += (double)(now_ms() - t0);
  return rc;
}
