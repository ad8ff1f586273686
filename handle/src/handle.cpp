// ae::handle: creation, connecting, settings, errors, timeouts and the end of a handle.
// The byte paths are in handle_io.cpp, TLS in handle_tls.cpp.
//
// Notes:
// 1. Lifetime. A handle lives in a std::shared_ptr (create() is the only way to make one).
//    Every entry point that can run user callbacks takes a reference first (`keep`): a
//    callback may drop the last reference the program holds, and the handle must still be
//    there when the callback returns into it. Watchers and the connect guard are members,
//    so they capture `this` plainly: they cannot outlive the handle.
// 2. destroy() is AnyEvent's: no callback of the handle runs afterwards, its callbacks are
//    released (breaking the cycles a callback capturing its own handle makes), the
//    descriptor is closed, and unwritten bytes linger (linger.cpp). The object stays valid
//    for the references the program still holds; every method then does nothing.
// 3. Timeouts cost nothing per read or write: a read or write only stores the loop's cached
//    time; the one timer per kind is re-armed when it fires early (AnyEvent's scheme), not
//    on every byte.
// 4. An error without on_error destroys the handle and throws ae::error from where it was
//    found; from a loop callback that leaves the loop's run() (docs/design.md), which is
//    as close to AnyEvent's croak as C++ gets.
#include "handle_impl.hpp"

#include <anyevent/error.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace ae {

namespace {

[[noreturn]] void refuse(const std::string& what) {
  throw ae::error(std::make_error_code(std::errc::invalid_argument), "ae::handle::create: " + what);
}

}  // namespace

std::shared_ptr<handle> handle::create(handle_options options, ae::loop& l) {
  const bool has_fd = static_cast<bool>(options.fd), has_connect = !options.connect.host.empty();
  if (has_fd == has_connect)
    refuse(has_fd ? "give .fd or .connect, not both" : "give .fd (a stream) or .connect (a host and service)");
  if (options.read_size == 0) refuse(".read_size must not be 0");
  if (has_fd) {
    const int fd = options.fd.get();
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0)
      throw ae::error(detail::errno_code(errno), "ae::handle::create: descriptor " + std::to_string(fd) + " is not open");
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type != SOCK_STREAM)
      refuse("descriptor " + std::to_string(fd) + " is not a stream socket (only streams work)");
    if (!(flags & O_NONBLOCK) && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
      throw ae::error(detail::errno_code(errno), "ae::handle::create: cannot make the descriptor non-blocking");
  }
  auto h = std::make_shared<handle>(passkey{}, std::move(options), l);
  if (h->fd_) {
    h->start();
  } else {
    h->connecting_ = tcp_connect(
        h->connect_.host, h->connect_.service,
        [p = h.get()](std::error_code ec, ae::fd sock, std::string host, std::uint16_t port, retry_fn retry) {
          p->on_connected(ec, std::move(sock), std::move(host), port, std::move(retry));
        },
        [p = h.get()](int fd) -> duration {
          if (!p->on_prepare_) return {};
          auto keep = p->shared_from_this();
          p->prepare_fd_ = fd;
          struct reset {
            int& fd;
            ~reset() { fd = -1; }
          } done{p->prepare_fd_};
          return p->fire(p->on_prepare_);
        },
        h->loop_);
  }
  return h;
}

handle::handle(passkey, handle_options&& o, ae::loop& l)
    : loop_(l),
      fd_(std::move(o.fd)),
      autocork_(o.autocork),
      no_delay_(o.no_delay),
      keepalive_(o.keepalive),
      oobinline_(o.oobinline),
      read_size_(o.read_size),
      max_read_size_(std::max(o.max_read_size, o.read_size)),
      rbuf_max_(o.rbuf_max),
      wbuf_max_(o.wbuf_max),
      low_water_mark_(o.low_water_mark),
      linger_(o.linger),
      peername_(o.peername.empty() ? o.connect.host : std::move(o.peername)),
      connect_(std::move(o.connect)),
      timeouts_{o.timeout, o.rtimeout, o.wtimeout},
      tls_mode_(o.tls),
      tls_ctx_(std::move(o.tls_ctx)) {
  if (fd_) {
    int type = 0;
    socklen_t len = sizeof type;
    is_socket_ = ::getsockopt(fd_.get(), SOL_SOCKET, SO_TYPE, &type, &len) == 0;
  }
  on_prepare_.set(std::move(o.on_prepare));
  on_connect_.set(std::move(o.on_connect.get()));
  on_connect_error_.set(std::move(o.on_connect_error));
  on_error_.set(std::move(o.on_error));
  on_read_.set(std::move(o.on_read));
  on_eof_.set(std::move(o.on_eof));
  on_drain_.set(std::move(o.on_drain));
  on_timeouts_[0].set(std::move(o.on_timeout));
  on_timeouts_[1].set(std::move(o.on_rtimeout));
  on_timeouts_[2].set(std::move(o.on_wtimeout));
  on_starttls_.set(std::move(o.on_starttls));
  on_stoptls_.set(std::move(o.on_stoptls));
}

