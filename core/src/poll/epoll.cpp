// The built-in backend on Linux: epoll.
//
// (a) Lazy registration diff: lowering an fd's interest to 0 only queues the EPOLL_CTL_DEL;
//     the queue is applied just before the next epoll_wait. A watcher destroyed and
//     re-created for the same fd and mask within one iteration therefore costs no syscall.
//     Raising or changing interest is done at once, so errors (EBADF, EPERM) reach the
//     caller of the watcher's constructor.
// (b) A closed fd leaves epoll by itself when its last duplicate closes, so a close costs no
//     EPOLL_CTL_DEL (as in libev and in a hand-written loop): io_forget, which ae::fd calls
//     just before close(), only forgets the registration and bumps the slot's close count.
//     The count travels in every event's data beside the slot's address (g). When a duplicate kept the file
//     open, its old registration can still fire under the number, which may name another
//     file by then and cannot be deleted through it: an event whose count is not the
//     slot's is such a leftover, and the whole set is rebuilt (rare: dup'ed, watched, closed
//     fds). For a raw close() of a watched fd, stop its watchers and let one iteration pass
//     first (docs/special-problems.md).
// (c) Regular files: epoll_ctl answers EPERM; the core then reports them always ready.
// (d) EPOLLERR and EPOLLHUP are reported as both read and write readiness, as libev does, so
//     the watcher's next read or write sees the error.
// (e) fork: the epoll set is shared with the parent. The child makes a new one and registers
//     every interest there; it never touches the inherited set (a DEL there would remove the
//     parent's registration).
// (f) Each slot carries the generation of the epoll set it was registered in, so after a
//     fork every slot reads as "not registered" without being visited.
// (g) An event's data is its slot's address (user-space addresses fit in 56 bits) with the
//     close count in the top byte; 0 is the wakeup eventfd. Dispatch reads the slot straight
//     from the event: no fd -> slot table is touched per event (with thousands of fds, that
//     table's line was one more cache miss per event). by_fd only serves rebuild().
#include "builtin.hpp"

#include "../append_array.hpp"

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <sys/epoll.h>
#include <unistd.h>
#include <fcntl.h>
#include <vector>

