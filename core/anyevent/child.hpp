// ae::child — the exit of a child process, with its waitpid() status.
//
//   ae::child c(pid, [&](pid_t pid, int status) { … WEXITSTATUS(status) … });
//
// A watcher for a given pid reaps only that pid (pidfd on Linux, else SIGCHLD + waitpid for
// watched pids), so children owned by other code in the process are left alone. A watcher
// for pid 0 ("any child") reaps every child that exits while it is active, including ones
// other code forked. A pid that is not our child is refused (ae::error, errc::not_a_child).
#pragma once

#include <anyevent/watcher.hpp>

#include <sys/types.h>

namespace ae {

namespace detail {
block* child_start(loop_impl*, pid_t pid, unique_function<void(pid_t, int)>&& cb);
}  // namespace detail

class child : public detail::watcher {
 public:
  child() noexcept = default;
  template <class F>
    requires std::is_invocable_v<F&, pid_t, int>
  child(pid_t pid, F&& cb, loop& l = default_loop())
      : basic_watcher(detail::child_start(l.impl(), pid, unique_function<void(pid_t, int)>(std::forward<F>(cb)))) {}
};

}  // namespace ae