handle::~handle() {
  // Not destroy(): no reference can be taken any more, and no callback may run.
  destroyed_ = true;
  teardown();
}

void handle::start() {
  const time_point now = loop_.now();
  for (auto& a : activity_) a = now;
  if (is_socket_) {
    // As AnyEvent: options that do not apply to this socket (TCP_NODELAY on a unix socket)
    // are ignored.
    if (no_delay_) no_delay(true);
    if (keepalive_) keepalive(true);
    oobinline(oobinline_);
  }
  for (int k = 0; k < 3; ++k)
    if (timeouts_[k] > duration::zero()) check_timeout(k);
  if (destroyed_) return;
  if (tls_mode_ != tls_mode::none) {
    // Writes pushed while connecting are plaintext for the TLS stream, not bytes to send
    // ahead of the handshake.
    std::string early(wbuf_.view());
    wbuf_.clear();
    if (!tls_ctx_) tls_ctx_ = tls_context::default_context();
    tls_start(std::move(early));
  }
  if (destroyed_) return;
  if (on_drain_ && low_water_mark_ >= wbuf_size()) fire(on_drain_);
  if (destroyed_) return;
  if (on_read_ || !queue_.empty()) start_read();
  drain_wbuf();
  if (!destroyed_) maybe_shutdown();
}

void handle::on_connected(std::error_code ec, ae::fd sock, std::string host, std::uint16_t port, retry_fn retry) {
  if (destroyed_) return;  // on_prepare destroyed it inside create()
  auto keep = shared_from_this();
  if (ec) {
    const std::string message = ec.message();
    if (on_connect_error_) {
      fire(on_connect_error_, ec, std::string_view(message));
      destroy();
    } else {
      error(ec, true, message);
    }
    return;
  }
  fd_ = std::move(sock);
  is_socket_ = true;
  start();
  if (destroyed_ || !on_connect_) return;
  fire(on_connect_, std::move(host), port, retry_fn([w = weak_from_this(), retry = std::move(retry)]() mutable {
         auto h = w.lock();
         if (!h || h->destroyed_) return;
         h->reset_for_retry();
         retry();
       }));
}

void handle::reset_for_retry() {
  // What AnyEvent resets before the next target: the connection and everything queued on it.
  reader_.stop();
  writer_.stop();
  for (auto& t : timers_) t.stop();
  tls_.reset();
  fd_.reset();
  eof_ = false;
  shutdown_pending_ = false;
  queue_.clear();
  rbuf_.clear();
  stash_.clear();
  wbuf_.clear();
}

// ---- settings ----

void handle::no_delay(bool on) {
  no_delay_ = on;
  const int v = on;
  if (fd_) (void)::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}

void handle::keepalive(bool on) {
  keepalive_ = on;
  const int v = on;
  if (fd_) (void)::setsockopt(fd_.get(), SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v);
}

void handle::oobinline(bool on) {
  oobinline_ = on;
  const int v = on;
  if (fd_) (void)::setsockopt(fd_.get(), SOL_SOCKET, SO_OOBINLINE, &v, sizeof v);
}

void handle::on_read(handle_callback cb) {
  if (destroyed_) return;
  auto keep = shared_from_this();
  const bool set = static_cast<bool>(cb);
  on_read_.set(std::move(cb));
  if (set) drain_rbuf();
}

void handle::on_eof(handle_callback cb) {
  if (!destroyed_) on_eof_.set(std::move(cb));
}

void handle::on_error(error_callback cb) {
  if (!destroyed_) on_error_.set(std::move(cb));
}

void handle::on_drain(handle_callback cb) {
  if (destroyed_) return;
  auto keep = shared_from_this();
  on_drain_.set(std::move(cb));
  // While connecting, start() makes this call once the stream is up.
  if (on_drain_ && fd_ && low_water_mark_ >= wbuf_size()) fire(on_drain_);
}

