/*
 * format.c - the `format` reward: is the response laid out as tagged blocks
 * (<think>...</think><answer>...</answer>, or custom tags)? Checked by
 * scanning bytes with memchr, never with a regex, so it runs in
 * linear time on any input. Presets reproduce, exactly, the format regexes
 * of DeepSeek-R1-style trainers (EasyR1 r1v, VLM-R1), verl geo3k / EasyR1
 * math, RLPR and TRL's think_format_reward (docs/rewards/format.md proves
 * each equivalence).
 *
 * Not for: arbitrary patterns (regex.c), JSON structure (json_reward.c),
 * or extracting the answer (text/extract.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/core.h"
#include "format/format.h"

/* ------------------------------------------------ Python's whitespace */

/* str.isspace() for ASCII is \t \n \v \f \r, \x1c-\x1f and space; the
 * other Python whitespace starts with 0xC2, 0xE1, 0xE2 or 0xE3. */
const unsigned char rk__py_space_class[256] = {
    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1,
    [0x1c] = 1,  [0x1d] = 1,  [0x1e] = 1,  [0x1f] = 1,  [' '] = 1,
    [0xc2] = 2,  [0xe1] = 2,  [0xe2] = 2,  [0xe3] = 2,
};

size_t rk__py_space(const char *p, size_t n) {
  const unsigned char *u = (const unsigned char *)p;
  if (n == 0) return 0;
  switch (rk__py_space_class[u[0]]) {
    case 0:
      return 0;
    case 1:
      return 1;
    default:
      break;
  }
  switch (u[0]) {
    case 0xC2: /* U+0085, U+00A0 */
      return n >= 2 && (u[1] == 0x85 || u[1] == 0xA0) ? 2 : 0;
    case 0xE1: /* U+1680 */
      return n >= 3 && u[1] == 0x9A && u[2] == 0x80 ? 3 : 0;
    case 0xE2:
      if (n < 3) return 0;
      if (u[1] == 0x80) /* U+2000-U+200A, U+2028, U+2029, U+202F */
        return (u[2] >= 0x80 && u[2] <= 0x8A) || u[2] == 0xA8 ||
                       u[2] == 0xA9 || u[2] == 0xAF
                   ? 3
                   : 0;
      return u[1] == 0x81 && u[2] == 0x9F ? 3 : 0; /* U+205F */
    default: /* 0xE3: U+3000 */
      return n >= 3 && u[1] == 0x80 && u[2] == 0x80 ? 3 : 0;
  }
}

int rk__py_all_space(const char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t k = rk__py_space_fast(p + i, n - i);
    if (!k) return 0;
    i += k;
  }
  return 1;
}

size_t rk__utf8_count(const char *p, size_t n) {
  /* Counts the continuation bytes (10xxxxxx) and subtracts. */
  size_t i = 0, cont = 0;
#if defined(__SSE2__)
  /* 16 bytes per step: as signed bytes, continuation bytes are exactly
   * those < -64; each match adds 1 to its lane (the compare gives -1), and
   * the lanes are summed with SAD before they can overflow (255 steps). */
  const __m128i lim = _mm_set1_epi8(-64);
  while (n - i >= 16) {
    __m128i acc = _mm_setzero_si128();
    size_t rounds = 0;
    while (n - i >= 16 && rounds < 255) {
      __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
      acc = _mm_sub_epi8(acc, _mm_cmplt_epi8(x, lim));
      i += 16;
      rounds++;
    }
    __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
    cont += (size_t)_mm_cvtsi128_si32(sums) +
            (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
  }
#else
  /* Portable: eight at a time; in each byte of x & ~(x << 1), bit 7 is set
   * iff bit 7 is 1 and bit 6 is 0. */
  const uint64_t hi = 0x8080808080808080ull;
  while (n - i >= 8) {
    uint64_t lanes = 0;
    size_t rounds = 0;
    while (n - i >= 8 && rounds < 255) {
      uint64_t x;
      memcpy(&x, p + i, 8);
      lanes += ((x & ~(x << 1)) & hi) >> 7;
      i += 8;
      rounds++;
    }
    /* Widen to 16-bit lanes before the horizontal sum: 8 * 255 does not
     * fit in a byte. */
    uint64_t pairs = (lanes & 0x00FF00FF00FF00FFull) +
                     ((lanes >> 8) & 0x00FF00FF00FF00FFull);
    cont += (size_t)((pairs * 0x0001000100010001ull) >> 48);
  }
#endif
  for (; i < n; i++) cont += ((unsigned char)p[i] & 0xC0) == 0x80;
  return n - cont;
}

/* ------------------------------------------------------------- config */

static int valid_name(const char *s, size_t n) {
  if (n == 0 || n > RK__FMT_MAX_NAME) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '<' || c == '>' || c == '/' || c < 0x21 || c == 0x7f) return 0;
  }
  return 1;
}

