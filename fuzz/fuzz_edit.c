/*
 * fuzz_edit.c - libFuzzer target for the edit-distance metrics: the
 * bit-parallel distances, the jiwer word splitter, the VQA and EvalAI
 * normalisers, Python float() parsing, and every metric end to end
 * (cer, wer, edit_ratio, anls, vqa_acc, relaxed_acc, keywords (both gradings),
 * keyword_chain, lang_consistency) on arbitrary bytes.
 *
 * Input: response bytes, a 0x00 byte, reference bytes (a list of
 * references when split by 0x01 bytes; the first is also the prompt).
 *
 * Oracles, beyond "no crash, no sanitizer report":
 * - Levenshtein and LCS equal the textbook DP (lengths up to 300);
 * - approximate search equals the brute-force minimum over substrings
 *   (short inputs) and never exceeds the full distance;
 * - jiwer words never start or end with whitespace; clean-mode words
 *   contain none; the one-pass splitter-interners (code points, UTF-8
 *   bytes) agree with the splitter;
 * - normalisers stay within their documented output bounds;
 * - every reward of an ok or unparseable record lies in [0, 1]; the
 *   other statuses give null (NaN).
 *
 *   build-fuzz/fuzz_edit fuzz/corpus/edit -max_total_time=120
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/core.h"
#include "core/spec.h"
#include "json/json.h"
#include "metrics/edit_common.h"
#include "metrics/levenshtein.h"
#include "metrics/vqa_norm.h"
#include "metrics/wide.h"
#include "rewardkit.h"

#define CHECK(c)                \
  do {                          \
    if (!(c)) __builtin_trap(); \
  } while (0)

size_t rk__wer_words(const uint32_t *s, size_t n, int clean, size_t *start, size_t *len);
size_t rk__wer_ids(const uint32_t *s, size_t n, int clean, rk__lev_intern *tab, uint32_t *ids);
size_t rk__wer_ids_utf8(const char *p, size_t n, int clean, rk__lev_intern *tab, uint32_t *ids);

static rk__arena g_arena;
static rk__buf g_err, g_expl[4];
static rk_spec *g_specs[16];
static size_t g_nspecs;

static void init(void) {
  rk__arena_init(&g_arena, (size_t)256 << 20);
  rk__buf_init(&g_err, 4096);
  for (int k = 0; k < 4; k++) rk__buf_init(&g_expl[k], 4096);
  static const char *const specs[] = {
      "{\"reward\": {\"fn\": \"cer\"}}",
      "{\"reward\": {\"fn\": \"wer\", \"args\": {\"empty_reference\": \"score\"}}}",
      "{\"reward\": {\"fn\": \"edit_ratio\", \"args\": {\"method\": \"indel\", \"normalize\": \"default\"}}}",
      "{\"reward\": {\"fn\": \"anls\", \"args\": {\"extract\": \"none\"}}}",
      "{\"reward\": {\"fn\": \"vqa_acc\"}}",
      "{\"reward\": {\"fn\": \"vqa_acc\", \"args\": {\"variant\": \"textvqa\"}}}",
      "{\"reward\": {\"fn\": \"relaxed_acc\", \"args\": {\"zero_target\": \"numeric\"}}}",
      "{\"reward\": {\"fn\": \"keywords\"}}",
      ("{\"reward\": {\"fn\": \"keywords\", \"args\": {\"grading\": \"tiers\", \"related\": "
       "{\"\": [\"a\"], \"ab\": [\"\", \"\u03c3\"]}}}}"),
      "{\"reward\": {\"fn\": \"keyword_chain\", \"args\": {\"max_edits\": 2}}}",
      "{\"reward\": {\"fn\": \"lang_consistency\"}}",
  };
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    char err[256];
    CHECK(rk_spec_compile(specs[i], strlen(specs[i]), &g_specs[g_nspecs], err, sizeof err) == RK_OK);
    g_nspecs++;
  }
}

static long brute_search(const uint32_t *p, size_t m, const uint32_t *t, size_t n) {
  long best = (long)m;
  for (size_t i = 0; i <= n; i++)
    for (size_t j = i; j <= n; j++) {
      long d = rk__lev_dist_dp(p, m, t + i, j - i, &g_arena);
      if (d < best) best = d;
    }
  return best;
}

static void check_distances(const char *a, size_t na, const char *b, size_t nb) {
  rk__arena_reset(&g_arena);
  uint32_t *x = rk__arena_alloc(&g_arena, (na + 1) * 4), *y = rk__arena_alloc(&g_arena, (nb + 1) * 4);
  CHECK(x && y);
  size_t nx = rk__cp_decode(a, na, x), ny = rk__cp_decode(b, nb, y);
  if (nx > 300) nx = 300;
  if (ny > 300) ny = 300;
  /* Map to a small alphabet half of the time, so that matches happen. */
  if (nx && (x[0] & 1))
    for (size_t i = 0; i < nx; i++) x[i] %= 4;
  if (nx && (x[0] & 1))
    for (size_t i = 0; i < ny; i++) y[i] %= 4;
  long d1 = rk__lev_dist(x, nx, y, ny, &g_arena), d2 = rk__lev_dist_dp(x, nx, y, ny, &g_arena);
  CHECK(d1 == d2);
  long l1 = rk__lcs_len(x, nx, y, ny, &g_arena), l2 = rk__lcs_len_dp(x, nx, y, ny, &g_arena);
  CHECK(l1 == l2);
  /* The byte-wise versions (texts of code points below 256) agree. */
  uint8_t *x8 = rk__arena_alloc(&g_arena, nx + 1), *y8 = rk__arena_alloc(&g_arena, ny + 1);
  CHECK(x8 && y8);
  for (size_t i = 0; i < nx; i++) x8[i] = (uint8_t)x[i];
  for (size_t i = 0; i < ny; i++) y8[i] = (uint8_t)y[i];
  int narrow = 1;
  for (size_t i = 0; i < nx; i++) narrow &= x[i] < 256;
  for (size_t i = 0; i < ny; i++) narrow &= y[i] < 256;
  if (narrow)
    for (int wide = 0; wide < 2; wide++) { /* both kernel sets of short byte texts */
      rk__wide = wide;
      CHECK(rk__lev_dist8(x8, nx, y8, ny, &g_arena) == d2);
      CHECK(rk__lcs_len8(x8, nx, y8, ny, &g_arena) == l2);
    }
  size_t end;
  long s = rk__lev_search(x, nx, y, ny, -1, &end, &g_arena);
  CHECK(s >= 0 && s <= d1 && end <= ny);
  if (nx <= 12 && ny <= 24) CHECK(s == brute_search(x, nx, y, ny));
  /* The reported end reaches the minimum: some window ending there does. */
  if (nx <= 12 && ny <= 24) {
    long w = (long)nx;
    for (size_t i = 0; i <= end; i++) {
      long d = rk__lev_dist_dp(x, nx, y + i, end - i, &g_arena);
      if (d < w) w = d;
    }
    CHECK(w == s);
  }
}

