// The tls workload (DESIGN §7, "later"): TLS handshakes per second and bulk MiB per second
// over socketpairs. Baseline "openssl+epoll": OpenSSL on the sockets themselves (SSL_set_fd)
// driven by a minimal epoll loop; measured: ae::handle (OpenSSL over memory BIOs, the bytes
// moved by the handle's watchers) on the column's loop.
//
// 1. One key and certificate (ECDSA P-256, made here at start-up) and one pair of contexts
//    serve both sides: the raw SSL objects are made from the same SSL_CTX the handles use
//    (tls_context::native_handle()), so protocol version, cipher suite, groups, session
//    tickets and verification are the same by construction. The client verifies the
//    server's chain on both sides (no host name: a socketpair has none).
// 2. Handshakes: one at a time, client and server in one loop. Each makes a socketpair and
//    both ends, runs until both ends report the handshake complete, then frees both (no
//    close_notify on either side: ae::handle::destroy() sends none). The window holds the
//    socketpair, the SSL objects and the handles, as a program pays for them.
// 3. Bulk: after a handshake outside the window, the client sends `bytes` of application
//    data in 64 KiB writes and the server reads and drops it; the window ends when the
//    server has it all. The raw client writes until SSL_write wants the socket writable
//    (then waits for EPOLLOUT), the raw server reads into a 64 KiB buffer until SSL_read
//    wants more, with read-ahead (one read(2) per buffer of records, not two per record;
//    the fastest raw setting here: a 32-128 KiB read buffer instead of OpenSSL's 16 KiB
//    made the raw side 20-30 % slower). The ae client pushes 64 KiB whenever its write
//    buffer is at or below 64 KiB (on_drain), the ae server consumes rbuf() in on_read.
// 4. What the ratio measures is what a user pays for the handle: the copies between its
//    buffers and OpenSSL's, and the loop, against OpenSSL reading and writing the socket
//    itself (which reads ahead one 16 KiB buffer per read(2), where a handle reads up to
//    max_read_size).
#include "bench.hpp"

#include <anyevent/handle.hpp>
#include <anyevent/loop.hpp>
#include <anyevent/tls.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace ae::bench {
namespace {

constexpr int chunk_size = 64 * 1024;
const std::string chunk(chunk_size, 'x');

std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "no OpenSSL error";
  const char* r = ERR_reason_error_string(e);
  return r ? r : "OpenSSL error " + std::to_string(ERR_GET_REASON(e));
}

std::string pem_of(int (*write)(BIO*, void*), void* obj) {
  BIO* b = BIO_new(BIO_s_mem());
  if (!b || !write(b, obj)) die("tls workload: cannot write PEM: " + openssl_reason());
  char* p = nullptr;
  const long n = BIO_get_mem_data(b, &p);
  std::string s(p, static_cast<std::size_t>(n));
  BIO_free(b);
  return s;
}

/// A self-signed ECDSA P-256 certificate for "ae-bench", valid for a day (note 1).
std::pair<std::string, std::string> make_cert() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  if (!key || !x) die("tls workload: cannot make a key: " + openssl_reason());
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("ae-bench"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  if (!X509_sign(x, key, EVP_sha256())) die("tls workload: cannot sign the certificate: " + openssl_reason());
  std::string cert = pem_of([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, x);
  std::string pkey = pem_of(
      [](BIO* b, void* o) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0, nullptr, nullptr);
      },
      key);
  X509_free(x);
  EVP_PKEY_free(key);
  return {std::move(cert), std::move(pkey)};
}

/// Runs f, inside ae_bench_measured_phase() when it is the part measured.
template <class F>
void timed_part(tls_part part, F& f) {
  if (tls_measured_part == part) measured_phase(f);
  else f();
}

std::pair<int, int> socketpair_nb() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) die("tls workload: socketpair failed");
  return {sv[0], sv[1]};
}

// ---- the baseline: OpenSSL on the sockets, a minimal epoll loop ----

struct raw_end {
  SSL* ssl = nullptr;
  int fd = -1;
  std::uint32_t armed = 0;  // the epoll mask registered, 0: not registered
  bool done = false;        // handshake complete
};

struct raw_loop {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  raw_loop() {
    if (ep < 0) die("tls workload: epoll_create1 failed");
  }
  ~raw_loop() { ::close(ep); }
  raw_loop(const raw_loop&) = delete;
  raw_loop& operator=(const raw_loop&) = delete;

