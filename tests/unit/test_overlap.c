/*
 * test_overlap.c - f1, em, rouge, bleu, chrf (and their tokenizers, the
 * Porter stemmer): every published test vector of the reference
 * (the project's metric reference, Part B: rouge-score's
 * rouge_scorer_test.py, sacreBLEU's test_bleu.py, test_sentence_bleu.py
 * and test_chrf.py, SQuAD evaluate-v2.0), hand-computed cases with the
 * arithmetic in comments, the Porter stemmer against nltk 3.8 (Debian
 * python3-nltk) on tests/data/overlap/porter_nltk.tsv, and end to end
 * through the public API.
 *
 * Tolerances: published vectors are checked to the digits they are
 * published with (half a unit in the last place); hand cases to 1e-12.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "e2e.h"
#include "metrics/ovl.h"
#include "metrics/wide.h"
#include "test.h"
#include "text/normalize.h"

#include <utf8proc.h>

static rk__arena A;

static void arena_fresh(void) {
  static int init;
  if (!init) {
    rk__arena_init(&A, 0);
    init = 1;
  }
  rk__arena_reset(&A);
}

static rk__str S(const char *z) { return rk__str_make(z, strlen(z)); }

/* Tokens joined by single spaces, for comparing tokenizer output. */
static const char *joined(const rk__ovl_toks *t) {
  static char buf[4096];
  size_t k = 0;
  for (size_t i = 0; i < t->n && k + t->t[i].n + 2 < sizeof buf; i++) {
    if (i) buf[k++] = ' ';
    memcpy(buf + k, t->t[i].p, t->t[i].n);
    k += t->t[i].n;
  }
  buf[k] = '\0';
  return buf;
}

/* ------------------------------------------------------------- 13a */

TEST(tok13a) {
  /* Expected strings from a Python port of sacreBLEU's tokenizer_13a.py /
   * tokenizer_re.py regexes run with CPython 3.11's re (the script is
   * tests/data/overlap/tok13a_port.py). */
  static const char *const cases[][2] = {
      {"Hello, world! It's 3.5-4 km.", "Hello , world ! It's 3.5 - 4 km ."},
      {"a..b,,c", "a . . b , , c"},
      {"1,000.50 and 2.", "1,000.50 and 2 ."},
      {"&amp;lt;b&gt; &quot;x&quot;", "< b > \" x \""},
      {"re-<skipped>enter\nline-\nbreak", "re-enter linebreak"},
      {"\xc3\xa9.\xc3\xbc,\xc3\x9f \xe4\xb8\xad\xe6\x96\x87\xe3\x80\x82" "end.",
       "\xc3\xa9 . \xc3\xbc , \xc3\x9f \xe4\xb8\xad\xe6\x96\x87\xe3\x80\x82" "end ."},
      {"(x)[y]{z}~`^_|\\@#$%", "( x ) [ y ] { z } ~ ` ^ _ | \\ @ # $ %"},
      {"A.B.C. 1.2.3", "A . B . C . 1.2.3"},
      {"\xc2\xa0nbsp\xe3\x80\x80ideo\xe2\x80\x89thin", "nbsp ideo thin"},
      {"9-9 a-b -1 x.-", "9 - 9 a-b -1 x . -"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    arena_fresh();
    rk__ovl_toks t;
    rk__str in = rk__ovl_rstrip(S(cases[i][0]));
    ASSERT_EQ_INT(rk__ovl_tok13a(&A, in.p, in.n, &t), 0);
    ASSERT_EQ_STR(joined(&t), cases[i][1]);
  }
  /* The same rules across 64-byte blocks (the block path): the first
   * case three times over, so the expected tokens are its own, thrice. */
  {
    arena_fresh();
    const char *x3 = "Hello, world! It's 3.5-4 km. Hello, world! It's 3.5-4 km. Hello, world! "
                     "It's 3.5-4 km.";
    rk__ovl_toks t, c;
    ASSERT_EQ_INT(rk__ovl_tok13a(&A, x3, strlen(x3), &t), 0);
    ASSERT_EQ_STR(joined(&t), "Hello , world ! It's 3.5 - 4 km . Hello , world ! It's 3.5 - 4 km "
                              ". Hello , world ! It's 3.5 - 4 km .");
    ASSERT_EQ_INT(rk__ovl_tok13a_chars(&A, x3, strlen(x3), &c), 0);
    ASSERT_EQ_INT(c.n, t.n);
  }
  /* rstrip uses Python's whitespace: U+3000 at the end goes. */
  rk__str r = rk__ovl_rstrip(S("ab \xe3\x80\x80\n"));
  ASSERT_EQ_INT(r.n, 2);
  r = rk__ovl_rstrip(S("\xe4\xb8\xad"));
  ASSERT_EQ_INT(r.n, 3);
  /* Invalid UTF-8 is carried byte by byte, never dropped. */
  arena_fresh();
  rk__ovl_toks t;
  ASSERT_EQ_INT(rk__ovl_tok13a(&A, "\xff.\xc3", 3, &t), 0);
  ASSERT_EQ_INT(t.n, 3);
}

TEST(tokintl) {
  /* sacreBLEU tokenizer_intl.py, expected strings worked out by hand from
   * its three passes: (\P{N})(\p{P}) -> "\1 \2 ", (\p{P})(\P{N}) ->
   * " \1 \2", (\p{S}) -> " \1 ", then split(). */
  static const char *const cases[][2] = {
      /* ',' '!' '.' follow letters (pass 1); the apostrophe is Po, so
       * "It's" splits (13a keeps it); '.' and '-' between digits stay. */
      {"Hello, world! It's 3.5-4 km.", "Hello , world ! It ' s 3.5-4 km ."},
      /* '$' '+' '=' '\u20ac' are S*: always alone; '%' after a digit is cut
       * by pass 2 (a space follows). */
      {"$5 + 5% = 10\xe2\x82\xac", "$ 5 + 5 % = 10 \xe2\x82\xac"},
      /* No padding: a '.' after a digit at the very end has no character
       * after it, so no pass cuts it (mteval-v14's own quirk, kept). */
      {"1,000.50 and 2.", "1,000.50 and 2."},
      /* Pi/Pf quotes, Pd dash, Po ellipsis: '\u00ab' first (pass 2, 'C'
       * follows), '?' after 'a' (pass 1), '\u00bb' after the '?' pass 1
       * took (pass 2, a space follows). */
      {"\xc2\xab\xc3\x87" "a va?\xc2\xbb \xe2\x80\x94 dit-il\xe2\x80\xa6",
       "\xc2\xab \xc3\x87" "a va ? \xc2\xbb \xe2\x80\x94 dit - il \xe2\x80\xa6"},
      /* '\u00b2' and '\u00bd' are No (numbers): they stay; '+' is Sm. */
      {"x\xc2\xb2+\xc2\xbd", "x\xc2\xb2 + \xc2\xbd"},
      /* Second '.' was pass 1's \2, but pass 2 cuts it ('b' follows). */
      {"a..b", "a . . b"},
      /* '.' after '1': pass 2 ('-' is not a number); '-' after '.': pass 1. */
      {"1.-2", "1 . - 2"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    arena_fresh();
    rk__ovl_toks t;
    ASSERT_EQ_INT(rk__ovl_tokintl(&A, cases[i][0], strlen(cases[i][0]), &t), 0);
    ASSERT_EQ_STR(joined(&t), cases[i][1]);
  }
  /* Every ASCII character behaves as its Unicode category says: between
   * letters a P* or S* character is cut off, between digits only an S*
   * one; anything else stays inside the token. */
  for (int c = 0x21; c < 0x7F; c++) {
    char a3[4] = {'a', (char)c, 'a', 0}, d3[4] = {'1', (char)c, '1', 0};
    utf8proc_category_t cat = utf8proc_category(c);
    int punct = cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
    int sym = cat >= UTF8PROC_CATEGORY_SM && cat <= UTF8PROC_CATEGORY_SO;
    arena_fresh();
    rk__ovl_toks t;
    rk__ovl_tokintl(&A, a3, 3, &t);
    if ((t.n == 3) != (punct || sym)) RK_T_FAIL_("intl 'a%ca': %zu tokens", c, t.n);
    rk__ovl_tokintl(&A, d3, 3, &t);
    if ((t.n == 3) != sym) RK_T_FAIL_("intl '1%c1': %zu tokens", c, t.n);
  }
}

TEST(tokzh) {
  /* sacreBLEU tokenizer_zh.py, expected strings worked out by hand:
   * strip(), spaces around "Chinese" characters, tokenizer_re.py's four
   * passes without 13a's padding or unescaping, split(). */
  static const char *const cases[][2] = {
      /* Every CJK ideograph alone, and U+3002 (CJK punctuation). */
      {"\xe6\x88\x91\xe7\x88\xb1\xe5\x8c\x97\xe4\xba\xac\xe5\xa4\xa9\xe5\xae\x89\xe9\x97\xa8"
       "\xe3\x80\x82",
       "\xe6\x88\x91 \xe7\x88\xb1 \xe5\x8c\x97 \xe4\xba\xac \xe5\xa4\xa9 \xe5\xae\x89 "
       "\xe9\x97\xa8 \xe3\x80\x82"},
      /* Latin text as 13a's regexes cut it. */
      {"Hello, \xe4\xb8\x96\xe7\x95\x8c! 3.5km", "Hello , \xe4\xb8\x96 \xe7\x95\x8c ! 3.5km"},
      /* The U+2001-U+2A6D quirk: curly quotes, em dash and the euro sign
       * count as Chinese characters and stand alone. */
      {"\xe2\x80\x9c\xe5\xbc\x95\xe5\x8f\xb7\xe2\x80\x9d\xe2\x80\x94x\xe2\x82\xac",
       "\xe2\x80\x9c \xe5\xbc\x95 \xe5\x8f\xb7 \xe2\x80\x9d \xe2\x80\x94 x \xe2\x82\xac"},
      /* No unescaping, no padding: '&' and ';' are cut, "5." at the end
       * stays (13a gives "& 5 ."). */
      {"&amp; 5.", "& amp ; 5."},
      /* CJK Extension B (U+20000) is not Chinese here; full-width forms
       * (U+FF00-U+FFEF) are. */
      {"\xf0\xa0\x80\x80x \xef\xbd\x98\xef\xbc\x91", "\xf0\xa0\x80\x80x \xef\xbd\x98 \xef\xbc\x91"},
      /* strip() first: the '.' then has nothing before it and a digit
       * after it, so it stays (13a gives ". 5"). */
      {"  .5 \xe4\xb8\xad", ".5 \xe4\xb8\xad"},
      /* After a Chinese character (padded by a space) a '.' is cut. */
      {"\xe4\xb8\xad.5", "\xe4\xb8\xad . 5"},
      /* U+3000 is both whitespace and "Chinese": a separator. */
      {"\xe4\xb8\xad\xe3\x80\x80\xe6\x96\x87", "\xe4\xb8\xad \xe6\x96\x87"},
      {" \t", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    arena_fresh();
    rk__ovl_toks t;
    ASSERT_EQ_INT(rk__ovl_tokzh(&A, cases[i][0], strlen(cases[i][0]), &t), 0);
    ASSERT_EQ_STR(joined(&t), cases[i][1]);
  }
  /* The range ends, with the two ranges Python compares as 2-character
   * strings ('\u20000' is U+2000 then '0'). */
  static const struct {
    uint32_t cp;
    int zh;
  } ends[] = {{0x2000, 0}, {0x2001, 1}, {0x2A6D, 1}, {0x2A6E, 0}, {0x20000, 0},
              {0x2A6D6, 0}, {0x2F800, 0}, {0x2F81, 1}, {0x2E7F, 0}, {0x2E80, 1},
              {0x2FDF, 1}, {0x2FE0, 0}, {0x2FF0, 1}, {0x303F, 1}, {0x3040, 0},
              {0x30A2, 0}, {0x3100, 1}, {0x312F, 1}, {0x3130, 0}, {0x31A0, 1},
              {0x31EF, 1}, {0x31F0, 0}, {0x3200, 1}, {0x4DB5, 1}, {0x4DB6, 0},
              {0x4E00, 1}, {0x9FBB, 1}, {0x9FBC, 0}, {0xAC00, 0}, {0xF900, 1},
              {0xFA2D, 1}, {0xFA2E, 0}, {0xFA30, 1}, {0xFA6A, 1}, {0xFA6B, 0},
              {0xFA70, 1}, {0xFAD9, 1}, {0xFADA, 0}, {0xFE10, 1}, {0xFE1F, 1},
              {0xFE20, 0}, {0xFE30, 1}, {0xFE4F, 1}, {0xFE50, 0}, {0xFF00, 1},
              {0xFFEF, 1}, {0xFFF0, 0}, {'a', 0}};
  for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
    if (rk__ovl_zh_char(ends[i].cp) != ends[i].zh)
      RK_T_FAIL_("zh_char(U+%04X) != %d", (unsigned)ends[i].cp, ends[i].zh);
}

/* --------------------------------------------------------- stemmer */

TEST(porter_vs_nltk) {
  /* Every line: word, nltk 3.8 PorterStemmer() stem (NLTK_EXTENSIONS),
   * PorterStemmer(ORIGINAL_ALGORITHM) stem. */
  FILE *f = fopen("data/overlap/porter_nltk.tsv", "r");
  ASSERT_TRUE(f != NULL);
  if (!f) return;
  char line[512], out[600];
  int n = 0, bad = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    char *w = strtok(line, "\t\n"), *a = strtok(NULL, "\t\n"), *b = strtok(NULL, "\t\n");
    if (!w || !a || !b) continue;
    size_t k = rk__porter_stem(w, strlen(w), RK__PORTER_NLTK, out);
    if (k != strlen(a) || memcmp(out, a, k) != 0) {
      if (bad++ < 5) RK_T_FAIL_("nltk stem(%s) = %.*s, want %s", w, (int)k, out, a);
    }
    k = rk__porter_stem(w, strlen(w), RK__PORTER_ORIGINAL, out);
    if (k != strlen(b) || memcmp(out, b, k) != 0) {
      if (bad++ < 5) RK_T_FAIL_("original stem(%s) = %.*s, want %s", w, (int)k, out, b);
    }
    n++;
  }
  fclose(f);
  ASSERT_TRUE(n > 2000);
  ASSERT_EQ_INT(bad, 0);
  /* Porter's paper examples (1980, steps 1-5). */
  static const char *const ex[][2] = {
      {"caresses", "caress"}, {"ponies", "poni"},       {"cats", "cat"},
      {"feed", "feed"},       {"agreed", "agre"},       {"plastered", "plaster"},
      {"motoring", "motor"},  {"hopping", "hop"},       {"filing", "file"},
      {"relational", "relat"}, {"generalization", "gener"}, {"triplicate", "triplic"},
      {"adjustable", "adjust"}, {"controlling", "control"}, {"roll", "roll"}};
  for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
    size_t k = rk__porter_stem(ex[i][0], strlen(ex[i][0]), RK__PORTER_ORIGINAL, out);
    const char *o = out;
    ASSERT_EQ_SPAN(o, k, ex[i][1]);
  }
}

TEST(porter_y_runs) {
  /* A run of y's alternates consonant / vowel from the letter before it.
   * Stems from nltk 3.8's PorterStemmer().stem, run outside the test
   * (nltk itself recurses once per 'y' and raises RecursionError past
   * about a thousand of them). */
  static const char *const ex[][2] = {{"yyyyyy", "yyyyyi"},
                                      {"ayyyyying", "ayyyi"},
                                      {"yyyyyyy", "yyyyyyy"},
                                      {"sayyyyy", "sayyyyy"},
                                      {"ayyyyyyyyness", "ayyyyyyyy"}};
  char out[64];
  for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
    size_t k = rk__porter_stem(ex[i][0], strlen(ex[i][0]), RK__PORTER_NLTK, out);
    const char *o = out;
    ASSERT_EQ_SPAN(o, k, ex[i][1]);
  }
  /* 600,000 y's in one token: the consonant test recursed once per 'y'
   * and overflowed the stack (the process died); now a plain score. */
  static char rec[600100];
  size_t o = (size_t)snprintf(rec, sizeof rec, "{\"response\": \"");
  memset(rec + o, 'y', 600000);
  o += 600000;
  snprintf(rec + o, sizeof rec - o, "\", \"reference\": \"yy\"}");
  e2e_result r = e2e_score("{\"reward\": {\"fn\": \"rouge\", \"args\": {\"stemmer\": true}}}", rec);
  ASSERT_E2E(r, 0, "ok");
}

