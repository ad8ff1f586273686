// tls_context construction errors: a file that is missing, PEM that does not parse, a key
// that does not match its certificate — each an ae::error (invalid_argument) thrown by the
// constructor, whose what() says what is wrong; PEM text in place of files works.
#include "tls_support.hpp"

#include <anyevent/error.hpp>

#include <fstream>

using namespace tls_test;

namespace {

/// The ae::error a context with these options throws ("" and no code if none).
ae::error context_error(ae::tls_options o) {
  try {
    ae::tls_context ctx(std::move(o));
  } catch (const ae::error& e) {
    return e;
  }
  return ae::error(std::error_code(), "no error");
}

std::string garbage_file(const std::string& name, const std::string& text) {
  const std::string path = certs().dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("tls/context/missing_cert_file") {
  auto o = server_options();
  o.cert_file = certs().dir + "/no-such-cert.pem";
  const auto e = context_error(std::move(o));
  CHECK(e.code() == std::errc::invalid_argument);
  const std::string what = e.what();
  CHECK_MESSAGE((what.find("no-such-cert.pem") != std::string::npos || contains_nocase(what, "certificate")), what);
}

TEST_CASE("tls/context/missing_key_file") {
  auto o = server_options();
  o.key_file = certs().dir + "/no-such-key.pem";
  const auto e = context_error(std::move(o));
  CHECK(e.code() == std::errc::invalid_argument);
  const std::string what = e.what();
  CHECK_MESSAGE((what.find("no-such-key.pem") != std::string::npos || contains_nocase(what, "key")), what);
}

TEST_CASE("tls/context/missing_ca_file") {
  auto o = client_options();
  o.ca_file = certs().dir + "/no-such-ca.pem";
  const auto e = context_error(std::move(o));
  CHECK(e.code() == std::errc::invalid_argument);
  const std::string what = e.what();
  CHECK_MESSAGE((what.find("no-such-ca.pem") != std::string::npos || contains_nocase(what, "ca")), what);
}

TEST_CASE("tls/context/garbage_pem_file") {
  auto o = server_options();
  o.cert_file = garbage_file("garbage-cert.pem", "-----BEGIN CERTIFICATE-----\nthis is not base64 !!!\n"
                                                 "-----END CERTIFICATE-----\n");
  auto e = context_error(std::move(o));
  CHECK(e.code() == std::errc::invalid_argument);
  CHECK_MESSAGE(contains_nocase(e.what(), "cert"), e.what());

  auto k = server_options();
  k.key_file = garbage_file("garbage-key.pem", "not a key at all\n");
  e = context_error(std::move(k));
  CHECK(e.code() == std::errc::invalid_argument);
  CHECK_MESSAGE(contains_nocase(e.what(), "key"), e.what());

  auto c = client_options();
  c.ca_file = garbage_file("garbage-ca.pem", "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n");
  e = context_error(std::move(c));
  CHECK(e.code() == std::errc::invalid_argument);
}

TEST_CASE("tls/context/garbage_pem_text") {
  ae::tls_options o;
  o.cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  o.key = slurp(certs().server_key);
  auto e = context_error(std::move(o));
  CHECK(e.code() == std::errc::invalid_argument);
  CHECK_MESSAGE(contains_nocase(e.what(), "cert"), e.what());

  ae::tls_options c;
  c.ca_cert = "no PEM here";
  e = context_error(std::move(c));
  CHECK(e.code() == std::errc::invalid_argument);
}

TEST_CASE("tls/context/key_not_matching_cert") {
  auto o = server_options();
  o.key_file = certs().other_key;
  const auto e = context_error(std::move(o));
  CHECK(e.code() == std::errc::invalid_argument);
  CHECK_MESSAGE(contains_nocase(e.what(), "key"), e.what());
}

TEST_CASE("tls/context/pem_text_works") {
  // Certificate, key and CA given as PEM text: a working pair.
  ae::tls_options so;
  so.cert = slurp(certs().server_cert);
  so.key = slurp(certs().server_key);
  ae::tls_options co;
  co.ca_cert = slurp(certs().ca_cert);
  auto p = socketpair_options(make_context(std::move(co)), make_context(std::move(so)));
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  REQUIRE(run_until([&] { return oc.handshake_done() && os.handshake_done(); }));
  CHECK(oc.starttls_ok);
  CHECK(os.starttls_ok);
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/context/ca_path_directory") {
  // A hashed directory (openssl rehash) as ca_path.
  const std::string dir = certs().dir + "/hashed";
  std::filesystem::create_directory(dir);
  std::filesystem::copy_file(certs().ca_cert, dir + "/ca.pem", std::filesystem::copy_options::overwrite_existing);
  std::string out;
  REQUIRE(run_command({"openssl", "rehash", dir}, out) == 0);
  ae::tls_options co;
  co.ca_path = dir;
  auto p = socketpair_options(make_context(std::move(co)), server_context());
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  REQUIRE(run_until([&] { return oc.handshake_done() && os.handshake_done(); }));
  CHECK(oc.starttls_ok);
  CHECK(os.starttls_ok);
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/context/server_without_certificate") {
  // A context without certificate is fine to make (clients need none), but a server handle
  // using it cannot complete a handshake: EPROTO.
  auto p = socketpair_options(client_context(), make_context(ae::tls_options{}));
  observed oc, os;
  observe(p.client, oc, false);
  observe(p.server, os, false);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  REQUIRE(run_until([&] { return os.errors > 0; }));
  CHECK(os.fatal_errors == 1);
  CHECK(os.ec == std::errc::protocol_error);
  REQUIRE(run_until([&] { return oc.errors > 0; }));
  CHECK(oc.ec == std::errc::protocol_error);
}
