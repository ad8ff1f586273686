// ae-bench's shared vocabulary: the three workloads (DESIGN §7), their configurations and
// results, the per-workload context every side drives with identical callback bodies, and
// the measuring helpers.
//
// A "side" is one way of running a workload: a raw library used directly (the baseline) or
// anyevent over a backend. Every side runs exactly the same callback body (the inline
// functions below), so a ratio measures the loop machinery and nothing else.
//
// Notes:
// 1. Heap bytes are mallinfo2()'s in-use bytes (uordblks + hblkhd): every allocation of the
//    process, whichever library made it, with malloc's own rounding; the watcher arrays a raw
//    library makes its user provide (ev_io, struct event, uv_poll_t) are allocated inside the
//    measured window, as are anyevent's handle vectors, so both sides pay for their storage.
// 2. The loop phase of the io and ping-pong workloads runs inside ae_bench_measured_phase(),
//    one extern "C" function callgrind can toggle collection on (bench/callgrind.sh). Of the
//    io workload, io_measured_part may name the re-arm rounds instead; of the timer
//    workload, the part timer_measured_part names (create or run) runs inside it, and of the
//    tls workload the part tls_measured_part names (handshakes or the bulk transfer).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace ae {
class tls_context;
}

namespace ae::bench {

// ---- configurations and results ----

struct io_config {
  int pairs;        // N socket pairs, one read watcher each
  int active;       // A pairs written to when the loop phase starts
  int writes;       // W chained one-byte writes per loop phase
  int rearm_rounds;  // destroy + create every watcher this many times
  int loop_rounds;  // loop phases per run (short phases are noisy)
};

struct io_result {
  double setup_ns = 0;  // per watcher: create N watchers + the first (registering) iteration
  double rearm_ns = 0;  // per destroy + create, including the iteration that applies it
  // rearm_ns in two parts: the destroy + create calls, and the iteration after each round
  // (a lazy loop applies the changes there; a poll(2) loop also polls every fd there).
  double rearm_calls_ns = 0, rearm_iter_ns = 0;
  double loop_ns = 0;   // per dispatched event in the loop phase
  double bytes = 0;     // heap bytes per watcher (note 1)
  long events = 0;      // events dispatched over all loop phases
};

struct timer_config {
  int count;
  int max_ms;  // timeouts are uniform in 1..max_ms
};

struct timer_result {
  double create_ns = 0;  // wall ns per timer started
  double run_ns = 0;     // thread CPU ns per timer fired
  double bytes = 0;      // heap bytes per timer
};

struct pingpong_config {
  int round_trips;
};

struct pingpong_result {
  double rt_per_s = 0;
  double cpu_ns = 0;  // thread CPU ns per round trip (what other processes' load disturbs least)
};

struct dns_config {
  int depth;      // queries in flight
  int queries;    // per run
  bool stay_open; // ae::dns::options::stay_open / ARES_FLAG_STAYOPEN
};

struct dns_result {
  double qps = 0;
};

// ---- the socket pairs of the io workload, shared by every side of one run ----

struct socket_pairs {
  std::vector<int> rd, wr;  // rd[i] is watched, wr[i] is written to
  explicit socket_pairs(int n);
  ~socket_pairs();
  socket_pairs(const socket_pairs&) = delete;
  socket_pairs& operator=(const socket_pairs&) = delete;
};

// ---- the io workload's callback body (libevent's test/bench.c read_cb) ----

struct io_ctx {
  const socket_pairs* sp;
  int n;
  long count = 0;   // bytes read
  long fired = 0;   // bytes written
  long writes = 0;  // chained writes still to do
  long failures = 0;

  explicit io_ctx(const socket_pairs& s) : sp(&s), n(static_cast<int>(s.rd.size())) {}

  /// Pair idx became readable: take its byte and pass one on to the next pair.
  void on_read(int idx) {
    char ch;
    const ssize_t r = ::recv(sp->rd[idx], &ch, 1, 0);
    if (r >= 0) count += r;
    else ++failures;
    if (writes) {
      int widx = idx + 1;
      if (widx >= n) widx -= n;
      if (::send(sp->wr[widx], "e", 1, MSG_NOSIGNAL) != 1) ++failures;
      --writes;
      ++fired;
    }
  }

