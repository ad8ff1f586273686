// A growable array for queues appended to on hot paths (a watcher stop): append() is a
// compare and two stores, and growth is an out-of-line call, so the caller keeps few
// registers. Capacity is kept across clear(), like every scratch vector of the loop.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <type_traits>

namespace ae::detail {

template <class T>
class append_array {
  static_assert(std::is_trivially_copyable_v<T>, "grow() copies the entries bytewise");

 public:
  void append(const T& x) {
    if (n_ == cap_) [[unlikely]] grow();
    p_[n_++] = x;
  }
  /// append() without the check, after has_room(). The capacity is a member of its own, so
  /// the check is one compare with memory, not a vector's (end - begin) / size.
  bool has_room() const noexcept { return n_ < cap_; }
  void append_unchecked(const T& x) noexcept { p_[n_++] = x; }
  T* begin() noexcept { return p_.get(); }
  T* end() noexcept { return p_.get() + n_; }
  bool empty() const noexcept { return n_ == 0; }
  void clear() noexcept { n_ = 0; }

 private:
  [[gnu::noinline]] void grow() {
    const std::size_t cap = std::max<std::size_t>(64, cap_ * 2);
    std::unique_ptr<T[]> p(new T[cap]);
    std::copy(p_.get(), p_.get() + n_, p.get());
    p_ = std::move(p);
    cap_ = cap;
  }

  std::unique_ptr<T[]> p_;  // in use: the first n_ of cap_
  std::size_t n_ = 0, cap_ = 0;
};

}  // namespace ae::detail
