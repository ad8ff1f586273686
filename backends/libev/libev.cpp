// The libev backend: core/anyevent/backend.hpp over a `struct ev_loop` (private, libev's
// default loop, or a host's loop adopted with ae::adopt).
//
// Quirks of libev this file bridges:
// 1. One ev_io per fd, embedded in the core's per-fd slot, so a watcher start allocates
//    nothing. Interest changes are stop + ev_io_modify + start: unlike ev_io_set,
//    ev_io_modify does not set EV__IOFDSET, so libev's fd_reify calls epoll_ctl only when the
//    fd's mask really changed, and a watcher destroyed and re-created for the same fd and
//    mask within one iteration costs no syscall (DESIGN §8: ev_io_init would cost one).
// 2. libev checks nothing in ev_io_start: the fd meets the kernel lazily, in the next
//    iteration's fd_reify, and Debian's libev is built with assertions, so an epoll_ctl that
//    answers EBADF abort()s ("I/O watcher with invalid fd found in epoll_ctl"). Interest
//    rising from 0 is therefore checked with fcntl(F_GETFD) first, and EBADF reaches the
//    watcher's constructor. The one exception is a restart for the same fd and mask in the
//    iteration that stopped it, which libev never shows the kernel (the built-in loop's lazy
//    diff has the same rule: after a raw close() of a watched fd, let one iteration pass).
//    An fd may also be closed after its watcher started but before that iteration ends; an
//    ev_prepare, which libev runs just before fd_reify, checks every fd changed since and
//    turns a closed one into an EV_ERROR event instead of an abort.
// 3. An fd closed through ae::fd and its number reused within one iteration would look
//    unchanged to libev, although its epoll registration left with the old file. io_forget
//    stops the ev_io and makes the next start an ev_io_set, whose EV__IOFDSET forces the
//    epoll_ctl that registers the new file.
// 4. Regular files: libev's epoll backend takes epoll_ctl's EPERM as "always ready" and
//    polls without blocking while such an fd is watched (poll and select report them ready
//    themselves), so io() returns 0 and the core needs no emulation.
// 5. EV_ERROR (libev's fd_kill, after the kernel refused the fd) is reported as read|write.
//    libev has stopped the ev_io by then; the next interest change restarts it.
// 6. libev adds a timer's delay to its own cached monotonic time, which can be a little older
//    than ours, so its ev_timer may expire just before our deadline: the callback checks our
//    clock and re-arms for the remainder, so the core's timer never fires early. A deadline
//    already passed is a 0 s ev_timer, for which libev 4.33 polls without blocking.
// 7. now() is our own CLOCK_MONOTONIC reading, refreshed whenever ev_now() has moved (libev
//    updates it once per iteration and in ev_now_update): a load and a compare per call.
// 8. The wakeup is an ev_async (thread- and async-signal-safe), ev_unref'd so it never keeps
//    a host's ev_run alive. Our own run_once refs the loop while it runs: ev_run(EVRUN_ONCE)
//    does not wait at all when nothing active is counted, so a loop whose only watchers are
//    ae signals or asyncs would spin. destroy refs before ev_async_stop, as libev requires.
// 9. ev_idle is libev's own "nothing else pending" and keeps ev_run from blocking while it is
//    active: exactly the contract's idle, used as it is.
// 10. ev_default_loop installs a SIGCHLD handler whose callback reaps every child with
//    waitpid(-1): it would steal the status of children that ae::child watches through a
//    pidfd, and of children other code owns. When we are the ones creating libev's default
//    loop, the previous SIGCHLD disposition is put back at once, as libev's manual allows
//    ("simply overwrite the SIGCHLD signal handler after calling ev_default_init"), with
//    SIGCHLD blocked meanwhile. A host that made the default loop first keeps libev's reaper.
// 11. fork: ev_loop_fork makes the next iteration close libev's copy of the inherited epoll
//    fd (no EPOLL_CTL_DEL ever reaches the set the parent still uses), build a new one, re-add
//    every fd, and renew the async pipe.
// 12. stop is ev_break(EVBREAK_ONE): it also ends a host's ev_run, which is how an exception
//    from a callback reaches the host.
#include <anyevent/backend.hpp>

#include <ev.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <new>
#include <pthread.h>
#include <vector>

