/*
 * bench_edit.c - throughput of the edit-distance and open-answer metrics
 * (cer, wer, edit_ratio, anls, vqa_acc, relaxed_acc, keywords (found and
 * graded in tiers), keyword_chain, em, lang_consistency) against the Python a user runs
 * today, in the same run: it generates deterministic pairs,
 * writes them to a JSONL file, times each rewardkit function on one core
 * (records built in memory once, before timing, and scored through the
 * compiled spec: no JSON parsing on either side), then runs
 * bench/baseline_edit.py on the same file and prints a table with the
 * ratio. The mean score of both sides is
 * printed too, as a parity check. Both sides measure CPU time, not wall
 * time, so that other load on the machine does not count.
 *
 *   build/bench_edit [seconds_per_metric] [python3] [pairs.jsonl] [metric]
 *   (default 0.5, /usr/bin/python3, /tmp/rk_bench_edit_pairs.jsonl, all;
 *    run from the repository root so bench/baseline_edit.py is found;
 *    python3 = "none" skips the baseline, e.g. for profiling)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "core/spec.h"
#include "json/json.h"
#include "rewardkit.h"

#define NPAIRS 1000
/* Page-length pairs (document OCR): fewer, as the baseline's Levenshtein
 * is quadratic (about 3 ms a pair). */
#define NPAGES 200
static int npairs(const char *metric) { return strstr(metric, "_page") ? NPAGES : NPAIRS; }
#define MAXREF 10

/* CPU time of this thread: the machine is shared, so wall time would
 * count other processes' slices (the baseline uses time.process_time). */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------- data generator */

static unsigned long long g_rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n) {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return (unsigned)((g_rng >> 33) % n);
}

static const char *const WORDS[] = {
    "the", "model", "reads", "a", "document", "and", "answers", "questions", "about",
    "invoice", "total", "amount", "date", "caf\xc3\xa9", "na\xc3\xafve", ("\xc3\xbc" "ber"),
    "signal", "river", "mountain", "yellow", "quickly", "between", "seven", "report",
    "patient", "soil", "irrigation", "fertilizer", "harvest", "yield", "wheat", "leaf",
    "blight", "pressure", "value", "table", "chart", "percent", "growth", "market"};
#define NWORDS (sizeof WORDS / sizeof WORDS[0])

static size_t sentence(char *b, size_t cap, int nw) {
  size_t o = 0;
  for (int i = 0; i < nw && o + 16 < cap; i++)
    o += (size_t)snprintf(b + o, cap - o, "%s%s", i ? " " : "", WORDS[rnd(NWORDS)]);
  return o;
}

/* Character noise on ASCII letters: substitute, delete or insert. */
static size_t noisy(const char *s, size_t n, char *b, int permille) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'a' && c <= 'z' && (int)rnd(1000) < permille) {
      unsigned k = rnd(3);
      if (k == 0) b[o++] = (char)('a' + rnd(26));
      if (k == 2) b[o++] = (char)c, b[o++] = (char)('a' + rnd(26));
      continue;
    }
    b[o++] = (char)c;
  }
  return o;
}

/* Word noise: drop, replace or insert words. */
static size_t noisy_words(const char *s, size_t n, char *b, int permille) {
  size_t o = 0, i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && s[j] != ' ') j++;
    int r = (int)rnd(1000);
    if (r < permille / 3) {
      /* drop */
    } else if (r < 2 * permille / 3) {
      o += (size_t)sprintf(b + o, "%s%s", o ? " " : "", WORDS[rnd(NWORDS)]);
    } else {
      if (o) b[o++] = ' ';
      memcpy(b + o, s + i, j - i), o += j - i;
      if (r < permille) o += (size_t)sprintf(b + o, " %s", WORDS[rnd(NWORDS)]);
    }
    i = j + 1;
  }
  return o;
}

