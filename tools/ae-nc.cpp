// ae-nc: netcat on anyevent — connect to (or accept one connection on) a TCP or unix
// socket and relay stdin to the socket and the socket to stdout, on whichever backend
// ANYEVENT_BACKEND selects.
//
// Notes:
// 1. Each direction is a pump: read a chunk when the source is readable, write it out, and
//    only when the destination refuses more (EAGAIN) watch it for writability while the
//    source is left alone — the buffer never grows past one chunk.
// 2. stdin may be a regular file or /dev/null: the library reports those always ready, so
//    the pump reads them to EOF like a pipe.
// 3. stdin's EOF half-closes the socket (shutdown SHUT_WR) and the relay goes on until the
//    peer closes too; the program ends when both directions are done (or, with a terminal
//    on stdin, as soon as the peer closes).
// 4. SIGPIPE is ignored here (a program may choose; the library never does), so a closed
//    stdout is an EPIPE error rather than a silent death. Socket writes use MSG_NOSIGNAL.
// 5. With -v a listener reports "listening on HOST:PORT" (the port the kernel chose for
//    port 0) once the socket is listening, so a script can read the line and connect.
#include <anyevent/anyevent.hpp>
#include <anyevent/socket.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr const char* usage_text =
    "usage: ae-nc [-v] [-w secs] host port        connect\n"
    "       ae-nc [-v] -l [host] port              listen, accept one connection\n"
    "       ae-nc [-v] [-l] -U path                unix socket (or host \"unix/\")\n"
    "\n"
    "Relays stdin to the socket and the socket to stdout. The loop backend comes from\n"
    "ANYEVENT_BACKEND (default: the built-in loop).\n"
    "\n"
    "  -l        listen instead of connecting (host defaults to all addresses)\n"
    "  -U        the socket is a unix domain socket at path\n"
    "  -v        report the listening address (with the port chosen for port 0) and\n"
    "            connections on stderr\n"
    "  -w secs   connect timeout per address\n"
    "  --help    this text\n"
    "\n"
    "Exit status: 0 success, 1 connection or I/O error, 2 usage error.\n";

struct options {
  bool listen = false, unix_socket = false, verbose = false;
  double timeout = 0;
  std::string host, port;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "ae-nc: %s\n%s", why.c_str(), usage_text);
  std::exit(2);
}

options parse_args(int argc, char** argv) {
  options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage_text, stdout);
      std::exit(0);
    } else if (a == "-l") {
      o.listen = true;
    } else if (a == "-U") {
      o.unix_socket = true;
    } else if (a == "-v") {
      o.verbose = true;
    } else if (a == "-w") {
      if (++i >= argc) usage_error("-w needs a number of seconds");
      char* end = nullptr;
      o.timeout = std::strtod(argv[i], &end);
      if (!end || *end || !(o.timeout > 0) || o.timeout > 1e6) usage_error("bad timeout '" + std::string(argv[i]) + "'");
    } else if (a == "--") {
      for (++i; i < argc; ++i) positional.emplace_back(argv[i]);
    } else if (a.size() > 1 && a[0] == '-') {
      usage_error("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (o.unix_socket) {
    if (positional.size() != 1) usage_error("-U takes exactly one path");
    o.host = "unix/";
    o.port = positional[0];
  } else if (positional.size() == 2) {
    o.host = positional[0];
    o.port = positional[1];
  } else if (positional.size() == 1 && o.listen) {
    o.port = positional[0];
  } else {
    usage_error(o.listen ? "expected [host] port" : "expected host and port");
  }
  return o;
}

/// An address for messages: a unix socket's path (its peer has no name, "unix/" port 0),
/// or host:port.
std::string where(const options& o, const std::string& host, std::uint16_t port) {
  return host == "unix/" ? o.port : ae::format_hostport(host, std::to_string(port));
}

/// Moves bytes from one descriptor to another (note 1).
class pump {
 public:
  pump(int in, int out, bool out_is_socket, std::function<void()> on_eof,
       std::function<void(const std::string&)> on_error)
      : in_(in), out_(out), socket_(out_is_socket), on_eof_(std::move(on_eof)), on_error_(std::move(on_error)) {}

  void start() { arm_read(); }
  void stop() {
    rd_.stop();
    wr_.stop();
  }

 private:
  void arm_read() { rd_ = ae::io(in_, ae::poll::read, [this] { on_readable(); }); }

