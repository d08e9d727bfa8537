/*
 * vqa_norm.c - VQAv2 and EvalAI (TextVQA) answer normalisation over code
 * points (see vqa_norm.h). The tables (punctuation, number words,
 * articles, contractions) are those of the official evaluation script;
 * the Python regexes are re-expressed as loops:
 *
 *   commaStrip  (\d)(\,)(\d)    any digit-comma-digit turns every
 *                               punctuation replacement into a deletion
 *   periodStrip (?!<=\d)(\.)(?!\d)   the lookbehind is mistyped as a
 *                               lookahead, so every "." not followed by a
 *                               digit goes; and .sub(.., re.UNICODE) passes
 *                               32 as `count`: at most 32 are removed
 *                               (the default; "intended" applies the
 *                               rule the regex meant, without a count)
 *
 * \d is Python's Unicode digit (category Nd).
 */
#include "metrics/vqa_norm.h"

#include <string.h>
#include <utf8proc.h>

#include "metrics/levenshtein.h"

static int is_digit(uint32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return c <= 0x10FFFF && utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_ND;
}

/* The official punctuation list, in its order: ; / [ ] " { } ( ) = + \ _
 * - > < @ ` , ? ! (the order does not change the result: each mark's fate
 * is decided on the input text). */
#define NPUNCT 21

/* Index in the punctuation list of an ASCII code point, -1 for others: a switch the
 * compiler turns into a table. */
static int punct_index(uint32_t c) {
  switch (c) {
    case ';': return 0;
    case '/': return 1;
    case '[': return 2;
    case ']': return 3;
    case '"': return 4;
    case '{': return 5;
    case '}': return 6;
    case '(': return 7;
    case ')': return 8;
    case '=': return 9;
    case '+': return 10;
    case '\\': return 11;
    case '_': return 12;
    case '-': return 13;
    case '>': return 14;
    case '<': return 15;
    case '@': return 16;
    case '`': return 17;
    case ',': return 18;
    case '?': return 19;
    case '!': return 20;
    default: return -1;
  }
}

size_t rk__vqa_prep(uint32_t *s, size_t n, size_t *off) {
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\n' || s[i] == '\t') s[i] = ' ';
  size_t lo = 0, hi = n;
  while (lo < hi && rk__cp_isspace(s[lo])) lo++;
  while (hi > lo && rk__cp_isspace(s[hi - 1])) hi--;
  *off = lo;
  return hi - lo;
}

size_t rk__vqa_punct(const uint32_t *in, size_t n, uint32_t *out, int intended) {
  int comma = 0;
  for (size_t i = 1; i + 1 < n && !comma; i++)
    comma = in[i] == ',' && is_digit(in[i - 1]) && is_digit(in[i + 1]);
  unsigned char del[NPUNCT];
  memset(del, comma, sizeof del);
  if (!comma)
    for (size_t i = 0; i < n; i++) {
      int k = punct_index(in[i]);
      if (k >= 0 && ((i + 1 < n && in[i + 1] == ' ') || (i > 0 && in[i - 1] == ' ')))
        del[k] = 1;
    }
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    int k = punct_index(in[i]);
    if (k < 0)
      out[m++] = in[i];
    else if (!del[k])
      out[m++] = ' ';
  }
  /* periodStrip with count = re.UNICODE = 32 (or, intended, the
   * lookbehind it meant and no count). Both looks read the text before
   * any removal: the lookahead reads ahead of the compaction, the
   * lookbehind the previous code point as it was (prev). */
  size_t w = 0;
  int removed = 0;
  uint32_t prev = 0; /* not a digit */
  for (size_t j = 0; j < m; j++) {
    const uint32_t cur = out[j];
    if (cur == '.' && (intended || removed < 32) && !(j + 1 < m && is_digit(out[j + 1])) &&
        !(intended && is_digit(prev))) {
      removed++;
      prev = cur;
      continue;
    }
    out[w++] = cur;
    prev = cur;
  }
  return w;
}

static const char *const NUMBERS[][2] = {
    {"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"},
    {"three", "3"}, {"four", "4"}, {"five", "5"}, {"six", "6"},
    {"seven", "7"}, {"eight", "8"}, {"nine", "9"}, {"ten", "10"}};

/* The contractions table of vqaEval.py (current GT-Vision-Lab version,
 * ASCII apostrophes), including its oddities ("somebody'd" ->
 * "somebodyd"; keys with capitals, which never match lower-cased text). */
