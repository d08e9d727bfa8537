/*
 * ovl_text.c - the tokenizers of the overlap metrics, each a byte-exact
 * reproduction of a Python reference on valid UTF-8: str.split() and
 * str.rstrip() with Python's whitespace set, str.lower(), sacreBLEU's
 * 13a and char tokenizers, and rouge-score's tokenizer.
 *
 * Regex substitutions of the references are done as hand-written passes
 * with re.sub's left-to-right, non-overlapping semantics, one code point
 * per regex "character". Invalid UTF-8 (which a record can never carry,
 * the JSON reader rejects it) is tolerated byte by byte.
 */
#include <string.h>
#include <utf8proc.h>

#include "format/format.h"
#include "json/json.h"
#include "metrics/ovl.h"

uint32_t rk__ovl_cp(const char *p, size_t n, size_t *len) {
  const unsigned char *s = (const unsigned char *)p;
  if (s[0] < 0x80) {
    *len = 1;
    return s[0];
  }
  size_t k = rk__utf8_seq(s, s + n);
  if (!k) {
    *len = 1;
    return 0x110000u + s[0];
  }
  *len = k;
  uint32_t c = s[0] & (k == 2 ? 0x1F : k == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < k; i++) c = c << 6 | (s[i] & 0x3F);
  return c;
}

static int toks_alloc(rk__arena *a, rk__ovl_toks *t, size_t cap) {
  t->n = 0;
  t->id = NULL;
  t->t = rk__arena_alloc(a, (cap ? cap : 1) * sizeof *t->t);
  return t->t ? 0 : -1;
}

int rk__ovl_split(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  /* At most one token per two bytes, plus one. */
  if (toks_alloc(a, out, n / 2 + 1)) return -1;
  size_t i = 0;
  while (i < n) {
    size_t w = rk__py_space_fast(p + i, n - i);
    if (w) {
      i += w;
      continue;
    }
    size_t b = i;
    while (i < n && !rk__py_space_fast(p + i, n - i)) i++;
    out->t[out->n++] = rk__str_make(p + b, i - b);
  }
  return 0;
}

rk__str rk__ovl_rstrip(rk__str s) {
  /* Backwards: ASCII whitespace one byte at a time; a trailing byte >= 0x80
   * may end a 2- or 3-byte space (U+0085, U+00A0, U+1680, U+2000-U+200A,
   * U+2028, U+2029, U+202F, U+205F, U+3000), which rk__py_space checks
   * from its lead byte (a continuation byte is never a lead byte). */
  size_t n = s.n;
  while (n > 0) {
    unsigned char c = (unsigned char)s.p[n - 1];
    if (c < 0x80) {
      if (c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F)) {
        n--;
        continue;
      }
      break;
    }
    if (n >= 2 && rk__py_space(s.p + n - 2, 2) == 2) {
      n -= 2;
      continue;
    }
    if (n >= 3 && rk__py_space(s.p + n - 3, 3) == 3) {
      n -= 3;
      continue;
    }
    break;
  }
  return rk__str_make(s.p, n);
}

/* ------------------------------------------------------------- lower */

