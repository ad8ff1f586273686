// The whole contract between the core and an event-loop backend.
//
// The core owns every semantic rule (watcher lists, the timer heap, fixed-rate intervals,
// signals, children, idle, postpone, condvars); a backend only moves readiness, one deadline
// and one wakeup between the kernel/library and the core. That keeps a backend to a few
// hundred lines (the built-in `poll` backend implements this same table, with no shortcut).
//
// Modules are C++ shared objects built with the same compiler; each exports
// `anyevent_backend_v1()` returning its table. `abi` must equal `abi_version`, otherwise the
// registry refuses the module with a message. Modules are never unloaded.
//
// Every slot is called on the loop's thread, except `wakeup`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ae::backend {

// 2: hooks.io takes the fd's slot instead of the fd number (the core's per-event lookup
// went away with it).
inline constexpr std::uint32_t abi_version = 2;

/// Readiness bits, identical to the values of ae::poll.
inline constexpr unsigned ev_read = 1, ev_write = 2;

/// Where a backend delivers what it observed. Callbacks run on the loop thread, from inside
/// the backend's run function (or the host's, for an adopted loop).
struct core_hooks {
  void* core;
  // An fd is ready. `slot` is that fd's io_size bytes, as last passed to ops::io: the core
  // finds its state from it without a lookup. Error/hangup are reported as read|write.
  void (*io)(void* core, void* slot, unsigned revents);
  void (*timer)(void* core);                         // the armed deadline was reached
  void (*idle)(void* core);                          // idle enabled and nothing else pending
  void (*wakeup)(void* core);                        // wakeup() was called since the last delivery
};

/// What a loop is created on.
struct create_args {
  const core_hooks* hooks;
  void* native;         // nullptr: a new private loop; else the host's loop to adopt
  bool library_default; // wrap the library's own default loop (ev_default_loop, uv_default_loop)
};

struct ops {
  std::uint32_t abi;      // == abi_version
  std::uint32_t io_size;  // bytes of per-fd native state; the core zeroes it and never moves it
  const char* name;       // "poll", "libev", "libevent", "libuv"
  const char* (*version)();  // the library's version string, for ae-info

  // Returns the backend instance, or nullptr with a message in err (NUL-terminated).
  void* (*create)(const create_args& args, char* err, std::size_t errlen);
  // Called once every io/timer/idle registration is gone. An adopted or library-default
  // loop is left to its owner, with nothing of ours registered in it.
  void (*destroy)(void* be);

  // Set the interest of `fd` from old_mask to new_mask (0 = not watched). `slot` is this fd's
  // io_size bytes. Returns 0 or an errno: EPERM means "fd cannot be polled" (the core then
  // treats it as always ready), anything else is reported to the user (EBADF …).
  int (*io)(void* be, void* slot, int fd, unsigned old_mask, unsigned new_mask);
  // `fd` is about to be closed (through ae::fd) while its interest is 0: drop any kernel
  // state kept lazily for it now, because the number may be reused at once. May be nullptr.
  void (*io_forget)(void* be, void* slot, int fd);

  // Arm the single core timer at an absolute deadline on the now() clock (ns); a deadline in
  // the past fires in the next iteration without blocking. deadline < 0 disarms.
  void (*timer)(void* be, std::int64_t deadline_ns);
  // While on: call hooks.idle once per iteration in which nothing else was pending, and
  // never block.
  void (*idle)(void* be, bool on);
  // Thread-safe and async-signal-safe: make hooks.wakeup run soon on the loop thread.
  // The wakeup mechanism must not by itself keep the native loop running.
  void (*wakeup)(void* be);

  // One iteration: block until something happens (nowait = false) or only poll.
  void (*run_once)(void* be, bool nowait);
  // Make the native run function return after the current callback (for a host-run loop).
  void (*stop)(void* be);

  // CLOCK_MONOTONIC in ns, cached when the current iteration started; now_update refreshes.
  std::int64_t (*now)(void* be);
  void (*now_update)(void* be);

  // In a forked child: rebuild kernel state (a new epoll set, a new wakeup fd) and re-register
  // every current interest in it, without deregistering anything from the parent's shared set.
  void (*fork_child)(void* be);
};

}  // namespace ae::backend

extern "C" {
/// Exported by every loadable backend module.
using anyevent_backend_entry = const ae::backend::ops* (*)();
}
