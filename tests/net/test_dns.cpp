#include "test_dns.hpp"

#include "dns_server.hpp"

#include <anyevent/dns.hpp>

#include <memory>

namespace net_test {

namespace {

void point_default_resolver(const ae::dns::options& o) {
  ae::dns::default_resolver(ae::default_loop()) = ae::dns::resolver(o, ae::default_loop());
}

void point_default_resolver(const std::string& server) {
  ae::dns::options o;
  o.servers = {server};
  o.timeout = std::chrono::milliseconds(1000);
  o.attempts = 2;
  point_default_resolver(o);
}

const dns_test::dnsmasq& nxdomain_server() {
  // "#" matches every domain: nothing is forwarded, every unknown name is NXDOMAIN.
  static const dns_test::dnsmasq server({"--local=/#/"});
  return server;
}

}  // namespace

void use_test_dns() { point_default_resolver(nxdomain_server().server()); }

scoped_resolver::scoped_resolver(const std::string& server) { point_default_resolver(server); }

scoped_resolver::scoped_resolver(const ae::dns::options& o) { point_default_resolver(o); }

scoped_resolver::~scoped_resolver() { use_test_dns(); }

}  // namespace net_test

// Called by the test main before the first test (tests/main.cpp).
void test_program_setup() { net_test::use_test_dns(); }
