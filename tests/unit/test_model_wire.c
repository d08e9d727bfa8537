/*
 * test_model_wire.c - the inference-server wire formats (src/model/wire.c):
 * which server serves which need, the request bodies (parsed back and
 * checked member by member), and the response parsers on hand-written
 * bodies shaped as the servers' protocol definitions show them
 * (docs/rewards/model.md "Servers"): null first logprobs, clamped -9999.0
 * and -999999999.0 values, tokens straddling the span boundary, missing
 * top_logprobs, rows out of index order, wrong shapes and error bodies.
 * Every expected value is written by hand next to the body it comes from.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "json/json.h"
#include "model/wire.h"
#include "test.h"

#define S(lit) lit, sizeof(lit) - 1

static rk__str jstr(const rk__jval *root, const char *path) {
  const rk__jval *v = rk__json_path(root, path);
  if (!v || v->type != RK__JSTR) return rk__str_make(NULL, 0);
  return v->u.str;
}

static double jnum(const rk__jval *root, const char *path) {
  const rk__jval *v = rk__json_path(root, path);
  return v && v->type == RK__JNUM ? v->u.num : NAN;
}

/* Type of the value at path, -1 when absent. */
static int jtype(const rk__jval *root, const char *path) {
  const rk__jval *v = rk__json_path(root, path);
  return v ? (int)v->type : -1;
}

static size_t jlen(const rk__jval *root, const char *path) {
  const rk__jval *v = rk__json_path(root, path);
  if (!v) return (size_t)-1;
  if (v->type == RK__JARR) return v->u.arr.n;
  if (v->type == RK__JOBJ) return v->u.obj.n;
  return (size_t)-1;
}

#define ASSERT_JSTR(root, path, want)       \
  do {                                      \
    rk__str s_ = jstr((root), (path));      \
    ASSERT_EQ_SPAN(s_.p, s_.n, (want));     \
  } while (0)

/* The body parsed back; NULL (and a failure) when it is not valid JSON. */
static const rk__jval *reparse(rk__arena *a, const rk__buf *b) {
  rk__jval *v = NULL;
  rk__json_error e;
  if (rk__json_parse(b->p, b->n, a, NULL, &v, &e) != 0) {
    RK_T_FAIL_("body is not JSON: %s\n    %.*s", e.msg, (int)b->n, b->p);
    return NULL;
  }
  if (v->type != RK__JOBJ) RK_T_FAIL_("body is not an object");
  return v;
}

/* Members that would constrain decoding (and mask the logprobs), or that
 * the server does not know. None may ever appear in a body. */
static void assert_no_grammar(const rk__jval *root) {
  static const char *const banned[] = {
      "response_format", "guided_json",    "guided_regex",
      "guided_choice",   "guided_grammar", "guided_decoding_backend",
      "structured_outputs", "grammar",     "json_schema",
      "regex",           "stream",         NULL};
  for (size_t i = 0; banned[i]; i++)
    if (rk__json_get(root, banned[i])) RK_T_FAIL_("body has \"%s\"", banned[i]);
}

static rk__msg user_msg(const char *text) {
  rk__msg m = {"user", rk__str_make(text, strlen(text)), NULL, 0};
  return m;
}

/* ------------------------------------------------------------ servers */

TEST(server_names) {
  rk__srv s = RK__SRV_TGI;
  ASSERT_EQ_STR(rk__srv_name(RK__SRV_VLLM), "vllm");
  ASSERT_EQ_STR(rk__srv_name(RK__SRV_SGLANG), "sglang");
  ASSERT_EQ_STR(rk__srv_name(RK__SRV_LLAMACPP), "llamacpp");
  ASSERT_EQ_STR(rk__srv_name(RK__SRV_TGI), "tgi");
  ASSERT_EQ_INT(rk__srv_parse("vllm", &s), 0);
  ASSERT_EQ_INT(s, RK__SRV_VLLM);
  ASSERT_EQ_INT(rk__srv_parse("sglang", &s), 0);
  ASSERT_EQ_INT(s, RK__SRV_SGLANG);
  ASSERT_EQ_INT(rk__srv_parse("llama.cpp", &s), 0);
  ASSERT_EQ_INT(s, RK__SRV_LLAMACPP);
  s = RK__SRV_VLLM;
  ASSERT_EQ_INT(rk__srv_parse("llama-cpp", &s), 0);
  ASSERT_EQ_INT(s, RK__SRV_LLAMACPP);
  s = RK__SRV_VLLM;
  ASSERT_EQ_INT(rk__srv_parse("llamacpp", &s), 0);
  ASSERT_EQ_INT(s, RK__SRV_LLAMACPP);
  ASSERT_EQ_INT(rk__srv_parse("tgi", &s), 0);
  ASSERT_EQ_INT(s, RK__SRV_TGI);
  ASSERT_EQ_INT(rk__srv_parse("vLLM", &s), 0);  /* ASCII case-insensitive */
  ASSERT_EQ_INT(s, RK__SRV_VLLM);
  ASSERT_EQ_INT(rk__srv_parse("ollama", &s), -1);
  ASSERT_EQ_INT(rk__srv_parse("", &s), -1);
  ASSERT_EQ_INT(rk__srv_parse("vllm ", &s), -1);
  ASSERT_EQ_INT(rk__srv_parse(NULL, &s), -1);
}

TEST(unsupported_table) {
  const rk__srv all[] = {RK__SRV_VLLM, RK__SRV_SGLANG, RK__SRV_LLAMACPP,
                         RK__SRV_TGI};
  /* P(yes) and generation: all four, with and without images. */
  for (int i = 0; i < 4; i++) {
    for (int img = 0; img < 2; img++) {
      ASSERT_TRUE(rk__wire_unsupported(all[i], RK__NEED_TOP, img, NULL) == NULL);
      ASSERT_TRUE(rk__wire_unsupported(all[i], RK__NEED_GEN, img, NULL) == NULL);
    }
  }
  /* Prompt logprobs. */
  for (int img = 0; img < 2; img++) {
    const char *forms[] = {NULL, "plain", "chat"};
    for (int f = 0; f < 3; f++)
      ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_LLAMACPP, RK__NEED_PROMPT_LP,
                                           img, forms[f]),
                      "no prompt logprobs");
  }
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_LLAMACPP, RK__NEED_PROMPT_LP, 0,
                                       NULL),
                  "rejects echo");
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_PROMPT_LP, 0, NULL) == NULL);
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_PROMPT_LP, 0, "plain") == NULL);
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_PROMPT_LP, 0, "chat") == NULL);
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_PROMPT_LP, 1, "chat") == NULL);
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_PROMPT_LP, 1, NULL) == NULL);
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_PROMPT_LP, 1, "plain"),
                  "only in the chat form");
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_SGLANG, RK__NEED_PROMPT_LP, 0, "plain") == NULL);
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_SGLANG, RK__NEED_PROMPT_LP, 1, "plain") == NULL);
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_SGLANG, RK__NEED_PROMPT_LP, 1, NULL) == NULL);
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_SGLANG, RK__NEED_PROMPT_LP, 0, "chat"),
                  "give the template-applied text instead");
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_TGI, RK__NEED_PROMPT_LP, 0, "plain") == NULL);
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_TGI, RK__NEED_PROMPT_LP, 0, NULL) == NULL);
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_TGI, RK__NEED_PROMPT_LP, 0, "chat"),
                  "give the template-applied text instead");
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_TGI, RK__NEED_PROMPT_LP, 1, "plain"),
                  "no images");
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_TGI, RK__NEED_PROMPT_LP, 1, NULL),
                  "no images");
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_PROMPT_LP, 0, "xml"),
                  "unknown prompt-logprob form");
  /* Reward-model scores. */
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_SCORE, 0, "classify") == NULL);
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_SCORE, 0, "pooling") == NULL);
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_SCORE, 0, NULL) == NULL);
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_SCORE, 0, "embeddings"),
                  "/classify or /pooling");
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_SGLANG, RK__NEED_SCORE, 0, "classify") == NULL);
  ASSERT_TRUE(rk__wire_unsupported(RK__SRV_SGLANG, RK__NEED_SCORE, 0, "embeddings") == NULL);
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_SGLANG, RK__NEED_SCORE, 0, "pooling"),
                  "no /pooling");
  const char *eps[] = {NULL, "classify", "pooling", "embeddings"};
  for (int e = 0; e < 4; e++) {
    ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_LLAMACPP, RK__NEED_SCORE, 0, eps[e]),
                    "only /rerank");
    ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_TGI, RK__NEED_SCORE, 0, eps[e]),
                    "Text Embeddings Inference");
  }
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_SCORE, 0, "rerank"),
                  "unknown reward-model endpoint");
  ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_SGLANG, RK__NEED_SCORE, 1, "classify"),
                  "no images");
  /* Embeddings. */
  for (int img = 0; img < 2; img++) {
    ASSERT_TRUE(rk__wire_unsupported(RK__SRV_VLLM, RK__NEED_EMBED, img, NULL) == NULL);
    ASSERT_TRUE(rk__wire_unsupported(RK__SRV_SGLANG, RK__NEED_EMBED, img, NULL) == NULL);
    ASSERT_TRUE(rk__wire_unsupported(RK__SRV_LLAMACPP, RK__NEED_EMBED, img, NULL) == NULL);
    ASSERT_CONTAINS(rk__wire_unsupported(RK__SRV_TGI, RK__NEED_EMBED, img, NULL),
                    "no embedding endpoint");
  }
}

