// Stream sockets the AnyEvent::Socket way — tcp_connect, tcp_server, tcp_bind — plus
// IO::Async::Listener's listen() and the name resolution they share (resolve_sockaddr).
//
//   auto g = ae::tcp_connect("localhost", "8080", [](std::error_code ec, ae::fd sock,
//                                                    std::string host, std::uint16_t port) {
//     if (ec) return ae::log::write(ae::log::level::error, ec.message());
//     …  // sock is connected and non-blocking
//   });
//
// Every descriptor handed out is an ae::fd (non-blocking, close-on-exec), so none can leak.
// Callbacks run on the loop given as the last argument (default_loop()). Result callbacks
// (connect, accept, resolve, listen's) never run before the function that takes them
// returns; prepare callbacks and tcp_bind's done callback may, as in AnyEvent. Hosts are
// "unix/" for unix domain sockets, whose path is the service.
#pragma once

#include <anyevent/address.hpp>
#include <anyevent/fd.hpp>
#include <anyevent/function.hpp>
#include <anyevent/guard.hpp>
#include <anyevent/loop.hpp>

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace ae {

/// One way to reach (or bind) a service: what socket() and connect() or bind() need.
struct target {
  int family = AF_UNSPEC;  // AF_INET, AF_INET6 or AF_UNIX
  int type = SOCK_STREAM;
  int protocol = 0;
  ae::sockaddr addr;
};

/// Resolves `node` and `service` into targets, in the order they should be tried, and
/// passes them to `cb` — in a later loop iteration, never before this returns. An empty
/// vector means the name does not resolve (tcp_connect reports that as ENXIO).
///
/// - node: a numeric IPv4/IPv6 address, "localhost" (127.0.0.1 and ::1, never asked of
///   DNS), "unix/" (then `service` is the socket's path and `proto`/`family` are ignored), or
///   a name. A name is asked of DNS through ae::dns::default_resolver(l) — A and AAAA in
///   parallel, after IDNA 2008 for non-ASCII names; when DNS gives no address of a family
///   (no records, NXDOMAIN, timeout), the hosts file (/etc/hosts, or ANYEVENT_HOSTS; read
///   again when it changes) answers for that family, as in AnyEvent.
/// - SRV: when `service` is a name ("http", or "http=80"), _service._proto.node is asked
///   first; its targets and ports, by priority and RFC 2782 weight, replace node and port
///   (a lone "." target: no targets at all). Targets come out by family preference first,
///   then in SRV order.
/// - service: a port number, a name from /etc/services, or AnyEvent's "name=port".
/// - proto: "tcp" (also for ""), "udp" or "sctp". family: 0 (any), 4 or 6. type: 0 means
///   SOCK_STREAM, or SOCK_DGRAM for "udp".
/// - Order and families follow ANYEVENT_PROTOCOLS ("ipv4,ipv6" by default: IPv4 first; only
///   the families listed are used).
///
/// Throws ae::error (std::errc::invalid_argument) for an unknown protocol or service name:
/// those are caller mistakes found before anything starts, as AnyEvent croaks on them.
void resolve_sockaddr(std::string_view node, std::string_view service, std::string_view proto,
                      int family, int type, unique_function<void(std::vector<target>)> cb,
                      loop& l = default_loop());

/// Passed to a tcp_connect callback: call it to drop this connection and try the next target
/// (the callback then runs again, with the next connection or the final error). Calling it
/// after the guard was destroyed, or a second time, does nothing.
using retry_fn = unique_function<void()>;

using connect_fn =
    unique_function<void(std::error_code, ae::fd, std::string peer_host, std::uint16_t peer_port, retry_fn)>;
/// Called with each socket before its connect(); returns the connect timeout for that
/// target (zero: the kernel's). A good place for bind() or setsockopt(). For a host that
/// needs no lookup (numeric, unix/, localhost) the first call happens inside
/// tcp_connect, as in AnyEvent.
using connect_prepare_fn = unique_function<duration(int fd)>;

namespace detail {
guard tcp_connect(std::string_view host, std::string_view service, connect_fn cb,
                  connect_prepare_fn prepare, loop& l);

template <class F>
connect_fn adapt_connect_cb(F&& f) {
  using D = std::decay_t<F>;
  if constexpr (std::is_invocable_v<D&, std::error_code, ae::fd, std::string, std::uint16_t, retry_fn>)
    return connect_fn(std::forward<F>(f));
  else if constexpr (std::is_invocable_v<D&, std::error_code, ae::fd, std::string, std::uint16_t>)
    return [g = std::forward<F>(f)](std::error_code ec, ae::fd s, std::string h, std::uint16_t p,
                                    retry_fn) mutable { g(ec, std::move(s), std::move(h), p); };
  else {
    static_assert(std::is_invocable_v<D&, std::error_code, ae::fd>,
                  "tcp_connect callback: (error_code, fd[, host, port[, retry]])");
    return [g = std::forward<F>(f)](std::error_code ec, ae::fd s, std::string, std::uint16_t,
                                    retry_fn) mutable { g(ec, std::move(s)); };
  }
}
}  // namespace detail

/// Connects a non-blocking stream socket to `host` and `service` (see resolve_sockaddr),
/// trying each target in turn until one connects. `cb(ec, fd, peer_host, peer_port, retry)`
/// runs exactly once (again only if you call retry) and never before tcp_connect returns,
/// even when the connect succeeds at once. On failure `fd` is empty and `ec` holds the errno
/// of the last attempt: ECONNREFUSED, ETIMEDOUT (the timeout `prepare` returned), ENXIO
/// (the name did not resolve) … The callback may also take just (ec, fd) or
/// (ec, fd, host, port). Peer host is the textual address ("unix/" with port 0 for unix
/// sockets). Destroying the guard cancels the attempt at any stage; the callback then never
/// runs. Throws ae::error for an unknown service name.
///
///   auto g = ae::tcp_connect("unix/", "/run/app.sock", [](std::error_code ec, ae::fd s) { … });
template <class F>
[[nodiscard]] guard tcp_connect(std::string_view host, std::string_view service, F&& cb,
                                connect_prepare_fn prepare = {}, loop& l = default_loop()) {
  return detail::tcp_connect(host, service, detail::adapt_connect_cb(std::forward<F>(cb)),
                             std::move(prepare), l);
}

/// Receives each accepted connection: a non-blocking ae::fd and the peer's host and port.
using accept_fn = unique_function<void(ae::fd, std::string peer_host, std::uint16_t peer_port)>;
/// Called after bind() and before listen() with the socket and its bound host and port (an
/// ephemeral port is known here); returns the listen backlog (0: the default, 128).
using server_prepare_fn = unique_function<int(int fd, std::string host, std::uint16_t port)>;

/// Binds a listening stream socket and calls `accept(fd, host, port)` for every connection,
/// accepting until the kernel has none left. The socket is listening when this returns.
/// - host: an IPv4 or IPv6 address; empty means "::" (dual-stack), or 0.0.0.0 where IPv6 is
///   not available; "unix/" for a unix socket at the path `service`.
/// - service: a port, a service name or "name=port"; empty or "0" picks an ephemeral port.
/// SO_REUSEADDR is set on IP sockets. A unix socket path that holds a stale socket (nobody
/// accepts on it) is unlinked before bind(); a live socket or any other file is left alone
/// (bind() then fails). When the guard is destroyed the path is unlinked if it still holds
/// this socket's inode. Errors before listen() throw ae::error with the errno and a message
/// naming the system call; later ones (accept) are logged through ae::log. When accept()
/// runs out of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM) the server logs a warning and
/// stops accepting for 100 ms instead of spinning on a listening socket that stays readable.
[[nodiscard]] guard tcp_server(std::string_view host, std::string_view service, accept_fn accept,
                               server_prepare_fn prepare = {}, loop& l = default_loop());

/// tcp_server without the accepting: binds and listens as tcp_server does, then passes the
/// listening socket to `done` at once (before tcp_bind returns, as in AnyEvent). The guard
/// only unlinks a unix socket path (when it still holds this socket's inode); the socket
/// itself belongs to the callback. Errors throw ae::error.
[[nodiscard]] guard tcp_bind(std::string_view host, std::string_view service,
                             unique_function<void(ae::fd listen_fd)> done,
                             server_prepare_fn prepare = {});

/// Sets TCP_NODELAY (disables Nagle's algorithm); false on error (errno tells why).
bool tcp_nodelay(int fd, bool enable);
/// Sets the TCP congestion control algorithm (TCP_CONGESTION: "cubic", "reno", "bbr" …);
/// false on error or where the option does not exist.
bool tcp_congestion(int fd, std::string_view algorithm);

/// Options of listen(), after IO::Async::Listener. Give exactly one of: `addrs`, `service`
/// (with an optional `host`), or `handle`.
struct listen_options {
  /// Addresses to listen on: one listening socket per address.
  std::vector<target> addrs;
  /// Resolved with resolve_sockaddr(host, service, "tcp", family, SOCK_STREAM). An empty
  /// host listens on every address: 0.0.0.0 and :: (IPV6_V6ONLY), one socket each.
  std::string host;
  std::string service;
  int family = 0;  // 0, 4 or 6, for resolving host and service
  /// A socket already in listening state; listen() only accepts on it (and closes it when
  /// the guard goes).
  ae::fd handle;

  /// Each accepted connection (non-blocking), with the peer's host and port. Required.
  accept_fn on_accept;
  /// Each socket that is now listening, with its bound host and port.
  unique_function<void(int fd, std::string host, std::uint16_t port)> on_listen;
  /// After every address failed: the most significant failure ("listen: …" over "bind: …"
  /// over "sockopt: …" over "socket: …") and its errno. Default: logged as an error.
  unique_function<void(std::string message, int err)> on_listen_error;
  /// The host or service did not resolve. Default: logged as an error.
  unique_function<void(std::string message)> on_resolve_error;
  /// Each failed system call while setting up a socket: "socket", "sockopt", "bind" or
  /// "listen", its arguments in text, and the errno.
  unique_function<void(std::string syscall, std::string args, int err)> on_fail;

  int queuesize = 3;  // listen() backlog; IO::Async's default
  bool reuseaddr = true;
  std::optional<bool> v6only;  // set or clear IPV6_V6ONLY on IPv6 sockets
};

/// Listens on several addresses at once (one socket each) and hands every accepted
/// connection to on_accept. All callbacks run in later loop iterations, never inside
/// listen(): sockets are created after name resolution, or in the next iteration for `addrs`
/// and `handle`. Addresses that fail are reported through on_fail; only when all of them
/// fail does on_listen_error run. Destroying the guard closes every listening socket.
/// Throws ae::error when on_accept is missing or none of addrs, service, handle is given.
[[nodiscard]] guard listen(listen_options options, loop& l = default_loop());

}  // namespace ae
