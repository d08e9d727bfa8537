/*
 * pool.c - fixed worker threads driven by a generation counter. A run
 * bumps the generation and says how many workers it wants; the first
 * workers to see the new generation claim those places, run the job once,
 * and the last one to finish wakes the caller. Workers that find no place
 * left go back to sleep.
 *
 * Waking a sleeping thread costs about 50 us on a virtual machine (the
 * idle CPU has to be woken first), as much as scoring a few dozen records.
 * So a worker that finished a job watches the generation for a short
 * while before it sleeps, and the caller watches for the end of the job
 * before it sleeps: back-to-back runs (a batch's pieces, a stream's
 * chunks, a binding's consecutive calls) then hand over without a wake-up.
 * The watching is bounded in time (RK__SPIN_NS) and yields the CPU now and
 * then.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/pool.h"

struct rk__pool {
  unsigned n;
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  atomic_ulong gen;      /* incremented per run; written under mu */
  unsigned want;         /* places in this generation not yet claimed */
  atomic_ulong pending;  /* claimed places still running; written under mu */
  atomic_int stop;
  int sleepers;          /* callers blocked on `done` */
  rk__pool_fn fn;
  void *arg;
};

typedef struct {
  rk__pool *p;
  unsigned idx;
} worker_arg;

static uint64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

int rk__spin_while(const atomic_ulong *v, unsigned long x, int equal, const atomic_int *stop,
                   uint64_t ns) {
  uint64_t t0 = mono_ns();
  for (unsigned i = 1;; i++) {
    if ((atomic_load_explicit(v, memory_order_acquire) == x) != equal) return 1;
    if (stop && atomic_load_explicit(stop, memory_order_relaxed)) return 1;
    cpu_relax();
    if (i % 64 == 0) {
      if (mono_ns() - t0 > ns) return 0;
      sched_yield();
    }
  }
}

static void *worker(void *argp) {
  worker_arg *wa = argp;
  rk__pool *p = wa->p;
  unsigned idx = wa->idx;
  free(wa);
  unsigned long seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    if (!atomic_load(&p->stop) && atomic_load(&p->gen) == seen) {
      pthread_mutex_unlock(&p->mu);
      rk__spin_while(&p->gen, seen, 1, &p->stop, RK__SPIN_NS);
      pthread_mutex_lock(&p->mu);
    }
    while (!atomic_load(&p->stop) && atomic_load(&p->gen) == seen)
      pthread_cond_wait(&p->wake, &p->mu);
    if (atomic_load(&p->stop)) break;
    seen = atomic_load(&p->gen);
    if (p->want == 0) continue;
    p->want--;
    rk__pool_fn fn = p->fn;
    void *arg = p->arg;
    pthread_mutex_unlock(&p->mu);
    fn(arg, idx, p->n);
    pthread_mutex_lock(&p->mu);
    if (atomic_fetch_sub(&p->pending, 1) == 1 && p->sleepers) pthread_cond_signal(&p->done);
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
  atomic_init(&p->gen, 0);
  atomic_init(&p->pending, 0);
  atomic_init(&p->stop, 0);
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
  atomic_store(&p->stop, 1);
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
  atomic_store(&p->pending, want);
  atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
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
  if (rk__spin_while(&p->pending, 0, 0, NULL, RK__SPIN_NS)) {
    /* The last worker's decrement was made under mu: taking it once
     * orders everything that worker wrote before this return. */
    pthread_mutex_lock(&p->mu);
    pthread_mutex_unlock(&p->mu);
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->sleepers++;
  while (atomic_load(&p->pending)) pthread_cond_wait(&p->done, &p->mu);
  p->sleepers--;
  pthread_mutex_unlock(&p->mu);
}

void rk__pool_run(rk__pool *p, rk__pool_fn fn, void *arg, size_t tasks) {
  rk__pool_start(p, fn, arg, tasks);
  fn(arg, 0, p->n);
  rk__pool_wait(p);
}

unsigned rk__cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int k = CPU_COUNT(&set);
    if (k > 0) return (unsigned)k;
  }
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  return c > 0 ? (unsigned)c : 1;
}
