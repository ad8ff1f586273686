// ae::condvar<T> — AnyEvent's condition variable: one side send()s a value (or croak()s an
// error), the other recv()s it or registers cb(). Copies share one state.
//
//   ae::condvar<int> done;
//   ae::timer t(1s, [=]() mutable { done.send(42); });
//   int v = done.recv();                  // runs the loop until sent
//
// recv() from inside a callback throws ae::recursive_wait on every backend: use cb().
// begin()/end() count outstanding work; when the count drops to zero the group callback runs
// (or, without one, send() is called), as in AnyEvent.
#pragma once

#include <anyevent/error.hpp>
#include <anyevent/loop.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace ae {

template <class T = void>
class condvar {
  using stored = std::conditional_t<std::is_void_v<T>, bool, T>;

  struct state {
    explicit state(loop& l) : l(l) {}
    loop l;
    bool ready = false;
    std::optional<stored> value;
    std::exception_ptr error;
    long counter = 0;
    std::function<void(condvar&)> group_cb;
    std::function<void(condvar&)> ready_cb;
  };

 public:
  explicit condvar(loop& l = default_loop()) : s_(std::make_shared<state>(l)) {}

  /// Mark ready with a value; a second send() is ignored.
  template <class U = T>
    requires(!std::is_void_v<U>)
  void send(U value) {
    if (s_->ready) return;
    s_->value.emplace(std::move(value));
    make_ready();
  }
  template <class U = T>
    requires std::is_void_v<U>
  void send() {
    if (s_->ready) return;
    s_->value.emplace(true);
    make_ready();
  }

  /// Mark ready with an error; recv() rethrows it.
  void croak(std::exception_ptr e) {
    if (s_->ready) return;
    s_->error = std::move(e);
    make_ready();
  }
  void croak(std::string message) { croak(std::make_exception_ptr(std::runtime_error(std::move(message)))); }

  bool ready() const noexcept { return s_->ready; }

  /// Run the loop until ready, then return the value (or rethrow the croak). Throws
  /// ae::recursive_wait when called from inside a callback.
  T recv() {
    if (!s_->ready) {
      if (detail::in_callback()) throw recursive_wait();
      while (!s_->ready) s_->l.run_once();
    }
    if (s_->error) std::rethrow_exception(s_->error);
    if constexpr (!std::is_void_v<T>) return *s_->value;
  }

  /// One more outstanding piece of work; `group_cb` (if given) replaces the group callback.
  void begin(std::function<void(condvar&)> group_cb = {}) {
    ++s_->counter;
    if (group_cb) s_->group_cb = std::move(group_cb);
  }
  /// One piece done; at zero the group callback runs, or send() without one.
  void end() {
    if (--s_->counter > 0) return;
    if (s_->group_cb) {
      auto g = s_->group_cb;  // may re-begin and replace itself
      g(*this);
    } else if constexpr (std::is_void_v<T>) {
      send();
    } else if constexpr (std::is_default_constructible_v<T>) {
      send(T{});
    }
  }

  /// Call `f` once ready (at once, if already).
  void cb(std::function<void(condvar&)> f) {
    if (s_->ready) {
      f(*this);
      return;
    }
    s_->ready_cb = std::move(f);
  }

 private:
  void make_ready() {
    s_->ready = true;
    if (auto f = std::move(s_->ready_cb)) f(*this);
  }
  std::shared_ptr<state> s_;
};

}  // namespace ae
