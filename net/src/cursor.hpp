// The one checked reader for untrusted text in net/ (STYLE 10, after c-ares' ares_buf):
// every read is bounds-checked and reports failure instead of reading past the end, so the
// parsers above it never index or do pointer arithmetic on their input.
#pragma once

#include <cstddef>
#include <string_view>

namespace ae::detail {

inline bool is_space(int c) noexcept {  // Perl's \s, which AnyEvent's grammar uses
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
inline bool is_control(int c) noexcept { return (c >= 0 && c < 0x20) || c == 0x7f; }
inline bool is_digit(int c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_hex_digit(int c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/// 0–15 for a hex digit, -1 otherwise.
inline int hex_value(int c) noexcept {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class cursor {
 public:
  explicit cursor(std::string_view text) noexcept : text_(text) {}

  bool at_end() const noexcept { return pos_ >= text_.size(); }
  std::size_t pos() const noexcept { return pos_; }
  /// The next character as 0–255, or -1 at the end (so a NUL byte is never mistaken for
  /// the end of input).
  int peek() const noexcept {
    return at_end() ? -1 : static_cast<unsigned char>(text_[pos_]);
  }
  /// Consumes `c` if it comes next.
  bool consume(char c) noexcept {
    if (at_end() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  /// Consumes `s` if it comes next.
  bool consume(std::string_view s) noexcept {
    if (rest().substr(0, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }
  /// Consumes and returns the longest run of characters (0–255) that satisfy `pred`.
  template <class Pred>
  std::string_view take_while(Pred pred) noexcept {
    const std::size_t start = pos_;
    while (!at_end() && pred(static_cast<int>(static_cast<unsigned char>(text_[pos_])))) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  /// Length of the run take_while would consume, without consuming it.
  template <class Pred>
  std::size_t count_while(Pred pred) const noexcept {
    cursor probe = *this;
    return probe.take_while(pred).size();
  }
  /// Consumes the next `n` characters; false (and nothing consumed) if fewer are left.
  bool skip(std::size_t n) noexcept {
    if (n > text_.size() - pos_) return false;
    pos_ += n;
    return true;
  }
  /// Everything not yet consumed.
  std::string_view rest() const noexcept { return text_.substr(pos_); }
  /// Consumes everything that is left and returns it.
  std::string_view take_rest() noexcept {
    std::string_view r = rest();
    pos_ = text_.size();
    return r;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;  // invariant: pos_ <= text_.size()
};

}  // namespace ae::detail
