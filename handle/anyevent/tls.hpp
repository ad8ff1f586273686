// TLS for ae::handle, over OpenSSL reading and writing the handle's buffers (a memory BIO of
// its own): the handle moves the bytes through its own io watchers, so TLS works the same on
// every backend.
//
//   auto ctx = std::make_shared<ae::tls_context>(ae::tls_options{.ca_file = "ca.pem"});
//   auto h = ae::handle::create({.connect = {"example.org", "https"}, .on_error = …,
//                                .tls = ae::tls_mode::connect, .tls_ctx = ctx});
//
// The default context (tls_context::default_context(), used when a handle names none) is
// secure: TLS 1.2 or newer, and a client verifies the server's chain against the system's
// trust store and checks that the certificate names the handle's peername (the host it
// connected to). A server needs a context with a certificate and key.
#pragma once

#include <anyevent/function.hpp>

#include <memory>
#include <string>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

namespace ae {

/// Which side of the TLS handshake a handle plays; none: plain bytes.
enum class tls_mode { none, connect, accept };

enum class tls_version { tls1_2, tls1_3 };

/// How a tls_context is made (after AnyEvent::TLS; names kept where they exist there). Files
/// and PEM strings are read when the context is made; a bad one is an ae::error then, not a
/// handshake failure later.
struct tls_options {
  /// The oldest protocol version accepted; nothing older than TLS 1.2 is offered.
  tls_version min_version = tls_version::tls1_2;

  /// Client: verify the server's certificate chain (the handshake fails otherwise).
  bool verify = true;
  /// Client: the certificate must name the handle's peername (DNS name or IP address, RFC
  /// 6125 rules as for https). Without a peername only the chain is checked.
  bool verify_peername = true;
  /// Server: ask the client for a certificate and verify it when one is sent.
  bool verify_client = false;
  /// Server: with verify_client, fail the handshake when the client sends none.
  bool verify_require_client_cert = false;

  /// Trusted CAs: a PEM file, a hashed directory (c_rehash), or PEM text. All empty: the
  /// system's default trust store.
  std::string ca_file{}, ca_path{}, ca_cert{};
  /// This side's certificate (chain) and private key: files or PEM text. A server needs
  /// them; a client only for client authentication.
  std::string cert_file{}, key_file{}, cert{}, key{};

  /// OpenSSL cipher strings for TLS 1.2 and for TLS 1.3; empty: OpenSSL's defaults.
  std::string cipher_list{}, ciphersuites{};
  /// ALPN protocols ("h2", "http/1.1"): a client offers them in this order; a server picks
  /// the first of its list that the client offers, and fails the handshake if none matches.
  std::vector<std::string> alpn{};

  /// Called with the new SSL_CTX after everything above was applied, for what these
  /// options do not cover.
  unique_function<void(ssl_ctx_st*)> prepare{};
};

/// An SSL_CTX and the settings handles need from it. Share one between many handles (it is
/// immutable after construction); keep it in a std::shared_ptr, as handles do.
class tls_context {
 public:
  /// Throws ae::error (std::errc::invalid_argument) with OpenSSL's reason when a file or PEM
  /// text cannot be used, or the key does not match the certificate.
  explicit tls_context(tls_options options = {});
  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  /// The underlying SSL_CTX, for inspection.
  ssl_ctx_st* native_handle() const noexcept { return ctx_; }
  const tls_options& options() const noexcept { return options_; }

  /// The context handles use when they are given none: tls_options{} (made on first use;
  /// thread-safe).
  static const std::shared_ptr<tls_context>& default_context();

 private:
  tls_options options_;
  ssl_ctx_st* ctx_ = nullptr;
  std::string alpn_wire_;  // options_.alpn in ALPN's wire format
};

}  // namespace ae
