// tcp_connect: resolve, then a non-blocking connect to each target in turn.
//
// Notes:
// 1. connect() on a non-blocking socket returns EINPROGRESS, or 0 when it completes at once
//    (unix sockets, sometimes loopback). Either way the result is read when the socket turns
//    writable, so the callback never runs inside tcp_connect (AnyEvent's promise).
// 2. Writable means "done", not "connected": SO_ERROR holds the outcome (see
//    http://cr.yp.to/docs/connect.html). A socket whose connect is in progress is not
//    writable under poll/epoll semantics, so SO_ERROR 0 means connected; the peer is the
//    target just tried, and no getpeername() is spent on it (AnyEvent calls it to cover
//    Windows and Cygwin, which report readiness early).
// 2a. Hosts that need no lookup are resolved inside tcp_connect and the first connect()
//    starts there, as AnyEvent does (prepare may run before tcp_connect returns; the connect
//    callback never does). That saves the loop iteration a postponed start would cost.
// 3. EINTR from connect() means the connect goes on in the background (POSIX), so it is
//    waited for like EINPROGRESS. EAGAIN from a unix socket's connect() means the server's
//    backlog is full: no completion will follow, so that is a failure of this target.
// 4. The state keeps itself alive while an attempt runs (so a released guard lets it run
//    on); the guard holds it weakly. Every entry point from the loop takes a strong
//    reference first, because a user callback (prepare or connect) may destroy the guard.
// 5. Member order: fd_ before io_ and timer_, so the watchers stop before the socket closes
//    (the built-in loop keeps registrations lazily; ae::fd tells it about the close).
#include "socket_impl.hpp"

#include <anyevent/error.hpp>

#include <sys/socket.h>

#include <cerrno>

namespace ae::detail {

namespace {

class connector final : public std::enable_shared_from_this<connector> {
 public:
  connector(connect_fn cb, connect_prepare_fn prepare, loop& l)
      : cb_(std::move(cb)), prepare_(std::move(prepare)), loop_(l) {}

  void start(std::string_view host, std::string_view service) {
    self_ = shared_from_this();
    try {
      if (auto targets = resolve_now(host, service, "tcp", 0, 0)) return on_resolved(std::move(*targets));
      lookup_ = resolve_async(host, service, "tcp", 0, 0,
                              [w = weak_from_this()](std::vector<target> targets) {
                                if (auto s = w.lock()) s->on_resolved(std::move(targets));
                              },
                              loop_);
    } catch (...) {
      self_.reset();
      throw;
    }
  }

  void cancel() noexcept {
    cancelled_ = true;
    lookup_.reset();  // its DNS queries, if any
    stop_attempt();
    targets_.clear();
    auto last = std::move(self_);  // the caller holds a reference; see note 4
  }

 private:
  void on_resolved(std::vector<target> targets) {
    if (cancelled_) return;
    lookup_.release();  // done
    targets_ = std::move(targets);
    next_ = 0;
    last_errno_ = ENXIO;  // what an empty list means
    next();
  }

  void stop_attempt() noexcept {
    io_.stop();
    timer_.stop();
    fd_.reset();
  }

  /// Starts the next target that gets as far as a connect in progress, or reports failure.
  void next() {
    auto keep = shared_from_this();
    stop_attempt();
    while (next_ < targets_.size()) {
      const target& t = targets_[next_++];
      fd_.reset(::socket(t.family, t.type | SOCK_NONBLOCK | SOCK_CLOEXEC, t.protocol));
      if (!fd_) {
        last_errno_ = errno;
        continue;
      }
      if (prepare_) {
        duration timeout{};
        try {
          timeout = prepare_(fd_.get());
        } catch (...) {
          cancel();  // nothing may run on after the exception leaves through the loop
          throw;
        }
        if (cancelled_) return;  // prepare destroyed the guard
        if (timeout > duration::zero())
          timer_ = ae::timer(timeout, [this] { on_timeout(); }, loop_);
      }
      const ae::sockaddr& addr = targets_[next_ - 1].addr;
      if (::connect(fd_.get(), addr.data(), addr.size()) == 0 || errno == EINPROGRESS || errno == EINTR) {
        io_ = ae::io(fd_.get(), poll::write, [this] { on_writable(); }, loop_);
        return;
      }
      last_errno_ = errno;
      stop_attempt();
    }
    // Out of targets. The failure is reported in a later iteration, as AnyEvent does, so a
    // retry() called inside the callback never re-enters it.
    active_ = false;
    ae::postpone([keep] { keep->deliver_failure(); }, loop_);
  }

  void on_timeout() {
    last_errno_ = ETIMEDOUT;
    next();
  }

  void on_writable() {
    auto keep = shared_from_this();
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err == 0) return deliver_success(targets_[next_ - 1].addr);  // note 2
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINPROGRESS || err == EALREADY || err == EINTR)
      return;  // not done yet
    last_errno_ = err;
    next();
  }

  void deliver_success(const ae::sockaddr& peer) {
    io_.stop();
    timer_.stop();
    ae::fd sock = std::move(fd_);
    active_ = false;
    const unsigned gen = ++generation_;
    auto [host, port] = host_port(peer);
    auto keep = std::move(self_);  // done, unless the callback retries
    retry_fn retry = [keep, gen] {
      if (keep->cancelled_ || keep->active_ || keep->generation_ != gen) return;
      ++keep->generation_;  // each retry_fn works once
      keep->active_ = true;
      keep->self_ = keep;
      keep->next();
    };
    cb_(std::error_code(), std::move(sock), std::move(host), port, std::move(retry));
  }

  void deliver_failure() {
    if (cancelled_ || active_) return;
    auto keep = std::move(self_);
    if (!keep) return;  // already reported
    ++generation_;
    cb_(std::error_code(last_errno_, std::generic_category()), ae::fd(), std::string(), 0, [] {});
  }

  connect_fn cb_;
  connect_prepare_fn prepare_;
  loop loop_;
  guard lookup_;  // while the name is being resolved
  std::vector<target> targets_;
  std::size_t next_ = 0;
  int last_errno_ = ENXIO;
  ae::fd fd_;  // note 5
  ae::io io_;
  ae::timer timer_;
  std::shared_ptr<connector> self_;  // while an attempt or its report is pending (note 4)
  unsigned generation_ = 0;
  bool active_ = true;
  bool cancelled_ = false;
};

}  // namespace

guard tcp_connect(std::string_view host, std::string_view service, connect_fn cb,
                  connect_prepare_fn prepare, loop& l) {
  if (!cb)
    throw ae::error(std::make_error_code(std::errc::invalid_argument), "ae::tcp_connect: no callback");
  auto c = std::make_shared<connector>(std::move(cb), std::move(prepare), l);
  c->start(host, service);
  return guard([w = std::weak_ptr<connector>(c)] {
    if (auto s = w.lock()) s->cancel();
  });
}

}  // namespace ae::detail