namespace ae::detail::libev {

namespace {

using ae::backend::ev_read;
using ae::backend::ev_write;

std::int64_t monotonic_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct io_slot;

struct instance {
  ae::backend::core_hooks hooks{};
  struct ev_loop* loop = nullptr;
  bool owns_loop = false;
  ev_prepare check;                 // while `changed` is not empty (note 2)
  std::vector<io_slot*> changed;    // slots libev will show the kernel in its next fd_reify
  ev_timer timer;  // the core's single deadline
  ev_idle idle;
  ev_async async;  // wakeup, unref'd (note 8)
  std::int64_t deadline = -1;
  ev_tstamp seen_ev_now = 0;  // note 7
  std::int64_t now_ns = 0;
};

/// The core's per-fd slot (zeroed by the core, never moved, reused for the same fd number).
struct io_slot {
  ev_io w;
  unsigned stopped_at;  // ev_iteration() when the interest last dropped to 0 (note 2)
  bool set;             // w was ev_io_set for w.fd, and that fd was not closed since (note 3)
  bool changed;         // in instance::changed
};

instance* of(void* be) noexcept { return static_cast<instance*>(be); }

int ev_events(unsigned mask) noexcept { return static_cast<int>(mask & (ev_read | ev_write)); }  // same bits

// ---- clock (note 7) ----

std::int64_t current_ns(instance* b) noexcept {
  const ev_tstamp t = ev_now(b->loop);
  if (t != b->seen_ev_now) {
    b->seen_ev_now = t;
    b->now_ns = monotonic_ns();
  }
  return b->now_ns;
}

std::int64_t now(void* be) noexcept { return current_ns(of(be)); }

void now_update(void* be) noexcept {
  instance* b = of(be);
  ev_now_update(b->loop);
  b->seen_ev_now = ev_now(b->loop);
  b->now_ns = monotonic_ns();
}

// ---- io (notes 1–5) ----

void on_io(struct ev_loop*, ev_io* w, int revents) noexcept {
  static_assert(EV_READ == ev_read && EV_WRITE == ev_write, "libev's bits are the core's: no mapping per event");
  instance* b = static_cast<instance*>(w->data);
  const unsigned bits = revents & EV_ERROR ? ev_read | ev_write : static_cast<unsigned>(revents) & (ev_read | ev_write);
  // The hook may stop w, or destroy the whole backend: nothing here touches either after it.
  b->hooks.io(b->hooks.core, w, bits);  // w is the slot's first member
}

/// Runs just before libev's fd_reify: a changed fd closed since would make epoll_ctl answer
/// EBADF, which libev answers with abort() (note 2); stop its ev_io and report the error.
void on_prepare(struct ev_loop* loop, ev_prepare* p, int) noexcept {
  instance* b = static_cast<instance*>(p->data);
  ev_ref(loop);
  ev_prepare_stop(loop, p);
  for (io_slot* s : b->changed) {
    s->changed = false;
    if (ev_is_active(&s->w) && ::fcntl(s->w.fd, F_GETFD) < 0 && errno == EBADF) {
      ev_io_stop(loop, &s->w);
      s->set = false;                           // whatever gets this number next is new
      ev_feed_event(loop, &s->w, EV_ERROR);     // dropped if the watcher stops first
    }
  }
  b->changed.clear();  // keeps its capacity: no allocation once warm
}

int io(void* be, void* slot, int fd, unsigned old_mask, unsigned new_mask) {
  instance* b = of(be);
  auto* s = static_cast<io_slot*>(slot);
  const int events = ev_events(new_mask);
  bool untouched = false;  // libev will see no change for this fd, so neither will the kernel
  if (!old_mask && new_mask) {
    untouched = s->set && s->w.fd == fd && (s->w.events & (EV_READ | EV_WRITE)) == events &&
                s->stopped_at == ev_iteration(b->loop);
    if (!untouched && ::fcntl(fd, F_GETFD) < 0) return errno;  // note 2
  }
  ev_io_stop(b->loop, &s->w);  // also drops a pending event; harmless when inactive
  if (!new_mask) {
    s->stopped_at = ev_iteration(b->loop);
    return 0;
  }
  if (!untouched && !s->changed) {
    try {
      b->changed.push_back(s);
    } catch (...) {
      return ENOMEM;
    }
    s->changed = true;
    if (!ev_is_active(&b->check)) {
      ev_prepare_start(b->loop, &b->check);
      ev_unref(b->loop);  // the io watchers keep the loop alive, not this check
    }
  }
  if (s->set && s->w.fd == fd) {
    ev_io_modify(&s->w, events);
  } else {
    ev_io_init(&s->w, on_io, fd, events);
    s->w.data = b;
    s->set = true;
  }
  ev_io_start(b->loop, &s->w);
  return 0;
}

void io_forget(void* be, void* slot, int) {
  auto* s = static_cast<io_slot*>(slot);
  ev_io_stop(of(be)->loop, &s->w);
  s->set = false;  // note 3
}

// ---- timer, idle (notes 6, 9) ----

void arm(instance* b) noexcept {
  const std::int64_t ahead = b->deadline - current_ns(b);
  ev_timer_stop(b->loop, &b->timer);
  ev_timer_set(&b->timer, ahead > 0 ? static_cast<ev_tstamp>(ahead) * 1e-9 : 0., 0.);
  ev_timer_start(b->loop, &b->timer);
}

void timer(void* be, std::int64_t deadline) noexcept {
  instance* b = of(be);
  b->deadline = deadline;
  if (deadline < 0) ev_timer_stop(b->loop, &b->timer);
  else arm(b);
}

void on_timer(struct ev_loop*, ev_timer* t, int) noexcept {
  instance* b = static_cast<instance*>(t->data);
  if (b->deadline < 0) return;
  if (current_ns(b) < b->deadline) {  // libev's clock ran ahead of ours (note 6)
    arm(b);
    return;
  }
  b->deadline = -1;
  b->hooks.timer(b->hooks.core);
}

void idle(void* be, bool on) noexcept {
  instance* b = of(be);
  if (on) ev_idle_start(b->loop, &b->idle);
  else ev_idle_stop(b->loop, &b->idle);
}

void on_idle(struct ev_loop*, ev_idle* i, int) noexcept {
  instance* b = static_cast<instance*>(i->data);
  b->hooks.idle(b->hooks.core);
}

// ---- wakeup, run (notes 8, 12) ----

void wakeup(void* be) noexcept { ev_async_send(of(be)->loop, &of(be)->async); }

void on_async(struct ev_loop*, ev_async* a, int) noexcept {
  instance* b = static_cast<instance*>(a->data);
  b->hooks.wakeup(b->hooks.core);
}

void run_once(void* be, bool nowait) {
  struct ev_loop* loop = of(be)->loop;
  if (nowait) {
    ev_run(loop, EVRUN_NOWAIT);
    return;
  }
  ev_ref(loop);
  ev_run(loop, EVRUN_ONCE);
  ev_unref(loop);
}

void stop(void* be) noexcept { ev_break(of(be)->loop, EVBREAK_ONE); }

void fork_child(void* be) noexcept { ev_loop_fork(of(be)->loop); }  // note 11

// ---- create, destroy ----

/// libev's default loop, without its child reaper when we are the ones creating it (note 10).
struct ev_loop* default_loop() noexcept {
  if (ev_default_loop_uc_()) return ev_default_loop(0);
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &chld, &old);
  struct sigaction before {};
  ::sigaction(SIGCHLD, nullptr, &before);
  struct ev_loop* loop = ev_default_loop(0);
  if (loop) ::sigaction(SIGCHLD, &before, nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return loop;
}

void* create(const ae::backend::create_args& a, char* err, std::size_t errlen) {
  auto* b = new (std::nothrow) instance;
  if (!b) {
    std::snprintf(err, errlen, "out of memory");
    return nullptr;
  }
  b->hooks = *a.hooks;
  if (a.native) {
    b->loop = static_cast<struct ev_loop*>(a.native);
  } else if (a.library_default) {
    b->loop = default_loop();
    if (!b->loop) {
      std::snprintf(err, errlen, "ev_default_loop(0) failed (LIBEV_FLAGS names no usable backend?)");
      delete b;
      return nullptr;
    }
  } else {
    b->loop = ev_loop_new(EVFLAG_AUTO);
    if (!b->loop) {
      std::snprintf(err, errlen, "ev_loop_new(EVFLAG_AUTO) failed (LIBEV_FLAGS names no usable backend?)");
      delete b;
      return nullptr;
    }
    b->owns_loop = true;
  }
  ev_timer_init(&b->timer, on_timer, 0., 0.);
  ev_idle_init(&b->idle, on_idle);
  ev_async_init(&b->async, on_async);
  ev_prepare_init(&b->check, on_prepare);
  b->timer.data = b->idle.data = b->async.data = b->check.data = b;
  ev_async_start(b->loop, &b->async);
  ev_unref(b->loop);  // note 8
  b->seen_ev_now = ev_now(b->loop);
  b->now_ns = monotonic_ns();
  return b;
}

void destroy(void* be) {
  instance* b = of(be);
  // The core has already dropped every fd interest, the deadline and idle; stopping them
  // again costs nothing and leaves a host's loop with nothing of ours whatever happened.
  ev_timer_stop(b->loop, &b->timer);
  ev_idle_stop(b->loop, &b->idle);
  if (ev_is_active(&b->check)) {
    ev_ref(b->loop);
    ev_prepare_stop(b->loop, &b->check);
  }
  ev_ref(b->loop);
  ev_async_stop(b->loop, &b->async);
  if (b->owns_loop) ev_loop_destroy(b->loop);
  delete b;
}

const char* version() {
  static char text[32];
  static const char* v = (std::snprintf(text, sizeof text, "libev %d.%d", ev_version_major(), ev_version_minor()), text);
  return v;
}

const ae::backend::ops table{
    ae::backend::abi_version,
    sizeof(io_slot),
    "libev",
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

}  // namespace ae::detail::libev

extern "C" __attribute__((visibility("default"))) const ae::backend::ops* anyevent_backend_v1() {
  return &ae::detail::libev::table;
}
