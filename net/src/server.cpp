// tcp_server, tcp_bind and the listening-socket machinery listen() shares with them.
//
// Notes:
// 1. accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) in a loop until EAGAIN: one wakeup drains the
//    whole queue, and no accepted descriptor is ever blocking or leaks into an exec'd child.
// 2. EMFILE at accept: the pending connection stays queued and the listening socket stays
//    readable, so a level-triggered loop would call us again at once, forever. The acceptor
//    stops its io watcher and resumes after 100 ms (docs/special-problems.md), logging one
//    warning per streak. Unknown accept errors pause the same way rather than spin.
// 3. Linux reports some network errors of the pending connection from accept (ENETDOWN,
//    EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH) and
//    ECONNABORTED for one reset while queued (accept(2) "Error handling"): those connections
//    are gone, the next one may be fine, so the loop goes on.
// 4. A stale unix socket is one that refuses connections (its server is gone). Only such a
//    path is unlinked before bind(); AnyEvent unlinks whatever is there, which can delete a
//    live server's socket or a regular file given by mistake.
// 5. The unlink at the end compares device and inode with what bind() created: if someone
//    replaced the path since, theirs stays. This is best effort (stat then unlink is racy),
//    as in AnyEvent.
// 6. tcp_server with no host binds "::" with IPV6_V6ONLY cleared, which takes IPv4 too on a
//    dual-stack host, and falls back to 0.0.0.0 only when IPv6 is not available there.
#include "socket_impl.hpp"

#include <anyevent/error.hpp>
#include <anyevent/log.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

using namespace std::chrono_literals;