/* ------------------------------------------------------------- ROUGE */

typedef enum { RL, RLSUM, R1, R2 } rv;

static rk__ovl_prf rouge(const char *target, const char *pred, rv v, int stem) {
  arena_fresh();
  rk__ovl_prf s = {-1, -1, -1};
  rk__ovl_toks tt[16], pt[16];
  size_t nt = 0, np = 0;
  if (v == RLSUM) {
    const char *srcs[2] = {target, pred};
    for (int side = 0; side < 2; side++) {
      const char *p = srcs[side];
      rk__ovl_toks *out = side ? pt : tt;
      size_t *cnt = side ? &np : &nt;
      while (*p) {
        size_t l = strcspn(p, "\n");
        if (l) rk__ovl_tokrouge(&A, p, l, stem, 0, &out[(*cnt)++]);
        p += l + (p[l] == '\n');
      }
    }
  } else {
    rk__ovl_tokrouge(&A, target, strlen(target), stem, 0, &tt[0]);
    rk__ovl_tokrouge(&A, pred, strlen(pred), stem, 0, &pt[0]);
    nt = np = 1;
  }
  rk__ovl_intern in;
  rk__ovl_intern_init(&in, &A, 4096);
  for (size_t i = 0; i < nt; i++) rk__ovl_intern_toks(&in, &A, &tt[i]);
  for (size_t i = 0; i < np; i++) rk__ovl_intern_toks(&in, &A, &pt[i]);
  if (v == RL) rk__ovl_rouge_l(&A, &tt[0], &pt[0], &s);
  if (v == RLSUM) rk__ovl_rouge_lsum(&A, tt, nt, pt, np, &s);
  if (v == R1) rk__ovl_rouge_n(&A, &tt[0], &pt[0], 1, &s);
  if (v == R2) rk__ovl_rouge_n(&A, &tt[0], &pt[0], 2, &s);
  return s;
}

TEST(rouge_published) {
  /* rouge_scorer_test.py: score(target, prediction). */
  rk__ovl_prf s = rouge("testing one two", "testing two", RL, 0);
  ASSERT_NEAR(s.p, 1.0, 1e-12);
  ASSERT_NEAR(s.r, 2.0 / 3.0, 1e-12);
  ASSERT_NEAR(s.f, 0.8, 1e-12);
  s = rouge("testing one two", "testing", R1, 0); /* P 1, R 1/3, F 1/2 */
  ASSERT_NEAR(s.p, 1.0, 1e-12);
  ASSERT_NEAR(s.r, 1.0 / 3.0, 1e-12);
  ASSERT_NEAR(s.f, 0.5, 1e-12);
  s = rouge("testing one two", "", RL, 0);
  ASSERT_NEAR(s.f, 0.0, 0);
  ASSERT_NEAR(s.p, 0.0, 0);
  s = rouge("testing one two", "", R1, 0);
  ASSERT_NEAR(s.f, 0.0, 0);
  /* Union-LCS example (Lin 2004; testRougeLSum): P .4, R .8, F .5333 */
  s = rouge("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5", RLSUM, 0);
  ASSERT_NEAR(s.p, 0.4, 1e-12);
  ASSERT_NEAR(s.r, 0.8, 1e-12);
  ASSERT_NEAR(s.f, 0.5333, 5e-5);
  /* Reference, computed there: F .833333; non-ASCII dropped -> 1. */
  s = rouge("The cat sat on the mat.", "the cat is on the mat", RL, 0);
  ASSERT_NEAR(s.f, 0.833333, 5e-7);
  s = rouge("\xe4\xbd\xa0\xe5\xa5\xbd world", "world", RL, 0);
  ASSERT_NEAR(s.f, 1.0, 1e-12);
}

TEST(rouge_hand) {
  /* ROUGE-2: target bigrams the-cat cat-sat sat-on on-the the-mat,
   * prediction the-cat cat-is is-on on-the the-mat: 3 shared of 5 each:
   * P = R = F = 3/5. */
  rk__ovl_prf s = rouge("the cat sat on the mat", "the cat is on the mat", R2, 0);
  ASSERT_NEAR(s.p, 0.6, 1e-12);
  ASSERT_NEAR(s.r, 0.6, 1e-12);
  ASSERT_NEAR(s.f, 0.6, 1e-12);
  /* Stemming (nltk Porter, tokens > 3 letters): "running dogs" ->
   * [run, dog]; "the dog runs" -> [the, dog, run].
   * ROUGE-1: overlap 2; P 2/3, R 2/2; F = 2(2/3)(1)/(5/3) = 0.8.
   * ROUGE-L: LCS([run,dog],[the,dog,run]) = 1; P 1/3, R 1/2;
   * F = 2(1/6)/(5/6) = 0.4. Without stemming ROUGE-1 overlap is 0. */
  s = rouge("running dogs", "the dog runs", R1, 1);
  ASSERT_NEAR(s.f, 0.8, 1e-12);
  s = rouge("running dogs", "the dog runs", RL, 1);
  ASSERT_NEAR(s.f, 0.4, 1e-12);
  s = rouge("running dogs", "the dog runs", R1, 0);
  ASSERT_NEAR(s.f, 0.0, 0);
  /* Repeated tokens: target "a a b", prediction "a b b":
   * ROUGE-1 overlap min(2,1) + min(1,2) = 2 of 3: F = 2/3;
   * LCS("a a b", "a b b") = 2 ("a b"): F = 2/3. */
  s = rouge("a a b", "a b b", R1, 0);
  ASSERT_NEAR(s.f, 2.0 / 3.0, 1e-12);
  s = rouge("a a b", "a b b", RL, 0);
  ASSERT_NEAR(s.f, 2.0 / 3.0, 1e-12);
  /* Lsum: each token counted at most as often as it occurs on both
   * sides. Reference "a b\na b" (4 tokens), candidate "a b" (2):
   * union LCS of each reference line is "a b"; the first line takes both
   * candidate copies, the second finds none left: hits 2;
   * R = 2/4, P = 2/2, F = 2/3. */
  s = rouge("a b\na b", "a b", RLSUM, 0);
  ASSERT_NEAR(s.r, 0.5, 1e-12);
  ASSERT_NEAR(s.p, 1.0, 1e-12);
  ASSERT_NEAR(s.f, 2.0 / 3.0, 1e-12);
}

TEST(rouge_tokenizer) {
  /* Python: "İstanbul".lower() == "i̇stanbul" -> tokens ["i", "stanbul"];
   * the Kelvin sign lowercases to ASCII "k". Other non-ASCII is a
   * separator ("naïve" -> ["na", "ve"]). */
  arena_fresh();
  rk__ovl_toks t;
  const char *z = "\xc4\xb0stanbul \xe2\x84\xaa" "elvin na\xc3\xafve 3.5% A_B";
  rk__ovl_tokrouge(&A, z, strlen(z), 0, 0, &t);
  ASSERT_EQ_STR(joined(&t), "i stanbul kelvin na ve 3 5 a b");
  rk__ovl_tokrouge(&A, z, strlen(z), 0, 1, &t);
  ASSERT_EQ_STR(joined(&t), "istanbul kelvin na\xc3\xafve 3 5 a b");
  /* Stemming only touches tokens longer than 3 characters. */
  rk__ovl_tokrouge(&A, "Cats flies dies running sky", 27, 1, 0, &t);
  ASSERT_EQ_STR(joined(&t), "cat fli die run sky"); /* "cats" has 4 letters */
  /* ASCII text over two 64-byte blocks (the block path): [a-z0-9] runs
   * of the lowered text, a token across the block end included. */
  const char *lz = "The QUICK brown fox, aged 3.5, jumps over the lazy dog; THE_END? "
                   "Yes-it_is (really) 100%!";
  rk__ovl_tokrouge(&A, lz, strlen(lz), 0, 0, &t);
  ASSERT_EQ_STR(joined(&t), "the quick brown fox aged 3 5 jumps over the lazy dog the end yes it "
                            "is really 100");
  rk__ovl_toks c;
  rk__ovl_tokrouge_chars(&A, lz, strlen(lz), 0, &c);
  ASSERT_EQ_INT(c.n, t.n);
}

/* -------------------------------------------------------------- BLEU */

typedef enum { TK_13A, TK_NONE, TK_CHAR, TK_INTL, TK_ZH } tk;

static int toks(tk k, const char *z, rk__ovl_toks *t) {
  rk__str s = rk__ovl_rstrip(S(z));
  if (k == TK_13A) return rk__ovl_tok13a(&A, s.p, s.n, t);
  if (k == TK_CHAR) return rk__ovl_tokchar(&A, s.p, s.n, t);
  if (k == TK_INTL) return rk__ovl_tokintl(&A, s.p, s.n, t);
  if (k == TK_ZH) return rk__ovl_tokzh(&A, s.p, s.n, t);
  return rk__ovl_split(&A, s.p, s.n, t);
}

/* Statistics of one segment, accumulated into *acc. */
static void bleu_add(tk k, const char *hyp, const char *const *refs, size_t nref, unsigned order,
                     rk__bleu_stats *acc) {
  rk__ovl_toks h, r[8];
  toks(k, hyp, &h);
  for (size_t i = 0; i < nref; i++) toks(k, refs[i], &r[i]);
  rk__ovl_intern in;
  rk__ovl_intern_init(&in, &A, 4096);
  rk__ovl_intern_toks(&in, &A, &h);
  for (size_t i = 0; i < nref; i++) rk__ovl_intern_toks(&in, &A, &r[i]);
  rk__bleu_stats st;
  rk__ovl_bleu_stats(&A, &h, r, nref, order, &st);
  for (int i = 0; i < RK__BLEU_MAX_ORDER; i++) {
    acc->correct[i] += st.correct[i];
    acc->total[i] += st.total[i];
  }
  acc->sys_len += st.sys_len;
  acc->ref_len += st.ref_len;
}

static double sbleu(tk k, const char *hyp, const char *ref, rk__bleu_smooth sm, double sv) {
  arena_fresh();
  rk__bleu_stats st;
  memset(&st, 0, sizeof st);
  bleu_add(k, hyp, &ref, 1, 4, &st);
  return rk__ovl_bleu_compute(&st, 4, sm, sv, 1, NULL, NULL);
}

static const char *lower(const char *z) {
  size_t n;
  return rk__pylower(&A, z, strlen(z), &n);
}

TEST(bleu_sentence_published) {
  /* test_sentence_bleu.py (effective order, as sentence_bleu()); its
   * tolerance is EPSILON = 1e-3, and its figures are cut to that. */
  const char *ref = "produc\xc5\xa3ia de zah\xc4\x83r brut se exprim\xc4\x83 \xc3\xaen zah\xc4\x83r alb;";
  const char *sys = "Produc\xc8\x9bia de zah\xc4\x83r prim\xc4\x83 va fi exprimat\xc4\x83 \xc3\xaen "
                    "ceea ce prive\xc8\x99te zah\xc4\x83rul alb;";
  const double tol = 1e-3;
  ASSERT_NEAR(sbleu(TK_13A, sys, ref, RK__BLEU_EXP, 0), 8.493, tol);
  ASSERT_NEAR(sbleu(TK_NONE, sys, ref, RK__BLEU_EXP, 0), 7.347, tol);
  ASSERT_NEAR(sbleu(TK_CHAR, sys, ref, RK__BLEU_EXP, 0), 40.8759, tol);
  ASSERT_NEAR(sbleu(TK_INTL, sys, ref, RK__BLEU_EXP, 0), 8.493, tol);
  ASSERT_NEAR(sbleu(TK_13A, sys, ref, RK__BLEU_FLOOR, 0.1), 4.51688, tol);
  ASSERT_NEAR(sbleu(TK_13A, sys, ref, RK__BLEU_FLOOR, 0.5), 10.10, tol);
  ASSERT_NEAR(sbleu(TK_13A, sys, ref, RK__BLEU_ADDK, 1), 14.882, tol);
  ASSERT_NEAR(sbleu(TK_13A, sys, ref, RK__BLEU_ADDK, 2), 21.389, tol);
  ASSERT_NEAR(sbleu(TK_13A, sys, ref, RK__BLEU_NONE, 0), 0.0, 0);
  arena_fresh();
  const char *ls = lower(sys), *lr = lower(ref);
  rk__bleu_stats st;
  memset(&st, 0, sizeof st);
  bleu_add(TK_CHAR, ls, &lr, 1, 4, &st);
  ASSERT_NEAR(rk__ovl_bleu_compute(&st, 4, RK__BLEU_EXP, 0, 1, NULL, NULL), 42.0267, tol);
  for (int sm = 0; sm < 4; sm++)
    ASSERT_NEAR(sbleu(TK_13A, "this is a cat", "okay thanks", (rk__bleu_smooth)sm, 1), 0.0, 0);
}

