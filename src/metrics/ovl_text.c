/*
 * ovl_text.c - the tokenizers of the overlap metrics, each a byte-exact
 * reproduction of a Python reference on valid UTF-8: str.split() and
 * str.rstrip() with Python's whitespace set, str.lower(), sacreBLEU's
 * 13a, intl, zh and char tokenizers, rouge-score's tokenizer and SQuAD's
 * normalize_answer().split().
 *
 * Regex substitutions of the references are reduced to per-character
 * rules that follow re.sub's left-to-right, non-overlapping semantics,
 * one code point per regex "character". Invalid UTF-8 (which a record can
 * never carry, the JSON reader rejects it) is tolerated byte by byte.
 *
 * Speed: ASCII text (the common case) goes through block fast paths that
 * classify 64 bytes at a time into bit masks (SSE2 where available) and
 * walk token boundaries with count-trailing-zeros, so that branches are
 * per token, not per byte. The character-by-character code remains the
 * definition: it handles everything else, and the fuzz target checks the
 * two against each other.
 */
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "format/format.h"
#include "json/json.h"
#include "metrics/ovl.h"
#include "metrics/wide.h"
#include "text/normalize.h"
#include "text/pycase.h"

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
  t->h = NULL;
  t->t = rk__arena_alloc(a, (cap ? cap : 1) * sizeof *t->t);
  return t->t ? 0 : -1;
}

/* ------------------------------------------------------ block scanning */

#define BLK 64

/* A copy of p[0..n) in whole 64-byte blocks plus 16 bytes, the tail
 * filled with spaces: every block can be loaded whole, and a token can be
 * read 16 bytes from its start (rk__ovl_hash_padded). */
#define PAD 16
static char *pad_copy(rk__arena *a, const char *p, size_t n, size_t *nb) {
  size_t b = n / BLK + 1;
  char *s = rk__arena_alloc(a, b * BLK + PAD);
  if (!s) return NULL;
  if (n) memcpy(s, p, n);
  memset(s + n, ' ', b * BLK + PAD - n);
  *nb = b;
  return s;
}

#if defined(__SSE2__)
typedef __m128i v16;
static inline v16 v_load(const char *p) {
  return _mm_loadu_si128((const __m128i *)(const void *)p);
}
static inline v16 v_eq(v16 x, int c) { return _mm_cmpeq_epi8(x, _mm_set1_epi8((char)c)); }
/* lo <= x <= hi, bytes read as signed: for 0 <= lo <= hi <= 126 no byte
 * >= 0x80 (negative) is ever inside. */
static inline v16 v_in(v16 x, int lo, int hi) {
  return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8((char)(lo - 1))),
                       _mm_cmplt_epi8(x, _mm_set1_epi8((char)(hi + 1))));
}
static inline v16 v_or(v16 x, v16 y) { return _mm_or_si128(x, y); }
static inline uint64_t v_bits(v16 m) { return (uint64_t)(unsigned)_mm_movemask_epi8(m); }
#endif

static inline int asc_in(unsigned char c, int lo, int hi) { return c >= lo && c <= hi; }

#if !defined(__SSE2__)
/* Python's ASCII whitespace: \t \n \v \f \r, \x1c-\x1f, space. */
static inline int asc_space(unsigned char c) {
  return c == ' ' || asc_in(c, 9, 13) || asc_in(c, 0x1C, 0x1F);
}
#endif

/* Block of a lowercasing tokenizer (rouge-score, SQuAD): lowers A-Z in
 * place and returns the masks of [a-z0-9] (after lowering), Python
 * whitespace, other printable ASCII (punctuation), and the bytes no fast
 * path takes: control characters, DEL, bytes >= 0x80. */
typedef struct lc_masks {
  uint64_t word, space, punct, odd;
} lc_masks;

#if defined(__SSE2__)
/* The 8 bytes p[0..r) (r <= 8) as a little-endian word, the rest spaces,
 * reading nothing outside p[0..r). */
static inline uint64_t tail8(const char *p, size_t r) {
  uint64_t v;
  if (r >= 4)
    v = r == 8 ? rk__ovl_le64(p) : rk__ovl_le32(p) | rk__ovl_le32(p + r - 4) << (8 * (r - 4));
  else if (r)
    v = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[r >> 1] << (8 * (r >> 1)) |
        (uint64_t)(unsigned char)p[r - 1] << (8 * (r - 1));
  else
    v = 0;
  return r >= 8 ? v : v | (0x2020202020202020ull << (8 * r));
}
#endif

#if RK_WIDE
/* The classes of blk_lower for 64 bytes in one register, lowered in
 * place. */
__attribute__((target("avx512f,avx512bw"))) static inline void lower_w(__m512i *v,
                                                                      lc_masks *m) {
  __m512i x = *v;
  x = _mm512_mask_add_epi8(x, RK_W_IN(x, 'A', 'Z'), x, _mm512_set1_epi8(0x20));
  uint64_t wd = RK_W_IN(x, 'a', 'z') | RK_W_IN(x, '0', '9');
  uint64_t spc = RK_W_EQ(x, ' ') | RK_W_IN(x, 9, 13) | RK_W_IN(x, 0x1C, 0x1F);
  uint64_t print = RK_W_IN(x, 0x21, 0x7E);
  m->word = wd;
  m->space = spc;
  m->punct = print & ~wd;
  m->odd = ~(print | spc);
  *v = x;
}

/* blk_lower with AVX-512BW: the block in one register (a masked load
 * past the end of the text, which reads nothing there), the classes as
 * mask registers. */