/* ----------------------------------------------------------- builders */

TEST(build_top) {
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__buf b;
  rk__buf_init(&b, 0);
  const char *path = NULL;
  const rk__srv all[] = {RK__SRV_VLLM, RK__SRV_SGLANG, RK__SRV_LLAMACPP,
                         RK__SRV_TGI};
  rk__msg m[2] = {{"system", RK__STR("Answer Yes or No."), NULL, 0},
                  user_msg("Is 2+2=4?")};
  for (int i = 0; i < 4; i++) {
    rk__buf_reset(&b);
    ASSERT_EQ_INT(rk__wire_top(all[i], "judge-7b", m, 2, 5, &b, &path), 0);
    ASSERT_EQ_STR(path, "/v1/chat/completions");
    const rk__jval *r = reparse(&a, &b);
    if (!r) continue;
    ASSERT_JSTR(r, "model", "judge-7b");
    ASSERT_EQ_INT(jlen(r, "messages"), 2);
    ASSERT_JSTR(r, "messages.0.role", "system");
    ASSERT_JSTR(r, "messages.0.content", "Answer Yes or No.");
    ASSERT_JSTR(r, "messages.1.role", "user");
    ASSERT_JSTR(r, "messages.1.content", "Is 2+2=4?");
    ASSERT_NEAR(jnum(r, "max_tokens"), 1, 0);
    ASSERT_NEAR(jnum(r, "temperature"), 0, 0);
    ASSERT_EQ_INT(jtype(r, "logprobs"), RK__JTRUE);
    ASSERT_NEAR(jnum(r, "top_logprobs"), 5, 0);
    ASSERT_EQ_INT(r->u.obj.n, 6);  /* messages model max_tokens temperature logprobs top_logprobs */
    assert_no_grammar(r);
  }
  /* No model: no member at all (NULL and ""). */
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_top(RK__SRV_VLLM, NULL, m, 2, 20, &b, &path), 0);
  const rk__jval *r = reparse(&a, &b);
  if (r) ASSERT_EQ_INT(jtype(r, "model"), -1);
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_top(RK__SRV_VLLM, "", m, 2, 20, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) ASSERT_EQ_INT(jtype(r, "model"), -1);
  if (r) ASSERT_NEAR(jnum(r, "top_logprobs"), 20, 0);
  /* No messages, negative k: refused. */
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_top(RK__SRV_VLLM, NULL, m, 0, 5, &b, &path), -1);
  ASSERT_EQ_INT(rk__wire_top(RK__SRV_VLLM, NULL, m, 2, -1, &b, &path), -1);
  ASSERT_TRUE(path == NULL);
  ASSERT_EQ_INT(b.n, 0);
  rk__buf_release(&b);
  rk__arena_release(&a);
}

TEST(build_images_and_escaping) {
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__buf b;
  rk__buf_init(&b, 0);
  const char *path;
  rk__str imgs[2] = {RK__STR("data:image/png;base64,iVBORw0KGgo="),
                     RK__STR("https://example.com/cat.jpg")};
  /* Quote, backslash, newline, a control byte, an invalid byte (written as
   * U+FFFD), and a valid "é". */
  const char text[] = "Say \"yes\"\\no\n\x01 \xff caf\xc3\xa9";
  rk__msg m = {"user", rk__str_make(text, sizeof text - 1), imgs, 2};
  ASSERT_EQ_INT(rk__wire_top(RK__SRV_SGLANG, "m", &m, 1, 3, &b, &path), 0);
  const rk__jval *r = reparse(&a, &b);
  if (r) {
    ASSERT_EQ_INT(jlen(r, "messages.0.content"), 3);
    ASSERT_JSTR(r, "messages.0.content.0.type", "image_url");
    ASSERT_JSTR(r, "messages.0.content.0.image_url.url",
                "data:image/png;base64,iVBORw0KGgo=");
    ASSERT_JSTR(r, "messages.0.content.1.type", "image_url");
    ASSERT_JSTR(r, "messages.0.content.1.image_url.url",
                "https://example.com/cat.jpg");
    ASSERT_JSTR(r, "messages.0.content.2.type", "text");
    ASSERT_JSTR(r, "messages.0.content.2.text",
                "Say \"yes\"\\no\n\x01 \xef\xbf\xbd caf\xc3\xa9");
  }
  /* An image with no text: the image part alone. */
  m.text = rk__str_make("", 0);
  m.nimages = 1;
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_top(RK__SRV_LLAMACPP, "m", &m, 1, 3, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) {
    ASSERT_EQ_INT(jlen(r, "messages.0.content"), 1);
    ASSERT_JSTR(r, "messages.0.content.0.type", "image_url");
  }
  /* images == NULL with nimages > 0 is refused. */
  m.images = NULL;
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_top(RK__SRV_VLLM, "m", &m, 1, 3, &b, &path), -1);
  rk__buf_release(&b);
  rk__arena_release(&a);
}

TEST(build_gen) {
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__buf b;
  rk__buf_init(&b, 0);
  const char *path;
  rk__msg m = user_msg("Describe the image.");
  rk__gen_opts o = {256, 0.7, 1.0, -1};
  ASSERT_EQ_INT(rk__wire_gen(RK__SRV_VLLM, "m", &m, 1, &o, &b, &path), 0);
  ASSERT_EQ_STR(path, "/v1/chat/completions");
  const rk__jval *r = reparse(&a, &b);
  if (r) {
    ASSERT_NEAR(jnum(r, "max_tokens"), 256, 0);
    ASSERT_NEAR(jnum(r, "temperature"), 0.7, 0);
    ASSERT_EQ_INT(jtype(r, "top_p"), -1);  /* 1 = off: not sent */
    ASSERT_EQ_INT(jtype(r, "seed"), -1);   /* < 0: not sent */
    ASSERT_EQ_INT(jtype(r, "logprobs"), -1);
    assert_no_grammar(r);
  }
  o.top_p = 0.9;
  o.seed = 42;
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_gen(RK__SRV_TGI, NULL, &m, 1, &o, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) {
    ASSERT_NEAR(jnum(r, "top_p"), 0.9, 0);
    ASSERT_NEAR(jnum(r, "seed"), 42, 0);
    ASSERT_EQ_INT(jtype(r, "model"), -1);
  }
  o.seed = 0;  /* 0 is a seed */
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_gen(RK__SRV_LLAMACPP, NULL, &m, 1, &o, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) ASSERT_NEAR(jnum(r, "seed"), 0, 0);
  ASSERT_EQ_INT(rk__wire_gen(RK__SRV_VLLM, NULL, &m, 1, NULL, &b, &path), -1);
  rk__buf_release(&b);
  rk__arena_release(&a);
}

