// The libuv backend: core/anyevent/backend.hpp over a uv_loop_t (private, libuv's default
// loop, or a host's loop adopted with ae::adopt).
//
// Quirks of libuv this file bridges:
// 1. One active uv_poll_t per fd and loop (uv_poll_init answers EEXIST otherwise), and
//    uv_poll_start/uv_poll_stop both cost an immediate EPOLL_CTL_DEL (uv_poll_start stops
//    the handle first). The core already hands us one registration per fd with the union of
//    the watchers' masks, so each fd gets one handle, started, changed and stopped only when
//    that union changes.
// 2. A uv_poll_t may be freed only in its close callback, which runs in a later iteration —
//    possibly in the host's uv_run after this backend is gone. So the per-fd slot holds a
//    pointer to a heap handle, and the close callback frees it and touches nothing else.
// 3. uv_poll_init validates the fd (EPERM for regular files, EBADF for closed ones) but a
//    restarted handle is registered lazily in the next uv__io_poll, which abort()s when
//    epoll_ctl fails. A handle is therefore restarted only while its fd still names the file
//    it was made for (same st_dev/st_ino); otherwise, or after io_forget, it is closed and a
//    new one is made, so the check runs again and errors reach the watcher's constructor.
// 4. uv_poll_init switches the fd to O_NONBLOCK; the other backends leave the user's flags
//    alone, so the previous flags are put back.
// 5. On EPOLLERR libuv stops the handle itself and reports status UV_EBADF. We report
//    read|write (as the other backends do for an error) and restart the handle if the core
//    still wants it, so errors stay level-triggered.
// 6. libuv 1.44's uv__run_timers loops until no timer is due, so a zero-delay timer restarted
//    from a timer callback spins forever (fixed upstream in "fix busy loop with zero timeout
//    timers"). A deadline that is already due never goes to uv_timer_t: a uv_idle_t keeps
//    the poll from blocking and a uv_check_t, after the poll, delivers it — in the next
//    iteration when a callback of this one made it due (a postpone or a 0 s timer from a
//    callback runs in a later iteration, as on every backend).
// 7. libuv's clock is in ms (uv_now, CLOCK_MONOTONIC on Linux, cached per iteration). A
//    future deadline becomes a delay from uv_now rounded up, and the timer callback checks
//    our ns clock again, so a timer never fires early.
// 8. uv_idle_t runs every iteration, but AnyEvent's idle means "nothing else to do": the
//    check handle calls hooks.idle only in an iteration in which we delivered nothing else.
// 9. The wakeup is a uv_async_t (uv_async_send is thread- and async-signal-safe), unref'd so
//    it never keeps a host's loop alive. Unref'd handles are still polled, so it ends a wait
//    all the same; only when nothing else keeps the loop alive (signal or async watchers
//    alone) is it ref'd for our own blocking run_once, or uv_run would return at once.
// 10. UV_RUN_ONCE runs due timers *before* it polls, and then blocks in the poll even though
//     a callback already ran. backend.hpp's run_once blocks only until something happens, so
//     our timer callback, inside our own run_once, starts the idle handle: the poll that
//     follows does not block.
// 11. uv_run cannot be re-entered; the core's recursive_wait rule covers that.
#include <anyevent/backend.hpp>

#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <new>
#include <sys/stat.h>
#include <type_traits>

