// The RAII handle shared by every watcher type: move-only, default-constructed inactive;
// destroying or stop()ping it cancels the watcher at once, also from inside its own callback
// (its callback never runs afterwards, on every backend).
#pragma once

#include <anyevent/loop.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <ratio>
#include <type_traits>
#include <utility>

namespace ae::detail {

struct block;  // the core's per-watcher state: one allocation per watcher start
void block_stop(block*) noexcept;
bool block_active(const block*) noexcept;

[[noreturn]] void throw_invalid_duration(const char* who);

/// The slot class (0, 1, 2: a 32-, 48- or 64-byte pool slot) of a block of `bytes` bytes
/// whose callable is built in place (io and timer blocks).
constexpr std::uint8_t slot_class_for(std::size_t bytes) { return bytes <= 32 ? 0 : bytes <= 48 ? 1 : 2; }

/// A started block and the uninitialized, pointer-aligned room after its header where the
/// caller constructs the callable whose ops it was started with.
struct block_room {
  block* b;
  void* callable;
};

/// Builds the callable in its final place: that saves a move through an indirect call and
/// the destruction of a temporary on every start (DESIGN §7: timer create <= raw libev). If
/// the construction throws, `abort` undoes the start.
template <class D, class F>
void construct_in_place(const block_room& r, void (*abort)(block*) noexcept, F&& f) {
  if constexpr (std::is_nothrow_constructible_v<D, F&&>) {
    ::new (r.callable) D(std::forward<F>(f));
  } else {
    try {
      ::new (r.callable) D(std::forward<F>(f));
    } catch (...) {
      abort(r.b);
      throw;
    }
  }
}

/// A duration in ns, checked: negative, NaN and infinite durations are refused with
/// ae::error(errc::invalid_duration); values beyond ~292 years saturate.
template <class Rep, class Period>
std::int64_t checked_ns(std::chrono::duration<Rep, Period> d, const char* who) {
  if constexpr (std::is_floating_point_v<Rep>) {
    if (!(d.count() >= 0) || !std::isfinite(static_cast<double>(d.count()))) throw_invalid_duration(who);
    const double ns = std::chrono::duration<double, std::nano>(d).count();  // may overflow to inf: saturate
    return ns < 9.2e18 ? static_cast<std::int64_t>(ns) : std::numeric_limits<std::int64_t>::max();
  } else if constexpr (std::is_integral_v<Rep> && sizeof(Rep) <= sizeof(std::int64_t) &&
                       std::ratio_divide<Period, std::nano>::den == 1) {
    // Whole nanoseconds per tick (ns, us, ms, s, …): one compare against a compile-time
    // limit instead of a trip through long double, on every timer start.
    constexpr std::intmax_t per_tick = std::ratio_divide<Period, std::nano>::num;
    constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max() / per_tick;
    const Rep n = d.count();
    if constexpr (std::is_signed_v<Rep>) {
      if (n < 0) throw_invalid_duration(who);
    }
    if (static_cast<std::uintmax_t>(n) > static_cast<std::uintmax_t>(limit))  // n >= 0 here
      return std::numeric_limits<std::int64_t>::max();
    return static_cast<std::int64_t>(n) * per_tick;
  } else {
    if (d.count() < 0) throw_invalid_duration(who);
    using big = std::chrono::duration<long double, std::nano>;
    if (big(d).count() >= 9.2e18L) return std::numeric_limits<std::int64_t>::max();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  }
}

/// `Stop` cancels and frees a started block: block_stop knows every kind; a watcher type may
/// name a shorter path for its own (ae::io: io_stop, the re-arm path).
template <void (*Stop)(block*) noexcept>
class basic_watcher {
 public:
  basic_watcher() noexcept = default;
  basic_watcher(basic_watcher&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  basic_watcher& operator=(basic_watcher&& o) noexcept {
    if (this != &o) {
      stop();
      b_ = std::exchange(o.b_, nullptr);
    }
    return *this;
  }
  ~basic_watcher() { stop(); }

  /// Cancel the watcher; its callback will not run again. Idempotent.
  void stop() noexcept {
    if (b_) Stop(std::exchange(b_, nullptr));
  }
  /// False once stopped, and for a one-shot timer once it has fired.
  bool active() const noexcept { return b_ && block_active(b_); }

 protected:
  explicit basic_watcher(block* b) noexcept : b_(b) {}
  block* b_ = nullptr;
};

using watcher = basic_watcher<block_stop>;

}  // namespace ae::detail
