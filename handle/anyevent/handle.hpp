// ae::handle — AnyEvent::Handle in C++: a shared, non-blocking, buffered stream over a
// descriptor or a {host, service} it connects to, with queued typed reads, buffered writes,
// inactivity timeouts and TLS.
//
//   auto h = ae::handle::create({
//       .connect = {"example.org", "http"},
//       .on_error = [](ae::handle& h, bool fatal, std::error_code ec, std::string_view msg) { … },
//       .on_eof = [](ae::handle& h) { … },
//       .timeout = 30s});
//   h->push_write("GET / HTTP/1.0\r\n\r\n");
//   h->push_read(ae::line("\r\n\r\n"), [](ae::handle& h, std::string_view head, std::string_view) { … });
//
// Every callback gets the handle first and runs on the handle's loop, never inside the call
// that queued it unless the data it needs is already there (push_read, on_read, on_drain
// run at once then, as in AnyEvent). A callback may destroy() the handle or drop the last
// reference to it. Errors reach on_error with the errno AnyEvent documents: EPIPE for an
// EOF while a read is queued, ENOSPC when rbuf_max or wbuf_max is exceeded, EBADMSG for a
// malformed netstring or packstring (non-fatal, as in AnyEvent), ETIMEDOUT for a timeout
// without its callback (non-fatal), EPROTO for TLS failures, and the system's errno for I/O
// errors (fatal). After a fatal error the handle is destroyed once on_error returns.
#pragma once

#include <anyevent/buffer.hpp>
#include <anyevent/error.hpp>
#include <anyevent/fd.hpp>
#include <anyevent/function.hpp>
#include <anyevent/guard.hpp>
#include <anyevent/io.hpp>
#include <anyevent/loop.hpp>
#include <anyevent/pattern.hpp>
#include <anyevent/socket.hpp>
#include <anyevent/timer.hpp>
#include <anyevent/tls.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace ae {

class handle;

/// A read request as the queue keeps it: called with the handle each time data arrives
/// while it is first in the queue (and once when it is queued); it consumes what it needs
/// from h.rbuf() and returns true when done, or returns false to wait for more. Room for a
/// callable of six pointers in place, so a typed read with a small callback allocates nothing.
using read_fn = unique_function<bool(handle&), 6 * sizeof(void*)>;

/// A read type (the C++ form of AnyEvent's register_read_type): an object `r` with
///   template <class F> bool read(ae::handle& h, F& cb);
/// that looks at h.rbuf(), and when a whole item is there consumes it, calls cb with the
/// handle and the item, and returns true; otherwise returns false (more data is awaited).
/// It may call h.error(...) for data that can never match. Example, a 2-byte length prefix:
///
///   struct u16_frame {
///     template <class F> bool read(ae::handle& h, F& cb) {
///       auto b = h.rbuf().view();
///       if (b.size() < 2) return false;
///       std::size_t n = std::uint8_t(b[0]) << 8 | std::uint8_t(b[1]);
///       if (b.size() < 2 + n) return false;
///       h.rbuf().consume(2 + n);   // the view stays valid until this callback returns
///       cb(h, b.substr(2, n));
///       return true;
///     }
///   };
template <class R, class F>
concept read_type = std::move_constructible<R> && requires(R& r, handle& h, F& cb) {
  { r.read(h, cb) } -> std::convertible_to<bool>;
};

/// A write type (AnyEvent's register_write_type): an object `w` with
///   void encode(std::string& out) const;
/// that appends its wire form to `out`.
template <class W>
concept write_type = requires(const W& w, std::string& out) { w.encode(out); };

