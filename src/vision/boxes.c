/*
 * boxes.c - the box scanner, coordinate conventions, IoU / GIoU and the
 * argument block shared by the box rewards (boxes.h).
 *
 * The scanner is not a JSON parser: it walks any text once, keeps a small
 * stack of open [ and { and recognises boxes wherever they close, so the
 * same code reads strict JSON, Python reprs with single quotes, prose with
 * "[10, 20, 30, 40]" in it, and lists cut off by the token limit (the
 * complete items are kept, the cut-off one is counted as truncated: that
 * is the only repair that is unambiguous). Cost: one step per byte.
 *
 * Not for: matching and scoring (iou.c, detection.c, hungarian.c, coco_map.c).
 */
#define _GNU_SOURCE /* memmem, memrchr */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "text/extract.h"
#include "vision/boxes.h"

/* ------------------------------------------------------------ scanner */

enum { K_NONE, K_BOX, K_LABEL, K_CONF, K_AREA, K_CROWD, K_OTHER };
enum { S_KEY, S_COLON, S_VALUE, S_AFTER };

#define MAX_DEPTH 64

typedef struct frame {
  char kind;       /* '{' or '[' */
  /* array */
  int nnum, nother, npairs;
  int as_value;    /* opened where the enclosing object expects a value */
  size_t start;    /* offset of the opening bracket */
  size_t box_at;   /* object: offset of its box array; array: of the pending box */
  double v[4], pv[4];
  /* array: a leading string is kept in label / has_label; a box right
   * after it waits here (pend) until the array closes, when it becomes a
   * labelled box if nothing else came ([label, box], Vision-R1) */
  int pend;
  double pbox[4];
  /* object */
  int key, state, has_box, box_keyed, box_bad;
  double box[4];
  double conf, area;
  rk__str label;
  int has_label, crowd;
} frame;

typedef struct scan {
  rk__call *c;
  rk__boxes *out;
  size_t cap, max;
  int oom;
  int unordered; /* a box was emitted after later ones (abandoned object) */
} scan;

static int is_ws(unsigned char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }
static int is_word(unsigned char ch) {
  return ch == '_' || ((ch | 32) >= 'a' && (ch | 32) <= 'z');
}
static int is_digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

/* ASCII case-insensitive equality with a lowercase word of length n. */
static int key_eq_n(rk__str k, const char *z, size_t n) {
  if (k.n != n) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)k.p[i];
    if (ch >= 'A' && ch <= 'Z') ch |= 32;
    if (ch != (unsigned char)z[i]) return 0;
  }
  return 1;
}
static int key_eq(rk__str k, const char *z) { return key_eq_n(k, z, strlen(z)); }

/* Key classes (case-insensitive). */
static int classify_key(rk__str k) {
#define KW(s, cls) {s, sizeof(s) - 1, cls}
  static const struct {
    const char *w;
    size_t n;
    int cls;
  } keys[] = {KW("bbox_2d", K_BOX),       KW("bbox", K_BOX),          KW("box", K_BOX),
              KW("box_2d", K_BOX),        KW("bbox2d", K_BOX),        KW("position", K_BOX),
              KW("bounding_box", K_BOX),  KW("coordinates", K_BOX),   KW("label", K_LABEL),
              KW("class", K_LABEL),       KW("category", K_LABEL),    KW("category_name", K_LABEL),
              KW("name", K_LABEL),        KW("confidence", K_CONF),   KW("score", K_CONF),
              KW("conf", K_CONF),         KW("area", K_AREA),         KW("iscrowd", K_CROWD)};
#undef KW
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (keys[i].n == k.n && key_eq_n(k, keys[i].w, keys[i].n)) return keys[i].cls;
  return K_OTHER;
}

static void drop(scan *s, rk__drop why) {
  s->out->dropped[why]++;
  s->out->ndropped++;
}