TEST(bleu_corpus_published) {
  /* test_bleu.py: corpus BLEU = statistics summed over the segments,
   * BLEU() defaults (exp smoothing, effective order off). */
  const char *hyps[] = {"The dog bit the man.", "It wasn't surprising.",
                        "The man had just bitten him."};
  const char *refs[3][2] = {{"The dog bit the man.", "The dog had bit the man."},
                            {"It was not unexpected.", "No one was surprised."},
                            {"The man bit him first.", "The man had bitten the dog."}};
  static const double by_order[] = {77.65, 60.50, 53.93, 48.53, 46.14, 43.28};
  for (int k = 0; k < 2; k++) {
    arena_fresh();
    rk__bleu_stats st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < 3; i++) bleu_add(k ? TK_NONE : TK_13A, hyps[i], refs[i], 2, 4, &st);
    double b = rk__ovl_bleu_compute(&st, 4, RK__BLEU_EXP, 0, 0, NULL, NULL);
    ASSERT_NEAR(b, k ? 49.1919566 : 48.530827, 5e-7);
  }
  /* tokenize='intl' -> 43.91623493 ("wasn't" becomes "wasn ' t"). */
  {
    arena_fresh();
    rk__bleu_stats st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < 3; i++) bleu_add(TK_INTL, hyps[i], refs[i], 2, 4, &st);
    ASSERT_NEAR(rk__ovl_bleu_compute(&st, 4, RK__BLEU_EXP, 0, 0, NULL, NULL), 43.91623493, 5e-9);
  }
  for (unsigned o = 1; o <= 6; o++) {
    arena_fresh();
    rk__bleu_stats st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < 3; i++) bleu_add(TK_13A, hyps[i], refs[i], 2, o, &st);
    ASSERT_NEAR(rk__ovl_bleu_compute(&st, o, RK__BLEU_EXP, 0, 0, NULL, NULL), by_order[o - 1],
                5e-3);
  }
  /* compute_bleu([9,7,5,3], [10,8,6,4], 11, 11) -> 83.75922397 */
  rk__bleu_stats st = {{9, 7, 5, 3}, {10, 8, 6, 4}, 11, 11};
  ASSERT_NEAR(rk__ovl_bleu_compute(&st, 4, RK__BLEU_NONE, 0, 0, NULL, NULL), 83.75922397, 5e-9);
}

TEST(bleu_hand) {
  /* "the cat" vs "the cat sat": p1 = 2/2, p2 = 1/1, orders 3-4 have no
   * hypothesis n-grams. Effective order 2: exp((log 100 + log 100)/2) =
   * 100, BP = exp(1 - 3/2) = 0.6065306597126334 -> 60.65306597126334.
   * Without effective order, log 0 = -9999999999 for orders 3 and 4:
   * the score is exp(-5e9) = 0. */
  arena_fresh();
  rk__bleu_stats st;
  memset(&st, 0, sizeof st);
  const char *ref = "the cat sat";
  bleu_add(TK_13A, "the cat", &ref, 1, 4, &st);
  double bp;
  ASSERT_NEAR(rk__ovl_bleu_compute(&st, 4, RK__BLEU_EXP, 0, 1, NULL, &bp), 60.65306597126334,
              1e-12);
  ASSERT_NEAR(bp, 0.6065306597126334, 1e-15);
  ASSERT_NEAR(rk__ovl_bleu_compute(&st, 4, RK__BLEU_EXP, 0, 0, NULL, NULL), 0.0, 0);
  /* Closest reference length, ties to the shorter: hyp 3 tokens, refs of
   * 2 and 4 tokens -> 2 (BP 1); of 4 and 5 -> 4. */
  arena_fresh();
  memset(&st, 0, sizeof st);
  const char *r2[] = {"a b c d", "a b"};
  bleu_add(TK_NONE, "a b c", r2, 2, 4, &st);
  ASSERT_NEAR(st.ref_len, 2, 0);
  arena_fresh();
  memset(&st, 0, sizeof st);
  const char *r3[] = {"a b c d e", "a b c d"};
  bleu_add(TK_NONE, "a b c", r3, 2, 4, &st);
  ASSERT_NEAR(st.ref_len, 4, 0);
  /* Clipping against the max count over references: hyp "a a a",
   * refs "a b" and "a a": unigram correct = min(3, max(1, 2)) = 2. */
  arena_fresh();
  memset(&st, 0, sizeof st);
  const char *r4[] = {"a b", "a a"};
  bleu_add(TK_NONE, "a a a", r4, 2, 4, &st);
  ASSERT_NEAR(st.correct[0], 2, 0);
  ASSERT_NEAR(st.correct[1], 1, 0); /* "a a" once in the second ref */
  ASSERT_NEAR(st.total[0], 3, 0);
  ASSERT_NEAR(st.total[1], 2, 0);
}

TEST(no_ids_and_long) {
  /* The scoring cores take token lists with or without ids: without, a
   * side of at most 63 tokens is compared directly (equality masks) and
   * longer texts are interned inside. Both must give the published and
   * hand figures. */
  arena_fresh();
  rk__ovl_toks t, p;
  rk__ovl_tokrouge(&A, "testing one two", 15, 0, 0, &t);
  rk__ovl_tokrouge(&A, "testing two", 11, 0, 0, &p);
  rk__ovl_prf s;
  ASSERT_EQ_INT(rk__ovl_rouge_l(&A, &t, &p, &s), 0); /* no ids */
  ASSERT_NEAR(s.f, 0.8, 1e-12);
  ASSERT_EQ_INT(rk__ovl_rouge_n(&A, &t, &p, 1, &s), 0);
  ASSERT_NEAR(s.p, 1.0, 1e-12);
  ASSERT_NEAR(s.r, 2.0 / 3.0, 1e-12);
  /* sacreBLEU's sentence vector (exp, 13a) without ids: 8.493 */
  const char *ref = "produc\xc5\xa3ia de zah\xc4\x83r brut se exprim\xc4\x83 \xc3\xaen "
                    "zah\xc4\x83r alb;";
  const char *sys = "Produc\xc8\x9bia de zah\xc4\x83r prim\xc4\x83 va fi "
                    "exprimat\xc4\x83 \xc3\xaen ceea ce prive\xc8\x99te zah\xc4\x83rul alb;";
  rk__ovl_toks h, r;
  toks(TK_13A, sys, &h);
  toks(TK_13A, ref, &r);
  rk__bleu_stats st;
  ASSERT_EQ_INT(rk__ovl_bleu_stats(&A, &h, &r, 1, 4, &st), 0);
  ASSERT_NEAR(rk__ovl_bleu_compute(&st, 4, RK__BLEU_EXP, 0, 1, NULL, NULL), 8.493, 1e-3);

  /* 70 distinct words against the same with word 35 changed: n-grams
   * touching position 35 differ (n of them for order n), so
   * correct = 69, 67, 65, 63 of 70, 69, 68, 67; ROUGE-1 69/70, ROUGE-2
   * 67/69, LCS 69 of 70; SQuAD F1 69/70. Over 63 tokens on both sides:
   * the interned paths. */
  char x[1024], y[1024];
  size_t kx = 0, ky = 0;
  for (int i = 0; i < 70; i++) {
    kx += (size_t)snprintf(x + kx, sizeof x - kx, "%sw%d", i ? " " : "", i);
    ky += (size_t)snprintf(y + ky, sizeof y - ky, "%s%s%d", i ? " " : "", i == 35 ? "zz" : "w", i);
  }
  arena_fresh();
  rk__ovl_toks X, Y;
  rk__ovl_split(&A, x, kx, &X);
  rk__ovl_split(&A, y, ky, &Y);
  ASSERT_EQ_INT(X.n, 70);
  for (int ids = 0; ids < 2; ids++) {
    rk__ovl_toks XX = X, YY = Y;
    if (ids) {
      rk__ovl_intern in;
      rk__ovl_intern_init(&in, &A, 140);
      rk__ovl_intern_toks(&in, &A, &XX);
      rk__ovl_intern_toks(&in, &A, &YY);
    }
    ASSERT_EQ_INT(rk__ovl_bleu_stats(&A, &XX, &YY, 1, 4, &st), 0);
    static const double want[4] = {69, 67, 65, 63}, tot[4] = {70, 69, 68, 67};
    for (int n = 0; n < 4; n++) {
      ASSERT_NEAR(st.correct[n], want[n], 0);
      ASSERT_NEAR(st.total[n], tot[n], 0);
    }
    /* two references, the second the hypothesis itself: all match */
    rk__ovl_toks two[2] = {YY, XX};
    ASSERT_EQ_INT(rk__ovl_bleu_stats(&A, &XX, two, 2, 4, &st), 0);
    for (int n = 0; n < 4; n++) ASSERT_NEAR(st.correct[n], tot[n], 0);
    ASSERT_EQ_INT(rk__ovl_rouge_n(&A, &YY, &XX, 1, &s), 0);
    ASSERT_NEAR(s.f, 69.0 / 70.0, 1e-12);
    ASSERT_EQ_INT(rk__ovl_rouge_n(&A, &YY, &XX, 2, &s), 0);
    ASSERT_NEAR(s.f, 67.0 / 69.0, 1e-12);
    ASSERT_EQ_INT(rk__ovl_rouge_l(&A, &YY, &XX, &s), 0);
    ASSERT_NEAR(s.f, 69.0 / 70.0, 1e-12);
  }
  rk__ovl_toks gx, gy;
  rk__ovl_squad_tokens(&A, rk__str_make(x, kx), &gx);
  rk__ovl_squad_tokens(&A, rk__str_make(y, ky), &gy);
  size_t common;
  ASSERT_NEAR(rk__ovl_squad_f1(&A, &gy, &gx, 0, &common), 69.0 / 70.0, 1e-12);
  ASSERT_EQ_INT(common, 69);
  /* A repeated word: gold "of of the x of" -> [of, of, x, of]; pred
   * "of x x of": common = min(3, 2) of + min(1, 2) x = 3; P 3/4, R 3/4. */
  rk__ovl_squad_tokens(&A, S("of of the x of"), &gx);
  rk__ovl_squad_tokens(&A, S("of x x of"), &gy);
  ASSERT_NEAR(rk__ovl_squad_f1(&A, &gx, &gy, 0, &common), 0.75, 1e-12);
  ASSERT_EQ_INT(common, 3);
}

/* -------------------------------------------------------------- chrF */

static double chrf_corpus(const char *const *hyps, const char *const *refs, size_t n,
                          double beta, int eps, int ws, unsigned wo) {
  arena_fresh();
  rk__chrf_opts o = {6, wo, beta, ws, eps, 0};
  rk__chrf_stats acc;
  memset(&acc, 0, sizeof acc);
  for (size_t i = 0; i < n; i++) {
    rk__chrf_stats st;
    size_t best;
    rk__str r = S(refs[i]);
    rk__ovl_chrf_stats(&A, &o, S(hyps[i]), &r, 1, &st, &best);
    for (int k = 0; k < 3 * RK__CHRF_MAX_ORDER; k++) acc.v[k] += st.v[k];
  }
  return rk__ovl_chrf_f(&o, &acc);
}

/* test_chrf.py test_cases: corpus_chrf(..., beta=3, eps_smoothing=True),
 * and test_cases_effective_order (the default mode, beta 3); read by
 * chrf_published and, as records, by e2e_corpus_chrf_published. */
static const struct {
const char *h[2], *r[2];
size_t n;
double want, tol;
} chrf_eps_cases[] = {
    {{"abcdefg"}, {"hijklmnop"}, 1, 0.0, 5e-5},
    {{"a"}, {"b"}, 1, 0.0, 5e-5},
    {{""}, {"b"}, 1, 0.0, 5e-5},
    {{""}, {"ref"}, 1, 0.0, 5e-5},
    {{""}, {"reference"}, 1, 0.0, 5e-5},
    {{"aa"}, {"ab"}, 1, 8.3333, 5e-5},
    {{"a", "b"}, {"a", "c"}, 2, 8.3333, 5e-5},
    {{"a"}, {"a"}, 1, 16.6667, 5e-5},
    {{"a b c"}, {"a b c"}, 1, 50.0, 5e-5},
    {{"a b c"}, {"abc"}, 1, 50.0, 5e-5},
    {{" risk assessment must be made of those who are qualified and expertise in the sector - "
      "these are the scientists ."},
     {"risk assessment has to be undertaken by those who are qualified and expert in that area "
      "- that is the scientists ."},
     1, 63.361730, 1e-4},
    {{" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "},
     {"Das Verh\xc3\xa4ltnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."}, 1,
     64.1302698, 1e-4},
    {{"Niemand hat die Absicht, eine Mauer zu errichten"},
     {"Niemand hat die Absicht, eine Mauer zu errichten"}, 1, 100.0, 5e-5},
};

static const struct {
const char *h[2], *r[2];
size_t n;
double want;
} chrf_eff_cases[] = {{{"a"}, {"a"}, 1, 100.0},         {{""}, {"reference"}, 1, 0.0},
           {{"a b c"}, {"a b c"}, 1, 100.0}, {{"a b c"}, {"abc"}, 1, 100.0},
           {{""}, {"c"}, 1, 0.0},            {{"a", "b"}, {"a", "c"}, 2, 50.0},
           {{"aa"}, {"ab"}, 1, 25.0}};

