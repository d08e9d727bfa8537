/*
 * puzzles.c - self-supervised visual puzzles (SSL4RL-style): `jigsaw` (the
 * predicted order of shuffled pieces against the reference permutation:
 * exact match or fraction in place) and `rotation` (which rotation was
 * applied to an image: 0/90/180/270 degrees, named by number, words or an
 * option letter).
 *
 * Not for: mazes (maze.c) or free-form angle regression (use `numeric`
 * with a tolerance).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/extract.h"
#include "vision/geometry.h"

/* -------------------------------------------------------------- jigsaw */

typedef struct jig_cfg {
  rk__extract_cfg ex;
  int exact, require_perm;
} jig_cfg;

static void jig_free(void *v) {
  jig_cfg *cfg = v;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int jig_compile(rk__argctx *ac, void **out) {
  static const char *const modes[] = {"fraction", "exact", NULL};
  jig_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__geo_extract_compile(ac, &cfg->ex) || rk__arg_enum(ac, "mode", modes, 0, &cfg->exact) ||
      rk__arg_bool(ac, "require_permutation", 1, &cfg->require_perm)) {
    jig_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static rk_status jig_score(const void *v, rk__call *c, double *value) {
  const jig_cfg *cfg = v;
  *value = 0;
  rk__nl ref, ans;
  rk_status st = rk__geo_ref_scan(c, c->rec->reference, &ref);
  if (st != RK_STATUS_OK) return st;
  size_t n = ref.nflat;
  if (n == 0) {
    rk__explain(c, "reference has no piece numbers");
    return RK_STATUS_INVALID_REFERENCE;
  }
  for (size_t i = 0; i < n; i++)
    if (ref.flat[i] != floor(ref.flat[i])) {
      rk__explain(c, "reference item %zu is not an integer", i + 1);
      return RK_STATUS_INVALID_REFERENCE;
    }
  rk__str text;
  st = rk__geo_answer(&cfg->ex, c, &text, &ans);
  if (st != RK_STATUS_OK) return st;
  /* The last bracket group of the reference's length, else every number. */
  const double *pred = NULL;
  size_t np = ans.nflat;
  for (size_t i = ans.ntup; i-- > 0;)
    if (ans.tup[i].len == n) {
      pred = ans.nums + ans.tup[i].off, np = n;
      break;
    }
  if (!pred) pred = ans.flat;
  if (np == 0) {
    rk__explain(c, "no piece numbers in the answer");
    return RK_STATUS_UNPARSEABLE;
  }
  if (np != n) {
    rk__explain(c, "answer lists %zu pieces, reference has %zu", np, n);
    return RK_STATUS_OK;
  }
  if (!rk__spend(c, 24 * (uint64_t)n + 1)) return RK_STATUS_TIMEOUT; /* two sorts */
  if (cfg->require_perm) {
    /* Same multiset as the reference: sort both and compare. */
    double *a = rk__arena_alloc(c->arena, n * sizeof *a), *b = rk__arena_alloc(c->arena, n * sizeof *b);
    if (!a || !b) return rk__fail(c, "out of scratch memory");
    memcpy(a, pred, n * sizeof *a);
    memcpy(b, ref.flat, n * sizeof *b);
    qsort(a, n, sizeof *a, cmp_double);
    qsort(b, n, sizeof *b, cmp_double);
    /* Walk the sorted lists run by run: the first value whose count
     * differs names the problem (a repeated piece or a foreign one). */
    size_t i = 0, j = 0;
    while (i < n || j < n) {
      double va = i < n ? a[i] : INFINITY, vb = j < n ? b[j] : INFINITY;
      double x = va < vb ? va : vb;
      size_t ka = 0, kb = 0;
      while (i < n && a[i] == x) i++, ka++;
      while (j < n && b[j] == x) j++, kb++;
      if (ka > kb) {
        char t[32];
        rk__fmt_double(t, x);
        if (kb == 0)
          rk__explain(c, "answer is not a permutation of the pieces: %s is not a piece", t);
        else
          rk__explain(c, "answer is not a permutation of the pieces: %s appears %zu times", t, ka);
        return RK_STATUS_OK;
      }
    }
  }
  size_t in_place = 0, first_wrong = 0;
  for (size_t i = 0; i < n; i++) {
    if (pred[i] == ref.flat[i])
      in_place++;
    else if (!first_wrong)
      first_wrong = i + 1;
  }
  *value = cfg->exact ? (in_place == n) : (double)in_place / (double)n;
  if (rk__explaining(c)) {
    char a[32];
    rk__fmt_double(a, *value);
    if (first_wrong)
      rk__explain(c, "%zu of %zu pieces in place (first wrong: position %zu); %s %s", in_place, n,
                  first_wrong, cfg->exact ? "exact" : "fraction", a);
    else
      rk__explain(c, "%zu of %zu pieces in place; %s %s", in_place, n,
                  cfg->exact ? "exact" : "fraction", a);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_jigsaw = {
    .name = "jigsaw",
    .summary = "predicted piece order vs the reference permutation: fraction in place or exact",
    .compile = jig_compile,
    .score = jig_score,
    .free = jig_free,
};

/* ------------------------------------------------------------ rotation */

static int lower_eq(const char *p, size_t n, size_t i, const char *w) {
  size_t k = strlen(w);
  if (i + k > n) return 0;
  for (size_t j = 0; j < k; j++)
    if (((unsigned char)p[i + j] | (p[i + j] >= 'A' && p[i + j] <= 'Z' ? 32 : 0)) != (unsigned char)w[j])
      return 0;
  return 1;
}

static int alpha(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static int digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Word w at i, not glued to letters on either side. */
static int word_at(const char *p, size_t n, size_t i, const char *w) {
  size_t k = strlen(w);
  return lower_eq(p, n, i, w) && (i == 0 || !alpha((unsigned char)p[i - 1])) &&
         (i + k == n || !alpha((unsigned char)p[i + k]));
}

int rk__rot_parse(const char *p, size_t n, double *deg, int *dir) {
  double seen[8];
  int nseen = 0, distinct = 0, bare_zero = 0;
  *dir = 0;
  *deg = 0;
#define ADD_ANGLE(x)                                                    \
  do {                                                                  \
    double a_ = fmod((x), 360.0);                                       \
    if (a_ < 0) a_ += 360.0;                                            \
    if (a_ == 0) a_ = 0; /* no -0 */                                    \
    int dup_ = 0;                                                       \
    for (int t_ = 0; t_ < nseen; t_++) dup_ |= seen[t_] == a_;          \
    if (!dup_) {                                                        \
      distinct++;                                                       \
      if (nseen < 8) seen[nseen++] = a_;                                \
    }                                                                   \
    *deg = a_;                                                          \
  } while (0)
  for (size_t i = 0; i < n;) {
    unsigned char ch = (unsigned char)p[i];
    if (alpha(ch)) {
      if (word_at(p, n, i, "counterclockwise") || word_at(p, n, i, "anticlockwise") ||
          word_at(p, n, i, "ccw"))
        *dir = -1;
      else if (lower_eq(p, n, i, "counter-clockwise") || lower_eq(p, n, i, "anti-clockwise")) {
        /* Skip the whole phrase, or its "clockwise" would be read next. */
        *dir = -1;
        i += p[i] == 'a' || p[i] == 'A' ? 14 : 17;
        continue;
      }
      else if (word_at(p, n, i, "clockwise") || word_at(p, n, i, "cw"))
        *dir = 1;
      else if (word_at(p, n, i, "upside"))
        ADD_ANGLE(180);
      else if (word_at(p, n, i, "upright") || word_at(p, n, i, "unrotated"))
        ADD_ANGLE(0);
      else if (lower_eq(p, n, i, "no rotation") || lower_eq(p, n, i, "not rotated"))
        ADD_ANGLE(0);
      while (i < n && (alpha((unsigned char)p[i]) || digit((unsigned char)p[i]))) i++;
      continue;
    }
    int neg = 0;
    size_t j = i;
    if ((ch == '-' || ch == '+') && i + 1 < n && digit((unsigned char)p[i + 1]) &&
        (i == 0 || !(digit((unsigned char)p[i - 1]) || alpha((unsigned char)p[i - 1])))) {
      neg = ch == '-';
      j++;
    } else if (!digit(ch)) {
      i++;
      continue;
    }
    size_t d0 = j;
    double x = 0;
    while (j < n && digit((unsigned char)p[j])) {
      if (j - d0 < 12) x = x * 10 + (p[j] - '0');
      j++;
    }
    int frac = 0;
    if (j + 1 < n && p[j] == '.' && digit((unsigned char)p[j + 1])) {
      double s = 0.1;
      j++;
      while (j < n && digit((unsigned char)p[j])) {
        if (p[j] != '0') frac = 1;
        x += s * (p[j] - '0');
        s /= 10;
        j++;
      }
    }
    if (j < n && alpha((unsigned char)p[j]) && !lower_eq(p, n, j, "deg")) {
      /* "3rd", "2x": not an angle. */
      i = j;
      while (i < n && (alpha((unsigned char)p[i]) || digit((unsigned char)p[i]))) i++;
      continue;
    }
    if (neg) x = -x;
    size_t k = j;
    while (k < n && p[k] == ' ') k++;
    int marked = (k + 1 < n && (unsigned char)p[k] == 0xc2 && (unsigned char)p[k + 1] == 0xb0) ||
                 lower_eq(p, n, k, "deg");
    int quarter = !frac && fmod(fabs(x), 90.0) == 0 && fabs(x) <= 360;
    /* A bare 0 is usually a count ("rotated 90 degrees; I see 0 people"):
     * an angle only when the answer names no other. */
    if (quarter && !marked && x == 0)
      bare_zero = 1;
    else if (marked || quarter)
      ADD_ANGLE(x);
    i = j;
  }
  if (!distinct && bare_zero) ADD_ANGLE(0);
#undef ADD_ANGLE
  return distinct;
}

typedef struct rot_cfg {
  rk__extract_cfg ex;
  int direction; /* 0 any, 1 clockwise, -1 counterclockwise */
  char **options;
  size_t noptions;
  char *options_field;
} rot_cfg;

static void rot_free(void *v) {
  rot_cfg *cfg = v;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  rk__strlist_free(cfg->options);
  free(cfg->options_field);
  free(cfg);
}

static int rot_compile(rk__argctx *ac, void **out) {
  static const char *const dirs[] = {"any", "clockwise", "counterclockwise", NULL};
  rot_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  int d = 0;
  int given = rk__arg_raw(ac, "extract") != NULL;
  if (rk__extract_cfg_compile(ac, RK__EX_AUTO, &cfg->ex) ||
      rk__arg_enum(ac, "direction", dirs, 0, &d) ||
      rk__arg_strlist(ac, "options", &cfg->options, &cfg->noptions) ||
      rk__arg_str(ac, "options_field", NULL, &cfg->options_field)) {
    rot_free(cfg);
    return -1;
  }
  if (!given) {
    cfg->ex.modes[0] = RK__EX_AUTO;
    cfg->ex.modes[1] = RK__EX_NONE;
    cfg->ex.nmodes = 2;
  }
  cfg->direction = d == 2 ? -1 : d;
  if (cfg->options && cfg->options_field) {
    rot_free(cfg);
    return rk__arg_error(ac, "options_field", "give either options or options_field, not both");
  }
  if (cfg->options && (cfg->noptions == 0 || cfg->noptions > 26)) {
    rot_free(cfg);
    return rk__arg_error(ac, "options", "expected 1 to 26 options");
  }
  for (size_t i = 0; i < cfg->noptions; i++) {
    double a;
    int dd;
    if (rk__rot_parse(cfg->options[i], strlen(cfg->options[i]), &a, &dd) != 1) {
      rk__arg_error(ac, "options", "option %zu ('%.40s') names no single angle", i + 1, cfg->options[i]);
      rot_free(cfg);
      return -1;
    }
  }
  *out = cfg;
  return 0;
}

/* The single option letter the text commits to ("B", "(B)", "B.",
 * "Option B"): index, -1 none, -2 several. */
static int option_letter(const char *p, size_t n, size_t nopt) {
  int found = -1;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)p[i];
    if (ch < 'A' || ch >= 'A' + nopt) continue;
    if (i > 0 && (alpha((unsigned char)p[i - 1]) || digit((unsigned char)p[i - 1]))) continue;
    if (i + 1 < n && (alpha((unsigned char)p[i + 1]) || digit((unsigned char)p[i + 1]))) continue;
    int idx = ch - 'A';
    if (found >= 0 && found != idx) return -2;
    found = idx;
  }
  return found;
}

/* Angle of a text, via an option letter when options exist. 1 found,
 * 0 none, -1 ambiguous (explained in why). */
static int text_angle(const char *p, size_t n, const rk__str *opts, size_t nopt, int direction,
                      double *deg, char *why, size_t cap) {
  int dir = 0;
  int k = rk__rot_parse(p, n, deg, &dir);
  if (k == 0 && nopt) {
    int li = option_letter(p, n, nopt);
    if (li == -2) {
      snprintf(why, cap, "names several option letters");
      return -1;
    }
    if (li >= 0) {
      int d2;
      rk__rot_parse(opts[li].p, opts[li].n, deg, &d2);
      return 1;
    }
  }
  if (k == 0) {
    snprintf(why, cap, "names no rotation angle");
    return 0;
  }
  if (k > 1) {
    snprintf(why, cap, "names %d different angles", k);
    return -1;
  }
  if (direction && dir && dir != direction && *deg != 0) *deg = 360 - *deg;
  return 1;
}

static rk_status rot_score(const void *v, rk__call *c, double *value) {
  const rot_cfg *cfg = v;
  *value = 0;
  /* Options: static, or from a record field (array of strings). */
  rk__str opts[26];
  size_t nopt = 0;
  if (cfg->options) {
    for (size_t i = 0; i < cfg->noptions; i++)
      opts[nopt++] = rk__str_make(cfg->options[i], strlen(cfg->options[i]));
  } else if (cfg->options_field) {
    const rk__jval *f = rk__record_field(c->rec, cfg->options_field);
    if (f && f->type == RK__JARR) nopt = rk__ref_strings(f, opts, 26);
  }
  const rk__jval *ref = c->rec->reference;
  if (!ref) {
    rk__explain(c, "record has no reference rotation");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__str rs = ref->type == RK__JSTR ? ref->u.str : ref->raw;
  if (!rk__spend(c, rs.n + 1)) return RK_STATUS_TIMEOUT;
  double gold = 0, pred = 0;
  char why[96];
  if (text_angle(rs.p, rs.n, opts, nopt, 0, &gold, why, sizeof why) != 1) {
    rk__explain(c, "reference %s", why);
    return RK_STATUS_INVALID_REFERENCE;
  }
  if (!c->rec->has_response) return rk__fail(c, "record has no response text");
  rk__str ans;
  rk_status st = rk__extract(&cfg->ex, c, c->rec->response, &ans, NULL);
  if (st != RK_STATUS_OK) return st;
  if (!rk__spend(c, ans.n + 1)) return RK_STATUS_TIMEOUT;
  int r = text_angle(ans.p, ans.n, opts, nopt, cfg->direction, &pred, why, sizeof why);
  if (r == 0) {
    rk__explain(c, "answer %s", why);
    return RK_STATUS_UNPARSEABLE;
  }
  if (r < 0) {
    rk__explain(c, "answer %s: 0", why);
    return RK_STATUS_OK;
  }
  *value = pred == gold;
  if (rk__explaining(c)) {
    char a[32], b[32];
    rk__fmt_double(a, pred);
    rk__fmt_double(b, gold);
    rk__explain(c, "pred %s degrees %s gold %s degrees", a, pred == gold ? "==" : "!=", b);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_rotation = {
    .name = "rotation",
    .summary = "which rotation was applied (0/90/180/270): degrees, words or option letters",
    .compile = rot_compile,
    .score = rot_score,
    .free = rot_free,
};
