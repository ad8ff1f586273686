// A growable array for queues appended to on hot paths (a watcher stop): append() is a
// compare and two stores, and growth is an out-of-line call, so the caller keeps few
// registers. Capacity is kept across clear(), like every scratch vector of the loop.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace ae::detail {

template <class T>
class append_array {
 public:
  void append(const T& x) {
    if (n_ == room_.size()) [[unlikely]] grow();
    room_[n_++] = x;
  }
  /// append() without the check, after has_room().
  bool has_room() const noexcept { return n_ < room_.size(); }
  void append_unchecked(const T& x) noexcept { room_[n_++] = x; }
  T* begin() noexcept { return room_.data(); }
  T* end() noexcept { return room_.data() + n_; }
  bool empty() const noexcept { return n_ == 0; }
  void clear() noexcept { n_ = 0; }

 private:
  [[gnu::noinline]] void grow() { room_.resize(std::max<std::size_t>(64, room_.size() * 2)); }

  std::vector<T> room_;  // in use: the first n_
  std::size_t n_ = 0;
};

}  // namespace ae::detail
