// ae-nc: netcat on anyevent — connect to (or accept one connection on) a TCP or unix
// socket and relay stdin to the socket and the socket to stdout, in the clear or over TLS
// (--tls), on whichever backend ANYEVENT_BACKEND selects.
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
// 6. --tls keeps the plain relay untouched and puts an ae::handle on the socket side only:
//    a handle makes its descriptor non-blocking, and stdin/stdout are shared with the
//    shell, so they keep the pump's style (io watchers, write until EAGAIN). stdin feeds
//    push_write until the handle holds 256 KiB, then waits for on_drain (64 KiB); on_read
//    hands rbuf to stdout and, when stdout refuses more, clears on_read and stops reading
//    until stdout drained — so neither direction buffers more than about one chunk beyond
//    those marks. The TLS options are checked (files read, key against certificate)
//    before connecting or listening, so a bad one fails at once.
// 7. TLS ends the upload with close_notify (push_shutdown: close_notify after the last byte
//    and after the handshake, then SHUT_WR). A client verifies the server against --cafile
//    (else the system store) and the name --servername gives (else the host on the
//    command line; with -U only the chain, unless --servername is given).
// 8. The peer's close_notify is the end of its stream (on_eof) and leaves TLS up for our
//    side, so the upload goes on encrypted, as with a plain half-close.
#include <anyevent/anyevent.hpp>
#include <anyevent/handle.hpp>
#include <anyevent/socket.hpp>
#include <anyevent/tls.hpp>

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr const char* usage_text =
    "usage: ae-nc [-v] [-w secs] [TLS] host port  connect\n"
    "       ae-nc [-v] -l [TLS] [host] port        listen, accept one connection\n"
    "       ae-nc [-v] [-l] [TLS] -U path          unix socket (or host \"unix/\")\n"
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
    "TLS (OpenSSL; TLS 1.2 or newer):\n"
    "  --tls               TLS on the connection (a listener accepts TLS)\n"
    "  --cafile FILE       trusted CAs, PEM (default: the system store); with -l: require\n"
    "                      a client certificate signed by them\n"
    "  --cert FILE         certificate (chain), PEM: required with -l, else a client\n"
    "                      certificate\n"
    "  --key FILE          the certificate's private key, PEM\n"
    "  --insecure          client: do not verify the server's certificate\n"
    "  --servername NAME   client: the name for SNI and verification (default: host;\n"
    "                      with -U no name is checked unless given)\n"
    "  --alpn P1[,P2...]   ALPN protocols (a client offers them, a listener requires one)\n"
    "  With -v the handshake's outcome is reported: \"tls: established (TLSv1.3, ...)\".\n"
    "\n"
    "Exit status: 0 success, 1 connection or I/O error, 2 usage error.\n";

struct options {
  bool listen = false, unix_socket = false, verbose = false;
  double timeout = 0;
  std::string host, port;
  // TLS (notes 6 to 8)
  bool tls = false, insecure = false;
  std::string cafile, cert, key, servername;
  std::vector<std::string> alpn;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "ae-nc: %s\n%s", why.c_str(), usage_text);
  std::exit(2);
}

