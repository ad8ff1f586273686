// Private pieces shared by connect.cpp, server.cpp, listen.cpp and resolve.cpp: service
// and protocol parsing, family preferences, and the listening-socket machinery that
// tcp_server, tcp_bind and listen() all use.
#pragma once

#include <anyevent/io.hpp>
#include <anyevent/socket.hpp>
#include <anyevent/timer.hpp>

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ae::detail {

// ---- resolution helpers (resolve.cpp) ----

/// The port of a service: digits, AnyEvent's "name=port", or a name from the services
/// database for `proto`. Empty gives 0. nullopt for anything else.
std::optional<std::uint16_t> parse_service(std::string_view service, std::string_view proto);

/// The targets of resolve_sockaddr when they can be known without waiting (numeric
/// addresses, unix/, localhost); nullopt when a lookup must wait (DNS, then the hosts file).
/// Throws as resolve_sockaddr does. tcp_connect uses it to start connecting at once, which
/// saves the loop iteration a postponed answer costs.
std::optional<std::vector<target>> resolve_now(std::string_view node, std::string_view service,
                                               std::string_view proto, int family, int type);

/// ANYEVENT_PROTOCOLS as a preference: rank of AF_INET / AF_INET6 (lower is preferred), or
/// -1 when the family is not to be used. Read at every call (it is a few bytes).
struct protocol_preference {
  int ipv4 = 0;
  int ipv6 = 1;
  int rank(int family) const noexcept { return family == AF_INET ? ipv4 : family == AF_INET6 ? ipv6 : 0; }
};
protocol_preference protocols();

/// resolve_sockaddr with a guard that cancels the lookup (and its DNS queries): the callback
/// then never runs. A lookup answered without DNS cannot be cancelled this way (the guard is
/// empty); its callback is already on the loop.
guard resolve_async(std::string_view node, std::string_view service, std::string_view proto,
                    int family, int type, unique_function<void(std::vector<target>)> cb, loop& l);

/// Host and port of a socket address as the callbacks report them: the textual address and
/// port, or "unix/" and 0. Never throws; an address it cannot read gives ("", 0).
std::pair<std::string, std::uint16_t> host_port(const ae::sockaddr& sa) noexcept;

/// "host:port", "[v6]:port" or the unix path, for messages.
std::string describe(const ae::sockaddr& sa);

/// The errno as text ("Connection refused").
std::string errno_text(int err);

// ---- listening sockets (server.cpp) ----

/// A failed system call while setting up a listening socket, for on_fail and messages.
struct sys_failure {
  const char* syscall = "";  // "socket", "sockopt", "bind", "listen"
  std::string args;
  int err = 0;
  /// IO::Async's ranking for on_listen_error: listen > bind > sockopt > socket.
  int rank() const noexcept;
  std::string message() const;  // "bind 127.0.0.1:80: Address already in use"
};

/// Owns a unix socket path this process bound: unlinks it when destroyed, but only while the
/// path still holds the same inode (someone may have replaced it since).
class unix_path_owner {
 public:
  unix_path_owner() noexcept = default;
  unix_path_owner(std::string path, dev_t dev, ino_t ino) : path_(std::move(path)), dev_(dev), ino_(ino) {}
  unix_path_owner(unix_path_owner&& o) noexcept
      : path_(std::exchange(o.path_, {})), dev_(o.dev_), ino_(o.ino_) {}
  unix_path_owner& operator=(unix_path_owner&& o) noexcept {
    if (this != &o) {
      reset();
      path_ = std::exchange(o.path_, {});
      dev_ = o.dev_;
      ino_ = o.ino_;
    }
    return *this;
  }
  ~unix_path_owner() { reset(); }
  void reset() noexcept;

 private:
  std::string path_;  // empty: owns nothing
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

/// A bound, listening socket and, for a unix socket, its path.
struct listening_socket {
  ae::fd fd;
  unix_path_owner path;  // declared after fd: the path goes first, then the socket closes
};

/// How open_listener sets a socket up.
struct listen_setup {
  bool reuseaddr = true;       // SO_REUSEADDR (IP sockets only)
  std::optional<bool> v6only;  // IPV6_V6ONLY (IPv6 sockets only)
  int backlog = 128;
  server_prepare_fn* prepare = nullptr;  // may override the backlog
};

/// socket(), setsockopt(), (stale unix socket removal), bind(), prepare, listen() for one
/// target. On failure returns nullopt and describes the failed call in `failure`. Exceptions
/// thrown by prepare propagate (the socket is closed).
std::optional<listening_socket> open_listener(const target& t, const listen_setup& setup,
                                              sys_failure& failure);

/// Accepts connections on a listening socket until closed. Keeps itself alive while open
/// (a server whose guard was released runs on, as AnyEvent's void context does); close()
/// ends it, also from inside its own callback.
class acceptor : public std::enable_shared_from_this<acceptor> {
 public:
  static std::shared_ptr<acceptor> start(listening_socket sock, accept_fn cb, loop& l);
  void close() noexcept;
  int fd() const noexcept { return sock_.fd.get(); }

  acceptor(listening_socket sock, accept_fn cb, loop& l);

 private:
  void on_readable();
  void pause(int err);
  void arm();

  listening_socket sock_;
  accept_fn cb_;
  loop loop_;
  ae::io io_;         // after sock_: stopped before the socket closes
  ae::timer resume_;  // while paused after EMFILE and friends
  std::shared_ptr<acceptor> self_;
  bool closed_ = false;
  bool warned_ = false;  // one warning per streak of accept failures
};

/// A guard that closes every acceptor in `list` (weakly held: a closed one may be gone).
guard close_guard(std::vector<std::weak_ptr<acceptor>> list);

}  // namespace ae::detail
