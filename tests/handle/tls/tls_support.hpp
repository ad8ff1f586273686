// Helpers for the TLS scenarios: certificates made with the `openssl` command line at first
// use, real OpenSSL peers (s_server, s_client) as child processes on loopback, contexts, and
// a record of what a handle's callbacks saw. Every wait is bounded (handle_test::run_until on
// the default loop), every child is killed and reaped when its object goes, and nothing
// names a backend.
#pragma once

#include "../support.hpp"

#include <anyevent/child.hpp>
#include <anyevent/handle.hpp>
#include <anyevent/io.hpp>
#include <anyevent/socket.hpp>
#include <anyevent/tls.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tls_test {

using namespace handle_test;

/// PEM files made at first use in a temporary directory that is removed at exit. All keys
/// are P-256 (quick to make). Every certificate but self_cert is signed by ca_cert.
struct cert_files {
  std::string dir;
  std::string ca_cert, ca_key;          // CN "anyevent test CA"
  std::string server_cert, server_key;  // SAN DNS:localhost, IP:127.0.0.1, IP:::1 (serverAuth)
  std::string other_cert, other_key;    // SAN DNS:other.test only (a name mismatch for localhost)
  std::string self_cert, self_key;      // self-signed, same names as server_cert: untrusted
  std::string client_cert, client_key;  // CN "anyevent test client" (clientAuth)
};
const cert_files& certs();

/// Runs a command to its end (at most `limit`), stdout and stderr collected; returns the
/// wait status, or -1 if it had to be killed.
int run_command(const std::vector<std::string>& argv, std::string& output,
                std::chrono::milliseconds limit = std::chrono::seconds(30));

/// A client that trusts our CA (and nothing else).
ae::tls_options client_options();
/// A server with server_cert / server_key.
ae::tls_options server_options();
std::shared_ptr<ae::tls_context> make_context(ae::tls_options o);
inline std::shared_ptr<ae::tls_context> client_context() { return make_context(client_options()); }
inline std::shared_ptr<ae::tls_context> server_context() { return make_context(server_options()); }

/// A child process: stdin is a pipe we write, stdout and stderr go to one pipe the default
/// loop reads into output(). Its exit is seen by an ae::child watcher. The destructor
/// closes the pipes, kills the child (SIGTERM, then SIGKILL) and reaps it.
class process {
 public:
  explicit process(std::vector<std::string> argv, std::string cwd = {});
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  /// Everything the child printed so far (stdout and stderr interleaved).
  const std::string& output() const noexcept { return output_; }
  bool printed(std::string_view needle) const { return output_.find(needle) != std::string::npos; }
  /// Runs the loop until output() holds `needle`, the child exits, or `limit` passes.
  bool wait_output(std::string_view needle, std::chrono::milliseconds limit = patience);
  void write_stdin(std::string_view data);
  void close_stdin() noexcept;

  bool exited() const noexcept { return exited_; }
  /// The waitpid() status (valid once exited()).
  int status() const noexcept { return status_; }
  bool exit_ok() const noexcept;
  /// Runs the loop until the child exits (or `limit` passes); returns exited().
  bool wait_exit(std::chrono::milliseconds limit = patience);
  /// Kills and reaps the child now (the destructor does this too).
  void stop() noexcept;

 private:
  void on_output();
  pid_t pid_ = -1;
  ae::fd in_, out_;
  ae::io out_watch_;
  ae::child exit_watch_;
  std::string output_;
  bool exited_ = false;
  int status_ = 0;
};

/// `openssl s_server` on 127.0.0.1 (or `host`) and an ephemeral port: started with
/// `-accept HOST:0` plus `args`; the constructor waits (bounded) for the "ACCEPT host:port"
/// line OpenSSL 3 prints with the port it bound. `cwd` matters for -WWW.
class s_server {
 public:
  explicit s_server(std::vector<std::string> args, std::string cwd = {}, std::string host = "127.0.0.1");
  std::uint16_t port() const noexcept { return port_; }
  std::string service() const { return std::to_string(port_); }
  process& proc() noexcept { return *proc_; }
  const std::string& output() const noexcept { return proc_->output(); }
  bool wait_output(std::string_view needle, std::chrono::milliseconds limit = patience) {
    return proc_->wait_output(needle, limit);
  }

