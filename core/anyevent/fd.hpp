// ae::fd — an owning file descriptor. Every anyevent function that hands out a descriptor
// hands out an ae::fd, so none can leak on any path.
#pragma once

#include <utility>

namespace ae {
namespace detail {
/// Tells every loop that `fd` is being closed, so a lazily kept kernel registration of that
/// number is dropped before the number can be reused.
void fd_closing(int fd) noexcept;
}  // namespace detail

class fd {
 public:
  fd() noexcept = default;
  explicit fd(int n) noexcept : n_(n) {}
  fd(fd&& o) noexcept : n_(std::exchange(o.n_, -1)) {}
  fd& operator=(fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.n_, -1));
    return *this;
  }
  ~fd() { reset(); }

  int get() const noexcept { return n_; }
  explicit operator bool() const noexcept { return n_ >= 0; }
  /// Give up ownership without closing.
  [[nodiscard]] int release() noexcept { return std::exchange(n_, -1); }
  /// Close the current descriptor (if any) and own `n` instead.
  void reset(int n = -1) noexcept;

 private:
  int n_ = -1;
};

}  // namespace ae
