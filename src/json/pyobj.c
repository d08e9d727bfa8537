/*
 * pyobj.c - the records of a Python list read in place (rk_py_records):
 * each dict written as the JSON text json.dumps(record,
 * separators=(",", ":")) gives for it, its str "response" held and handed
 * over as it is, by the binding's thread while it holds the GIL.
 *
 * Why: with every CPU scoring, the binding's own Python work decides its
 * speed; marshal.dumps of a dict (about 1.5 us for a 3.5 KB record)
 * copied every string into a new object, and any path through UTF-8 costs
 * about 1.5 ns a character of non-ASCII text. Here the walk is C calls to
 * CPython's stable ABI; strs are read where CPython keeps their code
 * units (Latin-1, UCS-2 or UCS-4; the binding checks that layout on
 * probes, else asks for UTF-8), escaped straight into the text; the
 * response is not copied at all, and the scoring threads turn its code
 * units into UTF-8 (engine.c), off the GIL.
 *
 * The text is the same as pymarshal.c writes for the same object (it
 * shares its string and float writers), so the JSON reader sees what it
 * sees on the marshal and JSON paths. Only the exact types json.dumps
 * writes without help are read; anything else - subclasses, numpy
 * scalars, sets, ints past 64 bits, non-str keys, nesting past 512 (a
 * dict that contains itself) - makes the call return RK_EINVAL, and the
 * binding takes its other paths, whose messages name the field.
 *
 * Nothing here runs Python code (no __repr__, no __eq__: the types are
 * exact), so the objects cannot change during the walk.
 *
 * rk_py_score (at the end) is the one-call path for small batches: the
 * records read here, scored with the GIL let go, the results written as
 * marshal data, the references given back.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "rewardkit.h"

#define MAX_DEPTH 512

typedef struct reader {
  const rk_pyapi *a;
  rk__buf *o;
} reader;

typedef struct held_records {
  rk_pyrecords pub;   /* first: rk_py_records_free gets this pointer */
  const rk_pyapi *a;
  void **held;        /* the response strs, one reference each */
  size_t nheld;
  rk__buf text;       /* every record's JSON text, one after the other */
  void *block;        /* the arrays */
  size_t block_n;     /* records the block has room for */
} held_records;

/* The buffers of the last batch freed, for the next one: a trainer reads
 * batch after batch of the same size, and fresh memory costs page faults
 * (about a tenth of the reading time). */
#define POOL_MAX ((size_t)64 << 20)
/* The arrays: six of pointer size and the kinds. */
#define BLOCK_PER_RECORD (6 * sizeof(void *) + 1)
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static held_records pool;

static const void *type_of(const rk_pyapi *a, const void *o) {
  const void *t;
  memcpy(&t, (const char *)o + a->type_offset, sizeof t);
  return t;
}

/* Item i of a list (list != 0) or tuple (borrowed), NULL past its end. */
static void *item_of(const rk_pyapi *a, void *seq, int list, size_t i) {
  return list ? a->list_item(seq, (ptrdiff_t)i) : a->tuple_item(seq, (ptrdiff_t)i);
}

/* A str's text: n code units of kind bytes each (1, 2, 4) where CPython
 * keeps them, or kind 0: n bytes of UTF-8 (ASCII strs, or through utf8()
 * when the layout is not known: that keeps a UTF-8 copy in the str). */
typedef struct units {
  const char *p;
  size_t n;
  unsigned kind;
} units;

static int str_units(const rk_pyapi *a, void *s, units *u) {
  if (a->state_offset) {
    uint32_t st;
    memcpy(&st, (const char *)s + a->state_offset, sizeof st);
    if (st & a->compact_mask) {
      ptrdiff_t len = a->str_length(s);
      unsigned kind = st >> a->kind_shift & 7;
      if (len < 0) {
        a->err_clear();
        return -1;
      }
      u->n = (size_t)len;
      if (st & a->ascii_mask) {
        u->p = (const char *)s + a->ascii_data;
        u->kind = 0;
        return 0;
      }
      if (kind != 1 && kind != 2 && kind != 4) return -1;
      u->p = (const char *)s + a->compact_data;
      u->kind = kind;
      return 0;
    }
  }
  ptrdiff_t len = 0;
  const char *p = a->utf8(s, &len);
  if (!p || len < 0) {
    a->err_clear(); /* lone surrogates: not UTF-8 */
    return -1;
  }
  u->p = p;
  u->n = (size_t)len;
  u->kind = 0;
  return 0;
}