TEST(build_prompt_lp) {
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__buf b;
  rk__buf_init(&b, 0);
  const char *path;
  const rk__jval *r;
  /* The prefix ends inside "é" (C3 A9): joined, the character is whole. */
  rk__lp_query q = {0, NULL, 0, RK__STR("Q: caf\xc3"), RK__STR("\xa9 \"ok\""),
                    NULL, 0};

  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_VLLM, "m", &q, &b, &path), 0);
  ASSERT_EQ_STR(path, "/v1/completions");
  r = reparse(&a, &b);
  if (r) {
    ASSERT_JSTR(r, "prompt", "Q: caf\xc3\xa9 \"ok\"");
    ASSERT_JSTR(r, "model", "m");
    ASSERT_NEAR(jnum(r, "max_tokens"), 1, 0);
    ASSERT_EQ_INT(jtype(r, "echo"), RK__JTRUE);
    ASSERT_NEAR(jnum(r, "logprobs"), 1, 0);
    ASSERT_NEAR(jnum(r, "temperature"), 0, 0);
    assert_no_grammar(r);
  }

  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_SGLANG, "m", &q, &b, &path), 0);
  ASSERT_EQ_STR(path, "/generate");
  r = reparse(&a, &b);
  if (r) {
    ASSERT_JSTR(r, "text", "Q: caf\xc3\xa9 \"ok\"");
    ASSERT_NEAR(jnum(r, "sampling_params.max_new_tokens"), 0, 0);
    ASSERT_NEAR(jnum(r, "sampling_params.temperature"), 0, 0);
    ASSERT_EQ_INT(jtype(r, "return_logprob"), RK__JTRUE);
    ASSERT_NEAR(jnum(r, "logprob_start_len"), 0, 0);
    ASSERT_EQ_INT(jtype(r, "return_text_in_logprobs"), RK__JTRUE);
    ASSERT_EQ_INT(jtype(r, "image_data"), -1);
    ASSERT_EQ_INT(jtype(r, "model"), -1);
    assert_no_grammar(r);
  }
  /* SGLang images: one is a string, several a list. */
  rk__str imgs[2] = {RK__STR("data:image/png;base64,AAAA"),
                     RK__STR("http://h/b.png")};
  q.images = imgs;
  q.nimages = 1;
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_SGLANG, NULL, &q, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) ASSERT_JSTR(r, "image_data", "data:image/png;base64,AAAA");
  q.nimages = 2;
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_SGLANG, NULL, &q, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) {
    ASSERT_EQ_INT(jlen(r, "image_data"), 2);
    ASSERT_JSTR(r, "image_data.1", "http://h/b.png");
  }
  /* vLLM plain and TGI take no images. */
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_VLLM, NULL, &q, &b, &path), -1);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_TGI, NULL, &q, &b, &path), -1);
  ASSERT_EQ_INT(b.n, 0);
  q.images = NULL;
  q.nimages = 0;

  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_TGI, "m", &q, &b, &path), 0);
  ASSERT_EQ_STR(path, "/generate");
  r = reparse(&a, &b);
  if (r) {
    ASSERT_JSTR(r, "inputs", "Q: caf\xc3\xa9 \"ok\"");
    ASSERT_NEAR(jnum(r, "parameters.max_new_tokens"), 1, 0);
    ASSERT_EQ_INT(jtype(r, "parameters.do_sample"), RK__JFALSE);
    ASSERT_EQ_INT(jtype(r, "parameters.details"), RK__JTRUE);
    ASSERT_EQ_INT(jtype(r, "parameters.decoder_input_details"), RK__JTRUE);
    ASSERT_EQ_INT(jtype(r, "model"), -1);
    assert_no_grammar(r);
  }
  /* llama.cpp: never. */
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_LLAMACPP, "m", &q, &b, &path), -1);
  ASSERT_TRUE(path == NULL);
  ASSERT_EQ_INT(b.n, 0);

  /* Chat form: vLLM only. */
  rk__str img = RK__STR("data:image/jpeg;base64,/9j/");
  rk__msg m[2] = {{"user", RK__STR("What city is this?"), &img, 1},
                  {"assistant", RK__STR("Paris."), NULL, 0}};
  rk__lp_query qc = {1, m, 2, RK__STR(""), RK__STR("Paris."), NULL, 0};
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_VLLM, "vl", &qc, &b, &path), 0);
  ASSERT_EQ_STR(path, "/v1/chat/completions");
  r = reparse(&a, &b);
  if (r) {
    ASSERT_JSTR(r, "messages.0.content.0.type", "image_url");
    ASSERT_JSTR(r, "messages.0.content.0.image_url.url", "data:image/jpeg;base64,/9j/");
    ASSERT_JSTR(r, "messages.0.content.1.text", "What city is this?");
    ASSERT_JSTR(r, "messages.1.role", "assistant");
    ASSERT_JSTR(r, "messages.1.content", "Paris.");
    ASSERT_EQ_INT(jtype(r, "add_generation_prompt"), RK__JFALSE);
    ASSERT_EQ_INT(jtype(r, "continue_final_message"), RK__JTRUE);
    ASSERT_NEAR(jnum(r, "max_tokens"), 1, 0);
    ASSERT_NEAR(jnum(r, "temperature"), 0, 0);
    ASSERT_NEAR(jnum(r, "prompt_logprobs"), 0, 0);
    ASSERT_EQ_INT(jtype(r, "prompt_logprobs"), RK__JNUM);
    ASSERT_EQ_INT(jtype(r, "return_token_ids"), RK__JTRUE);
    ASSERT_EQ_INT(jtype(r, "logprobs"), -1);
    assert_no_grammar(r);
  }
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_SGLANG, "m", &qc, &b, &path), -1);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_TGI, "m", &qc, &b, &path), -1);
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_LLAMACPP, "m", &qc, &b, &path), -1);
  ASSERT_EQ_INT(b.n, 0);
  qc.nmsgs = 0;
  ASSERT_EQ_INT(rk__wire_prompt_lp(RK__SRV_VLLM, "m", &qc, &b, &path), -1);
  rk__buf_release(&b);
  rk__arena_release(&a);
}

TEST(build_score) {
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__buf b;
  rk__buf_init(&b, 0);
  const char *path;
  const rk__jval *r;
  rk__str t[2] = {RK__STR("<|im_start|>user\nhi<|im_end|>\n"), RK__STR("two")};

  ASSERT_EQ_INT(rk__wire_score(RK__SRV_VLLM, "rm", "classify", t, 2, &b, &path), 0);
  ASSERT_EQ_STR(path, "/classify");
  r = reparse(&a, &b);
  if (r) {
    ASSERT_JSTR(r, "model", "rm");
    ASSERT_EQ_INT(jlen(r, "input"), 2);
    ASSERT_JSTR(r, "input.0", "<|im_start|>user\nhi<|im_end|>\n");
    ASSERT_JSTR(r, "input.1", "two");
    ASSERT_EQ_INT(jtype(r, "use_activation"), RK__JFALSE);
  }
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_score(RK__SRV_VLLM, "rm", NULL, t, 1, &b, &path), 0);
  ASSERT_EQ_STR(path, "/classify");  /* NULL endpoint: classify */

  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_score(RK__SRV_VLLM, "rm", "pooling", t, 2, &b, &path), 0);
  ASSERT_EQ_STR(path, "/pooling");
  r = reparse(&a, &b);
  if (r) {
    ASSERT_EQ_INT(jlen(r, "input"), 2);
    ASSERT_JSTR(r, "task", "classify");
  }
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_score(RK__SRV_SGLANG, "rm", "classify", t, 2, &b, &path), 0);
  ASSERT_EQ_STR(path, "/classify");
  r = reparse(&a, &b);
  if (r) {
    ASSERT_EQ_INT(jlen(r, "text"), 2);
    ASSERT_JSTR(r, "text.1", "two");
    ASSERT_EQ_INT(jtype(r, "input"), -1);
  }
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_score(RK__SRV_SGLANG, NULL, "embeddings", t, 2, &b, &path), 0);
  ASSERT_EQ_STR(path, "/v1/embeddings");
  r = reparse(&a, &b);
  if (r) {
    ASSERT_EQ_INT(jlen(r, "input"), 2);
    ASSERT_EQ_INT(jtype(r, "model"), -1);
  }
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_score(RK__SRV_VLLM, "rm", "embeddings", t, 2, &b, &path), -1);
  ASSERT_EQ_INT(rk__wire_score(RK__SRV_SGLANG, "rm", "pooling", t, 2, &b, &path), -1);
  ASSERT_EQ_INT(rk__wire_score(RK__SRV_LLAMACPP, "rm", "classify", t, 2, &b, &path), -1);
  ASSERT_EQ_INT(rk__wire_score(RK__SRV_TGI, "rm", "classify", t, 2, &b, &path), -1);
  ASSERT_EQ_INT(rk__wire_score(RK__SRV_VLLM, "rm", "classify", t, 0, &b, &path), -1);
  ASSERT_EQ_INT(b.n, 0);
  rk__buf_release(&b);
  rk__arena_release(&a);
}

