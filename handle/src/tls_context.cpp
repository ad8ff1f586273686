// ae::tls_context: an SSL_CTX made from tls_options, refusing bad input when it is made.
//
// Notes:
// 1. Verification is set per connection (handle_tls.cpp), not here: one context serves
//    both sides, and "verify" means different things to a client and a server.
// 2. Certificates and keys are loaded into the context now, so a missing file or a key that
//    does not match its certificate is an exception at start-up naming the option, instead
//    of a handshake failure on the first connection.
// 3. ALPN: a client offers options.alpn; a server picks the first protocol of its own list
//    that the client offers (server preference) and refuses the handshake when none matches
//    (RFC 7301 §3.2: no_application_protocol). A client that offers nothing is not asked.
#include "handle_impl.hpp"

#include <anyevent/error.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <memory>

namespace ae {

namespace {

/// The reason OpenSSL gives for the newest error on its queue (then cleared).
std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  std::string out = e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "error " + std::to_string(e)
                      : "unknown reason";
  ERR_clear_error();
  return out;
}

[[noreturn]] void refuse(const std::string& what) {
  throw ae::error(std::make_error_code(std::errc::invalid_argument), "ae::tls_context: " + what + ": " + openssl_reason());
}

struct bio_deleter {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

bio_ptr pem_text(const std::string& text) {
  return bio_ptr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void* arg) {
  const auto& ours = static_cast<const tls_context*>(arg)->options().alpn;
  for (const std::string& want : ours) {
    // `in` is the client's list in wire format: length-prefixed names.
    for (unsigned i = 0; i < inlen;) {
      const unsigned len = in[i];
      if (i + 1 + len > inlen) break;
      if (len == want.size() && std::memcmp(in + i + 1, want.data(), len) == 0) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace

tls_context::tls_context(tls_options options) : options_(std::move(options)) {
  ERR_clear_error();
  ctx_ = SSL_CTX_new(TLS_method());
  if (!ctx_) refuse("cannot make an SSL_CTX");
  // From here on, a throw must free the context: the destructor does not run for a
  // constructor that throws.
  struct undo {
    SSL_CTX*& ctx;
    bool armed = true;
    ~undo() {
      if (armed) SSL_CTX_free(std::exchange(ctx, nullptr));
    }
  } guard{ctx_};

  const int min = options_.min_version == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (!SSL_CTX_set_min_proto_version(ctx_, min)) refuse("min_version");

  const tls_options& o = options_;
  if (!o.ca_file.empty() || !o.ca_path.empty()) {
    if (!SSL_CTX_load_verify_locations(ctx_, o.ca_file.empty() ? nullptr : o.ca_file.c_str(),
                                       o.ca_path.empty() ? nullptr : o.ca_path.c_str()))
      refuse("ca_file \"" + o.ca_file + "\" / ca_path \"" + o.ca_path + "\"");
  }
  if (!o.ca_cert.empty()) {
    auto bio = pem_text(o.ca_cert);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
    int added = 0;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      const int ok = X509_STORE_add_cert(store, cert);
      X509_free(cert);
      if (!ok) refuse("ca_cert");
      ++added;
    }
    ERR_clear_error();  // the loop ends on "no start line"
    if (!added) refuse("ca_cert holds no PEM certificate");
  }
  if (o.ca_file.empty() && o.ca_path.empty() && o.ca_cert.empty() && !SSL_CTX_set_default_verify_paths(ctx_))
    refuse("the system's trust store");

  if (!o.cert_file.empty() && SSL_CTX_use_certificate_chain_file(ctx_, o.cert_file.c_str()) != 1)
    refuse("cert_file \"" + o.cert_file + "\"");
  if (!o.cert.empty()) {
    auto bio = pem_text(o.cert);
    X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!leaf) refuse("cert holds no PEM certificate");
    const int ok = SSL_CTX_use_certificate(ctx_, leaf);
    X509_free(leaf);
    if (ok != 1) refuse("cert");
    while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
      if (SSL_CTX_add0_chain_cert(ctx_, extra) != 1) {
        X509_free(extra);
        refuse("cert (chain)");
      }
    ERR_clear_error();
  }
  if (!o.key_file.empty() && SSL_CTX_use_PrivateKey_file(ctx_, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    refuse("key_file \"" + o.key_file + "\"");
  if (!o.key.empty()) {
    auto bio = pem_text(o.key);
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (!pkey) refuse("key holds no PEM private key");
    const int ok = SSL_CTX_use_PrivateKey(ctx_, pkey);
    EVP_PKEY_free(pkey);
    if (ok != 1) refuse("key");
  }
  const bool has_cert = !o.cert_file.empty() || !o.cert.empty(), has_key = !o.key_file.empty() || !o.key.empty();
  if (has_cert != has_key) {
    ERR_clear_error();
    throw ae::error(std::make_error_code(std::errc::invalid_argument),
                    "ae::tls_context: a certificate needs its private key and the other way round");
  }
  if (has_cert && SSL_CTX_check_private_key(ctx_) != 1) refuse("the private key does not match the certificate");

  if (!o.cipher_list.empty() && !SSL_CTX_set_cipher_list(ctx_, o.cipher_list.c_str()))
    refuse("cipher_list \"" + o.cipher_list + "\"");
  if (!o.ciphersuites.empty() && !SSL_CTX_set_ciphersuites(ctx_, o.ciphersuites.c_str()))
    refuse("ciphersuites \"" + o.ciphersuites + "\"");

  if (!o.alpn.empty()) {
    for (const std::string& p : o.alpn) {
      if (p.empty() || p.size() > 255) {
        ERR_clear_error();
        throw ae::error(std::make_error_code(std::errc::invalid_argument),
                        "ae::tls_context: an ALPN protocol name must have 1 to 255 bytes");
      }
      alpn_wire_ += static_cast<char>(p.size());
      alpn_wire_ += p;
    }
    // Note 3. (SSL_CTX_set_alpn_protos returns 0 on success.)
    if (SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(alpn_wire_.data()),
                                static_cast<unsigned>(alpn_wire_.size())) != 0)
      refuse("alpn");
    SSL_CTX_set_alpn_select_cb(ctx_, select_alpn, this);
  }

  if (options_.prepare) options_.prepare(ctx_);
  guard.armed = false;
}

tls_context::~tls_context() { SSL_CTX_free(ctx_); }

const std::shared_ptr<tls_context>& tls_context::default_context() {
  static const std::shared_ptr<tls_context> ctx = std::make_shared<tls_context>();
  return ctx;
}

}  // namespace ae
