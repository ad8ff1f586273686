// Adopting a libuv loop that the host program already runs.
#pragma once

#include <anyevent/loop.hpp>

#include <uv.h>

namespace ae {

/// Wrap the host's `uv_loop_t` as an ae::loop: ae watchers made on it fire inside the host's
/// own uv_run. The host keeps ownership (ae never closes the loop); once every ae watcher and
/// ae::loop handle on it is gone, nothing of ae's is left in it, so uv_run returns by itself
/// and uv_loop_close succeeds. Throws ae::error when the libuv backend module cannot load.
///
///   ae::loop l = ae::adopt(uv_default_loop());
///   ae::timer t(1s, [] { std::puts("tick"); }, l);
///   uv_run(uv_default_loop(), UV_RUN_DEFAULT);
inline loop adopt(uv_loop_t* l) { return detail::adopt_native("libuv", l); }

}  // namespace ae
