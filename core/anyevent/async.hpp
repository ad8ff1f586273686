// ae::async — wake the loop from another thread (or a signal handler).
//
//   ae::async a([&] { drain_queue(); });
//   std::thread t([&] { push(item); a.send(); });
//
// Sends that arrive before the callback runs are merged into one call. A callback begins
// after each send() began, so it sees what the sender wrote before send(); it may begin
// while that send() is still returning, and then that send owes no further call (as
// libev's ev_async_send).
#pragma once

#include <anyevent/watcher.hpp>

namespace ae {

namespace detail {
block* async_start(loop_impl*, unique_function<void()>&& cb);
void async_send(block*) noexcept;
}  // namespace detail

class async : public detail::watcher {
 public:
  async() noexcept = default;
  template <class F>
    requires std::is_invocable_v<F&>
  explicit async(F&& cb, loop& l = default_loop())
      : basic_watcher(detail::async_start(l.impl(), unique_function<void()>(std::forward<F>(cb)))) {}

  /// Thread-safe and async-signal-safe. The watcher must outlive concurrent sends.
  void send() noexcept {
    if (b_) detail::async_send(b_);
  }
};

}  // namespace ae
