// TLS on an ae::handle: OpenSSL over the handle's own buffers, driven by its own watchers.
//
// Notes:
// 1. OpenSSL never touches the descriptor, so TLS works the same on every backend and the
//    handle keeps its one read and one write path. Its BIO is ours (buffer_bio below, a
//    memory BIO without the copies): a read from the descriptor lands in net_in, where
//    OpenSSL reads it; what OpenSSL writes for the peer (handshake records, alerts,
//    ciphertext) goes straight into wbuf. do_tls() lets OpenSSL encrypt what it was given
//    (plain_out, or a push_write's bytes directly when nothing waits before them) and
//    decrypt what it can (into rbuf, or stash_ while read callbacks run), then sends.
//    OpenSSL's own memory BIOs cost two copies more per byte each way, and zero-fill what
//    they grow: a bulk transfer ran at 0.80-0.89 of OpenSSL on the socket with them, and at
//    1.06-1.08 without (`ae-bench tls --preset full`).
// 2. OpenSSL's error queue is per thread and shared with the program: it is cleared before
//    each batch of calls, so a failure reports this handle's reason and no stale one.
// 3. Plaintext pushed during the handshake waits in plain_out (SSL_write says WANT_READ);
//    once the handshake completes inside the read step, the write step runs again, or the
//    request a client pushed early would wait for the peer to speak first.
// 4. stoptls and push_shutdown queue close_notify after everything already pushed (and
//    after the handshake); push_shutdown's shutdown(SHUT_WR) waits until it is written. A
//    close_notify from the peer is the end of its stream, as AnyEvent treats it without
//    on_stoptls: EOF, and our side may go on writing under TLS (a half-close, as TLS 1.3
//    allows). With on_stoptls set, or after our own stoptls(), it means "back to plain":
//    ours answers it (a bidirectional shutdown), bytes that followed it are plain and go to
//    rbuf, plaintext pushed meanwhile goes out in the clear, and on_stoptls runs.
// 5. Every TLS failure is EPROTO (AnyEvent's rule), with OpenSSL's reason and, for a
//    certificate, the verification result ("certificate verify failed: hostname
//    mismatch"). The alert OpenSSL wrote is still sent: it is in wbuf, which lingers.
#include "handle_impl.hpp"

#include <anyevent/address.hpp>
#include <anyevent/error.hpp>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace ae {

namespace {

/// OpenSSL's reason for the last failure, with the verification result when that failed.
std::string tls_failure(SSL* ssl, int ssl_error) {
  std::string out;
  if (const unsigned long e = ERR_peek_last_error()) {
    const char* reason = ERR_reason_error_string(e);
    out = reason ? reason : "TLS error " + std::to_string(ERR_GET_REASON(e));
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    out = "TLS connection ended unexpectedly";
  } else {
    out = "TLS error " + std::to_string(ssl_error);
  }
  ERR_clear_error();
  const long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify != X509_V_OK) out += std::string(": ") + X509_verify_cert_error_string(verify);
  return out;
}

bool is_ip_literal(std::string_view name) { return parse_ipv4(name) || parse_ipv6(name); }

// ---- buffer_bio: OpenSSL reads tls_session::net_in and appends to the handle's wbuf ----

int bio_write(BIO* b, const char* data, std::size_t len, std::size_t* written) {
  auto* s = static_cast<detail::tls_session*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  s->net_out->append(std::string_view(data, len));
  *written = len;
  return 1;
}

int bio_read(BIO* b, char* out, std::size_t len, std::size_t* got) {
  auto* s = static_cast<detail::tls_session*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (s->net_in.empty()) {
    BIO_set_retry_read(b);  // as an empty memory BIO: "more may come"
    *got = 0;
    return 0;
  }
  const std::size_t n = std::min(len, s->net_in.size());
  std::memcpy(out, s->net_in.data(), n);
  s->net_in.consume(n);
  *got = n;
  return 1;
}

long bio_ctrl(BIO* b, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return static_cast<long>(static_cast<detail::tls_session*>(BIO_get_data(b))->net_in.size());
    case BIO_CTRL_WPENDING: return 0;  // written out at once
    default: return 0;
  }
}

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* buffer_bio() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ae::handle buffers");
    if (m && BIO_meth_set_write_ex(m, bio_write) && BIO_meth_set_read_ex(m, bio_read) && BIO_meth_set_ctrl(m, bio_ctrl) &&
        BIO_meth_set_create(m, bio_create))
      return m;
    BIO_meth_free(m);
    return static_cast<BIO_METHOD*>(nullptr);
  }();
  return method;
}

}  // namespace

