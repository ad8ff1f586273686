// Callables for the tests of watchers that build their callable in place (io and timer
// blocks, sized by the callable): a payload that notices corruption and counts its live
// copies, and one whose copy throws.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <stdexcept>

namespace core_test {

/// N bytes of payload, a call counter, and a shared_ptr whose use_count() - 1 is the number
/// of live copies other than the test's own.
template <std::size_t N>
struct payload {
  std::array<unsigned char, N> bytes;
  int* calls;
  std::shared_ptr<int> alive;
  bool intact() const {
    for (std::size_t i = 0; i < N; ++i)
      if (bytes[i] != static_cast<unsigned char>(i + 1)) return false;
    return true;
  }
};

/// `p` with its payload filled with the pattern intact() checks.
template <class P>
P filled(P p) {
  for (std::size_t i = 0; i < p.bytes.size(); ++i) p.bytes[i] = static_cast<unsigned char>(i + 1);
  return p;
}

/// A callback (taking anything) whose copy throws while armed; moves do not.
struct copy_throws {
  int* calls;
  bool armed = true;
  copy_throws(int* c) : calls(c) {}
  copy_throws(const copy_throws& o) : calls(o.calls), armed(o.armed) {
    if (armed) throw std::runtime_error("copy refused");
  }
  copy_throws(copy_throws&&) noexcept = default;
  template <class... A>
  void operator()(A&&...) {
    ++*calls;
  }
};

/// Large enough for the heap path (the copy is made before the watcher starts).
struct big_copy_throws : copy_throws {
  using copy_throws::copy_throws;
  char pad[128] = {};
};

}  // namespace core_test
