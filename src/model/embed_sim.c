/*
 * embed_sim.c - fn `embed_sim`: rewards from an embeddings endpoint
 * (CLIP-style or text embedding models).
 *   cosine      cos(response, target), target = reference, prompt or image
 *   clip_score  RLCF: w * max(cos(response text, image), 0), w = 2.5; the
 *               group-mean baseline is the advantage "dr_grpo" (docs)
 *   vlm_rm      VLM-RM: image vs goal and baseline prompts, projection alpha
 *   vlm_rl      VLM-RL: 1 - clip(cos(x,neg) - cos(x,pos), 0, m) / m
 *   bmas        bidirectional max-average similarity between the sentences
 *               of the response and of the reference
 * Texts of one record go out in one batched request; an image in its own
 * (servers take one image input per request). Offline (no "url"): the
 * record carries the vectors in an object (default field "embeddings").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "model/common.h"

enum { M_COS, M_CLIP, M_VLMRM, M_VLMRL, M_BMAS };
enum { T_REF, T_PROMPT, T_IMAGE };
#define MAX_SENT 64

typedef struct {
  rk__endpoint *ep;
  int mode, target;
  double weight, alpha, margin;
  char **goals, **baselines;
  size_t ngoals, nbaselines;
  char *positive, *negative, *field;
} cfg_t;

static void cfg_free(void *p) {
  cfg_t *c = p;
  if (!c) return;
  rk__endpoint_free(c->ep);
  rk__strlist_free(c->goals);
  rk__strlist_free(c->baselines);
  free(c->positive);
  free(c->negative);
  free(c->field);
  free(c);
}

static int compile(rk__argctx *ac, void **out) {
  static const char *const modes[] = {"cosine", "clip_score", "vlm_rm", "vlm_rl", "bmas", NULL};
  static const char *const targets[] = {"reference", "prompt", "image", NULL};
  cfg_t *c = calloc(1, sizeof *c);
  if (!c) return rk__arg_error(ac, NULL, "out of memory");
  *out = c;
  int rc = 0;
  rc |= rk__endpoint_compile(ac, &c->ep);
  rc |= rk__arg_enum(ac, "mode", modes, M_COS, &c->mode);
  rc |= rk__arg_enum(ac, "target", targets, T_REF, &c->target);
  rc |= rk__arg_num(ac, "weight", 2.5, &c->weight);
  rc |= rk__arg_num_range(ac, "alpha", 0.5, 0, 1, &c->alpha);
  rc |= rk__arg_num(ac, "margin", 0.03, &c->margin);
  rc |= rk__arg_strlist(ac, "goals", &c->goals, &c->ngoals);
  rc |= rk__arg_strlist(ac, "baselines", &c->baselines, &c->nbaselines);
  rc |= rk__arg_str(ac, "positive", NULL, &c->positive);
  rc |= rk__arg_str(ac, "negative", NULL, &c->negative);
  rc |= rk__arg_str(ac, "field", "embeddings", &c->field);
  if (rc) return -1;
  if (!(c->margin > 0)) return rk__arg_error(ac, "margin", "must be > 0");
  if (c->ep && c->mode == M_VLMRM && (!c->ngoals || !c->nbaselines))
    return rk__arg_error(ac, c->ngoals ? "baselines" : "goals",
                         "vlm_rm needs \"goals\" and \"baselines\" (lists of prompts), e.g. "
                         "goals [\"pole vertically upright on top of the cart\"], "
                         "baselines [\"pole and cart\"]");
  if (c->ep && c->mode == M_VLMRL && (!c->positive || !c->negative))
    return rk__arg_error(ac, c->positive ? "negative" : "positive",
                         "vlm_rl needs \"positive\" and \"negative\" goal prompts");
  if (c->ep) {
    int img = c->mode == M_CLIP || c->mode == M_VLMRM || c->mode == M_VLMRL ||
              (c->mode == M_COS && c->target == T_IMAGE);
    const char *why = rk__wire_unsupported(c->ep->kind, RK__NEED_EMBED, img, NULL);
    if (why) return rk__arg_error(ac, "server", "%s", why);
  }
  return 0;
}

/* ------------------------------------------------------------ vectors */