/// on_connect's callback: (handle&), (handle&, host, port) or (handle&, host, port, retry).
/// Calling retry drops this connection (queues, buffers, TLS state reset) and tries the
/// next target; the handle then calls on_connect or on_connect_error again.
class connect_callback {
 public:
  using fn = unique_function<void(handle&, std::string, std::uint16_t, retry_fn)>;
  connect_callback() noexcept = default;
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, connect_callback>)
  connect_callback(F&& f) : f_(adapt(std::forward<F>(f))) {}  // NOLINT: implicit, like a unique_function
  explicit operator bool() const noexcept { return static_cast<bool>(f_); }
  fn& get() noexcept { return f_; }

 private:
  template <class F>
  static fn adapt(F&& f);
  fn f_;
};

/// Where a handle connects to: tcp_connect(host, service) (host "unix/" for a unix socket
/// whose path is the service). Empty host: no connect.
struct connect_target {
  std::string host{}, service{};
};

using error_callback = unique_function<void(handle&, bool fatal, std::error_code, std::string_view message)>;
using handle_callback = unique_function<void(handle&)>;

/// Everything ae::handle::create takes (AnyEvent::Handle's constructor arguments). Give
/// exactly one of fd and connect.
struct handle_options {
  /// The stream to work on (a stream socket, pipe or terminal); made non-blocking.
  ae::fd fd{};
  /// Or connect to this target; host becomes the default peername. Reads and writes may be
  /// queued while connecting.
  connect_target connect{};

  /// connect: called with the socket before each connect() (h.fd() is that socket); returns
  /// the connect timeout (0: the kernel's).
  unique_function<duration(handle&)> on_prepare{};
  /// connect: the connection is up; queues and buffers are those pushed so far.
  connect_callback on_connect{};
  /// connect: no target could be reached (ECONNREFUSED, ETIMEDOUT, ENXIO …). Without it,
  /// on_error is called with a fatal error instead. The handle is destroyed afterwards.
  unique_function<void(handle&, std::error_code, std::string_view message)> on_connect_error{};
  /// Errors (see the top of this file). Without it an error destroys the handle and is
  /// thrown as ae::error out of the loop's run() (AnyEvent croaks).
  error_callback on_error{};
  /// Data arrived and no read request is queued (called only while rbuf() is not empty):
  /// consume what you can from rbuf(), or push reads.
  handle_callback on_read{};
  /// The peer closed its side and no read request is queued. Without it: a fatal error with
  /// errno 0 ("unexpected end-of-file"), as in AnyEvent.
  handle_callback on_eof{};
  /// The write buffer dropped to low_water_mark bytes or fewer (and once when set while it
  /// already is).
  handle_callback on_drain{};

  /// Inactivity timeouts: nothing read or written (timeout), nothing read (rtimeout), nothing
  /// written (wtimeout) for this long. 0: off. The callback runs, or without it a non-fatal
  /// ETIMEDOUT error; the timeout then starts again.
  duration timeout{}, rtimeout{}, wtimeout{};
  handle_callback on_timeout{}, on_rtimeout{}, on_wtimeout{};

  /// Queue writes until the loop's next iteration instead of trying them at once.
  bool autocork = false;
  /// TCP_NODELAY: send small writes at once.
  bool no_delay = false;
  /// SO_KEEPALIVE.
  bool keepalive = false;
  /// SO_OOBINLINE: urgent data stays in the stream (AnyEvent's default, for safety).
  bool oobinline = true;
  /// The first read asks for this many bytes; each read that fills it doubles it, up to
  /// max_read_size.
  std::size_t read_size = 2048;
  std::size_t max_read_size = 131072;
  /// A fatal ENOSPC error when more than this many bytes sit unconsumed in rbuf() after the
  /// read callbacks ran (0: no limit). A server reading from strangers wants one.
  std::size_t rbuf_max = 0;
  /// A fatal ENOSPC error when more than this many bytes wait for the kernel (0: no limit).
  std::size_t wbuf_max = 0;
  /// on_drain's idea of "empty".
  std::size_t low_water_mark = 0;
  /// When the handle is destroyed with unwritten data, keep writing it in the background
  /// for up to this long (0: drop it). No errors are reported from that.
  duration linger = std::chrono::seconds(3600);
  /// The peer's name for TLS verification and SNI (a DNS name or an IP address); defaults
  /// to connect.host.
  std::string peername{};

