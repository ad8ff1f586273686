// ae-bench without handle/: the ae side has no stream ping-pong (ae_handle.cpp has it).
#include "bench.hpp"

namespace ae::bench {

stream_pingpong_fn ae_handle_pingpong(const std::string&) { return nullptr; }

}  // namespace ae::bench
