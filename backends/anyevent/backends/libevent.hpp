// Adopting a libevent event_base that the host program already runs.
#pragma once

#include <anyevent/loop.hpp>

#include <event2/event.h>

namespace ae {

/// Wrap the host's `event_base` as an ae::loop: ae watchers made on it fire inside the host's
/// own event_base_dispatch / event_base_loop. The host keeps ownership (ae never frees the
/// base); once every ae watcher and ae::loop handle on it is gone, nothing of ae's is left in
/// it, so event_base_dispatch returns by itself and event_base_free is clean. Throws
/// ae::error when the libevent backend module cannot load. A program that links libev cannot
/// use this (libev exports libevent's function names; docs/backends.md).
///
///   ae::loop l = ae::adopt(base);
///   ae::timer t(1s, [] { std::puts("tick"); }, l);
///   event_base_dispatch(base);
inline loop adopt(event_base* b) { return detail::adopt_native("libevent", b); }

}  // namespace ae
