/*
 * wire.h - request bodies and response parsing for the inference servers
 * that model-based rewards call: vLLM, SGLang, llama.cpp server and TGI.
 * Formats: docs/rewards/model.md ("Servers"), recorded from each
 * project's protocol definitions.
 *
 * No I/O here: builders append a JSON body to a buffer and name the path;
 * parsers read a response body into neutral structs allocated in an arena.
 * Parsers never trust the server: any shape they do not expect gives -1
 * with a message naming the field ("vLLM chat: choices[0].logprobs.content
 * missing"), never a crash or a silent 0.
 */
#ifndef RK_MODEL_WIRE_H
#define RK_MODEL_WIRE_H

#include "core/core.h"
#include "model/formulas.h"

typedef enum rk__srv {
  RK__SRV_VLLM,
  RK__SRV_SGLANG,
  RK__SRV_LLAMACPP,
  RK__SRV_TGI
} rk__srv;

/* "vllm", "sglang", "llamacpp", "tgi". */
const char *rk__srv_name(rk__srv s);
/* Accepts the names above (and "llama.cpp", "llama-cpp"); 0 or -1. */
int rk__srv_parse(const char *name, rk__srv *out);

/* What a reward needs from a server. */
typedef enum rk__need {
  RK__NEED_TOP,        /* one generated token with its top alternatives (judge) */
  RK__NEED_GEN,        /* generated text (CoT judge, CapRL) */
  RK__NEED_PROMPT_LP,  /* logprobs of given text (ref_logprob, sar, prompt_echo) */
  RK__NEED_SCORE,      /* scalar reward-model score */
  RK__NEED_EMBED       /* embeddings */
} rk__need;

/* Why server s cannot serve need (with images when `images` is set; for
 * RK__NEED_SCORE through `endpoint` "classify", "pooling" or "embeddings";
 * for RK__NEED_PROMPT_LP in the form `endpoint` "plain" or "chat", NULL
 * meaning either), as a sentence for a spec error, e.g.
 * "llama.cpp server returns no prompt logprobs (its /v1/completions
 * rejects echo)"; NULL when it can. */
const char *rk__wire_unsupported(rk__srv s, rk__need need, int images,
                                 const char *endpoint);

/* Token accounting read from a response (0 when the server says nothing). */
typedef struct rk__usage {
  uint64_t prompt_tokens, completion_tokens;
} rk__usage;

/* A chat message. images are URLs or data URIs, sent as image_url parts
 * before the text. */
typedef struct rk__msg {
  const char *role;      /* "system", "user", "assistant" */
  rk__str text;
  const rk__str *images;
  size_t nimages;
} rk__msg;

/* Sampling for generation (RK__NEED_GEN). */
typedef struct rk__gen_opts {
  long max_tokens;
  double temperature;
  double top_p;          /* 1 = off */
  long seed;             /* < 0: not sent */
} rk__gen_opts;

/* A text whose tail (span) is to be scored (RK__NEED_PROMPT_LP).
 * chat == 0: the plain text prefix + span is sent as a prompt with no
 * template. chat == 1 (vLLM only): msgs are sent with the server's chat
 * template, the last message is the assistant's and holds the span
 * (continue_final_message, so nothing follows it). images (plain form,
 * SGLang only) go in image_data. */
typedef struct rk__lp_query {
  int chat;
  const rk__msg *msgs;
  size_t nmsgs;
  rk__str prefix, span;
  const rk__str *images;
  size_t nimages;
} rk__lp_query;

/* One input to embed: text, or an image (URL / data URI), or both. */
typedef struct rk__embed_in {
  rk__str text;          /* n == 0: none */
  rk__str image;         /* n == 0: none */
} rk__embed_in;

/* ----------------------------------------------------------- builders */
/* Each appends one JSON body to `body` and sets *path (static string,
 * e.g. "/v1/chat/completions"). model may be NULL or "" (then no "model"
 * member is sent). Return 0, or -1 if the server cannot do it (see
 * rk__wire_unsupported) or the buffer failed. */

/* max_tokens 1, temperature 0, logprobs with top_k alternatives; never a
 * grammar or structured output (they mask logprobs). */
int rk__wire_top(rk__srv s, const char *model, const rk__msg *m, size_t nm,
                 int top_k, rk__buf *body, const char **path);
int rk__wire_gen(rk__srv s, const char *model, const rk__msg *m, size_t nm,
                 const rk__gen_opts *o, rk__buf *body, const char **path);
int rk__wire_prompt_lp(rk__srv s, const char *model, const rk__lp_query *q,
                       rk__buf *body, const char **path);
/* endpoint: "classify" (vLLM /classify with use_activation false;
 * SGLang /classify), "pooling" (vLLM /pooling task classify), or
 * "embeddings" (SGLang /v1/embeddings, the score being the last number
 * of the last vector). texts are already templated. */
int rk__wire_score(rk__srv s, const char *model, const char *endpoint,
                   const rk__str *texts, size_t n, rk__buf *body,
                   const char **path);
/* Texts go in one batched "input" list; an input with an image must be
 * the only one (n == 1) and uses the server's image form. */
int rk__wire_embed(rk__srv s, const char *model, const rk__embed_in *in,
                   size_t n, rk__buf *body, const char **path);

/* ------------------------------------------------------------ parsers */
/* Each reads one response body (HTTP 200) and returns 0, or -1 with a
 * message in err (cap bytes). Outputs are allocated in arena a. */

/* The first generated position: its alternatives (top-k list; when the
 * server gives no list, the sampled token alone) and the sampled token. */
int rk__wire_parse_top(rk__srv s, const char *body, size_t n, rk__arena *a,
                       rk__toplp **top, size_t *ntop, rk__str *sampled,
                       rk__usage *u, char *err, size_t cap);
int rk__wire_parse_gen(rk__srv s, const char *body, size_t n, rk__arena *a,
                       rk__str *text, rk__usage *u, char *err, size_t cap);
/* The logprobs of the span's tokens: the shortest run of final prompt
 * tokens (generated tokens excluded) whose decoded texts together cover
 * q->span's bytes. A token that straddles the prefix/span boundary counts
 * as part of the span. The first token of the whole text has no logprob:
 * a span starting the text is scored from its second token. Any other
 * null logprob inside the span is an error; clamped values (<= -9999) are
 * passed through. */
int rk__wire_parse_prompt_lp(rk__srv s, const rk__lp_query *q, const char *body,
                             size_t n, rk__arena *a, double **lp, size_t *nlp,
                             rk__usage *u, char *err, size_t cap);
/* n scores, in input order. */
int rk__wire_parse_score(rk__srv s, const char *endpoint, const char *body,
                         size_t n, rk__arena *a, double *scores, size_t nscores,
                         char *err, size_t cap);
/* expect vectors of equal dimension, in input order (by "index" when
 * given): vecs is expect * *dim doubles, row-major. */
int rk__wire_parse_embed(rk__srv s, const char *body, size_t n, rk__arena *a,
                         size_t expect, double **vecs, size_t *dim,
                         rk__usage *u, char *err, size_t cap);

/* The message of an error response ({"error":{"message":..}},
 * {"error":".."}, {"message":..}, {"detail":..}, or the body's first
 * line), cut to cap-1 bytes, made printable. */
void rk__wire_error_message(const char *body, size_t n, char *out, size_t cap);

#endif /* RK_MODEL_WIRE_H */
