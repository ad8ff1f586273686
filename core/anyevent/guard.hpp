// ae::guard — destroying it cancels what it guards; release() lets the operation run on
// unguarded (AnyEvent's "void context").
#pragma once

#include <anyevent/function.hpp>

namespace ae {

class [[nodiscard]] guard {
 public:
  guard() noexcept = default;
  explicit guard(unique_function<void()> cancel) noexcept : cancel_(std::move(cancel)) {}
  guard(guard&&) noexcept = default;
  guard& operator=(guard&& o) noexcept {
    if (this != &o) {
      reset();
      cancel_ = std::move(o.cancel_);
    }
    return *this;
  }
  ~guard() { reset(); }

  /// Cancel now (idempotent).
  void reset() noexcept {
    if (cancel_) {
      auto c = std::move(cancel_);
      c();
    }
  }
  /// Let the operation run on; nothing will cancel it.
  void release() noexcept { cancel_.reset(); }
  explicit operator bool() const noexcept { return static_cast<bool>(cancel_); }

 private:
  unique_function<void()> cancel_;
};

}  // namespace ae
