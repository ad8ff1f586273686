// ae::signal — a POSIX signal, delivered in loop context (never inside the handler).
//
//   ae::signal hup(SIGHUP, [&] { reload(); });
//
// Several watchers of one signal all fire; a signal that arrives between two iterations is
// not lost (several arrivals before the loop looks may be reported once, as POSIX merges
// them). The previous disposition is restored when the last watcher of a signal goes.
#pragma once

#include <anyevent/watcher.hpp>

namespace ae {

namespace detail {
/// Throws ae::error(errc::invalid_signal) for numbers out of range, SIGKILL and SIGSTOP.
block* signal_start(loop_impl*, int signum, unique_function<void()>&& cb);
}  // namespace detail

class signal : public detail::watcher {
 public:
  signal() noexcept = default;
  template <class F>
    requires std::is_invocable_v<F&>
  signal(int signum, F&& cb, loop& l = default_loop())
      : basic_watcher(detail::signal_start(l.impl(), signum, unique_function<void()>(std::forward<F>(cb)))) {}
};

}  // namespace ae
