// The measured side of the stream ping-pong (ae-bench's `handle` workload): two ae::handle
// objects over pingpong_ctx's connection on a loop of the column's backend, against
// raw-libuv-stream (DESIGN §7: ae::handle >= 1.0x raw libuv streams on the built-in loop,
// >= 0.9x on any backend). The handles and their callbacks are handle_pingpong.hpp's.
#include "handle_pingpong.hpp"
#include "workloads.hpp"

#include <optional>

namespace ae::bench {
namespace {

std::string backend_name = "poll";

struct driver {
  ae::loop l;
  std::optional<handle_pair> hp;  // destroyed before the loop

  driver() : l(ae::loop::create(backend_name)) {}
  void pingpong_start(pingpong_ctx* c) { hp.emplace(*c, l); }
  void run_nowait() { l.run_nowait(); }
  void run_once() { l.run_once(); }
};

}  // namespace

stream_pingpong_fn ae_handle_pingpong(const std::string& backend) {
  backend_name = backend;
  return run_pingpong<driver>;
}

}  // namespace ae::bench