TEST(chrf_published) {
  for (size_t i = 0; i < sizeof chrf_eps_cases / sizeof chrf_eps_cases[0]; i++)
    ASSERT_NEAR(
        chrf_corpus(chrf_eps_cases[i].h, chrf_eps_cases[i].r, chrf_eps_cases[i].n, 3, 1, 0, 0),
        chrf_eps_cases[i].want, chrf_eps_cases[i].tol);
  /* test_chrf.py's EPSILON is 1e-4, and 64.1302698 above is in fact the
   * default-mode figure (sacreBLEU 1.x published 0.64130269831561459 for
   * it): eps mode gives 64.1302216, default mode matches 1.x to 1e-10. */
  {
    const char *h = " Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. ";
    const char *r = "Das Verh\xc3\xa4ltnis zwischen Obama und Netanyahu ist nicht gerade "
                    "freundschaftlich.";
    ASSERT_NEAR(chrf_corpus(&h, &r, 1, 3, 0, 0, 0), 64.130269831561459, 1e-9);
  }
  for (size_t i = 0; i < sizeof chrf_eff_cases / sizeof chrf_eff_cases[0]; i++)
    ASSERT_NEAR(
        chrf_corpus(chrf_eff_cases[i].h, chrf_eff_cases[i].r, chrf_eff_cases[i].n, 3, 0, 0, 0),
        chrf_eff_cases[i].want, 5e-5);
  /* test_cases_keep_whitespace (whitespace kept, default mode) */
  const char *h1 = "Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.";
  const char *r1 = "Das Verh\xc3\xa4ltnis zwischen Obama und Netanyahu ist nicht gerade "
                   "freundschaftlich.";
  ASSERT_NEAR(chrf_corpus(&h1, &r1, 1, 3, 0, 1, 0), 67.3481606, 5e-8);
  const char *h2 = "risk assessment must be made of those who are qualified and expertise in "
                   "the sector - these are the scientists .";
  const char *r2 = "risk assessment has to be undertaken by those who are qualified and expert in "
                   "that area - that is the scientists .";
  ASSERT_NEAR(chrf_corpus(&h2, &r2, 1, 3, 0, 1, 0), 65.2414427, 5e-8);
  /* test_chrf_sentence_level: sentence_chrf(eps_smoothing=True), beta 2 */
  static const struct {
    const char *h, *r;
    double want;
  } sent[] = {
      {"Co n\xc3\xa1s nejv\xc3\xad" "c tr\xc3\xa1p\xc3\xad, proto\xc5\xbe" "e l\xc3\xa9ka\xc5\x99i "
       "si vyb\xc3\xadraj\xc3\xad, kdo bude \xc5\xbe\xc3\xadt a kdo zem\xc5\x99" "e.",
       "Nejv\xc3\xad" "ce smutn\xc3\xad jsme z toho, \xc5\xbe" "e mus\xc3\xadme rozhodovat o tom, "
       "kdo bude \xc5\xbe\xc3\xadt a kdo zem\xc5\x99" "e.",
       39.14078509},
      {"Nebo prost\xc4\x9b nemaj\xc3\xad vybaven\xc3\xad, kter\xc3\xa9 by jim pomohlo, uvedli "
       "l\xc3\xa9ka\xc5\x99i.",
       "A n\xc4\x9bkdy nem\xc3\xa1me ani pot\xc5\x99" "ebn\xc3\xbd materi\xc3\xa1l, abychom jim "
       "pomohli, popsali l\xc3\xa9ka\xc5\x99i.",
       31.22557079},
      {"Lapali po dechu, jejich \xc5\xbeivoty skon\xc4\x8dily d\xc5\x99\xc3\xadv, ne\xc5\xbe "
       "skute\xc4\x8dn\xc4\x9b za\xc4\x8d" "aly.",
       "Lapali po dechu a pak jejich \xc5\xbeivot skon\xc4\x8dil - d\xc5\x99\xc3\xadv, ne\xc5\xbe "
       "skute\xc4\x8dn\xc4\x9b mohl za\xc4\x8d\xc3\xadt, p\xc5\x99ipomn\xc4\x9bli.",
       57.15704367},
  };
  for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++)
    ASSERT_NEAR(chrf_corpus(&sent[i].h, &sent[i].r, 1, 2, 1, 0, 0), sent[i].want, 5e-9);
}


/* The equality-mask count of character n-grams (code points <= U+00FF,
 * hypotheses up to 256 of them) against the prefix tree it replaced, on
 * random pairs: ASCII, Latin-1, whitespace, punctuation, 0-3 references,
 * hypotheses of 0-300 code points (every mask width and the fallback). The
 * statistics must be identical, not close. */
static unsigned long long trng = 88172645463325252ull;
static unsigned trand(unsigned n) {
  trng ^= trng << 13;
  trng ^= trng >> 7;
  trng ^= trng << 17;
  return (unsigned)(trng % n);
}

static size_t rand_text(char *b, size_t maxpieces, int latin) {
  static const char *const piece[] = {"a", "b", "c", "ab", " ", " ", "  ", "\t", ",", ".",
                                      "(", "abc", "\xc3\xa9", "\xc2\xa0", "\xe4\xb8\xad", "x"};
  size_t n = 0, np = trand((unsigned)maxpieces + 1);
  for (size_t i = 0; i < np; i++) {
    unsigned k = trand(latin ? 16 : 12);
    if (!latin && k >= 12) k = 0;
    size_t l = strlen(piece[k]);
    memcpy(b + n, piece[k], l);
    n += l;
  }
  b[n] = 0;
  return n;
}

TEST(chrf_masks_vs_tree) {
  char h[2048], r[3][2048];
  int bad = 0;
  for (int it = 0; it < 600; it++) {
    arena_fresh();
    size_t hn = rand_text(h, it % 3 == 0 ? 300 : 60, it % 4 == 1);
    rk__str refs[3];
    size_t nref = 1 + trand(3);
    for (size_t k = 0; k < nref; k++) refs[k] = rk__str_make(r[k], rand_text(r[k], 80, it % 4 == 1));
    rk__chrf_opts o = {1 + trand(6), trand(3), 2.0, (int)trand(2), 0, (int)trand(2)};
    rk__chrf_stats s1, s2;
    size_t b1, b2;
    ASSERT_EQ_INT(rk__ovl_chrf_stats(&A, &o, rk__str_make(h, hn), refs, nref, &s1, &b1), 0);
    ASSERT_EQ_INT(rk__ovl_chrf_stats_tree(&A, &o, rk__str_make(h, hn), refs, nref, &s2, &b2), 0);
    if (memcmp(&s1, &s2, sizeof s1) != 0 || b1 != b2) {
      if (!bad) fprintf(stderr, "chrf mismatch on '%s' vs '%s'\n", h, r[0]);
      bad++;
    }
  }
  ASSERT_EQ_INT(bad, 0);
}

TEST(chrf_hand) {
  /* chrF++ word n-grams after the punctuation split: "(hi) there." ->
   * ["(hi", ")", "there", "."] (sacreBLEU issue #124: only one side of a
   * word is split). Against itself every order matches: 100. */
  const char *h = "(hi) there.";
  ASSERT_NEAR(chrf_corpus(&h, &h, 1, 2, 0, 0, 2), 100.0, 1e-9);
  /* "ab" vs "ab c" with char_order 6, beta 2, default mode:
   * hyp chars "ab", ref chars "abc"; order 1: P 2/2, R 2/3; order 2:
   * P 1/1, R 1/2; orders 3-6: no hyp n-grams -> eps in the sums, not in
   * the count. avgP = (1 + 1)/2 = 1, avgR = (2/3 + 1/2)/2 = 7/12;
   * F2 = 5 * 1 * 7/12 / (4 * 1 + 7/12) = (35/12)/(55/12) = 7/11. */
  const char *a = "ab", *b = "ab c";
  ASSERT_NEAR(chrf_corpus(&a, &b, 1, 2, 0, 0, 0), 100.0 * 7.0 / 11.0, 1e-9);
  /* Several references: the one with the best F wins (first on ties). */
  arena_fresh();
  rk__chrf_opts o = {6, 0, 2, 0, 0, 0};
  rk__str refs[3] = {S("xyz"), S("abc"), S("abc")};
  rk__chrf_stats st;
  size_t best = 9;
  rk__ovl_chrf_stats(&A, &o, S("abc"), refs, 3, &st, &best);
  ASSERT_EQ_INT(best, 1);
  ASSERT_NEAR(rk__ovl_chrf_f(&o, &st), 100.0, 1e-9);
}

/* Sentence chrF in the default mode, to the last bit: the orders where
 * the hypothesis or the reference has no n-gram are left out of the
 * averages (sacreBLEU 2.x), so no shared character scores exactly 0, not
 * eps. Values from tests/data/overlap/gen_chrf.py (sacreBLEU's f-score
 * written out in Python, run outside the test). */
TEST(chrf_default_exact) {
  static const struct {
    const char *h, *r;
    double want;
  } c[] = {
      {"yes", "no", 0.0},
      {"ab", "ab c", 0x1.fd1745d1745d0p+5},
      {"abc", "!!!", 0.0},
      {"the cat sat", "a cat sat down", 0x1.43ee8a6304d70p+5},
      {"Kate sat", "sat Kate", 0x1.65c71c71c71c7p+5},
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    double got = chrf_corpus(&c[i].h, &c[i].r, 1, 2, 0, 0, 0);
    if (got != c[i].want)
      fprintf(stderr, "chrf '%s' / '%s': %a, want %a\n", c[i].h, c[i].r, got, c[i].want);
    ASSERT_TRUE(got == c[i].want);
  }
}

/* ------------------------------------------------------------ F1/EM */

static double f1(const char *gold, const char *pred, int v11) {
  arena_fresh();
  rk__ovl_toks g, p;
  rk__ovl_squad_tokens(&A, S(gold), &g);
  rk__ovl_squad_tokens(&A, S(pred), &p);
  size_t common;
  return rk__ovl_squad_f1(&A, &g, &p, v11, &common);
}

TEST(squad_published) {
  ASSERT_NEAR(f1("The Eiffel Tower", "eiffel tower in Paris", 0), 0.666667, 5e-7);
  ASSERT_NEAR(f1("", "the", 0), 1.0, 0); /* both normalise to nothing */
  arena_fresh();
  rk__str n;
  rk__normalize_squad(&A, S("The U.S.A. isn't"), &n);
  ASSERT_EQ_SPAN(n.p, n.n, "usa isnt");
}

TEST(squad_tokens) {
  /* The one-pass ASCII path agrees with the shared normaliser + split():
   * articles only as whole \w runs once punctuation is gone ("a.b" ->
   * "ab"), control characters are not spaces but end a word, \x1c-\x1f
   * are spaces for str.split(). */
  static const char *const cases[] = {
      "The U.S.A. isn't", "a.b an_the THE-end", "x\x01the\x01y", "the\x1c" "an\x1d" "b",
      "  A  ", "theatre anthem", "a1 an2 the3 _a_", "", "!!!", ("An\x7f" "an"),
      /* longer than a 64-byte block, tokens across block ends, trailing
       * and inner punctuation, articles at the ends */
      "The cat, the dog and a bird sat on the mat. A man (an old one) read the U.S.A. "
      "Today - it's 3.5 km away, the end.",
      "An apple a day keeps the doctor away;  the  end  of  the  story  is  near  an  a",
      "(a) (an) (the) [the] x,y x.y x..y x.,y ..x y.. 3.5.6 e.g. i.e. etc.",
      "Zebra\tYAK\nQuail\vEmu\fowl\rTHE end",
      /* Latin-1 letters (C3 xx) on the one-pass path: lowered, \w (no
       * article inside "thé", "aé"), signs x and / (C3 97, C3 B7) and
       * other non-ASCII (C2 xx, CJK) go to the shared normaliser */
      "The CAF\xc3\x89 na\xc3\xafve \xc3\x9c" "ber th\xc3\xa9 a\xc3\xa9 \xc3\x80 \xc3\x9f\xc3\xbf an",
      "caf\xc3\xa9, the \xc3\x97 sign", "x \xc3\xb7 y the", "\xc2\xb5m the caf\xc3\xa9",
      "the \xe5\xa4\xa7 caf\xc3\xa9", "\xc3"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    arena_fresh();
    rk__ovl_toks fast, ref;
    rk__str n;
    ASSERT_EQ_INT(rk__ovl_squad_tokens(&A, S(cases[i]), &fast), 0);
    rk__normalize_squad(&A, S(cases[i]), &n);
    rk__ovl_split(&A, n.p, n.n, &ref);
    char want[512];
    snprintf(want, sizeof want, "%s", joined(&ref));
    ASSERT_EQ_STR(joined(&fast), want);
  }
  /* Hand, across two blocks: lower, delete punctuation ("U.S.A." ->
   * "usa", "it's" -> "its", "3.5" -> "35"), drop whole-word articles. */
  arena_fresh();
  rk__ovl_toks lt;
  ASSERT_EQ_INT(rk__ovl_squad_tokens(&A, S(cases[10]), &lt), 0);
  ASSERT_EQ_STR(joined(&lt), "cat dog and bird sat on mat man old one read usa today its 35 km "
                             "away end");
  /* Hand: "a.b an_the THE-end" -> lower "a.b an_the the-end" -> no
   * punctuation "ab anthe theend" -> no article word -> 3 tokens. */
  arena_fresh();
  rk__ovl_toks t;
  rk__ovl_squad_tokens(&A, S("a.b an_the THE-end"), &t);
  ASSERT_EQ_STR(joined(&t), "ab anthe theend");
  rk__ovl_squad_tokens(&A, S("x\x01the\x01y"), &t);
  ASSERT_EQ_STR(joined(&t), "x\x01 \x01y");
  /* Hand, Latin-1: "The CAFÉ naïve Über thé aé À ßÿ an" -> lower "the
   * café naïve über thé aé à ßÿ an" -> articles "the", "an" dropped */
  rk__ovl_squad_tokens(&A, S(cases[14]), &t);
  ASSERT_EQ_STR(joined(&t), "caf\xc3\xa9 na\xc3\xafve \xc3\xbc" "ber th\xc3\xa9 a\xc3\xa9 \xc3\xa0 "
                            "\xc3\x9f\xc3\xbf");
}

/* Random short answers for the SQuAD paths: articles in both cases,
 * punctuation inside and around words, Python whitespace, Latin-1 letters
 * (C3 xx: U+00DE, the end of the lowered range, U+00DF after it, U+00C0)
 * and the signs x and / (C3 97, C3 B7), a lone C3, NBSP (C2 A0), a
 * control character. */
static size_t rand_answer(char *b, size_t maxpieces) {
  static const char *const piece[] = {
      "a",  "an", "the", "The", "A",  "AN",     "x",  "Ab3", "3.5",      ",",        ".",
      "!",  "_",  "'",   " ",   " ",  "  ",     "\t", "\x1c", "theatre", "\xc3\xa9", "\xc3\x89",
      "\xc3\x9e", "\xc3\x97", "\xc3\xb7", "\xc3", "\xc2\xa0", "\x01", "U.S.", "the-end",
      "\xc3\x9f", "\xc3\x80"};
  size_t n = 0, np = trand((unsigned)maxpieces + 1);
  for (size_t i = 0; i < np; i++) {
    unsigned k = trand(32);
    if (k >= 23 && k < 30 && trand(4)) k = trand(23); /* the rarer pieces less often */
    size_t l = strlen(piece[k]);
    memcpy(b + n, piece[k], l);
    n += l;
  }
  b[n] = 0;
  return n;
}

/* SQuAD's normalised text, from the shared normaliser + split(). */
static const char *squad_joined(const char *z, size_t n, size_t *ntok) {
  rk__str nm;
  rk__ovl_toks t;
  rk__normalize_squad(&A, rk__str_make(z, n), &nm);
  rk__ovl_split(&A, nm.p, nm.n, &t);
  *ntok = t.n;
  return joined(&t);
}