  /// Start TLS as soon as the stream is up (see tls.hpp).
  tls_mode tls = tls_mode::none;
  /// The TLS context; empty: tls_context::default_context().
  std::shared_ptr<tls_context> tls_ctx{};
  /// The TLS handshake ended: ok, or failed with `message` (then on_error is not called
  /// for it, and the handle is destroyed afterwards).
  unique_function<void(handle&, bool ok, std::string_view message)> on_starttls{};
  /// The peer ended TLS (close_notify) and the stream carries plain bytes again. Without
  /// it a close_notify is end-of-file (this side may go on writing under TLS).
  handle_callback on_stoptls{};
};

namespace detail {
struct tls_session;
struct handle_access;

/// A ring of read requests: push and pop at both ends without allocating once it has grown.
class read_queue {
 public:
  read_queue() = default;
  read_queue(read_queue&&) noexcept = default;
  read_queue& operator=(read_queue&&) noexcept = default;
  ~read_queue() { clear(); }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  void push_back(read_fn f);
  void push_front(read_fn f);
  read_fn pop_front() noexcept;
  void clear() noexcept;

 private:
  void grow();
  std::unique_ptr<read_fn[]> ring_;
  std::size_t head_ = 0, size_ = 0, capacity_ = 0;
};
}  // namespace detail

class handle : public std::enable_shared_from_this<handle> {
  struct passkey {};

 public:
  /// A new handle. Throws ae::error for options that cannot work (no fd and no connect,
  /// both, a descriptor that is not open or is a datagram socket, read_size 0).
  static std::shared_ptr<handle> create(handle_options options, ae::loop& l = default_loop());
  handle(passkey, handle_options&& options, ae::loop& l);
  ~handle();
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;

  // ---- writing ----

  /// Queues `data` and tries to write it at once (unless autocork): with an empty write
  /// buffer the data goes straight to the kernel and only what it does not take is copied.
  void push_write(std::string_view data);
  /// Queues `w`'s wire form (netstring, packstring or a write_type of yours).
  template <write_type W>
  void push_write(const W& w) {
    std::string out;
    w.encode(out);
    push_write(std::string_view(out));
  }
  /// Puts `data` before everything not yet handed to the kernel. Bytes of an earlier write
  /// may already be partly sent, so use it while wbuf_size() is 0 or holds whole messages
  /// you mean to overtake.
  void unshift_write(std::string_view data);
  template <write_type W>
  void unshift_write(const W& w) {
    std::string out;
    w.encode(out);
    unshift_write(std::string_view(out));
  }
  /// Once everything queued is written, shuts down the sending side (the peer sees EOF);
  /// in TLS mode sends close_notify first (after the handshake). Reading goes on. Unlike
  /// AnyEvent's, it leaves on_drain and low_water_mark alone.
  void push_shutdown();

  // ---- reading ----

  /// Appends a read request (see read_fn); runs the queue at once if data is waiting.
  void push_read(read_fn reader);
  /// Appends a typed read: `type` parses, `cb(handle&, item…)` receives the item.
  template <class R, class F>
    requires read_type<std::decay_t<R>, std::decay_t<F>>
  void push_read(R&& type, F&& cb) {
    push_read(typed_reader(std::forward<R>(type), std::forward<F>(cb)));
  }
  /// Like push_read, at the front of the queue.
  void unshift_read(read_fn reader);
  template <class R, class F>
    requires read_type<std::decay_t<R>, std::decay_t<F>>
  void unshift_read(R&& type, F&& cb) {
    unshift_read(typed_reader(std::forward<R>(type), std::forward<F>(cb)));
  }
  /// The bytes read and not yet consumed. Only remove from its front (consume()).
  buffer& rbuf() noexcept { return rbuf_; }
  /// Stop reading from the descriptor until start_read() or a new read request. TLS still
  /// needs to read during its handshake: don't stop then.
  void stop_read();
  void start_read();