typedef struct pair {
  char *resp;
  size_t nresp;
  char *refs[MAXREF];
  size_t nrefs[MAXREF];
  int nref;     /* 0: a single string reference, else a list of nref */
} pair;

static char *dup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static void set1(pair *p, const char *resp, size_t nr, const char *ref, size_t nf) {
  memset(p, 0, sizeof *p);
  p->resp = dup(resp, nr), p->nresp = nr;
  p->refs[0] = dup(ref, nf), p->nrefs[0] = nf;
}

/* 1-3 references of 1-3 words (anls, em), the response left empty. */
static void short_answers(pair *p) {
  char a[256];
  memset(p, 0, sizeof *p);
  p->nref = 1 + (int)rnd(3);
  for (int k = 0; k < p->nref; k++) {
    size_t n = sentence(a, sizeof a, 1 + (int)rnd(3));
    p->refs[k] = dup(a, n), p->nrefs[k] = n;
  }
}

static void gen(const char *metric, pair *ps) {
  char a[4096], b[4096];
  for (int i = 0; i < npairs(metric); i++) {
    pair *p = &ps[i];
    if (strstr(metric, "_page")) {
      size_t n = sentence(a, sizeof a, 240); /* ~1,500 characters, a page of OCR */
      size_t m = noisy(a, n, b, 60);
      set1(p, b, m, a, n);
    } else if (!strcmp(metric, "cer") || !strncmp(metric, "edit_ratio", 10)) {
      /* ~90 characters; *_far: a response far from its reference (20%
       * of the letters changed, distance ~16; what early training gives) */
      size_t n = sentence(a, sizeof a, 14);
      size_t m = noisy(a, n, b, strstr(metric, "_far") ? 200 : 60);
      set1(p, b, m, a, n);
    } else if (!strcmp(metric, "wer")) {
      size_t n = sentence(a, sizeof a, 20);
      size_t m = noisy_words(a, n, b, 150);
      set1(p, b, m, a, n);
    } else if (!strcmp(metric, "anls")) {
      short_answers(p);
      size_t m = rnd(4) ? noisy(p->refs[0], p->nrefs[0], b, 100) : sentence(b, sizeof b, 2);
      p->resp = dup(b, m), p->nresp = m;
    } else if (!strcmp(metric, "vqa_acc")) {
      static const char *const pool[] = {"2", "two", "red", "yes", "no", "blue car", "dog",
                                         "3", "left", "red car"};
      static const char *const preds[] = {"Two.", "Yes", "the red car", "2", "No!", "dog",
                                          "blue-car", "three", "left side", "cat"};
      memset(p, 0, sizeof *p);
      p->nref = 10;
      unsigned base = rnd(10);
      for (int k = 0; k < 10; k++) {
        const char *g = pool[rnd(3) ? base : rnd(10)];
        p->refs[k] = dup(g, strlen(g)), p->nrefs[k] = strlen(g);
      }
      const char *pr = preds[rnd(10)];
      p->resp = dup(pr, strlen(pr)), p->nresp = strlen(pr);
    } else if (!strcmp(metric, "relaxed_acc")) {
      double t = (double)(rnd(20000)) / 100.0;
      int k = rnd(5);
      size_t n = k == 0 ? (size_t)sprintf(a, "%g%%", t) : k == 1 ? (size_t)sprintf(a, "Yes")
                                                               : (size_t)sprintf(a, "%g", t);
      double pv = t * (0.9 + (double)rnd(200) / 1000.0);
      size_t m = k == 0 ? (size_t)sprintf(b, "%.4g", pv / 100.0)
                 : k == 1 ? (size_t)sprintf(b, rnd(2) ? "yes" : "no")
                          : (size_t)sprintf(b, "%.4g", pv);
      set1(p, b, m, a, n);
    } else if (!strcmp(metric, "em")) {
      /* SQuAD-style short answers: 1-3 golds of 1-3 words; half the
       * responses are a gold dressed up ("The ...!", other case), which
       * SQuAD's normalisation matches, half another answer. */
      short_answers(p);
      size_t m;
      if (rnd(2)) {
        const int k = (int)rnd((unsigned)p->nref), art = (int)rnd(2), bang = (int)rnd(2);
        m = (size_t)sprintf(b, "%s%.*s%s", art ? "The " : "", (int)p->nrefs[k], p->refs[k],
                            bang ? "!" : ".");
        for (size_t q = 0; q < m; q++)
          if (b[q] >= 'a' && b[q] <= 'z' && rnd(4) == 0) b[q] = (char)(b[q] - 32);
      } else {
        m = sentence(b, sizeof b, 1 + (int)rnd(3));
      }
      p->resp = dup(b, m), p->nresp = m;
    } else if (!strcmp(metric, "lang_consistency")) {
      /* ~40 words answering in the reference's language with some words
       * of another script mixed in (language mixing); the reference
       * (English, Chinese or Russian) sets the expected script. */
      static const char *const ZH[] = {"模型", "文档", "回答", "问题", "发票", "总额",
                                       "日期", "产量", "小麦", "土壤", "灌溉", "价格"};
      static const char *const RU[] = {"модель", "ответ", "вопрос", "документ", "сумма",
                                       "дата", "урожай", "пшеница", "почва", "цена"};
      const int lang = (int)rnd(3), mix = 5 + (int)rnd(200); /* permille of foreign words */
      size_t n = 0, m = 0;
      for (int w = 0; w < 12; w++)
        n += (size_t)sprintf(a + n, "%s%s", w ? " " : "",
                             lang == 0 ? WORDS[rnd(NWORDS)] : lang == 1 ? ZH[rnd(12)] : RU[rnd(10)]);
      for (int w = 0; w < 40; w++) {
        const int foreign = (int)rnd(1000) < mix;
        const int l = foreign ? (lang + 1 + (int)rnd(2)) % 3 : lang;
        m += (size_t)sprintf(b + m, "%s%s", w ? " " : "",
                             l == 0 ? WORDS[rnd(NWORDS)] : l == 1 ? ZH[rnd(12)] : RU[rnd(10)]);
        if (rnd(8) == 0) m += (size_t)sprintf(b + m, ", %u%%", rnd(100));
      }
      set1(p, b, m, a, n);
    } else { /* keywords, keyword_chain, keywords_tiers */
      memset(p, 0, sizeof *p);
      size_t n = sentence(a, sizeof a, 100); /* ~650 characters */
      p->nref = 5;
      for (int k = 0; k < 5; k++) {
        char kw[64], kn[128];
        const char *w = WORDS[rnd(NWORDS)];
        size_t L = (size_t)sprintf(kw, "%s %s", w, WORDS[rnd(NWORDS)]);
        if (k == 4) L = noisy(kw, L, kn, 150), memcpy(kw, kn, L), kw[L] = '\0';
        p->refs[k] = dup(kw, L), p->nrefs[k] = L;
      }
      p->resp = dup(a, n), p->nresp = n;
    }
  }
}

