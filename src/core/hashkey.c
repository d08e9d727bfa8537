/*
 * hashkey.c - the per-process random keys of the hash tables that index
 * record text (rk__hk, core/core.h), drawn once when the library loads.
 *
 * Not for: anything that must be reproducible across processes (nothing
 * computed may depend on these keys, only how long a table probe takes).
 */
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__) && defined(__has_include)
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define RK__HAVE_GETRANDOM 1
#endif
#endif

#include "core/core.h"

/* Fixed odd constants until the constructor has run. */
rk__hkeys rk__hk = {0, 0xBF58476D1CE4E5B9ull, 0x94D049BB133111EBull, 0x9E3779B97F4A7C15ull,
                    0xD6E8FEB86659FD93ull};

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, well-mixed
 * outputs. */
static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void rk__hkeys_set(uint64_t x) {
  rk__hkeys k;
  k.seed = splitmix(&x);
  k.mul = splitmix(&x) | 1;
  k.mul2 = splitmix(&x) | 1;
  k.tab = splitmix(&x) | 1;
  k.tab2 = splitmix(&x) | 1;
  rk__hk = k;
}

/* getrandom(2) when there is one; otherwise (or when it fails) clocks,
 * the process id and addresses (ASLR), which an attacker who sends
 * records cannot read back. */
__attribute__((constructor)) static void rk__hkeys_init(void) {
  uint64_t x = 0;
#if defined(RK__HAVE_GETRANDOM)
  if (getrandom(&x, sizeof x, GRND_NONBLOCK) == (ssize_t)sizeof x && x) {
    rk__hkeys_set(x);
    return;
  }
#endif
  struct timespec t1 = {0, 0}, t2 = {0, 0};
  clock_gettime(CLOCK_REALTIME, &t1);
  clock_gettime(CLOCK_MONOTONIC, &t2);
  uint64_t s = (uint64_t)t1.tv_sec * 1000000007ull ^ (uint64_t)t1.tv_nsec;
  x = splitmix(&s) ^ ((uint64_t)t2.tv_nsec << 20) ^ (uint64_t)t2.tv_sec;
  x ^= (uint64_t)getpid() << 40;
  x ^= (uint64_t)(uintptr_t)&x ^ (uint64_t)(uintptr_t)&rk__hk << 7;
  rk__hkeys_set(x);
}