int rk__fmt_init(rk__fmt_cfg *cfg, rk__fmt_preset preset,
                 const char *const *names, size_t nnames, const char **why) {
  static const char *const k_default[] = {"think", "answer"};
  memset(cfg, 0, sizeof *cfg);
  cfg->preset = preset;
  cfg->nonempty = preset == RK__FMT_TAGS;
  if (!names || nnames == 0) {
    names = k_default;
    nnames = preset == RK__FMT_GEO3K || preset == RK__FMT_THINK ? 1 : 2;
  }
  size_t need = preset == RK__FMT_R1 || preset == RK__FMT_RLPR ? 2
                : preset == RK__FMT_TAGS                      ? 0
                                                              : 1;
  if (need && nnames != need) {
    *why = need == 2 ? "this preset needs exactly 2 tags (reasoning, answer)"
                     : "this preset needs exactly 1 tag (reasoning)";
    return -1;
  }
  if (nnames > RK__FMT_MAX_TAGS) {
    *why = "at most 8 tags";
    return -1;
  }
  for (size_t i = 0; i < nnames; i++) {
    const char *s = names[i];
    size_t n = strlen(s);
    /* Accept "<think>" as well as "think". */
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
      s++;
      n -= 2;
    }
    if (!valid_name(s, n)) {
      *why = "a tag name must be 1-64 bytes without '<', '>', '/', spaces "
             "or control characters";
      return -1;
    }
    for (size_t j = 0; j < i; j++)
      if (cfg->open_len[j] == n + 2 && memcmp(cfg->open[j] + 1, s, n) == 0) {
        *why = "tag names must be distinct";
        return -1;
      }
    cfg->open[i][0] = '<';
    memcpy(cfg->open[i] + 1, s, n);
    cfg->open[i][n + 1] = '>';
    cfg->open[i][n + 2] = '\0';
    cfg->open_len[i] = n + 2;
    cfg->close[i][0] = '<';
    cfg->close[i][1] = '/';
    memcpy(cfg->close[i] + 2, s, n);
    cfg->close[i][n + 2] = '>';
    cfg->close[i][n + 3] = '\0';
    cfg->close_len[i] = n + 3;
  }
  cfg->ntags = nnames;
  return 0;
}

/* ------------------------------------------------------------ helpers */

#define WHY(...)                                              \
  do {                                                        \
    if (why && whycap) snprintf(why, whycap, __VA_ARGS__);    \
  } while (0)

/* First occurrence of needle[0..k) in hay[0..n): memchr on the first byte,
 * then memcmp. Work is at most n * k byte comparisons, and k is a tag
 * (<= 68 bytes) or "\\boxed{", so it stays linear in n; in practice memchr
 * runs at memory speed because '<' is rare in prose. */
static const char *find(const char *hay, size_t n, const char *needle,
                        size_t k) {
  if (k == 0) return hay;
  if (k > n) return NULL;
  const char *q = hay, *last = hay + (n - k); /* last possible start */
  while (q <= last) {
    q = memchr(q, needle[0], (size_t)(last - q) + 1);
    if (!q) return NULL;
    if (memcmp(q + 1, needle + 1, k - 1) == 0) return q;
    q++;
  }
  return NULL;
}

static size_t count_occ(const char *p, size_t n, const char *t, size_t k) {
  /* Tags have no border ('<' only first, '>' only last), so occurrences
   * never overlap and stepping by k is exact (like Python str.count). */
  size_t c = 0;
  const char *q = p, *end = p + n;
  while ((q = find(q, (size_t)(end - q), t, k)) != NULL) {
    c++;
    q += k;
  }
  return c;
}

/* Counts and first positions of every open and close tag, in one memchr
 * pass over '<'. */
typedef struct tag_scan {
  size_t nopen[RK__FMT_MAX_TAGS], nclose[RK__FMT_MAX_TAGS];
  size_t popen[RK__FMT_MAX_TAGS], pclose[RK__FMT_MAX_TAGS];
} tag_scan;

