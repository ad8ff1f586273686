// listen(): IO::Async::Listener's listen on the tcp_server machinery (open_listener and
// acceptor in server.cpp).
//
// Notes:
// 1. IO::Async tries the addresses until one listens; here every address gets its own
//    socket (DESIGN §3), so a server can take 127.0.0.1 and ::1 at once. on_listen_error
//    keeps IO::Async's meaning: it runs only when no address could listen, with the most
//    significant failure (listen over bind over sockopt over socket).
// 2. No callback runs inside listen(): work starts in a later iteration (after resolution,
//    or postponed), so a callback may destroy the guard listen() returned — it already
//    exists. Each step checks for that.
// 3. An empty host means all addresses: 0.0.0.0 and :: with IPV6_V6ONLY set, so both can
//    bind one fixed port (a dual-stack :: would take the IPv4 port too, and the second bind
//    would fail with EADDRINUSE).
#include "socket_impl.hpp"

#include <anyevent/error.hpp>
#include <anyevent/log.hpp>

#include <netinet/in.h>

#include <algorithm>

namespace ae::detail {

namespace {

class listen_state final : public std::enable_shared_from_this<listen_state> {
 public:
  listen_state(listen_options o, loop& l) : opts_(std::move(o)), loop_(l) {}

  void start() {
    self_ = shared_from_this();
    auto w = weak_from_this();
    if (opts_.handle) {
      ae::postpone([w] {
        if (auto s = w.lock()) s->adopt_handle();
      }, loop_);
    } else if (!opts_.addrs.empty()) {
      ae::postpone([w] {
        if (auto s = w.lock()) s->open_all(std::exchange(s->opts_.addrs, {}));
      }, loop_);
    } else if (opts_.host.empty()) {
      start_wildcard();
    } else {
      start_resolve();
    }
  }

  void cancel() noexcept {
    cancelled_ = true;
    lookup_.reset();
    for (auto& a : acceptors_) a->close();
    acceptors_.clear();
    opts_.handle.reset();
    auto last = std::move(self_);
  }

 private:
  void start_wildcard() {
    const auto port = parse_service(opts_.service, "tcp");
    if (!port) return resolve_error("unknown service '" + opts_.service + "/tcp'");
    const auto pref = protocols();
    std::vector<target> all;
    if (opts_.family != 6) all.push_back({AF_INET, SOCK_STREAM, IPPROTO_TCP, pack_sockaddr(*port, address())});
    if (opts_.family != 4)
      all.push_back({AF_INET6, SOCK_STREAM, IPPROTO_TCP, pack_sockaddr(*port, *parse_ipv6("::"))});
    std::stable_sort(all.begin(), all.end(), [&](const target& a, const target& b) {
      return pref.rank(a.family) < pref.rank(b.family);
    });
    if (!opts_.v6only) opts_.v6only = true;  // note 3
    auto w = weak_from_this();
    ae::postpone([w, all = std::move(all)]() mutable {
      if (auto s = w.lock()) s->open_all(std::move(all));
    }, loop_);
  }

  void start_resolve() {
    auto w = weak_from_this();
    try {
      lookup_ = resolve_async(opts_.host, opts_.service, "tcp", opts_.family, SOCK_STREAM,
                              [w](std::vector<target> targets) {
                                auto s = w.lock();
                                if (!s || s->cancelled_) return;
                                s->lookup_.release();
                                if (targets.empty())
                                  return s->resolve_error("cannot resolve " +
                                                          format_hostport(s->opts_.host, s->opts_.service));
                                s->open_all(std::move(targets));
                              },
                              loop_);
    } catch (const std::exception& e) {
      resolve_error(e.what());
    }
  }

  /// Reports a resolution failure in a later iteration (note 2), then ends.
  void resolve_error(std::string message) {
    auto keep = shared_from_this();
    ae::postpone([keep, message = std::move(message)]() mutable {
      if (keep->cancelled_) return;
      if (keep->opts_.on_resolve_error)
        keep->opts_.on_resolve_error(std::move(message));
      else
        log::write(log::level::error, "ae::listen: " + message);
      keep->cancel();
    }, loop_);
  }

  void adopt_handle() {
    if (cancelled_) return;
    auto keep = shared_from_this();
    listening_socket sock;
    sock.fd = std::move(opts_.handle);
    start_acceptor(std::move(sock));
  }

  void open_all(std::vector<target> targets) {
    if (cancelled_) return;
    auto keep = shared_from_this();
    listen_setup setup;
    setup.reuseaddr = opts_.reuseaddr;
    setup.v6only = opts_.v6only;
    setup.backlog = opts_.queuesize > 0 ? opts_.queuesize : 3;
    sys_failure worst;
    for (const target& t : targets) {
      sys_failure failure;
      auto sock = open_listener(t, setup, failure);
      if (!sock) {
        if (failure.rank() > worst.rank()) worst = failure;
        if (opts_.on_fail) opts_.on_fail(failure.syscall, failure.args, failure.err);
        if (cancelled_) return;
        continue;
      }
      start_acceptor(std::move(*sock));
      if (cancelled_) return;
    }
    if (acceptors_.empty()) {
      const std::string message = std::string(worst.syscall) + ": " + errno_text(worst.err);
      if (opts_.on_listen_error)
        opts_.on_listen_error(message, worst.err);
      else
        log::write(log::level::error, "ae::listen: " + worst.message());
      if (!cancelled_) cancel();  // nothing listens: let go of ourselves
    }
  }

  void start_acceptor(listening_socket sock) {
    auto w = weak_from_this();
    auto a = acceptor::start(std::move(sock), [w](ae::fd conn, std::string host, std::uint16_t port) {
      if (auto s = w.lock(); s && !s->cancelled_) s->opts_.on_accept(std::move(conn), std::move(host), port);
    }, loop_);
    acceptors_.push_back(a);
    if (opts_.on_listen) {
      ae::sockaddr local;
      socklen_t len = local.capacity();
      if (::getsockname(a->fd(), local.data(), &len) == 0 && len <= local.capacity()) local.resize(len);
      auto [host, port] = host_port(local);
      opts_.on_listen(a->fd(), std::move(host), port);
    }
  }

  listen_options opts_;
  loop loop_;
  std::vector<std::shared_ptr<acceptor>> acceptors_;
  std::shared_ptr<listen_state> self_;  // until cancelled (a released guard listens on)
  guard lookup_;  // while host and service are being resolved
  bool cancelled_ = false;
};

}  // namespace

}  // namespace ae::detail

namespace ae {

guard listen(listen_options options, loop& l) {
  if (!options.on_accept)
    throw ae::error(std::make_error_code(std::errc::invalid_argument), "ae::listen: on_accept is required");
  if (!options.handle && options.addrs.empty() && options.service.empty())
    throw ae::error(std::make_error_code(std::errc::invalid_argument),
                    "ae::listen: give addrs, host and service, or handle");
  auto s = std::make_shared<detail::listen_state>(std::move(options), l);
  s->start();
  return guard([w = std::weak_ptr<detail::listen_state>(s)] {
    if (auto st = w.lock()) st->cancel();
  });
}

}  // namespace ae
