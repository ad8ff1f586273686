// ae::handle's byte paths: reading into rbuf and running the read queue, writing from the
// caller's bytes or wbuf.
//
// Notes:
// 1. The hot path of a request/response protocol is one recv() per readable event and one
//    send() per push_write, straight from the caller's bytes: the write watcher is armed only
//    after a short write (DESIGN §7, "write at once, arm EPOLLOUT only on a short write"),
//    and the read watcher stays armed while anyone wants data, so a round trip changes no
//    kernel registration. Queued reads live in a ring and keep small callbacks in place:
//    no allocation per event once the buffers have grown.
// 2. drain_rbuf is AnyEvent's _drain_rbuf: the first queued read request, else on_read, is
//    offered the buffer until it makes no progress. An EOF with a request that cannot be
//    satisfied (or on_read leaving bytes it cannot use) is EPIPE; an EOF otherwise goes to
//    on_eof. With nobody wanting data, reading stops (except under TLS, which must keep
//    reading its own records), so a peer cannot make the handle buffer without bound
//    while the program is not asking; rbuf_max bounds what a read request leaves waiting.
// 3. A request is taken out of the queue while it runs, so it may push, unshift or
//    destroy freely; it goes back to the front when it returns false.
// 4. Views handed to read callbacks point into rbuf, whose bytes move only in prepare(),
//    called before a read from the descriptor and never while drain_rbuf runs. Bytes that
//    arrive while a callback may hold views (decrypted TLS data: a push_write inside a read
//    callback runs OpenSSL) wait in stash_ and are merged between two requests; outside
//    drain_rbuf, OpenSSL decrypts straight into rbuf.
#include "handle_impl.hpp"

#include <csignal>
#include <ctime>
#include <sys/socket.h>
#include <unistd.h>