/* A str's text as a JSON string: 0, or -1 when it is not UTF-8. */
static int put_units(rk__buf *o, const units *u) {
  if (u->kind) {
    rk__json_put_pyunits(o, u->p, u->n, u->kind);
    return 0;
  }
  return rk__json_put_pystr(o, u->p, u->n) == u->n ? 0 : -1;
}

static int put_str(reader *r, void *s) {
  units u;
  return str_units(r->a, s, &u) ? -1 : put_units(r->o, &u);
}

static void put_int(rk__buf *o, long long v) {
  char t[24];
  size_t k = sizeof t;
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
  do {
    t[--k] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) t[--k] = '-';
  rk__buf_put(o, t + k, sizeof t - k);
}

static int value(reader *r, void *v, int depth);

/* The members of a dict. With resp (the top level), a str member
 * "response" is left out and returned in *resp. */
static int members(reader *r, void *d, int depth, void **resp) {
  const rk_pyapi *a = r->a;
  ptrdiff_t pos = 0;
  void *k, *v;
  int first = 1;
  rk__buf_putc(r->o, '{');
  while (a->dict_next(d, &pos, &k, &v)) {
    units key;
    if (type_of(a, k) != a->str_type) return -1; /* json converts them: leave it to it */
    if (str_units(a, k, &key)) return -1;
    if (resp && key.kind == 0 && key.n == 8 && memcmp(key.p, "response", 8) == 0 &&
        type_of(a, v) == a->str_type) {
      *resp = v;
      continue;
    }
    if (!first) rk__buf_putc(r->o, ',');
    first = 0;
    if (put_units(r->o, &key)) return -1;
    rk__buf_putc(r->o, ':');
    if (value(r, v, depth + 1)) return -1;
  }
  rk__buf_putc(r->o, '}');
  return 0;
}

static int value(reader *r, void *v, int depth) {
  const rk_pyapi *a = r->a;
  rk__buf *o = r->o;
  if (depth > MAX_DEPTH || o->oom) return -1;
  const void *t = type_of(a, v);
  if (t == a->str_type) return put_str(r, v);
  if (t == a->int_type) {
    int overflow = 0;
    long long x = a->long_value(v, &overflow);
    if (overflow) return -1;
    put_int(o, x);
    return 0;
  }
  if (t == a->float_type) {
    char num[48];
    rk__buf_put(o, num, rk__py_float_repr(num, a->float_value(v)));
    return 0;
  }
  if (v == a->none) return rk__buf_put(o, "null", 4);
  if (v == a->true_) return rk__buf_put(o, "true", 4);
  if (v == a->false_) return rk__buf_put(o, "false", 5);
  if (t == a->dict_type) return members(r, v, depth, NULL);
  int list = t == a->list_type;
  if (!list && t != a->tuple_type) return -1;
  rk__buf_putc(o, '[');
  ptrdiff_t n = list ? a->list_size(v) : a->tuple_size(v);
  for (ptrdiff_t i = 0; i < n; i++) {
    if (i) rk__buf_putc(o, ',');
    void *item = item_of(a, v, list, (size_t)i);
    if (!item || value(r, item, depth + 1)) {
      if (!item) a->err_clear();
      return -1;
    }
  }
  rk__buf_putc(o, ']');
  return 0;
}

/* Asks for the cache lines of a dict's keys and values (the objects are
 * scattered in memory: waiting for each one in turn was most of the
 * walk), while the record before it is written. */
static void prefetch_members(const rk_pyapi *a, void *d) {
  ptrdiff_t pos = 0;
  void *k, *v;
  while (a->dict_next(d, &pos, &k, &v)) {
    __builtin_prefetch(k);
    __builtin_prefetch(v);
  }
}

void rk_py_records_free(rk_pyrecords *pub) {
  if (!pub) return;
  held_records *h = (held_records *)pub;
  for (size_t i = 0; i < h->nheld; i++) h->a->decref(h->held[i]);
  pthread_mutex_lock(&pool_mu);
  if (!pool.block && h->text.cap + h->block_n * BLOCK_PER_RECORD <= POOL_MAX) {
    pool.text = h->text, pool.block = h->block, pool.block_n = h->block_n;
    h->block = NULL;
    rk__buf_init(&h->text, 0);
  }
  pthread_mutex_unlock(&pool_mu);
  rk__buf_release(&h->text);
  free(h->block);
  free(h);
}