static void scan_tags(const rk__fmt_cfg *cfg, const char *p, size_t n,
                      tag_scan *ts) {
  memset(ts, 0, sizeof *ts);
  const char *q = p, *end = p + n;
  size_t k = cfg->ntags;
  while (q < end && (q = memchr(q, '<', (size_t)(end - q))) != NULL) {
    size_t rem = (size_t)(end - q);
    if (rem >= 2 && q[1] == '/') {
      for (size_t i = 0; i < k; i++) {
        size_t L = cfg->close_len[i];
        if (rem >= L && q[2] == cfg->close[i][2] &&
            memcmp(q, cfg->close[i], L) == 0) {
          if (ts->nclose[i]++ == 0) ts->pclose[i] = (size_t)(q - p);
          q += L - 1;
          break;
        }
      }
    } else if (rem >= 2) {
      for (size_t i = 0; i < k; i++) {
        size_t L = cfg->open_len[i];
        if (rem >= L && q[1] == cfg->open[i][1] &&
            memcmp(q, cfg->open[i], L) == 0) {
          if (ts->nopen[i]++ == 0) ts->popen[i] = (size_t)(q - p);
          q += L - 1;
          break;
        }
      }
    }
    q++;
  }
}

/* Reports a tag seen 0 or >1 times. */
static int count_ok(size_t count, const char *tag, char *why, size_t whycap) {
  if (count == 1) return 1;
  if (count == 0)
    WHY("'%s' missing", tag);
  else
    WHY("'%s' appears %zu times", tag, count);
  return 0;
}

/* \boxed{ followed by a '}' somewhere after it, as in geo3k's
 * \\boxed\{.*\} (DOTALL). */
static int has_boxed(const char *p, size_t n) {
  static const char k_boxed[] = "\\boxed{";
  const char *b = find(p, n, k_boxed, sizeof k_boxed - 1);
  if (!b) return 0;
  const char *after = b + sizeof k_boxed - 1;
  return memchr(after, '}', (size_t)(p + n - after)) != NULL;
}

/* ----------------------------------------------------- strict (default) */

static int check_tags(const rk__fmt_cfg *cfg, const char *p, size_t n,
                      char *why, size_t whycap) {
  tag_scan ts;
  size_t k = cfg->ntags;
  scan_tags(cfg, p, n, &ts);
  for (size_t i = 0; i < k; i++) {
    if (!count_ok(ts.nopen[i], cfg->open[i], why, whycap)) return 0;
    if (!count_ok(ts.nclose[i], cfg->close[i], why, whycap)) return 0;
  }
  for (size_t i = 0; i < k; i++) {
    if (ts.pclose[i] < ts.popen[i]) {
      WHY("'%s' before '%s'", cfg->close[i], cfg->open[i]);
      return 0;
    }
    if (i > 0 && ts.popen[i] < ts.pclose[i - 1]) {
      if (ts.popen[i] > ts.popen[i - 1])
        WHY("'%s' inside the '%s' block", cfg->open[i], cfg->open[i - 1]);
      else
        WHY("'%s' before '%s'", cfg->open[i], cfg->open[i - 1]);
      return 0;
    }
  }
  if (!cfg->allow_prefix && !rk__py_all_space(p, ts.popen[0])) {
    WHY("text before '%s'", cfg->open[0]);
    return 0;
  }
  for (size_t i = 1; i < k && !cfg->allow_between; i++) {
    size_t a = ts.pclose[i - 1] + cfg->close_len[i - 1];
    if (!rk__py_all_space(p + a, ts.popen[i] - a)) {
      WHY("text between '%s' and '%s'", cfg->close[i - 1], cfg->open[i]);
      return 0;
    }
  }
  size_t tail = ts.pclose[k - 1] + cfg->close_len[k - 1];
  int suffix_ok = cfg->allow_suffix || (cfg->require_boxed && k == 1);
  if (!suffix_ok && !rk__py_all_space(p + tail, n - tail)) {
    WHY("text after '%s'", cfg->close[k - 1]);
    return 0;
  }
  if (cfg->nonempty) {
    for (size_t i = 0; i < k; i++) {
      size_t a = ts.popen[i] + cfg->open_len[i];
      if (rk__py_all_space(p + a, ts.pclose[i] - a)) {
        WHY("empty '%s' block", cfg->open[i]);
        return 0;
      }
    }
  }
  if (cfg->require_boxed) {
    if (k >= 2) {
      size_t a = ts.popen[k - 1] + cfg->open_len[k - 1];
      if (!has_boxed(p + a, ts.pclose[k - 1] - a)) {
        WHY("no \\boxed{...} in the '%s' block", cfg->open[k - 1]);
        return 0;
      }
    } else if (!has_boxed(p + tail, n - tail)) {
      WHY("no \\boxed{...} after '%s'", cfg->close[0]);
      return 0;
    }
  }
  return 1;
}