typedef struct vecs {
  double *v;               /* n rows of d */
  size_t n, d;
} vecs;

/* Embeds in[0..n) (1), queues (0) or fails (-1, *s set). */
static int embed(const cfg_t *cfg, rk__call *c, const rk__embed_in *in, size_t n, vecs *out,
                 rk_status *s) {
  out->n = n;
  return rk__membed(c, "embed_sim", cfg->ep, in, n, &out->v, &out->d, s);
}

static int embed_texts(const cfg_t *cfg, rk__call *c, const rk__str *t, size_t n, vecs *out,
                       rk_status *s) {
  rk__embed_in *in = rk__arena_alloc(c->arena, (n ? n : 1) * sizeof *in);
  if (!in) {
    *s = rk__fail(c, "embed_sim: out of memory");
    return -1;
  }
  for (size_t i = 0; i < n; i++) in[i] = (rk__embed_in){t[i], {NULL, 0}};
  return embed(cfg, c, in, n, out, s);
}

static int embed_image(const cfg_t *cfg, rk__call *c, vecs *out, rk_status *s) {
  rk__str img[1];
  if (!rk__mimages(c, img, 1)) {
    *s = rk__fail(c, "embed_sim: the record has no image");
    return -1;
  }
  rk__embed_in in = {{NULL, 0}, img[0]};
  return embed(cfg, c, &in, 1, out, s);
}

/* Offline vectors: obj[key] is a vector (rows = 0) or a list of vectors. */
static int carried(rk__call *c, const rk__jval *obj, const char *key, int rows, vecs *out) {
  const rk__jval *v = obj ? rk__json_get(obj, key) : NULL;
  if (!v || v->type != RK__JARR) return -1;
  if (!rows) {
    out->n = 1;
    return rk__mnums(c, v, &out->v, &out->d);
  }
  size_t n = v->u.arr.n, d = 0;
  if (!n || v->u.arr.items[0].type != RK__JARR) return -1;
  d = v->u.arr.items[0].u.arr.n;
  double *x = rk__arena_alloc(c->arena, n * (d ? d : 1) * sizeof *x);
  if (!x) return -1;
  for (size_t i = 0; i < n; i++) {
    double *row;
    size_t k;
    if (rk__mnums(c, &v->u.arr.items[i], &row, &k) || k != d) return -1;
    memcpy(x + i * d, row, d * sizeof *x);
  }
  out->v = x;
  out->n = n;
  out->d = d;
  return 0;
}

/* Sentences of t: split after . ! ? and newlines (and the CJK stops),
 * trimmed, empty ones dropped, at most max. */
static size_t sentences(rk__str t, rk__str *out, size_t max) {
  size_t n = 0, a = 0;
  for (size_t i = 0; i <= t.n && n < max; i++) {
    int end = i == t.n || t.p[i] == '\n' ||
              ((t.p[i] == '.' || t.p[i] == '!' || t.p[i] == '?') &&
               (i + 1 == t.n || t.p[i + 1] == ' ' || t.p[i + 1] == '\n'));
    size_t skip = 0;
    if (!end && i + 3 <= t.n && (unsigned char)t.p[i] == 0xE3 && (unsigned char)t.p[i + 1] == 0x80 &&
        (unsigned char)t.p[i + 2] == 0x82)
      end = 1, skip = 2; /* 。 */
    if (!end) continue;
    size_t b = i + (i < t.n && t.p[i] != '\n' ? 1 + skip : 0);
    size_t s = a, e = b;
    while (s < e && (t.p[s] == ' ' || t.p[s] == '\n' || t.p[s] == '\t' || t.p[s] == '\r')) s++;
    while (e > s && (t.p[e - 1] == ' ' || t.p[e - 1] == '\n' || t.p[e - 1] == '\t' || t.p[e - 1] == '\r')) e--;
    if (e > s) out[n++] = rk__str_make(t.p + s, e - s);
    a = b;
    i = b > i ? b - 1 : i;
  }
  return n;
}

