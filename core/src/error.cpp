// The one table of anyevent's errors; the category and ae-info's listing read it.
#include <anyevent/error.hpp>

#include <array>

namespace ae {

namespace {

constexpr std::array<error_info, 10> table{{
    {errc::unknown_backend, "unknown_backend", "no backend of that name; see ae-info for the available ones"},
    {errc::backend_unavailable, "backend_unavailable", "the backend's module could not be loaded"},
    {errc::backend_abi_mismatch, "backend_abi_mismatch", "the backend module was built for another anyevent ABI"},
    {errc::backend_failed, "backend_failed", "the backend could not create a loop"},
    {errc::default_loop_exists, "default_loop_exists", "set_default_loop() must be called before default_loop() is first used"},
    {errc::recursive_wait, "recursive_wait", "a blocking wait inside a callback cannot re-enter the loop"},
    {errc::invalid_duration, "invalid_duration", "durations must be finite and not negative"},
    {errc::invalid_signal, "invalid_signal", "signal number out of range, or a signal that cannot be caught"},
    {errc::not_a_child, "not_a_child", "the pid is not a child of this process"},
    {errc::too_many_loops, "too_many_loops", "65,536 loops exist at once; destroy loops (and their watchers) before making more"},
}};

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "anyevent"; }
  std::string message(int ev) const override {
    for (const auto& e : table)
      if (static_cast<int>(e.code) == ev) return e.message;
    return "unknown anyevent error " + std::to_string(ev);
  }
};

}  // namespace

std::span<const error_info> error_table() noexcept { return table; }

const std::error_category& error_category() noexcept {
  static const category c;
  return c;
}

}  // namespace ae