  /// Start one loop phase: write to A evenly spaced pairs.
  void start_phase(int active, int w) {
    count = 0;
    fired = 0;
    const int space = n / active;
    for (int i = 0; i < active; ++i, ++fired)
      if (::send(sp->wr[i * space], "e", 1, MSG_NOSIGNAL) != 1) ++failures;
    writes = w;
  }
  bool phase_done() const { return count >= fired; }
};

// ---- the timer workload ----

struct timer_ctx {
  long fired = 0;
  long total = 0;
};

/// Which part of the io workload runs inside ae_bench_measured_phase() (note 2).
enum class io_part { loop, rearm };
inline io_part io_measured_part = io_part::loop;

/// Which part of the timer workload runs inside ae_bench_measured_phase() (note 2).
enum class timer_part { create, run };
inline timer_part timer_measured_part = timer_part::create;

/// The same pseudo-random timeouts (ms, 1..max_ms) for every side.
std::vector<int> timer_timeouts(const timer_config& c);

// ---- the ping-pong workload: one loopback TCP connection, 64-byte messages ----

inline constexpr int message_size = 64;

struct pingpong_ctx {
  int client = -1, server = -1;
  long round_trips = 0;  // completed
  long total = 0;
  long failures = 0;
  char cbuf[message_size], sbuf[message_size];
  int cgot = 0, sgot = 0;

  /// A connected loopback TCP pair (non-blocking, TCP_NODELAY); throws on failure.
  pingpong_ctx();
  ~pingpong_ctx();
  pingpong_ctx(const pingpong_ctx&) = delete;
  pingpong_ctx& operator=(const pingpong_ctx&) = delete;

  void start(long n) {
    round_trips = 0;
    total = n;
    cgot = sgot = 0;
    send_message(client);
  }
  bool done() const { return round_trips >= total || failures; }

  /// The echo side: once a whole message is in, send it back.
  void on_server_readable() {
    const ssize_t r = ::recv(server, sbuf + sgot, message_size - sgot, 0);
    if (r <= 0) {
      if (r == 0 || (errno != EAGAIN && errno != EINTR)) ++failures;
      return;
    }
    sgot += static_cast<int>(r);
    if (sgot < message_size) return;
    sgot = 0;
    if (::send(server, sbuf, message_size, MSG_NOSIGNAL) != message_size) ++failures;
  }
  /// The client: once the echo is in, count a round trip and send the next message.
  void on_client_readable() {
    const ssize_t r = ::recv(client, cbuf + cgot, message_size - cgot, 0);
    if (r <= 0) {
      if (r == 0 || (errno != EAGAIN && errno != EINTR)) ++failures;
      return;
    }
    cgot += static_cast<int>(r);
    if (cgot < message_size) return;
    cgot = 0;
    if (++round_trips < total) send_message(client);
  }

