// ae::timer — one-shot or fixed-rate interval timers.
//
//   ae::timer once(1.5s, [&] { … });            // after 1.5 s, once
//   ae::timer tick(0s, 100ms, [&] { … });        // now, then every 100 ms
//
// Deadlines are relative to the loop's cached now() and never fire early. Intervals are
// fixed-rate: the next deadline is the previous one plus the interval; when the loop was
// late, the next is now() + interval, with no burst of catch-up calls. The same rule holds on
// every backend because the core, not the backend, keeps the timers.
#pragma once

#include <anyevent/watcher.hpp>

namespace ae {

namespace detail {

/// Bytes of callable a timer block holds in place: {one-shot, repeating}. Larger callables,
/// or ones whose move may throw, are copied to the heap and the block holds the pointer.
inline constexpr std::size_t timer_inline_bytes[2] = {5 * sizeof(void*), 4 * sizeof(void*)};

/// The block's slot class (32, 48 or 64 bytes) for a callable of `bytes` bytes: the block's
/// 24-byte header, the interval if it repeats, the callable.
constexpr std::uint8_t timer_slot_class(std::size_t bytes, bool repeats) {
  const std::size_t need = 3 * sizeof(void*) + (repeats ? sizeof(std::int64_t) : 0) + (bytes + 7) / 8 * 8;
  return need <= 32 ? 0 : need <= 48 ? 1 : 2;
}

struct timer_room {
  block* b;
  void* callable;  // uninitialized and pointer-aligned: the rest of the slot
};
/// Starts a timer (at most one allocation) whose callable the caller then constructs in
/// place; `ops` must match what it constructs, `slot_class` its timer_slot_class(). If the
/// construction throws, timer_abort(b).
timer_room timer_start(loop_impl*, std::int64_t after_ns, std::int64_t interval_ns,
                       const callable_ops<void>* ops, std::uint8_t slot_class);
/// Undoes timer_start() whose callable was never constructed.
void timer_abort(block*) noexcept;

/// Building the callable in its final place saves a move through an indirect call and the
/// destruction of a temporary on every start (DESIGN §7: timer create <= raw libev).
template <bool Repeating, class F>
block* make_timer(loop_impl* l, std::int64_t after, std::int64_t interval, F&& cb) {
  using D = std::decay_t<F>;
  if constexpr (fits_inline<D>(timer_inline_bytes[Repeating])) {
    // The two-duration constructor repeats only if the interval is not 0.
    constexpr std::uint8_t once = timer_slot_class(sizeof(D), false), repeating = timer_slot_class(sizeof(D), true);
    const timer_room r =
        timer_start(l, after, interval, &inline_ops<D, void>, Repeating && interval ? repeating : once);
    if constexpr (std::is_nothrow_constructible_v<D, F&&>) {
      ::new (r.callable) D(std::forward<F>(cb));
    } else {
      try {
        ::new (r.callable) D(std::forward<F>(cb));
      } catch (...) {
        timer_abort(r.b);
        throw;
      }
    }
    return r.b;
  } else {
    D* copy = new D(std::forward<F>(cb));
    try {
      const timer_room r = timer_start(l, after, interval, &heap_ops<D, void>,
                                       timer_slot_class(sizeof(D*), Repeating && interval));
      ::new (r.callable) D*(copy);
      return r.b;
    } catch (...) {
      delete copy;
      throw;
    }
  }
}

}  // namespace detail

class timer : public detail::watcher {
 public:
  timer() noexcept = default;

  /// Call `cb` once, `after` from the loop's now(). Negative or NaN: ae::error.
  template <class R, class P, class F>
    requires std::is_invocable_v<F&>
  timer(std::chrono::duration<R, P> after, F&& cb, loop& l = default_loop())
      : watcher(detail::make_timer<false>(l.impl(), detail::checked_ns(after, "ae::timer"), 0,
                                          std::forward<F>(cb))) {}

  /// Call `cb` after `after`, then every `interval` (0: only once, as in AnyEvent).
  template <class R1, class P1, class R2, class P2, class F>
    requires std::is_invocable_v<F&>
  timer(std::chrono::duration<R1, P1> after, std::chrono::duration<R2, P2> interval, F&& cb,
        loop& l = default_loop())
      : watcher(detail::make_timer<true>(l.impl(), detail::checked_ns(after, "ae::timer"),
                                         detail::checked_ns(interval, "ae::timer interval"),
                                         std::forward<F>(cb))) {}
};

}  // namespace ae
