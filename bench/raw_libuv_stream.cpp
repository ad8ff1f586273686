// Baseline "raw-libuv-stream": the ping-pong over libuv's own buffered streams (uv_tcp_t),
// the counterpart of ae::handle (DESIGN §7: "ae::handle >= 1.0x / 0.9x raw libuv streams").
// It runs only the stream ping-pong (side::stream), written as a careful libuv user would:
//
// 1. uv_tcp_open on dup()s of pingpong_ctx's two fds (uv_close closes what it was given;
//    pingpong_ctx closes the originals), client and echo server on one uv_loop_t.
// 2. uv_read_start with an alloc_cb that hands out a buffer preallocated in the connection
//    (64 KiB, libuv's suggested size, so a 64-byte read never fills it and uv__read stops
//    after one read(2)); a partial message stays at the front and the next read appends.
// 3. Replies go out with uv_try_write straight from the bytes received; only a short write
//    or UV_EAGAIN falls back to uv_write, from a copy in a preallocated request (one message
//    is in flight per direction in a ping-pong, so one request per connection suffices; a
//    second one would be a failure here, not a queue).
// 4. Nothing is allocated per round trip: the loop, the handles, the buffers and the write
//    request live in the driver, which run_pingpong allocates once per run.
#include "workloads.hpp"

#include <cstring>
#include <unistd.h>
#include <uv.h>

namespace ae::bench {
namespace {

void check(int rc, const char* what) {
  if (rc < 0) die(std::string(what) + ": " + uv_strerror(rc));
}

struct conn {
  uv_tcp_t tcp;
  uv_write_t wreq;
  bool writing = false;  // wreq is in flight
  bool server = false;
  pingpong_ctx* ctx = nullptr;
  std::size_t have = 0;  // bytes of an incomplete message at the front of rbuf
  char wbuf[message_size];
  char rbuf[64 * 1024];

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp); }

  /// Note 3: try at once, fall back to uv_write only for what the kernel did not take.
  void send(const char* data, std::size_t n) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(n));
    const int r = uv_try_write(stream(), &b, 1);
    if (r == static_cast<int>(n)) return;
    if (r < 0 && r != UV_EAGAIN) {
      ++ctx->failures;
      return;
    }
    const std::size_t done = r > 0 ? static_cast<std::size_t>(r) : 0;
    if (writing || n - done > sizeof wbuf) {
      ++ctx->failures;
      return;
    }
    std::memcpy(wbuf, data + done, n - done);
    b = uv_buf_init(wbuf, static_cast<unsigned>(n - done));
    writing = true;
    wreq.data = this;
    check(uv_write(&wreq, stream(), &b, 1, [](uv_write_t* req, int status) {
      auto* c = static_cast<conn*>(req->data);
      c->writing = false;
      if (status < 0) ++c->ctx->failures;
    }), "uv_write");
  }

  void on_read(ssize_t nread) {
    if (nread == 0) return;  // EAGAIN
    if (nread < 0) {         // UV_EOF or an error
      ++ctx->failures;
      return;
    }
    have += static_cast<std::size_t>(nread);
    std::size_t at = 0;
    for (; have - at >= message_size; at += message_size) {
      if (server) {
        send(rbuf + at, message_size);  // the echo
      } else if (++ctx->round_trips < ctx->total) {
        static const char msg[message_size] = "ae-bench ping-pong message";
        send(msg, message_size);
      }
    }
    have -= at;
    if (have && at) std::memmove(rbuf, rbuf + at, have);
  }
};

struct driver {
  uv_loop_t loop;
  conn c[2];  // [0] client, [1] server
  bool open = false;

  driver() { check(uv_loop_init(&loop), "uv_loop_init"); }
  ~driver() {
    if (open)
      for (auto& x : c) uv_close(reinterpret_cast<uv_handle_t*>(&x.tcp), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    check(uv_loop_close(&loop), "uv_loop_close");
  }
  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;

  void pingpong_start(pingpong_ctx* ctx) {
    const int fds[2] = {ctx->client, ctx->server};
    for (int i = 0; i < 2; ++i) {
      conn& x = c[i];
      x.ctx = ctx;
      x.server = i == 1;
      x.tcp.data = &x;
      check(uv_tcp_init(&loop, &x.tcp), "uv_tcp_init");
      const int fd = ::dup(fds[i]);  // note 1
      if (fd < 0) die("dup failed");
      check(uv_tcp_open(&x.tcp, fd), "uv_tcp_open");
      check(uv_read_start(
                x.stream(),
                [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {  // note 2
                  auto* x = static_cast<conn*>(h->data);
                  *buf = uv_buf_init(x->rbuf + x->have, static_cast<unsigned>(sizeof x->rbuf - x->have));
                },
                [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) { static_cast<conn*>(s->data)->on_read(nread); }),
            "uv_read_start");
    }
    open = true;
  }
  void run_nowait() { uv_run(&loop, UV_RUN_NOWAIT); }
  void run_once() { uv_run(&loop, UV_RUN_ONCE); }
};

side make_side() {
  side s;
  s.name = "raw-libuv-stream";
  s.stream = run_pingpong<driver>;
  return s;
}

const register_raw reg{make_side()};

}  // namespace
}  // namespace ae::bench
