// Baseline "raw-libuv": libuv used directly, with uv_poll_t for readiness (the counterpart
// of ae::io; uv_tcp_t streams, the counterpart of ae::handle, are raw_libuv_stream.cpp).
//
// 1. A uv_poll_t can be freed or re-initialised only after its close callback, which runs
//    in a later loop iteration. Re-arm ("destroy + create") therefore alternates between
//    two handles per fd: uv_close the current one, uv_poll_init + uv_poll_start the other,
//    which was closed one iteration earlier. uv_poll_stop on close costs an immediate
//    EPOLL_CTL_DEL (DESIGN §8); the start is registered in the next uv__io_poll.
// 2. Handles are user memory allocated inside the measured window, as for libev.
// 3. Teardown closes every handle and runs the loop until the close callbacks are done, so
//    uv_loop_close succeeds.
#include "workloads.hpp"

#include <uv.h>

namespace ae::bench {
namespace {

struct io_w {
  uv_poll_t h[2];  // note 1
  io_ctx* ctx;
  int idx;
  signed char cur;
  bool open;
};

struct timer_w {
  uv_timer_t t;
  timer_ctx* ctx;
};

struct pp_w {
  uv_poll_t h;
  pingpong_ctx* ctx;
};

void check(int rc, const char* what) {
  if (rc < 0) die(std::string(what) + ": " + uv_strerror(rc));
}

struct driver {
  uv_loop_t loop;
  std::unique_ptr<io_w[]> ws;
  int nws = 0;
  std::unique_ptr<timer_w[]> ts;
  int nts = 0;
  pp_w pp[2];
  bool pp_on = false;

  driver() { check(uv_loop_init(&loop), "uv_loop_init"); }
  ~driver() {
    for (int i = 0; i < nws; ++i)
      if (ws[i].open) io_stop(i);
    for (int i = 0; i < nts; ++i) uv_close(reinterpret_cast<uv_handle_t*>(&ts[i].t), nullptr);
    if (pp_on) {
      uv_close(reinterpret_cast<uv_handle_t*>(&pp[0].h), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&pp[1].h), nullptr);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    check(uv_loop_close(&loop), "uv_loop_close");
  }
  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;

  void reserve_io(int n) {
    ws = std::make_unique_for_overwrite<io_w[]>(n);
    nws = n;
    for (int i = 0; i < n; ++i) {
      ws[i].cur = 1;
      ws[i].open = false;
    }
  }
  void io_start(int i, int fd, io_ctx* c) {
    io_w& x = ws[i];
    x.ctx = c;
    x.idx = i;
    x.cur ^= 1;
    uv_poll_t* h = &x.h[x.cur];
    check(uv_poll_init(&loop, h, fd), "uv_poll_init");
    h->data = &x;
    check(uv_poll_start(h, UV_READABLE, [](uv_poll_t* h, int, int) {
      auto* x = static_cast<io_w*>(h->data);
      x->ctx->on_read(x->idx);
    }), "uv_poll_start");
    x.open = true;
  }
  void io_stop(int i) {
    io_w& x = ws[i];
    uv_close(reinterpret_cast<uv_handle_t*>(&x.h[x.cur]), nullptr);
    x.open = false;
  }
  void run_nowait() { uv_run(&loop, UV_RUN_NOWAIT); }
  void run_once() { uv_run(&loop, UV_RUN_ONCE); }

  void now_update() { uv_update_time(&loop); }
  void reserve_timers(int n) {
    ts = std::make_unique_for_overwrite<timer_w[]>(n);
    nts = 0;
  }
  void timer_start(int i, int ms, timer_ctx* c) {
    timer_w& x = ts[i];
    x.ctx = c;
    check(uv_timer_init(&loop, &x.t), "uv_timer_init");
    ++nts;
    x.t.data = &x;
    check(uv_timer_start(&x.t, [](uv_timer_t* t) {
      auto* x = static_cast<timer_w*>(t->data);
      if (++x->ctx->fired == x->ctx->total) uv_stop(t->loop);
    }, static_cast<std::uint64_t>(ms), 0), "uv_timer_start");
  }
  void run_timers(timer_ctx*) { uv_run(&loop, UV_RUN_DEFAULT); }

  void pingpong_start(pingpong_ctx* c) {
    pp[0].ctx = pp[1].ctx = c;
    check(uv_poll_init(&loop, &pp[0].h, c->client), "uv_poll_init");
    check(uv_poll_init(&loop, &pp[1].h, c->server), "uv_poll_init");
    pp[0].h.data = &pp[0];
    pp[1].h.data = &pp[1];
    pp_on = true;
    check(uv_poll_start(&pp[0].h, UV_READABLE, [](uv_poll_t* h, int, int) {
      static_cast<pp_w*>(h->data)->ctx->on_client_readable();
    }), "uv_poll_start");
    check(uv_poll_start(&pp[1].h, UV_READABLE, [](uv_poll_t* h, int, int) {
      static_cast<pp_w*>(h->data)->ctx->on_server_readable();
    }), "uv_poll_start");
  }
};

const register_raw reg{{"raw-libuv", run_io<driver>, run_timers<driver>, run_pingpong<driver>}};

}  // namespace
}  // namespace ae::bench