  // ---- callbacks and settings (the options of the same names) ----

  void on_read(handle_callback cb);
  void on_eof(handle_callback cb);
  void on_error(error_callback cb);
  /// Runs `cb` at once if the write buffer is already at or below low_water_mark.
  void on_drain(handle_callback cb);
  void on_timeout(handle_callback cb);
  void on_rtimeout(handle_callback cb);
  void on_wtimeout(handle_callback cb);
  void on_starttls(unique_function<void(handle&, bool ok, std::string_view message)> cb);
  void on_stoptls(handle_callback cb);
  /// Change a timeout (0: off). Checked at once, so a past-due timeout fires inside.
  void timeout(duration d);
  void rtimeout(duration d);
  void wtimeout(duration d);
  /// Count now as activity (what a read or write does).
  void timeout_reset();
  void rtimeout_reset();
  void wtimeout_reset();
  void autocork(bool on) noexcept { autocork_ = on; }
  void no_delay(bool on);
  void keepalive(bool on);
  void oobinline(bool on);
  void rbuf_max(std::size_t bytes) noexcept { rbuf_max_ = bytes; }
  void wbuf_max(std::size_t bytes) noexcept { wbuf_max_ = bytes; }
  void low_water_mark(std::size_t bytes) noexcept { low_water_mark_ = bytes; }

  // ---- TLS ----

  /// Starts TLS on the live stream (after a plain-text STARTTLS exchange, say). Bytes
  /// already in rbuf() are taken as the start of the TLS stream. The handshake runs in the
  /// background; on_starttls reports how it ended. ae::error if TLS is already on.
  void starttls(tls_mode mode, std::shared_ptr<tls_context> ctx = {});
  /// Sends close_notify (after everything already pushed); once the peer answers with its
  /// own, the stream carries plain bytes again and on_stoptls runs. Plaintext pushed
  /// meanwhile goes out in the clear after that.
  void stoptls();
  /// The OpenSSL session while TLS is on, else nullptr.
  ssl_st* tls() const noexcept;
  /// The ALPN protocol the handshake chose ("" if none).
  std::string_view tls_alpn() const noexcept;
  /// Server: the host name the client asked for with SNI ("" if none).
  std::string_view tls_server_name() const noexcept;

  // ---- errors and the end ----

  /// Reports an error the way the handle's own errors are reported (for read types).
  void error(std::error_code ec, bool fatal, std::string_view message = {});
  void error(std::errc e, bool fatal, std::string_view message = {}) {
    error(std::make_error_code(e), fatal, message);
  }
  /// Stops everything: no callback of this handle runs again, its callbacks are released,
  /// the descriptor is closed (after lingering, see linger). Later calls are ignored.
  void destroy();
  bool destroyed() const noexcept { return destroyed_; }

  // ---- state ----

  /// The descriptor (-1 while connecting and after destroy()).
  int fd() const noexcept { return fd_ ? fd_.get() : prepare_fd_; }
  const std::string& peername() const noexcept { return peername_; }
  /// Bytes queued and not yet taken by the kernel (with TLS: encrypted and not).
  std::size_t wbuf_size() const noexcept;
  ae::loop& loop() noexcept { return loop_; }

 private:
  friend struct detail::handle_access;
  friend struct detail::tls_session;

  template <class F>
  struct reader_of {
    template <class R>
    struct fn {
      R type;
      F cb;
      bool operator()(handle& h) { return type.read(h, cb); }
    };
  };
  template <class R, class F>
  static read_fn typed_reader(R&& type, F&& cb) {
    using fn = typename reader_of<std::decay_t<F>>::template fn<std::decay_t<R>>;
    return read_fn(fn{std::forward<R>(type), std::forward<F>(cb)});
  }

