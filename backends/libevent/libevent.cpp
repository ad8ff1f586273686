// The libevent backend (libevent 2.1): the table of core/anyevent/backend.hpp over one
// event_base, ours or a host's.
//
// libevent's quirks, and how this file bridges them:
// 1. No idle watchers in 2.1: built here. A zero-timeout timer event, re-added by its own
//    callback, keeps every iteration from blocking; its callback calls hooks.idle only when
//    nothing was delivered to the core since the previous check (a delivery counter). Io and
//    wakeup events of an iteration are activated by the backend's dispatch, before libevent
//    expires timers, so they always run before the idle check; the core's deadline is the one
//    delivery that may come after it, so a due deadline is delivered from the idle callback.
// 2. No "unref": an added event keeps event_base_dispatch running. The wakeup event carries
//    EVLIST_INTERNAL (event2/event_struct.h), the flag libevent puts on its own notification
//    events, which leaves it out of the count that keeps a loop alive, so it never keeps a
//    host's dispatch running. Our own run_once passes EVLOOP_NO_EXIT_ON_EMPTY, so a loop
//    whose only business is the wakeup (async, signals) still blocks instead of spinning.
//    But EVLOOP_ONCE does not count internal callbacks as "something ran" and would block
//    again after a wakeup: inside our run_once the wakeup also activates a plain no-op event.
// 3. event_add of an fd that epoll refuses (a regular file, a directory, /dev/null) or of a
//    closed fd fails *and prints a warning on stderr* through libevent's process-wide log
//    callback, which we cannot replace without taking it from the host. So a fresh
//    registration is checked first: fstat (EBADF; pipes and sockets are pollable) and, for
//    other file types, a probe in a throw-away epoll set (EPERM: the core treats the fd as
//    always ready, as POSIX poll does).
// 4. Without a changelist (libevent's default), event_del + event_add cost EPOLL_CTL_DEL +
//    EPOLL_CTL_ADD. On a base we own, lowering an fd's interest to 0 is deferred to the start
//    of the next run_once, like the built-in loop, so a watcher destroyed and re-created in
//    one iteration costs no syscall. On an adopted base we never see an iteration start, and
//    a kept event would keep the host's dispatch running: deletes are immediate there.
// 5. libevent measures timeouts on CLOCK_MONOTONIC_COARSE (up to a jiffy behind) from the
//    time cached at the start of its iteration, so a relative timeout computed from our
//    precise clock can expire a little early by ours. The timer callback checks and re-arms
//    the remainder: the core's deadline is never reported early.
// 6. now(): event_base_gettimeofday_cached changes once per iteration (libevent refreshes its
//    cache after each dispatch), so CLOCK_MONOTONIC is read only when it changed. On a base
//    we own, between iterations, now() makes no libevent call at all.
// 7. fork: event_reinit makes a new epoll set in the child and re-adds every event there,
//    never touching the parent's set. The eventfd is shared with the parent: the child
//    closes its copy unread (reading would steal the parent's wakeups) and makes a new one,
//    after event_reinit, so that the old one's deletion only touches the child's new set.
// 8. EPOLLERR/EPOLLHUP reach us as EV_READ|EV_WRITE limited to the event's interest, which
//    is the union of the fd's watchers' masks: the core hands each watcher its bits.
// 9. DESIGN §8: Debian's libev exports libevent's function names. This module is dlopened
//    RTLD_LOCAL, but its references still bind to the process's global scope first, so a
//    host that links libev cannot use this backend.
#include <anyevent/backend.hpp>

#include <event2/event.h>
#include <event2/event_struct.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>
#include <vector>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ae::detail::libevent {

namespace {

static_assert(EV_READ == 2 && EV_WRITE == 4, "io_cb maps libevent's bits with one shift");
static_assert(backend::ev_read == 1 && backend::ev_write == 2);

std::int64_t monotonic_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct instance;

/// The core's per-fd storage (io_size bytes, zeroed, never moved): this 8-byte header, then
/// libevent's struct event, whose size libevent reports at run time. The header packs the
/// owner with three small fields into one word (instance is aligned to 32, so its pointer's
/// low five bits are free): a watched fd costs libevent's struct event plus 8 bytes here,
/// and DESIGN §7 allows ae over a library 64 bytes a watcher in all.
class slot {
 public:
  instance* owner() const noexcept { return reinterpret_cast<instance*>(bits_ & ~field_bits); }
  void set_owner(instance* l) noexcept { bits_ = reinterpret_cast<std::uintptr_t>(l) | (bits_ & field_bits); }
  /// Interest the core asked for.
  unsigned want() const noexcept { return bits_ & 3u; }
  void set_want(unsigned m) noexcept { set(0, 3u, m); }
  /// Interest of our added event; 0: not added.
  unsigned added() const noexcept { return (bits_ >> 2) & 3u; }
  void set_added(unsigned m) noexcept { set(2, 3u, m); }
  /// In instance::deferred (note 4).
  bool queued() const noexcept { return (bits_ >> 4) & 1u; }
  void set_queued(bool q) noexcept { set(4, 1u, q); }