/* Strict UTF-8 (the byte and code-point splitters agree there). */
static int valid_utf8(const char *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p, *e = s + n;
  while (s < e) {
    if (*s < 0x80) {
      s++;
      continue;
    }
    size_t k = rk__utf8_seq(s, e);
    if (!k) return 0;
    s += k;
  }
  return 1;
}

static void check_tokenisers(const char *a, size_t na) {
  rk__arena_reset(&g_arena);
  uint32_t *s = rk__arena_alloc(&g_arena, (na + 1) * 4);
  size_t *st = rk__arena_alloc(&g_arena, (na + 1) * sizeof *st);
  size_t *ln = rk__arena_alloc(&g_arena, (na + 1) * sizeof *ln);
  uint32_t *out = rk__arena_alloc(&g_arena, (12 * na + 16) * 4);
  CHECK(s && st && ln && out);
  size_t n = rk__cp_decode(a, na, s);
  for (int clean = 0; clean < 2; clean++) {
    size_t k = rk__wer_words(s, n, clean, st, ln);
    for (size_t i = 0; i < k; i++) {
      CHECK(ln[i] > 0 && st[i] + ln[i] <= n);
      CHECK(!rk__cp_isspace(s[st[i]]) && !rk__cp_isspace(s[st[i] + ln[i] - 1]));
      CHECK(s[st[i]] != ' ');
      if (clean)
        for (size_t j = 0; j < ln[i]; j++) CHECK(!rk__cp_isspace(s[st[i] + j]));
      else
        for (size_t j = 0; j < ln[i]; j++) CHECK(s[st[i] + j] != ' ');
    }
    /* The one-pass splitter + interner gives the same word sequence. */
    rk__lev_intern *t1 = rk__lev_intern_new(&g_arena, n + 1), *t2 = rk__lev_intern_new(&g_arena, n + 1);
    uint32_t *ids = rk__arena_alloc(&g_arena, (n + 1) * 4);
    CHECK(t1 && t2 && ids);
    CHECK(rk__wer_ids(s, n, clean, t2, ids) == k);
    for (size_t i = 0; i < k; i++) CHECK(rk__lev_intern_id(t1, s + st[i], ln[i]) == ids[i]);
    /* The UTF-8 splitter used by wer: same count always (invalid bytes
     * are never whitespace), same word sequence on valid UTF-8. */
    rk__lev_intern *t3 = rk__lev_intern_new(&g_arena, na + 1);
    uint32_t *ids3 = rk__arena_alloc(&g_arena, (na + 1) * 4);
    CHECK(t3 && ids3);
    CHECK(rk__wer_ids_utf8(a, na, clean, t3, ids3) == k);
    if (valid_utf8(a, na))
      for (size_t i = 0; i < k; i++) CHECK(ids3[i] == ids[i]);
  }
  for (int intended = 0; intended < 2; intended++) {
    size_t m = rk__vqa_norm_answer(s, n, out, intended);
    CHECK(m <= 6 * n + 8);
    m = rk__vqa_norm_evalai(s, n, out, intended);
    CHECK(m <= 6 * n + 8);
  }
  double v = 0, w = 0;
  int ok = rk__py_float(s, n, &v);
  /* The ASCII reader (exact fast path for plain decimals) must agree bit
   * for bit with the code-point one. */
  int ascii = 1;
  for (size_t i = 0; i < na; i++) ascii &= (unsigned char)a[i] < 0x80;
  if (ascii && n == na) {
    CHECK(rk__py_float_ascii(a, na, &w) == ok);
    if (ok) CHECK(memcmp(&v, &w, sizeof v) == 0 || (v != v && w != w));
  }
}