static const char *const CONTRACTIONS[][2] = {
    {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"},
    {"couldve", "could've"}, {"couldnt", "couldn't"},
    {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"},
    {"didnt", "didn't"}, {"doesnt", "doesn't"}, {"dont", "don't"},
    {"hadnt", "hadn't"}, {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"},
    {"hasnt", "hasn't"}, {"havent", "haven't"}, {"hed", "he'd"},
    {"hed've", "he'd've"}, {"he'dve", "he'd've"}, {"hes", "he's"},
    {"howd", "how'd"}, {"howll", "how'll"}, {"hows", "how's"},
    {"Id've", "I'd've"}, {"I'dve", "I'd've"}, {"Im", "I'm"}, {"Ive", "I've"},
    {"isnt", "isn't"}, {"itd", "it'd"}, {"itd've", "it'd've"},
    {"it'dve", "it'd've"}, {"itll", "it'll"}, {"let's", "let's"},
    {"maam", "ma'am"}, {"mightnt", "mightn't"}, {"mightnt've", "mightn't've"},
    {"mightn'tve", "mightn't've"}, {"mightve", "might've"},
    {"mustnt", "mustn't"}, {"mustve", "must've"}, {"neednt", "needn't"},
    {"notve", "not've"}, {"oclock", "o'clock"}, {"oughtnt", "oughtn't"},
    {"ow's'at", "'ow's'at"}, {"'ows'at", "'ow's'at"}, {"'ow'sat", "'ow's'at"},
    {"shant", "shan't"}, {"shed've", "she'd've"}, {"she'dve", "she'd've"},
    {"she's", "she's"}, {"shouldve", "should've"}, {"shouldnt", "shouldn't"},
    {"shouldnt've", "shouldn't've"}, {"shouldn'tve", "shouldn't've"},
    {"somebody'd", "somebodyd"}, {"somebodyd've", "somebody'd've"},
    {"somebody'dve", "somebody'd've"}, {"somebodyll", "somebody'll"},
    {"somebodys", "somebody's"}, {"someoned", "someone'd"},
    {"someoned've", "someone'd've"}, {"someone'dve", "someone'd've"},
    {"someonell", "someone'll"}, {"someones", "someone's"},
    {"somethingd", "something'd"}, {"somethingd've", "something'd've"},
    {"something'dve", "something'd've"}, {"somethingll", "something'll"},
    {"thats", "that's"}, {"thered", "there'd"}, {"thered've", "there'd've"},
    {"there'dve", "there'd've"}, {"therere", "there're"}, {"theres", "there's"},
    {"theyd", "they'd"}, {"theyd've", "they'd've"}, {"they'dve", "they'd've"},
    {"theyll", "they'll"}, {"theyre", "they're"}, {"theyve", "they've"},
    {"twas", "'twas"}, {"wasnt", "wasn't"}, {"wed've", "we'd've"},
    {"we'dve", "we'd've"}, {"weve", "we've"}, {"werent", "weren't"},
    {"whatll", "what'll"}, {"whatre", "what're"}, {"whats", "what's"},
    {"whatve", "what've"}, {"whens", "when's"}, {"whered", "where'd"},
    {"wheres", "where's"}, {"whereve", "where've"}, {"whod", "who'd"},
    {"whod've", "who'd've"}, {"who'dve", "who'd've"}, {"wholl", "who'll"},
    {"whos", "who's"}, {"whove", "who've"}, {"whyll", "why'll"},
    {"whyre", "why're"}, {"whys", "why's"}, {"wont", "won't"},
    {"wouldve", "would've"}, {"wouldnt", "wouldn't"},
    {"wouldnt've", "wouldn't've"}, {"wouldn'tve", "wouldn't've"},
    {"yall", "y'all"}, {"yall'll", "y'all'll"}, {"y'allll", "y'all'll"},
    {"yall'd've", "y'all'd've"}, {"y'alld've", "y'all'd've"},
    {"y'all'dve", "y'all'd've"}, {"youd", "you'd"}, {"youd've", "you'd've"},
    {"you'dve", "you'd've"}, {"youll", "you'll"}, {"youre", "you're"},
    {"youve", "you've"}};

static int word_is(const uint32_t *w, size_t n, const char *z) {
  size_t k = strlen(z);
  if (k != n) return 0;
  for (size_t i = 0; i < n; i++)
    if (w[i] != (unsigned char)z[i]) return 0;
  return 1;
}

static size_t put_z(uint32_t *out, size_t m, const char *z) {
  while (*z) out[m++] = (unsigned char)*z++;
  return m;
}

size_t rk__vqa_digit_article(const uint32_t *in, size_t n, uint32_t *out) {
  /* Python lowers the whole text, then splits; lowering word by word gives
   * the same words, as lower-casing never creates or removes whitespace,
   * and the final-sigma context never reaches past a whitespace character
   * (neither cased nor case ignorable), so a word is all of it. */
  size_t m = 0, i = 0;
  uint32_t word[64];
  while (i < n) {
    while (i < n && rk__cp_isspace(in[i])) i++;
    if (i >= n) break;
    size_t s = i;
    while (i < n && !rk__cp_isspace(in[i])) i++;
    size_t wn = i - s;
    const uint32_t *w = in + s;
    /* Only short ASCII-only words can match a table entry. */
    int small = wn <= 16;
    if (small) {
      for (size_t k = 0; k < wn; k++) {
        uint32_t c = rk__cp_lower(in[s + k]);
        if (c >= 0x80 || in[s + k] == 0x130) small = 0;
        word[k] = c;
      }
    }
    const char *rep = NULL;
    if (small) {
      w = word;
      for (size_t k = 0; k < sizeof NUMBERS / sizeof NUMBERS[0]; k++)
        if (word_is(w, wn, NUMBERS[k][0])) {
          rep = NUMBERS[k][1];
          break;
        }
      if (!rep && (word_is(w, wn, "a") || word_is(w, wn, "an") || word_is(w, wn, "the")))
        continue;
      if (!rep)
        for (size_t k = 0; k < sizeof CONTRACTIONS / sizeof CONTRACTIONS[0]; k++)
          if (CONTRACTIONS[k][0][0] == (char)w[0] && word_is(w, wn, CONTRACTIONS[k][0])) {
            rep = CONTRACTIONS[k][1];
            break;
          }
    }
    if (m) out[m++] = ' ';
    if (rep) {
      m = put_z(out, m, rep);
    } else if (small) {
      for (size_t k = 0; k < wn; k++) out[m++] = word[k];
    } else {
      /* Long or non-ASCII word: lowered as it is copied. */
      m += rk__cp_lower_seq(in + s, wn, out + m);
    }
  }
  return m;
}

/* Scratch layout of the pipelines: region A = out[0 .. 6n+8), region
 * B = out[6n+8 .. 12n+16). Bounds: lower-casing at most doubles the text,
 * "'s" -> " 's" adds at most half, punctuation never lengthens, and
 * digit_article at most doubles (U+0130, contractions like "yall" ->
 * "y'all"), so each stage fits its region and never overlaps its input. */
size_t rk__vqa_norm_answer(const uint32_t *in, size_t n, uint32_t *out, int intended) {
  uint32_t *B = out + 6 * n + 8;
  memcpy(out, in, n * sizeof *in);
  size_t off, k = rk__vqa_prep(out, n, &off);
  size_t m = rk__vqa_punct(out + off, k, B, intended);
  return rk__vqa_digit_article(B, m, out);
}

size_t rk__vqa_norm_evalai(const uint32_t *in, size_t n, uint32_t *out, int intended) {
  /* word_tokenize: lower, delete "," and "?", "'s" -> " 's", strip. */
  uint32_t *B = out + 6 * n + 8;
  size_t m = rk__cp_lower_seq(in, n, B), w = 0, k = 0;
  /* The replaces run one after the other on the whole text: "," and "?"
   * go first, so "x'?s" has an "'s" by the time it is looked for. */
  for (size_t i = 0; i < m; i++)
    if (B[i] != ',' && B[i] != '?') B[w++] = B[i];
  for (size_t i = 0; i < w; i++) {
    if (B[i] == '\'' && i + 1 < w && B[i + 1] == 's') out[k++] = ' ';
    out[k++] = B[i];
  }
  size_t off;
  k = rk__vqa_prep(out, k, &off); /* strip; "\n" "\t" -> " "; strip */
  size_t p = rk__vqa_punct(out + off, k, B, intended);
  return rk__vqa_digit_article(B, p, out);
}