  void on_readable() {
    const ssize_t n = ::read(in_, buf_.data(), buf_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      return fail("read");
    }
    rd_.stop();
    if (n == 0) return on_eof_();
    len_ = static_cast<std::size_t>(n);
    off_ = 0;
    flush();
  }

  void flush() {
    while (off_ < len_) {
      const ssize_t w = socket_ ? ::send(out_, buf_.data() + off_, len_ - off_, MSG_NOSIGNAL)
                                : ::write(out_, buf_.data() + off_, len_ - off_);
      if (w > 0) {
        off_ += static_cast<std::size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wr_.active()) wr_ = ae::io(out_, ae::poll::write, [this] { flush(); });
        return;
      } else {
        return fail("write");
      }
    }
    wr_.stop();
    arm_read();
  }

  void fail(const char* what) {
    const int err = errno;
    stop();
    on_error_(std::string(what) + ": " + std::strerror(err));
  }

  int in_, out_;
  bool socket_;
  std::function<void()> on_eof_;
  std::function<void(const std::string&)> on_error_;
  std::vector<char> buf_ = std::vector<char>(64 * 1024);
  std::size_t len_ = 0, off_ = 0;
  ae::io rd_, wr_;
};

/// The relay between stdin/stdout and one connected socket (note 3).
int relay(ae::fd sock) {
  int status = -1;
  auto finish = [&](int s) {
    if (status < 0) status = s;
  };
  // Both directions must end: the peer may half-close and still read what we send. A
  // terminal on stdin is the exception: nobody would press ^D after the peer has gone.
  bool up_done = false, down_done = false;
  const bool interactive = ::isatty(STDIN_FILENO) == 1;
  pump up(STDIN_FILENO, sock.get(), true,
          [&] {
            ::shutdown(sock.get(), SHUT_WR);
            up_done = true;
            if (down_done) finish(0);
          },
          [&](const std::string& m) {
            std::fprintf(stderr, "ae-nc: stdin to socket: %s\n", m.c_str());
            finish(1);
          });
  pump down(sock.get(), STDOUT_FILENO, false,
            [&] {
              down_done = true;
              if (up_done || interactive) finish(0);
            },
            [&](const std::string& m) {
              std::fprintf(stderr, "ae-nc: socket to stdout: %s\n", m.c_str());
              finish(1);
            });
  up.start();
  down.start();
  while (status < 0) ae::default_loop().run_once();
  up.stop();
  down.stop();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_args(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);  // note 4
  try {
    auto& loop = ae::default_loop();
    ae::fd conn;
    std::string error;
    bool done = false;
    ae::guard op;
    std::string bound;  // the address a listener got, with the port the kernel chose

    if (o.listen) {
      op = ae::tcp_server(
          o.host, o.port,
          [&](ae::fd f, std::string host, std::uint16_t port) {
            if (done) return;
            if (o.verbose)
              std::fprintf(stderr, "ae-nc: connection %s %s\n", host == "unix/" ? "on" : "from", where(o, host, port).c_str());
            conn = std::move(f);
            done = true;
            op.reset();  // one connection only: stop listening
          },
          [&](int, std::string host, std::uint16_t port) {
            bound = where(o, host, port);
            return 1;
          });
      // Only now, not in the prepare callback: that runs before listen(), and a client
      // that read the line and connected at once would be refused (note 5).
      if (o.verbose) std::fprintf(stderr, "ae-nc: listening on %s\n", bound.c_str());
    } else {
      op = ae::tcp_connect(
          o.host, o.port,
          [&](std::error_code ec, ae::fd f, std::string host, std::uint16_t port) {
            done = true;
            if (ec) {
              // tcp_connect's ENXIO: no address at all (socket.hpp), not a device error.
              const bool unix_socket = o.host == "unix/";
              error = "connect to " + (unix_socket ? o.port : ae::format_hostport(o.host, o.port)) + ": " +
                      (!unix_socket && ec == std::errc::no_such_device_or_address ? "no address found for " + o.host
                                                                                  : ec.message());
              return;
            }
            if (o.verbose) std::fprintf(stderr, "ae-nc: connected to %s\n", where(o, host, port).c_str());
            conn = std::move(f);
          },
          [&](int) -> ae::duration {
            return std::chrono::duration_cast<ae::duration>(std::chrono::duration<double>(o.timeout));
          });
    }
    while (!done) loop.run_once();
    op.reset();
    if (!conn) {
      std::fprintf(stderr, "ae-nc: %s\n", error.c_str());
      return 1;
    }
    return relay(std::move(conn));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ae-nc: %s\n", e.what());
    return 1;
  }
}
