// The c10k workload (DESIGN §7, "later"): many concurrent echo connections, the client and the
// server in two processes. The server is what is measured: libuv's own streams used directly
// ("raw-libuv-stream", as in the handle workload) against ae::tcp_server + ae::handle on the
// column's loop; the client is the same raw epoll program for both.
//
// 1. The client is forked from the column's process and runs on the other CPUs (the server
//    keeps the pinned one). It connects `connections` sockets, at most 256 connecting at a
//    time (a burst of 10,000 SYNs would overflow the listen queue and wait a second for the
//    retransmission), and waits until every one is up. Then the clock starts: each
//    connection sends a 64-byte message, waits for the echo, and sends the next, `rounds`
//    times. When the last echo is in, the clock stops and the client reports the round trips
//    per second through a pipe; it then shuts down the writing side of every socket, waits
//    for the server to close each, and exits.
// 2. The server's figures: its thread's CPU time from the moment the last connection is
//    accepted to the first end of stream (the echo phase, as the client's clock sees it, give
//    or take the first messages of the last connections accepted), per round trip; and the
//    heap bytes it holds per connection at the end of the echo phase, when every
//    connection has read and written (mallinfo2, as bench.hpp note 1). Both servers read into a buffer of 2 KiB per connection (a handle's first read
//    size; libuv's alloc_cb hands out one the connection owns), echo with a write tried at
//    once, and close a connection at its end of stream; the run ends when all are closed.
// 3. Both listen on 127.0.0.1, an ephemeral port, with a backlog of 4096 (the kernel's
//    somaxconn here). Connections end with the client's shutdown and the server's close, so
//    the TIME_WAIT states stay on the server's side of loopback and the client's ephemeral
//    ports are free for the next run.
// 4. Both servers also watch the client's report pipe: a client that dies (a failed connect,
//    say) ends the run with an error instead of leaving the server waiting for connections
//    that will never come.
#include "bench.hpp"

#include <anyevent/handle.hpp>
#include <anyevent/io.hpp>
#include <anyevent/loop.hpp>
#include <anyevent/socket.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstring>

namespace ae::bench {
namespace {

constexpr int connect_window = 256;  // note 1
constexpr int backlog = 4096;        // note 3
constexpr std::size_t server_buffer = 2048;  // note 2

// ---- the client (its own process) ----

struct client_conn {
  int fd = -1;
  int got = 0;     // bytes of the current echo
  int left = 0;    // round trips still to make
  bool up = false;
};

[[noreturn]] void client_main(std::uint16_t port, const c10k_config& c, int report) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("c10k client: epoll_create1 failed");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<client_conn> conns(static_cast<std::size_t>(c.connections));
  std::vector<epoll_event> evs(1024);
  auto ctl = [&](int op, int i, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    if (::epoll_ctl(ep, op, conns[static_cast<std::size_t>(i)].fd, &ev) < 0) die("c10k client: epoll_ctl failed");
  };

  // Connect, a window at a time.
  int started = 0, up = 0;
  auto start_more = [&] {
    while (started < c.connections && started - up < connect_window) {
      client_conn& x = conns[static_cast<std::size_t>(started)];
      x.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (x.fd < 0) die("c10k client: socket failed: " + std::string(std::strerror(errno)));
      const int one = 1;
      ::setsockopt(x.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (::connect(x.fd, reinterpret_cast<const ::sockaddr*>(&sa), sizeof sa) < 0 && errno != EINPROGRESS)
        die("c10k client: connect failed: " + std::string(std::strerror(errno)));
      ctl(EPOLL_CTL_ADD, started, EPOLLOUT);
      ++started;
    }
  };
  start_more();
  while (up < c.connections) {
    const int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), -1);
    for (int k = 0; k < n; ++k) {
      const int i = static_cast<int>(evs[static_cast<std::size_t>(k)].data.u32);
      client_conn& x = conns[static_cast<std::size_t>(i)];
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(x.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) die("c10k client: a connection failed: " + std::string(std::strerror(err)));
      x.up = true;
      ++up;
      ctl(EPOLL_CTL_MOD, i, EPOLLIN);
    }
    start_more();
  }