 private:
  void send_message(int fd) {
    static const char msg[message_size] = "ae-bench ping-pong message";
    if (::send(fd, msg, message_size, MSG_NOSIGNAL) != message_size) ++failures;
  }
};

// ---- the dns workload: dns.cpp when net/ and c-ares are built, else dns_none.cpp ----

/// Whether this binary can run the dns workload (dns_none.cpp: false).
bool dns_built();

/// A dnsmasq on 127.0.0.1 and a free port answering A queries for b.test; killed with the
/// object. Throws std::runtime_error when it cannot be started.
class dns_responder {
 public:
  dns_responder();
  ~dns_responder();
  dns_responder(const dns_responder&) = delete;
  dns_responder& operator=(const dns_responder&) = delete;
  std::string server() const;  // "127.0.0.1:port"

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

void dns_library_init();
/// c-ares on a minimal epoll loop (the baseline).
dns_result run_dns_raw(const dns_config& c, const dns_responder& server);
/// ae::dns on a loop of `backend` ("poll", "libev", …).
dns_result run_dns_ae(const dns_config& c, const dns_responder& server, const std::string& backend);

// ---- the tls workload: tls.cpp when handle/ is built, else tls_none.cpp ----

struct tls_config {
  int handshakes;  // one at a time, per run
  long bytes;      // bulk: application bytes client -> server, per run
};

struct tls_result {
  double hs_per_s = 0;
  double mib_per_s = 0;
};

/// Which part of the tls workload runs inside ae_bench_measured_phase() (note 2).
enum class tls_part { handshake, bulk };
inline tls_part tls_measured_part = tls_part::bulk;

/// Whether this binary can run the tls workload (tls_none.cpp: false).
bool tls_built();

/// A throwaway key and self-signed certificate, and the two contexts every side's SSL
/// objects are made from: the server's (certificate and key) and the client's (which
/// trusts that certificate and verifies the chain).
struct tls_peers {
  std::shared_ptr<ae::tls_context> client, server;
  tls_peers();
  ~tls_peers();
  tls_peers(const tls_peers&) = delete;
  tls_peers& operator=(const tls_peers&) = delete;
};

/// OpenSSL on the sockets, a minimal epoll loop (the baseline).
tls_result run_tls_raw(const tls_config& c, const tls_peers& p);
/// ae::handle on a loop of `backend`.
tls_result run_tls_ae(const tls_config& c, const tls_peers& p, const std::string& backend);

// ---- the c10k workload: c10k.cpp with libuv, net/ and handle/, else c10k_none.cpp ----

struct c10k_config {
  int connections;  // concurrent, each its own socket
  int rounds;       // round trips of 64 bytes per connection
};

struct c10k_result {
  double rt_per_s = 0;       // the client's, over the echo phase
  double server_cpu_ns = 0;  // the server thread's CPU per round trip in the echo phase
  double bytes_per_conn = 0; // heap the server holds per connection (note 1)
};

/// Whether this binary can run the c10k workload (c10k_none.cpp: false).
bool c10k_built();
/// The echo server on libuv's streams (the baseline), against the same client process.
c10k_result run_c10k_raw(const c10k_config& c);
/// The echo server as ae::tcp_server + ae::handle on a loop of `backend`.
c10k_result run_c10k_ae(const c10k_config& c, const std::string& backend);

// ---- one side ----

using pingpong_fn = pingpong_result (*)(const pingpong_config&, pingpong_ctx&);
using stream_pingpong_fn = pingpong_fn;

/// A way of running the workloads. Members a side cannot run are left empty.
struct side {
  std::string name;  // "raw-libev", "ae/libev", …
  io_result (*io)(const io_config&, const socket_pairs&) = nullptr;
  timer_result (*timers)(const timer_config&, const std::vector<int>& timeouts) = nullptr;
  /// The ping-pong over readiness watchers (ae::io, uv_poll_t, ev_io, …).
  pingpong_fn pingpong = nullptr;
  /// The ping-pong over buffered streams (ae::handle; raw-libuv-stream's uv_tcp_t).
  stream_pingpong_fn stream = nullptr;
};

/// The raw baselines this binary was built with (each raw_*.cpp registers itself).
std::vector<side>& raw_sides();
struct register_raw {
  explicit register_raw(side s) { raw_sides().push_back(std::move(s)); }
};
const side* find_raw(const std::string& name);

/// anyevent on `backend` ("poll" is the built-in loop; ANYEVENT_POLL_METHOD picks its variant).
side ae_side(const std::string& column);
/// ae::handle's stream ping-pong on a loop of `backend` (ae_handle.cpp), or nullptr when
/// ae-bench was built without handle/ (ae_handle_none.cpp).
stream_pingpong_fn ae_handle_pingpong(const std::string& backend);
/// "ok <library version> (<where>)" when anyevent can create a loop for `column`, else why not.
std::string ae_probe(const std::string& column);

// ---- measuring ----

std::int64_t wall_ns();
std::int64_t thread_cpu_ns();
/// In-use heap bytes of the whole process (note 1).
std::int64_t heap_bytes();

/// Runs body(arg); the one function callgrind toggles collection on (note 2).
extern "C" void ae_bench_measured_phase(void (*body)(void*), void* arg);
template <class F>
void measured_phase(F& f) {
  ae_bench_measured_phase([](void* p) { (*static_cast<F*>(p))(); }, &f);
}

/// Prints "ae-bench: <what>" to stderr and exits the (child) process with status 2.
[[noreturn]] void die(const std::string& what);

}  // namespace ae::bench
