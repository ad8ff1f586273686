// ae::idle — called once per iteration in which the loop has nothing else to do; while an
// idle watcher is active the loop never blocks. Real on every backend.
#pragma once

#include <anyevent/watcher.hpp>

namespace ae {

namespace detail {
block* idle_start(loop_impl*, unique_function<void()>&& cb);
}  // namespace detail

class idle : public detail::watcher {
 public:
  idle() noexcept = default;
  template <class F>
    requires std::is_invocable_v<F&>
  explicit idle(F&& cb, loop& l = default_loop())
      : basic_watcher(detail::idle_start(l.impl(), unique_function<void()>(std::forward<F>(cb)))) {}
};

}  // namespace ae