  // The echo phase.
  static const char msg[message_size] = "ae-bench c10k message";
  char buf[message_size];
  int finished = 0;
  const std::int64_t t0 = wall_ns();
  for (auto& x : conns) {
    x.left = c.rounds;
    if (::send(x.fd, msg, message_size, MSG_NOSIGNAL) != message_size) die("c10k client: send failed");
  }
  while (finished < c.connections) {
    const int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), -1);
    for (int k = 0; k < n; ++k) {
      client_conn& x = conns[evs[static_cast<std::size_t>(k)].data.u32];
      const ssize_t r = ::recv(x.fd, buf, static_cast<std::size_t>(message_size - x.got), 0);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        die("c10k client: the server closed or failed during the echo phase");
      }
      x.got += static_cast<int>(r);
      if (x.got < message_size) continue;
      x.got = 0;
      if (--x.left > 0) {
        if (::send(x.fd, msg, message_size, MSG_NOSIGNAL) != message_size) die("c10k client: send failed");
      } else {
        ++finished;
      }
    }
  }
  const std::int64_t t1 = wall_ns();
  const double rtps = static_cast<double>(c.connections) * c.rounds * 1e9 / static_cast<double>(t1 - t0);
  if (::write(report, &rtps, sizeof rtps) != sizeof rtps) die("c10k client: cannot report");

  // The end: our side first, then wait for the server's close of each.
  for (auto& x : conns) ::shutdown(x.fd, SHUT_WR);
  int closed = 0;
  while (closed < c.connections) {
    const int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), -1);
    for (int k = 0; k < n; ++k) {
      client_conn& x = conns[evs[static_cast<std::size_t>(k)].data.u32];
      const ssize_t r = ::recv(x.fd, buf, sizeof buf, 0);
      if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR))) continue;
      ::epoll_ctl(ep, EPOLL_CTL_DEL, x.fd, nullptr);
      ::close(x.fd);
      ++closed;
    }
  }
  std::_Exit(0);
}

/// The client process (note 1): started once the server listens; reaped by finish().
struct client_process {
  pid_t pid = -1;
  int report = -1;
  bool reported = false;  // its figure came
  bool failed = false;    // it ended without one: the server's loop must not wait on
  double rtps = 0;

  client_process(std::uint16_t port, const c10k_config& c) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) die("c10k: pipe failed");
    std::fflush(nullptr);
    pid = ::fork();
    if (pid < 0) die("c10k: fork failed");
    if (pid == 0) {
      ::close(fds[0]);
      cpu_set_t mine, others;
      if (::sched_getaffinity(0, sizeof mine, &mine) == 0) {
        CPU_ZERO(&others);
        for (long k = 0, n = ::sysconf(_SC_NPROCESSORS_ONLN); k < n && k < CPU_SETSIZE; ++k)
          if (!CPU_ISSET(k, &mine)) CPU_SET(k, &others);
        if (CPU_COUNT(&others) > 0) ::sched_setaffinity(0, sizeof others, &others);
      }
      client_main(port, c, fds[1]);
    }
    ::close(fds[1]);
    report = fds[0];
  }
  ~client_process() {
    if (report >= 0) ::close(report);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  client_process(const client_process&) = delete;
  client_process& operator=(const client_process&) = delete;

  /// Reads the report: the figure, or end of file when the client died before it (both
  /// servers watch the pipe, note 4, and call this once it is readable).
  void read_report() {
    if (reported || failed) return;
    if (::read(report, &rtps, sizeof rtps) == sizeof rtps) reported = true;
    else failed = true;
  }
  /// The client's round trips per second; dies when it failed.
  double finish() {
    read_report();
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    if (!reported || !WIFEXITED(status) || WEXITSTATUS(status) != 0) die("c10k: the client failed");
    return rtps;
  }
};

/// What both servers count and measure (note 2).
struct server_stats {
  int connections = 0;
  int accepted = 0, closed = 0;
  long failures = 0;
  std::int64_t heap0 = 0, heap_all = 0;
  std::int64_t cpu_all_accepted = 0, cpu_first_close = 0;

  void on_accepted() {
    if (++accepted == connections) cpu_all_accepted = thread_cpu_ns();
  }
  void on_closed() {
    if (closed++ == 0) {
      cpu_first_close = thread_cpu_ns();
      heap_all = heap_bytes();
    }
  }
  c10k_result result(const c10k_config& c, double rtps) const {
    if (failures) die("c10k: the server saw " + std::to_string(failures) + " failed reads or writes");
    c10k_result r;
    r.rt_per_s = rtps;
    r.server_cpu_ns = static_cast<double>(cpu_first_close - cpu_all_accepted) / (static_cast<double>(c.connections) * c.rounds);
    r.bytes_per_conn = static_cast<double>(heap_all - heap0) / c.connections;
    return r;
  }
};

// ---- the baseline server: libuv streams ----

struct uv_conn {
  uv_tcp_t tcp;
  uv_write_t wreq;
  bool writing = false;
  server_stats* st = nullptr;
  std::string pending;  // what a short write left, for uv_write (allocated only then)
  char rbuf[server_buffer];

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp); }
  void close() {
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), [](uv_handle_t* h) { delete static_cast<uv_conn*>(h->data); });
  }
  /// The echo: tried at once, uv_write only for what the kernel did not take.
  void echo(const char* data, std::size_t n) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(n));
    const int r = uv_try_write(stream(), &b, 1);
    if (r == static_cast<int>(n)) return;
    const std::size_t done = r > 0 ? static_cast<std::size_t>(r) : 0;
    if ((r < 0 && r != UV_EAGAIN) || writing) {  // one message in flight per connection
      ++st->failures;
      return;
    }
    pending.assign(data + done, n - done);
    b = uv_buf_init(pending.data(), static_cast<unsigned>(pending.size()));
    writing = true;
    wreq.data = this;
    if (uv_write(&wreq, stream(), &b, 1, [](uv_write_t* req, int status) {
          auto* c = static_cast<uv_conn*>(req->data);
          c->writing = false;
          if (status < 0) ++c->st->failures;
        }) < 0)
      ++st->failures;
  }
};

