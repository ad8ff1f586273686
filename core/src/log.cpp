// ae::log: the default sink writes warnings and worse to stderr; ANYEVENT_VERBOSE moves the
// threshold (read once, ignored in setuid programs).
#include <anyevent/log.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace ae::log {

namespace {

constexpr const char* names[] = {"", "fatal", "alert", "critical", "error", "warn", "note", "info", "debug", "trace"};

int initial_threshold() {
  if (const char* v = ::secure_getenv("ANYEVENT_VERBOSE")) {
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (end != v && *end == '\0' && n >= 0 && n <= 9) return static_cast<int>(n);
  }
  return static_cast<int>(level::warn);
}

std::atomic<int>& threshold_ref() {
  static std::atomic<int> t{initial_threshold()};
  return t;
}

std::mutex sink_mutex;
sink current_sink;

}  // namespace

void set_sink(sink s) {
  std::lock_guard lock(sink_mutex);
  current_sink = std::move(s);
}

void set_threshold(int verbosity) { threshold_ref().store(verbosity < 0 ? 0 : verbosity > 9 ? 9 : verbosity); }

int threshold() noexcept { return threshold_ref().load(std::memory_order_relaxed); }

void write(level l, std::string_view message) {
  if (!enabled(l)) return;
  std::lock_guard lock(sink_mutex);
  if (current_sink) {
    current_sink(l, message);
    return;
  }
  const int i = static_cast<int>(l);
  std::fprintf(stderr, "anyevent: %s: %.*s\n", (i >= 1 && i <= 9) ? names[i] : "?",
               static_cast<int>(message.size()), message.data());
}

}  // namespace ae::log
