/*
 * common.h - what the model rewards share: prompt templates, the record's
 * prompt text and images, numbers carried by records (offline mode), and
 * the judge-hacking gate's arguments.
 */
#ifndef RK_MODEL_COMMON_H
#define RK_MODEL_COMMON_H

#include "core/core.h"
#include "model/client.h"
#include "model/formulas.h"

#define RK__MAX_IMAGES 16

/* A placeholder value for rk__mtemplate: {name} becomes val. */
typedef struct rk__mvar {
  const char *name;
  rk__str val;
} rk__mvar;

/* Renders tpl into out: {prompt}, {response}, {reference} from the record,
 * any of vars, and "{{" / "}}" for literal braces; other text is copied.
 * Returns RK_STATUS_OK, RK_STATUS_INVALID_REFERENCE when tpl uses
 * {reference} and the record has none, or RK_STATUS_ERROR (message set)
 * for an unknown placeholder or a full buffer. */
rk_status rk__mtemplate(rk__call *c, const char *tpl, const rk__mvar *vars,
                        size_t nvars, rk__buf *out);
/* 0, or -1 after an argument error naming the unknown placeholder. The
 * names allowed beyond prompt/response/reference are given NULL-terminated. */
int rk__mtemplate_check(rk__argctx *ac, const char *key, const char *tpl,
                        const char *const *extra);

/* The prompt as text: a string as is; chat messages (an array of
 * {role, content}) give the last user message's text (string content, or
 * its text parts joined by newlines, in the arena). n = 0 when absent. */
rk__str rk__mprompt(rk__call *c);
/* Image URLs / data URIs of the record (a string or an array of strings,
 * or of {"url": ...} / {"image_url": {"url": ...}} objects). */
size_t rk__mimages(rk__call *c, rk__str *out, size_t max);
/* The first reference string (n = 0 when none). */
rk__str rk__mreference(rk__call *c);

/* Numbers of a JSON array (null -> NAN) in the arena. 0, or -1 when v is
 * not an array of numbers and nulls. */
int rk__mnums(rk__call *c, const rk__jval *v, double **out, size_t *n);
/* Top alternatives carried by a record: [{"token": t, "logprob": x}, ...]
 * or {"t": x, ...}. 0 or -1. */
int rk__mtop(rk__call *c, const rk__jval *v, rk__toplp **out, size_t *n);

/* The gate against judge hacking (formulas.h rk__judge_gate): "gate"
 * (default true) and "master_keys" (more keys) arguments. */
typedef struct rk__mgate {
  int on;
  char **keys;
  size_t nkeys;
} rk__mgate;
int rk__mgate_compile(rk__argctx *ac, rk__mgate *g);
void rk__mgate_free(rk__mgate *g);
/* 1 when the response is refused: *value = 0, *s = unparseable, reason
 * explained. 0 otherwise. */
int rk__mgate_check(const rk__mgate *g, rk__call *c, double *value, rk_status *s);

/* Sends body to e (see rk__model_call): 1 and *r on a 200 reply; 0 when
 * the request was queued (finish queueing the record's other requests,
 * then return rk__model_pending); -1 with *s set otherwise (the server's
 * error, as an error status naming the reward). */
int rk__mfetch(rk__call *c, const char *who, const rk__endpoint *e,
               const char *path, const rk__buf *body, const rk__reply **r,
               rk_status *s);

/* Token logprobs of q's span from e (prompt logprobs): 1 with *lp, *n;
 * 0 when queued; -1 with *s set (server error, or a reply that does not
 * parse: the message names the field). */
int rk__mspan_lp(rk__call *c, const char *who, const rk__endpoint *e,
                 const rk__lp_query *q, double **lp, size_t *n, rk_status *s);

/* One chat call, parsed: the first generated position's alternatives
 * (rk__mtop_call) or the generated text (rk__mgen). 1, 0 or -1 as
 * rk__mspan_lp. */
int rk__mtop_call(rk__call *c, const char *who, const rk__endpoint *e, const rk__msg *m,
                  size_t nm, int top_k, rk__toplp **top, size_t *ntop, rk__str *sampled,
                  rk_status *s);
int rk__mgen(rk__call *c, const char *who, const rk__endpoint *e, const rk__msg *m,
             size_t nm, const rk__gen_opts *o, rk__str *text, rk_status *s);
/* Embeddings of in[0..n): *vecs holds n rows of *dim. 1, 0 or -1. */
int rk__membed(rk__call *c, const char *who, const rk__endpoint *e, const rk__embed_in *in,
               size_t n, double **vecs, size_t *dim, rk_status *s);
/* Reward-model scores of texts[0..n) through `api`. 1, 0 or -1. */
int rk__mscore(rk__call *c, const char *who, const rk__endpoint *e, const char *api,
               const rk__str *texts, size_t n, double *scores, rk_status *s);

/* Which likelihood aggregate an "aggregate" argument names (formulas.h). */
int rk__mlp_mode_compile(rk__argctx *ac, const char *key, int def, rk__lp_mode *out);
extern const char *const rk__mlp_mode_names[];

#endif /* RK_MODEL_COMMON_H */
