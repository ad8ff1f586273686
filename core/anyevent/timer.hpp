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
inline constexpr std::size_t timer_inline_bytes[2] = {6 * sizeof(void*), 5 * sizeof(void*)};

/// The block's slot class (32, 48 or 64 bytes) for a callable of `bytes` bytes: the block's
/// 16-byte header, the interval if it repeats, the callable.
constexpr std::uint8_t timer_slot_class(std::size_t bytes, bool repeats) {
  return slot_class_for(2 * sizeof(void*) + (repeats ? sizeof(std::int64_t) : 0) + (bytes + 7) / 8 * 8);
}

/// Starts a timer (at most one allocation) whose callable the caller then constructs in
/// place; `ops` must match what it constructs, `slot_class` its timer_slot_class(). If the
/// construction throws, timer_abort(b).
block_room timer_start(loop_impl*, std::int64_t after_ns, std::int64_t interval_ns,
                       const callable_ops<void>* ops, std::uint8_t slot_class);
/// Undoes timer_start() whose callable was never constructed.
void timer_abort(block*) noexcept;

/// Starts a timer with its callable built in place (construct_in_place).
template <bool Repeating, class F>
block* make_timer(loop_impl* l, std::int64_t after, std::int64_t interval, F&& cb) {
  using D = std::decay_t<F>;
  if constexpr (fits_inline<D>(timer_inline_bytes[Repeating])) {
    // The two-duration constructor repeats only if the interval is not 0.
    constexpr std::uint8_t once = timer_slot_class(sizeof(D), false), repeating = timer_slot_class(sizeof(D), true);
    const block_room r =
        timer_start(l, after, interval, &inline_ops<D, void>, Repeating && interval ? repeating : once);
    construct_in_place<D>(r, &timer_abort, std::forward<F>(cb));
    return r.b;
  } else {
    D* copy = new D(std::forward<F>(cb));
    try {
      const block_room r = timer_start(l, after, interval, &heap_ops<D, void>,
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
      : basic_watcher(detail::make_timer<false>(l.impl(), detail::checked_ns(after, "ae::timer"), 0,
                                          std::forward<F>(cb))) {}

  /// Call `cb` after `after`, then every `interval` (0: only once, as in AnyEvent).
  template <class R1, class P1, class R2, class P2, class F>
    requires std::is_invocable_v<F&>
  timer(std::chrono::duration<R1, P1> after, std::chrono::duration<R2, P2> interval, F&& cb,
        loop& l = default_loop())
      : basic_watcher(detail::make_timer<true>(l.impl(), detail::checked_ns(after, "ae::timer"),
                                         detail::checked_ns(interval, "ae::timer interval"),
                                         std::forward<F>(cb))) {}
};

}  // namespace ae
