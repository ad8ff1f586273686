// ae::buffer's growth and the read queue's ring: the only allocations of a handle's
// steady state, and each happens only while the structure grows.
#include <anyevent/buffer.hpp>
#include <anyevent/handle.hpp>

#include <algorithm>
#include <cstring>

namespace ae {

char* buffer::prepare(std::size_t n) {
  if (capacity_ - end_ >= n) return data_.get() + end_;
  const std::size_t used = size();
  if (used + n <= capacity_ && begin_ >= used) {
    // Enough room once the contents move to the front, and moving them is cheap next to
    // what was consumed (at most as many bytes as have gone): no allocation.
    std::memmove(data_.get(), data_.get() + begin_, used);
  } else {
    const std::size_t want = std::max({used + n, capacity_ * 2, std::size_t(64)});
    auto bigger = std::make_unique_for_overwrite<char[]>(want);
    if (used) std::memcpy(bigger.get(), data_.get() + begin_, used);
    data_ = std::move(bigger);
    capacity_ = want;
  }
  begin_ = 0;
  end_ = used;
  return data_.get() + end_;
}

void buffer::append(std::string_view s) {
  if (s.empty()) return;
  std::memcpy(prepare(s.size()), s.data(), s.size());
  commit(s.size());
}

namespace detail {

// The capacity is a power of two, so a position wraps with a mask, not a division.
void read_queue::grow() {
  const std::size_t bigger = capacity_ ? capacity_ * 2 : 4;
  auto ring = std::make_unique<read_fn[]>(bigger);
  for (std::size_t i = 0; i < size_; ++i) ring[i] = std::move(ring_[(head_ + i) & (capacity_ - 1)]);
  ring_ = std::move(ring);
  capacity_ = bigger;
  head_ = 0;
}

void read_queue::push_back(read_fn f) {
  if (size_ == capacity_) grow();
  ring_[(head_ + size_) & (capacity_ - 1)] = std::move(f);
  ++size_;
}

void read_queue::push_front(read_fn f) {
  if (size_ == capacity_) grow();
  head_ = (head_ - 1) & (capacity_ - 1);
  ring_[head_] = std::move(f);
  ++size_;
}

read_fn read_queue::pop_front() noexcept {
  read_fn f = std::move(ring_[head_]);
  head_ = (head_ + 1) & (capacity_ - 1);
  --size_;
  return f;
}

void read_queue::clear() noexcept {
  // The queue is empty before any request is destroyed: a request's destructor (a capture
  // going away) may queue again.
  auto doomed = std::move(ring_);
  head_ = size_ = capacity_ = 0;
}

}  // namespace detail
}  // namespace ae