TEST(build_embed) {
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__buf b;
  rk__buf_init(&b, 0);
  const char *path;
  const rk__jval *r;
  rk__embed_in texts[3] = {{RK__STR("a cat"), RK__STR("")},
                           {RK__STR("a dog"), RK__STR("")},
                           {RK__STR(""), RK__STR("")}};
  const rk__srv three[] = {RK__SRV_VLLM, RK__SRV_SGLANG, RK__SRV_LLAMACPP};
  for (int i = 0; i < 3; i++) {
    rk__buf_reset(&b);
    ASSERT_EQ_INT(rk__wire_embed(three[i], "clip", texts, 3, &b, &path), 0);
    ASSERT_EQ_STR(path, "/v1/embeddings");
    r = reparse(&a, &b);
    if (!r) continue;
    ASSERT_JSTR(r, "model", "clip");
    ASSERT_EQ_INT(jlen(r, "input"), 3);
    ASSERT_JSTR(r, "input.0", "a cat");
    ASSERT_JSTR(r, "input.2", "");
    ASSERT_JSTR(r, "encoding_format", "float");
  }
  rk__embed_in img = {RK__STR("a photo of"), RK__STR("data:image/png;base64,QUJD")};
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_embed(RK__SRV_VLLM, NULL, &img, 1, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) {
    ASSERT_EQ_INT(jtype(r, "input"), -1);
    ASSERT_JSTR(r, "messages.0.role", "user");
    ASSERT_JSTR(r, "messages.0.content.0.type", "image_url");
    ASSERT_JSTR(r, "messages.0.content.0.image_url.url", "data:image/png;base64,QUJD");
    ASSERT_JSTR(r, "messages.0.content.1.type", "text");
    ASSERT_JSTR(r, "messages.0.content.1.text", "a photo of");
    ASSERT_JSTR(r, "encoding_format", "float");
  }
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_embed(RK__SRV_SGLANG, NULL, &img, 1, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) {
    ASSERT_JSTR(r, "input.0.text", "a photo of");
    ASSERT_JSTR(r, "input.0.image", "data:image/png;base64,QUJD");
  }
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_embed(RK__SRV_LLAMACPP, NULL, &img, 1, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) {
    ASSERT_JSTR(r, "input.0.content.0.type", "image_url");
    ASSERT_JSTR(r, "input.0.content.0.image_url.url", "data:image/png;base64,QUJD");
    ASSERT_JSTR(r, "input.0.content.1.text", "a photo of");
  }
  /* Image only: no text part / member. */
  rk__embed_in only = {RK__STR(""), RK__STR("http://h/x.png")};
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_embed(RK__SRV_SGLANG, NULL, &only, 1, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) {
    ASSERT_EQ_INT(jtype(r, "input.0.text"), -1);
    ASSERT_JSTR(r, "input.0.image", "http://h/x.png");
  }
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_embed(RK__SRV_VLLM, NULL, &only, 1, &b, &path), 0);
  r = reparse(&a, &b);
  if (r) ASSERT_EQ_INT(jlen(r, "messages.0.content"), 1);
  /* An image must be alone; TGI never. */
  rk__embed_in two[2] = {img, texts[0]};
  rk__buf_reset(&b);
  ASSERT_EQ_INT(rk__wire_embed(RK__SRV_VLLM, NULL, two, 2, &b, &path), -1);
  ASSERT_EQ_INT(rk__wire_embed(RK__SRV_TGI, NULL, texts, 1, &b, &path), -1);
  ASSERT_EQ_INT(b.n, 0);
  rk__buf_release(&b);
  rk__arena_release(&a);
}

/* ------------------------------------------------------- parse: top */

/* vLLM chat with top_logprobs 3 (protocol.py ChatCompletionLogProbs): the
 * third alternative is clamped -inf. */
static const char top_vllm[] =
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
    "\"model\":\"judge\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
    "\"assistant\",\"content\":\"Yes\"},\"logprobs\":{\"content\":[{\"token\":"
    "\"Yes\",\"logprob\":-0.125,\"bytes\":[89,101,115],\"top_logprobs\":["
    "{\"token\":\"Yes\",\"logprob\":-0.125,\"bytes\":[89,101,115]},"
    "{\"token\":\" No\",\"logprob\":-2.25,\"bytes\":[32,78,111]},"
    "{\"token\":\"yes\",\"logprob\":-9999.0,\"bytes\":[121,101,115]}]}]},"
    "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":31,"
    "\"total_tokens\":32,\"completion_tokens\":1}}";

TEST(parse_top) {
  rk__arena a;
  rk__arena_init(&a, 0);
  char err[256];
  rk__toplp *top = NULL;
  size_t n = 0;
  rk__str samp;
  rk__usage u;
  /* A copy that is wiped after parsing: the results must live in the arena. */
  char *body = malloc(sizeof top_vllm);
  memcpy(body, top_vllm, sizeof top_vllm);
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_VLLM, body, sizeof top_vllm - 1, &a,
                                   &top, &n, &samp, &u, err, sizeof err), 0);
  memset(body, 'x', sizeof top_vllm);
  free(body);
  ASSERT_EQ_INT(n, 3);
  if (n == 3) {
    ASSERT_EQ_SPAN(top[0].token.p, top[0].token.n, "Yes");
    ASSERT_NEAR(top[0].logprob, -0.125, 0);
    ASSERT_EQ_SPAN(top[1].token.p, top[1].token.n, " No");
    ASSERT_NEAR(top[1].logprob, -2.25, 0);
    ASSERT_EQ_SPAN(top[2].token.p, top[2].token.n, "yes");
    ASSERT_NEAR(top[2].logprob, -9999.0, 0);
  }
  ASSERT_EQ_SPAN(samp.p, samp.n, "Yes");
  ASSERT_EQ_INT(u.prompt_tokens, 31);
  ASSERT_EQ_INT(u.completion_tokens, 1);

  /* llama.cpp without a top list (top_logprobs 0): the sampled token alone.
   * No usage member: zeros. */
  const char nolist[] =
      "{\"choices\":[{\"finish_reason\":\"length\",\"index\":0,\"message\":"
      "{\"role\":\"assistant\",\"content\":\"No\"},\"logprobs\":{\"content\":"
      "[{\"id\":2822,\"token\":\"No\",\"bytes\":[78,111],\"logprob\":"
      "-0.0625}]}}],\"object\":\"chat.completion\"}";
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_LLAMACPP, S(nolist), &a, &top, &n,
                                   &samp, &u, err, sizeof err), 0);
  ASSERT_EQ_INT(n, 1);
  if (n == 1) {
    ASSERT_EQ_SPAN(top[0].token.p, top[0].token.n, "No");
    ASSERT_NEAR(top[0].logprob, -0.0625, 0);
  }
  ASSERT_EQ_SPAN(samp.p, samp.n, "No");
  ASSERT_EQ_INT(u.prompt_tokens, 0);
  ASSERT_EQ_INT(u.completion_tokens, 0);

  /* An empty list is treated the same way. */
  const char empty[] =
      "{\"choices\":[{\"logprobs\":{\"content\":[{\"token\":\"Yes\","
      "\"logprob\":-1.5,\"top_logprobs\":[]}]}}]}";
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_TGI, S(empty), &a, &top, &n, &samp,
                                   &u, err, sizeof err), 0);
  ASSERT_EQ_INT(n, 1);
  if (n == 1) ASSERT_NEAR(top[0].logprob, -1.5, 0);

  /* Wrong shapes, each naming server, path and field. */
  const char nolp[] = "{\"choices\":[{\"message\":{\"content\":\"Yes\"},\"logprobs\":null}]}";
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_SGLANG, S(nolp), &a, &top, &n, &samp,
                                   &u, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "SGLang /v1/chat/completions: choices[0].logprobs is not "
                     "an object (got null)");
  const char nocontent[] = "{\"choices\":[{\"logprobs\":{\"content\":[]}}]}";
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_VLLM, S(nocontent), &a, &top, &n,
                                   &samp, &u, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/chat/completions: choices[0].logprobs.content[0] "
                     "is missing");
  const char nochoices[] = "{\"choices\":[]}";
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_VLLM, S(nochoices), &a, &top, &n,
                                   &samp, &u, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/chat/completions: choices[0] is missing");
  const char badalt[] =
      "{\"choices\":[{\"logprobs\":{\"content\":[{\"token\":\"Yes\",\"logprob\":"
      "-1,\"top_logprobs\":[{\"token\":\"Yes\",\"logprob\":\"-1\"}]}]}}]}";
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_LLAMACPP, S(badalt), &a, &top, &n,
                                   &samp, &u, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "llama.cpp /v1/chat/completions: choices[0].logprobs."
                     "content[0].top_logprobs[0].logprob is not a number (got "
                     "string)");
  const char nulllp[] =
      "{\"choices\":[{\"logprobs\":{\"content\":[{\"token\":\"Yes\",\"logprob\":null}]}}]}";
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_VLLM, S(nulllp), &a, &top, &n, &samp,
                                   &u, err, sizeof err), -1);
  ASSERT_CONTAINS(err, "choices[0].logprobs.content[0].logprob is not a number (got null)");
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_VLLM, S("{\"choices\":"), &a, &top,
                                   &n, &samp, &u, err, sizeof err), -1);
  ASSERT_CONTAINS(err, "vLLM /v1/chat/completions: response is not JSON");
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_VLLM, S("[1]"), &a, &top, &n, &samp,
                                   &u, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/chat/completions: response is not an object (got array)");
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_VLLM, "", 0, &a, &top, &n, &samp, &u,
                                   err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/chat/completions: empty response body");
  /* A small err buffer is cut, not overrun. */
  char tiny[8];
  ASSERT_EQ_INT(rk__wire_parse_top(RK__SRV_VLLM, S(nochoices), &a, &top, &n,
                                   &samp, &u, tiny, sizeof tiny), -1);
  ASSERT_EQ_STR(tiny, "vLLM /v");
  rk__arena_release(&a);
}