static void put_json_str(FILE *f, const char *s, size_t n) {
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

static void write_pairs(FILE *f, const char *metric, const pair *ps) {
  for (int i = 0; i < npairs(metric); i++) {
    const pair *p = &ps[i];
    fprintf(f, "{\"metric\": \"%s\", \"response\": ", metric);
    put_json_str(f, p->resp, p->nresp);
    fputs(", \"reference\": ", f);
    if (!p->nref) {
      put_json_str(f, p->refs[0], p->nrefs[0]);
    } else {
      fputc('[', f);
      for (int k = 0; k < p->nref; k++) {
        if (k) fputs(", ", f);
        put_json_str(f, p->refs[k], p->nrefs[k]);
      }
      fputc(']', f);
    }
    fputs("}\n", f);
  }
}

/* ------------------------------------------------------------ C timing */

typedef struct runner {
  rk_spec *spec;
  rk__arena arena;
  rk__buf err;
} runner;

/* A pair as the record parser would give it, built once before timing
 * (the baseline too gets records already parsed). */
typedef struct built {
  rk__jval items[MAXREF], ref;
  rk__record rec;
} built;

static void build(const pair *p, built *b) {
  memset(b, 0, sizeof *b);
  if (!p->nref) {
    b->ref.type = RK__JSTR;
    b->ref.u.str = rk__str_make(p->refs[0], p->nrefs[0]);
  } else {
    for (int k = 0; k < p->nref; k++) {
      b->items[k].type = RK__JSTR;
      b->items[k].u.str = rk__str_make(p->refs[k], p->nrefs[k]);
    }
    b->ref.type = RK__JARR;
    b->ref.u.arr.items = b->items;
    b->ref.u.arr.n = (size_t)p->nref;
  }
  b->rec.response = rk__str_make(p->resp, p->nresp);
  b->rec.has_response = 1;
  b->rec.reference = &b->ref;
}

static double score_pair(runner *r, const built *b) {
  rk__arena_reset(&r->arena);
  rk__budget budget = {0, RK_DEFAULT_STEPS};
  double comp[2] = {NAN, NAN};
  rk__eval_state st = {.comp = comp, .comp_explain = NULL};
  rk__call c = {.rec = &b->rec, .arena = &r->arena, .budget = &budget, .error = &r->err,
                .engine = &st};
  double v = NAN;
  rk__spec_eval(r->spec, &c, &v);
  return v;
}

typedef struct result {
  const char *metric;
  double rk_rate, rk_mean, py_rate, py_mean;
} result;

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 0.5;
  const char *py = argc > 2 ? argv[2] : "/usr/bin/python3";
  const char *path = argc > 3 ? argv[3] : "/tmp/rk_bench_edit_pairs.jsonl";
  const char *only = argc > 4 ? argv[4] : NULL;
  static const struct {
    const char *metric, *spec;
  } M[] = {
      {"cer", "{\"reward\": {\"fn\": \"cer\", \"args\": {\"extract\": \"none\"}}}"},
      {"wer", "{\"reward\": {\"fn\": \"wer\", \"args\": {\"extract\": \"none\"}}}"},
      {"edit_ratio", "{\"reward\": {\"fn\": \"edit_ratio\", \"args\": {\"extract\": \"none\"}}}"},
      {"edit_ratio_indel",
       "{\"reward\": {\"fn\": \"edit_ratio\", \"args\": {\"extract\": \"none\", \"method\": "
       "\"indel\"}}}"},
      {"anls", "{\"reward\": {\"fn\": \"anls\", \"args\": {\"extract\": \"none\"}}}"},
      {"vqa_acc", "{\"reward\": {\"fn\": \"vqa_acc\", \"args\": {\"extract\": \"none\"}}}"},
      {"relaxed_acc", "{\"reward\": {\"fn\": \"relaxed_acc\", \"args\": {\"extract\": \"none\"}}}"},
      {"keywords", "{\"reward\": {\"fn\": \"keywords\", \"args\": {\"extract\": \"none\"}}}"},
      {"edit_ratio_page", "{\"reward\": {\"fn\": \"edit_ratio\", \"args\": {\"extract\": \"none\"}}}"},
      {"edit_ratio_indel_page",
       "{\"reward\": {\"fn\": \"edit_ratio\", \"args\": {\"extract\": \"none\", \"method\": "
       "\"indel\"}}}"},
      {"edit_ratio_far",
       "{\"reward\": {\"fn\": \"edit_ratio\", \"args\": {\"extract\": \"none\"}}}"},
      {"edit_ratio_indel_far",
       "{\"reward\": {\"fn\": \"edit_ratio\", \"args\": {\"extract\": \"none\", \"method\": "
       "\"indel\"}}}"},
      {"keyword_chain",
       "{\"reward\": {\"fn\": \"keyword_chain\", \"args\": {\"extract\": \"none\"}}}"},
      {"keywords_tiers",
       "{\"reward\": {\"fn\": \"keywords\", \"args\": {\"extract\": \"none\", \"grading\": "
       "\"tiers\"}}}"},
      {"em", "{\"reward\": {\"fn\": \"em\", \"args\": {\"extract\": \"none\"}}}"},
      {"lang_consistency", "{\"reward\": {\"fn\": \"lang_consistency\"}}"},
  };
  enum { NM = sizeof M / sizeof M[0] };
  static pair ps[NM][NPAIRS];
  result res[NM];
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "bench_edit: cannot write %s\n", path);
    return 1;
  }
  for (size_t m = 0; m < NM; m++) {
    gen(M[m].metric, ps[m]);
    write_pairs(f, M[m].metric, ps[m]);
  }
  fclose(f);
  printf("bench_edit: %d pairs per metric (%d of ~1,500 characters for *_page), >= %.2f s CPU "
         "per side, one core\n", NPAIRS, NPAGES, secs);
  printf("reproduce: %s %.2f %s %s   (from the repository root)\n", argv[0], secs, py, path);
  for (size_t m = 0; m < NM; m++) {
    res[m].metric = M[m].metric;
    res[m].rk_rate = res[m].rk_mean = res[m].py_rate = res[m].py_mean = NAN;
    if (only && strcmp(only, M[m].metric)) continue;
    runner r;
    char err[256];
    if (rk_spec_compile(M[m].spec, strlen(M[m].spec), &r.spec, err, sizeof err) != RK_OK) {
      fprintf(stderr, "bench_edit: %s\n", err);
      return 1;
    }
    rk__arena_init(&r.arena, 0);
    rk__buf_init(&r.err, 4096);
    const int np = npairs(M[m].metric);
    static built bs[NPAIRS];
    for (int i = 0; i < np; i++) build(&ps[m][i], &bs[i]);
    double sum = 0;
    for (int i = 0; i < np; i++) sum += score_pair(&r, &bs[i]);
    long done = 0;
    double t0 = now_s(), dt;
    volatile double sink = 0;
    do {
      for (int i = 0; i < np; i++) sink += score_pair(&r, &bs[i]);
      done += np;
      dt = now_s() - t0;
    } while (dt < secs);
    (void)sink;
    res[m].rk_rate = (double)done / dt;
    res[m].rk_mean = sum / np;
    rk__arena_release(&r.arena);
    rk__buf_release(&r.err);
    rk_spec_free(r.spec);
  }
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s bench/baseline_edit.py %s %.2f", py, path, secs * 2);
  FILE *pp = strcmp(py, "none") ? popen(cmd, "r") : NULL;
  if (pp) {
    char line[256], name[64];
    double rate, mean;
    int n;
    while (fgets(line, sizeof line, pp))
      if (sscanf(line, "%63s %lf %lf %d", name, &rate, &mean, &n) == 4)
        for (size_t m = 0; m < NM; m++)
          if (!strcmp(name, res[m].metric)) res[m].py_rate = rate, res[m].py_mean = mean;
    if (pclose(pp) != 0) fprintf(stderr, "bench_edit: baseline failed: %s\n", cmd);
  }
  printf("\n| metric | rewardkit pairs/s | python pairs/s | ratio | mean rk / py |\n");
  printf("|---|---:|---:|---:|---|\n");
  for (size_t m = 0; m < NM; m++)
    printf("| %s | %.0f | %.0f | %.0fx | %.6f / %.6f |\n", res[m].metric, res[m].rk_rate,
           res[m].py_rate, res[m].rk_rate / res[m].py_rate, res[m].rk_mean, res[m].py_mean);
  return 0;
}