static void emit(scan *s, const double v[4], const frame *obj, size_t at) {
  rk__boxes *o = s->out;
  if (o->n >= s->max) {
    drop(s, RK__DROP_LIMIT);
    return;
  }
  if (o->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 16;
    if (nc > s->max) nc = s->max;
    rk__box *nb = rk__arena_alloc(s->c->arena, nc * sizeof *nb);
    if (!nb) {
      s->oom = 1;
      return;
    }
    if (o->n) memcpy(nb, o->b, o->n * sizeof *nb);
    o->b = nb;
    s->cap = nc;
  }
  if (o->n && o->b[o->n - 1].at > at) s->unordered = 1; /* sorted back at the end */
  rk__box *b = &o->b[o->n++];
  b->x1 = v[0], b->y1 = v[1], b->x2 = v[2], b->y2 = v[3];
  b->conf = obj ? obj->conf : NAN;
  b->area = obj ? obj->area : NAN;
  b->label = obj && obj->has_label ? obj->label : rk__str_make(NULL, 0);
  b->has_label = obj ? obj->has_label : 0;
  b->crowd = obj ? obj->crowd : 0;
  b->at = at;
}

/* Length of a number token at p (JSON number, plus a leading '+' and a
 * leading '.'), 0 if none. */
static size_t number_len(const char *p, size_t n) {
  size_t i = 0;
  if (i < n && (p[i] == '-' || p[i] == '+')) i++;
  size_t d0 = i;
  while (i < n && is_digit((unsigned char)p[i])) i++;
  size_t nd = i - d0;
  if (i < n && p[i] == '.') {
    size_t f = ++i;
    while (i < n && is_digit((unsigned char)p[i])) i++;
    nd += i - f;
    if (i == f && nd == 0) return 0;
  }
  if (nd == 0) return 0;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    size_t j = i + 1;
    if (j < n && (p[j] == '-' || p[j] == '+')) j++;
    size_t e0 = j;
    while (j < n && is_digit((unsigned char)p[j])) j++;
    if (j > e0) i = j;
  }
  return i;
}

static double number_val(const char *p, size_t n) {
  /* Fast path (Clinger 1990): at most 15 digits and 22 decimals, no
   * exponent: mantissa and power of ten are exact doubles, so one
   * correctly rounded division gives strtod's result. */
  static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  size_t i = 0;
  int neg = 0, nd = 0, frac = 0, dot = 0;
  uint64_t m = 0;
  if (n && (p[0] == '-' || p[0] == '+')) neg = p[0] == '-', i++;
  for (; i < n; i++) {
    unsigned d = (unsigned)(unsigned char)p[i] - '0';
    if (d < 10) {
      if (nd < 19) m = m * 10 + d;
      nd++;
      frac += dot;
    } else if (p[i] == '.' && !dot) {
      dot = 1;
    } else {
      break;
    }
  }
  if (i == n && nd <= 15 && frac <= 22) {
    double v = (double)m / p10[frac];
    return neg ? -v : v;
  }
  char tmp[64];
  if (n >= sizeof tmp) return NAN; /* absurdly long: unusable */
  memcpy(tmp, p, n);
  tmp[n] = '\0';
  return strtod(tmp, NULL);
}

/* A pending box whose array did not turn out to be a [label, box] pair
 * stands on its own, without the label. */
static void flush_pending(scan *s, frame *a) {
  if (!a->pend) return;
  a->pend = 0;
  emit(s, a->pbox, NULL, a->box_at);
}