  static constexpr std::uintptr_t field_bits = 31;

 private:
  void set(unsigned shift, unsigned width_mask, unsigned v) noexcept {
    bits_ = (bits_ & ~(std::uintptr_t{width_mask} << shift)) | (std::uintptr_t{v & width_mask} << shift);
  }
  std::uintptr_t bits_;
};
static_assert(sizeof(slot) == 8);

event* event_of(slot* s) noexcept { return reinterpret_cast<event*>(reinterpret_cast<std::byte*>(s) + sizeof(slot)); }

struct alignas(slot::field_bits + 1) instance {
  backend::core_hooks hooks{};
  event_base* base = nullptr;
  bool owned = false;    // created by us: freed by destroy, deletes deferred (note 4)
  bool running = false;  // inside our own run_once

  // now() (note 6)
  std::int64_t now_ns = 0;
  timeval now_tv{};        // libevent's cached time when now_ns was read
  bool now_stale = false;  // an iteration of our own base ended since now_ns was read

  // the core's single deadline (note 5)
  event* timer_ev = nullptr;
  std::int64_t deadline = -1;
  bool timer_on = false;

  // idle (note 1)
  event* idle_ev = nullptr;
  bool idle_on = false;
  std::uint64_t deliveries = 0;  // calls into the core's io/timer/wakeup hooks
  std::uint64_t idle_seen = 0;   // `deliveries` at the previous idle check

  // wakeup (note 2): wakeup() writes the eventfd once until the loop has read it
  event* wake_ev = nullptr;
  event* kick_ev = nullptr;  // plain, never added: activated to end our EVLOOP_ONCE
  int wake_fd = -1;
  std::atomic<bool> woken{false};