/* Scores a hand-built record (raw bytes, so invalid UTF-8 reaches the
 * functions, which the strict JSON reader would otherwise reject). */
static void check_functions(const char *a, size_t na, const char *b, size_t nb) {
  rk__jval items[16];
  size_t ni = 0, s = 0;
  for (size_t i = 0; i <= nb && ni < 16; i++)
    if (i == nb || b[i] == 1) {
      memset(&items[ni], 0, sizeof items[ni]);
      items[ni].type = RK__JSTR;
      items[ni].u.str = rk__str_make(b + s, i - s);
      items[ni].raw = items[ni].u.str;
      ni++;
      s = i + 1;
    }
  rk__jval ref;
  memset(&ref, 0, sizeof ref);
  if (ni > 1) {
    ref.type = RK__JARR;
    ref.u.arr.items = items;
    ref.u.arr.n = ni;
  } else {
    ref = items[0];
  }
  rk__jval prompt = items[0];
  rk__record rec;
  memset(&rec, 0, sizeof rec);
  rec.response = rk__str_make(a, na);
  rec.has_response = 1;
  rec.reference = &ref;
  rec.prompt = &prompt;
  for (size_t i = 0; i < g_nspecs; i++) {
    rk__arena_reset(&g_arena);
    rk__budget budget = {0, 2000000};
    double comp[4] = {NAN, NAN, NAN, NAN};
    rk__buf_reset(&g_err);
    for (int k = 0; k < 4; k++) rk__buf_reset(&g_expl[k]);
    rk__eval_state st = {.comp = comp, .comp_explain = g_expl};
    rk__call call = {.rec = &rec, .arena = &g_arena, .budget = &budget, .error = &g_err,
                     .engine = &st};
    double reward = NAN;
    rk_status stt = rk__spec_eval(g_specs[i], &call, &reward);
    if (stt == RK_STATUS_OK || stt == RK_STATUS_UNPARSEABLE)
      CHECK(reward >= 0 && reward <= 1);
    else
      CHECK(isnan(reward));
  }
}