TEST(parse_gen) {
  rk__arena a;
  rk__arena_init(&a, 0);
  char err[256];
  rk__str text;
  rk__usage u;
  const char ok[] =
      "{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
      "\"assistant\",\"content\":\"The score is \\\\boxed{7}.\\n\","
      "\"reasoning_content\":null},\"finish_reason\":\"stop\"}],\"usage\":"
      "{\"prompt_tokens\":120,\"completion_tokens\":9,\"total_tokens\":129}}";
  ASSERT_EQ_INT(rk__wire_parse_gen(RK__SRV_VLLM, S(ok), &a, &text, &u, err,
                                   sizeof err), 0);
  ASSERT_EQ_SPAN(text.p, text.n, "The score is \\boxed{7}.\n");
  ASSERT_EQ_INT(u.prompt_tokens, 120);
  ASSERT_EQ_INT(u.completion_tokens, 9);
  const char nul[] = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null}}]}";
  ASSERT_EQ_INT(rk__wire_parse_gen(RK__SRV_TGI, S(nul), &a, &text, &u, err,
                                   sizeof err), -1);
  ASSERT_EQ_STR(err, "TGI /v1/chat/completions: choices[0].message.content is "
                     "not a string (got null)");
  const char nomsg[] = "{\"choices\":[{\"text\":\"hi\"}]}";
  ASSERT_EQ_INT(rk__wire_parse_gen(RK__SRV_LLAMACPP, S(nomsg), &a, &text, &u,
                                   err, sizeof err), -1);
  ASSERT_EQ_STR(err, "llama.cpp /v1/chat/completions: choices[0].message is missing");
  rk__arena_release(&a);
}

/* ------------------------------------------- parse: prompt logprobs */

/* vLLM /v1/completions, echo + logprobs 1 + max_tokens 1, prompt
 * "The answer is 42.": tokens (bytes): <s>(3) The(3) " answer"(7) " is"(3)
 * " 4"(2) 2(1) .(1), then the generated "\n". */
static const char lp_vllm[] =
    "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":"
    "\"m\",\"choices\":[{\"index\":0,\"text\":\"<s>The answer is 42.\\n\","
    "\"logprobs\":{\"text_offset\":[0,3,6,13,16,18,19,20],"
    "\"token_logprobs\":[null,-2.5,-3.0,-0.5,-1.25,-0.125,-9999.0,-0.3],"
    "\"tokens\":[\"<s>\",\"The\",\" answer\",\" is\",\" 4\",\"2\",\".\",\"\\n\"],"
    "\"top_logprobs\":[null,{\"The\":-2.5},{\" answer\":-3.0},{\" is\":-0.5},"
    "{\" 4\":-1.25},{\"2\":-0.125},{\".\":-9999.0},{\"\\n\":-0.3}]},"
    "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":7,"
    "\"total_tokens\":8,\"completion_tokens\":1}}";

static int lp_run(rk__srv s, const rk__lp_query *q, const char *body, size_t n,
                  rk__arena *a, double **lp, size_t *nlp, rk__usage *u,
                  char *err, size_t cap) {
  return rk__wire_parse_prompt_lp(s, q, body, n, a, lp, nlp, u, err, cap);
}

TEST(parse_prompt_lp_vllm) {
  rk__arena a;
  rk__arena_init(&a, 0);
  char err[256];
  double *lp = NULL;
  size_t n = 0;
  rk__usage u;
  rk__lp_query q = {0, NULL, 0, RK__STR("The answer is"), RK__STR(" 42."), NULL, 0};
  /* " 42." = 4 bytes: "." 1, "2" 2, " 4" 4 -> three tokens; the generated
   * "\n" is not one of them. */
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(lp_vllm), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 3);
  if (n == 3) {
    ASSERT_NEAR(lp[0], -1.25, 0);
    ASSERT_NEAR(lp[1], -0.125, 0);
    ASSERT_NEAR(lp[2], -9999.0, 0);  /* the clamp passes through */
  }
  ASSERT_EQ_INT(u.prompt_tokens, 7);
  ASSERT_EQ_INT(u.completion_tokens, 1);
  /* Straddling: prefix "The answer i", span "s 42." (5 bytes): ".", "2",
   * " 4" make 4, " is" makes 7 >= 5 and belongs to the span. */
  q.prefix = RK__STR("The answer i");
  q.span = RK__STR("s 42.");
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(lp_vllm), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 4);
  if (n == 4) {
    ASSERT_NEAR(lp[0], -0.5, 0);
    ASSERT_NEAR(lp[3], -9999.0, 0);
  }
  /* Exactly at a boundary: "2." is "2" + "." (2 bytes). */
  q.prefix = RK__STR("The answer is 4");
  q.span = RK__STR("2.");
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(lp_vllm), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 2);
  if (n == 2) ASSERT_NEAR(lp[0], -0.125, 0);
  /* Empty span: no tokens, not an error. */
  q.span = RK__STR("");
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(lp_vllm), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 0);
  /* The whole prompt (20 bytes with "<s>") reaches the null first position:
   * that token has nothing before it and is left out; the other 6 remain. */
  q.prefix = RK__STR("");
  q.span = RK__STR("<s>The answer is 42.");
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(lp_vllm), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 6);
  /* Longer than all the prompt's text (20 bytes). */
  q.span = RK__STR("xx<s>The answer is 42.");
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(lp_vllm), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/completions: the 7 prompt tokens' texts cover 20 "
                     "bytes, fewer than the span's 22");
  /* Shapes. */
  q.span = RK__STR("x");
  const char bad1[] =
      "{\"choices\":[{\"logprobs\":{\"tokens\":[\"a\",\"b\"],\"token_logprobs\":\"x\"}}]}";
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(bad1), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/completions: choices[0].logprobs.token_logprobs "
                     "is not an array (got string)");
  const char bad2[] =
      "{\"choices\":[{\"logprobs\":{\"tokens\":[\"a\",\"b\"],\"token_logprobs\":[null]}}]}";
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(bad2), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "tokens has 2 entries but token_logprobs has 1");
  const char bad3[] =
      "{\"choices\":[{\"logprobs\":{\"tokens\":[\"a\",7],\"token_logprobs\":[null,-1]}}]}";
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(bad3), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "choices[0].logprobs.tokens[1] is not a string (got number)");
  const char bad4[] = "{\"choices\":[{\"logprobs\":null}]}";
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(bad4), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "choices[0].logprobs is not an object (got null)");
  const char bad5[] = "{\"choices\":[{\"logprobs\":{\"tokens\":[],\"token_logprobs\":[]}}]}";
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(bad5), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "choices[0].logprobs.tokens is empty");
  /* Only the generated token: no prompt text to align with. */
  const char gen_only[] =
      "{\"choices\":[{\"logprobs\":{\"tokens\":[\"x\"],\"token_logprobs\":[-0.5]}}]}";
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(gen_only), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "the 0 prompt tokens' texts cover 0 bytes");
  rk__arena_release(&a);
}

/* vLLM chat (continue_final_message, prompt_logprobs 0, return_token_ids):
 * top-level prompt_logprobs; position 4 holds the rank-1 " Paris" (id
 * 12366) besides the prompt's own "Paris" (id 59604). */
static const char lp_vchat[] =
    "{\"id\":\"chatcmpl-2\",\"object\":\"chat.completion\",\"model\":\"vl\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
    "\"\\n\"},\"logprobs\":null,\"finish_reason\":\"length\","
    "\"token_ids\":[198]}],\"usage\":{\"prompt_tokens\":6,\"total_tokens\":7,"
    "\"completion_tokens\":1},"
    "\"prompt_logprobs\":[null,"
    "{\"872\":{\"logprob\":-3.5,\"rank\":10,\"decoded_token\":\"user\"}},"
    "{\"198\":{\"logprob\":-0.01,\"rank\":1,\"decoded_token\":\"\\n\"}},"
    "{\"151645\":{\"logprob\":-9999.0,\"rank\":30000,\"decoded_token\":\"<|im_end|>\"}},"
    "{\"12366\":{\"logprob\":-0.5,\"rank\":1,\"decoded_token\":\" Paris\"},"
    "\"59604\":{\"logprob\":-0.75,\"rank\":2,\"decoded_token\":\"Paris\"}},"
    "{\"13\":{\"logprob\":-0.0625,\"rank\":1,\"decoded_token\":\".\"}}],"
    "\"prompt_token_ids\":[151644,872,198,151645,59604,13]}";