  std::vector<slot*> deferred;  // slots whose deletion waits for the next run_once
};

constexpr timeval zero_tv{0, 0};

std::int64_t now(void* p) noexcept {
  auto* l = static_cast<instance*>(p);
  if (l->owned && !l->running) {
    // Nobody else runs our base: between iterations the value is the one read after the
    // last iteration ended (the built-in loop's rule), without asking libevent.
    if (l->now_stale) {
      l->now_ns = monotonic_ns();
      l->now_stale = false;
    }
    return l->now_ns;
  }
  timeval tv;
  ::event_base_gettimeofday_cached(l->base, &tv);
  if (tv.tv_sec != l->now_tv.tv_sec || tv.tv_usec != l->now_tv.tv_usec) {
    l->now_tv = tv;
    l->now_ns = monotonic_ns();
  }
  return l->now_ns;
}

void now_update(void* p) noexcept {
  auto* l = static_cast<instance*>(p);
  ::event_base_update_cache_time(l->base);  // only acts inside the base's loop
  ::event_base_gettimeofday_cached(l->base, &l->now_tv);
  l->now_ns = monotonic_ns();
  l->now_stale = false;
}

/// Add the timer event for what is left until the deadline, rounded up to the microsecond.
void arm_timer(instance* l, std::int64_t now_ns) noexcept {
  std::int64_t left = l->deadline - now_ns;
  if (left < 0) left = 0;
  // Beyond ~68 years nothing is lost by waking early: the callback re-arms (note 5).
  constexpr std::int64_t max_left = std::int64_t{INT_MAX} * 1'000'000'000;
  if (left > max_left) left = max_left;
  timeval tv;
  tv.tv_sec = static_cast<time_t>(left / 1'000'000'000);
  tv.tv_usec = static_cast<suseconds_t>((left % 1'000'000'000 + 999) / 1000);
  if (tv.tv_usec == 1'000'000) {
    ++tv.tv_sec;
    tv.tv_usec = 0;
  }
  ::event_add(l->timer_ev, &tv);
  l->timer_on = true;
}

/// Report the deadline to the core. Touches nothing of `l` afterwards: a callback may have
/// destroyed the loop.
void deliver_timer(instance* l) noexcept {
  l->deadline = -1;
  ++l->deliveries;
  l->hooks.timer(l->hooks.core);
}

void timer_cb(evutil_socket_t, short, void* p) {
  auto* l = static_cast<instance*>(p);
  l->timer_on = false;
  std::int64_t t = now(l);
  if (t < l->deadline) {
    t = monotonic_ns();
    if (t < l->deadline) {  // libevent's clock ran ahead of ours (note 5)
      arm_timer(l, t);
      return;
    }
    l->now_ns = t;  // the core compares deadlines with now(): make it see this one as due
  }
  deliver_timer(l);
}

void idle_cb(evutil_socket_t, short, void* p) {
  auto* l = static_cast<instance*>(p);
  if (!l->idle_on) return;
  ::event_add(l->idle_ev, &zero_tv);  // the next iteration must not block either
  if (l->deliveries != l->idle_seen) {
    l->idle_seen = l->deliveries;
    return;
  }
  if (l->timer_on && l->deadline <= now(l)) {
    // libevent may run the deadline's event after this one in the same iteration: deliver
    // it here, so that this iteration counts as busy and the next one as quiet.
    ::event_del(l->timer_ev);
    l->timer_on = false;
    l->idle_seen = l->deliveries + 1;
    deliver_timer(l);
    return;
  }
  l->hooks.idle(l->hooks.core);
}

void wakeup_cb(evutil_socket_t, short, void* p) {
  auto* l = static_cast<instance*>(p);
  std::uint64_t n;
  [[maybe_unused]] const ssize_t r = ::read(l->wake_fd, &n, sizeof n);  // one read resets an eventfd
  l->woken.store(false);
  if (l->running) ::event_active(l->kick_ev, EV_TIMEOUT, 1);
  ++l->deliveries;
  l->hooks.wakeup(l->hooks.core);
}

void io_cb(evutil_socket_t, short what, void* arg) {
  auto* s = static_cast<slot*>(arg);
  // A deferred deletion (note 4) may still report; `want` filters it.
  const unsigned bits = (static_cast<unsigned>(what) >> 1) & s->want();
  if (!bits) return;
  instance* l = s->owner();
  ++l->deliveries;
  l->hooks.io(l->hooks.core, s, bits);
}

/// Leave the wakeup event out of the events that keep a loop alive (note 2).
void make_internal(event* ev) noexcept { ev->ev_evcallback.evcb_flags |= EVLIST_INTERNAL; }

int open_wakeup(instance* l) noexcept {
  l->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (l->wake_fd < 0) return errno;
  if (!l->wake_ev) l->wake_ev = ::event_new(l->base, l->wake_fd, EV_READ | EV_PERSIST, wakeup_cb, l);
  else ::event_assign(l->wake_ev, l->base, l->wake_fd, EV_READ | EV_PERSIST, wakeup_cb, l);
  if (!l->wake_ev) return ENOMEM;
  make_internal(l->wake_ev);
  return ::event_add(l->wake_ev, nullptr) < 0 ? EIO : 0;
}

void free_instance(instance* l) noexcept {
  for (event* ev : {l->timer_ev, l->idle_ev, l->kick_ev, l->wake_ev})
    if (ev) ::event_free(ev);  // event_free deletes first
  if (l->wake_fd >= 0) ::close(l->wake_fd);
  if (l->owned && l->base) ::event_base_free(l->base);
  delete l;
}

void* create(const backend::create_args& a, char* err, std::size_t errlen) {
  auto* l = new (std::nothrow) instance;
  if (!l) {
    std::snprintf(err, errlen, "out of memory");
    return nullptr;
  }
  l->hooks = *a.hooks;
  // library_default: libevent has no default loop, so a new base serves.
  if (a.native) {
    l->base = static_cast<event_base*>(a.native);
  } else {
    l->owned = true;
    // Only the loop's thread touches the base (wakeup() writes the eventfd): no lock needed.
    if (event_config* cfg = ::event_config_new()) {
      ::event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
      l->base = ::event_base_new_with_config(cfg);
      ::event_config_free(cfg);
    }
    if (!l->base) {
      std::snprintf(err, errlen, "event_base_new failed");
      free_instance(l);
      return nullptr;
    }
  }
  l->timer_ev = ::event_new(l->base, -1, 0, timer_cb, l);
  l->idle_ev = ::event_new(l->base, -1, 0, idle_cb, l);
  l->kick_ev = ::event_new(l->base, -1, 0, [](evutil_socket_t, short, void*) {}, nullptr);
  int e = l->timer_ev && l->idle_ev && l->kick_ev ? open_wakeup(l) : ENOMEM;
  if (e) {
    std::snprintf(err, errlen, "libevent: cannot set up the wakeup event: %s", std::strerror(e));
    free_instance(l);
    return nullptr;
  }
  now_update(l);
  return l;
}

/// Apply the deletions deferred by io() (note 4).
void flush_deferred(instance* l) noexcept {
  for (slot* s : l->deferred) {
    s->set_queued(false);
    if (s->want() || !s->added()) continue;
    ::event_del(event_of(s));  // a closed fd's failing EPOLL_CTL_DEL is ignored by libevent
    s->set_added(0);
  }
  l->deferred.clear();
}

void destroy(void* p) {
  auto* l = static_cast<instance*>(p);
  flush_deferred(l);
  free_instance(l);
}

/// 0 if epoll can watch fd, else the errno to report (note 3).
int check_pollable(int fd) noexcept {
  struct stat st;
  if (::fstat(fd, &st) < 0) return errno;
  if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) return 0;
  // Regular files, directories and some devices have no poll method, but pseudo-files with
  // a regular-file mode do (kernfs, /proc), and anonymous inodes have no type: ask epoll.
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return 0;  // no probe possible; let event_add decide
  epoll_event ev{};
  ev.events = EPOLLIN;
  const int r = ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? errno : 0;
  ::close(ep);
  return r;
}

int io(void* p, void* sp, int fd, unsigned, unsigned new_mask) {
  auto* l = static_cast<instance*>(p);
  auto* s = static_cast<slot*>(sp);
  s->set_want(new_mask);
  if (new_mask == s->added()) return 0;  // also a deferred deletion taken back: no syscall
  event* ev = event_of(s);
  if (new_mask == 0) {
    if (l->owned) {
      if (!s->queued()) {
        s->set_queued(true);
        l->deferred.push_back(s);
      }
    } else {
      ::event_del(ev);
      s->set_added(0);
    }
    return 0;
  }
  if (s->added()) {
    // libevent 2.1 cannot change an added event's interest: delete, reassign, add.
    ::event_del(ev);
    s->set_added(0);
  } else if (const int e = check_pollable(fd)) {
    s->set_want(0);
    return e;
  }
  s->set_owner(l);
  ::event_assign(ev, l->base, fd, static_cast<short>(EV_PERSIST | (new_mask << 1)), io_cb, s);
  if (::event_add(ev, nullptr) < 0) {
    const int e = errno ? errno : EIO;
    s->set_want(0);
    return e;
  }
  s->set_added(new_mask);
  return 0;
}

void io_forget(void*, void* sp, int) {
  auto* s = static_cast<slot*>(sp);
  if (s->added() && !s->want()) {
    ::event_del(event_of(s));  // while the fd is still open, before its number is reused
    s->set_added(0);
  }
}

void timer(void* p, std::int64_t deadline_ns) {
  auto* l = static_cast<instance*>(p);
  if (deadline_ns < 0) {
    if (l->timer_on) ::event_del(l->timer_ev);
    l->timer_on = false;
    l->deadline = -1;
    return;
  }
  if (l->timer_on && deadline_ns == l->deadline) return;
  l->deadline = deadline_ns;
  // A deadline not after the cached now() is due: no need to read the clock.
  arm_timer(l, deadline_ns <= l->now_ns ? deadline_ns : monotonic_ns());
}

void idle(void* p, bool on) {
  auto* l = static_cast<instance*>(p);
  if (on == l->idle_on) return;
  l->idle_on = on;
  if (on) {
    l->idle_seen = l->deliveries;
    ::event_add(l->idle_ev, &zero_tv);
  } else {
    ::event_del(l->idle_ev);
  }
}

void wakeup(void* p) {
  auto* l = static_cast<instance*>(p);
  if (l->woken.exchange(true)) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t r = ::write(l->wake_fd, &one, sizeof one);
}

void run_once(void* p, bool nowait) {
  auto* l = static_cast<instance*>(p);
  flush_deferred(l);
  l->running = true;
  ::event_base_loop(l->base, EVLOOP_ONCE | EVLOOP_NO_EXIT_ON_EMPTY | (nowait ? EVLOOP_NONBLOCK : 0));
  l->running = false;
  l->now_stale = true;
}

void stop(void* p) { ::event_base_loopbreak(static_cast<instance*>(p)->base); }

void fork_child(void* p) {
  auto* l = static_cast<instance*>(p);
  ::event_reinit(l->base);  // note 7: first, so that the deletion below touches only the new set
  ::event_del(l->wake_ev);
  ::close(l->wake_fd);
  const bool was_woken = l->woken.exchange(false);
  open_wakeup(l);
  if (was_woken) wakeup(l);  // a wakeup the parent sent before the fork belongs to us too
}

const char* version() {
  // A plain buffer: std::string would export its template instances from the module.
  static char v[64];
  static const bool once = (std::snprintf(v, sizeof v, "libevent %s", ::event_get_version()), true);
  (void)once;
  return v;
}

}  // namespace

}  // namespace ae::detail::libevent

extern "C" __attribute__((visibility("default"))) const ae::backend::ops* anyevent_backend_v1() {
  namespace le = ae::detail::libevent;
  static const ae::backend::ops table{
      ae::backend::abi_version,
      static_cast<std::uint32_t>(sizeof(le::slot) + ::event_get_struct_event_size()),
      "libevent",
      le::version,
      le::create,
      le::destroy,
      le::io,
      le::io_forget,
      le::timer,
      le::idle,
      le::wakeup,
      le::run_once,
      le::stop,
      le::now,
      le::now_update,
      le::fork_child,
  };
  return &table;
}