/* ------------------------------------------------------------- score */

static rk_status same_dim(rk__call *c, const vecs *a, const vecs *b) {
  if (!a->d || a->d != b->d)
    return rk__fail(c, "embed_sim: vectors of different or zero dimension (%zu and %zu)",
                    a->d, b->d);
  return RK_STATUS_OK;
}

static rk_status score(const void *cfgp, rk__call *c, double *value) {
  const cfg_t *cfg = cfgp;
  rk_status s = RK_STATUS_OK;
  *value = 0;
  vecs x = {0}, y = {0}, z = {0};
  int k1 = 1, k2 = 1;
  const rk__jval *obj = NULL;
  if (!cfg->ep) {
    obj = rk__record_field(c->rec, cfg->field);
    if (!obj || obj->type != RK__JOBJ)
      return rk__fail(c, "embed_sim: no \"url\" is set, so the record must carry an object "
                      "of vectors in '%s' (docs/rewards/model.md lists the keys)", cfg->field);
  }
  if (!rk__spend(c, c->rec->response.n + 1000)) return RK_STATUS_TIMEOUT;
  rk__str resp = c->rec->response;

  switch (cfg->mode) {
  case M_COS:
  case M_CLIP: {
    int image = cfg->mode == M_CLIP || cfg->target == T_IMAGE;
    const char *tk = image ? "image" : cfg->target == T_PROMPT ? "prompt" : "reference";
    if (!cfg->ep) {
      if (carried(c, obj, "response", 0, &x) || carried(c, obj, tk, 0, &y))
        return rk__fail(c, "embed_sim: '%s' needs vectors \"response\" and \"%s\"", cfg->field, tk);
    } else if (image) {
      k1 = embed_texts(cfg, c, &resp, 1, &x, &s);
      if (k1 < 0) return s;
      k2 = embed_image(cfg, c, &y, &s);
      if (k2 < 0) return s;
    } else {
      rk__str t[2] = {resp, cfg->target == T_PROMPT ? rk__mprompt(c) : rk__mreference(c)};
      if (!t[1].p) {
        rk__explain(c, "no %s text to compare with", tk);
        return cfg->target == T_PROMPT ? rk__fail(c, "embed_sim: the record has no prompt")
                                       : RK_STATUS_INVALID_REFERENCE;
      }
      vecs both = {0};
      k1 = embed_texts(cfg, c, t, 2, &both, &s);
      if (k1 < 0) return s;
      if (k1 == 1) {
        x = (vecs){both.v, 1, both.d};
        y = (vecs){both.v + both.d, 1, both.d};
      }
    }
    if (k1 == 0 || k2 == 0) return rk__model_pending(c);
    if ((s = same_dim(c, &x, &y)) != RK_STATUS_OK) return s;
    if (cfg->mode == M_CLIP) {
      *value = rk__clip_score(x.v, y.v, x.d, cfg->weight);
      rk__explain(c, "CLIPScore %g * max(cos, 0) = %g", cfg->weight, *value);
    } else {
      *value = rk__cosine(x.v, y.v, x.d);
      rk__explain(c, "cos(response, %s) = %g", tk, *value);
    }
    return RK_STATUS_OK;
  }
  case M_VLMRM:
  case M_VLMRL: {
    int rm = cfg->mode == M_VLMRM;
    if (!cfg->ep) {
      if (carried(c, obj, "image", 0, &x) ||
          carried(c, obj, rm ? "goals" : "positive", rm, &y) ||
          carried(c, obj, rm ? "baselines" : "negative", rm, &z))
        return rk__fail(c, "embed_sim: '%s' needs \"image\" and %s", cfg->field,
                        rm ? "\"goals\", \"baselines\" (lists of vectors)"
                           : "\"positive\", \"negative\" vectors");
    } else {
      k1 = embed_image(cfg, c, &x, &s);
      if (k1 < 0) return s;
      size_t ng = rm ? cfg->ngoals : 1, nb = rm ? cfg->nbaselines : 1;
      rk__str *t = rk__arena_alloc(c->arena, (ng + nb) * sizeof *t);
      if (!t) return rk__fail(c, "embed_sim: out of memory");
      for (size_t i = 0; i < ng; i++) {
        const char *g = rm ? cfg->goals[i] : cfg->positive;
        t[i] = rk__str_make(g, strlen(g));
      }
      for (size_t i = 0; i < nb; i++) {
        const char *b = rm ? cfg->baselines[i] : cfg->negative;
        t[ng + i] = rk__str_make(b, strlen(b));
      }
      vecs all = {0};
      k2 = embed_texts(cfg, c, t, ng + nb, &all, &s);
      if (k2 < 0) return s;
      if (k2 == 1) {
        y = (vecs){all.v, ng, all.d};
        z = (vecs){all.v + ng * all.d, nb, all.d};
      }
    }
    if (k1 == 0 || k2 == 0) return rk__model_pending(c);
    if ((s = same_dim(c, &x, &y)) != RK_STATUS_OK || (s = same_dim(c, &y, &z)) != RK_STATUS_OK)
      return s;
    if (rm) {
      if (rk__vlm_rm(x.v, y.v, y.n, z.v, z.n, x.d, cfg->alpha, value))
        return rk__fail(c, "embed_sim: vlm_rm needs at least one goal and one baseline");
      rk__explain(c, "VLM-RM (alpha %g) over %zu goals, %zu baselines = %g", cfg->alpha, y.n,
                  z.n, *value);
    } else {
      *value = rk__vlm_rl(x.v, y.v, z.v, x.d, cfg->margin);
      rk__explain(c, "VLM-RL contrast: cos(pos) %g, cos(neg) %g -> %g", rk__cosine(x.v, y.v, x.d),
                  rk__cosine(x.v, z.v, x.d), *value);
    }
    return RK_STATUS_OK;
  }
  default: { /* bmas */
    if (!cfg->ep) {
      if (carried(c, obj, "response_sentences", 1, &x) ||
          carried(c, obj, "reference_sentences", 1, &y))
        return rk__fail(c, "embed_sim: '%s' needs \"response_sentences\" and "
                        "\"reference_sentences\" (lists of vectors)", cfg->field);
    } else {
      rk__str ref = rk__mreference(c);
      if (!ref.p) return RK_STATUS_INVALID_REFERENCE;
      rk__str *t = rk__arena_alloc(c->arena, 2 * MAX_SENT * sizeof *t);
      if (!t) return rk__fail(c, "embed_sim: out of memory");
      size_t na = sentences(resp, t, MAX_SENT);
      size_t nb = sentences(ref, t + na, MAX_SENT);
      if (!na) {
        rk__explain(c, "the response has no sentence");
        return RK_STATUS_UNPARSEABLE;
      }
      if (!nb) return RK_STATUS_INVALID_REFERENCE;
      vecs all = {0};
      k1 = embed_texts(cfg, c, t, na + nb, &all, &s);
      if (k1 < 0) return s;
      if (k1 == 0) return rk__model_pending(c);
      x = (vecs){all.v, na, all.d};
      y = (vecs){all.v + na * all.d, nb, all.d};
    }
    if ((s = same_dim(c, &x, &y)) != RK_STATUS_OK) return s;
    if (rk__bmas(x.v, x.n, y.v, y.n, x.d, value))
      return rk__fail(c, "embed_sim: bmas needs sentences on both sides");
    rk__explain(c, "BMAS over %zu x %zu sentences = %g", x.n, y.n, *value);
    return RK_STATUS_OK;
  }
  }
}

const rk__fn rk__fn_embed_sim = {
    .name = "embed_sim",
    .summary = "embedding rewards: cosine, CLIPScore, VLM-RM, VLM-RL, BMAS (args: url, "
               "server, mode; offline: field)",
    .compile = compile,
    .score = score,
    .free = cfg_free,
    .calls_model = 1,
};
