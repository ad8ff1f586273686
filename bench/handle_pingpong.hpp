// The stream ping-pong through ae::handle, in AnyEvent's idiom: what ae-bench's `handle`
// workload measures (ae_handle.cpp) and what ae-budget counts allocations and syscalls of,
// so both look at the same code.
//
// 1. Each handle owns a dup() of its end of pingpong_ctx's connection (ae::handle closes
//    the ae::fd it is given; pingpong_ctx closes the originals). .no_delay as pingpong_ctx
//    set it; the handle's other socket option (SO_OOBINLINE) changes nothing another side
//    relies on.
// 2. A round trip: the client's push_write(64 bytes) -> the server's queued ae::chunk(64)
//    read fires, push_write()s the 64 bytes back and queues the next chunk(64) read -> the
//    client's chunk(64) read counts the round trip, sends the next message (pingpong_ctx::
//    start() sends the first, as for every side) and queues its next read. Each callback
//    is at most one pointer, so a queued read keeps its callable in place (read_fn holds six)
//    and the queue is a ring: nothing is allocated per round trip once the buffers have
//    grown (ae-budget checks it).
// 3. The client queues its next read after the last round trip too, so the read watchers
//    stay as they are from one run to the next; a run ends with every byte read.
#pragma once

#include "bench.hpp"

#include <anyevent/handle.hpp>

#include <memory>
#include <string_view>
#include <unistd.h>

namespace ae::bench {

struct handle_server_read {
  void operator()(ae::handle& h, std::string_view data) const {
    h.push_write(data);
    h.push_read(ae::chunk(message_size), *this);
  }
};

struct handle_client_read {
  pingpong_ctx* ctx;
  void operator()(ae::handle& h, std::string_view) const {
    static const char message[message_size] = "ae-bench ping-pong message";
    if (++ctx->round_trips < ctx->total) h.push_write(std::string_view(message, message_size));
    h.push_read(ae::chunk(message_size), *this);
  }
};

/// The two handles of one ping-pong over `ctx`'s connection, reads queued (note 1).
struct handle_pair {
  std::shared_ptr<ae::handle> client, server;

  handle_pair(pingpong_ctx& ctx, ae::loop& l) {
    client = make(ctx.client, ctx, l);
    server = make(ctx.server, ctx, l);
    server->push_read(ae::chunk(message_size), handle_server_read{});
    client->push_read(ae::chunk(message_size), handle_client_read{&ctx});
  }
  ~handle_pair() {
    client->destroy();
    server->destroy();
  }
  handle_pair(const handle_pair&) = delete;
  handle_pair& operator=(const handle_pair&) = delete;

 private:
  static std::shared_ptr<ae::handle> make(int fd, pingpong_ctx& ctx, ae::loop& l) {
    const int own = ::dup(fd);
    if (own < 0) die("dup failed");
    return ae::handle::create({.fd = ae::fd(own),
                               .on_error = [c = &ctx](ae::handle&, bool, std::error_code, std::string_view) {
                                 ++c->failures;
                               },
                               .no_delay = true},
                              l);
  }
};

}  // namespace ae::bench