namespace ae::detail {

namespace {

const char* family_name(int af) {
  switch (af) {
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    case AF_UNIX: return "AF_UNIX";
    default: return "AF_?";
  }
}

const char* type_name(int type) {
  switch (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
    case SOCK_STREAM: return "SOCK_STREAM";
    case SOCK_DGRAM: return "SOCK_DGRAM";
    case SOCK_SEQPACKET: return "SOCK_SEQPACKET";
    default: return "SOCK_?";
  }
}

/// The filesystem path of a unix target; empty for the abstract namespace or an unnamed one.
std::string unix_path_of(const target& t) {
  if (t.family != AF_UNIX) return {};
  try {
    auto [path, host] = unpack_sockaddr(t.addr);
    return path.starts_with('\0') ? std::string() : std::move(path);
  } catch (const std::exception&) {
    return {};
  }
}

/// Whether the socket at `path` refuses connections: its server has gone (note 4).
bool stale_unix_socket(const target& t) {
  ae::fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe) return false;
  return ::connect(probe.get(), t.addr.data(), t.addr.size()) < 0 && errno == ECONNREFUSED;
}

bool set_int_option(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0;
}

bool is_transient_accept_error(int err) {
  switch (err) {
    case ECONNABORTED: case EPROTO: case ENETDOWN: case ENOPROTOOPT: case EHOSTDOWN:
    case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH: case EPERM:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void throw_failure(const char* who, const sys_failure& f) {
  // system_error appends the errno's text itself: "ae::tcp_server: bind(5, 127.0.0.1:80): Address already in use".
  throw ae::error(std::error_code(f.err, std::generic_category()),
                  std::string(who) + ": " + f.syscall + "(" + f.args + ")");
}

/// The target of tcp_server / tcp_bind's host and service, or an ae::error.
target server_target(std::string_view host, std::string_view service, const char* who) {
  if (host == "unix/") {
    try {
      return {AF_UNIX, SOCK_STREAM, 0, pack_sockaddr(service, address::unix_socket())};
    } catch (const std::invalid_argument& e) {
      throw ae::error(std::make_error_code(std::errc::invalid_argument), std::string(who) + ": " + e.what());
    }
  }
  const auto a = parse_address(host);
  if (!a || a->family() == AF_UNIX)
    throw ae::error(std::make_error_code(std::errc::invalid_argument),
                    std::string(who) + ": cannot parse '" + std::string(host) + "' as host address");
  const auto port = parse_service(service, "tcp");
  if (!port)
    throw ae::error(std::make_error_code(std::errc::invalid_argument),
                    std::string(who) + ": unknown service '" + std::string(service) + "/tcp'");
  return {a->family(), SOCK_STREAM, IPPROTO_TCP, pack_sockaddr(*port, *a)};
}

/// Binds and listens as tcp_server and tcp_bind do (note 6), or throws.
listening_socket bind_server(std::string_view host, std::string_view service,
                             server_prepare_fn& prepare, const char* who) {
  listen_setup setup;
  setup.prepare = prepare ? &prepare : nullptr;
  sys_failure failure;
  if (host.empty()) {
    const target v6 = server_target("::", service, who);
    setup.v6only = false;
    if (auto s = open_listener(v6, setup, failure)) return std::move(*s);
    const bool no_ipv6 = failure.err == EAFNOSUPPORT || failure.err == EADDRNOTAVAIL ||
                         failure.err == EPROTONOSUPPORT;
    if (!no_ipv6) throw_failure(who, failure);
    setup.v6only.reset();
    if (auto s = open_listener(server_target("0.0.0.0", service, who), setup, failure)) return std::move(*s);
    throw_failure(who, failure);
  }
  if (auto s = open_listener(server_target(host, service, who), setup, failure)) return std::move(*s);
  throw_failure(who, failure);
}

}  // namespace

int sys_failure::rank() const noexcept {
  const std::string_view s = syscall;
  return s == "listen" ? 4 : s == "bind" ? 3 : s == "sockopt" ? 2 : s == "socket" ? 1 : 0;
}

std::string sys_failure::message() const {
  return std::string(syscall) + (args.empty() ? "" : " " + args) + ": " + errno_text(err);
}

void unix_path_owner::reset() noexcept {
  if (path_.empty()) return;
  struct stat st{};
  if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev_ && st.st_ino == ino_)
    ::unlink(path_.c_str());
  path_.clear();
}

std::optional<listening_socket> open_listener(const target& t, const listen_setup& setup,
                                              sys_failure& failure) {
  // errno is saved before the argument text is built: allocation may change it.
  auto fail = [&](const char* call, int err, std::string args) {
    failure = {call, std::move(args), err};
    return std::nullopt;
  };
  listening_socket s;
  s.fd.reset(::socket(t.family, t.type | SOCK_NONBLOCK | SOCK_CLOEXEC, t.protocol));
  if (!s.fd) {
    const int e = errno;
    return fail("socket", e, std::string(family_name(t.family)) + ", " + type_name(t.type) + ", " +
                                 std::to_string(t.protocol));
  }
  const std::string fd_text = std::to_string(s.fd.get());

  if (t.family == AF_INET || t.family == AF_INET6) {
    if (setup.reuseaddr && !set_int_option(s.fd.get(), SOL_SOCKET, SO_REUSEADDR, 1)) {
      const int e = errno;
      return fail("sockopt", e, fd_text + ", SO_REUSEADDR, 1");
    }
    if (t.family == AF_INET6 && setup.v6only &&
        !set_int_option(s.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, *setup.v6only ? 1 : 0)) {
      const int e = errno;
      return fail("sockopt", e, fd_text + ", IPV6_V6ONLY, " + (*setup.v6only ? "1" : "0"));
    }
  }

  const std::string path = unix_path_of(t);
  if (!path.empty()) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && stale_unix_socket(t)) {
      log::write(log::level::debug, "unlinking stale unix socket " + path);
      ::unlink(path.c_str());
    }
  }

  if (::bind(s.fd.get(), t.addr.data(), t.addr.size()) < 0) {
    const int e = errno;
    return fail("bind", e, fd_text + ", " + describe(t.addr));
  }

  if (!path.empty()) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) s.path = unix_path_owner(path, st.st_dev, st.st_ino);
  }

  int backlog = setup.backlog;
  if (setup.prepare) {
    ae::sockaddr local;
    socklen_t len = local.capacity();
    if (::getsockname(s.fd.get(), local.data(), &len) == 0) local.resize(len);
    auto [host, port] = host_port(local);
    if (const int b = (*setup.prepare)(s.fd.get(), std::move(host), port); b > 0) backlog = b;
  }
  if (::listen(s.fd.get(), backlog) < 0) {
    const int e = errno;
    return fail("listen", e, fd_text + ", " + std::to_string(backlog));
  }
  return s;
}