  /// A user callback slot. It is empty while its callback runs, so the callback may replace
  /// or clear it (and destroy() clear it) without destroying the running callable; the
  /// callable goes back unless the slot was set meanwhile.
  template <class Fn>
  struct slot {
    Fn fn;
    std::uint32_t version = 0;
    void set(Fn f) noexcept {
      fn = std::move(f);
      ++version;
    }
    explicit operator bool() const noexcept { return static_cast<bool>(fn); }
  };
  template <class Fn, class... A>
  auto fire(slot<Fn>& s, A&&... args);

  // The machinery (handle.cpp, handle_io.cpp, handle_tls.cpp).
  void start();
  void on_connected(std::error_code ec, ae::fd sock, std::string host, std::uint16_t port, retry_fn retry);
  void reset_for_retry();
  void set_timeout(int which, duration d);
  void check_timeout(int which);
  void teardown() noexcept;
  void on_readable();
  void drain_rbuf();
  void drain_wbuf();
  void write_now();
  void after_write();
  void maybe_shutdown() noexcept;
  void tls_start(std::string early_plaintext);
  void do_tls(std::string_view fresh = {});
  void tls_flush();
  void tls_error(std::string message);
  void tls_end();

  ae::loop loop_;
  ae::fd fd_;
  int prepare_fd_ = -1;  // the socket on_prepare is looking at
  bool is_socket_ = true;
  bool destroyed_ = false;
  bool eof_ = false;
  bool draining_ = false;     // drain_rbuf is on the stack: don't recurse
  bool reporting_error_ = false;  // on_error runs
  bool autocork_ = false;
  bool shutdown_pending_ = false;  // push_shutdown: shut down once everything is written
  bool no_delay_ = false, keepalive_ = false, oobinline_ = true;

  buffer rbuf_;
  buffer stash_;  // bytes for rbuf that arrived while its views may be in use (TLS)
  buffer wbuf_;
  detail::read_queue queue_;
  std::size_t read_size_, max_read_size_, rbuf_max_, wbuf_max_, low_water_mark_;
  duration linger_;
  std::string peername_;
  connect_target connect_;
  ae::guard connecting_;

  ae::io reader_, writer_;
  // [0] timeout, [1] rtimeout, [2] wtimeout
  duration timeouts_[3];
  time_point activity_[3];
  ae::timer timers_[3];

  slot<unique_function<duration(handle&)>> on_prepare_;
  slot<connect_callback::fn> on_connect_;
  slot<unique_function<void(handle&, std::error_code, std::string_view)>> on_connect_error_;
  slot<error_callback> on_error_;
  slot<handle_callback> on_read_, on_eof_, on_drain_;
  slot<handle_callback> on_timeouts_[3];
  slot<unique_function<void(handle&, bool, std::string_view)>> on_starttls_;
  slot<handle_callback> on_stoptls_;

  tls_mode tls_mode_ = tls_mode::none;
  std::shared_ptr<tls_context> tls_ctx_;
  std::unique_ptr<detail::tls_session> tls_;
};

// ---- connect_callback ----

template <class F>
connect_callback::fn connect_callback::adapt(F&& f) {
  // Each branch returns a prvalue, so f_ is built in place (no relocation of a temporary).
  using D = std::decay_t<F>;
  if constexpr (std::is_invocable_v<D&, handle&, std::string, std::uint16_t, retry_fn>)
    return fn(std::forward<F>(f));
  else if constexpr (std::is_invocable_v<D&, handle&, std::string, std::uint16_t>)
    return fn([g = std::forward<F>(f)](handle& h, std::string host, std::uint16_t port, retry_fn) mutable {
      g(h, std::move(host), port);
    });
  else {
    static_assert(std::is_invocable_v<D&, handle&>, "on_connect: (handle&[, host, port[, retry]])");
    return fn([g = std::forward<F>(f)](handle& h, std::string, std::uint16_t, retry_fn) mutable { g(h); });
  }
}