  void arm(raw_end& e, std::uint32_t mask) {
    if (mask == e.armed) return;
    epoll_event ev{};
    ev.events = mask;
    ev.data.ptr = &e;
    const int op = !mask ? EPOLL_CTL_DEL : e.armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(ep, op, e.fd, mask ? &ev : nullptr) < 0) die("tls workload: epoll_ctl failed");
    e.armed = mask;
  }
  /// Waits and calls step(end) for each ready end.
  template <class F>
  void wait(F&& step) {
    epoll_event evs[2];
    const int n = ::epoll_wait(ep, evs, 2, -1);
    for (int i = 0; i < n; ++i) step(*static_cast<raw_end*>(evs[i].data.ptr));
  }
};

/// Waits for what SSL_get_error asks for; anything else is a failed run.
void raw_want(raw_loop& l, raw_end& e, int rc, const char* what) {
  switch (SSL_get_error(e.ssl, rc)) {
    case SSL_ERROR_WANT_READ: return l.arm(e, EPOLLIN);
    // Not EPOLLIN too: the client's socket holds the server's session tickets, unread, so a
    // level-triggered EPOLLIN would wake the loop for nothing while the socket stays full.
    case SSL_ERROR_WANT_WRITE: return l.arm(e, EPOLLOUT);
    default: die(std::string("tls workload: raw ") + what + " failed: " + openssl_reason());
  }
}

void raw_handshake_step(raw_loop& l, raw_end& e) {
  if (e.done) return;
  const int rc = SSL_do_handshake(e.ssl);
  if (rc == 1) {
    e.done = true;
    l.arm(e, 0);
  } else {
    raw_want(l, e, rc, "handshake");
  }
}

/// Both ends of a socketpair, SSL objects made from the workload's contexts (note 1).
struct raw_pair {
  raw_end c, s;
  raw_pair(const tls_peers& p, raw_loop& l) {
    const auto [a, b] = socketpair_nb();
    c.fd = a;
    s.fd = b;
    c.ssl = SSL_new(p.client->native_handle());
    s.ssl = SSL_new(p.server->native_handle());
    if (!c.ssl || !s.ssl || !SSL_set_fd(c.ssl, a) || !SSL_set_fd(s.ssl, b))
      die("tls workload: cannot make the raw SSL objects: " + openssl_reason());
    SSL_set_read_ahead(c.ssl, 1);  // note 3
    SSL_set_read_ahead(s.ssl, 1);
    SSL_set_connect_state(c.ssl);
    SSL_set_verify(c.ssl, SSL_VERIFY_PEER, nullptr);
    SSL_set_accept_state(s.ssl);
    raw_handshake_step(l, c);  // the ClientHello
    raw_handshake_step(l, s);  // registers the server's socket
    while (!c.done || !s.done) l.wait([&](raw_end& e) { raw_handshake_step(l, e); });
  }
  ~raw_pair() {
    SSL_free(c.ssl);
    SSL_free(s.ssl);
    ::close(c.fd);  // closing takes them out of the epoll set
    ::close(s.fd);
  }
  raw_pair(const raw_pair&) = delete;
  raw_pair& operator=(const raw_pair&) = delete;
};

double raw_bulk(const tls_config& c, const tls_peers& p, raw_loop& l) {
  raw_pair rp(p, l);
  std::vector<char> in(chunk_size);
  long sent = 0, received = 0;
  auto write_more = [&] {
    while (sent < c.bytes) {
      const int n = SSL_write(rp.c.ssl, chunk.data(), static_cast<int>(std::min<long>(chunk_size, c.bytes - sent)));
      if (n <= 0) return raw_want(l, rp.c, n, "SSL_write");
      sent += n;
    }
    l.arm(rp.c, 0);
  };
  auto read_all = [&] {
    for (;;) {
      const int n = SSL_read(rp.s.ssl, in.data(), chunk_size);
      if (n <= 0) return raw_want(l, rp.s, n, "SSL_read");
      received += n;
    }
  };
  auto transfer = [&] {
    write_more();
    l.arm(rp.s, EPOLLIN);
    while (received < c.bytes) l.wait([&](raw_end& e) { &e == &rp.c ? write_more() : read_all(); });
  };
  const std::int64_t t0 = wall_ns();
  timed_part(tls_part::bulk, transfer);
  const std::int64_t t1 = wall_ns();
  if (received != c.bytes) die("tls workload: the raw server read more than was sent");
  return static_cast<double>(c.bytes) / (1 << 20) * 1e9 / static_cast<double>(t1 - t0);
}