// ---- acceptor ----

acceptor::acceptor(listening_socket sock, accept_fn cb, loop& l)
    : sock_(std::move(sock)), cb_(std::move(cb)), loop_(l) {}

std::shared_ptr<acceptor> acceptor::start(listening_socket sock, accept_fn cb, loop& l) {
  auto a = std::make_shared<acceptor>(std::move(sock), std::move(cb), l);
  a->arm();
  a->self_ = a;
  return a;
}

void acceptor::arm() {
  io_ = ae::io(sock_.fd.get(), poll::read, [this] { on_readable(); }, loop_);
}

void acceptor::close() noexcept {
  if (closed_) return;
  closed_ = true;
  io_.stop();
  resume_.stop();
  sock_ = {};
  auto last = std::move(self_);  // may free *this when `last` goes, after every member use
}

void acceptor::pause(int err) {
  if (!warned_) {
    log::write(err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ? log::level::warn
                                                                                : log::level::error,
               "accept on fd " + std::to_string(sock_.fd.get()) + ": " + errno_text(err) +
                   "; not accepting for 100 ms");
    warned_ = true;
  }
  io_.stop();
  resume_ = ae::timer(100ms, [this] {
    if (!closed_) arm();
  }, loop_);
}

void acceptor::on_readable() {
  auto keep = shared_from_this();  // the callback may close (and release) us
  while (!closed_) {
    ae::sockaddr peer;
    socklen_t len = peer.capacity();
    const int c = ::accept4(sock_.fd.get(), peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (err == EINTR || is_transient_accept_error(err)) continue;
      pause(err);
      return;
    }
    ae::fd conn(c);
    warned_ = false;
    std::pair<std::string, std::uint16_t> hp;
    if (len <= peer.capacity()) {
      peer.resize(len);
      hp = host_port(peer);
    }
    cb_(std::move(conn), std::move(hp.first), hp.second);
  }
}

guard close_guard(std::vector<std::weak_ptr<acceptor>> list) {
  return guard([list = std::move(list)]() mutable {
    for (auto& w : list)
      if (auto a = w.lock()) a->close();
    list.clear();
  });
}

}  // namespace ae::detail

namespace ae {

guard tcp_server(std::string_view host, std::string_view service, accept_fn accept,
                 server_prepare_fn prepare, loop& l) {
  if (!accept)
    throw ae::error(std::make_error_code(std::errc::invalid_argument), "ae::tcp_server: no accept callback");
  auto sock = detail::bind_server(host, service, prepare, "ae::tcp_server");
  auto a = detail::acceptor::start(std::move(sock), std::move(accept), l);
  return detail::close_guard({a});
}

guard tcp_bind(std::string_view host, std::string_view service,
               unique_function<void(ae::fd listen_fd)> done, server_prepare_fn prepare) {
  if (!done)
    throw ae::error(std::make_error_code(std::errc::invalid_argument), "ae::tcp_bind: no done callback");
  auto sock = detail::bind_server(host, service, prepare, "ae::tcp_bind");
  guard g([path = std::move(sock.path)]() mutable { path.reset(); });
  done(std::move(sock.fd));
  return g;
}

bool tcp_nodelay(int fd, bool enable) {
  const int v = enable ? 1 : 0;
  return ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) == 0;
}

bool tcp_congestion(int fd, std::string_view algorithm) {
#ifdef TCP_CONGESTION
  return ::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, algorithm.data(),
                      static_cast<socklen_t>(algorithm.size())) == 0;
#else
  (void)fd;
  (void)algorithm;
  errno = ENOPROTOOPT;
  return false;
#endif
}

}  // namespace ae