void handle::starttls(tls_mode mode, std::shared_ptr<tls_context> ctx) {
  if (destroyed_) return;
  if (tls_) throw ae::error(std::make_error_code(std::errc::invalid_argument), "ae::handle::starttls: TLS is already on");
  if (mode == tls_mode::none)
    throw ae::error(std::make_error_code(std::errc::invalid_argument), "ae::handle::starttls: say connect or accept");
  tls_mode_ = mode;
  if (ctx) tls_ctx_ = std::move(ctx);
  if (!tls_ctx_) tls_ctx_ = tls_context::default_context();
  if (!fd_) return;  // connecting: start() comes back here
  auto keep = shared_from_this();
  tls_start({});
}

void handle::tls_start(std::string early_plaintext) {
  auto s = std::make_unique<detail::tls_session>();
  s->plain_out = std::move(early_plaintext);
  s->shutdown_wanted = shutdown_pending_;  // push_shutdown while connecting
  const tls_options& o = tls_ctx_->options();
  ERR_clear_error();
  s->net_out = &wbuf_;
  s->ssl = SSL_new(tls_ctx_->native_handle());
  BIO_METHOD* method = buffer_bio();
  BIO* bio = s->ssl && method ? BIO_new(method) : nullptr;
  if (!bio) return error(std::errc::protocol_error, true, "cannot start TLS: " + tls_failure(nullptr, SSL_ERROR_SSL));
  BIO_set_data(bio, s.get());
  SSL_set_bio(s->ssl, bio, bio);  // one reference, for both directions
  SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (tls_mode_ == tls_mode::connect) {
    SSL_set_connect_state(s->ssl);
    const bool ip = is_ip_literal(peername_);
    if (!peername_.empty() && !ip) SSL_set_tlsext_host_name(s->ssl, peername_.c_str());  // no SNI for IPs (RFC 6066)
    SSL_set_verify(s->ssl, o.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    if (o.verify && o.verify_peername && !peername_.empty()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(s->ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (ip)
        X509_VERIFY_PARAM_set1_ip_asc(param, peername_.c_str());
      else
        X509_VERIFY_PARAM_set1_host(param, peername_.c_str(), peername_.size());
    }
  } else {
    SSL_set_accept_state(s->ssl);
    int verify = SSL_VERIFY_NONE;
    if (o.verify_client)
      verify = SSL_VERIFY_PEER | (o.verify_require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_set_verify(s->ssl, verify, nullptr);
  }
  // Bytes already read belong to the TLS stream (a STARTTLS exchange read ahead).
  if (!rbuf_.empty()) {
    s->net_in.append(rbuf_.view());
    rbuf_.clear();
  }
  tls_ = std::move(s);
  do_tls();
  if (!destroyed_) start_read();
}

void handle::stoptls() {
  if (destroyed_ || !tls_ || !fd_) return;
  auto keep = shared_from_this();
  tls_->shutdown_wanted = true;
  tls_->back_to_plain = true;
  do_tls();
}

ssl_st* handle::tls() const noexcept { return tls_ ? tls_->ssl : nullptr; }

std::string_view handle::tls_alpn() const noexcept { return tls_ ? std::string_view(tls_->alpn) : std::string_view(); }

std::string_view handle::tls_server_name() const noexcept {
  if (!tls_ || tls_mode_ != tls_mode::accept) return {};  // a client's own SNI is peername
  const char* name = SSL_get_servername(tls_->ssl, TLSEXT_NAMETYPE_host_name);
  return name ? std::string_view(name) : std::string_view();
}

void handle::do_tls(std::string_view fresh) {
  detail::tls_session& s = *tls_;
  ERR_clear_error();  // note 2
  // Plaintext to OpenSSL (note 3): how much of [data, data + size) it took, or -1 when it
  // failed (then the handle is in error).
  auto encrypt = [&](const char* data, std::size_t size) -> std::ptrdiff_t {
    std::size_t taken = 0;
    while (taken < size) {
      const int n = SSL_write(s.ssl, data + taken, static_cast<int>(std::min<std::size_t>(size - taken, INT_MAX)));
      if (n > 0) {
        taken += static_cast<std::size_t>(n);
        continue;
      }
      const int e = SSL_get_error(s.ssl, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
      std::string why = tls_failure(s.ssl, e);
      tls_flush();
      if (!destroyed_ && tls_) tls_error(std::move(why));
      return -1;
    }
    return static_cast<std::ptrdiff_t>(taken);
  };
  // A push_write's bytes go to OpenSSL from where they are when nothing waits before them
  // (note 1); what it does not take waits in plain_out.
  if (!fresh.empty()) {
    if (s.plain_out.empty() && !s.shutdown_sent && s.established) {
      const std::ptrdiff_t n = encrypt(fresh.data(), fresh.size());
      if (n < 0) return;
      fresh.remove_prefix(static_cast<std::size_t>(n));
    }
    s.plain_out.append(fresh);
  }
  bool peer_closed = false;  // its close_notify came in this call
  bool decrypted = false;    // plaintext went to rbuf or stash_
  for (int pass = 0; pass < 2; ++pass) {
    // 1. Plaintext waiting for OpenSSL.
    if (!s.plain_out.empty() && !s.shutdown_sent) {
      const std::ptrdiff_t n = encrypt(s.plain_out.data(), s.plain_out.size());
      if (n < 0) return;
      s.plain_out.erase(0, static_cast<std::size_t>(n));
    }
    if (s.shutdown_wanted && !s.shutdown_sent && s.plain_out.empty() && SSL_is_init_finished(s.ssl)) {
      SSL_shutdown(s.ssl);
      s.shutdown_sent = true;
    }
    // 2. What the peer sent, decrypted: into rbuf, unless read callbacks may hold views of
    //    it or bytes already wait in stash_ (handle_io.cpp note 4).
    const bool was_established = s.established;
    buffer& into = draining_ || !stash_.empty() ? stash_ : rbuf_;
    while (!s.peer_closed) {
      char* room = into.prepare(16384);
      const int n = SSL_read(s.ssl, room, 16384);
      if (n > 0) {
        into.commit(static_cast<std::size_t>(n));
        decrypted = true;
        continue;
      }
      const int e = SSL_get_error(s.ssl, n);
      if (e == SSL_ERROR_ZERO_RETURN) {
        s.peer_closed = peer_closed = true;
        break;
      }
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
      std::string why = tls_failure(s.ssl, e);
      tls_flush();  // the alert, if OpenSSL made one (note 5)
      if (destroyed_ || !tls_) return;
      return tls_error(std::move(why));
    }
    if (!s.established && SSL_is_init_finished(s.ssl)) {
      s.established = true;
      const unsigned char* proto = nullptr;
      unsigned len = 0;
      SSL_get0_alpn_selected(s.ssl, &proto, &len);
      s.alpn.assign(reinterpret_cast<const char*>(proto), proto ? len : 0);
    }
    // Once more only if the handshake completed just now with writes waiting for it.
    const bool waiting = !s.plain_out.empty() || (s.shutdown_wanted && !s.shutdown_sent);
    if (was_established || !s.established || !waiting) break;
  }

  // 3. What OpenSSL made for the peer.
  tls_flush();
  if (destroyed_ || !tls_) return;
  if (s.established && on_starttls_ && !s.handshake_reported) {
    s.handshake_reported = true;
    fire(on_starttls_, true, std::string_view("TLS connection established"));
    if (destroyed_ || !tls_) return;
  }
  if (peer_closed) return tls_end();
  if (decrypted || !stash_.empty()) drain_rbuf();
}

// OpenSSL's records are already in wbuf (note 1): send them.
void handle::tls_flush() { drain_wbuf(); }

void handle::tls_end() {
  detail::tls_session& s = *tls_;
  if (!s.established) return tls_error("the peer closed TLS during the handshake");
  if (!on_stoptls_ && !s.back_to_plain) {
    // Note 4: the end of the peer's stream. What follows its close_notify is not
    // authenticated and is never read; writing goes on under TLS (a half-close) until
    // push_shutdown() or destroy().
    reader_.stop();
    eof_ = true;
    return drain_rbuf();
  }
  // Back to plain bytes: answer the close_notify, then leave TLS.
  if (!s.shutdown_sent) {
    SSL_shutdown(s.ssl);
    s.shutdown_sent = true;
  }
  tls_flush();
  if (destroyed_ || !tls_) return;
  // Plain bytes the peer sent after its close_notify belong to rbuf, after the decrypted ones.
  stash_.append(s.net_in.view());
  s.net_in.clear();
  std::string plain = std::move(s.plain_out);
  auto session = std::move(tls_);  // freed when this returns; tls() is nullptr from here
  if (!plain.empty()) push_write(plain);
  if (destroyed_) return;
  if (on_stoptls_) fire(on_stoptls_);
  if (!destroyed_) drain_rbuf();
}

void handle::tls_error(std::string message) {
  if (!tls_) return;
  if (!tls_->established && on_starttls_ && !tls_->handshake_reported) {
    tls_->handshake_reported = true;
    tls_.reset();
    fire(on_starttls_, false, std::string_view(message));
    destroy();
    return;
  }
  tls_.reset();
  error(std::errc::protocol_error, true, message);
}

}  // namespace ae
