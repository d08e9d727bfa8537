#!/usr/bin/env python3
"""Expected outputs of test_overlap.c's `tok13a` cases: sacreBLEU's 13a
tokenizer (tokenizer_13a.py + tokenizer_re.py) ported to a few lines, its
four regexes copied verbatim, run with CPython's `re` (3.11 here). The C
tokenizer reimplements the regexes as byte passes; this is the oracle.

    python3 tests/data/overlap/tok13a_port.py
"""
import re

R = [(re.compile(r'([\{-\~\[-\` -\&\(-\+\:-\@\/])'), r' \1 '),
     (re.compile(r'([^0-9])([\.,])'), r'\1 \2 '),
     (re.compile(r'([\.,])([^0-9])'), r' \1 \2'),
     (re.compile(r'([0-9])(-)'), r'\1 \2 ')]


def tok13a(line):
    line = line.replace('<skipped>', '').replace('-\n', '').replace('\n', ' ')
    if '&' in line:
        line = (line.replace('&quot;', '"').replace('&amp;', '&')
                .replace('&lt;', '<').replace('&gt;', '>'))
    line = f' {line} '
    for r, s in R:
        line = r.sub(s, line)
    return ' '.join(line.split())


CASES = ["Hello, world! It's 3.5-4 km.", "a..b,,c", "1,000.50 and 2.",
         "&amp;lt;b&gt; &quot;x&quot;", "re-<skipped>enter\nline-\nbreak",
         "é.ü,ß 中文。end.", "(x)[y]{z}~`^_|\\@#$%", "A.B.C. 1.2.3",
         "\u00a0nbsp\u3000ideo\u2009thin", "9-9 a-b -1 x.-", ""]

if __name__ == "__main__":
    for c in CASES:
        print(repr(c), '->', repr(tok13a(c.rstrip())))
