// State and helpers shared by the two variants of the built-in backend (epoll.cpp and
// poll.cpp). Each variant is a complete backend::ops table; backend.cpp picks one.
#pragma once

#include <anyevent/backend.hpp>

#include <atomic>
#include <cstdint>

namespace ae::detail::builtin {

struct base {
  backend::core_hooks hooks{};
  int wake_fd = -1;               // eventfd: wakeup() writes, the loop reads
  std::atomic<bool> woken{false};  // coalesces wakeups into one write per iteration
  std::int64_t deadline = -1;     // the core's single timer
  bool idle = false;
  std::int64_t now_ns = 0;        // cached at the start of each iteration
};

std::int64_t monotonic_ns() noexcept;
/// Opens the eventfd; returns errno or 0.
int open_wakeup(base& b) noexcept;
void close_wakeup(base& b) noexcept;
/// How long the next wait may block, in ms (-1: forever), rounded up so timers never fire early.
int wait_timeout_ms(const base& b, bool nowait) noexcept;
/// Read the eventfd and run the core's wakeup hook.
void drain_wakeup(base& b) noexcept;
/// Whether the core's deadline has passed at the time cached after the wait. Decided before
/// io callbacks run, so a zero-delay timer armed by one of them waits for the next iteration.
inline bool deadline_due(const base& b) noexcept { return b.deadline >= 0 && b.deadline <= b.now_ns; }
/// After io dispatch: run the timer hook if it was due, then idle if nothing else ran.
void finish_iteration(base& b, bool dispatched, bool due) noexcept;

// The slots every variant shares.
void wakeup(void* be) noexcept;
void timer(void* be, std::int64_t deadline_ns) noexcept;
void idle(void* be, bool on) noexcept;
void stop(void* be) noexcept;
std::int64_t now(void* be) noexcept;
void now_update(void* be) noexcept;

const backend::ops* epoll_ops();
const backend::ops* posix_poll_ops();

}  // namespace ae::detail::builtin