// ---- measured: ae::handle on the column's loop ----

struct ae_state {
  int established = 0;
  long failures = 0;
  std::string why;
};

std::shared_ptr<ae::handle> ae_end(int fd, bool client, const tls_peers& p, ae_state& st, ae::loop& l) {
  return ae::handle::create({.fd = ae::fd(fd),
                             .on_error = [&st](ae::handle&, bool, std::error_code, std::string_view m) {
                               ++st.failures;
                               st.why = m;
                             },
                             .tls = client ? tls_mode::connect : tls_mode::accept,
                             .tls_ctx = client ? p.client : p.server,
                             .on_starttls = [&st](ae::handle&, bool ok, std::string_view m) {
                               if (ok) {
                                 ++st.established;
                               } else {
                                 ++st.failures;
                                 st.why = m;
                               }
                             }},
                            l);
}

struct ae_pair {
  std::shared_ptr<ae::handle> c, s;
  ae_pair(const tls_peers& p, ae_state& st, ae::loop& l) {
    st.established = 0;
    const auto [a, b] = socketpair_nb();
    c = ae_end(a, true, p, st, l);
    s = ae_end(b, false, p, st, l);
    while (st.established < 2 && !st.failures) l.run_once();
    if (st.failures) die("tls workload: ae::handle's handshake failed: " + st.why);
  }
  ~ae_pair() {
    c->destroy();
    s->destroy();
  }
  ae_pair(const ae_pair&) = delete;
  ae_pair& operator=(const ae_pair&) = delete;
};

double ae_bulk(const tls_config& c, const tls_peers& p, ae_state& st, ae::loop& l) {
  ae_pair ap(p, st, l);
  long sent = 0, received = 0;
  ap.s->on_read([&received](ae::handle& h) {
    received += static_cast<long>(h.rbuf().size());
    h.rbuf().clear();
  });
  ap.c->low_water_mark(chunk_size);
  auto transfer = [&] {
    ap.c->on_drain([&](ae::handle& h) {
      while (sent < c.bytes && h.wbuf_size() <= chunk_size) {
        const long n = std::min<long>(chunk_size, c.bytes - sent);
        h.push_write(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
        sent += n;
      }
    });
    while (received < c.bytes && !st.failures) l.run_once();
  };
  const std::int64_t t0 = wall_ns();
  timed_part(tls_part::bulk, transfer);
  const std::int64_t t1 = wall_ns();
  if (st.failures || received != c.bytes) die("tls workload: ae::handle's bulk transfer failed: " + st.why);
  return static_cast<double>(c.bytes) / (1 << 20) * 1e9 / static_cast<double>(t1 - t0);
}

}  // namespace

bool tls_built() { return true; }

tls_peers::tls_peers() {
  const auto [cert, key] = make_cert();
  server = std::make_shared<ae::tls_context>(ae::tls_options{.cert = cert, .key = key});
  client = std::make_shared<ae::tls_context>(ae::tls_options{.ca_cert = cert});
}

tls_peers::~tls_peers() = default;

tls_result run_tls_raw(const tls_config& c, const tls_peers& p) {
  tls_result r;
  raw_loop l;
  auto handshakes = [&] {
    for (int i = 0; i < c.handshakes; ++i) raw_pair rp(p, l);
  };
  const std::int64_t t0 = wall_ns();
  timed_part(tls_part::handshake, handshakes);
  const std::int64_t t1 = wall_ns();
  r.hs_per_s = c.handshakes * 1e9 / static_cast<double>(t1 - t0);
  r.mib_per_s = raw_bulk(c, p, l);
  return r;
}

tls_result run_tls_ae(const tls_config& c, const tls_peers& p, const std::string& backend) {
  tls_result r;
  auto l = ae::loop::create(backend);
  ae_state st;
  auto handshakes = [&] {
    for (int i = 0; i < c.handshakes; ++i) ae_pair ap(p, st, l);
  };
  const std::int64_t t0 = wall_ns();
  timed_part(tls_part::handshake, handshakes);
  const std::int64_t t1 = wall_ns();
  r.hs_per_s = c.handshakes * 1e9 / static_cast<double>(t1 - t0);
  r.mib_per_s = ae_bulk(c, p, st, l);
  return r;
}

}  // namespace ae::bench
