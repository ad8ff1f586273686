// ae::loop — a handle on one event loop, whichever library runs it underneath.
//
//   auto l = ae::loop::create();            // ANYEVENT_BACKEND, else the built-in "poll"
//   ae::timer t(1s, [&] { l.stop(); }, l);
//   l.run();
#pragma once

#include <anyevent/function.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ae {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = std::chrono::nanoseconds;
using wall_time = std::chrono::system_clock::time_point;

namespace detail {
struct loop_impl;
void loop_post(loop_impl*, unique_function<void()>&& f);
void loop_postpone(loop_impl*, unique_function<void()>&& f);
/// True while a callback of any loop runs on this thread.
bool in_callback() noexcept;
/// The object of loop `l` that `key` names, made by `make` on first use, destroyed (newest
/// first) when the last handle of `l` goes, before any watcher of `l` is torn down. For
/// modules that keep one object per loop (ae::dns's default resolver); loop thread only.
/// The object must not keep a handle of `l`, or the loop never goes.
void* loop_attachment(loop_impl* l, const void* key, unique_function<std::shared_ptr<void>()>&& make);
}  // namespace detail

class loop {
 public:
  /// An empty handle; use create() or default_loop().
  loop() noexcept = default;

  /// A new loop on `backend` ("poll", "libev", "libevent", "libuv", or a comma list: the
  /// first that loads wins). Empty: ANYEVENT_BACKEND, else "poll". Throws ae::error naming
  /// the available backends when the name is unknown or its module cannot be loaded, and
  /// ae::error(errc::too_many_loops) when 65,536 loops exist at once (docs/design.md).
  static loop create(std::string_view backend = {});

  /// The backend's name: "poll", "libev", "libevent" or "libuv".
  std::string_view backend() const;

  /// Run until stop() is called or no watcher is left that could wake the loop.
  void run();
  /// One iteration, blocking until something happens. Returns whether watchers remain.
  bool run_once();
  /// One iteration without blocking. Returns whether watchers remain.
  bool run_nowait();
  /// Make run() return after the current callback.
  void stop();

  /// The loop's time, cached when the current iteration started (steady clock).
  time_point now() const;
  void now_update();

  /// Thread-safe: run `f` on the loop's thread soon (in a later iteration).
  template <class F>
  void post(F&& f) {
    detail::loop_post(impl_.get(), unique_function<void()>(std::forward<F>(f)));
  }

  /// Call in the child after fork(): a new kernel polling set, the parent's left untouched.
  void fork_child();

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  detail::loop_impl* impl() const noexcept { return impl_.get(); }
  explicit loop(std::shared_ptr<detail::loop_impl> impl) noexcept : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<detail::loop_impl> impl_;
};

/// The process-wide loop, created on first use (ANYEVENT_BACKEND, else "poll"). When libev
/// or libuv is selected by name, it wraps that library's own default loop.
loop& default_loop();
/// Choose the default loop; only before default_loop() was first used (else ae::error).
void set_default_loop(loop l);
/// Names of the backends that can be loaded here, built-in first.
std::vector<std::string> available_backends();

/// One backend as the registry sees it, for ae-info.
struct backend_info {
  std::string name;
  bool available = false;
  std::string version;  // the library's version when available
  std::string where;    // "built in" or the module's path
  std::string error;    // why it is not available
};
std::vector<backend_info> describe_backends();
/// Which backend an empty loop::create() would pick, and why (one sentence).
std::string describe_selection();

/// The default loop's cached time, and its refresh.
time_point now();
void now_update();
/// Wall-clock time, uncached.
inline wall_time time() { return std::chrono::system_clock::now(); }

/// Run `f` once in the next iteration, without a handle.
template <class F>
void postpone(F&& f, loop& l = default_loop()) {
  detail::loop_postpone(l.impl(), unique_function<void()>(std::forward<F>(f)));
}

namespace detail {
/// Wrap a host's native loop (used by <anyevent/backends/*.hpp>).
loop adopt_native(std::string_view backend, void* native);
}  // namespace detail

}  // namespace ae
