/*
 * wide.h - the AVX-512 paths of the text metrics (edit-distance kernels,
 * UTF-8 narrowing, tokenizer blocks, SQuAD keys, script counts): one
 * build switch, one run-time switch and one processor check for all of
 * them, and the byte-class compares they share.
 *
 * Every wide path has a portable twin that gives the same results; the
 * unit tests and the fuzz targets run both (rk__wide = 0 and 1).
 */
#ifndef RK_METRICS_WIDE_H
#define RK_METRICS_WIDE_H

/* -DRK_WIDE=0 leaves the AVX-512 code out of the build. */
#ifndef RK_WIDE
#if defined(__x86_64__) && defined(__GNUC__)
#define RK_WIDE 1
#else
#define RK_WIDE 0
#endif
#endif
#if RK_WIDE
#include <immintrin.h>
#endif

/* 0: the portable code runs even where the processor has AVX-512 (for
 * tests and fuzzing; default 1). */
extern int rk__wide;

/* What a wide path needs beyond AVX-512BW, BMI1 and BMI2. */
enum { RK__WIDE_VBMI = 1, RK__WIDE_VBMI2 = 2 };

/* This processor's features, read once at start-up (levenshtein.c):
 * RK__WIDE_BASE when it has AVX-512BW, BMI1 and BMI2, plus the
 * RK__WIDE_* bits it has. */
enum { RK__WIDE_BASE = 4 };
extern unsigned rk__wide_caps;

/* Whether the wide code needing `extra` (RK__WIDE_* bits) runs here: two
 * loads and a compare, cheap enough for a call per 64-byte block. */
static inline int rk__wide_on(unsigned extra) {
#if RK_WIDE
  const unsigned need = RK__WIDE_BASE | extra;
  return rk__wide && (rk__wide_caps & need) == need;
#else
  (void)extra;
  return 0;
#endif
}

#if RK_WIDE
/* The byte lanes of the __m512i x within [lo, hi] (unsigned), or equal
 * to c, as a 64-bit mask; inside functions built for AVX-512BW. */
#define RK_W_IN(x, lo, hi)                                                     \
  _mm512_cmple_epu8_mask(_mm512_sub_epi8((x), _mm512_set1_epi8((char)(lo))), \
                         _mm512_set1_epi8((char)((hi) - (lo))))
#define RK_W_EQ(x, c) _mm512_cmpeq_epi8_mask((x), _mm512_set1_epi8((char)(c)))
#endif

#endif
