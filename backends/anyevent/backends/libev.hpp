// Adopting a libev loop that the host program already runs.
#pragma once

#include <anyevent/loop.hpp>

#include <ev.h>

namespace ae {

/// Wrap the host's `struct ev_loop*` as an ae::loop: ae watchers made on it fire inside the
/// host's own ev_run. The host keeps ownership (ae never destroys the loop); once every ae
/// watcher on it is gone, nothing of ae's keeps it alive, so ev_run returns by itself, and
/// once the last ae::loop handle is gone too nothing of ae's is registered in it. Throws
/// ae::error when the libev backend module cannot load. A program that links libev cannot
/// also use the libevent backend (libev exports libevent's function names; docs/backends.md).
///
///   ae::loop l = ae::adopt(EV_DEFAULT);
///   ae::timer t(1s, [] { std::puts("tick"); }, l);
///   ev_run(EV_DEFAULT, 0);
inline loop adopt(struct ev_loop* l) { return detail::adopt_native("libev", l); }

}  // namespace ae