namespace ae::detail::builtin {

namespace {

// 8 bytes per fd: the per-watcher memory budget (DESIGN §7) counts it.
struct slot {
  std::uint8_t kernel;  // mask registered in the epoll set of generation `gen`
  std::uint8_t want;    // mask the core asked for
  std::uint8_t queued;  // in `changes`
  std::uint8_t closes;  // (b): how often this fd number was closed while registered
  std::uint32_t gen;
};
static_assert(sizeof(slot) == 8);

struct change {
  int fd;
  slot* s;
};

struct epoll_loop : base {
  int epfd = -1;
  std::uint32_t gen = 1;
  append_array<change> changes;  // (a): the queued EPOLL_CTL_DELs
  std::vector<slot*> by_fd;                    // (e): every slot ever used, by fd
  std::vector<epoll_event> events = std::vector<epoll_event>(64);
};

std::uint32_t to_epoll(unsigned mask) {
  return (mask & backend::ev_read ? EPOLLIN : 0u) | (mask & backend::ev_write ? EPOLLOUT : 0u);
}

constexpr int closes_shift = 56;  // (g)
constexpr std::uint64_t slot_bits = (std::uint64_t{1} << closes_shift) - 1;

/// `s` nullptr: the wakeup eventfd.
int ctl(epoll_loop* l, int op, int fd, unsigned mask, const slot* s = nullptr) {
  epoll_event ev{};
  ev.events = to_epoll(mask);
  if (s) ev.data.u64 = reinterpret_cast<std::uintptr_t>(s) | std::uint64_t{s->closes} << closes_shift;  // (b), (g)
  return ::epoll_ctl(l->epfd, op, fd, &ev) < 0 ? errno : 0;
}

/// Register `want` for fd in the current set; tolerates a stale idea of what is there.
int apply(epoll_loop* l, slot* s, int fd) {
  int err = ctl(l, s->kernel ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, s->want, s);
  if (err == EEXIST) err = ctl(l, EPOLL_CTL_MOD, fd, s->want, s);
  else if (err == ENOENT) err = ctl(l, EPOLL_CTL_ADD, fd, s->want, s);
  if (err) return err;
  s->kernel = s->want;
  return 0;
}

void* create(const backend::create_args& a, char* err, std::size_t errlen) {
  auto* l = new epoll_loop;
  l->hooks = *a.hooks;
  l->now_ns = monotonic_ns();
  l->epfd = ::epoll_create1(EPOLL_CLOEXEC);
  int e = l->epfd < 0 ? errno : open_wakeup(*l);
  if (!e) e = ctl(l, EPOLL_CTL_ADD, l->wake_fd, backend::ev_read);
  if (e) {
    std::snprintf(err, errlen, "epoll: %s", std::strerror(e));
    close_wakeup(*l);
    if (l->epfd >= 0) ::close(l->epfd);
    delete l;
    return nullptr;
  }
  return l;
}

void destroy(void* be) {
  auto* l = static_cast<epoll_loop*>(be);
  close_wakeup(*l);
  ::close(l->epfd);
  delete l;
}

/// apply() for a slot the core asked to watch: recorded in by_fd first, which is where
/// dispatch and rebuild find it (every slot that ever reaches the kernel passes here). Out of
/// line: it costs a syscall anyway, and io() stays a few loads and stores.
[[gnu::noinline]] int register_fd(epoll_loop* l, slot* s, int fd) {
  if (reinterpret_cast<std::uintptr_t>(s) & ~slot_bits) return EOVERFLOW;  // (g): not on any Linux ABI today
  if (static_cast<std::size_t>(fd) >= l->by_fd.size()) l->by_fd.resize(fd + 1 + fd / 2);
  l->by_fd[fd] = s;
  return apply(l, s, fd);
}

int io(void* be, void* sp, int fd, unsigned, unsigned mask) {
  auto* l = static_cast<epoll_loop*>(be);
  auto* s = static_cast<slot*>(sp);
  if (s->gen != l->gen) [[unlikely]] *s = {0, 0, 0, s->closes, l->gen};
  s->want = static_cast<std::uint8_t>(mask);
  if (mask == s->kernel) return 0;  // (a): re-armed before the queued DEL was applied
  if (mask == 0) {
    if (!s->queued) {
      s->queued = 1;
      l->changes.append({fd, s});
    }
    return 0;
  }
  return register_fd(l, s, fd);
}

void io_forget(void* be, void* sp, int fd) {
  auto* l = static_cast<epoll_loop*>(be);
  auto* s = static_cast<slot*>(sp);
  (void)fd;
  if (s->gen == l->gen && s->kernel && !s->want) {  // (b): the close itself unregisters
    s->kernel = 0;
    ++s->closes;
  }
}

/// A new epoll set holding the wakeup and every interest of the current slots; the old set
/// (and whatever it still held) is closed. Used after fork (e) and for leftovers (b).
int rebuild(epoll_loop* l) {
  const int fresh = ::epoll_create1(EPOLL_CLOEXEC);
  if (fresh < 0) return errno;
  ::close(l->epfd);
  l->epfd = fresh;
  ++l->gen;
  ctl(l, EPOLL_CTL_ADD, l->wake_fd, backend::ev_read);
  for (auto& c : l->changes) c.s->queued = 0;
  l->changes.clear();
  for (std::size_t fd = 0; fd < l->by_fd.size(); ++fd) {
    slot* s = l->by_fd[fd];
    if (!s || s->gen != l->gen - 1 || !s->want) continue;
    *s = {0, s->want, 0, s->closes, l->gen};
    apply(l, s, static_cast<int>(fd));
  }
  return 0;
}

void flush_changes(epoll_loop* l) {
  for (auto [fd, s] : l->changes) {
    s->queued = 0;
    if (s->gen != l->gen || s->want || !s->kernel) continue;
    ctl(l, EPOLL_CTL_DEL, fd, 0);  // EBADF/ENOENT: closed meanwhile, already gone
    s->kernel = 0;
  }
  l->changes.clear();
}

[[gnu::hot]] void run_once(void* be, bool nowait) {
  auto* l = static_cast<epoll_loop*>(be);
  flush_changes(l);
  const int n = ::epoll_wait(l->epfd, l->events.data(), static_cast<int>(l->events.size()), wait_timeout_ms(*l, nowait));
  l->now_ns = monotonic_ns();
  const bool due = deadline_due(*l);
  bool leftover = false;
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = l->events[i];
    if (ev.data.u64 == 0) {
      drain_wakeup(*l);
      continue;
    }
    auto* s = reinterpret_cast<slot*>(static_cast<std::uintptr_t>(ev.data.u64 & slot_bits));  // (g)
    if (s->closes != static_cast<std::uint8_t>(ev.data.u64 >> closes_shift)) {  // (b)
      leftover = true;
      continue;
    }
    unsigned bits = 0;
    if (ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) bits |= backend::ev_read;
    if (ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) bits |= backend::ev_write;
    l->hooks.io(l->hooks.core, s, bits);
  }
  // A full array means more may be waiting: grow it (rare; never per event).
  if (n == static_cast<int>(l->events.size())) l->events.resize(l->events.size() * 2);
  if (leftover) rebuild(l);
  finish_iteration(*l, n > 0, due);
}

void fork_child(void* be) {
  auto* l = static_cast<epoll_loop*>(be);
  // Our references only: the parent's set and eventfd are untouched (e).
  close_wakeup(*l);
  open_wakeup(*l);
  rebuild(l);
}

const char* version() { return "built-in (epoll)"; }

}  // namespace

const backend::ops* epoll_ops() {
  static const backend::ops ops{
      backend::abi_version, sizeof(slot), "poll", version, create, destroy, io, io_forget,
      timer, idle, wakeup, run_once, stop, now, now_update, fork_child,
  };
  return &ops;
}

}  // namespace ae::detail::builtin