 private:
  std::unique_ptr<process> proc_;
  std::uint16_t port_ = 0;
};

/// `-cert server_cert -key server_key` (the usual s_server arguments).
std::vector<std::string> server_cert_args();

/// `openssl s_client -connect 127.0.0.1:PORT -nocommands` plus `args`.
std::unique_ptr<process> s_client(std::uint16_t port, std::vector<std::string> args);

/// A listening socket on 127.0.0.1, port 0, whose connections go to `accept`.
struct server {
  ae::guard guard;
  std::uint16_t port = 0;
  explicit server(ae::accept_fn accept);
  std::string service() const { return std::to_string(port); }
};

/// What a handle's callbacks saw. Keep it alive as long as the handle.
struct observed {
  int errors = 0, fatal_errors = 0;
  std::error_code ec;
  std::string error_message;
  int starttls_calls = 0;
  bool starttls_ok = false;
  std::string starttls_message;
  int stoptls_calls = 0;
  int eof_calls = 0;
  std::string received;  // what on_read consumed (with read_all)
  std::shared_ptr<ae::handle> self;

  bool handshake_done() const { return starttls_calls > 0 || errors > 0; }
  bool failed() const { return errors > 0 || (starttls_calls > 0 && !starttls_ok); }
};

/// Sets on_error and on_eof (and on_starttls / on_stoptls when asked) to record into `o`;
/// with read_all, on_read moves everything read into o.received.
void observe(ae::handle_options& opts, observed& o, bool starttls = true, bool stoptls = false,
             bool read_all = true);

/// Options for a TLS handle over `sock`: mode, context, peername; linger 0 (tests end with
/// nothing unwritten that matters).
ae::handle_options tls_handle(ae::fd sock, ae::tls_mode mode, std::shared_ptr<ae::tls_context> ctx,
                              std::string peername = {});

/// A client (tls connect, `peername`, client_ctx) and a server (tls accept, server_ctx) over
/// the two ends of a socket pair; the test adds callbacks and creates the handles.
struct pair_options {
  ae::handle_options client, server;
};
pair_options socketpair_options(std::shared_ptr<ae::tls_context> client_ctx,
                                std::shared_ptr<ae::tls_context> server_ctx, std::string peername = "localhost");

/// Whether ::1 can be bound here (IPv6 loopback present).
bool have_ipv6_loopback();

/// The subject CN of the peer's certificate on `h` ("" if none).
std::string peer_common_name(const ae::handle& h);

/// SSL_version() of the handle's session (0 without one).
int tls_version(const ae::handle& h);

/// A minimal SMTP-like server written with ae::handle: "220 …" greeting; EHLO → "250-…" and
/// "250 STARTTLS"; STARTTLS → "220 go ahead" and starttls(accept, ctx); QUIT → "221 bye" and
/// push_shutdown; any other line → "250 got <line>". Lines are recorded with whether TLS
/// was on when they arrived.
struct smtp_server {
  struct conn {
    observed o;
    std::shared_ptr<ae::handle> h;
    std::vector<std::string> plain_lines, tls_lines;
    bool wbuf_empty_at_starttls = false;
  };
  std::vector<std::unique_ptr<conn>> conns;
  std::shared_ptr<ae::tls_context> ctx;
  server srv;

  explicit smtp_server(std::shared_ptr<ae::tls_context> c);
  ~smtp_server();
  smtp_server(const smtp_server&) = delete;
  smtp_server& operator=(const smtp_server&) = delete;

 private:
  void read_command(conn& c);
};

/// Case-insensitive search.
bool contains_nocase(std::string_view haystack, std::string_view needle);

}  // namespace tls_test
