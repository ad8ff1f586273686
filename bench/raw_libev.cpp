// Baseline "raw-libev": libev used directly, as its manual recommends.
//
// 1. ev_loop_new(EVFLAG_AUTO) picks epoll on Linux (linuxaio and io_uring are not in the
//    recommended set); the backend in use is checked, so a surprise shows up as an error.
// 2. Watcher structs are user memory, with the user data beside them (the "embed the
//    watcher in your struct" idiom of libev's manual), allocated inside the measured window.
// 3. Re-arm is ev_io_stop + ev_io_init + ev_io_start: a destroyed and re-created watcher.
//    ev_io_init marks the fd for a backend_modify, so libev pays one epoll_ctl per re-arm in
//    the next iteration (DESIGN §8); restarting without init would pay none, but that is not
//    "destroy + create".
// 4. Timers use ev_timer with repeat 0 and a relative timeout from ev_now().
#include "workloads.hpp"

#include <ev.h>

namespace ae::bench {
namespace {

struct io_w {
  ev_io w;  // first: the callback casts back
  io_ctx* ctx;
  int idx;
};

struct timer_w {
  ev_timer t;
  timer_ctx* ctx;
};

struct pp_w {
  ev_io w;
  pingpong_ctx* ctx;
};

struct driver {
  struct ev_loop* loop;
  std::unique_ptr<io_w[]> ws;
  std::unique_ptr<timer_w[]> ts;
  pp_w pp[2];

  driver() : loop(ev_loop_new(EVFLAG_AUTO)) {
    if (!loop) die("ev_loop_new failed");
    if (ev_backend(loop) != EVBACKEND_EPOLL) die("libev did not pick epoll");
  }
  ~driver() { ev_loop_destroy(loop); }
  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;

  void reserve_io(int n) { ws = std::make_unique_for_overwrite<io_w[]>(n); }
  void io_start(int i, int fd, io_ctx* c) {
    io_w& x = ws[i];
    x.ctx = c;
    x.idx = i;
    ev_io_init(&x.w, [](struct ev_loop*, ev_io* w, int) {
      auto* x = reinterpret_cast<io_w*>(w);
      x->ctx->on_read(x->idx);
    }, fd, EV_READ);
    ev_io_start(loop, &x.w);
  }
  void io_stop(int i) { ev_io_stop(loop, &ws[i].w); }
  void run_nowait() { ev_run(loop, EVRUN_NOWAIT); }
  void run_once() { ev_run(loop, EVRUN_ONCE); }

  void now_update() { ev_now_update(loop); }
  void reserve_timers(int n) { ts = std::make_unique_for_overwrite<timer_w[]>(n); }
  void timer_start(int i, int ms, timer_ctx* c) {
    timer_w& x = ts[i];
    x.ctx = c;
    ev_timer_init(&x.t, [](struct ev_loop* l, ev_timer* t, int) {
      auto* x = reinterpret_cast<timer_w*>(t);
      if (++x->ctx->fired == x->ctx->total) ev_break(l, EVBREAK_ALL);
    }, ms * 1e-3, 0.);
    ev_timer_start(loop, &x.t);
  }
  void run_timers(timer_ctx*) { ev_run(loop, 0); }

  void pingpong_start(pingpong_ctx* c) {
    pp[0].ctx = pp[1].ctx = c;
    ev_io_init(&pp[0].w, [](struct ev_loop*, ev_io* w, int) {
      reinterpret_cast<pp_w*>(w)->ctx->on_client_readable();
    }, c->client, EV_READ);
    ev_io_init(&pp[1].w, [](struct ev_loop*, ev_io* w, int) {
      reinterpret_cast<pp_w*>(w)->ctx->on_server_readable();
    }, c->server, EV_READ);
    ev_io_start(loop, &pp[0].w);
    ev_io_start(loop, &pp[1].w);
  }
};

const register_raw reg{{"raw-libev", run_io<driver>, run_timers<driver>, run_pingpong<driver>}};

}  // namespace
}  // namespace ae::bench
