// ae::io — readiness of a file descriptor.
//
//   ae::io w(sock, ae::poll::read, [&] { read_some(sock); });
//
// Any number of io watchers may watch one fd and direction; each is called. An fd that
// cannot be polled (a regular file) is always ready, as POSIX poll says. The callback may
// take no argument or the ae::poll bits that are ready.
#pragma once

#include <anyevent/watcher.hpp>

namespace ae {

enum class poll : unsigned { read = 1, write = 2, both = 3 };
constexpr poll operator|(poll a, poll b) noexcept {
  return static_cast<poll>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr poll operator&(poll a, poll b) noexcept {
  return static_cast<poll>(static_cast<unsigned>(a) & static_cast<unsigned>(b));
}
constexpr bool any(poll p) noexcept { return static_cast<unsigned>(p) != 0; }

namespace detail {
/// Throws std::system_error (EBADF …) when the fd cannot be watched.
block* io_start(loop_impl*, int fd, poll events, unique_function<void(poll)>&& cb);
int io_fd(const block*) noexcept;
}  // namespace detail

class io : public detail::watcher {
 public:
  io() noexcept = default;

  /// Watch `fd` for `events`; `cb` runs on the loop each time it is ready. Throws
  /// std::system_error with EBADF for a descriptor that is not open.
  template <class F>
    requires(std::is_invocable_v<F&> || std::is_invocable_v<F&, poll>)
  io(int fd, poll events, F&& cb, loop& l = default_loop())
      : watcher(detail::io_start(l.impl(), fd, events, wrap(std::forward<F>(cb)))) {}

  /// The watched descriptor, or -1 when inactive.
  int fd() const noexcept { return b_ ? detail::io_fd(b_) : -1; }

 private:
  template <class F>
  static unique_function<void(poll)> wrap(F&& cb) {
    if constexpr (std::is_invocable_v<F&, poll>)
      return unique_function<void(poll)>(std::forward<F>(cb));
    else
      return [f = std::forward<F>(cb)](poll) mutable { f(); };
  }
};

}  // namespace ae