/* ------------------------------------------------------------ presets */

/* Shared start: the text must begin with the first open tag. */
static int starts_with_open(const rk__fmt_cfg *cfg, const char *p, size_t n,
                            char *why, size_t whycap) {
  const char *o = cfg->open[0];
  size_t ol = cfg->open_len[0];
  if (n >= ol && memcmp(p, o, ol) == 0) return 1;
  if (find(p, n, o, ol))
    WHY("text before '%s'", o);
  else
    WHY("'%s' missing", o);
  return 0;
}

/* fullmatch(r"<think>.*?</think>\s*<answer>.*?</answer>", s, re.DOTALL)
 * holds iff s = "<think>" A "</think>" W "<answer>" B "</answer>" for some
 * A, B (anything, tags included) and W in \s*. W ends where the maximal
 * whitespace run after that "</think>" ends, because "<answer>" does not
 * start with whitespace; so it suffices to try every "</think>" between the
 * leading "<think>" and the trailing "</answer>". Each whitespace run is
 * scanned once: linear time. */
static int check_r1(const rk__fmt_cfg *cfg, const char *p, size_t n,
                    char *why, size_t whycap) {
  const char *c1 = cfg->close[0], *o2 = cfg->open[1], *c2 = cfg->close[1];
  size_t ol = cfg->open_len[0], c1l = cfg->close_len[0];
  size_t o2l = cfg->open_len[1], c2l = cfg->close_len[1];
  if (!starts_with_open(cfg, p, n, why, whycap)) return 0;
  if (n < ol + c2l || memcmp(p + n - c2l, c2, c2l) != 0) {
    if (find(p + ol, n - ol, c2, c2l))
      WHY("text after '%s'", c2);
    else
      WHY("'%s' missing", c2);
    return 0;
  }
  size_t lo = ol, hi = n - c2l;
  int seen_close = 0;
  const char *q = p + lo, *end = p + hi;
  while ((q = find(q, (size_t)(end - q), c1, c1l)) != NULL) {
    seen_close = 1;
    const char *j = q + c1l;
    size_t k;
    while (j < end && (k = rk__py_space_fast(j, (size_t)(end - j))) != 0) j += k;
    if ((size_t)(end - j) >= o2l && memcmp(j, o2, o2l) == 0) return 1;
    q += c1l;
  }
  if (!seen_close)
    WHY("'%s' missing", c1);
  else if (!find(p, hi, o2, o2l))
    WHY("'%s' missing", o2);
  else
    WHY("text between '%s' and '%s'", c1, o2);
  return 0;
}

/* fullmatch(r"<think>.*</think>.*\\boxed\{.*\}.*", s, re.DOTALL): s starts
 * with "<think>", then some "</think>", then "\boxed{" after it, then '}'
 * after that. Taking the earliest of each leaves the most room for the
 * next, so the greedy scan decides the regex exactly. */
static int check_geo3k(const rk__fmt_cfg *cfg, const char *p, size_t n,
                       char *why, size_t whycap) {
  static const char k_boxed[] = "\\boxed{";
  const char *c1 = cfg->close[0];
  size_t ol = cfg->open_len[0], c1l = cfg->close_len[0];
  if (!starts_with_open(cfg, p, n, why, whycap)) return 0;
  const char *end = p + n;
  const char *c = find(p + ol, n - ol, c1, c1l);
  if (!c) {
    WHY("'%s' missing", c1);
    return 0;
  }
  const char *a = c + c1l;
  const char *b = find(a, (size_t)(end - a), k_boxed, sizeof k_boxed - 1);
  if (!b) {
    WHY("no \\boxed{ after '%s'", c1);
    return 0;
  }
  b += sizeof k_boxed - 1;
  if (!memchr(b, '}', (size_t)(end - b))) {
    WHY("\\boxed{ is never closed");
    return 0;
  }
  return 1;
}

/* RLPR: each of the four tags exactly once (str.count == 1) and
 * fullmatch(r"<think>.*</think>.*<answer>.*</answer>.*", s, re.DOTALL),
 * which with unique tags means: s starts with "<think>" and the tags come
 * in order without overlapping. */
