// Baseline "raw-libevent": libevent 2.1 used directly.
//
// 1. Debian's libev exports 25 libevent names (event_add, event_base_new, …; DESIGN §8).
//    This binary links libevent before libev, so these names bind to libevent; the driver
//    checks at run time that event_base_get_method() names a real libevent method ("libev"
//    would mean the compatibility shim answered) and that the version is 2.x.
// 2. Watchers are struct event in user memory, set with event_assign (no allocation per
//    watcher, like libev's embedded watchers), allocated inside the measured window.
// 3. Re-arm is event_del + event_assign + event_add. Without a changelist (libevent's
//    default), event_del costs an EPOLL_CTL_DEL at once and event_add an EPOLL_CTL_ADD.
// 4. The io loop phase runs event_base_loop(EVLOOP_ONCE | EVLOOP_NONBLOCK), as test/bench.c.
#include "workloads.hpp"

#include <cstring>
#include <event2/event.h>
#include <event2/event_struct.h>

namespace ae::bench {
namespace {

struct io_w {
  event ev;
  io_ctx* ctx;
  int idx;
};

struct timer_w {
  event ev;
  timer_ctx* ctx;
  event_base* base;
};

struct pp_w {
  event ev;
  pingpong_ctx* ctx;
};

struct driver {
  event_base* base;
  std::unique_ptr<io_w[]> ws;
  int nws = 0;
  std::unique_ptr<timer_w[]> ts;
  int nts = 0;
  pp_w pp[2];
  bool pp_on = false;

  driver() : base(event_base_new()) {
    if (!base) die("event_base_new failed");
    const char* method = event_base_get_method(base);
    const char* version = event_get_version();
    if (!method || !std::strcmp(method, "libev") || std::strncmp(version, "2.", 2))
      die(std::string("the libevent baseline is bound to libev's compatibility names (method ") +
          (method ? method : "?") + ", version " + version + "); link libevent before libev");
  }
  ~driver() {
    for (int i = 0; i < nws; ++i) event_del(&ws[i].ev);
    for (int i = 0; i < nts; ++i) event_del(&ts[i].ev);
    if (pp_on) {
      event_del(&pp[0].ev);
      event_del(&pp[1].ev);
    }
    event_base_free(base);
  }
  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;

  void reserve_io(int n) {
    ws = std::make_unique_for_overwrite<io_w[]>(n);
    nws = n;
  }
  void io_start(int i, int fd, io_ctx* c) {
    io_w& x = ws[i];
    x.ctx = c;
    x.idx = i;
    event_assign(&x.ev, base, fd, EV_READ | EV_PERSIST, [](evutil_socket_t, short, void* arg) {
      auto* x = static_cast<io_w*>(arg);
      x->ctx->on_read(x->idx);
    }, &x);
    event_add(&x.ev, nullptr);
  }
  void io_stop(int i) { event_del(&ws[i].ev); }
  void run_nowait() { event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK); }
  void run_once() { event_base_loop(base, EVLOOP_ONCE); }

  void now_update() {}
  void reserve_timers(int n) {
    ts = std::make_unique_for_overwrite<timer_w[]>(n);
    nts = n;
  }
  void timer_start(int i, int ms, timer_ctx* c) {
    timer_w& x = ts[i];
    x.ctx = c;
    x.base = base;
    event_assign(&x.ev, base, -1, 0, [](evutil_socket_t, short, void* arg) {
      auto* x = static_cast<timer_w*>(arg);
      if (++x->ctx->fired == x->ctx->total) event_base_loopbreak(x->base);
    }, &x);
    const timeval tv{ms / 1000, (ms % 1000) * 1000};
    event_add(&x.ev, &tv);
  }
  void run_timers(timer_ctx*) { event_base_dispatch(base); }

  void pingpong_start(pingpong_ctx* c) {
    pp[0].ctx = pp[1].ctx = c;
    event_assign(&pp[0].ev, base, c->client, EV_READ | EV_PERSIST, [](evutil_socket_t, short, void* arg) {
      static_cast<pp_w*>(arg)->ctx->on_client_readable();
    }, &pp[0]);
    event_assign(&pp[1].ev, base, c->server, EV_READ | EV_PERSIST, [](evutil_socket_t, short, void* arg) {
      static_cast<pp_w*>(arg)->ctx->on_server_readable();
    }, &pp[1]);
    event_add(&pp[0].ev, nullptr);
    event_add(&pp[1].ev, nullptr);
    pp_on = true;
  }
};

const register_raw reg{{"raw-libevent", run_io<driver>, run_timers<driver>, run_pingpong<driver>}};

}  // namespace
}  // namespace ae::bench