__attribute__((target("avx512f,avx512bw,bmi2"), noinline)) static void blk_lower_w(
    const char *p, size_t n, size_t base, char *s, lc_masks *m) {
  __m512i x;
  if (base + 64 <= n)
    x = _mm512_loadu_si512((const void *)(p + base));
  else
    x = _mm512_mask_loadu_epi8(_mm512_set1_epi8(' '),
                               _bzhi_u64(~0ull, (unsigned)(base < n ? n - base : 0)),
                               (const void *)(p + base));
  lower_w(&x, m);
  _mm512_storeu_si512((void *)(s + base), x);
}

/* rk__ovl_squad_key in registers (AVX-512 VBMI2): the text, lowered, in
 * one register; the Latin-1 letters U+00C0..U+00FF but x and / (C3 80..BF
 * but C3 97, C3 B7) are word bytes, U+00C0..U+00DE lowered (+0x20 to the
 * second byte), as on the one-pass path; punctuation compressed out; an
 * article is a word run that starts with a, an or the and ends right
 * after it; the key keeps the other runs' bytes and one space after each
 * run but the last. */
__attribute__((target("avx512f,avx512bw,avx512vbmi2,bmi,bmi2"))) static int squad_key_w(
    const char *p, size_t n, char *key, size_t *len, size_t *ntok) {
  const __m512i sp = _mm512_set1_epi8(' ');
  __m512i x = _mm512_mask_loadu_epi8(sp, _bzhi_u64(~0ull, (unsigned)n), (const void *)p);
  lc_masks m;
  lower_w(&x, &m);
  if (m.odd) {
    uint64_t l2 = (RK_W_EQ(x, 0xC3) << 1) & RK_W_IN(x, 0x80, 0xBF) & ~RK_W_EQ(x, 0x97) &
                  ~RK_W_EQ(x, 0xB7);
    if (m.odd & ~(l2 | l2 >> 1)) return 0; /* controls, DEL, other non-ASCII */
    x = _mm512_mask_add_epi8(x, l2 & RK_W_IN(x, 0x80, 0x9E), x, _mm512_set1_epi8(0x20));
    m.word |= l2 | l2 >> 1;
  }
  uint64_t keep = ~m.punct; /* punctuation is deleted */
  __m512i y = _mm512_maskz_compress_epi8(keep, x);
  uint64_t w = _pext_u64(m.word, keep); /* word bytes of y (zeros past its end) */
  uint64_t st = w & ~(w << 1), en = w & ~(w >> 1);
  uint64_t a1 = st & en & RK_W_EQ(y, 'a');
  uint64_t a2 = st & RK_W_EQ(y, 'a') & RK_W_EQ(y, 'n') >> 1 & en >> 1;
  uint64_t a3 = st & RK_W_EQ(y, 't') & RK_W_EQ(y, 'h') >> 1 & RK_W_EQ(y, 'e') >> 2 & en >> 2;
  w &= ~(a1 | a2 | a2 << 1 | a3 | a3 << 1 | a3 << 2);
  st = w & ~(w << 1);
  en = w & ~(w >> 1);
  *ntok = (size_t)__builtin_popcountll(st);
  /* a separator after every run that another run follows */
  uint64_t sep = st ? (en << 1) & _bzhi_u64(~0ull, 63u - (unsigned)__builtin_clzll(st)) : 0;
  __m512i z = _mm512_mask_mov_epi8(y, sep, sp);
  _mm512_storeu_si512((void *)key, _mm512_maskz_compress_epi8(w | sep, z));
  *len = (size_t)__builtin_popcountll(w | sep);
  return 1;
}
#endif

/* Lowers the block at p + base (n bytes of text in all; past the end:
 * spaces) into s + base and returns its masks: [a-z0-9] (after lowering),
 * Python whitespace, other printable ASCII (punctuation), and the bytes
 * no fast path takes: controls, DEL, bytes >= 0x80. The text is read in
 * place, never past its end (SSE2: the last partial 16 bytes are gathered
 * with scalar loads, so no copy is needed and no store is read back;
 * AVX-512: blk_lower_w). */
static inline void blk_lower(const char *p, size_t n, size_t base, char *s, lc_masks *m) {
#if RK_WIDE
  if (rk__wide_on(0)) {
    blk_lower_w(p, n, base, s, m);
    return;
  }
#endif
#if defined(__SSE2__)
  uint64_t w = 0, sp = 0, pu = 0, odd = 0;
  for (int k = 0; k < 4; k++) {
    size_t off = base + 16 * (size_t)k;
    v16 x;
    unsigned sh = 16 * (unsigned)k;
    if (off + 16 <= n) {
      x = v_load(p + off);
    } else if (off >= n) { /* all padding: spaces */
      _mm_storeu_si128((__m128i *)(void *)(s + off), _mm_set1_epi8(' '));
      sp |= (uint64_t)0xFFFF << sh;
      continue;
    } else {
      size_t r = n - off;
      uint64_t lo = tail8(p + off, r < 8 ? r : 8),
               hi = r > 8 ? tail8(p + off + 8, r - 8) : 0x2020202020202020ull;
      x = _mm_set_epi64x((long long)hi, (long long)lo);
    }
    x = _mm_or_si128(x, _mm_and_si128(v_in(x, 'A', 'Z'), _mm_set1_epi8(0x20)));
    _mm_storeu_si128((__m128i *)(void *)(s + off), x);
    /* below 0x21 as a signed byte: space, controls and bytes >= 0x80 */
    uint64_t low = v_bits(_mm_cmplt_epi8(x, _mm_set1_epi8(0x21)));
    uint64_t spc = v_bits(v_eq(x, ' '));
    if (low & ~spc) /* other whitespace, controls, non-ASCII: rare */
      spc = v_bits(v_or(v_eq(x, ' '), v_or(v_in(x, 9, 13), v_in(x, 0x1C, 0x1F))));
    uint64_t wd = v_bits(v_or(v_in(x, 'a', 'z'), v_in(x, '0', '9')));
    uint64_t del = v_bits(v_eq(x, 0x7F));
    w |= wd << sh;
    sp |= spc << sh;
    pu |= (~(low | wd | del) & 0xFFFF) << sh;
    odd |= ((low & ~spc) | del) << sh;
  }
  m->word = w;
  m->space = sp;
  m->punct = pu;
  m->odd = odd;
#else
  lc_masks r = {0, 0, 0, 0};
  for (unsigned i = 0; i < BLK; i++) {
    unsigned char c = base + i < n ? (unsigned char)p[base + i] : ' ';
    if (asc_in(c, 'A', 'Z')) c += 32;
    s[base + i] = (char)c;
    uint64_t bit = (uint64_t)1 << i;
    int wd = asc_in(c, 'a', 'z') || asc_in(c, '0', '9');
    if (wd) r.word |= bit;
    if (asc_space(c)) r.space |= bit;
    else if (asc_in(c, 0x21, 0x7E)) {
      if (!wd) r.punct |= bit;
    } else {
      r.odd |= bit;
    }
  }
  *m = r;
#endif
}