/* An array closed: a box for its parent, or a standalone box. */
static void close_array(scan *s, frame *st, int depth) {
  frame *a = &st[depth];
  frame *par = depth > 0 ? &st[depth - 1] : NULL;
  if (a->pend) {
    /* Exactly a string and a box: [label, box] (Vision-R1's ground truth
     * [["cat", [x1, y1, x2, y2]], ...]). The label borrows the string. */
    if (a->nother == 2 && a->nnum == 0) {
      frame lab;
      memset(&lab, 0, sizeof lab);
      lab.conf = lab.area = NAN;
      lab.label = a->label;
      lab.has_label = 1;
      a->pend = 0;
      emit(s, a->pbox, &lab, a->box_at);
    } else {
      flush_pending(s, a);
    }
  }
  int is_box = 0;
  double v[4];
  if (a->nnum == 4 && a->nother == 0) {
    memcpy(v, a->v, sizeof v);
    is_box = 1;
  } else if (a->nnum == 0 && a->npairs == 2 && a->nother == 2) {
    memcpy(v, a->pv, sizeof v); /* [[x1,y1],[x2,y2]] */
    is_box = 1;
  }
  if (par && par->kind == '[') {
    par->nother++;
    if (a->nnum == 2 && a->nother == 0) {
      if (par->npairs < 2) memcpy(par->pv + 2 * par->npairs, a->v, 2 * sizeof(double));
      par->npairs++;
    }
  }
  if (par && par->kind == '{' && a->as_value) {
    par->state = S_AFTER;
    if (par->key == K_BOX) {
      if (is_box) {
        memcpy(par->box, v, sizeof v);
        par->has_box = par->box_keyed = 1;
        par->box_bad = 0;
        par->box_at = a->start;
      } else if (!par->has_box) {
        par->box_bad = 1;
      }
    } else if (is_box && !par->has_box) {
      memcpy(par->box, v, sizeof v); /* fallback: any 4-number member */
      par->has_box = 1;
      par->box_at = a->start;
    }
    return;
  }
  /* A box right after a leading string: maybe the box of a [label, box]
   * pair, decided when the parent closes (or flushed when anything else
   * follows). */
  if (is_box && par && par->kind == '[' && par->has_label && par->nnum == 0 &&
      par->nother == 2 && !par->pend) {
    memcpy(par->pbox, v, sizeof v);
    par->pend = 1;
    par->box_at = a->start;
    return;
  }
  /* A box directly in a list or in prose. (A lone [x, y] pair is not.) */
  if (is_box) emit(s, v, NULL, a->start);
}

static void close_object(scan *s, frame *st, int depth) {
  frame *o = &st[depth];
  frame *par = depth > 0 ? &st[depth - 1] : NULL;
  if (o->has_box)
    emit(s, o->box, o, o->box_at);
  else if (o->box_bad)
    drop(s, RK__DROP_NOT4);
  if (par) {
    if (par->kind == '[') par->nother++;
    else if (par->state == S_VALUE) par->state = S_AFTER;
  }
}

/* An object never closed (cut by the end of the text, or an unbalanced
 * brace in prose). A box under a box key belonged to a JSON object whose
 * other members may be lost: dropped as truncated. A bare 4-number array
 * inside it stands on its own. */
static void abandon(scan *s, frame *f) {
  if (f->kind != '{') {
    /* Only the end of the text abandons an array with a pending box (any
     * other byte flushes it first): a [label, box] item cut off, dropped
     * like a cut-off object. */
    if (f->pend) drop(s, RK__DROP_TRUNCATED), f->pend = 0;
    return;
  }
  if (f->has_box && !f->box_keyed) {
    emit(s, f->box, NULL, f->box_at);
    s->unordered = 1;
  }
  else if (f->has_box || f->box_bad)
    drop(s, RK__DROP_TRUNCATED);
}

