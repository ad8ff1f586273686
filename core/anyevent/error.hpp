// Errors of anyevent: one table (error_table()) from which the std::error_category, its
// messages and ae-info's listing all derive. Failures the operating system reports keep
// their errno and use std::generic_category(), as AnyEvent sets $!.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <system_error>

namespace ae {

enum class errc {
  unknown_backend = 1,      // a name in ANYEVENT_BACKEND / loop::create is not a backend
  backend_unavailable,      // the backend's module could not be loaded
  backend_abi_mismatch,     // the module was built for another backend ABI
  backend_failed,           // the backend could not create a loop
  default_loop_exists,      // set_default_loop() after default_loop() was used
  recursive_wait,           // condvar::recv() from inside a callback
  invalid_duration,         // negative, NaN or infinite duration
  invalid_signal,           // signal number out of range or not catchable
  not_a_child,              // child watcher for a pid this process did not fork
  too_many_loops,           // 65,536 loops exist at once
};

struct error_info {
  errc code;
  const char* name;     // "unknown_backend"
  const char* message;  // one sentence that says what is wrong
};

/// Every anyevent error, in enum order.
std::span<const error_info> error_table() noexcept;
const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

/// Thrown for errors found before anything started; what() says what to do.
class error : public std::system_error {
 public:
  error(std::error_code ec, const std::string& what) : std::system_error(ec, what) {}
};

/// Thrown by condvar::recv() when called from inside a callback: the loop cannot be
/// re-entered (libuv and libevent cannot; the rule is the same on every backend).
class recursive_wait : public error {
 public:
  recursive_wait() : error(make_error_code(errc::recursive_wait),
                           "ae::condvar::recv() called from inside a callback; use cb() instead") {}
};

}  // namespace ae

template <>
struct std::is_error_code_enum<ae::errc> : std::true_type {};
