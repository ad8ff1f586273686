// ae::pattern — a Perl-compatible regular expression (PCRE2) for the line and regex read
// types: the syntax AnyEvent's users write their qr// in, and a matcher that is safe on what
// a peer sends.
//
//   h->push_read(ae::regex(ae::pattern(R"(^(\d+) (\w+)\r\n)")), [](ae::handle&, std::string_view all,
//                                                                  const ae::captures& m) { … m[2] … });
//
// Why not std::regex: libstdc++'s matcher recurses once per character for patterns such as
// ".*x", so 100 KB from a peer overflow the stack and kill the process. PCRE2 keeps its
// backtracking state on the heap, and a match that would take more than a bounded amount of
// memory or steps ends with pattern::result::too_costly instead (the read types report it
// as a non-fatal EBADMSG).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ae {

namespace detail {
struct compiled_pattern;
}

/// The groups of the last match: [0] the whole match, [1]… the capture groups (an empty
/// view for a group that took no part). Views into the searched text, valid while it is.
/// At most 15 capture groups are reported.
class captures {
 public:
  static constexpr std::size_t max_groups = 16;  // the whole match and 15 groups
  std::size_t size() const noexcept { return count_; }
  std::string_view operator[](std::size_t i) const noexcept {
    if (i >= count_ || spans_[i].begin == npos) return {};
    return subject_.substr(spans_[i].begin, spans_[i].end - spans_[i].begin);
  }
  /// Where group `i` starts in the searched text (npos when unset).
  std::size_t position(std::size_t i) const noexcept { return i < count_ ? spans_[i].begin : npos; }

 private:
  friend class pattern;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  struct span {
    std::size_t begin = npos, end = npos;
  };
  std::string_view subject_;
  std::array<span, max_groups> spans_{};
  std::size_t count_ = 0;
};

class pattern {
 public:
  enum flags : std::uint32_t { none = 0, caseless = 1, multiline = 2, dotall = 4, extended = 8 };
  enum class result { match, no_match, too_costly };

  /// Compiles `perl` (PCRE2 syntax, as Perl's); ae::error (invalid_argument) with PCRE2's
  /// reason and the offset where it stopped, for a pattern that does not compile.
  explicit pattern(std::string_view perl, flags f = none);

  /// The first match in `subject`; fills `groups` when given. too_costly: the match needed
  /// more than 64 MiB of backtracking memory or 10 million steps (a hostile input).
  result search(std::string_view subject, captures* groups = nullptr) const;
  const std::string& source() const noexcept;

 private:
  std::shared_ptr<const detail::compiled_pattern> code_;  // copies share it
};

constexpr pattern::flags operator|(pattern::flags a, pattern::flags b) noexcept {
  return static_cast<pattern::flags>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}

}  // namespace ae
