// The built-in backend "poll": what both variants share, and the one function that picks a
// variant (STYLE 5: variants split by file, chosen in one place).
//
// 1. The wakeup is an eventfd: write(2) is async-signal-safe, and the atomic flag makes
//    concurrent senders cost one write per iteration, not one per send.
// 2. Timeouts are rounded up to the next millisecond: epoll_wait and poll take ms, and a
//    timer must never fire before its deadline.
// 3. now() is cached once per iteration, right after the wait returns, so all callbacks of
//    one iteration see the same time (AnyEvent's and libev's rule).
#include "builtin.hpp"

#include <anyevent/log.hpp>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>
#include <sys/eventfd.h>
#include <unistd.h>

namespace ae::detail {

namespace builtin {

[[gnu::hot]] std::int64_t monotonic_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int open_wakeup(base& b) noexcept {
  b.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  b.woken.store(false);
  return b.wake_fd < 0 ? errno : 0;
}

void close_wakeup(base& b) noexcept {
  if (b.wake_fd >= 0) ::close(b.wake_fd);
  b.wake_fd = -1;
}

[[gnu::hot]] int wait_timeout_ms(const base& b, bool nowait) noexcept {
  if (nowait || b.idle || b.woken.load(std::memory_order_relaxed)) return 0;
  if (b.deadline < 0) return -1;
  const std::int64_t left = b.deadline - monotonic_ns();
  if (left <= 0) return 0;
  const std::int64_t ms = (left + 999'999) / 1'000'000;
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

void drain_wakeup(base& b) noexcept {
  std::uint64_t n;
  while (::read(b.wake_fd, &n, sizeof n) > 0) {
  }
  b.woken.store(false);
  b.hooks.wakeup(b.hooks.core);
}

[[gnu::hot]] void finish_iteration(base& b, bool dispatched, bool due) noexcept {
  if (due) {
    b.deadline = -1;
    b.hooks.timer(b.hooks.core);
    dispatched = true;
  }
  if (b.idle && !dispatched) b.hooks.idle(b.hooks.core);
}

void wakeup(void* be) noexcept {
  auto* b = static_cast<base*>(be);
  if (b->woken.exchange(true)) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(b->wake_fd, &one, sizeof one);
}

void timer(void* be, std::int64_t deadline_ns) noexcept { static_cast<base*>(be)->deadline = deadline_ns; }
void idle(void* be, bool on) noexcept { static_cast<base*>(be)->idle = on; }
// One iteration per run_once: the core's run loop sees its stop flag after it returns.
void stop(void*) noexcept {}
std::int64_t now(void* be) noexcept { return static_cast<base*>(be)->now_ns; }
void now_update(void* be) noexcept { static_cast<base*>(be)->now_ns = monotonic_ns(); }

}  // namespace builtin

const backend::ops* builtin_ops() {
  const char* method = ::secure_getenv("ANYEVENT_POLL_METHOD");
  const std::string_view m = method ? method : "";
  if (m == "poll") return builtin::posix_poll_ops();
  if (!m.empty() && m != "epoll")
    log::write(log::level::warn, "ANYEVENT_POLL_METHOD must be 'epoll' or 'poll'; using epoll");
  return builtin::epoll_ops();
}

}  // namespace ae::detail