// ---- read and write types ----

/// Exactly `size` bytes: cb(handle&, std::string_view data).
struct chunk {
  std::size_t size;
  explicit chunk(std::size_t n) noexcept : size(n) {}
  template <class F>
  bool read(handle& h, F& cb) {
    buffer& b = h.rbuf();
    if (b.size() < size) return false;
    const std::string_view data = b.view().substr(0, size);
    b.consume(size);
    cb(h, data);
    return true;
  }
};

namespace detail {
/// Where the first line ends in `buf`: the line's length and the end-of-line marker's.
struct line_split {
  std::size_t line, eol;
};
std::optional<line_split> find_line_crlf(std::string_view buf) noexcept;  // \r?\n
std::optional<line_split> find_line(std::string_view buf, std::string_view eol) noexcept;
/// With a pattern end of line: the split, or nullopt with `costly` set when the pattern gave
/// up on this input (pattern::result::too_costly).
std::optional<line_split> find_line(std::string_view buf, const pattern& eol, bool& costly);
}  // namespace detail

/// One line: cb(handle&, std::string_view line, std::string_view eol) or cb(handle&, line).
/// The end of line is "\r?\n" by default, a fixed string, or a pattern (the shortest line
/// before a match). A partial line at end-of-file is never returned (EPIPE). A pattern that
/// gives up on the input (pattern.hpp) is a non-fatal EBADMSG.
class line {
 public:
  line() = default;
  /// A fixed end-of-line string; ae::error if it is empty.
  explicit line(std::string eol);
  explicit line(const char* eol) : line(std::string(eol)) {}
  explicit line(pattern eol) : kind_(kind::regex), regex_(std::move(eol)) {}

  template <class F>
  bool read(handle& h, F& cb) {
    buffer& b = h.rbuf();
    const std::string_view all = b.view();
    bool costly = false;
    const auto s = kind_ == kind::crlf   ? detail::find_line_crlf(all)
                   : kind_ == kind::text ? detail::find_line(all, text_)
                                         : detail::find_line(all, *regex_, costly);
    if (!s) {
      if (costly) h.error(std::errc::bad_message, false, "the end-of-line pattern gave up on this input");
      return false;
    }
    b.consume(s->line + s->eol);
    if constexpr (std::is_invocable_v<F&, handle&, std::string_view, std::string_view>)
      cb(h, all.substr(0, s->line), all.substr(s->line, s->eol));
    else
      cb(h, all.substr(0, s->line));
    return true;
  }

 private:
  enum class kind : std::uint8_t { crlf, text, regex };
  kind kind_ = kind::crlf;
  std::string text_;
  std::optional<pattern> regex_;
};

/// Everything up to and including a match of `accept`: cb(handle&, std::string_view data)
/// or cb(handle&, data, const ae::captures& m), m being the accepting match (its groups are
/// views valid during the call). When `accept` does not match yet: a match of `reject` is a
/// non-fatal EBADMSG error; a match of `skip` takes the bytes up to its end out of the buffer
/// (they still begin `data`), so a long input is not searched again from its start. A
/// pattern that gives up on the input (pattern.hpp) is a non-fatal EBADMSG too.
class regex {
 public:
  explicit regex(pattern accept, std::optional<pattern> reject = {}, std::optional<pattern> skip = {})
      : accept_(std::move(accept)), reject_(std::move(reject)), skip_(std::move(skip)) {}

  template <class F>
  bool read(handle& h, F& cb) {
    captures m;
    const auto n = match(h, m);
    if (!n) return false;
    buffer& b = h.rbuf();
    const std::string_view tail = b.view().substr(0, *n);
    std::string_view data = tail;
    if (!held_.empty()) data = held_.append(tail);
    b.consume(*n);  // tail and m stay valid: consuming moves no bytes
    if constexpr (std::is_invocable_v<F&, handle&, std::string_view, const captures&>)
      cb(h, data, m);
    else
      cb(h, data);
    return true;
  }