rk_err rk_py_records(const rk_pyapi *api, void *seq, size_t start, size_t n, rk_pyrecords **out) {
  if (!out) return RK_EINVAL;
  *out = NULL;
  if (!api || !seq) return RK_EINVAL;
  const void *st = type_of(api, seq);
  int list = st == api->list_type;
  if (!list && st != api->tuple_type) return RK_EINVAL;
  ptrdiff_t len = list ? api->list_size(seq) : api->tuple_size(seq);
  if (len < 0 || start > (size_t)len || n > (size_t)len - start) return RK_EINVAL;
  held_records *h = calloc(1, sizeof *h);
  if (!h) return RK_ENOMEM;
  h->a = api;
  h->pub.n = n;
  rk__buf_init(&h->text, 0);
  pthread_mutex_lock(&pool_mu);
  if (pool.block && pool.block_n >= n) {
    h->text = pool.text, h->block = pool.block, h->block_n = pool.block_n;
    pool.block = NULL;
    rk__buf_init(&pool.text, 0);
  }
  pthread_mutex_unlock(&pool_mu);
  if (!h->block) {
    h->block_n = n ? n : 1;
    if (!(h->block = malloc(h->block_n * BLOCK_PER_RECORD))) {
      free(h);
      return RK_ENOMEM;
    }
  }
  /* Six arrays of block_n pointer-sized slots, then the kinds. */
  h->pub.lines = (const char **)h->block;
  h->pub.resps = h->pub.lines + h->block_n;
  h->held = (void **)(h->pub.resps + h->block_n);
  h->pub.lens = (size_t *)(h->held + h->block_n);
  h->pub.rlens = h->pub.lens + h->block_n;
  size_t *off = h->pub.rlens + h->block_n;
  h->pub.kinds = (unsigned char *)(off + h->block_n);
  rk__buf_reset(&h->text);
  reader r = {api, &h->text};
  rk_err rc = RK_OK;
  void *next = n ? item_of(api, seq, list, start) : NULL;
  for (size_t i = 0; i < n; i++) {
    void *d = next;
    next = i + 1 < n ? item_of(api, seq, list, start + i + 1) : NULL;
    if (next && type_of(api, next) == api->dict_type) prefetch_members(api, next);
    if (!d) {
      api->err_clear();
      rc = RK_EINVAL;
      goto done;
    }
    if (type_of(api, d) != api->dict_type) {
      rc = RK_EINVAL;
      goto done;
    }
    void *resp = NULL;
    units ru = {NULL, 0, 0};
    off[i] = h->text.n;
    if (members(&r, d, 0, &resp) || (resp && str_units(api, resp, &ru))) {
      rc = h->text.oom ? RK_ENOMEM : RK_EINVAL;
      goto done;
    }
    if (h->text.oom) {
      rc = RK_ENOMEM;
      goto done;
    }
    h->pub.lens[i] = h->text.n - off[i];
    h->pub.resps[i] = ru.p;
    h->pub.rlens[i] = ru.n;
    h->pub.kinds[i] = (unsigned char)ru.kind;
    if (resp) {
      api->incref(resp);
      h->held[h->nheld++] = resp;
    }
  }
  for (size_t i = 0; i < n; i++) h->pub.lines[i] = h->text.p + off[i];
  *out = &h->pub;
  return RK_OK;
done:
  rk_py_records_free(&h->pub);
  return rc;
}

rk_err rk_py_score(const rk_pyapi *api, rk_ctx *ctx, const rk_spec *spec,
                   const rk_score_options *opts, int advantage, void *seq, rk_py_result *out) {
  if (!out) return RK_EINVAL;
  memset(out, 0, sizeof *out);
  if (!api || !seq || !opts) return RK_EINVAL;
  const void *st = type_of(api, seq);
  if (st != api->list_type && st != api->tuple_type) return RK_EINVAL;
  ptrdiff_t n = st == api->list_type ? api->list_size(seq) : api->tuple_size(seq);
  if (n < 0) return RK_EINVAL;
  rk_pyrecords *r = NULL;
  rk_err e = rk_py_records(api, seq, 0, (size_t)n, &r);
  if (e != RK_OK) return e;
  /* The records hold what they read (texts, references to the
   * responses): no Python object is touched until the GIL is back. */
  int let_go = api->save_thread && api->restore_thread;
  void *ts = let_go ? api->save_thread() : NULL;
  rk_batch *b = NULL;
  e = rk__score_pyrecords_bare(ctx, spec, opts, r, &b);
  if (e == RK_OK) {
    e = rk_batch_pymarshal(b, spec, advantage, &out->data, &out->len, &out->errors);
    if (e != RK_OK) rk_batch_free(b), b = NULL;
  }
  if (let_go) api->restore_thread(ts);
  rk_py_records_free(r);
  if (e != RK_OK) return e;
  if (opts->explain || out->errors)
    out->batch = b;
  else
    rk_batch_free(b);
  return RK_OK;
}
