// Certificates, OpenSSL peer processes and small recorders for the TLS scenarios (see
// tls_support.hpp).
#include "tls_support.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace tls_test {

namespace {

/// posix_spawn with stdin from `in` (or /dev/null), stdout and stderr to `out`, in `cwd`.
/// The loop may block signals; the child gets an empty mask and default dispositions.
pid_t spawn(const std::vector<std::string>& args, int in, int out, const std::string& cwd) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in >= 0)
    posix_spawn_file_actions_adddup2(&fa, in, 0);
  else
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, out, 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGTERM, SIGINT, SIGCHLD, SIGPIPE, SIGHUP}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("posix_spawn " + args[0] + ": " + std::strerror(rc));
  return pid;
}

/// waitpid without blocking: true once the child is gone (reaped here, or by someone else).
bool reap(pid_t pid, int& status) {
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

/// Kills `pid` (SIGTERM, SIGKILL after 2 s) and reaps it.
void kill_and_reap(pid_t pid, int& status) {
  if (reap(pid, status)) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (reap(pid, status)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

void write_file(const std::string& path, std::string_view text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  const int st = run_command(argv, out);
  if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    std::string cmd;
    for (auto& a : argv) cmd += a + " ";
    throw std::runtime_error("certificate generation failed: " + cmd + "\n" + out);
  }
}

struct cert_holder {
  cert_files f;
  cert_holder() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/ae-tls-XXXXXX";
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    f.dir = templ;
    const std::string d = f.dir + "/";
    auto p = [&](const char* name) { return d + name; };
    f.ca_cert = p("ca.pem"), f.ca_key = p("ca.key");
    f.server_cert = p("server.pem"), f.server_key = p("server.key");
    f.other_cert = p("other.pem"), f.other_key = p("other.key");
    f.self_cert = p("self.pem"), f.self_key = p("self.key");
    f.client_cert = p("client.pem"), f.client_key = p("client.key");
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"};
    auto req = [&](std::vector<std::string> head, std::vector<std::string> tail) {
      head.insert(head.end(), ec.begin(), ec.end());
      head.insert(head.end(), tail.begin(), tail.end());
      openssl(head);
    };
    req({"req", "-x509"}, {"-keyout", f.ca_key, "-out", f.ca_cert, "-subj", "/CN=anyevent test CA", "-days", "30",
                           "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                           "keyUsage=critical,keyCertSign,cRLSign"});
    auto signed_cert = [&](const std::string& cert, const std::string& key, const std::string& cn,
                           const std::string& ext, const char* serial) {
      const std::string csr = cert + ".csr", extfile = cert + ".ext";
      write_file(extfile, ext);
      req({"req", "-new"}, {"-keyout", key, "-out", csr, "-subj", "/CN=" + cn});
      openssl({"x509", "-req", "-in", csr, "-CA", f.ca_cert, "-CAkey", f.ca_key, "-set_serial", serial, "-days",
               "30", "-extfile", extfile, "-out", cert});
    };
    signed_cert(f.server_cert, f.server_key, "localhost",
                "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
                "2");
    signed_cert(f.other_cert, f.other_key, "other.test",
                "subjectAltName=DNS:other.test\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
                "3");
    signed_cert(f.client_cert, f.client_key, "anyevent test client",
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
                "4");
    req({"req", "-x509"}, {"-keyout", f.self_key, "-out", f.self_cert, "-subj", "/CN=localhost", "-days", "30",
                           "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"});
  }
  ~cert_holder() {
    std::error_code ec;
    std::filesystem::remove_all(f.dir, ec);
  }
};

}  // namespace

int run_command(const std::vector<std::string>& argv, std::string& output, std::chrono::milliseconds limit) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  ae::fd rd(p[0]), wr(p[1]);
  const pid_t pid = spawn(argv, -1, wr.get(), {});
  wr.reset();
  // The command is short: read its output to the end, then reap it; killed when `limit`
  // passes (no loop involved, this runs before any handle exists).
  const auto deadline = std::chrono::steady_clock::now() + limit;
  ::fcntl(rd.get(), F_SETFL, O_NONBLOCK);
  int status = 0;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) break;  // every writer is gone: the child is exiting
    if (std::chrono::steady_clock::now() > deadline) {
      kill_and_reap(pid, status);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  while (std::chrono::steady_clock::now() < deadline) {
    if (reap(pid, status)) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill_and_reap(pid, status);
  return -1;
}

const cert_files& certs() {
  static cert_holder holder;
  return holder.f;
}

ae::tls_options client_options() {
  ae::tls_options o;
  o.ca_file = certs().ca_cert;
  return o;
}

ae::tls_options server_options() {
  ae::tls_options o;
  o.cert_file = certs().server_cert;
  o.key_file = certs().server_key;
  return o;
}

std::shared_ptr<ae::tls_context> make_context(ae::tls_options o) {
  return std::make_shared<ae::tls_context>(std::move(o));
}

// ---- process ----

process::process(std::vector<std::string> argv, std::string cwd) {
  int in[2], out[2];
  REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  ae::fd in_rd(in[0]);
  in_.reset(in[1]);
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  out_.reset(out[0]);
  ae::fd out_wr(out[1]);
  pid_ = spawn(argv, in_rd.get(), out_wr.get(), cwd);
  // Our copies of the child's ends go now, so its exit is the pipe's EOF.
  in_rd.reset();
  out_wr.reset();
  ::fcntl(out_.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(in_.get(), F_SETFL, O_NONBLOCK);
  out_watch_ = ae::io(out_.get(), ae::poll::read, [this] { on_output(); });
  exit_watch_ = ae::child(pid_, [this](pid_t, int status) {
    exited_ = true;
    status_ = status;
  });
}

process::~process() { stop(); }

void process::on_output() {
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(out_.get(), buf, sizeof buf);
    if (n > 0) {
      output_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      out_watch_.stop();
      out_.reset();
    }
    return;
  }
}

bool process::wait_output(std::string_view needle, std::chrono::milliseconds limit) {
  run_until([&] { return printed(needle) || (exited_ && !out_); }, limit);
  return printed(needle);
}

void process::write_stdin(std::string_view data) {
  REQUIRE(in_);
  // Test input is small: the pipe takes it at once.
  while (!data.empty()) {
    const ssize_t n = ::write(in_.get(), data.data(), data.size());
    REQUIRE(n > 0);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void process::close_stdin() noexcept { in_.reset(); }

bool process::exit_ok() const noexcept { return exited_ && WIFEXITED(status_) && WEXITSTATUS(status_) == 0; }

bool process::wait_exit(std::chrono::milliseconds limit) {
  // Also drain the output pipe to its end, so output() is complete once this returns true.
  run_until([&] { return exited_ && !out_; }, limit);
  return exited_;
}

void process::stop() noexcept {
  exit_watch_.stop();
  out_watch_.stop();
  in_.reset();
  if (pid_ > 0 && !exited_) {
    int status = 0;
    kill_and_reap(pid_, status);
    exited_ = true;
    status_ = status;
  }
  pid_ = -1;
  out_.reset();
}

// ---- s_server / s_client ----

std::vector<std::string> server_cert_args() {
  return {"-cert", certs().server_cert, "-key", certs().server_key};
}

s_server::s_server(std::vector<std::string> args, std::string cwd, std::string host) {
  std::vector<std::string> argv = {"openssl", "s_server", "-accept", (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":0"};
  argv.insert(argv.end(), args.begin(), args.end());
  proc_ = std::make_unique<process>(argv, cwd);
  // OpenSSL 3 prints "ACCEPT 127.0.0.1:40823" (or "ACCEPT [::1]:40823") once it listens.
  REQUIRE_MESSAGE(proc_->wait_output("ACCEPT "), "s_server did not start: " << proc_->output());
  auto until_eol = [&] {
    run_until([&] {
      const auto at = proc_->output().find("ACCEPT ");
      return proc_->output().find('\n', at) != std::string::npos || proc_->exited();
    });
  };
  until_eol();
  const std::string& out = proc_->output();
  const auto at = out.find("ACCEPT ");
  const auto eol = out.find('\n', at);
  REQUIRE(eol != std::string::npos);
  const std::string line = out.substr(at, eol - at);
  const auto colon = line.rfind(':');
  REQUIRE(colon != std::string::npos);
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
  REQUIRE(port_ != 0);
}

std::unique_ptr<process> s_client(std::uint16_t port, std::vector<std::string> args) {
  std::vector<std::string> argv = {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                                   "-nocommands"};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<process>(argv);
}

server::server(ae::accept_fn accept) {
  guard = ae::tcp_server("127.0.0.1", "0", std::move(accept), [this](int, std::string, std::uint16_t p) {
    port = p;
    return 0;
  });
  REQUIRE(port != 0);
}

// ---- handles ----

void observe(ae::handle_options& opts, observed& o, bool starttls, bool stoptls, bool read_all) {
  opts.on_error = [&o](ae::handle&, bool fatal, std::error_code ec, std::string_view message) {
    ++o.errors;
    if (fatal) ++o.fatal_errors;
    o.ec = ec;
    o.error_message = std::string(message);
  };
  opts.on_eof = [&o](ae::handle&) { ++o.eof_calls; };
  if (starttls)
    opts.on_starttls = [&o](ae::handle&, bool ok, std::string_view message) {
      ++o.starttls_calls;
      o.starttls_ok = ok;
      o.starttls_message = std::string(message);
    };
  if (stoptls) opts.on_stoptls = [&o](ae::handle&) { ++o.stoptls_calls; };
  if (read_all)
    opts.on_read = [&o](ae::handle& h) {
      o.received.append(h.rbuf().view());
      h.rbuf().consume(h.rbuf().size());
    };
}

ae::handle_options tls_handle(ae::fd sock, ae::tls_mode mode, std::shared_ptr<ae::tls_context> ctx,
                              std::string peername) {
  ae::handle_options o;
  o.fd = std::move(sock);
  o.tls = mode;
  o.tls_ctx = std::move(ctx);
  o.peername = std::move(peername);
  o.linger = std::chrono::seconds(0);
  return o;
}

pair_options socketpair_options(std::shared_ptr<ae::tls_context> client_ctx,
                                std::shared_ptr<ae::tls_context> server_ctx, std::string peername) {
  auto sp = make_socketpair();
  return {tls_handle(std::move(sp.a), ae::tls_mode::connect, std::move(client_ctx), std::move(peername)),
          tls_handle(std::move(sp.b), ae::tls_mode::accept, std::move(server_ctx))};
}

bool have_ipv6_loopback() {
  ae::fd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return false;
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  return ::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

std::string peer_common_name(const ae::handle& h) {
  SSL* ssl = h.tls();
  if (!ssl) return {};
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return {};
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

int tls_version(const ae::handle& h) { return h.tls() ? SSL_version(h.tls()) : 0; }

smtp_server::smtp_server(std::shared_ptr<ae::tls_context> c)
    : ctx(std::move(c)), srv([this](ae::fd sock, std::string, std::uint16_t) {
        auto& cn = *conns.emplace_back(std::make_unique<conn>());
        ae::handle_options opts;
        opts.fd = std::move(sock);
        opts.linger = std::chrono::seconds(0);
        observe(opts, cn.o, true, false, /*read_all=*/false);
        cn.h = ae::handle::create(std::move(opts));
        cn.h->push_write("220 anyevent.test ESMTP test server\r\n");
        read_command(cn);
      }) {}

smtp_server::~smtp_server() {
  for (auto& c : conns)
    if (c->h) c->h->destroy();
}

void smtp_server::read_command(conn& c) {
  c.h->push_read(ae::line(), [this, &c](ae::handle& h, std::string_view line) {
    const bool tls = h.tls() != nullptr;
    (tls ? c.tls_lines : c.plain_lines).emplace_back(line);
    if (line.starts_with("EHLO") || line.starts_with("ehlo")) {
      h.push_write(tls ? "250-anyevent.test\r\n250 OK\r\n" : "250-anyevent.test greets you\r\n250 STARTTLS\r\n");
    } else if (line == "STARTTLS" && !tls) {
      h.push_write("220 go ahead\r\n");
      c.wbuf_empty_at_starttls = h.wbuf_size() == 0;
      h.starttls(ae::tls_mode::accept, ctx);
    } else if (line == "QUIT") {
      h.push_write("221 bye\r\n");
      h.push_shutdown();
      return;
    } else {
      h.push_write("250 got " + std::string(line) + "\r\n");
    }
    read_command(c);
  });
}

bool contains_nocase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != haystack.end();
}

}  // namespace tls_test
