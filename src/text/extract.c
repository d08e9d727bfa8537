/*
 * extract.c - final-answer extraction (extract.h, docs/extraction.md).
 *
 * No regex library: each mode is a hand-written scan that searches from
 * the END of the response (the answer is near the end), using memrchr to
 * jump between candidate bytes, so a 3 KB response costs well under a
 * microsecond. Every mode is linear in the response; the step budget is
 * charged about one step per byte examined.
 *
 * Not for: normalising or comparing answers (text/normalize.h and the
 * reward functions do that).
 */
#define _GNU_SOURCE /* memrchr */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "text/extract.h"
#include "text/normalize.h"

/* Result of one mode. MALFORMED means the source is present but holds no
 * usable answer (an empty or unbalanced \boxed, an empty <answer></answer>):
 * extraction stops there instead of falling back to a weaker source, so
 * that a broken final answer is never replaced by text from elsewhere. */
enum { EX_ABSENT = 0, EX_FOUND = 1, EX_MALFORMED = 2 };

typedef struct ex {
  const rk__extract_cfg *cfg;
  rk__call *c;
  const char *p; /* the window searched (the whole response or its tail) */
  size_t n;
  uint64_t steps; /* bytes examined, charged to the budget per mode */
  rk__str out;
  const char *why;    /* reason for MALFORMED (static) */
  int no_answer_word; /* the window has no "answer" at all (saves a scan) */
} ex;

static const char *const mode_names[RK__EX__COUNT] = {
    "auto",         "none",           "boxed",       "answer_tag", "answer_line", "answer_is",
    "gsm8k_strict", "gsm8k_flexible", "last_number", "bold",       "code_block",  "json"};

const char *rk__ex_mode_name(rk__ex_mode m) {
  return (unsigned)m < RK__EX__COUNT ? mode_names[m] : "?";
}

/* The auto cascade (data README rule 1: the first source present wins). */
static const rk__ex_mode auto_modes[] = {RK__EX_BOXED, RK__EX_ANSWER_TAG, RK__EX_ANSWER_IS,
                                         RK__EX_ANSWER_LINE, RK__EX_BOLD};
#define N_AUTO (sizeof auto_modes / sizeof auto_modes[0])

/* ------------------------------------------------------------ helpers */

