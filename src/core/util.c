/*
 * util.c - spans, the per-record arena and the bounded growable buffer.
 *
 * These are the only allocation primitives of the hot path: reward
 * functions allocate scratch from the arena (reset after each record) and
 * write text into rk__buf, which refuses to grow past its maximum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int rk__str_eq(rk__str a, rk__str b) {
  return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

int rk__str_eq_cstr(rk__str a, const char *z) {
  size_t n = strlen(z);
  return a.n == n && (n == 0 || memcmp(a.p, z, n) == 0);
}

/* -------------------------------------------------------------- arena */

struct rk__arena_chunk {
  rk__arena_chunk *next;
  size_t cap, used;
  /* Payload follows, 16-byte aligned (the header is 32 bytes on LP64). */
  _Alignas(16) unsigned char data[];
};

#define RK__CHUNK_MIN ((size_t)64 << 10)

void rk__arena_init(rk__arena *a, size_t limit) {
  a->head = NULL;
  a->used = 0;
  a->limit = limit ? limit : RK__ARENA_DEFAULT_LIMIT;
}

void *rk__arena_alloc(rk__arena *a, size_t n) {
  size_t need = (n + 15) & ~(size_t)15;
  if (need < n || need > a->limit - a->used || a->used > a->limit)
    return NULL;
  rk__arena_chunk *c = a->head;
  if (!c || c->cap - c->used < need) {
    size_t cap = RK__CHUNK_MIN;
    if (c && c->cap < ((size_t)8 << 20)) cap = c->cap * 2;
    if (cap < need) cap = need;
    rk__arena_chunk *nc = malloc(sizeof *nc + cap);
    if (!nc) return NULL;
    nc->cap = cap;
    nc->used = 0;
    nc->next = c;
    a->head = c = nc;
  }
  void *p = c->data + c->used;
  c->used += need;
  a->used += need;
  return p;
}

char *rk__arena_strdup(rk__arena *a, const char *p, size_t n) {
  char *s = rk__arena_alloc(a, n + 1);
  if (!s) return NULL;
  if (n) memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

void rk__arena_reset(rk__arena *a) {
  /* Keep the largest (most recent) chunk: the next record likely needs as
   * much as this one did. */
  rk__arena_chunk *c = a->head;
  if (!c) return;
  rk__arena_chunk *rest = c->next;
  while (rest) {
    rk__arena_chunk *next = rest->next;
    free(rest);
    rest = next;
  }
  c->next = NULL;
  c->used = 0;
  a->used = 0;
}

void rk__arena_release(rk__arena *a) {
  rk__arena_chunk *c = a->head;
  while (c) {
    rk__arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  a->head = NULL;
  a->used = 0;
}

rk__arena_mark rk__arena_here(const rk__arena *a) {
  rk__arena_mark m = {a->head, a->head ? a->head->used : 0, a->used};
  return m;
}

void rk__arena_rewind(rk__arena *a, rk__arena_mark m) {
  while (a->head && a->head != m.head) {
    rk__arena_chunk *next = a->head->next;
    free(a->head);
    a->head = next;
  }
  if (a->head) a->head->used = m.chunk_used;
  a->used = m.used;
}

/* ------------------------------------------------------------- buffer */

void rk__buf_init(rk__buf *b, size_t max) {
  b->p = NULL;
  b->n = b->cap = 0;
  b->max = max ? max : SIZE_MAX / 2;
  b->oom = 0;
}

static int buf_grow(rk__buf *b, size_t extra) {
  if (b->oom) return -1;
  if (extra > b->max - b->n) {
    b->oom = 1;
    return -1;
  }
  size_t want = b->n + extra + 1; /* room for the NUL */
  if (want <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < want) cap = cap > SIZE_MAX / 4 ? want : cap * 2;
  char *p = realloc(b->p, cap);
  if (!p) {
    b->oom = 1;
    return -1;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

int rk__buf_reserve(rk__buf *b, size_t extra) { return buf_grow(b, extra); }

int rk__buf_put(rk__buf *b, const void *p, size_t n) {
  if (b->oom) return -1;
  if (n == 0) return 0;
  if (n > b->max - b->n) {
    b->oom = 1;
    return -1;
  }
  if (b->cap - b->n <= n && buf_grow(b, n)) return -1;
  memcpy(b->p + b->n, p, n);
  b->n += n;
  b->p[b->n] = '\0';
  return 0;
}

int rk__buf_putc_grow(rk__buf *b, char c) {
  if (b->oom) return -1;
  if (b->n >= b->max) {
    b->oom = 1;
    return -1;
  }
  if (b->cap - b->n <= 1 && buf_grow(b, 1)) return -1;
  b->p[b->n++] = c;
  b->p[b->n] = '\0';
  return 0;
}

int rk__buf_puts(rk__buf *b, const char *z) { return rk__buf_put(b, z, strlen(z)); }

int rk__buf_vprintf(rk__buf *b, const char *fmt, va_list ap) {
  char small[256];
  va_list ap2;
  va_copy(ap2, ap);
  int k = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (k < 0) return -1;
  if ((size_t)k < sizeof small) return rk__buf_put(b, small, (size_t)k);
  if (buf_grow(b, (size_t)k)) return -1;
  vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
  b->n += (size_t)k;
  return 0;
}

int rk__buf_printf(rk__buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = rk__buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

const char *rk__buf_cstr(rk__buf *b) { return b->n ? b->p : ""; }

void rk__buf_reset(rk__buf *b) {
  b->n = 0;
  b->oom = 0;
  if (b->p) b->p[0] = '\0';
}

void rk__buf_release(rk__buf *b) {
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
  b->oom = 0;
}

char *rk__buf_take(rk__buf *b, size_t *n) {
  char *p = b->p;
  if (!p) {
    p = malloc(1);
    if (p) p[0] = '\0';
  }
  if (n) *n = b->n;
  b->p = NULL;
  b->n = b->cap = 0;
  b->oom = 0;
  return p;
}