/// The ALPN list "h2,http/1.1", or a usage error.
std::vector<std::string> parse_alpn(const std::string& list) {
  std::vector<std::string> out;
  for (std::size_t at = 0;;) {
    const std::size_t comma = list.find(',', at);
    out.push_back(list.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (out.back().empty() || out.back().size() > 255) usage_error("bad --alpn list '" + list + "'");
    if (comma == std::string::npos) return out;
    at = comma + 1;
  }
}

/// The TLS options' rules (usage errors).
void check_tls_args(const options& o, const std::vector<std::string>& tls_given) {
  if (!o.tls) {
    if (!tls_given.empty()) usage_error(tls_given.front() + " needs --tls");
    return;
  }
  if (o.cert.empty() != o.key.empty()) usage_error(o.cert.empty() ? "--key needs --cert" : "--cert needs --key");
  if (o.listen) {
    if (o.cert.empty()) usage_error("-l --tls needs --cert and --key");
    if (o.insecure) usage_error("--insecure is for a client (-l does not verify without --cafile)");
    if (!o.servername.empty()) usage_error("--servername is for a client");
  }
}

options parse_args(int argc, char** argv) {
  options o;
  std::vector<std::string> positional;
  std::vector<std::string> tls_given;  // TLS options seen, for "needs --tls"
  // "--name VALUE" or "--name=VALUE".
  auto value = [&](const std::string& a, const char* name, int& i, std::string& out) {
    const std::string n = name;
    if (a == n) {
      if (++i >= argc || !*argv[i]) usage_error(n + " needs a value");
      out = argv[i];
    } else if (a.compare(0, n.size() + 1, n + "=") == 0 && a.size() > n.size() + 1) {
      out = a.substr(n.size() + 1);
    } else {
      return false;
    }
    tls_given.push_back(n);
    return true;
  };
  std::string alpn;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tls") {
      o.tls = true;
    } else if (a == "--insecure") {
      o.insecure = true;
      tls_given.push_back(a);
    } else if (value(a, "--cafile", i, o.cafile) || value(a, "--cert", i, o.cert) || value(a, "--key", i, o.key) ||
               value(a, "--servername", i, o.servername) || value(a, "--alpn", i, alpn)) {
      // taken
    } else if (a == "--help" || a == "-h") {
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
  if (!alpn.empty()) o.alpn = parse_alpn(alpn);
  check_tls_args(o, tls_given);
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

/// The TLS context the options ask for (note 6). Files are checked here for a message that
/// names the option; tls_context checks their content and the key against the certificate.
/// Errors: a message, and nullptr.
std::shared_ptr<ae::tls_context> make_tls_context(const options& o, std::string& error) {
  for (const auto& [name, file] : {std::pair{"--cafile", &o.cafile}, {"--cert", &o.cert}, {"--key", &o.key}}) {
    if (file->empty()) continue;
    if (std::FILE* f = std::fopen(file->c_str(), "r")) {
      std::fclose(f);
    } else {
      error = std::string(name) + " " + *file + ": " + std::strerror(errno);
      return nullptr;
    }
  }
  ae::tls_options t;
  t.ca_file = o.cafile;
  t.cert_file = o.cert;
  t.key_file = o.key;
  t.verify = !o.insecure;
  t.verify_client = t.verify_require_client_cert = o.listen && !o.cafile.empty();
  t.alpn = o.alpn;
  try {
    return std::make_shared<ae::tls_context>(std::move(t));
  } catch (const ae::error& e) {
    // "ae::tls_context: WHAT: REASON: Invalid argument" → "tls: WHAT: REASON"
    std::string what = e.what();
    const std::string prefix = "ae::tls_context: ", suffix = ": " + e.code().message();
    if (what.compare(0, prefix.size(), prefix) == 0) what.erase(0, prefix.size());
    if (what.size() > suffix.size() && what.compare(what.size() - suffix.size(), suffix.size(), suffix) == 0)
      what.resize(what.size() - suffix.size());
    error = "tls: " + what;
    return nullptr;
  }
}

/// The relay over TLS: stdin → handle → socket, socket → handle → stdout (notes 6 to 8).
class tls_relay {
 public:
  tls_relay(const options& o, std::shared_ptr<ae::tls_context> ctx) : o_(o), ctx_(std::move(ctx)) {}
  tls_relay(const tls_relay&) = delete;
  tls_relay& operator=(const tls_relay&) = delete;

  int run(ae::fd sock) {
    std::string peername;
    if (!o_.listen) peername = !o_.servername.empty() ? o_.servername : o_.host == "unix/" ? "" : o_.host;
    h_ = ae::handle::create({
        .fd = std::move(sock),
        .on_error =
            [this](ae::handle&, bool fatal, std::error_code ec, std::string_view m) {
              // EPROTO: TLS failed after the handshake (a TLS 1.3 server refusing our
              // certificate says so only then).
              if (fatal) fail((ec == std::errc::protocol_error ? "tls: " : "socket: ") + std::string(m));
            },
        .on_read = [this](ae::handle& h) { on_data(h); },
        .on_eof = [this](ae::handle& h) { on_peer_eof(h); },
        .on_drain = [this](ae::handle&) { read_stdin(); },  // below low_water_mark again
        .low_water_mark = low_water,
        .peername = peername,
        .tls = o_.listen ? ae::tls_mode::accept : ae::tls_mode::connect,
        .tls_ctx = ctx_,
        .on_starttls = [this](ae::handle& h, bool ok, std::string_view m) { on_handshake(h, ok, m); },
    });
    while (status_ < 0) {
      ae::default_loop().run_once();
      check_done();
    }
    in_.stop();
    out_watch_.stop();
    h_->destroy();
    return status_;
  }

 private:
  static constexpr std::size_t high_water = 256 * 1024, low_water = 64 * 1024;

  void fail(const std::string& message) {
    if (status_ >= 0) return;
    std::fprintf(stderr, "ae-nc: %s\n", message.c_str());
    status_ = 1;
  }

  void on_handshake(ae::handle& h, bool ok, std::string_view message) {
    if (!ok) return fail("tls: " + std::string(message));
    if (o_.verbose) {
      ssl_st* ssl = h.tls();
      std::string about = std::string(SSL_get_version(ssl)) + ", " + SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
      if (!h.tls_alpn().empty()) about += ", alpn " + std::string(h.tls_alpn());
      if (!h.tls_server_name().empty()) about += ", sni " + std::string(h.tls_server_name());
      if (o_.insecure) about += ", not verified";
      std::fprintf(stderr, "ae-nc: tls: established (%s)\n", about.c_str());
    }
    push_shutdown();
  }

  // ---- stdin → handle ----

  void read_stdin() {
    if (!stdin_eof_ && !in_.active()) in_ = ae::io(STDIN_FILENO, ae::poll::read, [this] { on_stdin(); });
  }

  void on_stdin() {
    const ssize_t n = ::read(STDIN_FILENO, chunk_.data(), chunk_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      in_.stop();
      return fail(std::string("stdin to socket: read: ") + std::strerror(errno));
    }
    if (n == 0) {
      in_.stop();
      stdin_eof_ = true;
      return push_shutdown();
    }
    h_->push_write(std::string_view(chunk_.data(), static_cast<std::size_t>(n)));
    if (!h_->destroyed() && h_->wbuf_size() > high_water) in_.stop();  // on_drain reads on
  }

  /// Note 7: close_notify after the last byte.
  void push_shutdown() {
    if (!stdin_eof_ || shutdown_pushed_ || !h_ || h_->destroyed()) return;
    shutdown_pushed_ = true;
    h_->push_shutdown();
  }

  // ---- handle → stdout ----

  /// Writes what stdout takes of `data` now (it may be non-blocking); false after an error.
  bool put(std::string_view& data) {
    while (!data.empty()) {
      const ssize_t w = ::write(STDOUT_FILENO, data.data(), data.size());
      if (w > 0) {
        data.remove_prefix(static_cast<std::size_t>(w));
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return true;
      } else {
        fail(std::string("socket to stdout: write: ") + std::strerror(errno));
        return false;
      }
    }
    return true;
  }

  /// Takes everything in rbuf: straight to stdout, the rest into out_ (note 6).
  void take(ae::handle& h) {
    std::string_view data = h.rbuf().view();
    if (out_.size() == out_off_ && !put(data)) return;
    out_.append(data);
    h.rbuf().consume(h.rbuf().size());
  }

  void on_data(ae::handle& h) {
    take(h);
    if (out_.size() == out_off_ || status_ >= 0) return;
    // stdout is full: stop taking data (on_read cleared, else the handle reads on) until
    // it drained.
    h.on_read({});
    h.stop_read();
    paused_ = true;
    wait_stdout();
  }

  void wait_stdout() {
    if (!out_watch_.active()) out_watch_ = ae::io(STDOUT_FILENO, ae::poll::write, [this] { flush_stdout(); });
  }

  void flush_stdout() {
    std::string_view rest = std::string_view(out_).substr(out_off_);
    const std::size_t before = rest.size();
    if (!put(rest)) return out_watch_.stop();
    out_off_ += before - rest.size();
    if (!rest.empty()) return wait_stdout();
    out_.clear();
    out_off_ = 0;
    out_watch_.stop();
    if (peer_eof_) {
      down_done_ = true;
    } else if (paused_ && !h_->destroyed()) {
      paused_ = false;
      h_->on_read([this](ae::handle& h) { on_data(h); });  // runs at once on what waited
    }
  }

  void on_peer_eof(ae::handle& h) {
    peer_eof_ = true;  // note 8
    take(h);
    if (status_ >= 0) return;
    if (out_.size() == out_off_)
      down_done_ = true;
    else
      wait_stdout();
  }

  /// Note 3: both directions done, or the peer done with a terminal on stdin.
  void check_done() {
    if (status_ >= 0) return;
    if (h_->destroyed()) return fail("the connection ended");  // errors have said more already
    if (stdin_eof_ && shutdown_pushed_ && h_->wbuf_size() == 0) up_done_ = true;
    if (down_done_ && (up_done_ || interactive_)) status_ = 0;
  }

  const options& o_;
  std::shared_ptr<ae::tls_context> ctx_;
  std::shared_ptr<ae::handle> h_;
  int status_ = -1;
  const bool interactive_ = ::isatty(STDIN_FILENO) == 1;
  // stdin → handle
  ae::io in_;
  std::vector<char> chunk_ = std::vector<char>(64 * 1024);
  bool stdin_eof_ = false, shutdown_pushed_ = false, up_done_ = false;
  // handle → stdout
  std::string out_;  // bytes stdout has not taken yet, from out_off_ on
  std::size_t out_off_ = 0;
  ae::io out_watch_;
  bool paused_ = false, peer_eof_ = false, down_done_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_args(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);  // note 4
  try {
    std::shared_ptr<ae::tls_context> tls_ctx;
    if (o.tls) {
      std::string error;
      tls_ctx = make_tls_context(o, error);
      if (!tls_ctx) {
        std::fprintf(stderr, "ae-nc: %s\n", error.c_str());
        return 1;
      }
    }
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
    if (tls_ctx) return tls_relay(o, std::move(tls_ctx)).run(std::move(conn));
    return relay(std::move(conn));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ae-nc: %s\n", e.what());
    return 1;
  }
}