namespace ae::detail::libuv {

namespace {

using ae::backend::ev_read;
using ae::backend::ev_write;

std::int64_t monotonic_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct instance;

/// One fd's uv_poll_t (note 2). Its memory outlives the instance when the host runs the
/// close callbacks later, so nothing here is needed to free it. h.data is the instance
/// (nullptr once closing); h comes first, so a uv_poll_t* is also a poll_handle*. 208 bytes
/// (malloc's 224-byte class) keep ae over libuv within raw libuv + 64 B.
struct poll_handle {
  uv_poll_t h;
  poll_handle* prev = nullptr;
  poll_handle* next = nullptr;
  void* slot;         // the core's slot of this fd, which hooks.io takes
  unsigned mask = 0;  // what the core asked for; the handle is stopped when 0
  dev_t dev;          // the file it was made for (note 3)
  ino_t ino;
};

struct instance {
  ae::backend::core_hooks hooks{};
  uv_loop_t* loop = nullptr;
  uv_loop_t own_loop;  // when we made the loop
  bool owns_loop = false;
  uv_timer_t timer;  // the core's single deadline, when in the future
  uv_idle_t spin;    // while active, uv_run never blocks (idle on, or a deadline already due)
  uv_check_t check;  // after the poll: the due deadline, then idle
  uv_async_t async;  // wakeup
  int open_natives = 0;            // of timer, spin, check, async not yet closed
  bool free_when_closed = false;   // destroyed on a loop we do not own: the last close frees
  std::int64_t deadline = -1;
  bool timer_due = false;          // the deadline is reached: the check handle delivers it (note 6)
  std::uint64_t due_at = 0;        // ... at the check whose number is this
  std::uint64_t checks = 0;        // check callbacks so far
  bool in_hook = false;            // a hook is running
  bool in_check = false;           // ... called from the check callback
  bool idle_on = false;
  std::uint64_t delivered = 0;     // hooks called so far, idle not counted
  std::uint64_t idle_checked = 0;  // `delivered` at the last idle check (note 8)
  bool in_run_once = false;        // inside our own blocking run_once (note 10)
  bool spin_forced = false;        // the spin must stay on until run_once returns (note 10)
  std::uint64_t seen_uv_now = 0;
  std::int64_t now_ns = 0;
  poll_handle* handles = nullptr;  // every open poll handle, for destroy
};

instance* of(void* be) noexcept { return static_cast<instance*>(be); }
static_assert(std::is_standard_layout_v<poll_handle> && sizeof(poll_handle) <= 208);
uv_handle_t* as_handle(void* h) noexcept { return static_cast<uv_handle_t*>(h); }

int uv_events(unsigned mask) noexcept {
  return (mask & ev_read ? UV_READABLE : 0) | (mask & ev_write ? UV_WRITABLE : 0);
}

// ---- clock (note 7) ----

/// Our ns clock, refreshed whenever libuv's per-iteration ms clock has moved: as cheap as a
/// cached value, yet new in every iteration that libuv itself saw as new.
std::int64_t current_ns(instance* b) noexcept {
  const std::uint64_t u = uv_now(b->loop);
  if (u != b->seen_uv_now) {
    b->seen_uv_now = u;
    b->now_ns = monotonic_ns();
  }
  return b->now_ns;
}

std::int64_t now(void* be) noexcept { return current_ns(of(be)); }

void now_update(void* be) noexcept {
  instance* b = of(be);
  uv_update_time(b->loop);
  b->seen_uv_now = uv_now(b->loop);
  b->now_ns = monotonic_ns();
}

// ---- delivery, timer, idle (notes 6–8) ----

/// Calls a hook. `counts`: whether it is "something else" for the idle rule (note 8).
/// b outlives the hook even if the hook destroys the loop: on a loop we do not own it is
/// freed by a close callback that runs later, and a loop we own cannot be destroyed from
/// inside its own uv_run.
/// Hooks never nest (a callback cannot run an iteration: recursive_wait), so in_hook is
/// simply set and cleared.
template <class F>
void deliver(instance* b, bool counts, F&& hook) {
  if (counts) ++b->delivered;
  b->in_hook = true;
  hook();
  b->in_hook = false;
}

void on_spin(uv_idle_t*) noexcept {}  // its being active is the point

void sync_spin(instance* b) noexcept;

void on_check(uv_check_t* c) noexcept {
  instance* b = static_cast<instance*>(c->data);
  ++b->checks;
  b->in_check = true;
  if (b->timer_due) {
    // Made due by a callback of this iteration: the next one runs it (note 6). Either way
    // this iteration is not idle.
    if (b->checks >= b->due_at) {
      b->timer_due = false;
      b->deadline = -1;
      sync_spin(b);
      deliver(b, true, [b] { b->hooks.timer(b->hooks.core); });
      b->idle_checked = b->delivered;
    }
  } else {
    const bool quiet = b->delivered == b->idle_checked;
    b->idle_checked = b->delivered;
    if (quiet && b->idle_on) deliver(b, false, [b] { b->hooks.idle(b->hooks.core); });
  }
  b->in_check = false;
}

void sync_spin(instance* b) noexcept {
  const bool want = b->idle_on || b->timer_due;
  if (want == (uv_is_active(as_handle(&b->check)) != 0)) return;
  if (want) {
    uv_idle_start(&b->spin, on_spin);
    uv_check_start(&b->check, on_check);
  } else {
    uv_check_stop(&b->check);
    if (!b->spin_forced) uv_idle_stop(&b->spin);
  }
}

void on_timer(uv_timer_t* t) noexcept;

void timer(void* be, std::int64_t deadline) noexcept {
  instance* b = of(be);
  b->deadline = deadline;
  if (deadline < 0 || deadline <= current_ns(b)) {
    uv_timer_stop(&b->timer);
    if (deadline >= 0 && !b->timer_due) {
      // Deliverable at the next check, or the one after when a callback of this iteration
      // (before its check) made it due.
      b->due_at = b->checks + 1 + (b->in_hook && !b->in_check ? 1 : 0);
    }
    b->timer_due = deadline >= 0;
    sync_spin(b);
    return;
  }
  if (b->timer_due) {
    b->timer_due = false;
    sync_spin(b);
  }
  // libuv adds the delay to its own cached uv_now, so measure from there; at least 1 ms, so
  // that a clock that disagrees with ours can never make a zero-delay timer (note 6).
  const std::int64_t ahead = deadline - static_cast<std::int64_t>(uv_now(b->loop)) * 1'000'000;
  std::uint64_t ms = 1;
  if (ahead > 0) ms = static_cast<std::uint64_t>(ahead / 1'000'000 + (ahead % 1'000'000 != 0));
  uv_timer_start(&b->timer, on_timer, ms, 0);
}

void on_timer(uv_timer_t* t) noexcept {
  instance* b = static_cast<instance*>(t->data);
  const std::int64_t d = b->deadline;
  if (d < 0) return;
  if (current_ns(b) < d) {  // libuv's ms clock ran ahead of ours: never early
    timer(b, d);
    return;
  }
  b->deadline = -1;
  if (b->in_run_once) {  // note 10
    b->spin_forced = true;
    uv_idle_start(&b->spin, on_spin);
  }
  deliver(b, true, [b] { b->hooks.timer(b->hooks.core); });
}

void idle(void* be, bool on) noexcept {
  instance* b = of(be);
  b->idle_on = on;
  sync_spin(b);
}

// ---- wakeup, run ----

void wakeup(void* be) noexcept { uv_async_send(&of(be)->async); }

void on_async(uv_async_t* a) noexcept {
  instance* b = static_cast<instance*>(a->data);
  deliver(b, true, [b] { b->hooks.wakeup(b->hooks.core); });
}

void run_once(void* be, bool nowait) {
  instance* b = of(be);
  if (nowait) {
    uv_run(b->loop, UV_RUN_NOWAIT);
    return;
  }
  const bool lonely = !uv_loop_alive(b->loop);  // note 9
  if (lonely) uv_ref(as_handle(&b->async));
  b->in_run_once = true;
  uv_run(b->loop, UV_RUN_ONCE);
  b->in_run_once = false;
  if (lonely) uv_unref(as_handle(&b->async));
  if (b->spin_forced) {
    b->spin_forced = false;
    if (!uv_is_active(as_handle(&b->check))) uv_idle_stop(&b->spin);  // nobody else wants it
  }
}

void stop(void* be) noexcept { uv_stop(of(be)->loop); }

void fork_child(void* be) noexcept {
  // libuv makes a new epoll set and re-registers every watcher and the async's eventfd; it
  // only closes its own reference to the inherited set, which the parent keeps using.
  uv_loop_fork(of(be)->loop);
}

// ---- io (notes 1–5) ----

void unlink(instance* b, poll_handle* p) noexcept {
  if (p->prev) p->prev->next = p->next;
  else b->handles = p->next;
  if (p->next) p->next->prev = p->prev;
  p->prev = p->next = nullptr;
}

poll_handle* of(uv_handle_t* h) noexcept { return reinterpret_cast<poll_handle*>(h); }

void close_poll(instance* b, poll_handle* p) noexcept {
  unlink(b, p);
  p->h.data = nullptr;
  uv_close(as_handle(&p->h), [](uv_handle_t* h) { delete of(h); });
}

void on_poll(uv_poll_t* h, int status, int events) noexcept {
  static_assert(UV_READABLE == ev_read && UV_WRITABLE == ev_write, "libuv's bits are the core's: no mapping per event");
  poll_handle* p = of(as_handle(h));
  auto* b = static_cast<instance*>(h->data);
  if (!b) return;
  if (status >= 0 && !(events & UV_DISCONNECT)) [[likely]] {
    const unsigned bits = static_cast<unsigned>(events) & (ev_read | ev_write);
    deliver(b, true, [b, p, bits] { b->hooks.io(b->hooks.core, p->slot, bits); });
    return;
  }
  deliver(b, true, [b, p] { b->hooks.io(b->hooks.core, p->slot, ev_read | ev_write); });
  // The callbacks may have changed the mask or closed the handle (even destroyed the whole
  // backend); p itself lives until its close callback, which runs after this one returns.
  if (status < 0 && p->h.data && p->mask && !uv_is_active(as_handle(&p->h)))
    uv_poll_start(&p->h, uv_events(p->mask), on_poll);  // note 5
}

/// A new handle for fd; returns 0 or an errno (EPERM: cannot be polled; EBADF; EEXIST).
int open_poll(instance* b, int fd, void* slot, poll_handle*& out) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno;
  const int flags = ::fcntl(fd, F_GETFL);
  auto* p = new (std::nothrow) poll_handle;
  if (!p) return ENOMEM;
  if (const int r = uv_poll_init(b->loop, &p->h, fd)) {
    delete p;  // uv_poll_init fails before it links the handle into the loop
    return -r;
  }
  if (flags >= 0 && !(flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags);  // note 4
  p->h.data = b;
  p->slot = slot;
  p->dev = st.st_dev;
  p->ino = st.st_ino;
  p->next = b->handles;
  if (b->handles) b->handles->prev = p;
  b->handles = p;
  out = p;
  return 0;
}

bool same_file(const poll_handle* p, int fd) noexcept {
  struct stat st;
  return ::fstat(fd, &st) == 0 && st.st_dev == p->dev && st.st_ino == p->ino;
}

int io(void* be, void* slot, int fd, unsigned old_mask, unsigned new_mask) {
  instance* b = of(be);
  auto& p = *static_cast<poll_handle**>(slot);
  if (!new_mask) {
    if (p && p->mask) {
      p->mask = 0;
      uv_poll_stop(&p->h);
    }
    return 0;
  }
  if (p && !old_mask && !same_file(p, fd)) {  // note 3: the number was closed and reused
    close_poll(b, p);
    p = nullptr;
  }
  if (!p)
    if (const int err = open_poll(b, fd, slot, p)) return err;
  // Fails only with EEXIST, when the host polls this fd itself; the handle stays stopped.
  const int r = uv_poll_start(&p->h, uv_events(new_mask), on_poll);
  p->mask = r ? 0 : new_mask;
  return -r;
}

void io_forget(void* be, void* slot, int) {
  auto& p = *static_cast<poll_handle**>(slot);
  if (!p) return;
  close_poll(of(be), p);
  p = nullptr;
}

// ---- create, destroy ----

void on_native_closed(uv_handle_t* h) noexcept {
  instance* b = static_cast<instance*>(h->data);
  if (--b->open_natives == 0 && b->free_when_closed) delete b;
}

void* create(const ae::backend::create_args& a, char* err, std::size_t errlen) {
  auto* b = new (std::nothrow) instance;
  if (!b) {
    std::snprintf(err, errlen, "out of memory");
    return nullptr;
  }
  b->hooks = *a.hooks;
  if (a.native) {
    b->loop = static_cast<uv_loop_t*>(a.native);
  } else if (a.library_default) {
    b->loop = uv_default_loop();
    if (!b->loop) {
      std::snprintf(err, errlen, "uv_default_loop() failed");
      delete b;
      return nullptr;
    }
  } else {
    if (const int r = uv_loop_init(&b->own_loop)) {
      std::snprintf(err, errlen, "uv_loop_init: %s", uv_strerror(r));
      delete b;
      return nullptr;
    }
    b->loop = &b->own_loop;
    b->owns_loop = true;
  }
  // The only init that can fail comes first, so nothing needs closing when it does.
  if (const int r = uv_async_init(b->loop, &b->async, on_async)) {
    std::snprintf(err, errlen, "uv_async_init: %s", uv_strerror(r));
    if (b->owns_loop) uv_loop_close(b->loop);
    delete b;
    return nullptr;
  }
  uv_unref(as_handle(&b->async));  // note 9
  uv_timer_init(b->loop, &b->timer);
  uv_idle_init(b->loop, &b->spin);
  uv_check_init(b->loop, &b->check);
  b->async.data = b->timer.data = b->spin.data = b->check.data = b;
  b->open_natives = 4;
  b->seen_uv_now = uv_now(b->loop);
  b->now_ns = monotonic_ns();
  return b;
}

void destroy(void* be) {
  instance* b = of(be);
  while (b->handles) close_poll(b, b->handles);
  uv_close(as_handle(&b->timer), on_native_closed);
  uv_close(as_handle(&b->spin), on_native_closed);
  uv_close(as_handle(&b->check), on_native_closed);
  uv_close(as_handle(&b->async), on_native_closed);
  if (!b->owns_loop) {
    // The host's next uv_run runs the close callbacks; the last one frees b. Until then
    // nothing of ours is active, so that uv_run returns by itself.
    b->free_when_closed = true;
    return;
  }
  uv_run(b->loop, UV_RUN_DEFAULT);  // only close callbacks are left
  uv_loop_close(b->loop);
  delete b;
}

const char* version() {
  static char text[64];
  static const char* v = (std::snprintf(text, sizeof text, "libuv %s", uv_version_string()), text);
  return v;
}

const ae::backend::ops table{
    ae::backend::abi_version,
    sizeof(poll_handle*),
    "libuv",
    version,
    create,
    destroy,
    io,
    io_forget,
    timer,
    idle,
    wakeup,
    run_once,
    stop,
    now,
    now_update,
    fork_child,
};

}  // namespace

}  // namespace ae::detail::libuv

extern "C" __attribute__((visibility("default"))) const ae::backend::ops* anyevent_backend_v1() {
  return &ae::detail::libuv::table;
}
