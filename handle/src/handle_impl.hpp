// What handle.cpp, handle_io.cpp, handle_tls.cpp and linger.cpp share, private to handle/.
#pragma once

#include <anyevent/handle.hpp>

#include <openssl/ssl.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace ae {

namespace detail {

inline std::error_code errno_code(int e) noexcept { return {e, std::generic_category()}; }

/// write(2) for the handle's descriptor: send() with MSG_NOSIGNAL on sockets; on pipes and
/// terminals write() with SIGPIPE blocked for the call (and a SIGPIPE it raised taken back),
/// so a closed reader is EPIPE and the program's SIGPIPE disposition is never touched.
ssize_t write_some(int fd, bool is_socket, const char* data, std::size_t size) noexcept;

/// Keeps writing `data` to `fd` in the background for up to `limit`, then closes it; the
/// loop owns the work (and ends it when the loop goes). AnyEvent's linger.
void linger(loop& l, ae::fd fd, buffer data, bool is_socket, duration limit);

/// One TLS connection over the handle's own buffers: OpenSSL reads the peer's bytes from
/// net_in and writes what the peer must get straight into the handle's wbuf (through one BIO
/// of ours); the handle moves bytes between those and the descriptor with its own io
/// watchers (handle_tls.cpp has the notes).
struct tls_session {
  SSL* ssl = nullptr;
  buffer net_in;           // ciphertext read from the descriptor, not yet taken by OpenSSL
  buffer* net_out = nullptr;  // the handle's wbuf
  std::string plain_out;   // plaintext OpenSSL has not taken yet (handshake under way)
  bool established = false;
  bool handshake_reported = false;  // on_starttls has run
  bool shutdown_wanted = false;  // push_shutdown or stoptls: close_notify after plain_out
  bool shutdown_sent = false;
  bool peer_closed = false;      // its close_notify came: nothing more is read
  bool back_to_plain = false;    // stoptls: plain bytes once the peer's close_notify came
  std::string alpn;

  tls_session() = default;
  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;
  ~tls_session() {
    if (ssl) SSL_free(ssl);
  }
};

}  // namespace detail

template <class Fn, class... A>
auto handle::fire(slot<Fn>& s, A&&... args) {
  // The callable leaves its slot for the call (the slot's comment in handle.hpp says why);
  // the handle outlives the call because every entry point from the loop holds a reference.
  struct put_back {
    slot<Fn>& s;
    Fn& cb;
    std::uint32_t version;
    ~put_back() {
      if (s.version == version) s.fn = std::move(cb);
    }
  };
  Fn cb = std::move(s.fn);
  put_back restore{s, cb, s.version};
  return cb(*this, std::forward<A>(args)...);
}

}  // namespace ae
