/*
 * pool.c - fixed worker threads driven by a generation counter. A run
 * bumps the generation and says how many workers it wants; the first
 * workers to see the new generation claim those places, run the job once,
 * and the last one to finish wakes the caller. Workers that find no place
 * left go back to sleep.
 */
#include <pthread.h>
#include <stdlib.h>

#include "core/pool.h"

struct rk__pool {
  unsigned n;
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  unsigned long gen;     /* incremented per run; guarded by mu */
  unsigned want;         /* places in this generation not yet claimed */
  unsigned pending;      /* claimed places still running */
  int stop;
  rk__pool_fn fn;
  void *arg;
};

typedef struct {
  rk__pool *p;
  unsigned idx;
} worker_arg;

static void *worker(void *argp) {
  worker_arg *wa = argp;
  rk__pool *p = wa->p;
  unsigned idx = wa->idx;
  free(wa);
  unsigned long seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && p->gen == seen) pthread_cond_wait(&p->wake, &p->mu);
    if (p->stop) break;
    seen = p->gen;
    if (p->want == 0) continue;
    p->want--;
    rk__pool_fn fn = p->fn;
    void *arg = p->arg;
    pthread_mutex_unlock(&p->mu);
    fn(arg, idx, p->n);
    pthread_mutex_lock(&p->mu);
    if (--p->pending == 0) pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int rk__pool_create(unsigned n, rk__pool **out) {
  *out = NULL;
  if (n == 0) n = 1;
  rk__pool *p = calloc(1, sizeof *p);
  if (!p) return -1;
  p->n = 1;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  p->threads = calloc(n, sizeof *p->threads);
  if (!p->threads) {
    rk__pool_destroy(p);
    return -1;
  }
  for (unsigned i = 1; i < n; i++) {
    worker_arg *wa = malloc(sizeof *wa);
    if (!wa) break;
    wa->p = p;
    wa->idx = i;
    if (pthread_create(&p->threads[i], NULL, worker, wa) != 0) {
      free(wa);
      break;
    }
    p->n = i + 1;
  }
  if (p->n != n) {
    rk__pool_destroy(p);
    return -1;
  }
  *out = p;
  return 0;
}

void rk__pool_destroy(rk__pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  free(p->threads);
  free(p);
}


void rk__pool_start(rk__pool *p, rk__pool_fn fn, void *arg, size_t tasks) {
  unsigned want = tasks > 1 ? (tasks - 1 < p->n - 1 ? (unsigned)(tasks - 1) : p->n - 1) : 0;
  if (want == 0) return; /* the caller alone; wait() finds nothing pending */
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->arg = arg;
  p->want = want;
  p->pending = want;
  p->gen++;
  if (want == p->n - 1) {
    pthread_cond_broadcast(&p->wake);
  } else {
    /* Each signal wakes at least one sleeper; any awake worker may claim. */
    for (unsigned i = 0; i < want; i++) pthread_cond_signal(&p->wake);
  }
  pthread_mutex_unlock(&p->mu);
}

void rk__pool_wait(rk__pool *p) {
  if (p->n == 1) return;
  pthread_mutex_lock(&p->mu);
  while (p->pending) pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

void rk__pool_run(rk__pool *p, rk__pool_fn fn, void *arg, size_t tasks) {
  rk__pool_start(p, fn, arg, tasks);
  fn(arg, 0, p->n);
  rk__pool_wait(p);
}