/* Appends the tokens of one block to t[nt..]: bit i of st / en = a token
 * starts at / ends just before s[base + i]. *open is the start of a token
 * still open when the previous block ended (SIZE_MAX: none). Returns the
 * new count. */
static inline size_t walk(const char *s, size_t base, uint64_t st, uint64_t en, size_t *open,
                          rk__str *t, size_t nt) {
  if (*open != SIZE_MAX && en) {
    size_t e = base + (size_t)__builtin_ctzll(en);
    en &= en - 1;
    t[nt++] = rk__str_make(s + *open, e - *open);
    *open = SIZE_MAX;
  }
  while (st) {
    size_t b = base + (size_t)__builtin_ctzll(st);
    st &= st - 1;
    if (!en) {
      *open = b;
      break;
    }
    size_t e = base + (size_t)__builtin_ctzll(en);
    en &= en - 1;
    t[nt++] = rk__str_make(s + b, e - b);
  }
  return nt;
}

/* The mask of the low min(n, 8) bytes of a word. */
static inline uint64_t low_bytes(size_t n) {
  return n >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * n)) - 1;
}

/* Hashes of tokens that live in a padded buffer. */
static int hash_all(rk__arena *a, rk__ovl_toks *t) {
  t->h = rk__arena_alloc(a, (t->n ? t->n : 1) * sizeof *t->h);
  if (!t->h) return -1;
  for (size_t i = 0; i < t->n; i++) t->h[i] = rk__ovl_hash_padded(t->t[i].p, t->t[i].n);
  return 0;
}

