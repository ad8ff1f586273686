// ae::log — where anyevent's diagnostics go. A library must never write to stderr behind the
// program's back: the default sink prints warnings and worse to stderr; ANYEVENT_VERBOSE
// (0–9, AnyEvent's levels) moves the threshold; set_sink() sends everything elsewhere.
#pragma once

#include <functional>
#include <string_view>

namespace ae::log {

enum class level : int { fatal = 1, alert, critical, error, warn, note, info, debug, trace };

using sink = std::function<void(level, std::string_view message)>;

/// Replace the sink; an empty function restores the default (stderr).
void set_sink(sink s);
/// Messages at or below this level are passed to the sink (default 5 = warn, or ANYEVENT_VERBOSE).
void set_threshold(int verbosity);
int threshold() noexcept;
inline bool enabled(level l) noexcept { return static_cast<int>(l) <= threshold(); }
/// Send a message to the sink if its level is enabled.
void write(level l, std::string_view message);

}  // namespace ae::log