char *rk__ovl_lower(rk__arena *a, const char *p, size_t n, size_t *out_n) {
  /* Lowercasing never grows a character by more than one byte except
   * U+0130 (2 bytes -> 3: "i" + U+0307); 3n/2 + 4 is enough. */
  char *o = rk__arena_alloc(a, n + n / 2 + 4);
  if (!o) return NULL;
  size_t k = 0, i = 0;
  while (i < n) {
    unsigned char c = (unsigned char)p[i];
    if (c < 0x80) {
      o[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
      i++;
      continue;
    }
    size_t l;
    uint32_t u = rk__ovl_cp(p + i, n - i, &l);
    if (u >= 0x110000u) {
      o[k++] = (char)c;
      i++;
      continue;
    }
    if (u == 0x130) { /* Python: 'İ'.lower() == 'i\u0307' */
      memcpy(o + k, "i\xcc\x87", 3);
      k += 3;
      i += l;
      continue;
    }
    utf8proc_int32_t lw = utf8proc_tolower((utf8proc_int32_t)u);
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t w = utf8proc_encode_char(lw, buf);
    memcpy(o + k, buf, (size_t)w);
    k += (size_t)w;
    i += l;
  }
  o[k] = '\0';
  *out_n = k;
  return o;
}

/* --------------------------------------------------------------- 13a */

/* Replaces every occurrence of `from` by `to` (to no longer than from). */
static size_t replace_all(char *p, size_t n, const char *from, const char *to) {
  size_t fl = strlen(from), tl = strlen(to), k = 0, i = 0;
  while (i < n) {
    if (i + fl <= n && p[i] == from[0] && memcmp(p + i, from, fl) == 0) {
      memcpy(p + k, to, tl);
      k += tl;
      i += fl;
    } else {
      p[k++] = p[i++];
    }
  }
  return k;
}

/* Regex 1 class: [\{-\~\[-\` -\&\(-\+\:-\@\/] (ASCII only), as a
 * bitmap of the 128 ASCII codes. */
static inline int is_13a_sym(unsigned char c) {
  /* bits 0x20-0x26, 0x28-0x2B, 0x2F in the low word; 0x3A-0x40,
   * 0x5B-0x60, 0x7B-0x7E in the high one. */
  static const uint64_t lo = (0x7Full << 0x20) | (0xFull << 0x28) | (1ull << 0x2F) |
                             (0x3Full << 0x3A),
                        hi = (1ull << (0x40 - 64)) | (0x3Full << (0x5B - 64)) |
                             (0xFull << (0x7B - 64));
  if (c < 64) return (int)(lo >> c & 1);
  if (c < 128) return (int)(hi >> (c - 64) & 1);
  return 0;
}

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Byte length of the character at p[0..n). */
static size_t chlen(const char *p, size_t n) {
  if ((unsigned char)p[0] < 0x80) return 1;
  size_t l;
  rk__ovl_cp(p, n, &l);
  return l;
}

int rk__ovl_tok13a(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  /* tokenizer_13a.py: remove "<skipped>", drop "-\n", "\n" -> " ", and
   * when '&' occurs unescape &quot; &amp; &lt; &gt; (in that order). */
  char *s = rk__arena_alloc(a, n + 3);
  if (!s) return -1;
  s[0] = ' ';
  memcpy(s + 1, p, n);
  size_t m = n;
  char *body = s + 1;
  if (memchr(body, '<', m)) m = replace_all(body, m, "<skipped>", "");
  if (memchr(body, '\n', m)) {
    m = replace_all(body, m, "-\n", "");
    for (size_t i = 0; i < m; i++)
      if (body[i] == '\n') body[i] = ' ';
  }
  if (memchr(body, '&', m)) {
    m = replace_all(body, m, "&quot;", "\"");
    m = replace_all(body, m, "&amp;", "&");
    m = replace_all(body, m, "&lt;", "<");
    m = replace_all(body, m, "&gt;", ">");
  }
  body[m] = ' ';
  m += 2; /* f' {line} ' */

  /* The passes below work on bytes: the characters the regexes name are
   * ASCII, a multi-byte character is never a digit, and the only thing a
   * match consumes beyond ASCII is a whole character that is copied
   * unchanged either way. Each pass is skipped when its trigger is absent. */
  int has_sym = 0, has_dot = 0, has_dash = 0;
  for (size_t i = 0; i < m; i++) {
    unsigned char c = (unsigned char)s[i];
    has_sym |= c != ' ' && is_13a_sym(c);
    has_dot |= c == '.' || c == ',';
    has_dash |= c == '-';
  }
  char *t;
  size_t k;

  /* Pass 1: ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 " (space itself is
   * in the class; tripling a space changes nothing after split()). */
  if (has_sym) {
    t = rk__arena_alloc(a, 3 * m + 1);
    if (!t) return -1;
    k = 0;
    for (size_t i = 0; i < m; i++) {
      unsigned char c = (unsigned char)s[i];
      if (c != ' ' && is_13a_sym(c)) {
        t[k++] = ' ';
        t[k++] = (char)c;
        t[k++] = ' ';
      } else {
        t[k++] = (char)c;
      }
    }
    s = t;
    m = k;
  }

  if (has_dot) {
    /* Pass 2: ([^0-9])([\.,]) -> "\1 \2 ". The character before a '.' is
     * available unless it was the '.' or ',' of the previous match. */
    t = rk__arena_alloc(a, 2 * m + 1);
    if (!t) return -1;
    k = 0;
    int prev_free = 0, prev_digit = 0;
    for (size_t i = 0; i < m; i++) {
      unsigned char c = (unsigned char)s[i];
      if ((c == '.' || c == ',') && prev_free && !prev_digit) {
        t[k++] = ' ';
        t[k++] = (char)c;
        t[k++] = ' ';
        prev_free = 0;
        continue;
      }
      t[k++] = (char)c;
      if ((c & 0xC0) != 0x80) { /* a character starts here */
        prev_free = 1;
        prev_digit = is_digit(c);
      }
    }
    s = t;
    m = k;

    /* Pass 3: ([\.,])([^0-9]) -> " \1 \2". The following character is
     * consumed: its first byte is copied here, the rest as they come. */
    t = rk__arena_alloc(a, 2 * m + 1);
    if (!t) return -1;
    k = 0;
    for (size_t i = 0; i < m; i++) {
      unsigned char c = (unsigned char)s[i];
      if ((c == '.' || c == ',') && i + 1 < m && !is_digit((unsigned char)s[i + 1])) {
        t[k++] = ' ';
        t[k++] = (char)c;
        t[k++] = ' ';
        t[k++] = s[++i];
      } else {
        t[k++] = (char)c;
      }
    }
    s = t;
    m = k;
  }

  /* Pass 4: ([0-9])(-) -> "\1 \2 " */
  if (has_dash) {
    t = rk__arena_alloc(a, 2 * m + 1);
    if (!t) return -1;
    k = 0;
    for (size_t i = 0; i < m;) {
      if (is_digit((unsigned char)s[i]) && i + 1 < m && s[i + 1] == '-') {
        t[k++] = s[i];
        t[k++] = ' ';
        t[k++] = '-';
        t[k++] = ' ';
        i += 2;
      } else {
        t[k++] = s[i++];
      }
    }
    s = t;
    m = k;
  }
  t = s;
  k = m;
  /* ' '.join(line.split()) and the later .split() of n-gram extraction. */
  return rk__ovl_split(a, t, k, out);
}

int rk__ovl_tokchar(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  if (toks_alloc(a, out, n)) return -1;
  for (size_t i = 0; i < n;) {
    size_t w = rk__py_space_fast(p + i, n - i);
    if (w) {
      i += w;
      continue;
    }
    size_t l = chlen(p + i, n - i);
    out->t[out->n++] = rk__str_make(p + i, l);
    i += l;
  }
  return 0;
}

/* ------------------------------------------------------------- rouge */

static int uni_word(uint32_t u) {
  if (u >= 0x110000u) return 0;
  utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)u);
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO);
}