struct uv_server {
  uv_loop_t loop;
  uv_tcp_t listener;
  server_stats* st;

  explicit uv_server(server_stats& s) : st(&s) {
    if (uv_loop_init(&loop) < 0 || uv_tcp_init(&loop, &listener) < 0) die("c10k: libuv init failed");
    listener.data = this;
    sockaddr_in sa{};
    uv_ip4_addr("127.0.0.1", 0, &sa);
    if (uv_tcp_bind(&listener, reinterpret_cast<const ::sockaddr*>(&sa), 0) < 0) die("c10k: uv_tcp_bind failed");
    const int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener), backlog, [](uv_stream_t* l, int status) {
      auto* self = static_cast<uv_server*>(l->data);
      if (status < 0) {
        ++self->st->failures;
        return;
      }
      self->accept();
    });
    if (rc < 0) die("c10k: uv_listen failed");
  }
  ~uv_server() {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  uv_server(const uv_server&) = delete;
  uv_server& operator=(const uv_server&) = delete;

  std::uint16_t port() {
    sockaddr_in sa{};
    int len = sizeof sa;
    uv_tcp_getsockname(&listener, reinterpret_cast<::sockaddr*>(&sa), &len);
    return ntohs(sa.sin_port);
  }

  void accept() {
    auto* c = new uv_conn;
    c->st = st;
    c->tcp.data = c;
    uv_tcp_init(&loop, &c->tcp);
    if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener), c->stream()) < 0) {
      ++st->failures;
      return c->close();
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start(
        c->stream(),
        [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
          auto* x = static_cast<uv_conn*>(h->data);
          *buf = uv_buf_init(x->rbuf, sizeof x->rbuf);
        },
        [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
          auto* x = static_cast<uv_conn*>(s->data);
          if (nread > 0) return x->echo(x->rbuf, static_cast<std::size_t>(nread));
          if (nread == 0) return;
          if (nread != UV_EOF) ++x->st->failures;
          x->st->on_closed();
          x->close();
        });
    st->on_accepted();
  }
};

}  // namespace

bool c10k_built() { return true; }

c10k_result run_c10k_raw(const c10k_config& c) {
  server_stats st;
  st.connections = c.connections;
  auto srv = std::make_unique<uv_server>(st);
  st.heap0 = heap_bytes();
  client_process client(srv->port(), c);
  uv_poll_t report;  // note 4
  report.data = &client;
  if (uv_poll_init(&srv->loop, &report, client.report) < 0) die("c10k: uv_poll_init failed");
  uv_poll_start(&report, UV_READABLE, [](uv_poll_t* p, int, int) {
    static_cast<client_process*>(p->data)->read_report();
    uv_poll_stop(p);
  });
  while (st.closed < c.connections && !st.failures && !client.failed) uv_run(&srv->loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&report), nullptr);
  const double rtps = client.finish();
  srv.reset();  // runs the loop until the closes are done
  return st.result(c, rtps);
}

c10k_result run_c10k_ae(const c10k_config& c, const std::string& backend) {
  server_stats st;
  st.connections = c.connections;
  auto l = ae::loop::create(backend);
  // The program keeps its handles (AnyEvent's rule): one slot per connection, made before
  // the heap is measured, as the raw server's connections are found through libuv's handles.
  std::vector<std::shared_ptr<ae::handle>> handles(static_cast<std::size_t>(c.connections));
  std::uint16_t port = 0;
  auto server = ae::tcp_server(
      "127.0.0.1", "0",
      [&](ae::fd fd, std::string, std::uint16_t) {
        const std::size_t slot = static_cast<std::size_t>(st.accepted);
        if (slot >= handles.size()) {
          ++st.failures;
          return;
        }
        handles[slot] = ae::handle::create(
            {.fd = std::move(fd),
             .on_error = [&st, &handles, slot](ae::handle&, bool, std::error_code, std::string_view) {
               ++st.failures;
               handles[slot].reset();
             },
             .on_read = [](ae::handle& h) {  // the echo: from rbuf, at once
               h.push_write(h.rbuf().view());
               h.rbuf().clear();
             },
             .on_eof = [&st, &handles, slot](ae::handle& h) {
               st.on_closed();
               h.destroy();
               handles[slot].reset();
             },
             .no_delay = true},
            l);
        st.on_accepted();
      },
      [&port](int, std::string, std::uint16_t p) {
        port = p;
        return backlog;
      },
      l);
  st.heap0 = heap_bytes();
  client_process client(port, c);
  ae::io report;  // note 4
  report = ae::io(client.report, ae::poll::read, [&report, &client] {
    client.read_report();
    report.stop();
  }, l);
  while (st.closed < c.connections && !st.failures && !client.failed) l.run_once();
  report = {};
  const double rtps = client.finish();
  for (auto& h : handles)
    if (h) h->destroy();
  handles.clear();
  return st.result(c, rtps);
}

}  // namespace ae::bench
