// ae::buffer — the bytes a handle has read and not yet handed out (rbuf()), and, inside the
// handle, the bytes the kernel has not yet taken.
//
// A contiguous window [begin, end) in one heap block: consuming from the front only moves
// `begin` (no copy), so a parser can hand out views and drop what it used. The block moves
// only when more room is made at the end (prepare(), append()), which a handle does only
// while reading from its descriptor, never while one of its read callbacks runs: a view into
// rbuf() stays valid until the callback that got it returns.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace ae {

class buffer {
 public:
  buffer() noexcept = default;
  buffer(buffer&&) noexcept = default;
  buffer& operator=(buffer&&) noexcept = default;

  std::string_view view() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: a view, like std::string's
  const char* data() const noexcept { return data_.get() + begin_; }
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  char operator[](std::size_t i) const noexcept { return data_[begin_ + i]; }

  /// Drops the first `n` bytes (all of them when `n` is larger than size()).
  void consume(std::size_t n) noexcept {
    begin_ = n < size() ? begin_ + n : end_;
    if (begin_ == end_) begin_ = end_ = 0;  // empty: the next read starts at the front again
  }
  void clear() noexcept { begin_ = end_ = 0; }

  /// Room for `n` more bytes at the end, to be filled and then commit()ted. May move the
  /// contents (views taken before are invalid afterwards).
  char* prepare(std::size_t n);
  /// Makes `n` bytes written at prepare()'s pointer part of the contents.
  void commit(std::size_t n) noexcept { end_ += n; }
  void append(std::string_view s);
  /// Bytes allocated (for memory accounting).
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t begin_ = 0, end_ = 0, capacity_ = 0;
};

}  // namespace ae