int rk__ovl_tokrouge(rk__arena *a, const char *p, size_t n, int stem,
                     int unicode, rk__ovl_toks *out) {
  /* Lowercased token text is written to `buf`; tokens point into it. */
  char *buf = rk__arena_alloc(a, 2 * n + 1);
  if (!buf || toks_alloc(a, out, n / 2 + 2)) return -1;
  size_t k = 0, i = 0, start = 0;
  int in_tok = 0;
#define ROUGE_END_TOKEN()                                          \
  do {                                                             \
    if (in_tok) {                                                  \
      out->t[out->n++] = rk__str_make(buf + start, k - start);     \
      in_tok = 0;                                                  \
    }                                                              \
  } while (0)
  while (i < n) {
    unsigned char c = (unsigned char)p[i];
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        if (!in_tok) start = k, in_tok = 1;
        buf[k++] = (char)c;
      } else {
        ROUGE_END_TOKEN();
      }
      i++;
      continue;
    }
    size_t l;
    uint32_t u = rk__ovl_cp(p + i, n - i, &l);
    i += l;
    if (!unicode) {
      /* Python lower() turns exactly two non-ASCII characters into ASCII
       * letters: U+0130 -> "i" + U+0307 (which then separates) and
       * U+212A KELVIN SIGN -> "k". Everything else is dropped. */
      if (u == 0x130) {
        if (!in_tok) start = k, in_tok = 1;
        buf[k++] = 'i';
        ROUGE_END_TOKEN();
      } else if (u == 0x212A) {
        if (!in_tok) start = k, in_tok = 1;
        buf[k++] = 'k';
      } else {
        ROUGE_END_TOKEN();
      }
      continue;
    }
    if (uni_word(u) || (u < 0x110000u && utf8proc_category((utf8proc_int32_t)u) >=
                                             UTF8PROC_CATEGORY_MN &&
                        utf8proc_category((utf8proc_int32_t)u) <= UTF8PROC_CATEGORY_ME)) {
      utf8proc_int32_t lw = u == 0x130 ? 'i' : utf8proc_tolower((utf8proc_int32_t)u);
      utf8proc_uint8_t eb[4];
      utf8proc_ssize_t w = utf8proc_encode_char(lw, eb);
      if (!in_tok) start = k, in_tok = 1;
      memcpy(buf + k, eb, (size_t)w);
      k += (size_t)w;
    } else {
      ROUGE_END_TOKEN();
    }
  }
  ROUGE_END_TOKEN();
#undef ROUGE_END_TOKEN
  if (stem) {
    /* Stems are at most one byte longer than the token (step 1b "e");
     * tokens of ASCII letters only are stemmed, longer than 3. */
    for (size_t j = 0; j < out->n; j++) {
      rk__str t = out->t[j];
      if (t.n <= 3) continue;
      int ascii = 1;
      for (size_t q = 0; q < t.n; q++)
        if ((unsigned char)t.p[q] >= 0x80) ascii = 0;
      if (!ascii) continue;
      char *s = rk__arena_alloc(a, t.n + 4);
      if (!s) return -1;
      size_t sn = rk__porter_stem(t.p, t.n, RK__PORTER_NLTK, s);
      out->t[j] = rk__str_make(s, sn);
    }
  }
  return 0;
}
