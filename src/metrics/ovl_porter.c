/*
 * ovl_porter.c - the Porter stemmer, written from M.F. Porter, "An
 * algorithm for suffix stripping", Program 14(3), 1980, plus the
 * departures of nltk's PorterStemmer in its default NLTK_EXTENSIONS mode
 * (the stemmer rouge-score calls), which nltk documents rule by rule:
 * a pool of irregular forms, words of 1-2 letters left alone, "ies" ->
 * "ie" and "ied" -> "ie"/"i", y -> i only after a consonant that is not
 * the first letter, "bli" -> "ble" instead of "abli" -> "able", "alli"
 * first, "fulli" and "logi", and cvc also true for a 2-letter vowel-
 * consonant stem.
 *
 * Input: lowercase ASCII. Not for: other languages (no Snowball).
 * Verified against nltk 3.8 (Debian python3-nltk) on the word list in
 * tests/data/overlap/porter_nltk.tsv.
 */
#include <string.h>

#include "metrics/ovl.h"

typedef struct pw {
  char *b;            /* the word being stemmed */
  size_t k;           /* its length */
  rk__porter_mode mode;
} pw;

static int is_vowel_letter(char c) {
  return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* Porter's consonant: not a vowel letter, and 'y' only when it follows a
 * vowel (or starts the word): cons(y at i) = !cons(i - 1). Along a run of
 * y's that alternates from the letter before the run, so the run is
 * walked back instead of recursed over (a token of 600,000 y's would
 * take as many stack frames). */
static int cons(const char *b, size_t i) {
  if (is_vowel_letter(b[i])) return 0;
  if (b[i] != 'y') return 1;
  size_t j = i;
  while (j > 0 && b[j - 1] == 'y') j--;
  int first = j == 0 ? 1 : is_vowel_letter(b[j - 1]); /* cons(b, j) */
  return (i - j) % 2 ? !first : first;
}

/* cons(b, i) from cons(b, i - 1) (prev; ignored at i = 0): one pass. */
static int cons_next(const char *b, size_t i, int prev) {
  if (is_vowel_letter(b[i])) return 0;
  return b[i] != 'y' || i == 0 || !prev;
}

/* m: the number of VC sequences in b[0..n). */
static int measure(const char *b, size_t n) {
  int m = 0;
  int prev_v = 0, c = 1;
  for (size_t i = 0; i < n; i++) {
    c = cons_next(b, i, c);
    if (c && prev_v) m++;
    prev_v = !c;
  }
  return m;
}

static int has_vowel(const char *b, size_t n) {
  int c = 1;
  for (size_t i = 0; i < n; i++)
    if (!(c = cons_next(b, i, c))) return 1;
  return 0;
}

static int double_cons(const char *b, size_t n) {
  return n >= 2 && b[n - 1] == b[n - 2] && cons(b, n - 1);
}

/* *o: the stem ends consonant-vowel-consonant, the last not w, x or y;
 * nltk also accepts a 2-letter vowel-consonant stem. */
static int cvc(const pw *w, const char *b, size_t n) {
  if (n >= 3 && cons(b, n - 3) && !cons(b, n - 2) && cons(b, n - 1) &&
      b[n - 1] != 'w' && b[n - 1] != 'x' && b[n - 1] != 'y')
    return 1;
  return w->mode == RK__PORTER_NLTK && n == 2 && !cons(b, 0) && cons(b, 1);
}

static int ends(const pw *w, const char *s) {
  size_t l = strlen(s);
  return w->k >= l && memcmp(w->b + w->k - l, s, l) == 0;
}

static void set_to(pw *w, size_t stem_len, const char *rep) {
  size_t l = strlen(rep);
  memcpy(w->b + stem_len, rep, l);
  w->k = stem_len + l;
}

/* A rule list: the first rule whose suffix matches decides; when its
 * condition fails the word is left as it is (Porter: "the longest
 * matching suffix"). */
typedef enum { C_NONE, C_M0, C_M1, C_ION, C_LOGI } cond;

typedef struct rule {
  const char *suf, *rep;
  cond c;
} rule;

static int cond_ok(const pw *w, cond c, size_t stem_len) {
  switch (c) {
    case C_NONE:
      return 1;
    case C_M0:
      return measure(w->b, stem_len) > 0;
    case C_M1:
      return measure(w->b, stem_len) > 1;
    case C_ION:
      return measure(w->b, stem_len) > 1 && stem_len > 0 &&
             (w->b[stem_len - 1] == 's' || w->b[stem_len - 1] == 't');
    case C_LOGI:
      /* nltk: the 'l' of "logi" stays with the stem for the measure. */
      return measure(w->b, stem_len + 1) > 0;
  }
  return 0;
}

static void apply_rules(pw *w, const rule *r, size_t nr) {
  for (size_t i = 0; i < nr; i++) {
    if (!ends(w, r[i].suf)) continue;
    size_t stem = w->k - strlen(r[i].suf);
    if (cond_ok(w, r[i].c, stem)) set_to(w, stem, r[i].rep);
    return;
  }
}

static void step1a(pw *w) {
  if (w->mode == RK__PORTER_NLTK && w->k == 4 && ends(w, "ies")) {
    set_to(w, 1, "ie");
    return;
  }
  static const rule r[] = {
      {"sses", "ss", C_NONE}, {"ies", "i", C_NONE}, {"ss", "ss", C_NONE}, {"s", "", C_NONE}};
  apply_rules(w, r, sizeof r / sizeof r[0]);
}

static void step1b(pw *w) {
  if (w->mode == RK__PORTER_NLTK && ends(w, "ied")) {
    set_to(w, w->k - 3, w->k == 4 ? "ie" : "i");
    return;
  }
  if (ends(w, "eed")) {
    if (measure(w->b, w->k - 3) > 0) w->k -= 1;
    return;
  }
  size_t stem;
  if (ends(w, "ed") && has_vowel(w->b, w->k - 2))
    stem = w->k - 2;
  else if (ends(w, "ing") && has_vowel(w->b, w->k - 3))
    stem = w->k - 3;
  else
    return;
  w->k = stem;
  if (ends(w, "at")) {
    set_to(w, w->k - 2, "ate");
  } else if (ends(w, "bl")) {
    set_to(w, w->k - 2, "ble");
  } else if (ends(w, "iz")) {
    set_to(w, w->k - 2, "ize");
  } else if (double_cons(w->b, w->k)) {
    char last = w->b[w->k - 1];
    if (last != 'l' && last != 's' && last != 'z') w->k -= 1;
  } else if (measure(w->b, w->k) == 1 && cvc(w, w->b, w->k)) {
    set_to(w, w->k, "e");
  }
}

static void step1c(pw *w) {
  if (!ends(w, "y")) return;
  size_t stem = w->k - 1;
  int ok = w->mode == RK__PORTER_NLTK ? stem > 1 && cons(w->b, stem - 1)
                                      : has_vowel(w->b, stem);
  if (ok) w->b[stem] = 'i';
}

static void step2(pw *w) {
  if (w->mode == RK__PORTER_NLTK && ends(w, "alli") &&
      measure(w->b, w->k - 4) > 0) {
    set_to(w, w->k - 4, "al");
    step2(w);
    return;
  }
  static const rule common_head[] = {
      {"ational", "ate", C_M0}, {"tional", "tion", C_M0}, {"enci", "ence", C_M0},
      {"anci", "ance", C_M0},   {"izer", "ize", C_M0}};
  static const rule common_tail[] = {
      {"alli", "al", C_M0},     {"entli", "ent", C_M0},   {"eli", "e", C_M0},
      {"ousli", "ous", C_M0},   {"ization", "ize", C_M0}, {"ation", "ate", C_M0},
      {"ator", "ate", C_M0},    {"alism", "al", C_M0},    {"iveness", "ive", C_M0},
      {"fulness", "ful", C_M0}, {"ousness", "ous", C_M0}, {"aliti", "al", C_M0},
      {"iviti", "ive", C_M0},   {"biliti", "ble", C_M0}};
  rule r[32];
  size_t nr = 0;
  for (size_t i = 0; i < sizeof common_head / sizeof common_head[0]; i++)
    r[nr++] = common_head[i];
  if (w->mode == RK__PORTER_ORIGINAL)
    r[nr++] = (rule){"abli", "able", C_M0};
  else
    r[nr++] = (rule){"bli", "ble", C_M0};
  for (size_t i = 0; i < sizeof common_tail / sizeof common_tail[0]; i++)
    r[nr++] = common_tail[i];
  if (w->mode == RK__PORTER_NLTK) {
    r[nr++] = (rule){"fulli", "ful", C_M0};
    r[nr++] = (rule){"logi", "log", C_LOGI};
  }
  apply_rules(w, r, nr);
}

static void step3(pw *w) {
  static const rule r[] = {{"icate", "ic", C_M0}, {"ative", "", C_M0}, {"alize", "al", C_M0},
                           {"iciti", "ic", C_M0}, {"ical", "ic", C_M0}, {"ful", "", C_M0},
                           {"ness", "", C_M0}};
  apply_rules(w, r, sizeof r / sizeof r[0]);
}

static void step4(pw *w) {
  static const rule r[] = {
      {"al", "", C_M1},   {"ance", "", C_M1}, {"ence", "", C_M1},  {"er", "", C_M1},
      {"ic", "", C_M1},   {"able", "", C_M1}, {"ible", "", C_M1},  {"ant", "", C_M1},
      {"ement", "", C_M1}, {"ment", "", C_M1}, {"ent", "", C_M1},  {"ion", "", C_ION},
      {"ou", "", C_M1},   {"ism", "", C_M1},  {"ate", "", C_M1},   {"iti", "", C_M1},
      {"ous", "", C_M1},  {"ive", "", C_M1},  {"ize", "", C_M1}};
  apply_rules(w, r, sizeof r / sizeof r[0]);
}

static void step5a(pw *w) {
  if (!ends(w, "e")) return;
  size_t stem = w->k - 1;
  int m = measure(w->b, stem);
  if (m > 1 || (m == 1 && !cvc(w, w->b, stem))) w->k = stem;
}

static void step5b(pw *w) {
  if (ends(w, "ll") && measure(w->b, w->k - 1) > 1) w->k -= 1;
}

size_t rk__porter_stem(const char *word, size_t n, rk__porter_mode mode, char *out) {
  memcpy(out, word, n);
  if (mode == RK__PORTER_NLTK) {
    /* nltk's pool of irregular forms, looked up before anything else. */
    static const char *const pool[][2] = {
        {"sky", "sky"},         {"skies", "sky"},       {"dying", "die"},
        {"lying", "lie"},       {"tying", "tie"},       {"news", "news"},
        {"innings", "inning"},  {"inning", "inning"},   {"outings", "outing"},
        {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"},
        {"howe", "howe"},       {"proceed", "proceed"}, {"exceed", "exceed"},
        {"succeed", "succeed"}};
    for (size_t i = 0; i < sizeof pool / sizeof pool[0]; i++) {
      if (strlen(pool[i][0]) == n && memcmp(pool[i][0], word, n) == 0) {
        size_t l = strlen(pool[i][1]);
        memcpy(out, pool[i][1], l);
        return l;
      }
    }
    if (n <= 2) return n;
  }
  if (n == 0) return 0;
  pw w = {out, n, mode};
  step1a(&w);
  if (w.k == 0) return 0;
  step1b(&w);
  if (w.k == 0) return 0;
  step1c(&w);
  step2(&w);
  step3(&w);
  step4(&w);
  if (w.k == 0) return 0;
  step5a(&w);
  step5b(&w);
  return w.k;
}