rk_status rk__boxes_scan(rk__call *c, const char *p, size_t n, size_t max_boxes,
                         rk__boxes *out) {
  memset(out, 0, sizeof *out);
  if (!rk__spend(c, (uint64_t)n + 1)) return RK_STATUS_TIMEOUT;
  scan s = {c, out, 0, max_boxes ? max_boxes : RK__BOXES_DEFAULT_MAX, 0, 0};
  frame st[MAX_DEPTH];
  int depth = -1; /* index of the top frame */
  int skipped = 0; /* [ { opened past MAX_DEPTH, to balance their closers */
  char prev = 0;  /* last structural byte, for single-quote strings */
  size_t i = 0;
  while (i < n && !s.oom) {
    unsigned char ch = (unsigned char)p[i];
    if (is_ws(ch)) {
      i++;
      continue;
    }
    frame *top = depth >= 0 ? &st[depth] : NULL;
    /* Anything but a comma or the closing bracket after the box of a
     * possible [label, box] pair: it is not one. */
    if (top && top->pend && ch != ',' && ch != ']') flush_pending(&s, top);
    if (ch == '{' || ch == '[') {
      if (depth + 1 >= MAX_DEPTH) {
        skipped++;
      } else {
        int as_value = top && top->kind == '{' && top->state == S_VALUE;
        frame *f = &st[++depth];
        memset(f, 0, sizeof *f);
        f->as_value = as_value;
        f->start = i;
        f->kind = (char)ch;
        f->conf = NAN;
        f->area = NAN;
        f->key = K_NONE;
      }
      prev = (char)ch;
      i++;
      continue;
    }
    if (ch == '}' || ch == ']') {
      char want = ch == '}' ? '{' : '[';
      if (skipped) {
        skipped--;
      } else {
        int k = depth;
        while (k >= 0 && st[k].kind != want) k--;
        if (k >= 0) {
          /* Frames opened inside and never closed are abandoned. */
          for (int j = depth; j > k; j--) abandon(&s, &st[j]);
          depth = k;
          if (want == '[')
            close_array(&s, st, depth);
          else
            close_object(&s, st, depth);
          depth--;
        }
      }
      prev = (char)ch;
      i++;
      continue;
    }
    if (!top) {
      /* Prose: only brackets matter. Skip a word or number whole so that
       * "x1" is not read as 1. */
      if (is_word(ch) || is_digit(ch)) {
        while (i < n && (is_word((unsigned char)p[i]) || is_digit((unsigned char)p[i]))) i++;
      } else {
        i++;
      }
      continue;
    }
    if (ch == ',') {
      if (top->kind == '{') top->state = S_KEY, top->key = K_NONE;
      prev = ',';
      i++;
      continue;
    }
    if (ch == ':') {
      if (top->kind == '{') top->state = S_VALUE;
      prev = ':';
      i++;
      continue;
    }
    if (ch == '"' || (ch == '\'' && (prev == '{' || prev == '[' || prev == ',' || prev == ':'))) {
      size_t j = i + 1;
      for (;;) { /* the closing quote: memchr, then skip escaped ones */
        const char *q = j < n ? memchr(p + j, ch, n - j) : NULL;
        if (!q) {
          j = n;
          break;
        }
        size_t bs = 0, e = (size_t)(q - p);
        while (e - bs > i + 1 && p[e - bs - 1] == '\\') bs++;
        j = e;
        if (bs % 2 == 0) break;
        j++;
      }
      if (j >= n) break; /* unterminated: the text ends inside a string */
      rk__str str = rk__str_make(p + i + 1, j - i - 1);
      i = j + 1;
      prev = '"';
      if (top->kind == '[') {
        if (top->nother == 0 && top->nnum == 0) { /* maybe [label, box] */
          top->label = str;
          top->has_label = 1;
        }
        top->nother++;
      } else if (top->state == S_KEY || top->state == S_COLON) {
        top->key = classify_key(str);
        top->state = S_COLON;
      } else if (top->state == S_VALUE) {
        if (top->key == K_LABEL) {
          top->label = str;
          top->has_label = 1;
        } else if (top->key == K_CONF || top->key == K_AREA) {
          size_t k = number_len(str.p, str.n);
          if (k && k == str.n) {
            double v = number_val(str.p, k);
            if (top->key == K_CONF) top->conf = v; else top->area = v;
          }
        }
        top->state = S_AFTER;
      }
      continue;
    }
    size_t k = (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.'
                   ? number_len(p + i, n - i)
                   : 0;
    if (k) {
      double v = number_val(p + i, k);
      i += k;
      prev = '0';
      if (top->kind == '[') {
        if (top->nnum < 4) top->v[top->nnum] = v;
        top->nnum++;
      } else if (top->state == S_VALUE) {
        if (top->key == K_CONF) top->conf = v;
        else if (top->key == K_AREA) top->area = v;
        else if (top->key == K_CROWD) top->crowd = v != 0;
        else if (top->key == K_LABEL) {
          top->label = rk__str_make(p + i - k, k); /* numeric class id */
          top->has_label = 1;
        }
        top->state = S_AFTER;
      }
      continue;
    }
    if (is_word(ch)) {
      size_t j = i;
      while (j < n && (is_word((unsigned char)p[j]) || is_digit((unsigned char)p[j]))) j++;
      rk__str w = rk__str_make(p + i, j - i);
      i = j;
      prev = 'a';
      if (top->kind == '[') {
        top->nother++;
      } else if (top->state == S_KEY) {
        top->key = classify_key(w); /* unquoted key */
        top->state = S_COLON;
      } else if (top->state == S_VALUE) {
        if (top->key == K_CROWD) top->crowd = key_eq(w, "true");
        top->state = S_AFTER;
      }
      continue;
    }
    /* Any other byte inside a container. */
    if (top->kind == '[') top->nother++;
    prev = (char)ch;
    i++;
  }
  for (int j = depth; j >= 0; j--) abandon(&s, &st[j]);
  if (s.oom) return rk__fail(c, "out of memory while scanning boxes");
  if (s.unordered && !s.oom) { /* back to source order (rare: stable insertion) */
    for (size_t k = 1; k < out->n; k++) {
      rk__box x = out->b[k];
      size_t q = k;
      while (q > 0 && out->b[q - 1].at > x.at) out->b[q] = out->b[q - 1], q--;
      out->b[q] = x;
    }
  }
  return RK_STATUS_OK;
}

/* -------------------------------------------------------- conventions */

void rk__boxes_convert(rk__boxes *bs, rk__box_layout layout, double sx, double sy) {
  size_t w = 0;
  for (size_t i = 0; i < bs->n; i++) {
    rk__box b = bs->b[i];
    double a = b.x1, bb = b.y1, cc = b.x2, d = b.y2;
    switch (layout) {
      case RK__BOX_XYWH: /* x, y, w, h */
        b.x1 = a, b.y1 = bb, b.x2 = a + cc, b.y2 = bb + d;
        break;
      case RK__BOX_CXCYWH: /* cx, cy, w, h */
        b.x1 = a - cc / 2, b.y1 = bb - d / 2, b.x2 = a + cc / 2, b.y2 = bb + d / 2;
        break;
      default:
        break;
    }
    b.x1 *= sx, b.x2 *= sx, b.y1 *= sy, b.y2 *= sy;
    rk__drop why = RK__DROP__COUNT;
    /* |coordinate| <= 1e15 keeps every area, union and enclosing box
     * finite (no inf/inf = NaN downstream); no image is that large. */
    if (!(fabs(b.x1) <= 1e15) || !(fabs(b.y1) <= 1e15) || !(fabs(b.x2) <= 1e15) ||
        !(fabs(b.y2) <= 1e15))
      why = RK__DROP_NONFINITE;
    else if (b.x2 < b.x1)
      why = RK__DROP_X;
    else if (b.y2 < b.y1)
      why = RK__DROP_Y;
    if (why != RK__DROP__COUNT) {
      bs->dropped[why]++;
      bs->ndropped++;
      continue;
    }
    if (!isnan(b.area)) b.area *= sx * sy;
    bs->b[w++] = b;
  }
  bs->n = w;
}

void rk__boxes_describe(const rk__boxes *bs, const char *what, char *buf, size_t cap) {
  static const char *const names[RK__DROP__COUNT] = {
      "not 4 numbers", "not finite or |x| > 1e15", "x2 < x1", "y2 < y1", "truncated", "over the box limit",
      "zero width or height"};
  int o = snprintf(buf, cap, "%zu %s box%s", bs->n, what, bs->n == 1 ? "" : "es");
  if (bs->ndropped && o > 0 && (size_t)o < cap) {
    o += snprintf(buf + o, cap - (size_t)o, " (%zu invalid dropped:", bs->ndropped);
    int first = 1;
    for (int k = 0; k < RK__DROP__COUNT && o > 0 && (size_t)o < cap; k++) {
      if (!bs->dropped[k]) continue;
      o += snprintf(buf + o, cap - (size_t)o, "%s %zu %s", first ? "" : ",", bs->dropped[k],
                    names[k]);
      first = 0;
    }
    if (o > 0 && (size_t)o < cap) snprintf(buf + o, cap - (size_t)o, ")");
  }
}

/* ---------------------------------------------------------------- IoU */

double rk__box_iou_vlmr1(const rk__box *a, const rk__box *b) {
  /* VLM-R1 qwen_module.py iou(): inclusive-pixel intersection
   * (min(x2 - 1) - max(x1) + 1, only when max(x1) < min(x2 - 1)), plain
   * areas in the union; a 1x1 box against itself therefore scores 0. */
  double ix1 = fmax(a->x1, b->x1), iy1 = fmax(a->y1, b->y1);
  double ix2 = fmin(a->x2 - 1, b->x2 - 1), iy2 = fmin(a->y2 - 1, b->y2 - 1);
  double inter = ix1 < ix2 && iy1 < iy2 ? (ix2 - ix1 + 1) * (iy2 - iy1 + 1) : 0.0;
  double u = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;
  return u != 0 ? inter / u : 0.0;
}

/* ------------------------------------------------------ reward args */

static const char *const layout_names[] = {"xyxy", "xywh", "cxcywh", NULL};
static const char *const coord_names[] = {"pixel", "unit", "1000", "grid", NULL};

/* A convention by name; the number 1000 is taken for "1000" (what
 * `--arg coords=1000` on the command line gives). */
static int coord_arg(rk__argctx *ac, const char *key, int *out) {
  const rk__jval *v = rk__arg_raw(ac, key);
  if (v && v->type == RK__JNUM && v->u.num == 1000) {
    *out = RK__COORD_1000;
    return 0;
  }
  return rk__arg_enum(ac, key, coord_names, 0, out);
}

int rk__coordargs_compile(rk__argctx *ac, rk__coordargs *a) {
  memset(a, 0, sizeof *a);
  int co = 0, rco = 0;
  if (coord_arg(ac, "coords", &co) || coord_arg(ac, "ref_coords", &rco) ||
      rk__arg_num_range(ac, "width", 0, 0, 1e9, &a->width) ||
      rk__arg_num_range(ac, "height", 0, 0, 1e9, &a->height) ||
      rk__arg_num_range(ac, "input_width", 0, 0, 1e9, &a->input_width) ||
      rk__arg_num_range(ac, "input_height", 0, 0, 1e9, &a->input_height) ||
      rk__arg_str(ac, "width_field", "width", &a->width_field) ||
      rk__arg_str(ac, "height_field", "height", &a->height_field) ||
      rk__arg_str(ac, "input_width_field", "input_width", &a->input_width_field) ||
      rk__arg_str(ac, "input_height_field", "input_height", &a->input_height_field))
    return -1;
  a->coords = (rk__coord)co;
  a->ref_coords = (rk__coord)rco;
  return 0;
}

void rk__coordargs_free(rk__coordargs *a) {
  if (!a) return;
  free(a->width_field);
  free(a->height_field);
  free(a->input_width_field);
  free(a->input_height_field);
  memset(a, 0, sizeof *a);
}

int rk__boxargs_compile(rk__argctx *ac, rk__boxargs *a, long max_boxes_def) {
  int dd = a->drop_degenerate; /* the caller's default */
  memset(a, 0, sizeof *a);
  a->drop_degenerate = dd;
  int lay = 0, rlay = 0;
  if (rk__arg_enum(ac, "format", layout_names, 0, &lay) ||
      rk__arg_enum(ac, "ref_format", layout_names, 0, &rlay) ||
      rk__coordargs_compile(ac, &a->co) ||
      rk__arg_int(ac, "max_boxes", max_boxes_def, 1, 1000000, &a->max_boxes) ||
      rk__arg_bool(ac, "drop_degenerate", a->drop_degenerate, &a->drop_degenerate))
    return -1;
  a->layout = (rk__box_layout)lay;
  a->ref_layout = (rk__box_layout)rlay;
  if (rk__arg_raw(ac, "extract")) {
    rk__extract_cfg *ex = calloc(1, sizeof *ex);
    if (!ex) return rk__arg_error(ac, "extract", "out of memory");
    a->extract = ex;
    a->extract_given = 1;
    if (rk__extract_cfg_compile(ac, RK__EX_ANSWER_TAG, ex)) return -1;
  }
  return 0;
}

void rk__boxargs_free(rk__boxargs *a) {
  if (!a) return;
  rk__coordargs_free(&a->co);
  if (a->extract) {
    rk__extract_cfg_free(a->extract);
    free(a->extract);
  }
  memset(a, 0, sizeof *a);
}

double rk__coord_size(rk__call *c, double fixed, const char *field) {
  if (fixed > 0) return fixed;
  if (!field || !*field || !c->rec) return 0;
  const rk__jval *v = rk__record_field(c->rec, field);
  if (v && v->type == RK__JNUM && v->u.num > 0 && isfinite(v->u.num)) return v->u.num;
  return 0;
}

/* A missing size goes to the explanation as well as the error message,
 * so that --explain shows why there is no reward. */
static rk_status size_missing(rk__call *c, const char *msg) {
  rk__explain(c, "%s", msg);
  return rk__fail(c, "%s", msg);
}

/* Scale factors to pixels for one convention; ERROR with a message if the
 * size it needs is missing. VLM-R1 REC (grid): x * W_img / W_input. */
static rk_status scale_for(const rk__coordargs *a, rk__call *c, rk__coord co, double W,
                           double H, double *sx, double *sy) {
  char msg[600]; /* field names are user strings: snprintf truncates */
  switch (co) {
    case RK__COORD_PIXEL:
      *sx = *sy = 1;
      return RK_STATUS_OK;
    case RK__COORD_UNIT:
      *sx = W, *sy = H;
      break;
    case RK__COORD_1000:
      *sx = W / 1000, *sy = H / 1000;
      break;
    case RK__COORD_GRID: {
      double iw = rk__coord_size(c, a->input_width, a->input_width_field);
      double ih = rk__coord_size(c, a->input_height, a->input_height_field);
      if (!(iw > 0) || !(ih > 0)) {
        snprintf(msg, sizeof msg, "coords \"grid\" needs the model input size: record field "
                                  "'%s'/'%s' or args input_width/input_height",
                 a->input_width_field, a->input_height_field);
        return size_missing(c, msg);
      }
      *sx = W / iw, *sy = H / ih;
      break;
    }
  }
  if (!(W > 0) || !(H > 0)) {
    snprintf(msg, sizeof msg, "coords \"%s\" needs the image size: record field '%s'/'%s' or "
                              "args width/height",
             coord_names[co], a->width_field, a->height_field);
    return size_missing(c, msg);
  }
  return RK_STATUS_OK;
}

rk_status rk__coordargs_scale(const rk__coordargs *a, rk__call *c, rk__coordscale *out) {
  out->sx = out->sy = out->rx = out->ry = 1;
  out->W = rk__coord_size(c, a->width, a->width_field);
  out->H = rk__coord_size(c, a->height, a->height_field);
  out->unit = a->coords;
  if (a->coords == a->ref_coords && !(out->W > 0 && out->H > 0)) return RK_STATUS_OK;
  rk_status st = scale_for(a, c, a->coords, out->W, out->H, &out->sx, &out->sy);
  if (st == RK_STATUS_OK) st = scale_for(a, c, a->ref_coords, out->W, out->H, &out->rx, &out->ry);
  out->unit = RK__COORD_PIXEL;
  return st;
}

void rk__coordscale_describe(const rk__coordargs *a, const rk__coordscale *s, char *buf,
                             size_t cap) {
  if (!cap) return;
  buf[0] = '\0';
  if (a->coords == RK__COORD_PIXEL && a->ref_coords == RK__COORD_PIXEL) return;
  char sides[64], w[32], h[32];
  if (a->coords == a->ref_coords)
    snprintf(sides, sizeof sides, "%s coordinates on both sides", coord_names[a->coords]);
  else
    snprintf(sides, sizeof sides, "prediction in %s, reference in %s coordinates",
             coord_names[a->coords], coord_names[a->ref_coords]);
  if (s->unit != RK__COORD_PIXEL) {
    snprintf(buf, cap, "%s, compared in that unit (no image size)", sides);
    return;
  }
  rk__fmt_double(w, s->W);
  rk__fmt_double(h, s->H);
  snprintf(buf, cap, "%s, compared in pixels of a %sx%s image", sides, w, h);
}

rk_status rk__boxes_region(const rk__boxargs *a, rk__call *c, rk__str *region,
                           const char **how) {
  const rk__record *r = c->rec;
  if (!r->has_response) return rk__fail(c, "record has no response text");
  rk__str t = r->response;
  if (a->extract_given) {
    rk_status st = rk__extract(a->extract, c, t, region, how);
    return st;
  }
  /* Default: the last <answer> up to its </answer>, or to the end when the
   * response was cut off inside it; else the whole response. */
  *how = "whole response";
  const char *o = NULL;
  for (const char *q = t.p; t.n - (size_t)(q - t.p) >= 8;) {
    const char *f = memmem(q, t.n - (size_t)(q - t.p), "<answer>", 8);
    if (!f) break;
    o = f;
    q = f + 8;
  }
  if (!rk__spend(c, t.n / 8 + 1)) return RK_STATUS_TIMEOUT;
  if (o) {
    const char *s = o + 8, *e = t.p + t.n;
    const char *cl = memmem(s, (size_t)(e - s), "</answer>", 9);
    *region = rk__str_make(s, (size_t)((cl ? cl : e) - s));
    *how = cl ? "answer tag" : "unclosed answer tag";
  } else {
    *region = t;
  }
  return RK_STATUS_OK;
}

/* The last ``` block of s (to the end when its closing fence is missing),
 * or s itself when there is no fence. */
static rk__str last_fence(rk__str s, int *found) {
  const char *fences[2] = {NULL, NULL};
  size_t count = 0;
  const char *q = s.p, *e = s.p + s.n;
  while ((size_t)(e - q) >= 3) {
    const char *f = memmem(q, (size_t)(e - q), "```", 3);
    if (!f) break;
    fences[0] = fences[1];
    fences[1] = f;
    count++;
    q = f + 3;
  }
  *found = count > 0;
  if (!count) return s;
  if (count % 2 == 0) return rk__str_make(fences[0] + 3, (size_t)(fences[1] - fences[0] - 3));
  return rk__str_make(fences[1] + 3, (size_t)(e - fences[1] - 3));
}

rk_status rk__boxes_load(const rk__boxargs *a, rk__call *c, rk__boxes *pred,
                         rk__boxes *ref, const char **region_how) {
  rk__str region;
  const char *how = NULL;
  memset(pred, 0, sizeof *pred);
  memset(ref, 0, sizeof *ref);
  rk_status st = rk__boxes_region(a, c, &region, &how);
  if (st != RK_STATUS_OK) return st;
  int fenced = 0;
  rk__str blk = last_fence(region, &fenced);
  size_t maxb = (size_t)a->max_boxes + 1; /* one past: callers detect "too many" */
  if (fenced) {
    st = rk__boxes_scan(c, blk.p, blk.n, maxb, pred);
    if (st != RK_STATUS_OK) return st;
    if (pred->n || pred->ndropped)
      how = strcmp(how, "whole response") == 0 ? "code block" : "code block in answer";
    else
      fenced = 0;
  }
  if (!fenced) {
    st = rk__boxes_scan(c, region.p, region.n, maxb, pred);
    if (st != RK_STATUS_OK) return st;
  }
  *region_how = how;

  const rk__jval *rv = c->rec->reference;
  if (!rv) {
    rk__explain(c, "record has no reference");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__str rt = rv->type == RK__JSTR ? rv->u.str : rv->raw;
  st = rk__boxes_scan(c, rt.p, rt.n, RK__BOXES_DEFAULT_MAX, ref);
  if (st != RK_STATUS_OK) return st;

  rk__coordscale sc;
  st = rk__coordargs_scale(&a->co, c, &sc);
  if (st != RK_STATUS_OK) return st;
  double sx = sc.sx, sy = sc.sy, rx = sc.rx, ry = sc.ry;
  rk__boxes_convert(pred, a->layout, sx, sy);
  rk__boxes_convert(ref, a->ref_layout, rx, ry);
  if (a->drop_degenerate) {
    size_t w = 0;
    for (size_t i = 0; i < pred->n; i++) {
      const rk__box *b = &pred->b[i];
      if (b->x2 > b->x1 && b->y2 > b->y1) {
        pred->b[w++] = *b;
      } else {
        pred->dropped[RK__DROP_EMPTY]++;
        pred->ndropped++;
      }
    }
    pred->n = w;
  }
  if (ref->ndropped) {
    char d[200];
    rk__boxes_describe(ref, "reference", d, sizeof d);
    rk__explain(c, "invalid reference: %s", d);
    return RK_STATUS_INVALID_REFERENCE;
  }
  return RK_STATUS_OK;
}