TEST(squad_key) {
  /* Hand: lower, punctuation deleted, articles dropped, one space. */
  static const struct {
    const char *in, *key;
  } hand[] = {{"The U.S.A. isn't", "usa isnt"},
              {"x the y", "x y"},
              {" the cat,the dog an", "catthe dog"},
              {"a an the", ""},
              {"theatre AN-them", "theatre anthem"},
              {"The CAF\xc3\x89 na\xc3\xafve \xc3\x80 th\xc3\xa9", "caf\xc3\xa9 na\xc3\xafve \xc3\xa0 th\xc3\xa9"},
              {"Zebra\tYAK\x1c" "Quail", "zebra yak quail"}};
  const int wide = rk__wide_on(RK__WIDE_VBMI2);
  char key[64];
  const char *kp = key;
  size_t kn, kt;
  for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
    int r = rk__ovl_squad_key(hand[i].in, strlen(hand[i].in), key, &kn, &kt);
    ASSERT_EQ_INT(r, wide);
    if (r) ASSERT_EQ_SPAN(kp, kn, hand[i].key);
  }
  /* Not taken: 64 bytes or more, other non-ASCII, controls. */
  static const char *const no[] = {"x \xc3\x97 y", "\xc2\xb5m", "caf\xc3", "a\x01b", "a\x7f",
                                   "0123456789012345678901234567890123456789012345678901234567890123"};
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    ASSERT_EQ_INT(rk__ovl_squad_key(no[i], strlen(no[i]), key, &kn, &kt), 0);
  /* Random answers: when taken, the key is the normaliser's text and
   * the token count its count; taken for every text under 64 bytes
   * without controls or other non-ASCII. */
  size_t taken = 0;
  for (int it = 0; it < 20000; it++) {
    arena_fresh();
    char b[512];
    size_t n = rand_answer(b, 24), want_n;
    const char *want = squad_joined(b, n, &want_n);
    int r = rk__ovl_squad_key(b, n, key, &kn, &kt);
    int plain = n < 64 && !strstr(b, "\xc3\x97") && !strstr(b, "\xc3\xb7") &&
                !strstr(b, "\xc2") && !strchr(b, '\x01');
    for (size_t q = 0; plain && q < n; q++)
      if ((unsigned char)b[q] == 0xC3 && (q + 1 == n || ((unsigned char)b[q + 1] & 0xC0) != 0x80))
        plain = 0;
    ASSERT_EQ_INT(r, wide && plain);
    if (!r) continue;
    taken++;
    ASSERT_EQ_SPAN(kp, kn, want);
    ASSERT_EQ_INT(kt, want_n);
  }
  if (wide) ASSERT_TRUE(taken > 5000);
}

/* The block paths with and without AVX-512 give the definitions' tokens
 * (SQuAD: the shared normaliser + split(); rouge: the character loop). */
TEST(block_paths_both_widths) {
  for (int w = 0; w < 2; w++) {
    rk__wide = w;
    for (int it = 0; it < 3000; it++) {
      arena_fresh();
      char b[2048];
      size_t n = rand_answer(b, it % 3 ? 30 : 200), want_n;
      char want[4096];
      snprintf(want, sizeof want, "%s", squad_joined(b, n, &want_n));
      rk__ovl_toks t, c;
      ASSERT_EQ_INT(rk__ovl_squad_tokens(&A, rk__str_make(b, n), &t), 0);
      ASSERT_EQ_STR(joined(&t), want);
      for (int uni = 0; uni < 2; uni++) {
        ASSERT_EQ_INT(rk__ovl_tokrouge(&A, b, n, 0, uni, &t), 0);
        ASSERT_EQ_INT(rk__ovl_tokrouge_chars(&A, b, n, uni, &c), 0);
        snprintf(want, sizeof want, "%s", joined(&c));
        ASSERT_EQ_STR(joined(&t), want);
      }
    }
  }
  rk__wide = 1;
}

TEST(squad_hand) {
  /* gold "a b b c" -> [b, b, c] ("a" is an article); pred "b c c d":
   * common = min(2,1) b + min(1,2) c = 2; P = 2/4, R = 2/3;
   * F1 = 2 (1/2)(2/3) / (7/6) = (2/3)/(7/6) = 4/7. */
  ASSERT_NEAR(f1("a b b c", "b c c d", 0), 4.0 / 7.0, 1e-12);
  ASSERT_NEAR(f1("x", "y", 0), 0.0, 0);
  /* Python's lower() makes U+0130 "i" + U+0307: "İstanbul" is not
   * "istanbul" (0); in "Ankara, İzmir" vs "ankara izmir" one token of two
   * is common: P = R = 1/2, F1 1/2. */
  ASSERT_NEAR(f1("istanbul", "\xc4\xb0stanbul", 0), 0.0, 0);
  ASSERT_NEAR(f1("Ankara, \xc4\xb0zmir", "ankara izmir", 0), 0.5, 1e-12);
  ASSERT_NEAR(f1("i\xcc\x87stanbul", "\xc4\xb0stanbul", 0), 1.0, 0);
  /* v1.1: an empty side scores 0 even when both are empty. */
  ASSERT_NEAR(f1("", "the", 1), 0.0, 0);
  ASSERT_NEAR(f1("x", "", 0), 0.0, 0);
}

/* ------------------------------------------------------- end to end */

#define SPEC(fn, args) "{\"reward\": {\"fn\": \"" fn "\", \"args\": {" args "}}}"

