// Invariant checks shared by the fuzz targets: on failure, print what broke and the input
// (escaped), then abort so libFuzzer and the replay main both report a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace ae::fuzz {

inline void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz invariant broken: %s\ninput (%zu bytes): \"", what, input.size());
  std::size_t shown = 0;
  for (char ch : input) {
    if (++shown > 512) {
      std::fputs("...", stderr);
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
      std::fputc(c, stderr);
    else
      std::fprintf(stderr, "\\x%02x", c);
  }
  std::fputs("\"\n", stderr);
  std::abort();
}

inline void check(bool ok, const char* what, std::string_view input) {
  if (!ok) fail(what, input);
}

inline bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace ae::fuzz
