/*
 * edit_common.c - shared plumbing of the edit and open-answer metrics
 * (see edit_common.h).
 */
#include "metrics/edit_common.h"

#include <string.h>

#include "json/json.h"

int rk__edm_extract_compile(rk__argctx *ac, const rk__ex_mode *def, int ndef,
                            rk__extract_cfg *ex) {
  int given = rk__arg_raw(ac, "extract") != NULL;
  if (rk__extract_cfg_compile(ac, def[0], ex)) return -1;
  if (!given) {
    if (ndef > RK__EX_MAX_MODES) ndef = RK__EX_MAX_MODES;
    for (int i = 0; i < ndef; i++) ex->modes[i] = def[i];
    ex->nmodes = ndef;
  }
  return 0;
}

int rk__edm_norm_compile(rk__argctx *ac, int def_on, rk__edm_norm *out) {
  static const char *const kinds[] = {"none", "default", "squad", NULL};
  int kind, cs;
  if (rk__arg_enum(ac, "normalize", kinds, def_on ? 1 : 0, &kind)) return -1;
  if (rk__arg_bool(ac, "case_sensitive", kind == 0, &cs)) return -1;
  memset(out, 0, sizeof *out);
  if (kind == 0 && cs) return 0;
  out->on = 1;
  out->nm.kind = kind == 0 ? RK__NORM_NONE : kind == 1 ? RK__NORM_DEFAULT : RK__NORM_SQUAD;
  out->nm.steps = kind == 1 ? RK__NORM_ALL : RK__NORM_CASEFOLD;
  if (cs) out->nm.steps &= ~(unsigned)RK__NORM_CASEFOLD;
  return 0;
}

rk_status rk__edm_normalize(const rk__edm_norm *n, rk__call *c, rk__str in,
                            rk__str *out) {
  if (!n->on) {
    *out = in;
    return RK_STATUS_OK;
  }
  if (!rk__spend(c, rk__norm_steps(&n->nm, in))) return RK_STATUS_TIMEOUT;
  if (rk__normalize(&n->nm, c->arena, in, out))
    return rk__fail(c, "out of scratch memory while normalising");
  return RK_STATUS_OK;
}




/* Charges the distance's steps; TIMEOUT (explained) when they do not fit. */
static rk_status lev_charge(rk__call *c, size_t nx, size_t ny, int lcs, const char *unit) {
  uint64_t cost = rk__lev_cost(nx, ny);
  if (!rk__spend(c, cost)) {
    rk__explain(c,
                "%s of %zu x %zu %s needs about %llu steps, more than the "
                "record's step budget (raise --budget or shorten the texts)",
                lcs ? "LCS" : "edit distance", nx, ny, unit,
                (unsigned long long)cost);
    return RK_STATUS_TIMEOUT;
  }
  return RK_STATUS_OK;
}

rk_status rk__edm_lev(rk__call *c, const uint32_t *x, size_t nx,
                      const uint32_t *y, size_t ny, int lcs, const char *unit,
                      long *out) {
  rk_status st = lev_charge(c, nx, ny, lcs, unit);
  if (st != RK_STATUS_OK) return st;
  long d = lcs ? rk__lcs_len(x, nx, y, ny, c->arena) : rk__lev_dist(x, nx, y, ny, c->arena);
  if (d < 0) return rk__fail(c, "out of scratch memory in the edit distance");
  *out = d;
  return RK_STATUS_OK;
}

rk_status rk__edm_lev8(rk__call *c, const uint8_t *x, size_t nx, const uint8_t *y,
                       size_t ny, int lcs, const char *unit, long *out) {
  rk_status st = lev_charge(c, nx, ny, lcs, unit);
  if (st != RK_STATUS_OK) return st;
  long d = lcs ? rk__lcs_len8(x, nx, y, ny, c->arena) : rk__lev_dist8(x, nx, y, ny, c->arena);
  if (d < 0) return rk__fail(c, "out of scratch memory in the edit distance");
  *out = d;
  return RK_STATUS_OK;
}

rk_status rk__edm_text_prepare(rk__call *c, rk__str s, uint8_t *buf, rk__edm_text *t) {
  if (!rk__spend(c, (uint64_t)s.n + 1)) return RK_STATUS_TIMEOUT;
  t->s = s;
  t->lo = 0;
  t->cp.v = NULL;
  t->cp.n = 0;
  if (s.n > RK__EDM_STACK - RK__NARROW_ROOM &&
      !(buf = rk__arena_alloc(c->arena, s.n + RK__NARROW_ROOM)))
    return rk__fail(c, "out of scratch memory decoding UTF-8");
  t->n = rk__cp_narrow(s.p, s.n, buf, &t->b);
  if (t->n == SIZE_MAX) {
    t->b = NULL;
    if (rk__cp_decode_arena(c->arena, s, &t->cp))
      return rk__fail(c, "out of scratch memory decoding UTF-8");
    t->n = t->cp.n;
  }
  return RK_STATUS_OK;
}

void rk__edm_text_strip(rk__edm_text *t) {
  size_t lo = 0, hi = t->n;
  if (t->b) {
    while (lo < hi && rk__cp_isspace(t->b[lo])) lo++;
    while (hi > lo && rk__cp_isspace(t->b[hi - 1])) hi--;
    t->b += lo;
  } else {
    while (lo < hi && rk__cp_isspace(t->cp.v[lo])) lo++;
    while (hi > lo && rk__cp_isspace(t->cp.v[hi - 1])) hi--;
    t->cp.v += lo;
    t->cp.n = hi - lo;
  }
  t->lo += lo;
  t->n = hi - lo;
}

/* Code points of a text prepared as bytes (for a pair whose other side
 * has wider ones). */
static rk_status text_widen(rk__call *c, rk__edm_text *t) {
  if (t->cp.v) return RK_STATUS_OK;
  if (rk__cp_decode_arena(c->arena, t->s, &t->cp))
    return rk__fail(c, "out of scratch memory decoding UTF-8");
  t->cp.v += t->lo;
  t->cp.n = t->n;
  return RK_STATUS_OK;
}

rk_status rk__edm_text_lev(rk__call *c, rk__edm_text *x, rk__edm_text *y, int lcs,
                           const char *unit, long *out) {
  if (x->b && y->b) return rk__edm_lev8(c, x->b, x->n, y->b, y->n, lcs, unit, out);
  rk_status st;
  if ((st = text_widen(c, x)) != RK_STATUS_OK || (st = text_widen(c, y)) != RK_STATUS_OK)
    return st;
  return rk__edm_lev(c, x->cp.v, x->n, y->cp.v, y->n, lcs, unit, out);
}

rk_status rk__edm_refs_answer(const rk__extract_cfg *ex, rk__call *c, rk__str *refs,
                              size_t *nref, rk__str *ans) {
  int had;
  *nref = rk__record_refs(c, refs, RK__MAX_REFS, &had);
  if (!*nref) {
    rk__explain(c, had ? "reference is not a string, a number or a list of them"
                       : "record has no reference");
    return RK_STATUS_INVALID_REFERENCE;
  }
  return rk__extract(ex, c, c->rec->response, ans, NULL);
}

rk_status rk__edm_decode(rk__call *c, rk__str s, rk__seq *out) {
  if (!rk__spend(c, (uint64_t)s.n + 1)) return RK_STATUS_TIMEOUT;
  if (rk__cp_decode_arena(c->arena, s, out))
    return rk__fail(c, "out of scratch memory decoding UTF-8");
  return RK_STATUS_OK;
}

const char *rk__edm_num(char *buf, double v) {
  rk__fmt_double(buf, v);
  return buf;
}