static int check_rlpr(const rk__fmt_cfg *cfg, const char *p, size_t n,
                      char *why, size_t whycap) {
  tag_scan ts;
  scan_tags(cfg, p, n, &ts);
  for (size_t i = 0; i < 2; i++) {
    if (!count_ok(ts.nopen[i], cfg->open[i], why, whycap)) return 0;
    if (!count_ok(ts.nclose[i], cfg->close[i], why, whycap)) return 0;
  }
  if (!starts_with_open(cfg, p, n, why, whycap)) return 0;
  if (ts.popen[1] < ts.pclose[0] + cfg->close_len[0]) {
    WHY("'%s' before '%s'", cfg->open[1], cfg->close[0]);
    return 0;
  }
  if (ts.pclose[1] < ts.popen[1] + cfg->open_len[1]) {
    WHY("'%s' before '%s'", cfg->close[1], cfg->open[1]);
    return 0;
  }
  return 1;
}

/* TRL think_format_reward: re.match(r"^<think>(?!.*<think>)(.*?)</think>.*$",
 * s, DOTALL | MULTILINE): s starts with "<think>", no other "<think>"
 * follows, and a "</think>" follows (".*$" always matches at the end). */
static int check_think(const rk__fmt_cfg *cfg, const char *p, size_t n,
                       char *why, size_t whycap) {
  const char *o = cfg->open[0], *c = cfg->close[0];
  size_t ol = cfg->open_len[0], cl = cfg->close_len[0];
  if (!starts_with_open(cfg, p, n, why, whycap)) return 0;
  if (find(p + ol, n - ol, o, ol)) {
    WHY("'%s' appears %zu times", o, 1 + count_occ(p + ol, n - ol, o, ol));
    return 0;
  }
  if (!find(p + ol, n - ol, c, cl)) {
    WHY("'%s' missing", c);
    return 0;
  }
  return 1;
}

/* --------------------------------------------------------------- entry */

/* Length of the whitespace character that ends out[0..o), 0 if none.
 * Whitespace characters are decoded the same way backwards and forwards:
 * no Python whitespace sequence contains another one's bytes. */
static size_t trailing_space(const char *out, size_t o) {
  if (o >= 1 && rk__py_space_class[(unsigned char)out[o - 1]] == 1) return 1;
  if (o >= 2 && rk__py_space(out + o - 2, 2) == 2) return 2;
  if (o >= 3 && rk__py_space(out + o - 3, 3) == 3) return 3;
  return 0;
}

size_t rk__fmt_strip_tag_spaces(const char *p, size_t n, char *out) {
  /* re.sub(r"\s*(<|>|/)\s*", r"\1", s) removes exactly the whitespace runs
   * that touch one of < > / (on either side): the search tries the run's
   * first character first, and the trailing \s* is greedy. So: copy the
   * text up to the next special character, drop the whitespace that ends
   * the copy, emit the special, skip the whitespace after it. The three
   * specials are found with memchr, each scan resuming where it stopped. */
  static const char specials[3] = {'<', '>', '/'};
  const char *next[3] = {NULL, NULL, NULL};
  const char *end = p + n;
  size_t o = 0, i = 0;
  while (i < n) {
    const char *s = end;
    for (int k = 0; k < 3; k++) {
      if (next[k] != end && (!next[k] || next[k] < p + i)) {
        next[k] = memchr(p + i, specials[k], n - i);
        if (!next[k]) next[k] = end;
      }
      if (next[k] < s) s = next[k];
    }
    size_t j = (size_t)(s - p);
    memcpy(out + o, p + i, j - i);
    o += j - i;
    if (j >= n) break;
    size_t k;
    while ((k = trailing_space(out, o)) != 0) o -= k;
    out[o++] = p[j];
    i = j + 1;
    while (i < n && (k = rk__py_space_fast(p + i, n - i)) != 0) i += k;
  }
  return o;
}

int rk__fmt_check(const rk__fmt_cfg *cfg, const char *p, size_t n,
                  rk__arena *arena, char *why, size_t whycap) {
  if (why && whycap) why[0] = '\0';
  if (!p) {
    p = "";
    n = 0;
  }
  if (cfg->strip_tag_spaces) {
    char *buf = rk__arena_alloc(arena, n ? n : 1);
    if (!buf) return -1;
    n = rk__fmt_strip_tag_spaces(p, n, buf);
    p = buf;
  }
  switch (cfg->preset) {
    case RK__FMT_R1:
      return check_r1(cfg, p, n, why, whycap);
    case RK__FMT_GEO3K:
      return check_geo3k(cfg, p, n, why, whycap);
    case RK__FMT_RLPR:
      return check_rlpr(cfg, p, n, why, whycap);
    case RK__FMT_THINK:
      return check_think(cfg, p, n, why, whycap);
    case RK__FMT_TAGS:
    default:
      return check_tags(cfg, p, n, why, whycap);
  }
}