TEST(parse_prompt_lp_vllm_chat) {
  rk__arena a;
  rk__arena_init(&a, 0);
  char err[256];
  double *lp = NULL;
  size_t n = 0;
  rk__usage u;
  rk__msg m[2] = {user_msg("Capital of France?"),
                  {"assistant", RK__STR("Paris."), NULL, 0}};
  rk__lp_query q = {1, m, 2, RK__STR(""), RK__STR("Paris."), NULL, 0};
  /* "Paris." = 6 bytes: "." 1, "Paris" (picked by id 59604, 5 bytes) 6. */
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(lp_vchat), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 2);
  if (n == 2) {
    ASSERT_NEAR(lp[0], -0.75, 0);
    ASSERT_NEAR(lp[1], -0.0625, 0);
  }
  ASSERT_EQ_INT(u.prompt_tokens, 6);
  /* Longer span through the clamped -9999.0 (which passes through). */
  q.span = RK__STR("<|im_end|>Paris.");
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(lp_vchat), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 3);
  if (n == 3) ASSERT_NEAR(lp[0], -9999.0, 0);
  /* Reaching the null first position: it has no text. */
  q.span = RK__STR("Xuser\n<|im_end|>Paris.");
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(lp_vchat), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/chat/completions: prompt_logprobs[0] has no "
                     "token text to align the span with");
  q.span = RK__STR("Paris.");
  /* Without prompt_token_ids the position with two tokens is ambiguous. */
  const char noids[] =
      "{\"prompt_logprobs\":[null,{\"1\":{\"logprob\":-1,\"decoded_token\":\"a\"},"
      "\"2\":{\"logprob\":-2,\"decoded_token\":\"b\"}}]}";
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(noids), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "prompt_logprobs[1] holds 2 tokens and there are no "
                       "prompt_token_ids");
  /* With ids that match neither key. */
  const char wrongid[] =
      "{\"prompt_logprobs\":[null,{\"1\":{\"logprob\":-1,\"decoded_token\":\"a\"},"
      "\"2\":{\"logprob\":-2,\"decoded_token\":\"b\"}}],\"prompt_token_ids\":[0,3]}";
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(wrongid), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "prompt_logprobs[1] has no entry for token id 3");
  /* Older layout, on the choice: not where vLLM chat puts it. */
  const char onchoice[] = "{\"choices\":[{\"prompt_logprobs\":[null]}]}";
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(onchoice), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/chat/completions: prompt_logprobs is missing");
  /* A null logprob inside the span. */
  const char nulllp[] =
      "{\"prompt_logprobs\":[null,{\"5\":{\"logprob\":null,\"decoded_token\":\"Paris.\"}}]}";
  ASSERT_EQ_INT(lp_run(RK__SRV_VLLM, &q, S(nulllp), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "position 1 has no logprob");
  /* Chat form on SGLang / TGI: refused with the reason. */
  ASSERT_EQ_INT(lp_run(RK__SRV_SGLANG, &q, S(lp_vchat), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "template-applied text");
  rk__arena_release(&a);
}

/* SGLang /generate, return_logprob + logprob_start_len 0 + max_new_tokens 0
 * + return_text_in_logprobs; newer builds clamp -inf to -999999999.0. */
static const char lp_sgl[] =
    "{\"text\":\"\",\"meta_info\":{\"id\":\"abc\",\"finish_reason\":{\"type\":"
    "\"length\",\"length\":0},\"prompt_tokens\":7,\"completion_tokens\":0,"
    "\"cached_tokens\":0,\"input_token_logprobs\":[[null,1,\"<s>\"],"
    "[-2.0,450,\"The\"],[-1.5,1234,\" answer\"],[-0.25,338,\" is\"],"
    "[-999999999.0,29871,\" \"],[-0.5,29946,\"4\"],[-0.75,29906,\"2\"]],"
    "\"output_token_logprobs\":[]}}";

TEST(parse_prompt_lp_sglang) {
  rk__arena a;
  rk__arena_init(&a, 0);
  char err[256];
  double *lp = NULL;
  size_t n = 0;
  rk__usage u;
  rk__lp_query q = {0, NULL, 0, RK__STR("The answer is"), RK__STR(" 42"), NULL, 0};
  /* " 42": "2" 1, "4" 2, " " 3. */
  ASSERT_EQ_INT(lp_run(RK__SRV_SGLANG, &q, S(lp_sgl), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 3);
  if (n == 3) {
    ASSERT_NEAR(lp[0], -999999999.0, 0);
    ASSERT_NEAR(lp[1], -0.5, 0);
    ASSERT_NEAR(lp[2], -0.75, 0);
  }
  ASSERT_EQ_INT(u.prompt_tokens, 7);
  ASSERT_EQ_INT(u.completion_tokens, 0);
  /* Straddling " answer": span "wer is 42" (9 bytes) -> 3+... : "2" 1,
   * "4" 2, " " 3, " is" 6, " answer" 13 >= 9. */
  q.span = RK__STR("wer is 42");
  ASSERT_EQ_INT(lp_run(RK__SRV_SGLANG, &q, S(lp_sgl), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 5);
  if (n == 5) ASSERT_NEAR(lp[0], -1.5, 0);
  /* Text left out (return_text_in_logprobs false). */
  const char notext[] =
      "{\"meta_info\":{\"input_token_logprobs\":[[null,1,null],[-1.0,5,null]]}}";
  q.span = RK__STR("x");
  ASSERT_EQ_INT(lp_run(RK__SRV_SGLANG, &q, S(notext), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_EQ_STR(err, "SGLang /generate: meta_info.input_token_logprobs[1] has no "
                     "token text to align the span with");
  const char short_[] = "{\"meta_info\":{\"input_token_logprobs\":[[-1.0]]}}";
  ASSERT_EQ_INT(lp_run(RK__SRV_SGLANG, &q, S(short_), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "meta_info.input_token_logprobs[0] has 1 items");
  const char badlp[] = "{\"meta_info\":{\"input_token_logprobs\":[[\"-1\",2,\"x\"]]}}";
  ASSERT_EQ_INT(lp_run(RK__SRV_SGLANG, &q, S(badlp), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "meta_info.input_token_logprobs[0][0] is not a number (got string)");
  const char nometa[] = "{\"text\":\"\"}";
  ASSERT_EQ_INT(lp_run(RK__SRV_SGLANG, &q, S(nometa), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_EQ_STR(err, "SGLang /generate: meta_info is missing");
  rk__arena_release(&a);
}

/* TGI /generate with decoder_input_details: prefill is the prompt. */
static const char lp_tgi[] =
    "{\"generated_text\":\".\",\"details\":{\"finish_reason\":\"length\","
    "\"generated_tokens\":1,\"seed\":null,\"prefill\":["
    "{\"id\":1,\"text\":\"<s>\",\"logprob\":null},"
    "{\"id\":450,\"text\":\"The\",\"logprob\":-2.3},"
    "{\"id\":14744,\"text\":\" sky\",\"logprob\":-4.0},"
    "{\"id\":338,\"text\":\" is\",\"logprob\":-1.0},"
    "{\"id\":7254,\"text\":\" blue\",\"logprob\":-0.8}],"
    "\"tokens\":[{\"id\":29889,\"text\":\".\",\"logprob\":-0.4,\"special\":false}]}}";

TEST(parse_prompt_lp_tgi) {
  rk__arena a;
  rk__arena_init(&a, 0);
  char err[256];
  double *lp = NULL;
  size_t n = 0;
  rk__usage u;
  rk__lp_query q = {0, NULL, 0, RK__STR("The sky is"), RK__STR(" blue"), NULL, 0};
  ASSERT_EQ_INT(lp_run(RK__SRV_TGI, &q, S(lp_tgi), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 1);
  if (n == 1) ASSERT_NEAR(lp[0], -0.8, 0);
  ASSERT_EQ_INT(u.prompt_tokens, 5);
  ASSERT_EQ_INT(u.completion_tokens, 1);
  /* "ue" lies inside " blue": that one token. */
  q.prefix = RK__STR("The sky is bl");
  q.span = RK__STR("ue");
  ASSERT_EQ_INT(lp_run(RK__SRV_TGI, &q, S(lp_tgi), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 1);
  /* " is blue" = 8: " blue" 5, " is" 8. */
  q.span = RK__STR(" is blue");
  ASSERT_EQ_INT(lp_run(RK__SRV_TGI, &q, S(lp_tgi), &a, &lp, &n, &u, err,
                       sizeof err), 0);
  ASSERT_EQ_INT(n, 2);
  if (n == 2) {
    ASSERT_NEAR(lp[0], -1.0, 0);
    ASSERT_NEAR(lp[1], -0.8, 0);
  }
  const char nullmid[] =
      "{\"details\":{\"prefill\":[{\"id\":1,\"text\":\"<s>\",\"logprob\":null},"
      "{\"id\":2,\"text\":\"a\",\"logprob\":null},{\"id\":3,\"text\":\"b\","
      "\"logprob\":-1}]}}";
  q.span = RK__STR("ab");
  ASSERT_EQ_INT(lp_run(RK__SRV_TGI, &q, S(nullmid), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_EQ_STR(err, "TGI /generate: position 1 has no logprob "
                     "(details.prefill[1] is null) but is inside the span");
  const char badpre[] = "{\"details\":{\"prefill\":{}}}";
  ASSERT_EQ_INT(lp_run(RK__SRV_TGI, &q, S(badpre), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_EQ_STR(err, "TGI /generate: details.prefill is not an array (got object)");
  /* llama.cpp: refused with the reason, whatever the body. */
  ASSERT_EQ_INT(lp_run(RK__SRV_LLAMACPP, &q, S(lp_tgi), &a, &lp, &n, &u, err,
                       sizeof err), -1);
  ASSERT_CONTAINS(err, "no prompt logprobs");
  rk__arena_release(&a);
}

/* ------------------------------------------------------ parse: scores */

TEST(parse_score_vllm) {
  rk__arena a;
  rk__arena_init(&a, 0);
  char err[256];
  double sc[2] = {0, 0};
  /* /classify with rows out of order; the score is probs[-1]. */
  const char cls[] =
      "{\"id\":\"classify-1\",\"object\":\"list\",\"created\":1,\"model\":\"rm\","
      "\"data\":[{\"index\":1,\"label\":\"LABEL_1\",\"probs\":[0.5,-1.25],"
      "\"num_classes\":2},{\"index\":0,\"label\":\"LABEL_0\",\"probs\":[2.75],"
      "\"num_classes\":1}],\"usage\":{\"prompt_tokens\":20,\"total_tokens\":20}}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "classify", S(cls), &a, sc, 2,
                                     err, sizeof err), 0);
  ASSERT_NEAR(sc[0], 2.75, 0);
  ASSERT_NEAR(sc[1], -1.25, 0);
  /* Count, duplicates, range, shape. */
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "classify", S(cls), &a, sc, 3,
                                     err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /classify: data has 2 items, expected 3");
  const char dup[] = "{\"data\":[{\"index\":0,\"probs\":[1]},{\"index\":0,\"probs\":[2]}]}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "classify", S(dup), &a, sc, 2,
                                     err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /classify: data: index 0 appears twice");
  const char range[] = "{\"data\":[{\"index\":0,\"probs\":[1]},{\"index\":2,\"probs\":[2]}]}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "classify", S(range), &a, sc,
                                     2, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /classify: data[1].index is 2, not one of 0..1");
  const char frac[] = "{\"data\":[{\"index\":0.5,\"probs\":[1]}]}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "classify", S(frac), &a, sc,
                                     1, err, sizeof err), -1);
  ASSERT_CONTAINS(err, "data[0].index is 0.5");
  const char noprobs[] = "{\"data\":[{\"index\":0,\"probs\":[]}]}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "classify", S(noprobs), &a, sc,
                                     1, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /classify: data[0].probs is empty");
  const char strprob[] = "{\"data\":[{\"probs\":[1,\"2\"]}]}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "classify", S(strprob), &a, sc,
                                     1, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /classify: data[0].probs[1] is not a number (got string)");
  /* No index at all: array order. */
  const char noindex[] = "{\"data\":[{\"probs\":[-0.5]},{\"probs\":[0.25]}]}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, NULL, S(noindex), &a, sc, 2,
                                     err, sizeof err), 0);
  ASSERT_NEAR(sc[0], -0.5, 0);
  ASSERT_NEAR(sc[1], 0.25, 0);

  /* /pooling task classify: data[i].data, flattened, last number. */
  const char pool[] =
      "{\"id\":\"pool-1\",\"object\":\"list\",\"created\":1,\"model\":\"rm\","
      "\"data\":[{\"index\":1,\"object\":\"pooling\",\"data\":[-0.5]},"
      "{\"index\":0,\"object\":\"pooling\",\"data\":[[0.1],[0.2,3.5],[]]}],"
      "\"usage\":{\"prompt_tokens\":9}}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "pooling", S(pool), &a, sc, 2,
                                     err, sizeof err), 0);
  ASSERT_NEAR(sc[0], 3.5, 0);
  ASSERT_NEAR(sc[1], -0.5, 0);
  const char scalar[] = "{\"data\":[{\"index\":0,\"data\":1.5}]}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "pooling", S(scalar), &a, sc,
                                     1, err, sizeof err), 0);
  ASSERT_NEAR(sc[0], 1.5, 0);
  const char nonum[] = "{\"data\":[{\"index\":0,\"data\":[[],[]]}]}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "pooling", S(nonum), &a, sc,
                                     1, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /pooling: data[0].data holds no number");
  const char strdata[] = "{\"data\":[{\"index\":0,\"data\":[1,\"x\"]}]}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "pooling", S(strdata), &a, sc,
                                     1, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /pooling: data[0].data is not a (nested) list of numbers");
  /* Unsupported pair: the reason, not a parse. */
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_VLLM, "embeddings", S(cls), &a, sc,
                                     2, err, sizeof err), -1);
  ASSERT_CONTAINS(err, "/classify or /pooling");
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_TGI, "classify", S(cls), &a, sc, 2,
                                     err, sizeof err), -1);
  ASSERT_CONTAINS(err, "Text Embeddings Inference");
  rk__arena_release(&a);
}

TEST(parse_score_sglang) {
  rk__arena a;
  rk__arena_init(&a, 0);
  char err[256];
  double sc[2] = {0, 0};
  /* /classify (--is-embedding): a bare list in input order. */
  const char cls[] =
      "[{\"text\":\"\",\"embedding\":[1.75],\"meta_info\":{\"id\":\"a\","
      "\"prompt_tokens\":30}},{\"text\":\"\",\"embedding\":[-0.25],"
      "\"meta_info\":{\"id\":\"b\",\"prompt_tokens\":28}}]";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_SGLANG, "classify", S(cls), &a, sc,
                                     2, err, sizeof err), 0);
  ASSERT_NEAR(sc[0], 1.75, 0);
  ASSERT_NEAR(sc[1], -0.25, 0);
  const char obj[] = "{\"embedding\":[1.0]}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_SGLANG, "classify", S(obj), &a, sc,
                                     1, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "SGLang /classify: response is not an array (got object)");
  const char noemb[] = "[{\"meta_info\":{}}]";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_SGLANG, "classify", S(noemb), &a, sc,
                                     1, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "SGLang /classify: response[0].embedding is missing");
  /* /v1/embeddings (verl's route): data[i].embedding[-1], by index. */
  const char emb[] =
      "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"embedding\":"
      "[0.1,0.2,4.0],\"index\":1},{\"object\":\"embedding\",\"embedding\":"
      "[0.3,-2.0],\"index\":0}],\"model\":\"rm\",\"usage\":{\"prompt_tokens\":5}}";
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_SGLANG, "embeddings", S(emb), &a, sc,
                                     2, err, sizeof err), 0);
  ASSERT_NEAR(sc[0], -2.0, 0);
  ASSERT_NEAR(sc[1], 4.0, 0);
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_SGLANG, "pooling", S(emb), &a, sc, 2,
                                     err, sizeof err), -1);
  ASSERT_CONTAINS(err, "no /pooling");
  ASSERT_EQ_INT(rk__wire_parse_score(RK__SRV_LLAMACPP, "classify", S(emb), &a, sc,
                                     2, err, sizeof err), -1);
  ASSERT_CONTAINS(err, "only /rerank");
  rk__arena_release(&a);
}