void handle::on_timeout(handle_callback cb) {
  if (!destroyed_) on_timeouts_[0].set(std::move(cb));
}
void handle::on_rtimeout(handle_callback cb) {
  if (!destroyed_) on_timeouts_[1].set(std::move(cb));
}
void handle::on_wtimeout(handle_callback cb) {
  if (!destroyed_) on_timeouts_[2].set(std::move(cb));
}

void handle::on_starttls(unique_function<void(handle&, bool, std::string_view)> cb) {
  if (!destroyed_) on_starttls_.set(std::move(cb));
}
void handle::on_stoptls(handle_callback cb) {
  if (!destroyed_) on_stoptls_.set(std::move(cb));
}

// ---- timeouts (note 3) ----

void handle::set_timeout(int k, duration d) {
  if (destroyed_) return;
  if (d < duration::zero())
    throw ae::error(make_error_code(errc::invalid_duration), "ae::handle: a timeout must not be negative");
  auto keep = shared_from_this();
  timeouts_[k] = d;
  timers_[k].stop();
  check_timeout(k);
}

void handle::timeout(duration d) { set_timeout(0, d); }
void handle::rtimeout(duration d) { set_timeout(1, d); }
void handle::wtimeout(duration d) { set_timeout(2, d); }
void handle::timeout_reset() { activity_[0] = loop_.now(); }
void handle::rtimeout_reset() { activity_[1] = loop_.now(); }
void handle::wtimeout_reset() { activity_[2] = loop_.now(); }

void handle::check_timeout(int k) {
  if (destroyed_) return;
  if (timeouts_[k] <= duration::zero() || !fd_) {
    timers_[k].stop();
    return;
  }
  const time_point now = loop_.now();
  duration after = activity_[k] + timeouts_[k] - now;
  if (after <= duration::zero()) {
    activity_[k] = now;
    if (on_timeouts_[k])
      fire(on_timeouts_[k]);
    else
      error(std::errc::timed_out, false);
    if (destroyed_ || timeouts_[k] <= duration::zero()) return;
    after = timeouts_[k];
  }
  if (!timers_[k].active())
    timers_[k] = ae::timer(after, [this, k] {
      auto keep = shared_from_this();
      timers_[k].stop();
      check_timeout(k);
    }, loop_);
}

// ---- errors and the end (notes 2 and 4) ----

void handle::error(std::error_code ec, bool fatal, std::string_view message) {
  if (destroyed_) return;
  auto keep = shared_from_this();
  if (reporting_error_) {
    // Found while on_error runs (a push_write there to a peer that is gone): on_error is
    // busy with the first one; a fatal one still ends the handle.
    if (fatal) destroy();
    return;
  }
  const std::string text = message.empty() ? ec.message() : std::string(message);
  if (on_error_) {
    reporting_error_ = true;
    struct done {
      bool& flag;
      ~done() { flag = false; }
    } reset{reporting_error_};
    fire(on_error_, fatal, ec, std::string_view(text));
    if (fatal) destroy();
    return;
  }
  destroy();
  // std::system_error appends ": " and the code's message; say the rest only if it differs.
  throw ae::error(ec, "ae::handle: uncaught error (set on_error to handle it)" +
                          (text == ec.message() ? std::string() : ": " + text));
}

void handle::destroy() {
  if (destroyed_) return;
  auto keep = weak_from_this().lock();  // releasing the callbacks may drop other references
  destroyed_ = true;
  teardown();
}

void handle::teardown() noexcept {
  connecting_.reset();
  reader_.stop();
  writer_.stop();
  for (auto& t : timers_) t.stop();
  tls_.reset();
  queue_.clear();
  rbuf_.clear();
  stash_.clear();
  // The callbacks go last: their captures may hold the last other reference to the handle.
  on_prepare_.set({});
  on_connect_.set({});
  on_connect_error_.set({});
  on_error_.set({});
  on_read_.set({});
  on_eof_.set({});
  on_drain_.set({});
  for (auto& s : on_timeouts_) s.set({});
  on_starttls_.set({});
  on_stoptls_.set({});
  if (fd_ && !wbuf_.empty() && linger_ > duration::zero()) {
    try {
      detail::linger(loop_, std::move(fd_), std::move(wbuf_), is_socket_, linger_);
    } catch (...) {
      // Out of memory for the lingering writer: the bytes are lost, as at a plain close.
    }
  }
  fd_.reset();
  wbuf_.clear();
}

std::size_t handle::wbuf_size() const noexcept { return wbuf_.size() + (tls_ ? tls_->plain_out.size() : 0); }

}  // namespace ae