/* ------------------------------------------------------- reward function */

static const char *const k_presets[] = {"tags", "r1", "geo3k", "rlpr",
                                        "think", NULL};

/* Arguments that only the default ("tags") structure reads: a preset fixes
 * the structure to its framework's regex. */
static const char *const k_tags_only[] = {"allow_prefix", "allow_suffix",
                                          "allow_between", "nonempty",
                                          "require_boxed", NULL};

static int format_compile(rk__argctx *ac, void **out) {
  int preset = 0;
  char **names = NULL;
  size_t nnames = 0;
  if (rk__arg_enum(ac, "preset", k_presets, RK__FMT_TAGS, &preset)) return -1;
  if (rk__arg_strlist(ac, "tags", &names, &nnames)) return -1;
  if (names && nnames == 0) {
    rk__strlist_free(names);
    return rk__arg_error(ac, "tags", "at least one tag name");
  }
  rk__fmt_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) {
    rk__strlist_free(names);
    return rk__arg_error(ac, NULL, "out of memory");
  }
  const char *why = NULL;
  int rc = rk__fmt_init(cfg, (rk__fmt_preset)preset,
                        (const char *const *)names, nnames, &why);
  rk__strlist_free(names);
  if (rc) {
    free(cfg);
    return rk__arg_error(ac, "tags", "%s", why);
  }
  if (preset != RK__FMT_TAGS) {
    for (size_t i = 0; k_tags_only[i]; i++)
      if (rk__arg_raw(ac, k_tags_only[i])) {
        free(cfg);
        return rk__arg_error(ac, k_tags_only[i],
                             "not used with preset '%s', which fixes the "
                             "structure to its framework's regex; drop the "
                             "preset to configure the structure",
                             k_presets[preset]);
      }
  } else if (rk__arg_bool(ac, "allow_prefix", 0, &cfg->allow_prefix) ||
             rk__arg_bool(ac, "allow_suffix", 0, &cfg->allow_suffix) ||
             rk__arg_bool(ac, "allow_between", 0, &cfg->allow_between) ||
             rk__arg_bool(ac, "nonempty", 1, &cfg->nonempty) ||
             rk__arg_bool(ac, "require_boxed", 0, &cfg->require_boxed)) {
    free(cfg);
    return -1;
  }
  if (rk__arg_bool(ac, "strip_tag_spaces", 0, &cfg->strip_tag_spaces)) {
    free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

static rk_status format_score(const void *vcfg, rk__call *c, double *value) {
  const rk__fmt_cfg *cfg = vcfg;
  *value = 0.0;
  if (!c->rec->has_response) return rk__fail(c, "record has no response text");
  rk__str r = c->rec->response;
  /* One step per byte scanned (twice when the strip copy is made). */
  if (!rk__spend(c, (uint64_t)r.n * (cfg->strip_tag_spaces ? 2 : 1) + 1))
    return RK_STATUS_TIMEOUT;
  char why[192];
  int ok = rk__fmt_check(cfg, r.p, r.n, c->arena, why, sizeof why);
  if (ok < 0) return rk__fail(c, "format: out of scratch memory");
  *value = ok ? 1.0 : 0.0;
  if (rk__explaining(c)) {
    if (ok) {
      if (cfg->preset == RK__FMT_TAGS)
        rk__explain(c, "format ok: %zu tag pair%s once each, in order",
                    cfg->ntags, cfg->ntags == 1 ? "" : "s");
      else
        rk__explain(c, "format ok (preset %s)", k_presets[cfg->preset]);
    } else {
      rk__explain(c, "format: %s", why);
    }
  }
  return RK_STATUS_OK;
}

static void format_free(void *cfg) { free(cfg); }

const rk__fn rk__fn_format = {
    .name = "format",
    .summary = "tag structure (<think>/<answer> or custom tags), R1/geo3k/RLPR/TRL presets; 1 or 0",
    .compile = format_compile,
    .score = format_score,
    .free = format_free,
};