/* rk__cp_narrow on both code paths equals the decoder's code points when
 * they are all below 256, and refuses otherwise. */
static void check_narrow(const char *p, size_t n) {
  rk__arena_reset(&g_arena);
  uint32_t *cp = rk__arena_alloc(&g_arena, (n + 1) * 4);
  uint8_t *buf = rk__arena_alloc(&g_arena, n + RK__NARROW_ROOM);
  CHECK(cp && buf);
  size_t m = rk__cp_decode(p, n, cp);
  int latin1 = 1;
  for (size_t i = 0; i < m; i++) latin1 &= cp[i] < 256;
  for (int wide = 0; wide < 2; wide++) {
    rk__wide = wide;
    const uint8_t *o;
    size_t k = rk__cp_narrow(p, n, buf, &o);
    if (!latin1) {
      CHECK(k == SIZE_MAX);
      continue;
    }
    CHECK(k == m);
    for (size_t i = 0; i < m; i++) CHECK(o[i] == cp[i]);
  }
}

size_t rk__script_counts(const char *p, size_t n, size_t *counts);
int rk__script_of(uint32_t c);

/* lang_consistency's letter counts on both code paths equal the
 * definition: the decoder's code points, utf8proc's category L*, the
 * block table's script. */
static void check_scripts(const char *p, size_t n) {
  enum { NS = 17 };
  rk__arena_reset(&g_arena);
  uint32_t *cp = rk__arena_alloc(&g_arena, (n + 1) * 4);
  CHECK(cp != NULL);
  size_t m = rk__cp_decode(p, n, cp), want[NS] = {0}, wt = 0;
  for (size_t i = 0; i < m; i++) {
    const uint32_t c = cp[i];
    int letter = c < 0x80 ? (c | 32) >= 'a' && (c | 32) <= 'z' : 0;
    if (c >= 0x80) {
      const utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
      letter = k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
    }
    if (letter) want[rk__script_of(c)]++, wt++;
  }
  for (int wide = 0; wide < 2; wide++) {
    size_t got[NS] = {0};
    rk__wide = wide;
    CHECK(rk__script_counts(p, n, got) == wt);
    for (int k = 0; k < NS; k++) CHECK(got[k] == want[k]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) init(), ready = 1;
  if (size > 4096) return 0;
  const char *p = (const char *)data;
  const char *z = memchr(p, 0, size);
  size_t na = z ? (size_t)(z - p) : size / 2;
  const char *b = z ? z + 1 : p + na;
  size_t nb = size - (size_t)(b - p);
  check_distances(p, na, b, nb);
  check_narrow(p, size);
  check_scripts(p, size);
  check_tokenisers(p, size);
  check_functions(p, na, b, nb);
  return 0;
}
