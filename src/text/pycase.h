/*
 * pycase.h - the one context-dependent rule of Python 3's str.lower(), and
 * the two Unicode properties it reads. A capital sigma (U+03A3) lowers to
 * the final form ς (U+03C2) when it ends a word and to σ (U+03C3)
 * otherwise: "ΟΔΟΣ".lower() == "οδος", "Σ".lower() == "σ". Every reward
 * that claims Python lower() asks here what its Σ becomes; the mapping of
 * every other code point stays with the caller (utf8proc's simple mapping
 * plus U+0130 -> "i" U+0307).
 *
 * rk__pylower applies the whole of lower() to UTF-8 text.
 *
 * Not for: casefold() (it has no context rule: Σ folds to σ everywhere,
 * which is what the "default" normaliser does), upper().
 */
#ifndef RK_TEXT_PYCASE_H
#define RK_TEXT_PYCASE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define RK__SIGMA_CAPITAL 0x3A3u
#define RK__SIGMA_FINAL 0x3C2u
#define RK__SIGMA_SMALL 0x3C3u

/* Unicode's Cased property as Python 3 has it: categories Lu, Ll, Lt and
 * the Other_Lowercase / Other_Uppercase code points (ª, Roman numerals,
 * circled letters, modifier letters such as ʰ). 0 past U+10FFFF. */
int rk__pycase_cased(uint32_t c);

/* Case_Ignorable: categories Mn, Me, Cf, Lm, Sk, and the Word_Break
 * MidLetter / MidNumLet / Single_Quote characters (' . : · ’ and a few
 * more). 0 past U+10FFFF. */
int rk__pycase_ignorable(uint32_t c);

/* What Python's lower() makes of the U+03A3 at s[i] in the string
 * s[0..n) it is applied to. CPython walks back from the Σ over case
 * ignorable code points: unless the first other one exists and is cased,
 * the result is σ. It then walks forward the same way: the result is ς
 * unless the first other code point is cased. (A code point that is both
 * cased and case ignorable, like ʰ, is only ever walked over.) Whitespace
 * is neither, so the context never crosses a space. Linear over a string:
 * a walk stops at the next Σ. */
uint32_t rk__pycase_sigma(const uint32_t *s, size_t n, size_t i);

/* The same over UTF-8 text p[0..n), the Σ's two bytes (CE A3) at p[i].
 * A byte that is not part of a valid sequence is U+FFFD on its own, as
 * the decoders of the metrics read it (neither cased nor ignorable). */
uint32_t rk__pycase_sigma_utf8(const char *p, size_t n, size_t i);

/* Python's str.lower() of UTF-8 text p[0..n) into arena memory (*out_n
 * bytes, NUL-terminated): utf8proc's simple mapping per code point,
 * Python's one-to-many U+0130 -> "i" U+0307, and the final sigma above;
 * a byte that is not part of a valid sequence is copied as it is. NULL
 * when the arena is exhausted. */
char *rk__pylower(rk__arena *a, const char *p, size_t n, size_t *out_n);

#endif /* RK_TEXT_PYCASE_H */