TEST(e2e_f1_em) {
  /* Several golds: the best counts. "Paris" vs ["the city of Paris",
   * "Paris"]: F1 = 1 from the second; EM 1. */
  e2e_result r = e2e_score(SPEC("f1", ""),
                           "{\"response\": \"Paris.\", \"reference\": [\"the city of Paris\", \"Paris\"]}");
  ASSERT_E2E(r, 1.0, "ok");
  ASSERT_CONTAINS(r.explain, "gold 2 of 2");
  r = e2e_score(SPEC("em", ""),
                "{\"response\": \"The Paris\", \"reference\": [\"city of Paris\", \"paris\"]}");
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score(SPEC("em", ""), "{\"response\": \"Lyon\", \"reference\": \"Paris\"}");
  ASSERT_E2E(r, 0.0, "ok");
  /* Extraction is shared: <answer> tag. F1("eiffel tower", "tower") =
   * P 1, R 1/2 -> 2/3. */
  r = e2e_score(SPEC("f1", "\"extract\": \"answer_tag\""),
                "{\"response\": \"<think>hm</think><answer>Tower</answer>\", \"reference\": "
                "\"The Eiffel Tower\"}");
  ASSERT_E2E(r, 2.0 / 3.0, "ok");
  r = e2e_score(SPEC("f1", "\"extract\": \"answer_tag\""),
                "{\"response\": \"no tags\", \"reference\": \"x\"}");
  ASSERT_E2E(r, 0.0, "unparseable");
  /* Unanswerable (every gold normalises to nothing): empty answer = 1. */
  r = e2e_score(SPEC("f1", ""), "{\"response\": \"\", \"reference\": [\"\", \"the\"]}");
  ASSERT_E2E(r, 1.0, "ok");
  ASSERT_CONTAINS(r.explain, "normalises to nothing");
  r = e2e_score(SPEC("f1", "\"squad_version\": \"v1.1\""),
                "{\"response\": \"\", \"reference\": \"\"}");
  ASSERT_E2E(r, 0.0, "ok");
  r = e2e_score(SPEC("f1", ""), "{\"response\": \"x\"}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
  r = e2e_score(SPEC("f1", ""), "{\"response\": \"x\", \"reference\": {\"a\": 1}}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
}

/* em without explanations takes the key path where it can: the same
 * rewards and statuses as with explanations (the token path), on random
 * answers and golds, both SQuAD versions. */
TEST(e2e_em_key_path) {
  for (int it = 0; it < 1500; it++) {
    char resp[256], g[3][256], rec[4096], spec[128], esc[4][1600];
    size_t ng = 1 + trand(3);
    rand_answer(resp, 12);
    for (size_t k = 0; k < ng; k++) rand_answer(g[k], 10);
    /* JSON-escape: control bytes as \u00XX; the texts are valid UTF-8
     * but for a lone C3, which the reader refuses: replace it. */
    for (size_t k = 0; k <= ng; k++) {
      const char *z = k == ng ? resp : g[k];
      size_t o = 0;
      for (const unsigned char *q = (const unsigned char *)z; *q; q++) {
        if (*q == 0xC3 && (q[1] & 0xC0) != 0x80) o += (size_t)sprintf(esc[k] + o, "?");
        else if (*q < 0x20 || *q == '"' || *q == '\\') o += (size_t)sprintf(esc[k] + o, "\\u%04x", *q);
        else esc[k][o++] = (char)*q;
      }
      esc[k][o] = 0;
    }
    int n = snprintf(rec, sizeof rec, "{\"response\": \"%s\", \"reference\": [", esc[ng]);
    for (size_t k = 0; k < ng; k++)
      n += snprintf(rec + n, sizeof rec - (size_t)n, "%s\"%s\"", k ? ", " : "", esc[k]);
    snprintf(rec + n, sizeof rec - (size_t)n, "]}");
    snprintf(spec, sizeof spec, "%s",
             it & 1 ? SPEC("em", "\"squad_version\": \"v1.1\"") : SPEC("em", ""));
    e2e_result a = e2e_score_ex(spec, rec, 0), b = e2e_score_ex(spec, rec, 1);
    ASSERT_TRUE(a.ok && b.ok);
    ASSERT_EQ_STR(a.status, b.status);
    ASSERT_TRUE(a.reward == b.reward);
  }
}

TEST(e2e_rouge) {
  e2e_result r = e2e_score(SPEC("rouge", ""), "{\"response\": \"the cat is on the mat\", "
                                              "\"reference\": \"The cat sat on the mat.\"}");
  ASSERT_E2E(r, 5.0 / 6.0, "ok"); /* LCS 5 of 6 and 6 */
  ASSERT_CONTAINS(r.explain, "rougeL F");
  r = e2e_score(SPEC("rouge", "\"variant\": \"rouge2\""),
                "{\"response\": \"the cat is on the mat\", \"reference\": \"the cat sat on the mat\"}");
  ASSERT_E2E(r, 0.6, "ok");
  /* score_multi quirk: refs ["a b", "a b c d e f"], prediction "a b c".
   * ref 1: LCS 2, P 2/3, R 1, F 0.8; ref 2: LCS 3, P 1, R 1/2, F 2/3.
   * best_f keeps ref 1, so precision = 2/3; multi_ref max gives 1. */
  const char *rec = "{\"response\": \"a b c\", \"reference\": [\"a b\", \"a b c d e f\"]}";
  r = e2e_score(SPEC("rouge", "\"measure\": \"precision\""), rec);
  ASSERT_E2E(r, 2.0 / 3.0, "ok");
  r = e2e_score(SPEC("rouge", "\"measure\": \"precision\", \"multi_ref\": \"max\""), rec);
  ASSERT_E2E(r, 1.0, "ok");
  /* Non-ASCII answer: no tokens under rouge-score's tokenizer -> 0; the
   * unicode tokenizer scores it. */
  rec = "{\"response\": \"\\u4f60\\u597d\", \"reference\": \"\\u4f60\\u597d\"}";
  r = e2e_score(SPEC("rouge", ""), rec);
  ASSERT_E2E(r, 0.0, "ok");
  ASSERT_CONTAINS(r.explain, "non-ASCII");
  r = e2e_score(SPEC("rouge", "\"tokenizer\": \"unicode\""), rec);
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score(SPEC("rouge", "\"variant\": \"rougeLsum\""),
                "{\"response\": \"w1 w2 w6 w7 w8\\nw1 w3 w8 w9 w5\", \"reference\": \"w1 w2 w3 w4 w5\"}");
  ASSERT_NEAR(r.reward, 0.53333333333333333, 1e-12); /* 2(.4)(.8)/1.2 */
  r = e2e_score(SPEC("rouge", ""), "{\"response\": \"\", \"reference\": \"a b\"}");
  ASSERT_E2E(r, 0.0, "ok");
  char err[512];
  e2e_spec_error(SPEC("rouge", "\"variant\": \"rougeX\""), err, sizeof err);
  ASSERT_CONTAINS(err, "args.variant");
}

/* Python's lower() gives a capital sigma that ends a word the final form
 * (text/pycase.h). Expected values from python3:
 *   "ΟΔΟΣ".lower() == "οδος"      "Η ΟΔΟΣ.".lower() == "η οδος."
 *   "ΣΟΦΙΑ".lower() == "σοφια"    "ΑΣ-Α".lower() == "ας-α" ('-' is
 *   neither cased nor case ignorable: the Σ ends a word before SQuAD
 *   deletes the '-', so the key is "αςα")
 *   "ΟΔΟΣ ΣΟΦΙΑΣ".lower() == "οδος σοφιας" */
#define ODOS_UP "\\u039f\\u0394\\u039f\\u03a3"
#define ODOS_FINAL "\\u03bf\\u03b4\\u03bf\\u03c2"
#define ODOS_SMALL "\\u03bf\\u03b4\\u03bf\\u03c3"
TEST(e2e_final_sigma) {
  e2e_result r = e2e_score(SPEC("em", ""), e2e_rec("\"" ODOS_FINAL "\"", ODOS_UP));
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score(SPEC("em", ""), e2e_rec("\"" ODOS_SMALL "\"", ODOS_UP));
  ASSERT_E2E(r, 0.0, "ok");
  /* tokens [η, οδος] both sides: F1 1 */
  r = e2e_score(SPEC("f1", ""),
                e2e_rec("\"\\u03b7 " ODOS_FINAL "\"", "\\u0397 " ODOS_UP "."));
  ASSERT_E2E(r, 1.0, "ok");
  /* a Σ that starts a word: σ */
  r = e2e_score(SPEC("em", ""), e2e_rec("\"\\u03c3\\u03bf\\u03c6\\u03b9\\u03b1\"",
                                        "\\u03a3\\u039f\\u03a6\\u0399\\u0391"));
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score(SPEC("em", ""), e2e_rec("\"\\u03b1\\u03c2\\u03b1\"", "\\u0391\\u03a3-\\u0391"));
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score(SPEC("em", ""), e2e_rec("\"\\u03b1\\u03c3\\u03b1\"", "\\u0391\\u03a3-\\u0391"));
  ASSERT_E2E(r, 0.0, "ok");
  /* rouge's unicode tokenizer: [οδος, σοφιας] both sides */
  r = e2e_score(SPEC("rouge", "\"tokenizer\": \"unicode\""),
                e2e_rec("\"" ODOS_FINAL " \\u03c3\\u03bf\\u03c6\\u03b9\\u03b1\\u03c2\"",
                        ODOS_UP " \\u03a3\\u039f\\u03a6\\u0399\\u0391\\u03a3"));
  ASSERT_E2E(r, 1.0, "ok");
  /* sacreBLEU / chrF lowercase=True: sent.lower(); the same four
   * characters on both sides: 1 */
  r = e2e_score(SPEC("bleu", "\"tokenize\": \"char\", \"lowercase\": true"),
                e2e_rec("\"" ODOS_FINAL "\"", ODOS_UP));
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score(SPEC("chrf", "\"lowercase\": true"), e2e_rec("\"" ODOS_FINAL "\"", ODOS_UP));
  ASSERT_E2E(r, 1.0, "ok");
}

TEST(e2e_bleu_chrf) {
  const char *rec = "{\"response\": \"Produc\\u021bia de zah\\u0103r prim\\u0103 va fi "
                    "exprimat\\u0103 \\u00een ceea ce prive\\u0219te zah\\u0103rul alb;\", "
                    "\"reference\": \"produc\\u0163ia de zah\\u0103r brut se exprim\\u0103 "
                    "\\u00een zah\\u0103r alb;\"}";
  e2e_result r = e2e_score(SPEC("bleu", ""), rec);
  ASSERT_NEAR(r.reward, 0.08493, 1e-5);
  ASSERT_EQ_STR(r.status, "ok");
  ASSERT_CONTAINS(r.explain, "BLEU 8.49");
  r = e2e_score(SPEC("bleu", "\"smooth\": \"floor\""), rec);
  ASSERT_NEAR(r.reward, 0.0451688, 1e-5);
  r = e2e_score(SPEC("bleu", "\"smooth\": \"add-k\", \"smooth_value\": 2"), rec);
  ASSERT_NEAR(r.reward, 0.21389, 1e-5);
  r = e2e_score(SPEC("bleu", "\"tokenize\": \"char\""), rec);
  ASSERT_NEAR(r.reward, 0.408759, 1e-5);
  /* Empty references are skipped; only empty ones: invalid_reference. */
  r = e2e_score(SPEC("bleu", ""), "{\"response\": \"a b\", \"reference\": [\"\", \"a b\"]}");
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score(SPEC("bleu", ""), "{\"response\": \"a b\", \"reference\": [\"\"]}");
  ASSERT_EQ_STR(r.status, "invalid_reference");
  r = e2e_score(SPEC("bleu", ""), "{\"response\": \"\", \"reference\": \"a b\"}");
  ASSERT_E2E(r, 0.0, "ok");
  char err[512];
  e2e_spec_error(SPEC("bleu", "\"smooth_value\": 3"), err, sizeof err);
  ASSERT_CONTAINS(err, "args.smooth_value");
  /* zh: "我爱北京" vs "我爱北京天安门" is 4 vs 7 one-character tokens;
   * every n-gram of the answer matches (orders 1-4: 4/4 3/3 2/2 1/1),
   * BP = exp(1 - 7/4) = exp(-0.75) = 0.4723665527410147. Under 13a each
   * side is one token and nothing matches. */
  rec = "{\"response\": \"\u6211\u7231\u5317\u4eac\", \"reference\": "
        "\"\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8\"}";
  r = e2e_score(SPEC("bleu", "\"tokenize\": \"zh\""), rec);
  ASSERT_E2E(r, 0.4723665527410147, "ok");
  ASSERT_CONTAINS(r.explain, "zh tokens");
  r = e2e_score(SPEC("bleu", ""), rec);
  ASSERT_E2E(r, 0.0, "ok");
  /* intl cuts "a-b" into a - b (a Pd between letters); 13a does not:
   * 3 identical tokens (effective order 3, BP 1) -> 1 against 0. */
  rec = "{\"response\": \"a-b\", \"reference\": \"a - b\"}";
  r = e2e_score(SPEC("bleu", "\"tokenize\": \"intl\""), rec);
  ASSERT_E2E(r, 1.0, "ok");
  r = e2e_score(SPEC("bleu", ""), rec);
  ASSERT_E2E(r, 0.0, "ok");
  /* MeCab-based tokenizers are refused when the spec compiles. */
  e2e_spec_error(SPEC("bleu", "\"tokenize\": \"ja-mecab\""), err, sizeof err);
  ASSERT_CONTAINS(err, "args.tokenize");
  ASSERT_CONTAINS(err, "MeCab");
  e2e_spec_error(SPEC("bleu", "\"tokenize\": \"ko-mecab\""), err, sizeof err);
  ASSERT_CONTAINS(err, "MeCab");
  /* chrF: Czech sentence vector through the CLI path, eps smoothing. */
  r = e2e_score(SPEC("chrf", "\"eps_smoothing\": true"),
                "{\"response\": \"Lapali po dechu, jejich \\u017eivoty skon\\u010dily "
                "d\\u0159\\u00edv, ne\\u017e skute\\u010dn\\u011b za\\u010daly.\", \"reference\": "
                "\"Lapali po dechu a pak jejich \\u017eivot skon\\u010dil - d\\u0159\\u00edv, "
                "ne\\u017e skute\\u010dn\\u011b mohl za\\u010d\\u00edt, p\\u0159ipomn\\u011bli.\"}");
  ASSERT_NEAR(r.reward, 0.5715704367, 5e-11);
  r = e2e_score(SPEC("chrf", "\"word_order\": 2"),
                "{\"response\": \"the cat\", \"reference\": [\"a dog\", \"the cat\"]}");
  ASSERT_E2E(r, 1.0, "ok");
  ASSERT_CONTAINS(r.explain, "reference 2 of 2");
  r = e2e_score(SPEC("chrf", ""), "{\"response\": \"\", \"reference\": \"abc\"}");
  ASSERT_E2E(r, 0.0, "ok");
}

/* ------------------------------------------------------------ CIDEr-D */

/* Writes a df file for 2 images: ref_len = log 2; df a: 2, b: 1, "a b": 1. */
static const char *df_file(void) {
  static char path[64];
  if (path[0]) return path;
  snprintf(path, sizeof path, "/tmp/rk_test_overlap_df_%d.json", (int)getpid());
  FILE *f = fopen(path, "w");
  if (!f) return "";
  fputs("{\"ref_len\": 0.6931471805599453, \"num_images\": 2, "
        "\"df\": {\"a\": 2, \"b\": 1, \"a b\": 1}}\n", f);
  fclose(f);
  return path;
}

/* ------------------------------------------------------ corpus scores */

/* {"response": HYP, "reference": [REFS...]} as JSON text (malloc'd),
 * written by jansson so that any text is escaped right. */
static char *corpus_rec(const char *hyp, const char *const *refs, size_t nref) {
  json_t *r = json_array();
  for (size_t i = 0; i < nref; i++) json_array_append_new(r, json_string(refs[i]));
  json_t *o = json_object();
  json_object_set_new(o, "response", json_string(hyp));
  json_object_set_new(o, "reference", r);
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return text;
}

static double jnum(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static double jnum_at(const json_t *o, const char *key, size_t i) {
  const json_t *v = json_array_get(json_object_get(o, key), i);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The corpus score of n (hypothesis, references) segments under spec. */
static e2e_corpus_result corpus_of(const char *spec, const char *const *hyps,
                                   const char *const (*refs)[2], const size_t *nref, size_t n) {
  char *recs[8];
  for (size_t i = 0; i < n; i++) recs[i] = corpus_rec(hyps[i], refs[i], nref[i]);
  e2e_corpus_result r = e2e_corpus(spec, (const char *const *)recs, n, NULL);
  for (size_t i = 0; i < n; i++) free(recs[i]);
  return r;
}

#define ASSERT_CORPUS_OK(r)                                             \
  do {                                                                  \
    if ((r).rc != RK_OK || !(r).detail)                                 \
      RK_T_FAIL_("corpus score failed (%d): %s", (int)(r).rc, (r).error); \
  } while (0)

TEST(e2e_corpus_bleu_published) {
  /* test_bleu.py through rk_corpus_score, as records: three segments,
   * two references each; corpus_bleu() defaults (exp smoothing, effective
   * order off, which is also what the corpus call gives when the spec
   * does not set it). */
  const char *hyps[] = {"The dog bit the man.", "It wasn't surprising.",
                        "The man had just bitten him."};
  const char *const refs[3][2] = {{"The dog bit the man.", "The dog had bit the man."},
                                  {"It was not unexpected.", "No one was surprised."},
                                  {"The man bit him first.", "The man had bitten the dog."}};
  const size_t nref[] = {2, 2, 2};
  e2e_corpus_result r = corpus_of(SPEC("bleu", ""), hyps, refs, nref, 3);
  ASSERT_CORPUS_OK(r);
  ASSERT_NEAR(r.score, 48.530827, 5e-7);
  ASSERT_NEAR(jnum(r.detail, "score"), 48.530827, 5e-7);
  ASSERT_EQ_STR(json_string_value(json_object_get(r.detail, "metric")), "bleu");
  ASSERT_NEAR(jnum(r.detail, "records"), 3, 0);
  ASSERT_NEAR(jnum(r.detail, "unparseable"), 0, 0);
  /* By hand from the 13a tokens: hypotheses of 6, 4 and 7 tokens; the
   * closest references 6, 5 (both are), 7. Matches per order: segment 1
   * is its first reference (6/6 5/5 4/4 3/3); segment 2 only "It" and
   * "." (2/4 0/3 0/2 0/1); segment 3 "The man had ... bitten him ."
   * (6/7 2/6 1/5 0/4). BP = exp(1 - 18/17). */
  static const double counts[] = {14, 7, 5, 3}, totals[] = {17, 14, 11, 8};
  for (size_t i = 0; i < 4; i++) {
    ASSERT_NEAR(jnum_at(r.detail, "counts", i), counts[i], 0);
    ASSERT_NEAR(jnum_at(r.detail, "totals", i), totals[i], 0);
    ASSERT_NEAR(jnum_at(r.detail, "precisions", i), 100 * counts[i] / totals[i], 1e-12);
  }
  ASSERT_NEAR(jnum(r.detail, "sys_len"), 17, 0);
  ASSERT_NEAR(jnum(r.detail, "ref_len"), 18, 0);
  ASSERT_NEAR(jnum(r.detail, "bp"), exp(1.0 - 18.0 / 17.0), 1e-15);
  ASSERT_EQ_STR(json_string_value(json_object_get(r.detail, "text")),
                "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 "
                "ref_len = 18)");
  ASSERT_TRUE(json_is_false(json_object_get(r.detail, "effective_order")));
  json_decref(r.detail);

  r = corpus_of(SPEC("bleu", "\"tokenize\": \"none\""), hyps, refs, nref, 3);
  ASSERT_CORPUS_OK(r);
  ASSERT_NEAR(r.score, 49.1919566, 5e-8);
  json_decref(r.detail);
  /* tokenize='intl' -> 43.91623493 ("wasn't" becomes "wasn ' t"). */
  r = corpus_of(SPEC("bleu", "\"tokenize\": \"intl\""), hyps, refs, nref, 3);
  ASSERT_CORPUS_OK(r);
  ASSERT_NEAR(r.score, 43.91623493, 5e-9);
  json_decref(r.detail);
  static const double by_order[] = {77.65, 60.50, 53.93, 48.53, 46.14, 43.28};
  for (int o = 1; o <= 6; o++) {
    char spec[128];
    snprintf(spec, sizeof spec, "{\"reward\": {\"fn\": \"bleu\", \"args\": {\"max_ngram_order\": %d}}}",
             o);
    r = corpus_of(spec, hyps, refs, nref, 3);
    ASSERT_CORPUS_OK(r);
    ASSERT_NEAR(r.score, by_order[o - 1], 5e-3);
    json_decref(r.detail);
  }
}

TEST(e2e_corpus_bleu_defaults) {
  /* "the cat" against "the cat sat" (bleu_hand): no 3- or 4-gram in the
   * answer. corpus_bleu() (effective order off) gives 0; effective order
   * on gives exp(1 - 3/2) * 100 = 60.65306597126334, the sentence
   * reward's default. The corpus call without effective_order in the
   * spec follows corpus_bleu(); a spec that sets it is followed. */
  const char *hyp[] = {"the cat"};
  const char *const refs[1][2] = {{"the cat sat"}};
  const size_t nref[] = {1};
  e2e_corpus_result r = corpus_of(SPEC("bleu", ""), hyp, refs, nref, 1);
  ASSERT_CORPUS_OK(r);
  ASSERT_NEAR(r.score, 0.0, 0);
  json_decref(r.detail);
  r = corpus_of(SPEC("bleu", "\"effective_order\": true"), hyp, refs, nref, 1);
  ASSERT_CORPUS_OK(r);
  ASSERT_NEAR(r.score, 60.65306597126334, 1e-12);
  ASSERT_TRUE(json_is_true(json_object_get(r.detail, "effective_order")));
  json_decref(r.detail);
  r = corpus_of(SPEC("bleu", "\"effective_order\": false"), hyp, refs, nref, 1);
  ASSERT_CORPUS_OK(r);
  ASSERT_NEAR(r.score, 0.0, 0);
  json_decref(r.detail);
  ASSERT_E2E(e2e_score(SPEC("bleu", ""), "{\"response\": \"the cat\", \"reference\": \"the cat "
                                         "sat\"}"),
             0.6065306597126334, "ok");

  /* An answer that cannot be extracted is an empty hypothesis: record 0
   * "<answer>the cat sat</answer>" matches its reference (3/3, 2/2 with
   * max_ngram_order 2), record 1 has no tag and adds the length of its
   * reference (4 tokens) and nothing else. BP = exp(1 - 7/3), precisions
   * 100 -> 100 * exp(-4/3) = 26.359713811572677. */
  const char *recs[] = {
      "{\"response\": \"<answer>the cat sat</answer>\", \"reference\": \"the cat sat\"}",
      "{\"response\": \"the cat sat\", \"reference\": \"a b c d\"}"};
  r = e2e_corpus(SPEC("bleu", "\"extract\": \"answer_tag\", \"max_ngram_order\": 2"), recs, 2,
                 NULL);
  ASSERT_CORPUS_OK(r);
  ASSERT_NEAR(r.score, 26.359713811572677, 1e-12);
  ASSERT_NEAR(jnum(r.detail, "records"), 2, 0);
  ASSERT_NEAR(jnum(r.detail, "unparseable"), 1, 0);
  ASSERT_NEAR(jnum(r.detail, "sys_len"), 3, 0);
  ASSERT_NEAR(jnum(r.detail, "ref_len"), 7, 0);
  json_decref(r.detail);
  /* No records: sacreBLEU's empty corpus scores 0. */
  r = e2e_corpus(SPEC("bleu", ""), NULL, 0, NULL);
  ASSERT_CORPUS_OK(r);
  ASSERT_NEAR(r.score, 0.0, 0);
  ASSERT_NEAR(jnum(r.detail, "records"), 0, 0);
  json_decref(r.detail);
}

TEST(e2e_corpus_chrf_published) {
  /* test_chrf.py's corpus cases (the same vectors as chrf_published),
   * here as records through rk_corpus_score. */
  for (size_t i = 0; i < sizeof chrf_eps_cases / sizeof chrf_eps_cases[0]; i++) {
    const char *const refs[2][2] = {{chrf_eps_cases[i].r[0]}, {chrf_eps_cases[i].r[1]}};
    const size_t nref[] = {1, 1};
    e2e_corpus_result r = corpus_of(SPEC("chrf", "\"beta\": 3, \"eps_smoothing\": true"),
                                    chrf_eps_cases[i].h, refs, nref, chrf_eps_cases[i].n);
    ASSERT_CORPUS_OK(r);
    ASSERT_NEAR(r.score, chrf_eps_cases[i].want, chrf_eps_cases[i].tol);
    json_decref(r.detail);
  }
  /* test_cases_effective_order: eps_smoothing=False (the default mode) */
  for (size_t i = 0; i < sizeof chrf_eff_cases / sizeof chrf_eff_cases[0]; i++) {
    const char *const refs[2][2] = {{chrf_eff_cases[i].r[0]}, {chrf_eff_cases[i].r[1]}};
    const size_t nref[] = {1, 1};
    e2e_corpus_result r = corpus_of(SPEC("chrf", "\"beta\": 3"), chrf_eff_cases[i].h, refs, nref,
                                    chrf_eff_cases[i].n);
    ASSERT_CORPUS_OK(r);
    ASSERT_NEAR(r.score, chrf_eff_cases[i].want, 5e-5);
    json_decref(r.detail);
  }
  /* {"a", "b"} against {"a", "c"}, default mode, by hand: order 1 sums to
   * hyp 2, ref 2, match 1 (orders 2-6 have no n-grams), P = R = 1/2, so
   * F = 50; the mean of the sentence scores would be 50 too, but the
   * detail shows the summed counts. */
  const char *h2[] = {"a", "b"};
  const char *const r2[2][2] = {{"a"}, {"c"}};
  const size_t n2[] = {1, 1};
  e2e_corpus_result r = corpus_of(SPEC("chrf", "\"beta\": 3"), h2, r2, n2, 2);
  ASSERT_CORPUS_OK(r);
  const json_t *o1 = json_array_get(json_object_get(r.detail, "stats"), 0);
  ASSERT_NEAR(json_number_value(json_array_get(o1, 0)), 2, 0);
  ASSERT_NEAR(json_number_value(json_array_get(o1, 1)), 2, 0);
  ASSERT_NEAR(json_number_value(json_array_get(o1, 2)), 1, 0);
  ASSERT_EQ_STR(json_string_value(json_object_get(r.detail, "text")), "chrF3 = 50.00");
  json_decref(r.detail);
  /* test_cases_keep_whitespace (whitespace kept, default mode) */
  const char *h1[] = {"Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich."};
  const char *const r1[1][2] = {
      {"Das Verh\xc3\xa4ltnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."}};
  const size_t n1[] = {1};
  r = corpus_of(SPEC("chrf", "\"beta\": 3, \"whitespace\": true"), h1, r1, n1, 1);
  ASSERT_CORPUS_OK(r);
  ASSERT_NEAR(r.score, 67.3481606, 5e-8);
  json_decref(r.detail);
}

TEST(e2e_corpus_errors) {
  const char *good = "{\"response\": \"a b\", \"reference\": \"a b\"}";
  /* A spec that is not one bleu or chrf leaf: RK_ESPEC, naming what it is
   * and what is accepted. */
  e2e_corpus_result r = e2e_corpus(SPEC("exact", ""), &good, 1, NULL);
  ASSERT_EQ_INT(r.rc, RK_ESPEC);
  ASSERT_CONTAINS(r.error, "fn 'exact'");
  ASSERT_CONTAINS(r.error, "fn 'bleu' or fn 'chrf'");
  r = e2e_corpus("{\"reward\": {\"sum\": [{\"fn\": \"bleu\"}, {\"fn\": \"chrf\"}]}}", &good, 1,
                 NULL);
  ASSERT_EQ_INT(r.rc, RK_ESPEC);
  ASSERT_CONTAINS(r.error, "\"sum\" node");
  r = e2e_corpus("{\"reward\": {\"fn\": \"bleu\"}, \"advantage\": {\"estimator\": \"grpo\"}}",
                 &good, 1, NULL);
  ASSERT_EQ_INT(r.rc, RK_ESPEC);
  ASSERT_CONTAINS(r.error, "\"advantage\"");
  /* Records that cannot be scored fail the call and are named by index. */
  const char *bad_json[] = {good, "{\"response\": \"a\", \"reference\": }"};
  r = e2e_corpus(SPEC("bleu", ""), bad_json, 2, NULL);
  ASSERT_EQ_INT(r.rc, RK_EJSON);
  ASSERT_CONTAINS(r.error, "record 1: invalid JSON");
  const char *not_obj[] = {"[1, 2]"};
  r = e2e_corpus(SPEC("chrf", ""), not_obj, 1, NULL);
  ASSERT_EQ_INT(r.rc, RK_EJSON);
  ASSERT_CONTAINS(r.error, "record 0: a record must be a JSON object, got array");
  const char *no_ref[] = {good, good, "{\"response\": \"a b\"}"};
  r = e2e_corpus(SPEC("bleu", ""), no_ref, 3, NULL);
  ASSERT_EQ_INT(r.rc, RK_EINVAL);
  ASSERT_CONTAINS(r.error, "record 2: no reference");
  const char *empty_ref[] = {"{\"response\": \"a b\", \"reference\": [\"\", \"\"]}"};
  r = e2e_corpus(SPEC("chrf", ""), empty_ref, 1, NULL);
  ASSERT_EQ_INT(r.rc, RK_EINVAL);
  ASSERT_CONTAINS(r.error, "record 0: every reference is empty");
  const char *no_resp[] = {good, "{\"reference\": \"a b\"}"};
  r = e2e_corpus(SPEC("bleu", ""), no_resp, 2, NULL);
  ASSERT_EQ_INT(r.rc, RK_EINVAL);
  ASSERT_CONTAINS(r.error, "record 1: the record has no 'response'");
  /* Limits per record, as in per-record scoring. */
  rk_score_options o;
  memset(&o, 0, sizeof o);
  o.step_budget = 5;
  r = e2e_corpus(SPEC("bleu", ""), &good, 1, &o);
  ASSERT_EQ_INT(r.rc, RK_ELIMIT);
  ASSERT_CONTAINS(r.error, "record 0: its step budget of 5 steps ran out");
  memset(&o, 0, sizeof o);
  o.max_line = 10; /* good is 39 bytes */
  r = e2e_corpus(SPEC("bleu", ""), &good, 1, &o);
  ASSERT_EQ_INT(r.rc, RK_ELIMIT);
  ASSERT_CONTAINS(r.error, "record 0: 39 bytes, over the limit of 10 bytes");
}

TEST(cider_d_hand) {
  char spec[256];
  snprintf(spec, sizeof spec, SPEC("cider_d", "\"df_file\": \"%s\""), df_file());
  /* hyp = ref = "a b"; L = log 2 = ref_len.
   * weights tf * (L - log max(1, df)): a: L - L = 0, b: L, "a b": L.
   * order 1: sum min(h,r) r = L^2, / (|h| |r| = L * L) = 1; order 2: 1;
   * orders 3-4: no n-grams, 0. Equal lengths: penalty 1.
   * CIDEr-D = 10 * (1 + 1 + 0 + 0) / 4 = 5; reward 0.5. */
  e2e_result r = e2e_score(spec, "{\"response\": \"a b\", \"reference\": \"a b\"}");
  ASSERT_E2E(r, 0.5, "ok");
  ASSERT_CONTAINS(r.explain, "CIDEr-D 5");
  /* hyp "a b b" vs "a b": hyp weights a 0, b 2L, "a b" L, "b b" L (df 0
   * counts as 1); |h1| = 2L, |h2| = sqrt(2) L; ref |r1| = |r2| = L.
   * order 1: (min(2L, L) L = L^2) / (2L * L) = 1/2;
   * order 2: ("a b": L * L; "b b": min(L, 0) * 0 = 0) / (sqrt 2 L * L)
   *          = 1/sqrt 2;
   * lengths (bigram counts) 2 and 1: penalty exp(-1/72);
   * reward = (1/2 + 1/sqrt 2) exp(-1/72) / 4 = 0.2976143245690036. */
  r = e2e_score(spec, "{\"response\": \"a b b\", \"reference\": \"a b\"}");
  ASSERT_E2E(r, 0.2976143245690036, "ok");
  /* Several references: the mean. Against "c" nothing matches: 0;
   * (1 + 1 + 0 + 0) / 4 / 2 refs = 0.25. */
  r = e2e_score(spec, "{\"response\": \"a b\", \"reference\": [\"a b\", \"c\"]}");
  ASSERT_E2E(r, 0.25, "ok");
  r = e2e_score(spec, "{\"response\": \"\", \"reference\": \"a b\"}");
  ASSERT_E2E(r, 0.0, "ok");
  /* The same with word-count lengths (3 vs 2 words: same delta 1). */
  snprintf(spec, sizeof spec, SPEC("cider_d", "\"df_file\": \"%s\", \"length\": \"words\""),
           df_file());
  r = e2e_score(spec, "{\"response\": \"a b b\", \"reference\": \"a b\"}");
  ASSERT_E2E(r, 0.2976143245690036, "ok");
  char err[512];
  e2e_spec_error(SPEC("cider_d", ""), err, sizeof err);
  ASSERT_CONTAINS(err, "args.df_file");
  e2e_spec_error(SPEC("cider_d", "\"df_file\": \"/nonexistent/df.json\""), err, sizeof err);
  ASSERT_CONTAINS(err, "cannot open");
  char bad[] = "{\"df\": {}}";
  char dferr[200];
  ASSERT_TRUE(rk__cider_df_load(bad, strlen(bad), dferr, sizeof dferr) == NULL);
  ASSERT_CONTAINS(dferr, "ref_len");
  remove(df_file());
}


/* rk__ovl_cider_d against a direct implementation of cider_scorer.py on
 * strings: n-grams as joined text, counted in first-occurrence order (the
 * order of pycocoevalcap's dicts, so the sums run in the same order), df
 * looked up by string (the last duplicate key wins), on random captions
 * and a random df table with multi-word, duplicate and unmatchable keys
 * (double spaces, five words). The values must be identical. */
typedef struct dgram {
  char key[256];
  double tf;
} dgram;

static size_t direct_grams(const rk__ovl_toks *t, dgram *g) {
  size_t ng = 0;
  for (size_t i = 0; i < t->n; i++) {
    char key[256];
    size_t kl = 0;
    for (size_t n = 1; n <= 4 && i + n <= t->n; n++) {
      const rk__str w = t->t[i + n - 1];
      if (n > 1) key[kl++] = ' ';
      memcpy(key + kl, w.p, w.n);
      kl += w.n;
      key[kl] = 0;
      size_t j = 0;
      while (j < ng && strcmp(g[j].key, key) != 0) j++;
      if (j == ng) {
        memcpy(g[ng].key, key, kl + 1);
        g[ng++].tf = 0;
      }
      g[j].tf += 1;
    }
  }
  return ng;
}

static unsigned gram_order(const char *k) {
  unsigned n = 1;
  for (; *k; k++) n += *k == ' ';
  return n;
}

static double direct_logdf(char (*keys)[64], const double *cnt, size_t nk, const char *g) {
  for (size_t i = nk; i-- > 0;)
    if (!strcmp(keys[i], g)) return log(cnt[i] > 1.0 ? cnt[i] : 1.0);
  return 0.0;
}

static double direct_cider(char (*keys)[64], const double *cnt, size_t nk, double ref_len,
                           const rk__ovl_toks *hyp, const rk__ovl_toks *refs, size_t nref,
                           double sigma, int bigram_len) {
  static dgram hg[512], rg[512];
  double hvec[512], rvec[512];
  size_t nh = direct_grams(hyp, hg);
  double hn[4] = {0, 0, 0, 0}, hl = 0;
  for (size_t i = 0; i < nh; i++) {
    unsigned o = gram_order(hg[i].key);
    hvec[i] = hg[i].tf * (ref_len - direct_logdf(keys, cnt, nk, hg[i].key));
    hn[o - 1] += hvec[i] * hvec[i];
    if (o == 2) hl += hg[i].tf;
  }
  for (int n = 0; n < 4; n++) hn[n] = sqrt(hn[n]);
  if (!bigram_len) hl = (double)hyp->n;
  double sum = 0;
  for (size_t r = 0; r < nref; r++) {
    size_t nr = direct_grams(&refs[r], rg);
    double rn[4] = {0, 0, 0, 0}, rl = 0;
    for (size_t i = 0; i < nr; i++) {
      unsigned o = gram_order(rg[i].key);
      rvec[i] = rg[i].tf * (ref_len - direct_logdf(keys, cnt, nk, rg[i].key));
      rn[o - 1] += rvec[i] * rvec[i];
      if (o == 2) rl += rg[i].tf;
    }
    for (int n = 0; n < 4; n++) rn[n] = sqrt(rn[n]);
    if (!bigram_len) rl = (double)refs[r].n;
    double delta = hl - rl, pen = exp(-(delta * delta) / (2 * sigma * sigma));
    double val[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < nh; i++)
      for (size_t j = 0; j < nr; j++)
        if (!strcmp(hg[i].key, rg[j].key)) {
          double vh = hvec[i], vr = rvec[j];
          val[gram_order(hg[i].key) - 1] += (vh < vr ? vh : vr) * vr;
        }
    for (int n = 0; n < 4; n++) {
      if (hn[n] != 0 && rn[n] != 0) val[n] /= hn[n] * rn[n];
      sum += val[n] * pen;
    }
  }
  return sum / 4 / (double)nref;
}

static size_t rand_caption(char *b, size_t maxw) {
  static const char *const vocab[] = {"a", "the", "dog", "cat", "on", "mat", "red", "sits",
                                      "averyveryverylongword", "averyveryverylongwore", "x", "y"};
  size_t n = 0, nw = trand((unsigned)maxw + 1);
  for (size_t i = 0; i < nw; i++) {
    const char *w = vocab[trand(12)];
    if (i) b[n++] = trand(8) ? ' ' : '\n';
    memcpy(b + n, w, strlen(w));
    n += strlen(w);
  }
  b[n] = 0;
  return n;
}

TEST(cider_d_vs_direct) {
  static char keys[400][64], json[64 * 1024];
  static double cnt[400];
  int bad = 0;
  for (int round = 0; round < 6; round++) {
    /* A df table: 1-5 words, sometimes a double space, duplicates likely. */
    size_t nk = 20 + trand(300), jl = 0;
    double ref_len = log(2.0 + trand(50));
    jl += (size_t)snprintf(json + jl, sizeof json - jl, "{\"ref_len\": %.17g, \"df\": {", ref_len);
    for (size_t i = 0; i < nk; i++) {
      char cap[256];
      size_t cl = rand_caption(cap, 1 + trand(4));
      for (size_t c = 0; c < cl; c++)
        if (cap[c] == '\n') cap[c] = ' ';
      if (cl == 0 || cl > 40) cl = (size_t)snprintf(cap, sizeof cap, "dog");
      if (trand(20) == 0) cl = (size_t)snprintf(cap, sizeof cap, "a  dog");
      if (trand(20) == 0) cl = (size_t)snprintf(cap, sizeof cap, "a b c d e");
      memcpy(keys[i], cap, cl + 1);
      cnt[i] = (double)trand(40);
      jl += (size_t)snprintf(json + jl, sizeof json - jl, "%s\"%s\": %g", i ? ", " : "", cap,
                             cnt[i]);
    }
    jl += (size_t)snprintf(json + jl, sizeof json - jl, "}}");
    char err[200];
    rk__cider_df *df = rk__cider_df_load(json, jl, err, sizeof err);
    ASSERT_TRUE(df != NULL);
    for (int it = 0; it < 100; it++) {
      arena_fresh();
      char hb[2048], rb[3][2048];
      rk__ovl_toks h, rt[3];
      /* Up to 64 words: the mask path; longer: the table path. */
      size_t maxw = it % 5 == 4 ? 70 : 20;
      rk__ovl_split(&A, hb, rand_caption(hb, maxw), &h);
      size_t nref = 1 + trand(3);
      for (size_t r = 0; r < nref; r++) rk__ovl_split(&A, rb[r], rand_caption(rb[r], maxw), &rt[r]);
      int bl = (int)trand(2);
      double got = -1, want = direct_cider(keys, cnt, nk, ref_len, &h, rt, nref, 6.0, bl);
      ASSERT_EQ_INT(rk__ovl_cider_d(&A, df, &h, rt, nref, 6.0, bl, &got), 0);
      if (got != want) {
        if (!bad) fprintf(stderr, "cider_d %.17g, direct %.17g on '%s'\n", got, want, hb);
        bad++;
      }
    }
    rk__cider_df_free(df);
  }
  ASSERT_EQ_INT(bad, 0);
}

/* ------------------------------------------------ adversarial inputs */

/* 8-byte tokens whose hash under the unkeyed hash of earlier versions,
 * (v ^ 8 * 0x9E3779B97F4A7C15) * 0xBF58476D1CE4E5B9 (now rk__ovl_hash
 * with seed 0 and that multiplier), shares its top 28 bits: v is that
 * hash inverted for top bits H0 and 16 low bits k << 20. Any bytes:
 * interning does not look at them. */
static void flood_tokens(char *buf, rk__str *t, size_t n) {
  const uint64_t C1 = 0x9E3779B97F4A7C15ull * 8, C2 = 0xBF58476D1CE4E5B9ull;
  uint64_t inv = C2; /* Newton: inv = C2^-1 mod 2^64 */
  for (int i = 0; i < 6; i++) inv *= 2 - C2 * inv;
  for (size_t k = 0; k < n; k++) {
    uint64_t h = 0x123456789ull << 36 | (uint64_t)k << 20;
    uint64_t v = (h * inv) ^ C1;
    for (int b = 0; b < 8; b++) buf[8 * k + (size_t)b] = (char)(v >> (8 * b));
    t[k] = rk__str_make(buf + 8 * k, 8);
  }
}

TEST(intern_flood_keyed) {
  /* 4000 distinct tokens, then each again: with the fixed keys of old
   * (the control) every token lands in the same home slot and a lookup
   * walks the whole run, n^2/2 slots or more; with the random keys
   * (multiply-shift on distinct words, table at most 1/3 full) the extra
   * slots stay near n/4 in expectation: 3 n is a bound that random keys
   * miss with negligible probability. */
  enum { N = 4000 };
  static char buf[8 * N];
  static rk__str ftk[2 * N];
  flood_tokens(buf, ftk, N);
  memcpy(ftk + N, ftk, N * sizeof *ftk);
  rk__hkeys keep = rk__hk;
  size_t probes[2];
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 0) {
      rk__hk.seed = 0;
      rk__hk.mul = 0xBF58476D1CE4E5B9ull;
    } else {
      rk__hk = keep;
    }
    arena_fresh();
    rk__ovl_toks t = {ftk, NULL, NULL, 2 * N};
    rk__ovl_intern in;
    ASSERT_EQ_INT(rk__ovl_intern_init(&in, &A, 2 * N), 0);
    ASSERT_EQ_INT(rk__ovl_intern_toks(&in, &A, &t), 0);
    ASSERT_EQ_INT(in.n, N);
    for (size_t i = 0; i < 2 * N; i++) ASSERT_EQ_INT(t.id[i], i % N);
    /* the lookup-only side finds the same ids */
    rk__ovl_toks f = {ftk + N, NULL, NULL, N};
    ASSERT_EQ_INT(rk__ovl_intern_find(&in, &A, &f, UINT32_MAX), 0);
    for (size_t i = 0; i < N; i++) ASSERT_EQ_INT(f.id[i], i);
    probes[pass] = in.probes;
  }
  rk__hk = keep;
  fprintf(stderr, "  intern probes: fixed keys %zu, random keys %zu (%d tokens x 3)\n", probes[0],
          probes[1], N);
  ASSERT_TRUE(probes[0] > (size_t)N * N / 2);
  ASSERT_TRUE(probes[1] < (size_t)3 * 3 * N);
}

TEST(results_do_not_depend_on_keys) {
  /* Every table key is only where a value is kept, never what is
   * computed: rouge, bleu, chrF++ and SQuAD F1 of the same texts (long
   * enough for the tables) are the same bits under two sets of keys. */
  static char hyp[20000], ref[20000];
  size_t hn = 0, rn = 0;
  uint64_t x = 12345;
  for (int i = 0; i < 1500; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    hn += (size_t)sprintf(hyp + hn, "w%u ", (unsigned)(x >> 58));
    rn += (size_t)sprintf(ref + rn, "w%u%s", (unsigned)(x >> 59) ^ (i & 3), i % 97 ? " " : "\n");
  }
  rk__hkeys keep = rk__hk;
  double v[2][8];
  for (int pass = 0; pass < 2; pass++) {
    rk__hkeys_set(pass ? 0xDEADBEEFull : 42);
    arena_fresh();
    rk__ovl_toks h, r, hl[1], rl[1];
    rk__ovl_tokrouge(&A, hyp, hn, 0, 0, &h);
    rk__ovl_tokrouge(&A, ref, rn, 0, 0, &r);
    rk__ovl_prf s;
    ASSERT_EQ_INT(rk__ovl_rouge_n(&A, &r, &h, 2, &s), 0);
    v[pass][0] = s.f;
    ASSERT_EQ_INT(rk__ovl_rouge_l(&A, &r, &h, &s), 0);
    v[pass][1] = s.f;
    rk__ovl_intern in;
    hl[0] = h;
    rl[0] = r;
    ASSERT_EQ_INT(rk__ovl_intern_init(&in, &A, h.n + r.n), 0);
    ASSERT_EQ_INT(rk__ovl_intern_toks(&in, &A, &hl[0]) | rk__ovl_intern_toks(&in, &A, &rl[0]), 0);
    ASSERT_EQ_INT(rk__ovl_rouge_lsum(&A, rl, 1, hl, 1, &s), 0);
    v[pass][2] = s.f;
    rk__bleu_stats st;
    ASSERT_EQ_INT(rk__ovl_bleu_stats(&A, &h, &r, 1, 4, &st), 0);
    v[pass][3] = rk__ovl_bleu_compute(&st, 4, RK__BLEU_EXP, 0, 0, NULL, NULL);
    rk__chrf_opts o = {6, 2, 2.0, 0, 0, 0};
    rk__chrf_stats cs;
    size_t best;
    rk__str rs = rk__str_make(ref, rn);
    ASSERT_EQ_INT(rk__ovl_chrf_stats(&A, &o, rk__str_make(hyp, hn), &rs, 1, &cs, &best), 0);
    v[pass][4] = rk__ovl_chrf_f(&o, &cs);
    size_t common;
    v[pass][5] = rk__ovl_squad_f1(&A, &r, &h, 0, &common);
    v[pass][6] = (double)common;
    v[pass][7] = (double)rk__ovl_hash("0123456789abcdefghij", 20);
  }
  rk__hk = keep;
  for (int i = 0; i < 7; i++) ASSERT_TRUE(memcmp(&v[0][i], &v[1][i], sizeof(double)) == 0);
  ASSERT_TRUE(v[0][7] != v[1][7]); /* the keys did change */
}

TEST(rouge_lsum_bounded) {
  /* The backtracking table holds one bit per cell: a 3000 x 3000 pair
   * takes 3001 * 47 words (1.1 MB) of scratch, not 36 MB of lengths.
   * Identical lines: every token is a hit, F = 1. */
  enum { N = 3000 };
  arena_fresh();
  static uint32_t id[N];
  for (uint32_t i = 0; i < N; i++) id[i] = i;
  rk__ovl_toks t = {NULL, NULL, id, N}, p = {NULL, NULL, id, N};
  rk__ovl_prf s;
  size_t before = A.used;
  ASSERT_EQ_INT(rk__ovl_rouge_lsum(&A, &t, 1, &p, 1, &s), 0);
  ASSERT_NEAR(s.f, 1.0, 0);
  ASSERT_TRUE(A.used - before < (size_t)(N + 1) * ((N + 64) / 64) * 8 + 64 * 1024);
}

TEST(e2e_rouge_lsum_empty_lines) {
  /* Answer lines without tokens are never visited: "a" and 100000 lines
   * "!" against 100000 lines "a" took 10^10 steps of the line loop before
   * (uncharged; about 12 s), none now. One hit: P = 1/1, R = 1/100000,
   * F = 2 R / (1 + R). */
  enum { N = 100000 };
  char *rec = malloc(8 * N + 100);
  size_t o = (size_t)sprintf(rec, "{\"response\": \"a\\n");
  for (int i = 0; i < N; i++) o += (size_t)sprintf(rec + o, "!\\n");
  o += (size_t)sprintf(rec + o, "\", \"reference\": \"");
  for (int i = 0; i < N; i++) o += (size_t)sprintf(rec + o, "a\\n");
  sprintf(rec + o, "\"}");
  e2e_result r = e2e_score(SPEC("rouge", "\"variant\": \"rougeLsum\""), rec);
  double R = 1.0 / N;
  ASSERT_E2E(r, 2 * R / (1 + R), "ok");
  free(rec);
}

TEST(e2e_rouge_long_refs_memory) {
  /* 64 references of 64 tokens "b" against 100000: the answer is interned
   * once and each reference's scratch released, where each reference
   * used to intern the whole answer again into the record's arena
   * (1 GiB: "out of scratch memory" on this 208 KB record). ROUGE-2:
   * 63 of 63 reference bigrams found among 99999, F = 2 P / (P + 1) with
   * P = 63 / 99999; SQuAD F1: 64 common tokens, P = 64 / 100000. */
  enum { N = 100000 };
  char *rec = malloc(2 * N + 64 * 140 + 100);
  size_t o = (size_t)sprintf(rec, "{\"response\": \"");
  for (int i = 0; i < N; i++) o += (size_t)sprintf(rec + o, "b ");
  o += (size_t)sprintf(rec + o, "\", \"reference\": [");
  for (int j = 0; j < 64; j++) {
    o += (size_t)sprintf(rec + o, "%s\"", j ? ", " : "");
    for (int i = 0; i < 64; i++) o += (size_t)sprintf(rec + o, "b ");
    o += (size_t)sprintf(rec + o, "\"");
  }
  sprintf(rec + o, "]}");
  double P = 63.0 / 99999.0;
  e2e_result r = e2e_score(SPEC("rouge", "\"variant\": \"rouge2\""), rec);
  ASSERT_E2E(r, 2 * P / (P + 1), "ok");
  P = 64.0 / N;
  r = e2e_score(SPEC("f1", ""), rec);
  ASSERT_E2E(r, 2 * P / (P + 1), "ok");
  free(rec);
}

TEST_MAIN(TEST_ENTRY(tok13a), TEST_ENTRY(tokintl), TEST_ENTRY(tokzh), TEST_ENTRY(porter_vs_nltk), TEST_ENTRY(porter_y_runs),
          TEST_ENTRY(rouge_published), TEST_ENTRY(rouge_hand), TEST_ENTRY(rouge_tokenizer),
          TEST_ENTRY(bleu_sentence_published), TEST_ENTRY(bleu_corpus_published),
          TEST_ENTRY(bleu_hand), TEST_ENTRY(no_ids_and_long), TEST_ENTRY(chrf_published),
          TEST_ENTRY(chrf_hand), TEST_ENTRY(chrf_default_exact),
          TEST_ENTRY(squad_published), TEST_ENTRY(squad_tokens), TEST_ENTRY(squad_key),
          TEST_ENTRY(block_paths_both_widths), TEST_ENTRY(e2e_em_key_path),
          TEST_ENTRY(squad_hand),
          TEST_ENTRY(e2e_f1_em), TEST_ENTRY(e2e_rouge), TEST_ENTRY(e2e_final_sigma),
          TEST_ENTRY(e2e_bleu_chrf),
          TEST_ENTRY(e2e_corpus_bleu_published), TEST_ENTRY(e2e_corpus_bleu_defaults),
          TEST_ENTRY(e2e_corpus_chrf_published), TEST_ENTRY(e2e_corpus_errors),
          TEST_ENTRY(cider_d_hand), TEST_ENTRY(chrf_masks_vs_tree),
          TEST_ENTRY(cider_d_vs_direct), TEST_ENTRY(intern_flood_keyed),
          TEST_ENTRY(results_do_not_depend_on_keys), TEST_ENTRY(rouge_lsum_bounded),
          TEST_ENTRY(e2e_rouge_lsum_empty_lines), TEST_ENTRY(e2e_rouge_long_refs_memory))