namespace ae {

namespace detail {

ssize_t write_some(int fd, bool is_socket, const char* data, std::size_t size) noexcept {
  if (is_socket) return ::send(fd, data, size, MSG_NOSIGNAL);
  // A pipe or terminal has no MSG_NOSIGNAL. Block SIGPIPE for this thread around the write;
  // if the write raised one that was not already pending, take it back before unblocking.
  sigset_t pipe_only, old, pending;
  ::sigemptyset(&pipe_only);
  ::sigaddset(&pipe_only, SIGPIPE);
  ::sigpending(&pending);
  const bool was_pending = ::sigismember(&pending, SIGPIPE) == 1;
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  const ssize_t n = ::write(fd, data, size);
  const int saved = errno;
  if (n < 0 && saved == EPIPE && !was_pending) {
    const timespec zero{};
    while (::sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

}  // namespace detail

namespace {

bool would_block(int e) noexcept { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

}  // namespace

// ---- reading ----

void handle::push_read(read_fn reader) {
  if (destroyed_) return;
  auto keep = shared_from_this();
  queue_.push_back(std::move(reader));
  drain_rbuf();
}

void handle::unshift_read(read_fn reader) {
  if (destroyed_) return;
  auto keep = shared_from_this();
  queue_.push_front(std::move(reader));
  drain_rbuf();
}

void handle::stop_read() { reader_.stop(); }

void handle::start_read() {
  if (reader_.active() || eof_ || !fd_ || destroyed_) return;
  reader_ = ae::io(fd_.get(), poll::read, [this] { on_readable(); }, loop_);
}

void handle::on_readable() {
  auto keep = shared_from_this();
  const int fd = fd_.get();
  buffer& into = tls_ ? tls_->net_in : rbuf_;
  char* room = into.prepare(read_size_);
  const ssize_t n = is_socket_ ? ::recv(fd, room, read_size_, 0) : ::read(fd, room, read_size_);
  if (n > 0) {
    const auto got = static_cast<std::size_t>(n);
    activity_[0] = activity_[1] = loop_.now();
    const bool filled = got == read_size_;
    into.commit(got);
    if (tls_) do_tls();  // the ciphertext waits in net_in for OpenSSL
    else drain_rbuf();
    if (filled && read_size_ < max_read_size_) read_size_ = std::min(read_size_ * 2, max_read_size_);
  } else if (n == 0) {
    reader_.stop();
    eof_ = true;
    if (tls_ && !tls_->established) return tls_error("the peer closed the connection during the TLS handshake");
    drain_rbuf();
  } else if (!would_block(errno)) {
    error(detail::errno_code(errno), true);
  }
}

void handle::drain_rbuf() {
  if (draining_ || destroyed_ || !fd_) return;  // no fd: connecting, the queue waits
  draining_ = true;
  struct unmark {
    bool& flag;
    ~unmark() { flag = false; }
  } guard{draining_};

  for (;;) {
    if (!stash_.empty()) {
      rbuf_.append(stash_.view());
      stash_.clear();
    }
    const std::size_t len = rbuf_.size();
    if (!queue_.empty()) {
      read_fn reader = queue_.pop_front();
      const bool done = reader(*this);
      if (destroyed_) return;
      if (!done) {
        if (eof_) return error(std::errc::broken_pipe, true);
        queue_.push_front(std::move(reader));
        break;
      }
    } else if (on_read_) {
      if (!len) break;
      fire(on_read_);
      if (destroyed_) return;
      if (len == rbuf_.size() && queue_.empty() && on_read_) {
        if (eof_) return error(std::errc::broken_pipe, true);
        break;  // more data may come
      }
    } else {
      if (!tls_) reader_.stop();  // note 2
      break;
    }
  }

  if (eof_) {
    if (on_eof_)
      fire(on_eof_);
    else
      error(std::error_code(), true, "unexpected end-of-file");
    return;
  }
  if (rbuf_max_ && rbuf_.size() > rbuf_max_) return error(std::errc::no_space_on_device, true);
  if (!reader_.active() && (on_read_ || !queue_.empty())) start_read();
}

// ---- writing ----

void handle::push_write(std::string_view data) {
  if (destroyed_ || data.empty()) return;
  auto keep = shared_from_this();
  if (tls_) {
    if (fd_) do_tls(data);
    else tls_->plain_out.append(data);
    return;
  }
  if (fd_ && wbuf_.empty() && !autocork_) {
    // Note 1: straight from the caller's bytes; only what the kernel leaves is copied.
    const ssize_t n = detail::write_some(fd_.get(), is_socket_, data.data(), data.size());
    if (n < 0 && !would_block(errno)) return error(detail::errno_code(errno), true);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      activity_[0] = activity_[2] = loop_.now();
    }
    if (data.empty()) return after_write();
  }
  wbuf_.append(data);
  if (fd_) drain_wbuf();
}

void handle::unshift_write(std::string_view data) {
  if (destroyed_ || data.empty()) return;
  auto keep = shared_from_this();
  if (tls_) {
    tls_->plain_out.insert(0, data);
    if (fd_) do_tls();
    return;
  }
  buffer front;
  front.append(data);
  front.append(wbuf_.view());
  wbuf_ = std::move(front);
  if (fd_) drain_wbuf();
}

void handle::push_shutdown() {
  if (destroyed_) return;
  auto keep = shared_from_this();
  // Once everything pushed so far is written (under TLS: and close_notify after it), the
  // sending side is shut down: maybe_shutdown() runs after every write.
  shutdown_pending_ = true;
  if (tls_) {
    tls_->shutdown_wanted = true;
    if (fd_) do_tls();
    if (destroyed_) return;
  }
  maybe_shutdown();
}

void handle::maybe_shutdown() noexcept {
  if (!shutdown_pending_ || !fd_ || wbuf_size() != 0) return;
  if (tls_ && !tls_->shutdown_sent) return;  // the handshake is still under way
  shutdown_pending_ = false;
  ::shutdown(fd_.get(), SHUT_WR);
}

void handle::drain_wbuf() {
  if (destroyed_ || wbuf_.empty()) return;
  if (!writer_.active()) {
    if (!autocork_) write_now();
    if (destroyed_) return;
    if (!wbuf_.empty() && !writer_.active())
      writer_ = ae::io(fd_.get(), poll::write, [this] {
        auto keep = shared_from_this();
        write_now();
      }, loop_);
  }
  // Also while the writer waits: "ever exceeds" (AnyEvent checks only when it arms it).
  if (wbuf_max_ && wbuf_.size() > wbuf_max_) error(std::errc::no_space_on_device, true);
}

void handle::write_now() {
  const ssize_t n = detail::write_some(fd_.get(), is_socket_, wbuf_.data(), wbuf_.size());
  if (n < 0) {
    if (!would_block(errno)) error(detail::errno_code(errno), true);
    return;
  }
  wbuf_.consume(static_cast<std::size_t>(n));
  activity_[0] = activity_[2] = loop_.now();
  if (wbuf_.empty()) writer_.stop();
  after_write();
}

void handle::after_write() {
  if (on_drain_ && low_water_mark_ >= wbuf_size()) fire(on_drain_);
  if (!destroyed_) maybe_shutdown();
}

}  // namespace ae
