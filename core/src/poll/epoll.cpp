// The built-in backend on Linux: epoll.
//
// (a) Lazy registration diff: lowering an fd's interest to 0 only queues the EPOLL_CTL_DEL;
//     the queue is applied just before the next epoll_wait. A watcher destroyed and
//     re-created for the same fd and mask within one iteration therefore costs no syscall.
//     Raising or changing interest is done at once, so errors (EBADF, EPERM) reach the
//     caller of the watcher's constructor.
// (b) A closed fd leaves epoll by itself only when its last duplicate closes; if the number
//     is reused in the same iteration the kernel has no registration although we think we
//     do. ae::fd announces closes (io_forget deletes the registration while the fd is still
//     open); for a raw close() of a watched fd, stop its watchers and let one iteration pass
//     first (docs/special-problems.md).
// (c) Regular files: epoll_ctl answers EPERM; the core then reports them always ready.
// (d) EPOLLERR and EPOLLHUP are reported as both read and write readiness, as libev does, so
//     the watcher's next read or write sees the error.
// (e) fork: the epoll set is shared with the parent. The child makes a new one and registers
//     every interest there; it never touches the inherited set (a DEL there would remove the
//     parent's registration).
// (f) Each slot carries the generation of the epoll set it was registered in, so after a
//     fork every slot reads as "not registered" without being visited.
#include "builtin.hpp"

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
  std::uint32_t gen;
};
static_assert(sizeof(slot) == 8);

struct epoll_loop : base {
  int epfd = -1;
  std::uint32_t gen = 1;
  std::vector<std::pair<int, slot*>> changes;  // (a)
  std::vector<slot*> by_fd;                    // (e): every slot ever used, by fd
  std::vector<epoll_event> events = std::vector<epoll_event>(64);
};

std::uint32_t to_epoll(unsigned mask) {
  return (mask & backend::ev_read ? EPOLLIN : 0u) | (mask & backend::ev_write ? EPOLLOUT : 0u);
}

int ctl(epoll_loop* l, int op, int fd, unsigned mask) {
  epoll_event ev{};
  ev.events = to_epoll(mask);
  ev.data.fd = fd;
  return ::epoll_ctl(l->epfd, op, fd, &ev) < 0 ? errno : 0;
}

/// Register `want` for fd in the current set; tolerates a stale idea of what is there.
int apply(epoll_loop* l, slot* s, int fd) {
  int err = ctl(l, s->kernel ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, s->want);
  if (err == EEXIST) err = ctl(l, EPOLL_CTL_MOD, fd, s->want);
  else if (err == ENOENT) err = ctl(l, EPOLL_CTL_ADD, fd, s->want);
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

int io(void* be, void* sp, int fd, unsigned, unsigned mask) {
  auto* l = static_cast<epoll_loop*>(be);
  auto* s = static_cast<slot*>(sp);
  if (s->gen != l->gen) *s = {0, 0, 0, l->gen};
  if (static_cast<std::size_t>(fd) >= l->by_fd.size()) l->by_fd.resize(fd + 1 + fd / 2);
  l->by_fd[fd] = s;
  s->want = static_cast<std::uint8_t>(mask);
  if (mask == s->kernel) return 0;
  if (mask == 0) {
    if (!s->queued) {
      s->queued = 1;
      l->changes.emplace_back(fd, s);
    }
    return 0;
  }
  return apply(l, s, fd);
}

void io_forget(void* be, void* sp, int fd) {
  auto* l = static_cast<epoll_loop*>(be);
  auto* s = static_cast<slot*>(sp);
  if (s->gen == l->gen && s->kernel && !s->want) {
    ctl(l, EPOLL_CTL_DEL, fd, 0);
    s->kernel = 0;
  }
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

void run_once(void* be, bool nowait) {
  auto* l = static_cast<epoll_loop*>(be);
  flush_changes(l);
  const int n = ::epoll_wait(l->epfd, l->events.data(), static_cast<int>(l->events.size()), wait_timeout_ms(*l, nowait));
  l->now_ns = monotonic_ns();
  const bool due = deadline_due(*l);
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = l->events[i];
    const int fd = ev.data.fd;
    if (fd == l->wake_fd) {
      drain_wakeup(*l);
      continue;
    }
    unsigned bits = 0;
    if (ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) bits |= backend::ev_read;
    if (ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) bits |= backend::ev_write;
    l->hooks.io(l->hooks.core, fd, bits);
  }
  // A full array means more may be waiting: grow it (rare; never per event).
  if (n == static_cast<int>(l->events.size())) l->events.resize(l->events.size() * 2);
  finish_iteration(*l, n > 0, due);
}

void fork_child(void* be) {
  auto* l = static_cast<epoll_loop*>(be);
  ::close(l->epfd);  // our reference only; the parent's set is untouched
  close_wakeup(*l);
  l->epfd = ::epoll_create1(EPOLL_CLOEXEC);
  open_wakeup(*l);
  ++l->gen;
  ctl(l, EPOLL_CTL_ADD, l->wake_fd, backend::ev_read);
  for (auto& c : l->changes) c.second->queued = 0;
  l->changes.clear();
  for (std::size_t fd = 0; fd < l->by_fd.size(); ++fd) {
    slot* s = l->by_fd[fd];
    if (!s || s->gen != l->gen - 1 || !s->want) continue;
    const std::uint8_t want = s->want;
    *s = {0, want, 0, l->gen};
    apply(l, s, static_cast<int>(fd));
  }
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