 private:
  /// The length of the accepted prefix of rbuf(), or nullopt (after reject and skip).
  std::optional<std::size_t> match(handle& h, captures& m);
  pattern accept_;
  std::optional<pattern> reject_, skip_;
  std::string held_;  // bytes skip took out of the buffer so far
};

namespace detail {
/// netstring parse: the payload's bounds, nullopt to wait, or an error to report.
struct frame {
  std::size_t begin = 0, length = 0, total = 0;
};
enum class frame_status { complete, incomplete, malformed };
frame_status parse_netstring(std::string_view buf, frame& out) noexcept;
/// A packstring format, checked when made: ae::error if it is not one Perl pack() integer.
struct pack_format {
  std::uint8_t width = 0;  // bytes of a fixed-width length; 0: BER ("w")
  bool big_endian = true;
  bool is_signed = false;
};
pack_format parse_pack_format(std::string_view format);
frame_status parse_packstring(std::string_view buf, const pack_format& f, std::size_t max, frame& out) noexcept;
void encode_packstring(const pack_format& f, std::string_view data, std::string& out);

/// The read of a framed type: a whole frame's payload goes to cb; a partial one waits; a
/// malformed one is a non-fatal EBADMSG (AnyEvent's) and the request stays queued.
template <class F>
bool deliver_frame(handle& h, F& cb, frame_status status, const frame& f, const char* malformed) {
  if (status == frame_status::incomplete) return false;
  if (status == frame_status::malformed) {
    h.error(std::errc::bad_message, false, malformed);
    return false;
  }
  const std::string_view payload = h.rbuf().view().substr(f.begin, f.length);
  h.rbuf().consume(f.total);  // the payload stays where it is until cb returns
  cb(h, payload);
  return true;
}
}  // namespace detail

/// A netstring ("5:hello,"). Read: cb(handle&, std::string_view string); a malformed one is
/// a non-fatal EBADMSG error. Write: push_write(ae::netstring(data)).
struct netstring {
  std::string_view data;  // for push_write; a read ignores it
  netstring() = default;
  explicit netstring(std::string_view d) noexcept : data(d) {}

  template <class F>
  bool read(handle& h, F& cb) {
    detail::frame f;
    return detail::deliver_frame(h, cb, detail::parse_netstring(h.rbuf().view(), f), f, "malformed netstring");
  }
  void encode(std::string& out) const;
};

/// A string with a length prefix in a Perl pack() integer format: "C" (1 byte), "n"/"N"
/// (2/4 bytes big-endian), "v"/"V" (little-endian), "Q>"/"Q<" (8 bytes), "w" (BER, the
/// default); also c s S l L i I q j J with ! < > as in Perl (native order without < or >). DNS over TCP is "n", EPP "N". Read: cb(handle&, std::string_view data); a
/// length above `max` (default 1 GiB) is a non-fatal EBADMSG. Write:
/// push_write(ae::packstring("N", data)).
struct packstring {
  detail::pack_format format;
  std::string_view data;
  std::size_t max = std::size_t(1) << 30;
  explicit packstring(std::string_view fmt = "w") : format(detail::parse_pack_format(fmt)) {}
  packstring(std::string_view fmt, std::string_view d) : format(detail::parse_pack_format(fmt)), data(d) {}

  template <class F>
  bool read(handle& h, F& cb) {
    detail::frame f;
    return detail::deliver_frame(h, cb, detail::parse_packstring(h.rbuf().view(), format, max, f), f,
                                 "packstring length out of range");
  }
  void encode(std::string& out) const { detail::encode_packstring(format, data, out); }
};

}  // namespace ae