static inline int is_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}
static inline int is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
static inline int is_alpha(unsigned char c) {
  return ((c | 32) >= 'a' && (c | 32) <= 'z');
}
static inline unsigned char lower(unsigned char c) {
  return (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

static rk__str trim(const char *p, size_t n) {
  while (n && is_space((unsigned char)p[0])) p++, n--;
  while (n && is_space((unsigned char)p[n - 1])) n--;
  return rk__str_make(p, n);
}

static inline const char *rchr(const char *p, int ch, size_t n) {
  return n ? memrchr(p, ch, n) : NULL;
}

/* Last occurrence of needle (exact) in p[0..n), or -1. */
static long rfind(ex *e, const char *p, size_t n, const char *needle, size_t len) {
  size_t end = n;
  while (end >= len) {
    const char *q = rchr(p, needle[0], end - len + 1);
    if (!q) {
      e->steps += end;
      return -1;
    }
    size_t i = (size_t)(q - p);
    if (memcmp(q, needle, len) == 0) {
      e->steps += n - i;
      return (long)i;
    }
    end = i + len - 1;
  }
  e->steps += n;
  return -1;
}

/* Backward stream of positions holding either case of an ASCII letter:
 * two memrchr streams merged, each byte scanned once per stream. */
typedef struct ci_stream {
  const char *p;
  const char *lo, *up; /* next candidates (NULL when exhausted) */
} ci_stream;

static void ci_init(ci_stream *s, const char *p, size_t n, char letter) {
  s->p = p;
  s->lo = rchr(p, lower((unsigned char)letter), n);
  s->up = rchr(p, lower((unsigned char)letter) - 32, n);
}

/* Next candidate position (descending), or -1. */
static long ci_next(ci_stream *s) {
  const char *q;
  if (!s->lo && !s->up) return -1;
  if (!s->up || (s->lo && s->lo > s->up)) {
    q = s->lo;
    s->lo = rchr(s->p, *q, (size_t)(q - s->p));
  } else {
    q = s->up;
    s->up = rchr(s->p, *q, (size_t)(q - s->p));
  }
  return (long)(q - s->p);
}

static int ci_eq(const char *p, const char *lit, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (lower((unsigned char)p[i]) != (unsigned char)lit[i]) return 0;
  return 1;
}

/* -------------------------------------------------------------- boxed */

/* Last \boxed{...} / \boxed ... / \fbox{...}: braces matched (an escaped
 * \{ or \} does not count); empty or unbalanced = MALFORMED. */
static int ex_boxed(ex *e) {
  const char *p = e->p;
  size_t end = e->n;
  while (end) {
    const char *q = rchr(p, '\\', end);
    if (!q) break;
    size_t i = (size_t)(q - p), j;
    end = i;
    if (e->n - i >= 6 && memcmp(q + 1, "boxed", 5) == 0)
      j = i + 6;
    else if (e->n - i >= 5 && memcmp(q + 1, "fbox", 4) == 0)
      j = i + 5;
    else
      continue;
    if (j < e->n && is_alpha((unsigned char)p[j])) continue; /* \boxedsymbol */
    e->steps += e->n - i;
    size_t k = j;
    while (k < e->n && (p[k] == ' ' || p[k] == '\t')) k++;
    if (k < e->n && p[k] == '{') {
      int depth = 0;
      size_t m;
      for (m = k; m < e->n; m++) {
        char ch = p[m];
        if (ch == '\\') {
          m++;
          continue;
        }
        if (ch == '{')
          depth++;
        else if (ch == '}' && --depth == 0)
          break;
      }
      e->steps += m - k;
      if (m >= e->n) {
        e->why = "the last \\boxed has unbalanced braces";
        return EX_MALFORMED;
      }
      e->out = trim(p + k + 1, m - k - 1);
      if (!e->out.n) {
        e->why = "the last \\boxed is empty";
        return EX_MALFORMED;
      }
      return EX_FOUND;
    }
    if (k > j) {
      /* "\boxed 5$": lm-eval reads up to the next '$'; we also stop at a
       * newline. */
      size_t m = k;
      while (m < e->n && p[m] != '$' && p[m] != '\n') m++;
      e->steps += m - k;
      e->out = trim(p + k, m - k);
      if (e->out.n) return EX_FOUND;
    }
    e->why = "the last \\boxed has no argument";
    return EX_MALFORMED;
  }
  e->steps += e->n;
  return EX_ABSENT;
}

/* --------------------------------------------------------- answer tag */

/* Last <answer>...</answer>: the last opening tag that has a closing tag
 * after it, up to the first closing tag (regex `<answer>(.*?)</answer>`,
 * last match). An unterminated tag alone is ABSENT; an empty pair is
 * MALFORMED. */
static int ex_answer_tag(ex *e) {
  const char *open = e->cfg->open_tag ? e->cfg->open_tag : "<answer>";
  const char *close = e->cfg->close_tag ? e->cfg->close_tag : "</answer>";
  size_t ol = strlen(open), cl = strlen(close);
  long c = rfind(e, e->p, e->n, close, cl);
  if (c < 0) return EX_ABSENT;
  long o = rfind(e, e->p, (size_t)c, open, ol);
  if (o < 0) return EX_ABSENT;
  size_t start = (size_t)o + ol;
  /* First closing tag after the opener (non-greedy .*?). */
  const char *q = e->p + start;
  size_t room = (size_t)c + cl - start;
  const char *f = cl <= room ? memmem(q, room, close, cl) : NULL;
  size_t stop = f ? (size_t)(f - e->p) : (size_t)c;
  e->steps += stop - start;
  e->out = rk__text_clean(rk__str_make(e->p + start, stop - start));
  if (!e->out.n) {
    e->why = "the last answer tag is empty";
    return EX_MALFORMED;
  }
  return EX_FOUND;
}

/* ------------------------------------------------- "answer is" / line */

/* Span of the line starting at i (to '\n' or the end). */
static size_t line_end(const ex *e, size_t i) {
  const char *nl = memchr(e->p + i, '\n', e->n - i);
  return nl ? (size_t)(nl - e->p) : e->n;
}

/* Last "answer is" (case-insensitive, "answer" not preceded by a letter):
 * "The answer is", "the final answer is", "The correct answer is: (B)".
 * The answer runs to the end of the sentence: a newline, or a '.' that is
 * followed by whitespace or the end. When nothing follows on the line, the
 * next non-empty line is taken ("The answer is:\n$$42$$"). */
static int ex_answer_is(ex *e) {
  if (e->no_answer_word) return EX_ABSENT;
  ci_stream s;
  ci_init(&s, e->p, e->n, 'w');
  e->steps += e->n;
  long w;
  int seen = 0;
  while ((w = ci_next(&s)) >= 0) {
    /* 'w' is the 4th letter of "answer". */
    if (w < 3 || (size_t)w + 3 > e->n) continue;
    size_t a = (size_t)w - 3;
    if (!ci_eq(e->p + a, "answer", 6)) continue;
    seen = 1;
    if (a > 0 && is_alpha((unsigned char)e->p[a - 1])) continue;
    size_t i = a + 6;
    size_t sp = i;
    while (i < e->n && (e->p[i] == ' ' || e->p[i] == '\t')) i++;
    if (i == sp || i + 2 > e->n || !ci_eq(e->p + i, "is", 2)) continue;
    i += 2;
    if (i < e->n && is_alpha((unsigned char)e->p[i])) continue; /* "answer isn't" */
    while (i < e->n && (e->p[i] == ' ' || e->p[i] == '\t' || e->p[i] == ':')) i++;
    size_t le = line_end(e, i);
    if (trim(e->p + i, le - i).n == 0) {
      /* Nothing on this line: take the next non-empty one. */
      size_t k = le;
      while (k < e->n && is_space((unsigned char)e->p[k])) k++;
      if (k >= e->n) continue;
      i = k;
      le = line_end(e, i);
    }
    size_t stop = le;
    for (size_t k = i; k < le; k++)
      if (e->p[k] == '.' && (k + 1 == le || is_space((unsigned char)e->p[k + 1]))) {
        stop = k;
        break;
      }
    e->steps += le - i;
    e->out = rk__text_clean(rk__str_make(e->p + i, stop - i));
    if (e->out.n) return EX_FOUND;
  }
  e->no_answer_word = !seen;
  return EX_ABSENT;
}

/* Last `(?i)Answer\s*:\s*([^\n]+)` (DAPO / Minerva): "Answer" then
 * optional whitespace (newlines too), ':', whitespace, then the rest of
 * that line. An occurrence with nothing after it is skipped. */
static int ex_answer_line(ex *e) {
  if (e->no_answer_word) return EX_ABSENT;
  ci_stream s;
  ci_init(&s, e->p, e->n, 'w');
  e->steps += e->n;
  long w;
  while ((w = ci_next(&s)) >= 0) {
    if (w < 3 || (size_t)w + 3 > e->n) continue;
    size_t a = (size_t)w - 3;
    if (!ci_eq(e->p + a, "answer", 6)) continue;
    size_t i = a + 6;
    while (i < e->n && is_space((unsigned char)e->p[i])) i++;
    if (i >= e->n || e->p[i] != ':') continue;
    i++;
    while (i < e->n && is_space((unsigned char)e->p[i])) i++;
    if (i >= e->n) continue;
    size_t le = line_end(e, i);
    e->steps += le - i;
    e->out = rk__text_clean(rk__str_make(e->p + i, le - i));
    if (e->out.n) return EX_FOUND;
  }
  return EX_ABSENT;
}

/* ------------------------------------------------------------ numbers */

/* Copies s without ',' (and '$') into the arena when it has any. */
static int strip_commas(ex *e, rk__str s, rk__str *out) {
  if (!memchr(s.p, ',', s.n) && !memchr(s.p, '$', s.n)) {
    *out = s;
    return 0;
  }
  char *d = rk__arena_alloc(e->c->arena, s.n);
  if (!d) return -1;
  size_t k = 0;
  for (size_t i = 0; i < s.n; i++)
    if (s.p[i] != ',' && s.p[i] != '$') d[k++] = s.p[i];
  *out = rk__str_make(d, k);
  return 0;
}

static inline int numch(unsigned char c) {
  return is_digit(c) || c == '.' || c == ',';
}

/* Finishes a gsm8k match [a, b): commas dropped, sentence-final dots
 * dropped (verl would keep "72." and then fail the string compare). */
static int gsm8k_finish(ex *e, size_t a, size_t b) {
  while (b > a && e->p[b - 1] == '.') b--;
  int digit = 0;
  for (size_t i = a; i < b; i++) digit |= is_digit((unsigned char)e->p[i]);
  if (!digit) return EX_ABSENT;
  if (strip_commas(e, rk__str_make(e->p + a, b - a), &e->out)) {
    e->why = "out of memory";
    return EX_MALFORMED;
  }
  return EX_FOUND;
}

/* verl gsm8k strict: last `#### (\-?[0-9\.\,]+)`. */
static int ex_gsm8k_strict(ex *e) {
  size_t end = e->n;
  while (end) {
    const char *q = rchr(e->p, '#', end);
    if (!q) break;
    size_t h = (size_t)(q - e->p);
    end = h;
    if (h < 3 || h + 1 >= e->n || e->p[h + 1] != ' ' || memcmp(e->p + h - 3, "###", 3)) continue;
    size_t a = h + 2, b = a;
    if (b < e->n && e->p[b] == '-') b++;
    size_t d = b;
    while (b < e->n && numch((unsigned char)e->p[b])) b++;
    if (b == d) continue;
    e->steps += e->n - (h - 3);
    int r = gsm8k_finish(e, a, b);
    if (r != EX_ABSENT) return r;
  }
  e->steps += e->n;
  return EX_ABSENT;
}

/* Backward scan for the last byte satisfying a digit test. */
static long last_digit(const char *p, size_t n) {
  while (n) {
    n--;
    if (is_digit((unsigned char)p[n])) return (long)n;
  }
  return -1;
}

/* verl gsm8k flexible: the last `(\-?[0-9\.\,]+)` with a digit in it. */
static int ex_gsm8k_flex(ex *e) {
  long d = last_digit(e->p, e->n);
  e->steps += e->n - (d < 0 ? 0 : (size_t)d);
  if (d < 0) return EX_ABSENT;
  size_t b = (size_t)d + 1, a = (size_t)d;
  while (b < e->n && numch((unsigned char)e->p[b])) b++;
  while (a > 0 && numch((unsigned char)e->p[a - 1])) a--;
  if (a > 0 && e->p[a - 1] == '-') a--;
  e->steps += b - a;
  return gsm8k_finish(e, a, b);
}

/* Last number anywhere: `-?digits` with thousands commas (only when every
 * group after the first has 3 digits; otherwise "1,2" is a list and the
 * last item counts), an optional decimal part and an optional exponent. */
static int ex_last_number(ex *e) {
  const char *p = e->p;
  long d = last_digit(p, e->n);
  e->steps += e->n - (d < 0 ? 0 : (size_t)d);
  if (d < 0) return EX_ABSENT;
  size_t b = (size_t)d + 1, a = (size_t)d;
  while (a > 0 && numch((unsigned char)p[a - 1])) a--;
  /* An exponent: "1.5e-3" ends in the digits after 'e'. */
  if (a >= 2 && (p[a - 1] == '-' || p[a - 1] == '+') && (p[a - 2] == 'e' || p[a - 2] == 'E') &&
      a >= 3 && is_digit((unsigned char)p[a - 3])) {
    size_t m = a - 2;
    while (m > 0 && numch((unsigned char)p[m - 1])) m--;
    a = m;
  } else if (a >= 2 && (p[a - 1] == 'e' || p[a - 1] == 'E') && is_digit((unsigned char)p[a - 2])) {
    size_t m = a - 1;
    while (m > 0 && numch((unsigned char)p[m - 1])) m--;
    a = m;
  }
  /* Trim separators at the ends. */
  while (a < b &&
         (p[a] == ',' || (p[a] == '.' && !(a + 1 < b && is_digit((unsigned char)p[a + 1])))))
    a++;
  /* Split the mantissa from an exponent, if any, to validate the grouping. */
  size_t me = a;
  while (me < b && numch((unsigned char)p[me])) me++;
  while (me > a && (p[me - 1] == ',' || p[me - 1] == '.')) {
    if (me == b) b--;
    me--;
  }
  /* Grouping check on the integer part p[a..dot). */
  size_t dot = a;
  while (dot < me && p[dot] != '.') dot++;
  if (dot < me && memchr(p + dot + 1, '.', me - dot - 1)) {
    /* "1.2.3": not one number; keep the last dotted part. */
    const char *ld = rchr(p + a, '.', me - a);
    a = (size_t)(ld - p) + 1;
    dot = me;
  }
  if (memchr(p + a, ',', dot - a)) {
    int ok = 1;
    size_t g = a, first = 1;
    while (g < dot) {
      size_t h = g;
      while (h < dot && p[h] != ',') h++;
      size_t len = h - g;
      if (first ? (len < 1 || len > 3) : len != 3) ok = 0;
      first = 0;
      g = h + 1;
    }
    if (!ok) {
      const char *lc = rchr(p + a, ',', dot - a);
      a = (size_t)(lc - p) + 1;
    }
  }
  if (a > 0 && p[a - 1] == '-') a--;
  e->steps += b - a;
  if (a >= b) return EX_ABSENT;
  rk__str s = rk__str_make(p + a, b - a);
  if (strip_commas(e, s, &e->out)) {
    e->why = "out of memory";
    return EX_MALFORMED;
  }
  return EX_FOUND;
}

/* --------------------------------------------------------------- bold */

/* Position of the last "**" whose second '*' is before end, or -1. */
static long last_stars(ex *e, size_t end) {
  while (end >= 2) {
    const char *q = rchr(e->p, '*', end);
    if (!q) break;
    size_t i = (size_t)(q - e->p);
    if (i >= 1 && e->p[i - 1] == '*') return (long)i - 1;
    end = i;
  }
  return -1;
}

/* Last **...** with non-empty content that does not span a blank line. */
static int ex_bold(ex *e) {
  size_t end = e->n;
  e->steps += e->n;
  for (;;) {
    long c = last_stars(e, end);
    if (c < 0) return EX_ABSENT;
    size_t cz = (size_t)c;
    /* A run of 3+ stars: the closer is its last two. */
    long o = last_stars(e, cz);
    if (o < 0) return EX_ABSENT;
    size_t start = (size_t)o + 2;
    rk__str in = rk__str_make(e->p + start, cz - start);
    end = (size_t)o + 1;
    if (memmem(in.p, in.n, "\n\n", 2)) continue;
    e->out = rk__text_clean(in);
    if (e->out.n) return EX_FOUND;
  }
}

/* --------------------------------------------------------- code block */

/* Backtick run length at p[i]. */
static size_t ticks(const ex *e, size_t i) {
  size_t k = i;
  while (k < e->n && e->p[k] == '`') k++;
  return k - i;
}

/* Last fenced block. Forward pass pairing fences: an opening fence is 3+
 * backticks at the start of a line (after blanks), its info string (the
 * language) is dropped; the closing fence is a run at least as long with
 * nothing but blanks after it on its line. An unterminated last fence
 * means no answer (ABSENT). */
static int ex_code_block(ex *e) {
  const char *p = e->p;
  size_t n = e->n, i = 0;
  int open = 0;
  size_t open_len = 0, body = 0;
  int found = 0;
  rk__str best = {0};
  e->steps += n;
  while (i < n) {
    const char *q = memchr(p + i, '`', n - i);
    if (!q) break;
    size_t t = (size_t)(q - p), len = ticks(e, t);
    i = t + len;
    if (len < 3) continue;
    /* Line start? */
    size_t ls = t;
    while (ls > 0 && (p[ls - 1] == ' ' || p[ls - 1] == '\t')) ls--;
    int at_start = ls == 0 || p[ls - 1] == '\n';
    size_t le = line_end(e, i);
    int rest_blank = trim(p + i, le - i).n == 0;
    if (!open) {
      if (!at_start) continue;
      open = 1;
      open_len = len;
      body = le < n ? le + 1 : n;
      i = le;
    } else if (len >= open_len && rest_blank) {
      size_t bend = t;
      best = rk__str_make(p + body, bend > body ? bend - body : 0);
      found = 1;
      open = 0;
      i = le;
    }
  }
  if (open || !found) return EX_ABSENT;
  /* Keep inner indentation but drop the blank lines around the code. */
  e->out = trim(best.p, best.n);
  return e->out.n ? EX_FOUND : EX_ABSENT;
}

/* --------------------------------------------------------------- json */

#define JSON_MAX_TRIES 16

/* Last balanced {...} or [...] that parses. From each closing bracket
 * (last first) walk back, skipping strings, to the bracket that balances
 * it, then try the JSON reader on that span. */
static int ex_json(ex *e) {
  const char *p = e->p;
  size_t end = e->n;
  for (int tries = 0; tries < JSON_MAX_TRIES && end; tries++) {
    const char *q1 = rchr(p, '}', end), *q2 = rchr(p, ']', end);
    const char *q = q1 > q2 ? q1 : q2;
    if (!q) {
      e->steps += 2 * end;
      break;
    }
    size_t z = (size_t)(q - p);
    e->steps += 2 * (end - z);
    end = z;
    char stack[64];
    int depth = 0, in_str = 0, bad = 0;
    size_t k = z + 1, o = 0;
    int ok = 0;
    while (k-- > 0) {
      char ch = p[k];
      if (ch == '"') {
        size_t bs = 0;
        while (k > bs && p[k - 1 - bs] == '\\') bs++;
        if (!(bs & 1)) in_str = !in_str;
        continue;
      }
      if (in_str) continue;
      if (ch == '}' || ch == ']') {
        if (depth == (int)sizeof stack) {
          bad = 1;
          break;
        }
        stack[depth++] = ch;
      } else if (ch == '{' || ch == '[') {
        if (!depth || stack[depth - 1] != (ch == '{' ? '}' : ']')) {
          bad = 1;
          break;
        }
        if (--depth == 0) {
          o = k;
          ok = 1;
          break;
        }
      }
    }
    e->steps += z + 1 - (ok ? o : 0);
    if (bad || !ok) continue;
    if (!rk__spend(e->c, z + 1 - o)) return EX_ABSENT; /* caller sees TIMEOUT */
    rk__jval *v = NULL;
    rk__json_limits lim = {64, 0};
    if (rk__json_parse(p + o, z + 1 - o, e->c->arena, &lim, &v, NULL) == 0) {
      e->out = rk__str_make(p + o, z + 1 - o);
      return EX_FOUND;
    }
  }
  return EX_ABSENT;
}

/* --------------------------------------------------------------- none */

static int ex_none(ex *e) {
  e->steps += e->n;
  e->out = trim(e->p, e->n);
  return e->out.n ? EX_FOUND : EX_ABSENT;
}

/* ------------------------------------------------------------ driver */

static int run_mode(ex *e, rk__ex_mode m) {
  switch (m) {
    case RK__EX_NONE:
      return ex_none(e);
    case RK__EX_BOXED:
      return ex_boxed(e);
    case RK__EX_ANSWER_TAG:
      return ex_answer_tag(e);
    case RK__EX_ANSWER_LINE:
      return ex_answer_line(e);
    case RK__EX_ANSWER_IS:
      return ex_answer_is(e);
    case RK__EX_GSM8K_STRICT:
      return ex_gsm8k_strict(e);
    case RK__EX_GSM8K_FLEX:
      return ex_gsm8k_flex(e);
    case RK__EX_LAST_NUMBER:
      return ex_last_number(e);
    case RK__EX_BOLD:
      return ex_bold(e);
    case RK__EX_CODE_BLOCK:
      return ex_code_block(e);
    case RK__EX_JSON:
      return ex_json(e);
    default:
      return EX_ABSENT;
  }
}

/* Window for a mode: cfg->tail 0 means the mode's default (the last 300
 * bytes for the gsm8k modes, as verl; everything otherwise); SIZE_MAX
 * (from "tail": 0 in a spec) means the whole response. */
static void set_window(ex *e, rk__str in, rk__ex_mode m) {
  size_t tail = e->cfg->tail;
  const char *p0 = e->p;
  size_t n0 = e->n;
  if (tail == 0 && (m == RK__EX_GSM8K_STRICT || m == RK__EX_GSM8K_FLEX)) tail = 300;
  if (tail && tail < in.n) {
    e->p = in.p + (in.n - tail);
    e->n = tail;
  } else {
    e->p = in.p;
    e->n = in.n;
  }
  if (e->p != p0 || e->n != n0) e->no_answer_word = 0;
}

/* The answer `o` found by mode m: *out, *how and the explanation. */
static rk_status ex_found(rk__call *c, rk__str o, rk__ex_mode m, rk__str *out, const char **how) {
  *out = o;
  if (how) *how = mode_names[m];
  if (rk__explaining(c)) {
    const char *ell = "";
    int k = o.n > 60 ? 60 : (int)o.n;
    while (k > 0 && (size_t)k < o.n && ((unsigned char)o.p[k] & 0xC0) == 0x80) k--;
    if ((size_t)k < o.n) ell = "...";
    rk__explain(c, "extracted '%.*s%s' by %s", k, o.p, ell, mode_names[m]);
  }
  return RK_STATUS_OK;
}

rk_status rk__extract(const rk__extract_cfg *cfg, rk__call *c, rk__str in, rk__str *out,
                      const char **how) {
  ex e;
  if (cfg->nmodes == 1 && cfg->modes[0] == RK__EX_NONE) {
    /* The lone "none" (the text metrics' usual setting) without the mode
     * loop: at 20-100 ns a call its bookkeeping was a third of the
     * cheapest rewards. Same window, steps, result and explanation. */
    e.cfg = cfg;
    e.c = c;
    e.p = NULL;
    e.n = 0;
    e.steps = 0;
    set_window(&e, in, RK__EX_NONE);
    int r = ex_none(&e);
    if (!rk__spend(c, e.steps + 1)) return RK_STATUS_TIMEOUT;
    if (r == EX_FOUND) return ex_found(c, e.out, RK__EX_NONE, out, how);
    *out = rk__str_make(in.p, 0);
    if (how) *how = NULL;
    rk__explain(c, "no answer found (tried %s)", mode_names[RK__EX_NONE]);
    return RK_STATUS_UNPARSEABLE;
  }
  memset(&e, 0, sizeof e);
  e.cfg = cfg;
  e.c = c;
  rk__ex_mode tried[RK__EX_MAX_MODES + N_AUTO];
  int ntried = 0;
  int nmodes = cfg->nmodes > 0 ? cfg->nmodes : 1;
  if (nmodes > RK__EX_MAX_MODES) nmodes = RK__EX_MAX_MODES;
  for (int i = 0; i < nmodes; i++) {
    rk__ex_mode top = cfg->nmodes > 0 ? cfg->modes[i] : RK__EX_AUTO;
    const rk__ex_mode *list = &top;
    size_t nl = 1;
    if (top == RK__EX_AUTO) list = auto_modes, nl = N_AUTO;
    for (size_t j = 0; j < nl; j++) {
      rk__ex_mode m = list[j];
      if (ntried < (int)(sizeof tried / sizeof tried[0])) tried[ntried++] = m;
      set_window(&e, in, m);
      e.steps = 0;
      e.why = NULL;
      int r = run_mode(&e, m);
      if (!rk__spend(c, e.steps + 1)) return RK_STATUS_TIMEOUT;
      if (r == EX_FOUND) return ex_found(c, e.out, m, out, how);
      if (r == EX_MALFORMED) {
        *out = rk__str_make(in.p, 0);
        if (how) *how = mode_names[m];
        rk__explain(c, "no answer: %s", e.why ? e.why : "malformed answer");
        return RK_STATUS_UNPARSEABLE;
      }
    }
  }
  *out = rk__str_make(in.p, 0);
  if (how) *how = NULL;
  if (rk__explaining(c)) {
    char list[256];
    size_t k = 0;
    list[0] = '\0';
    for (int i = 0; i < ntried; i++) {
      const char *nm = mode_names[tried[i]];
      size_t l = strlen(nm);
      if (k + l + 3 >= sizeof list) break;
      if (i) list[k++] = ',', list[k++] = ' ';
      memcpy(list + k, nm, l);
      k += l;
      list[k] = '\0';
    }
    rk__explain(c, "no answer found (tried %s)", list);
  }
  return RK_STATUS_UNPARSEABLE;
}

/* ------------------------------------------------------------ compile */

static int mode_by_name(const char *z, rk__ex_mode *m) {
  for (int i = 0; i < RK__EX__COUNT; i++)
    if (strcmp(z, mode_names[i]) == 0) {
      *m = (rk__ex_mode)i;
      return 0;
    }
  if (strcmp(z, "final_answer") == 0) {
    *m = RK__EX_ANSWER_IS;
    return 0;
  }
  return -1;
}

static char *tag_dup(const char *pre, const char *name, const char *post) {
  size_t a = strlen(pre), b = strlen(name), c = strlen(post);
  char *s = malloc(a + b + c + 1);
  if (!s) return NULL;
  memcpy(s, pre, a);
  memcpy(s + a, name, b);
  memcpy(s + a + b, post, c + 1);
  return s;
}

int rk__extract_cfg_compile(rk__argctx *ac, rk__ex_mode def, rk__extract_cfg *cfg) {
  memset(cfg, 0, sizeof *cfg);
  char **list = NULL;
  size_t n = 0;
  if (rk__arg_strlist(ac, "extract", &list, &n)) return -1;
  if (!list) {
    cfg->modes[0] = def;
    cfg->nmodes = 1;
  } else {
    if (n == 0 || n > RK__EX_MAX_MODES) {
      rk__strlist_free(list);
      return rk__arg_error(ac, "extract", "expected 1 to %d mode names", RK__EX_MAX_MODES);
    }
    for (size_t i = 0; i < n; i++) {
      if (mode_by_name(list[i], &cfg->modes[i])) {
        rk__arg_error(ac, "extract",
                      "unknown mode '%.40s' (auto, none, boxed, answer_tag, answer_line, "
                      "answer_is, gsm8k_strict, gsm8k_flexible, last_number, bold, "
                      "code_block, json)",
                      list[i]);
        rk__strlist_free(list);
        return -1;
      }
    }
    cfg->nmodes = (int)n;
    rk__strlist_free(list);
  }
  long tail;
  if (rk__arg_int(ac, "tail", -1, 0, 1L << 40, &tail)) return -1;
  cfg->tail = tail < 0 ? 0 : tail == 0 ? SIZE_MAX : (size_t)tail;
  char *tag = NULL;
  if (rk__arg_str(ac, "answer_tag", "answer", &tag)) return -1;
  size_t tl = strlen(tag);
  int ok = tl > 0 && tl <= 64;
  for (size_t i = 0; i < tl; i++)
    if (tag[i] == '<' || tag[i] == '>' || is_space((unsigned char)tag[i])) ok = 0;
  if (!ok) {
    free(tag);
    return rk__arg_error(ac, "answer_tag", "expected a tag name without brackets, like \"answer\"");
  }
  cfg->open_tag = tag_dup("<", tag, ">");
  cfg->close_tag = tag_dup("</", tag, ">");
  free(tag);
  if (!cfg->open_tag || !cfg->close_tag) {
    rk__extract_cfg_free(cfg);
    return rk__arg_error(ac, "answer_tag", "out of memory");
  }
  return 0;
}

void rk__extract_cfg_free(rk__extract_cfg *cfg) {
  if (!cfg) return;
  free(cfg->open_tag);
  free(cfg->close_tag);
  cfg->open_tag = cfg->close_tag = NULL;
}