int rk__ovl_split(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  /* At most one token per two bytes, plus one. The count lives in a
   * local: out->n would be reloaded after every store otherwise. */
  if (toks_alloc(a, out, n / 2 + 1)) return -1;
  rk__str *t = out->t;
  size_t i = 0, nt = 0;
  while (i < n) {
    size_t w = rk__py_space_fast(p + i, n - i);
    if (w) {
      i += w;
      continue;
    }
    size_t b = i;
    while (i < n && !rk__py_space_fast(p + i, n - i)) i++;
    t[nt++] = rk__str_make(p + b, i - b);
  }
  out->n = nt;
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

/* ------------------------------------------------ 13a, zh and intl */

/* The three regex tokenizers of sacreBLEU run a fixed list of re.sub()
 * passes and then split on whitespace. Every pass only inserts spaces, so
 * the result is the input cut at some character boundaries, and the
 * passes reduce to one rule per character, found by following re.sub's
 * left-to-right, non-overlapping matching through the passes:
 *
 * 13a and zh (tokenizer_re.py), on the padded (13a) or stripped (zh) line:
 *   1. ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 ": such a character ("ISO")
 *      stands alone.
 *   2. ([^0-9])([\.,]) -> "\1 \2 ": a '.' or ',' ("DOT") stands alone
 *      when the character before it exists, is not a digit and was not
 *      itself the \2 of a pass-2 match (a DOT right after a matched DOT).
 *      A character that pass 1 padded is seen as its padding space.
 *   3. ([\.,])([^0-9]) -> " \1 \2": a DOT stands alone when pass 2's
 *      output has a non-digit after it. That output has an inserted space
 *      after the DOT if pass 2 matched it or the DOT after it, and the
 *      next input character otherwise; so: matched by pass 2, or followed
 *      by a non-digit. A DOT is never the \2 consumed by a pass-3 match
 *      (pass 2 always puts a space between two DOTs), so consumption
 *      changes nothing.
 *   4. ([0-9])(-) -> "\1 \2 ": a '-' ("DASH") right after a digit stands
 *      alone (passes 1-3 never put a space between a digit and a '-').
 * zh first puts spaces around its "Chinese" characters: they stand alone
 * and, as neighbours, behave exactly as the non-digit, non-DOT characters
 * they are.
 *
 * intl (tokenizer_intl.py, the `regex` module's Unicode categories):
 *   (\P{N})(\p{P}) -> "\1 \2 ", (\p{P})(\P{N}) -> " \1 \2", (\p{S}) -> " \1 "
 * is the same shape with DOT = punctuation (P*), digit = number (N*), ISO
 * = symbol (S*) and no DASH rule, and no padding.
 *
 * "Stands alone" = a token of its own; other characters stay in the
 * whitespace-separated token they are in. Tokens are therefore spans of
 * the text the passes ran on, and nothing is copied. The rules are
 * checked against the pass-by-pass implementation in the fuzz target. */

enum { C_SPACE = 1, C_ISO = 2, C_DOT = 4, C_DIGIT = 8, C_DASH = 16 };
enum { M_13A, M_ZH, M_INTL };

/* ASCII classes of tokenizer_re.py (13a, zh). Bytes >= 0x80 are looked
 * at separately. */
static const unsigned char re_ascii[128] = {
    ['\t'] = C_SPACE, ['\n'] = C_SPACE, ['\v'] = C_SPACE, ['\f'] = C_SPACE, ['\r'] = C_SPACE,
    [0x1C] = C_SPACE, [0x1D] = C_SPACE, [0x1E] = C_SPACE, [0x1F] = C_SPACE, [' '] = C_SPACE,
    ['!'] = C_ISO,    ['"'] = C_ISO,    ['#'] = C_ISO,    ['$'] = C_ISO,    ['%'] = C_ISO,
    ['&'] = C_ISO,    ['('] = C_ISO,    [')'] = C_ISO,    ['*'] = C_ISO,    ['+'] = C_ISO,
    ['/'] = C_ISO,    [':'] = C_ISO,    [';'] = C_ISO,    ['<'] = C_ISO,    ['='] = C_ISO,
    ['>'] = C_ISO,    ['?'] = C_ISO,    ['@'] = C_ISO,    ['['] = C_ISO,    ['\\'] = C_ISO,
    [']'] = C_ISO,    ['^'] = C_ISO,    ['_'] = C_ISO,    ['`'] = C_ISO,    ['{'] = C_ISO,
    ['|'] = C_ISO,    ['}'] = C_ISO,    ['~'] = C_ISO,    ['.'] = C_DOT,    [','] = C_DOT,
    ['-'] = C_DASH,   ['0'] = C_DIGIT,  ['1'] = C_DIGIT,  ['2'] = C_DIGIT,  ['3'] = C_DIGIT,
    ['4'] = C_DIGIT,  ['5'] = C_DIGIT,  ['6'] = C_DIGIT,  ['7'] = C_DIGIT,  ['8'] = C_DIGIT,
    ['9'] = C_DIGIT,
};

/* ASCII classes of tokenizer_intl.py: Unicode categories P* -> DOT,
 * S* -> ISO, N* -> digit (the unit test checks this table against
 * utf8proc_category for all 128 codes). */
static const unsigned char intl_ascii[128] = {
    ['\t'] = C_SPACE, ['\n'] = C_SPACE, ['\v'] = C_SPACE, ['\f'] = C_SPACE, ['\r'] = C_SPACE,
    [0x1C] = C_SPACE, [0x1D] = C_SPACE, [0x1E] = C_SPACE, [0x1F] = C_SPACE, [' '] = C_SPACE,
    ['!'] = C_DOT,    ['"'] = C_DOT,    ['#'] = C_DOT,    ['%'] = C_DOT,    ['&'] = C_DOT,
    ['\''] = C_DOT,   ['('] = C_DOT,    [')'] = C_DOT,    ['*'] = C_DOT,    [','] = C_DOT,
    ['-'] = C_DOT,    ['.'] = C_DOT,    ['/'] = C_DOT,    [':'] = C_DOT,    [';'] = C_DOT,
    ['?'] = C_DOT,    ['@'] = C_DOT,    ['['] = C_DOT,    ['\\'] = C_DOT,   [']'] = C_DOT,
    ['_'] = C_DOT,    ['{'] = C_DOT,    ['}'] = C_DOT,    ['$'] = C_ISO,    ['+'] = C_ISO,
    ['<'] = C_ISO,    ['='] = C_ISO,    ['>'] = C_ISO,    ['^'] = C_ISO,    ['`'] = C_ISO,
    ['|'] = C_ISO,    ['~'] = C_ISO,    ['0'] = C_DIGIT,  ['1'] = C_DIGIT,  ['2'] = C_DIGIT,
    ['3'] = C_DIGIT,  ['4'] = C_DIGIT,  ['5'] = C_DIGIT,  ['6'] = C_DIGIT,  ['7'] = C_DIGIT,
    ['8'] = C_DIGIT,  ['9'] = C_DIGIT,
};

int rk__ovl_zh_char(uint32_t u) {
  /* tokenizer_zh.py _is_chinese_char: `start <= ch <= end` over its list
   * of ranges, compared as Python strings. Two entries are written as
   * '\u20000'-'\u2a6d6' and '\u2f800'-'\u2fa1d', which Python reads as
   * two-character strings (U+2000 '0', U+2A6D '6', ...): one character c
   * is >= "\u2000" "0" iff c > U+2000, and <= "\u2a6d" "6" iff c <=
   * U+2A6D. So U+2001-U+2A6D (general punctuation, currency, arrows,
   * mathematical operators, ...) counts as Chinese and CJK Extension B
   * (U+20000-U+2A6D6) does not. The ranges as sacreBLEU has them, merged
   * where they touch or overlap: */
  static const uint32_t r[][2] = {
      {0x2001, 0x2A6D}, {0x2E80, 0x2FDF}, {0x2FF0, 0x303F}, {0x3100, 0x312F},
      {0x31A0, 0x31EF}, {0x3200, 0x4DB5}, {0x4E00, 0x9FBB}, {0xF900, 0xFA2D},
      {0xFA30, 0xFA6A}, {0xFA70, 0xFAD9}, {0xFE10, 0xFE1F}, {0xFE30, 0xFE4F},
      {0xFF00, 0xFFEF},
  };
  if (u < 0x2001 || u > 0xFFEF) return 0;
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
    if (u >= r[i][0] && u <= r[i][1]) return 1;
  return 0;
}

/* Class and byte length of the character at p[0..n), n >= 1. */
static inline unsigned re_class(int mode, const char *p, size_t n, size_t *len) {
  unsigned char c = (unsigned char)p[0];
  if (c < 0x80) {
    *len = 1;
    return mode == M_INTL ? intl_ascii[c] : re_ascii[c];
  }
  if (rk__py_space_class[c] == 2) {
    size_t w = rk__py_space(p, n);
    if (w) {
      *len = w;
      return C_SPACE;
    }
  }
  if (mode == M_13A) {
    /* No rule of 13a looks at a non-ASCII character beyond "not a digit,
     * not a DOT": going byte by byte gives the same cuts. */
    *len = 1;
    return 0;
  }
  uint32_t u = rk__ovl_cp(p, n, len);
  if (u >= 0x110000u) return 0; /* a stray byte: no category */
  if (mode == M_ZH) return rk__ovl_zh_char(u) ? C_ISO : 0;
  switch (utf8proc_category((utf8proc_int32_t)u)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return C_DOT;
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
      return C_ISO;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return C_DIGIT;
    default:
      return 0;
  }
}

/* The cuts described above over p[0..n). `pad`: the text is read as if a
 * space stood before and after it (13a's f" {line} "). */
static int re_cut(rk__arena *a, const char *p, size_t n, int mode, int pad, rk__ovl_toks *out) {
  /* At most one token per byte. */
  if (toks_alloc(a, out, n + 1)) return -1;
  rk__str *t = out->t;
  size_t nt = 0, i = 0, start = 0;
  int in_tok = 0;
  /* The previous character: exists, is a digit, is a DOT pass 2 matched. */
  int have_prev = pad, prev_digit = 0, prev_dotm = 0;
  while (i < n) {
    size_t l;
    unsigned c = re_class(mode, p + i, n - i, &l);
    if (c & C_SPACE) {
      if (in_tok) t[nt++] = rk__str_make(p + start, i - start);
      in_tok = 0;
      have_prev = 1;
      prev_digit = prev_dotm = 0;
      i += l;
      continue;
    }
    int alone = (c & C_ISO) != 0, dotm = 0;
    if (c & C_DOT) {
      dotm = have_prev && !prev_digit && !prev_dotm;
      if (dotm) {
        alone = 1;
      } else if (i + l < n) {
        size_t l2;
        alone = !(re_class(mode, p + i + l, n - i - l, &l2) & C_DIGIT);
      } else {
        alone = pad;
      }
    } else if ((c & C_DASH) && prev_digit) {
      alone = 1;
    }
    if (alone) {
      if (in_tok) t[nt++] = rk__str_make(p + start, i - start);
      in_tok = 0;
      t[nt++] = rk__str_make(p + i, l);
    } else if (!in_tok) {
      start = i;
      in_tok = 1;
    }
    have_prev = 1;
    prev_digit = (c & C_DIGIT) != 0;
    prev_dotm = dotm;
    i += l;
  }
  if (in_tok) t[nt++] = rk__str_make(p + start, n - start);
  out->n = nt;
  return 0;
}

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

/* Masks of one block for 13a: whitespace, ISO, DOT, digit, DASH, and
 * bytes >= 0x80 (which the fast path leaves to re_cut). */
typedef struct re_masks {
  uint64_t space, iso, dot, digit, dash, high;
} re_masks;

static inline void blk_13a(const char *s, re_masks *m) {
#if defined(__SSE2__)
  re_masks r = {0, 0, 0, 0, 0, 0};
  for (int k = 0; k < 4; k++) {
    v16 x = v_load(s + 16 * k);
    unsigned sh = 16 * (unsigned)k;
    r.space |= v_bits(v_or(v_eq(x, ' '), v_or(v_in(x, 9, 13), v_in(x, 0x1C, 0x1F)))) << sh;
    v16 iso = v_or(v_or(v_in(x, 0x21, 0x26), v_in(x, 0x28, 0x2B)),
                   v_or(v_or(v_eq(x, 0x2F), v_in(x, 0x3A, 0x40)),
                        v_or(v_in(x, 0x5B, 0x60), v_in(x, 0x7B, 0x7E))));
    r.iso |= v_bits(iso) << sh;
    r.dot |= v_bits(v_or(v_eq(x, '.'), v_eq(x, ','))) << sh;
    r.digit |= v_bits(v_in(x, '0', '9')) << sh;
    r.dash |= v_bits(v_eq(x, '-')) << sh;
    r.high |= v_bits(x) << sh;
  }
  *m = r;
#else
  re_masks r = {0, 0, 0, 0, 0, 0};
  for (unsigned i = 0; i < BLK; i++) {
    unsigned char c = (unsigned char)s[i];
    uint64_t bit = (uint64_t)1 << i;
    if (c >= 0x80) {
      r.high |= bit;
      continue;
    }
    unsigned k = re_ascii[c];
    if (k & C_SPACE) r.space |= bit;
    if (k & C_ISO) r.iso |= bit;
    if (k & C_DOT) r.dot |= bit;
    if (k & C_DIGIT) r.digit |= bit;
    if (k & C_DASH) r.dash |= bit;
  }
  *m = r;
#endif
}

/* re_cut(M_13A, padded) on ASCII text, a block at a time, with the rules
 * as bit operations (bit i - 1 of a "prev" mask is the character before
 * i, carried across blocks; the pad before the text is a space):
 *   dotm  = DOT & ~prev digit            (pass 2)
 *   alone = ISO | DOT & (dotm | ~next digit) | DASH & prev digit
 * A DOT right after a DOT makes pass 2 depend on its own earlier matches:
 * such text goes to re_cut. Returns 1 (done), 0 (not taken) or -1. */
static int tok13a_fast(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  size_t nb = 0;
  char *s = pad_copy(a, p, n, &nb);
  if (!s) return -1;
  re_masks *m = rk__arena_alloc(a, nb * sizeof *m);
  if (!m) return -1;
  for (size_t b = 0; b < nb; b++) {
    blk_13a(s + b * BLK, &m[b]);
    if (m[b].high) return 0;
  }
  if (toks_alloc(a, out, n + 1)) return -1;
  rk__str *t = out->t;
  size_t nt = 0, open = SIZE_MAX;
  uint64_t c_space = 1, c_alone = 0, c_digit = 0, c_dot = 0; /* bit 63 of the previous block */
  for (size_t b = 0; b < nb; b++) {
    const re_masks *k = &m[b];
    uint64_t pdig = k->digit << 1 | c_digit, pdot = k->dot << 1 | c_dot;
    if (k->dot & pdot) return 0;
    uint64_t ndig = k->digit >> 1 | (b + 1 < nb ? m[b + 1].digit << 63 : 0);
    uint64_t dotm = k->dot & ~pdig;
    uint64_t alone = k->iso | (k->dot & (dotm | ~ndig)) | (k->dash & pdig);
    uint64_t psp = k->space << 1 | c_space;
    uint64_t cut = k->space | psp | alone | (alone << 1 | c_alone);
    nt = walk(s, b * BLK, ~k->space & cut, ~psp & cut, &open, t, nt);
    c_space = k->space >> 63;
    c_alone = alone >> 63;
    c_digit = k->digit >> 63;
    c_dot = k->dot >> 63;
  }
  out->n = nt;
  return hash_all(a, out) ? -1 : 1;
}

/* tokenizer_13a.py's rewriting: remove "<skipped>", drop "-\n", "\n" ->
 * " ", and when '&' occurs unescape &quot; &amp; &lt; &gt; (in that
 * order). Only when one of '<', '\n', '&' occurs is there anything to
 * rewrite; then *p becomes an arena copy. Returns 0 or -1. */
static int rewrite13a(rk__arena *a, const char **pp, size_t *pn) {
  const char *p = *pp;
  size_t n = *pn;
  if (!n || !(memchr(p, '<', n) || memchr(p, '\n', n) || memchr(p, '&', n))) return 0;
  char *s = rk__arena_alloc(a, n + 1);
  if (!s) return -1;
  memcpy(s, p, n);
  size_t m = n;
  if (memchr(s, '<', m)) m = replace_all(s, m, "<skipped>", "");
  if (memchr(s, '\n', m)) {
    m = replace_all(s, m, "-\n", "");
    for (size_t i = 0; i < m; i++)
      if (s[i] == '\n') s[i] = ' ';
  }
  if (memchr(s, '&', m)) {
    m = replace_all(s, m, "&quot;", "\"");
    m = replace_all(s, m, "&amp;", "&");
    m = replace_all(s, m, "&lt;", "<");
    m = replace_all(s, m, "&gt;", ">");
  }
  *pp = s;
  *pn = m;
  return 0;
}

int rk__ovl_tok13a(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  if (rewrite13a(a, &p, &n)) return -1;
  int r = tok13a_fast(a, p, n, out);
  if (r) return r < 0 ? -1 : 0;
  return re_cut(a, p, n, M_13A, 1, out);
}

int rk__ovl_tok13a_chars(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  if (rewrite13a(a, &p, &n)) return -1;
  return re_cut(a, p, n, M_13A, 1, out);
}

int rk__ovl_tokzh(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  /* tokenizer_zh.py: line.strip(), spaces around Chinese characters, then
   * tokenizer_re.py's passes without 13a's rewriting and padding. */
  while (n) {
    size_t w = rk__py_space_fast(p, n);
    if (!w) break;
    p += w;
    n -= w;
  }
  rk__str s = rk__ovl_rstrip(rk__str_make(p, n));
  return re_cut(a, s.p, s.n, M_ZH, 0, out);
}

int rk__ovl_tokintl(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  return re_cut(a, p, n, M_INTL, 0, out);
}

/* Byte length of the character at p[0..n). */
static size_t chlen(const char *p, size_t n) {
  if ((unsigned char)p[0] < 0x80) return 1;
  size_t l;
  rk__ovl_cp(p, n, &l);
  return l;
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

/* ------------------------------------------------------------- SQuAD */

/* Byte classes of the one-pass SQuAD tokenizer. */
enum { SQ_OTHER = 0, SQ_SPACE, SQ_PUNCT, SQ_WORD, SQ_HIGH };

/* Classes of the 128 ASCII codes: 1 = Python whitespace, 2 =
 * string.punctuation, 3 = [0-9A-Za-z], 0 = the rest (control characters,
 * DEL). */
static const unsigned char sq_class[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0,  /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1,  /* 0x10 */
    1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,  /* 0x20 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2,  /* 0x30 */
    2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,  /* 0x40 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2,  /* 0x50 */
    2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,  /* 0x60 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 0,  /* 0x70 */
};

/* SQuAD on printable ASCII and whitespace: tokens are the runs of
 * non-space bytes of the lowered copy; a run with punctuation in it is
 * compacted in place ("U.S.A." -> "usa"); what is left is all [a-z0-9],
 * one \w run, so it is an article exactly when it is a, an or the.
 * Returns 1 (done), 0 (not taken) or -1. */
static int squad_fast(rk__arena *a, rk__str in, rk__ovl_toks *out) {
  /* One allocation: the padded copy, the punctuation and space masks of
   * its blocks (one spare word each), the tokens and their hashes. */
  size_t nb = in.n / BLK + 1, cap = in.n / 2 + 1;
  size_t text = (nb * BLK + PAD + 15) & ~(size_t)15;
  char *s = rk__arena_alloc(a, text + 2 * (nb + 1) * 8 + cap * (sizeof(rk__str) + 8));
  if (!s) return -1;
  uint64_t *pm = (uint64_t *)(void *)(s + text), *sm = pm + nb + 1, *h = sm + nb + 1;
  rk__str *t = (rk__str *)(void *)(h + cap);
  memset(s + nb * BLK, ' ', PAD);
  /* Punctuation inside a token ("U.S.A.", "3.5": a word, punctuation,
   * a word, no space) is rare. Without it, deleting the punctuation and
   * splitting leaves exactly the runs of [a-z0-9]: found with one carry
   * per run (a run of punctuation that starts right after a word byte,
   * plus its start bit, carries to the byte after it). */
  uint64_t inside = 0, wcarry = 0;
  for (size_t b = 0; b < nb; b++) {
    lc_masks m;
    blk_lower(in.p, in.n, b * BLK, s, &m);
    if (m.odd) return 0;
    pm[b] = m.punct;
    sm[b] = m.space;
    uint64_t ps = m.punct & (m.word << 1 | wcarry);
    inside |= ((ps + m.punct) & ~m.punct & m.word) | (m.punct >> 63); /* a run may go on */
    wcarry = m.word >> 63;
  }
  pm[nb] = 0;
  if (!inside) {
    /* tokens = the word runs; only articles are dropped */
    size_t kept = 0, open = SIZE_MAX;
    uint64_t carry = 0;
    for (size_t b = 0; b < nb; b++) {
      uint64_t w = ~(pm[b] | sm[b]), prev = w << 1 | carry, st = w & ~prev, en = ~w & prev;
      carry = w >> 63;
      size_t base = b * BLK;
      for (;;) {
        size_t off;
        if (open != SIZE_MAX) {
          if (!en) break;
          off = open;
          open = SIZE_MAX;
        } else {
          if (!st) break;
          off = base + (size_t)__builtin_ctzll(st);
          st &= st - 1;
          if (!en) {
            open = off;
            break;
          }
        }
        size_t len = base + (size_t)__builtin_ctzll(en) - off;
        en &= en - 1;
        const char *q = s + off;
        uint64_t v = rk__ovl_le64(q) & low_bytes(len), key = v | (uint64_t)len << 56;
        int drop = (key == ((uint64_t)1 << 56 | 'a')) | (key == ((uint64_t)2 << 56 | 0x6E61)) |
                   (key == ((uint64_t)3 << 56 | 0x656874)); /* a, an, the */
        t[kept] = rk__str_make(q, len);
        h[kept] = rk__ovl_hash_padded(q, len);
        kept += !drop;
      }
    }
    out->t = t;
    out->h = h;
    out->id = NULL;
    out->n = kept;
    return 1;
  }
  /* Per token, written to run without branches in the common cases: no
   * punctuation, or only trailing punctuation (which just shortens it). */
  /* Per token, written to run without branches in the common cases: no
   * punctuation, or only trailing punctuation (which just shortens it). */
  size_t k = 0, open = SIZE_MAX;
  uint64_t carry = 0;
  for (size_t b = 0; b < nb; b++) {
    uint64_t tok = ~sm[b], prev = tok << 1 | carry, st = tok & ~prev, en = ~tok & prev;
    carry = tok >> 63;
    size_t base = b * BLK;
    for (;;) {
      size_t off, end;
      if (open != SIZE_MAX) {
        if (!en) break;
        off = open;
        open = SIZE_MAX;
      } else {
        if (!st) break;
        off = base + (size_t)__builtin_ctzll(st);
        st &= st - 1;
        if (!en) {
          open = off;
          break;
        }
      }
      end = base + (size_t)__builtin_ctzll(en);
      en &= en - 1;
      char *q = s + off;
      size_t len = end - off, o = off & 63, bl = off >> 6;
      /* punctuation bits of the token (it may straddle two blocks) */
      uint64_t has = pm[bl] >> o | (pm[bl + 1] << 1) << (63 - o);
      if (len < 64) has &= ((uint64_t)1 << len) - 1;
      /* first punctuation byte, or len when none (no branch: the bit at
       * len stands in) */
      size_t first = (size_t)__builtin_ctzll(has | (uint64_t)1 << (len & 63));
      int tail = (len < 64) & ((has >> (first & 63)) ==
                               ((((uint64_t)2 << ((len - 1 - first) & 63)) - 1) &
                                (0 - (uint64_t)(first < len))));
      if (!tail) { /* punctuation inside ("U.S.A.", "3.5"), or a long token */
        size_t w = 0;
        for (size_t j = 0; j < len; j++) {
          unsigned char c = (unsigned char)q[j];
          q[w] = (char)c;
          w += asc_in(c, 'a', 'z') || asc_in(c, '0', '9');
        }
        first = w;
      }
      len = first;
      uint64_t v = rk__ovl_le64(q) & low_bytes(len);
      /* only [a-z0-9] left: an article exactly when it is a, an or the */
      uint64_t key = v | (uint64_t)len << 56;
      int drop = (len == 0) | (key == ((uint64_t)1 << 56 | 'a')) |
                 (key == ((uint64_t)2 << 56 | 0x6E61)) |  /* "an" */
                 (key == ((uint64_t)3 << 56 | 0x656874)); /* "the" */
      t[k] = rk__str_make(q, len);
      h[k] = rk__ovl_hash_padded(q, len);
      k += !drop;
    }
  }
  out->t = t;
  out->h = h;
  out->id = NULL;
  out->n = k;
  return 1;
}

int rk__ovl_squad_key(const char *p, size_t n, char key[64], size_t *len, size_t *ntok) {
#if RK_WIDE
  if (n < 64 && rk__wide_on(RK__WIDE_VBMI2)) return squad_key_w(p, n, key, len, ntok);
#else
  (void)p, (void)n, (void)key, (void)len, (void)ntok;
#endif
  return 0;
}

int rk__ovl_squad_tokens(rk__arena *a, rk__str s, rk__ovl_toks *out) {
  int r = squad_fast(a, s, out);
  if (r) return r < 0 ? -1 : 0;
  /* lower(), remove_punc, \b(a|an|the)\b -> " " and split() in one pass
   * over ASCII text; the first byte >= 0x80 sends the whole text to the
   * shared Unicode normaliser instead.
   *
   * Deleted punctuation joins its neighbours ("a.b" -> "ab"); a run of
   * [a-z0-9] is a \w run (punctuation, '_' included, is gone); other
   * bytes (control characters, DEL) are neither word nor space: they stay
   * in tokens but end a \w run. A \w run that is an article is replaced
   * by a space: it ends the token before it. */
  char *buf = rk__arena_alloc(a, s.n + 1);
  rk__str *t = rk__arena_alloc(a, (s.n / 2 + 1) * sizeof *t);
  out->t = t;
  out->id = NULL;
  out->h = NULL;
  out->n = 0;
  if (!buf || !t) return -1;
  const unsigned char *p = (const unsigned char *)s.p;
  size_t n = s.n, k = 0, nt = 0;
  size_t tok = SIZE_MAX, run = SIZE_MAX; /* starts in buf, SIZE_MAX = none */
  /* Ends the \w run at buf[run..k): an article is removed and cuts. */
#define SQ_END_RUN()                                                              \
  do {                                                                            \
    if (run != SIZE_MAX) {                                                        \
      size_t l_ = k - run;                                                        \
      const char *w_ = buf + run;                                                 \
      if ((l_ == 1 && w_[0] == 'a') || (l_ == 2 && w_[0] == 'a' && w_[1] == 'n') || \
          (l_ == 3 && w_[0] == 't' && w_[1] == 'h' && w_[2] == 'e')) {            \
        if (run > tok) t[nt++] = rk__str_make(buf + tok, run - tok);              \
        k = run;                                                                  \
        tok = SIZE_MAX;                                                           \
      }                                                                           \
      run = SIZE_MAX;                                                             \
    }                                                                             \
  } while (0)
  for (size_t i = 0; i < n; i++) {
    unsigned char c = p[i];
    switch (c < 0x80 ? sq_class[c] : SQ_HIGH) {
      case SQ_WORD:
        if (run == SIZE_MAX) {
          run = k;
          if (tok == SIZE_MAX) tok = k;
        }
        buf[k++] = (char)(c | ((c >= 'A' && c <= 'Z') ? 0x20 : 0));
        break;
      case SQ_PUNCT:
        break;
      case SQ_SPACE:
        SQ_END_RUN();
        if (tok != SIZE_MAX) t[nt++] = rk__str_make(buf + tok, k - tok);
        tok = SIZE_MAX;
        break;
      case SQ_OTHER:
        SQ_END_RUN();
        if (tok == SIZE_MAX) tok = k;
        buf[k++] = (char)c;
        break;
      default: { /* SQ_HIGH */
        /* U+00C0..U+00FF but the signs U+00D7 and U+00F7 (C3 80..BF):
         * letters, so \w, neither space nor string.punctuation; lower()
         * adds 0x20 to U+00C0..U+00DE. The accented letters of Western
         * European text stay on this path. */
        const unsigned char d = i + 1 < n ? p[i + 1] : 0;
        if (c == 0xC3 && (d & 0xC0) == 0x80 && d != 0x97 && d != 0xB7) {
          if (run == SIZE_MAX) {
            run = k;
            if (tok == SIZE_MAX) tok = k;
          }
          buf[k++] = (char)c;
          buf[k++] = (char)(d < 0x9F ? d + 0x20 : d);
          i++;
          break;
        }
        rk__str nm;
        if (rk__normalize_squad(a, s, &nm)) return -1;
        return rk__ovl_split(a, nm.p, nm.n, out);
      }
    }
  }
  SQ_END_RUN();
  if (tok != SIZE_MAX) t[nt++] = rk__str_make(buf + tok, k - tok);
#undef SQ_END_RUN
  out->n = nt;
  return 0;
}

/* ------------------------------------------------------------- rouge */

static int uni_word(uint32_t u) {
  if (u >= 0x110000u) return 0;
  utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)u);
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO);
}

