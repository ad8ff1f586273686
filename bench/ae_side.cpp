// The measured side: the same workloads through anyevent's public API on one backend.
//
// 1. The loop is created by name (ae::loop::create("libev") …); the built-in loop's variant
//    is chosen by ANYEVENT_POLL_METHOD, which the core reads once per process, so the
//    runner gives the "poll" and "poll-posix" columns separate processes.
// 2. Callbacks capture what the raw sides keep beside their watcher structs (context
//    pointer and index: 16 bytes, inside unique_function's inline storage).
// 3. Handles live in vectors reserved inside the measured window (bench.hpp note 1).
#include "workloads.hpp"

#include <anyevent/io.hpp>
#include <anyevent/loop.hpp>
#include <anyevent/timer.hpp>

#include <exception>

#include <chrono>

namespace ae::bench {
namespace {

std::string backend_name = "poll";

struct driver {
  ae::loop l;
  std::vector<ae::io> ws;
  std::vector<ae::timer> ts;

  driver() : l(ae::loop::create(backend_name)) {}

  void reserve_io(int n) { ws.resize(n); }
  void io_start(int i, int fd, io_ctx* c) {
    ws[i] = ae::io(fd, ae::poll::read, [c, i] { c->on_read(i); }, l);
  }
  void io_stop(int i) { ws[i].stop(); }
  void run_nowait() { l.run_nowait(); }
  void run_once() { l.run_once(); }

  void now_update() { l.now_update(); }
  void reserve_timers(int n) { ts.reserve(n); }
  void timer_start(int, int ms, timer_ctx* c) {
    ts.emplace_back(std::chrono::milliseconds(ms), [c, this] {
      if (++c->fired == c->total) l.stop();
    }, l);
  }
  void run_timers(timer_ctx*) { l.run(); }

  void pingpong_start(pingpong_ctx* c) {
    ws.emplace_back(c->client, ae::poll::read, [c] { c->on_client_readable(); }, l);
    ws.emplace_back(c->server, ae::poll::read, [c] { c->on_server_readable(); }, l);
  }
};

}  // namespace

std::string ae_probe(const std::string& column) {
  try {
    auto l = ae::loop::create(column == "poll-posix" ? "poll" : column);
    for (const auto& b : ae::describe_backends())
      if (b.name == l.backend()) return "ok " + b.version + " (" + b.where + ")";
    return "ok";
  } catch (const std::exception& e) {
    return e.what();
  }
}

side ae_side(const std::string& column) {
  backend_name = column == "poll-posix" ? "poll" : column;
  return {"ae/" + column, run_io<driver>, run_timers<driver>, run_pingpong<driver>, ae_handle_pingpong(backend_name)};
}

}  // namespace ae::bench
