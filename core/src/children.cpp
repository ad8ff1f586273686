// Child watchers, emulated once in the core for every backend.
//
// 1. A watcher for one pid reaps only that pid: on Linux >= 5.3 it watches a pidfd (readable
//    once the child exits) with the core's own io watcher and calls waitpid(pid, WNOHANG);
//    elsewhere a SIGCHLD watcher calls waitpid(pid, WNOHANG) for each watched pid. Children
//    that other code in the process forked are never touched.
// 2. A pid-0 ("any child") watcher reaps with waitpid(-1) on SIGCHLD: that takes every child
//    that exits, including other code's; the header says so.
// 3. The exit is reported to every watcher of that pid and to every pid-0 watcher. A pid
//    watcher is done after its report; a pid-0 watcher goes on.
// 4. A pid that is not our child is refused at once (waitid with WNOWAIT answers ECHILD),
//    instead of a watcher that would never fire.
#include "loop_impl.hpp"

#include <anyevent/error.hpp>
#include <anyevent/fd.hpp>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace ae::detail {

block* signal_start(loop_impl*, int signum, unique_function<void()>&& cb);

namespace {

/// Stop one of the core's own watchers, which were not counted as keeping the loop alive.
void stop_internal(loop_impl* l, block* b) noexcept {
  ++l->alive;
  block_stop(b);
}

void retire(loop_impl* l, child_block* c) noexcept {
  c->active = false;
  --l->alive;
  if (c->pidfd_io) stop_internal(l, std::exchange(c->pidfd_io, nullptr));
  if (c->pidfd >= 0) {
    fd_closing(c->pidfd);  // the backend may keep its registration lazily: see fd.hpp
    ::close(c->pidfd);
    c->pidfd = -1;
  } else if (c->pid > 0) {
    --l->sigchld_users;
  }
}

void deliver(loop_impl* l, pid_t pid, int status) {
  l->children.dispatch([&](list_block* b) {
    auto* c = static_cast<child_block*>(b);
    if (!c->active || (c->pid != pid && c->pid != 0)) return;
    if (c->pid != 0) retire(l, c);
    l->call(c, pid, status);
  });
}

void release_sigchld(loop_impl* l) noexcept {
  if (l->sigchld_users == 0 && l->sigchld) stop_internal(l, std::exchange(l->sigchld, nullptr));
}

void on_sigchld(loop_impl* l) {
  bool any = false;
  for (auto* b = l->children.head; b; b = b->next)
    if (b->active && static_cast<child_block*>(b)->pid == 0) any = true;
  int status = 0;
  if (any) {
    for (pid_t p; (p = ::waitpid(-1, &status, WNOHANG)) > 0;) deliver(l, p, status);
  } else {
    std::vector<pid_t> watched;
    for (auto* b = l->children.head; b; b = b->next) {
      auto* c = static_cast<child_block*>(b);
      if (c->active && c->pidfd < 0) watched.push_back(c->pid);
    }
    for (pid_t p : watched)
      if (::waitpid(p, &status, WNOHANG) == p) deliver(l, p, status);
  }
  release_sigchld(l);
}

void use_sigchld(loop_impl* l) {
  if (l->sigchld_users++ == 0 && !l->sigchld) {
    l->sigchld = signal_start(l, SIGCHLD, [l] { on_sigchld(l); });
    --l->alive;  // the child watchers themselves keep the loop alive
  }
}

}  // namespace

block* child_start(loop_impl* l, pid_t pid, unique_function<void(pid_t, int)>&& cb) {
  if (pid < 0) throw error(make_error_code(errc::not_a_child), "ae::child: pid must be positive, or 0 for any child");
  if (pid > 0) {
    siginfo_t si{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
      throw error(make_error_code(errc::not_a_child),
                  "ae::child: pid " + std::to_string(pid) + " is not a child of this process");
  }
  auto* c = new child_block(l, kind::child);
  c->pid = pid;
  c->cb = std::move(cb);
  try {
    if (pid > 0) c->pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (c->pidfd >= 0) {
      ::fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
      c->pidfd_io = make_io(l, c->pidfd, poll::read, [l, c](poll) {
        int status = 0;
        if (::waitpid(c->pid, &status, WNOHANG) == c->pid) deliver(l, c->pid, status);
      });
      --l->alive;  // counted once, as the child watcher
    } else {
      use_sigchld(l);
    }
  } catch (...) {
    if (c->pidfd >= 0) {
      fd_closing(c->pidfd);
      ::close(c->pidfd);
    }
    delete c;
    throw;
  }
  l->children.push_front(c);
  ++l->alive;
  ++l->blocks;
  if (c->pidfd < 0) {
    // The child may have exited before SIGCHLD was watched: look once, next iteration
    // (AnyEvent makes the same waitpid round when a child watcher starts).
    loop_postpone(l, [l] { on_sigchld(l); });
  }
  return c;
}

void child_stop(child_block* c) noexcept {
  loop_impl* l = c->loop();
  if (c->active) {
    if (c->pid == 0) {
      c->active = false;
      --l->alive;
      --l->sigchld_users;
    } else {
      retire(l, c);
    }
  }
  l->children.erase(c);
  release_sigchld(l);
}

}  // namespace ae::detail
