/*
 * pool.h - the context's worker threads. rk__pool_run() runs one function
 * on every worker at once (the caller is worker 0) and returns when all
 * are done: a parallel-for where each worker picks its share by index.
 * No global pool: each rk_ctx owns one.
 */
#ifndef RK_CORE_POOL_H
#define RK_CORE_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rk__pool rk__pool;
typedef void (*rk__pool_fn)(void *arg, unsigned worker, unsigned nworkers);

/* Starts n-1 threads (n >= 1). Returns 0 or -1. */
int rk__pool_create(unsigned n, rk__pool **out);
void rk__pool_destroy(rk__pool *p);
/* Runs fn(arg, i, n) concurrently on the caller (i = 0) and on up to
 * `tasks` - 1 workers (each with its own i in [1, n)): a run with fewer
 * pieces of work than threads wakes only the workers it can use, since
 * waking a sleeping thread costs tens of microseconds. */
void rk__pool_run(rk__pool *p, rk__pool_fn fn, void *arg, size_t tasks);
/* The same in two halves, so the caller can do other work in between:
 * start() wakes the workers on fn; the caller may then run fn(arg, 0, n)
 * itself; wait() returns when the woken workers are done. Every start()
 * needs its wait() before the next start(). */
void rk__pool_start(rk__pool *p, rk__pool_fn fn, void *arg, size_t tasks);
void rk__pool_wait(rk__pool *p);

/* Waiting without a wake-up: watches *v while (*v == x) == equal, for at
 * most ns nanoseconds (RK__SPIN_NS in the pool), pausing and now and then
 * yielding the CPU. Returns 1
 * when the condition ended (or *stop is set; stop may be NULL), 0 when
 * the time ran out and the caller should sleep on its condition variable.
 * Waking a sleeping thread costs about 50 us on a virtual machine. */
#define RK__SPIN_NS 100000
int rk__spin_while(const atomic_ulong *v, unsigned long x, int equal, const atomic_int *stop,
                   uint64_t ns);

/* CPUs this process may run on: its affinity mask (a container's cpuset,
 * taskset), else the online count. "All CPUs" means this many threads. */
unsigned rk__cpus(void);

#endif /* RK_CORE_POOL_H */
