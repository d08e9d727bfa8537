/*
 * pycase.c - Python's str.lower(): its final-sigma rule, and the whole of
 * it on UTF-8 text (see pycase.h).
 *
 * The properties are utf8proc's general category plus three small tables
 * (pycase_tables.h) that tools/gen_pycase.py derives from python3 and
 * checks against lower()'s behaviour on every code point. They are only
 * consulted next to a capital sigma, so a binary search is plenty.
 * rk__pylower, the whole of lower() on UTF-8 text, is here too: the
 * rewards that claim Python's lower() on text call it.
 */
#include "text/pycase.h"

#include <string.h>
#include <utf8proc.h>

#include "json/json.h"
#include "text/pycase_tables.h"

static int in_ranges(const uint32_t (*r)[2], size_t n, uint32_t c) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c < r[mid][0])
      hi = mid;
    else if (c > r[mid][1])
      lo = mid + 1;
    else
      return 1;
  }
  return 0;
}

#define IN_TABLE(t, c) in_ranges((t), sizeof(t) / sizeof((t)[0]), (c))

int rk__pycase_cased(uint32_t c) {
  if (c > 0x10FFFF) return 0;
  utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
         cat == UTF8PROC_CATEGORY_LT || IN_TABLE(other_lower, c) || IN_TABLE(other_upper, c);
}

int rk__pycase_ignorable(uint32_t c) {
  if (c > 0x10FFFF) return 0;
  utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME ||
         cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_LM ||
         cat == UTF8PROC_CATEGORY_SK || IN_TABLE(word_break, c);
}

uint32_t rk__pycase_sigma(const uint32_t *s, size_t n, size_t i) {
  size_t j = i;
  while (j > 0 && rk__pycase_ignorable(s[j - 1])) j--;
  if (j == 0 || !rk__pycase_cased(s[j - 1])) return RK__SIGMA_SMALL;
  for (j = i + 1; j < n && rk__pycase_ignorable(s[j]); j++) {
  }
  return j < n && rk__pycase_cased(s[j]) ? RK__SIGMA_SMALL : RK__SIGMA_FINAL;
}

/* The code point of a valid sequence of len bytes (rk__utf8_seq). */
static uint32_t seq_value(const unsigned char *s, size_t len) {
  uint32_t c = s[0] & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < len; k++) c = c << 6 | (s[k] & 0x3F);
  return c;
}

/* The code point that ends just before p[i] (i > 0), and where it starts
 * in *start. A forward decoder never splits a valid sequence (its first
 * byte is no continuation byte), so the sequence that ends at i is the
 * one that starts at the last non-continuation byte, if it is valid and
 * that long; otherwise p[i - 1] is a stray byte, U+FFFD. */
static uint32_t cp_before(const unsigned char *p, size_t i, size_t *start) {
  *start = i - 1;
  if (p[i - 1] < 0x80) return p[i - 1];
  size_t k = i - 1, lo = i > 4 ? i - 4 : 0;
  while (k > lo && (p[k] & 0xC0) == 0x80) k--;
  size_t len = rk__utf8_seq(p + k, p + i);
  if (!len || k + len != i) return 0xFFFD;
  *start = k;
  return seq_value(p + k, len);
}

uint32_t rk__pycase_sigma_utf8(const char *text, size_t n, size_t i) {
  const unsigned char *p = (const unsigned char *)text;
  size_t j = i;
  uint32_t c = 0;
  int any = 0;
  while (j > 0) {
    size_t start;
    c = cp_before(p, j, &start);
    if (!rk__pycase_ignorable(c)) {
      any = 1;
      break;
    }
    j = start;
  }
  if (!any || !rk__pycase_cased(c)) return RK__SIGMA_SMALL;
  for (j = i + 2; j < n;) {
    size_t len = 1;
    c = p[j];
    if (c >= 0x80) {
      len = rk__utf8_seq(p + j, p + n);
      c = len ? seq_value(p + j, len) : 0xFFFD;
      len += !len;
    }
    if (!rk__pycase_ignorable(c)) return rk__pycase_cased(c) ? RK__SIGMA_SMALL : RK__SIGMA_FINAL;
    j += len;
  }
  return RK__SIGMA_FINAL;
}

char *rk__pylower(rk__arena *a, const char *p, size_t n, size_t *out_n) {
  /* Lowercasing never grows a character by more than one byte except
   * U+0130 (2 bytes -> 3: "i" + U+0307); 3n/2 + 4 is enough. */
  char *o = rk__arena_alloc(a, n + n / 2 + 4);
  if (!o) return NULL;
  size_t k = 0, i = 0;
  while (i < n) {
    /* ASCII runs: branch-free. */
    while (i < n && (unsigned char)p[i] < 0x80) {
      unsigned char a7 = (unsigned char)p[i++];
      o[k++] = (char)(a7 | ((unsigned)(a7 - 'A') < 26u ? 0x20 : 0));
    }
    if (i >= n) break;
    unsigned char c = (unsigned char)p[i];
    size_t l = rk__utf8_seq((const unsigned char *)p + i, (const unsigned char *)p + n);
    if (!l) {
      o[k++] = (char)c;
      i++;
      continue;
    }
    uint32_t u = seq_value((const unsigned char *)p + i, l);
    if (u == 0x130) { /* Python: 'İ'.lower() == 'i\u0307' */
      memcpy(o + k, "i\xcc\x87", 3);
      k += 3;
      i += l;
      continue;
    }
    utf8proc_int32_t lw = u == RK__SIGMA_CAPITAL ? (utf8proc_int32_t)rk__pycase_sigma_utf8(p, n, i)
                                                 : utf8proc_tolower((utf8proc_int32_t)u);
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
