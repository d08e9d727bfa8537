// re2_shim.cc - the extern "C" side of re2_shim.h: compiling with bounded
// memory, classifying compile errors (unsupported feature vs. syntax error),
// and the match loops with their work accounting.
//
// Not for: anything but RE2. Nothing here throws past the C boundary.

#include "format/re2_shim.h"

#include <re2/re2.h>

#include <cstring>
#include <new>
#include <string>

struct rk__re {
  re2::RE2 *re;
};

namespace {

constexpr size_t kDefaultMaxMem = size_t(8) << 20;

void copy_err(char *err, size_t errcap, const std::string &msg) {
  if (!err || errcap == 0) return;
  size_t k = msg.size() < errcap - 1 ? msg.size() : errcap - 1;
  std::memcpy(err, msg.data(), k);
  err[k] = '\0';
}

// RE2 refuses a few constructs on purpose (they need backtracking). Tell
// them apart from plain syntax errors so the message can say why.
rk__re_errkind classify(const re2::RE2 &re) {
  const std::string &arg = re.error_arg();
  switch (re.error_code()) {
    case re2::RE2::ErrorPatternTooLarge:
      return RK__RE_TOO_BIG;
    case re2::RE2::ErrorBadPerlOp:
      // (?= (?! (?<= (?<! (?> (?( (?<name> ... : lookaround, atomic
      // groups, conditionals and the PCRE spelling of named groups.
      return RK__RE_UNSUPPORTED;
    case re2::RE2::ErrorBadEscape:
      // \1..\9 backreferences, \g \k named backreferences, \Z \G \K \R \X.
      if (arg.size() >= 2 && arg[0] == '\\' &&
          std::strchr("0123456789gkZGKRX", arg[1]) != nullptr && arg[1] != '\0')
        return RK__RE_UNSUPPORTED;
      return RK__RE_INVALID;
    case re2::RE2::ErrorRepeatOp:
      // "*+", "++", "?+": possessive quantifiers.
      if (arg.size() == 2 && arg[1] == '+') return RK__RE_UNSUPPORTED;
      return RK__RE_INVALID;
    default:
      return RK__RE_INVALID;
  }
}

// Length of the UTF-8 sequence starting at s[i] (1 for a stray byte).
size_t char_len(const char *s, size_t n, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t k = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  size_t j = 1;
  while (j < k && i + j < n &&
         (static_cast<unsigned char>(s[i + j]) & 0xC0) == 0x80)
    j++;
  return j;
}

// The common loop behind count and find_last. Returns 1/0/2/-1 as in the
// header; *nfound and the last match are updated as matches are found.
int scan(const rk__re *re, const char *s, size_t n, size_t max_count,
         uint64_t budget, size_t *nfound, size_t *lb, size_t *le,
         uint64_t *spent) {
  re2::StringPiece text(s ? s : "", n);
  size_t pos = 0, found = 0;
  uint64_t used = 0;
  int rc = 0;
  uint64_t per_byte = rk__re_cost(re);
  while (pos <= n) {
    uint64_t cost = (static_cast<uint64_t>(n - pos) + 1) * per_byte;
    if (used + cost > budget) {
      rc = 2;
      break;
    }
    used += cost;
    re2::StringPiece m;
    if (!re->re->Match(text, pos, n, re2::RE2::UNANCHORED, &m, 1)) break;
    size_t b = static_cast<size_t>(m.data() - text.data());
    size_t e = b + m.size();
    found++;
    *lb = b;
    *le = e;
    if (max_count && found >= max_count) break;
    if (e > b) {
      pos = e;
    } else {
      if (e >= n) break;
      pos = e + char_len(s, n, e);
    }
  }
  *nfound = found;
  if (spent) *spent = used;
  if (rc == 2) return 2;
  return found ? 1 : 0;
}

}  // namespace

extern "C" int rk__re_compile(const char *pat, size_t n,
                              const rk__re_options *opts, rk__re **out,
                              rk__re_errkind *kind, char *err, size_t errcap) {
  *out = nullptr;
  if (kind) *kind = RK__RE_OK;
  rk__re *h = nullptr;
  try {
    re2::RE2::Options o;
    o.set_encoding(re2::RE2::Options::EncodingUTF8);
    o.set_log_errors(false);
    o.set_longest_match(false);
    size_t mem = opts && opts->max_mem ? opts->max_mem : kDefaultMaxMem;
    o.set_max_mem(static_cast<int64_t>(mem));
    o.set_dot_nl(opts && opts->dot_nl);
    o.set_case_sensitive(!(opts && opts->case_insensitive));
    o.set_literal(opts && opts->literal);
    h = new rk__re;
    h->re = nullptr;
    h->re = new re2::RE2(re2::StringPiece(pat ? pat : "", n), o);
    if (!h->re->ok()) {
      if (kind) *kind = classify(*h->re);
      copy_err(err, errcap, h->re->error());
      delete h->re;
      delete h;
      return -1;
    }
    *out = h;
    return 0;
  } catch (const std::bad_alloc &) {
    if (kind) *kind = RK__RE_NOMEM;
    copy_err(err, errcap, "out of memory");
  } catch (...) {
    if (kind) *kind = RK__RE_INVALID;
    copy_err(err, errcap, "internal error in RE2");
  }
  if (h) {
    delete h->re;
    delete h;
  }
  return -1;
}

extern "C" void rk__re_free(rk__re *re) {
  if (!re) return;
  delete re->re;
  delete re;
}

extern "C" int rk__re_groups(const rk__re *re) {
  return re ? re->re->NumberOfCapturingGroups() : 0;
}

extern "C" uint64_t rk__re_cost(const rk__re *re) {
  int m = re ? re->re->ProgramSize() : 1;
  return m > 1 ? static_cast<uint64_t>(m) : 1;
}

extern "C" int rk__re_fullmatch(const rk__re *re, const char *s, size_t n) {
  try {
    re2::StringPiece text(s ? s : "", n);
    return re->re->Match(text, 0, n, re2::RE2::ANCHOR_BOTH, nullptr, 0) ? 1 : 0;
  } catch (...) {
    return -1;
  }
}

extern "C" int rk__re_search(const rk__re *re, const char *s, size_t n,
                             size_t start, size_t *mb, size_t *me) {
  try {
    if (start > n) return 0;
    re2::StringPiece text(s ? s : "", n);
    re2::StringPiece m;
    if (!re->re->Match(text, start, n, re2::RE2::UNANCHORED, &m, 1)) return 0;
    size_t b = static_cast<size_t>(m.data() - text.data());
    if (mb) *mb = b;
    if (me) *me = b + m.size();
    return 1;
  } catch (...) {
    return -1;
  }
}

extern "C" int rk__re_count(const rk__re *re, const char *s, size_t n,
                            size_t max_count, uint64_t budget, size_t *count,
                            uint64_t *spent) {
  size_t lb = 0, le = 0, found = 0;
  if (spent) *spent = 0;
  *count = 0;
  try {
    int rc = scan(re, s, n, max_count, budget, &found, &lb, &le, spent);
    *count = found;
    return rc;
  } catch (...) {
    return -1;
  }
}

extern "C" int rk__re_find_last(const rk__re *re, const char *s, size_t n,
                                uint64_t budget, size_t *mb, size_t *me,
                                uint64_t *spent) {
  size_t lb = 0, le = 0, found = 0;
  if (spent) *spent = 0;
  try {
    int rc = scan(re, s, n, 0, budget, &found, &lb, &le, spent);
    if (found) {
      if (mb) *mb = lb;
      if (me) *me = le;
    }
    return rc;
  } catch (...) {
    return -1;
  }
}
