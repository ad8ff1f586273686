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
block* timer_start(loop_impl*, std::int64_t after_ns, std::int64_t interval_ns,
                   unique_function<void()>&& cb);
}  // namespace detail

class timer : public detail::watcher {
 public:
  timer() noexcept = default;

  /// Call `cb` once, `after` from the loop's now(). Negative or NaN: ae::error.
  template <class R, class P, class F>
    requires std::is_invocable_v<F&>
  timer(std::chrono::duration<R, P> after, F&& cb, loop& l = default_loop())
      : watcher(detail::timer_start(l.impl(), detail::checked_ns(after, "ae::timer"), 0,
                                    unique_function<void()>(std::forward<F>(cb)))) {}

  /// Call `cb` after `after`, then every `interval` (0: only once, as in AnyEvent).
  template <class R1, class P1, class R2, class P2, class F>
    requires std::is_invocable_v<F&>
  timer(std::chrono::duration<R1, P1> after, std::chrono::duration<R2, P2> interval, F&& cb,
        loop& l = default_loop())
      : watcher(detail::timer_start(l.impl(), detail::checked_ns(after, "ae::timer"),
                                    detail::checked_ns(interval, "ae::timer interval"),
                                    unique_function<void()>(std::forward<F>(cb)))) {}
};

}  // namespace ae