/* rouge-score's tokenizer on ASCII text (both modes agree there): the
 * lowered copy's [a-z0-9] runs. Returns 1 (done), 0 (not ASCII) or -1. */
static int tokrouge_fast(rk__arena *a, const char *p, size_t n, rk__ovl_toks *out) {
  size_t nb = n / BLK + 1;
  char *s = rk__arena_alloc(a, nb * BLK + PAD);
  if (!s || toks_alloc(a, out, n / 2 + 2)) return -1;
  memset(s + nb * BLK, ' ', PAD);
  rk__str *t = out->t;
  size_t nt = 0, open = SIZE_MAX;
  uint64_t carry = 0;
  for (size_t b = 0; b < nb; b++) {
    lc_masks m;
    blk_lower(p, n, b * BLK, s, &m);
    /* Printable ASCII and whitespace are the only bytes both modes treat
     * alike (controls are separators too, but rare: leave them). */
    if (m.odd) return 0;
    uint64_t prev = m.word << 1 | carry;
    nt = walk(s, b * BLK, m.word & ~prev, ~m.word & prev, &open, t, nt);
    carry = m.word >> 63;
  }
  out->n = nt;
  return hash_all(a, out) ? -1 : 1;
}

/* rouge-score's tokenizer character by character (the definition; any
 * text). */
int rk__ovl_tokrouge_chars(rk__arena *a, const char *p, size_t n, int unicode,
                           rk__ovl_toks *out) {
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
      utf8proc_int32_t lw;
      if (u == 0x130)
        lw = 'i';
      else if (u == RK__SIGMA_CAPITAL) /* lower() of the whole text */
        lw = (utf8proc_int32_t)rk__pycase_sigma_utf8(p, n, i - l);
      else
        lw = utf8proc_tolower((utf8proc_int32_t)u);
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
  return 0;
}

int rk__ovl_tokrouge(rk__arena *a, const char *p, size_t n, int stem,
                     int unicode, rk__ovl_toks *out) {
  int r = tokrouge_fast(a, p, n, out);
  if (r < 0 || (!r && rk__ovl_tokrouge_chars(a, p, n, unicode, out))) return -1;
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
      if (out->h) out->h[j] = rk__ovl_hash(s, sn);
    }
  }
  return 0;
}