/* ------------------------------------------------------- parse: embed */

TEST(parse_embed) {
  rk__arena a;
  rk__arena_init(&a, 0);
  char err[256];
  double *v = NULL;
  size_t d = 0;
  rk__usage u;
  const char ok[] =
      "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"embedding\":"
      "[0.5,-0.5,0.25],\"index\":1},{\"object\":\"embedding\",\"embedding\":"
      "[1.0,0.0,-1.0],\"index\":0}],\"model\":\"clip\",\"usage\":"
      "{\"prompt_tokens\":7,\"total_tokens\":7}}";
  const rk__srv three[] = {RK__SRV_VLLM, RK__SRV_SGLANG, RK__SRV_LLAMACPP};
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ_INT(rk__wire_parse_embed(three[i], S(ok), &a, 2, &v, &d, &u, err,
                                       sizeof err), 0);
    ASSERT_EQ_INT(d, 3);
    if (d == 3) {
      ASSERT_NEAR(v[0], 1.0, 0);
      ASSERT_NEAR(v[1], 0.0, 0);
      ASSERT_NEAR(v[2], -1.0, 0);
      ASSERT_NEAR(v[3], 0.5, 0);
      ASSERT_NEAR(v[4], -0.5, 0);
      ASSERT_NEAR(v[5], 0.25, 0);
    }
    ASSERT_EQ_INT(u.prompt_tokens, 7);
  }
  ASSERT_EQ_INT(rk__wire_parse_embed(RK__SRV_VLLM, S(ok), &a, 1, &v, &d, &u, err,
                                     sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/embeddings: data has 2 items, expected 1");
  const char ragged[] =
      "{\"data\":[{\"embedding\":[1,2,3],\"index\":0},{\"embedding\":[1,2],\"index\":1}]}";
  ASSERT_EQ_INT(rk__wire_parse_embed(RK__SRV_VLLM, S(ragged), &a, 2, &v, &d, &u,
                                     err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/embeddings: data[1].embedding has 2 numbers, "
                     "another row has 3");
  const char b64[] = "{\"data\":[{\"embedding\":\"AACAPw==\",\"index\":0}]}";
  ASSERT_EQ_INT(rk__wire_parse_embed(RK__SRV_SGLANG, S(b64), &a, 1, &v, &d, &u,
                                     err, sizeof err), -1);
  ASSERT_EQ_STR(err, "SGLang /v1/embeddings: data[0].embedding is not an array "
                     "(got string)");
  const char badnum[] = "{\"data\":[{\"embedding\":[1,null],\"index\":0}]}";
  ASSERT_EQ_INT(rk__wire_parse_embed(RK__SRV_LLAMACPP, S(badnum), &a, 1, &v, &d,
                                     &u, err, sizeof err), -1);
  ASSERT_EQ_STR(err, "llama.cpp /v1/embeddings: data[0].embedding[1] is not a "
                     "number (got null)");
  const char empty[] = "{\"data\":[{\"embedding\":[],\"index\":0}]}";
  ASSERT_EQ_INT(rk__wire_parse_embed(RK__SRV_VLLM, S(empty), &a, 1, &v, &d, &u,
                                     err, sizeof err), -1);
  ASSERT_EQ_STR(err, "vLLM /v1/embeddings: data[0].embedding is empty");
  ASSERT_EQ_INT(rk__wire_parse_embed(RK__SRV_TGI, S(ok), &a, 2, &v, &d, &u, err,
                                     sizeof err), -1);
  ASSERT_CONTAINS(err, "no embedding endpoint");
  rk__arena_release(&a);
}

/* ------------------------------------------------------ error bodies */

static const char *errmsg(const char *body, size_t n, char *out, size_t cap) {
  rk__wire_error_message(body, n, out, cap);
  return out;
}

TEST(error_message) {
  char out[128];
  /* vLLM / llama.cpp / OpenAI shape. */
  ASSERT_EQ_STR(errmsg(S("{\"error\":{\"message\":\"This model's maximum context "
                         "length is 4096 tokens.\",\"type\":\"BadRequestError\","
                         "\"param\":null,\"code\":400}}"), out, sizeof out),
                "This model's maximum context length is 4096 tokens.");
  /* TGI. */
  ASSERT_EQ_STR(errmsg(S("{\"error\":\"Input validation error: `inputs` must have "
                         "less than 4096 tokens\",\"error_type\":\"validation\"}"),
                       out, sizeof out),
                "Input validation error: `inputs` must have less than 4096 tokens");
  /* Older vLLM / SGLang ErrorResponse. */
  ASSERT_EQ_STR(errmsg(S("{\"object\":\"error\",\"message\":\"The model `x` does "
                         "not exist.\",\"type\":\"NotFoundError\",\"param\":null,"
                         "\"code\":404}"), out, sizeof out),
                "The model `x` does not exist.");
  /* FastAPI: a string, or a list of validation errors. */
  ASSERT_EQ_STR(errmsg(S("{\"detail\":\"Not Found\"}"), out, sizeof out), "Not Found");
  ASSERT_EQ_STR(errmsg(S("{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\","
                         "\"messages\"],\"msg\":\"Field required\",\"input\":{}},"
                         "{\"type\":\"int_parsing\",\"loc\":[\"body\",\"n\",0],"
                         "\"msg\":\"Input should be a valid integer\"}]}"),
                       out, sizeof out),
                "body.messages: Field required; body.n.0: Input should be a valid "
                "integer");
  /* Precedence: error.message over message. */
  ASSERT_EQ_STR(errmsg(S("{\"message\":\"outer\",\"error\":{\"message\":\"inner\"}}"),
                       out, sizeof out), "inner");
  /* Not JSON, or JSON of another shape: the first non-blank line. */
  ASSERT_EQ_STR(errmsg(S("\n  Internal Server Error\r\nmore"), out, sizeof out),
                "Internal Server Error");
  ASSERT_EQ_STR(errmsg(S("<html><head><title>502 Bad Gateway</title></head>\n</html>"),
                       out, sizeof out),
                "<html><head><title>502 Bad Gateway</title></head>");
  ASSERT_EQ_STR(errmsg(S("{\"status\":\"error\"}"), out, sizeof out),
                "{\"status\":\"error\"}");
  ASSERT_EQ_STR(errmsg(S("{\"error\":{\"code\":500}}"), out, sizeof out),
                "{\"error\":{\"code\":500}}");
  ASSERT_EQ_STR(errmsg("", 0, out, sizeof out), "empty response body");
  ASSERT_EQ_STR(errmsg(S(" \n\t"), out, sizeof out), "empty response body");
  ASSERT_EQ_STR(errmsg(NULL, 5, out, sizeof out), "empty response body");
  /* Made printable: control bytes '?', tabs and line breaks in a JSON
   * message ' ', invalid UTF-8 '?', valid UTF-8 kept. */
  ASSERT_EQ_STR(errmsg(S("{\"error\":\"a\\u0001b\\tc\\nd caf\xc3\xa9\"}"), out,
                       sizeof out),
                "a?b c d caf\xc3\xa9");
  ASSERT_EQ_STR(errmsg(S("bad \xff\x01 byte"), out, sizeof out), "bad ?? byte");
  /* Cut to cap-1 bytes, never inside a UTF-8 sequence. */
  char small[6];
  ASSERT_EQ_STR(errmsg(S("{\"detail\":\"abcdefgh\"}"), small, sizeof small), "abcde");
  ASSERT_EQ_STR(errmsg(S("{\"detail\":\"abcd\xc3\xa9\"}"), small, sizeof small), "abcd");
  char one[1] = {'x'};
  ASSERT_EQ_STR(errmsg(S("{\"detail\":\"abc\"}"), one, sizeof one), "");
  /* Trailing newline in the message: trimmed. */
  ASSERT_EQ_STR(errmsg(S("{\"message\":\"oops\\n\"}"), out, sizeof out), "oops");
}

TEST_MAIN(TEST_ENTRY(server_names), TEST_ENTRY(unsupported_table),
          TEST_ENTRY(build_top), TEST_ENTRY(build_images_and_escaping),
          TEST_ENTRY(build_gen), TEST_ENTRY(build_prompt_lp),
          TEST_ENTRY(build_score), TEST_ENTRY(build_embed), TEST_ENTRY(parse_top),
          TEST_ENTRY(parse_gen), TEST_ENTRY(parse_prompt_lp_vllm),
          TEST_ENTRY(parse_prompt_lp_vllm_chat), TEST_ENTRY(parse_prompt_lp_sglang),
          TEST_ENTRY(parse_prompt_lp_tgi), TEST_ENTRY(parse_score_vllm),
          TEST_ENTRY(parse_score_sglang), TEST_ENTRY(parse_embed),
          TEST_ENTRY(error_message))
