// The built-in backend's portable variant: poll(2) (ANYEVENT_POLL_METHOD=poll on Linux).
//
// (a) One pollfd per watched fd in a dense array; entry 0 is the wakeup eventfd. A slot holds
//     the index + 1 of its fd's entry. Removal is lazy, as in the epoll variant: the entry is
//     parked (fd negated, so poll skips it) and compacted away before the next poll, so a
//     watcher destroyed and re-created for the same fd in one iteration costs no syscall.
//     Parked entries are counted: when every one was re-armed, nothing is compacted and the
//     array is not scanned (a re-arm costs a few stores, as in a hand-written poll loop).
// (b) During dispatch the array may change under us. revents is cleared before each call, so
//     an entry swapped into an unvisited index is not reported twice; one swapped into a
//     visited index waits for the next iteration (level-triggered, nothing is lost).
// (c) poll has no registration, so EBADF is checked when an fd is first watched; POLLNVAL
//     later (closed under a live watcher) is reported as read|write, like an error.
// (d) Regular files are always ready, as POSIX says; nothing to emulate here.
// (e) fork: nothing is shared with the parent but the eventfd, which is replaced.
#include "builtin.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace ae::detail::builtin {

namespace {

struct slot {
  std::uint32_t index;  // 1 + position in pfds; 0: not in the array
};

struct poll_loop : base {
  std::vector<pollfd> pfds;
  std::vector<slot*> owners;  // parallel to pfds
  std::size_t parked = 0;     // entries waiting for compaction
};

/// Drop parked entries (fd < 0), swapping the last entry in.
void compact(poll_loop* l) {
  for (std::size_t i = 1; i < l->pfds.size();) {
    if (l->pfds[i].fd >= 0) {
      ++i;
      continue;
    }
    l->owners[i]->index = 0;
    const std::size_t last = l->pfds.size() - 1;
    if (i != last) {
      l->pfds[i] = l->pfds[last];
      l->owners[i] = l->owners[last];
      l->owners[i]->index = static_cast<std::uint32_t>(i + 1);
    }
    l->pfds.pop_back();
    l->owners.pop_back();
  }
  l->parked = 0;
}

short to_poll(unsigned mask) {
  return static_cast<short>((mask & backend::ev_read ? POLLIN : 0) | (mask & backend::ev_write ? POLLOUT : 0));
}

void* create(const backend::create_args& a, char* err, std::size_t errlen) {
  auto* l = new poll_loop;
  l->hooks = *a.hooks;
  l->now_ns = monotonic_ns();
  if (int e = open_wakeup(*l)) {
    std::snprintf(err, errlen, "eventfd: %s", std::strerror(e));
    delete l;
    return nullptr;
  }
  l->pfds.push_back({l->wake_fd, POLLIN, 0});
  l->owners.push_back(nullptr);
  return l;
}

void destroy(void* be) {
  auto* l = static_cast<poll_loop*>(be);
  close_wakeup(*l);
  delete l;
}

/// An fd that has no entry gets one (c). Out of line: io() stays a few loads and stores.
[[gnu::noinline]] int add(poll_loop* l, slot* s, int fd, unsigned mask) {
  if (::fcntl(fd, F_GETFD) < 0) return errno;
  l->pfds.push_back({fd, to_poll(mask), 0});
  l->owners.push_back(s);
  s->index = static_cast<std::uint32_t>(l->pfds.size());
  return 0;
}

int io(void* be, void* sp, int fd, unsigned, unsigned mask) {
  auto* l = static_cast<poll_loop*>(be);
  auto* s = static_cast<slot*>(sp);
  if (!s->index) [[unlikely]]
    return mask ? add(l, s, fd, mask) : 0;
  pollfd& p = l->pfds[s->index - 1];
  if (mask == 0) {
    if (p.fd >= 0) ++l->parked;
    p.fd = -fd - 1;  // parked: poll skips negative fds
    p.revents = 0;
    return 0;
  }
  if (p.fd < 0) {  // re-armed before compaction: no syscall (a)
    p.fd = fd;
    --l->parked;
  }
  p.events = to_poll(mask);
  return 0;
}

[[gnu::hot]] void run_once(void* be, bool nowait) {
  auto* l = static_cast<poll_loop*>(be);
  if (l->parked) compact(l);
  const int n = ::poll(l->pfds.data(), l->pfds.size(), wait_timeout_ms(*l, nowait));
  l->now_ns = monotonic_ns();
  const bool due = deadline_due(*l);
  bool dispatched = false;
  if (n > 0) {
    for (std::size_t i = 0; i < l->pfds.size(); ++i) {
      const short re = l->pfds[i].revents;
      if (!re || l->pfds[i].fd < 0) continue;
      l->pfds[i].revents = 0;
      if (i == 0) {
        drain_wakeup(*l);
        dispatched = true;
        continue;
      }
      unsigned bits = 0;
      if (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) bits |= backend::ev_read;
      if (re & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) bits |= backend::ev_write;
      dispatched = true;
      l->hooks.io(l->hooks.core, l->owners[i], bits);
    }
  }
  finish_iteration(*l, dispatched, due);
}

void fork_child(void* be) {
  auto* l = static_cast<poll_loop*>(be);
  close_wakeup(*l);
  open_wakeup(*l);
  l->pfds[0].fd = l->wake_fd;
}

const char* version() { return "built-in (poll(2))"; }

}  // namespace

const backend::ops* posix_poll_ops() {
  static const backend::ops ops{
      backend::abi_version, sizeof(slot), "poll", version, create, destroy, io, nullptr,
      timer, idle, wakeup, run_once, stop, now, now_update, fork_child,
  };
  return &ops;
}

}  // namespace ae::detail::builtin
