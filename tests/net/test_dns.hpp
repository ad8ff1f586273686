// Name resolution in the net tests never leaves the machine: the default loop's default
// resolver asks a dnsmasq of this test program, which answers NXDOMAIN to every name (so the
// hosts file answers, as it does for names DNS does not know). A test that needs records of
// its own points the resolver at its own server for a while with scoped_resolver.
#pragma once

#include <anyevent/dns.hpp>

#include <string>

namespace net_test {

/// Starts the NXDOMAIN server on first use and points the default resolver at it. The test
/// main calls it before the first test (test_program_setup).
void use_test_dns();

/// While alive, the default loop's default resolver asks `server` ("127.0.0.1:port"), with
/// short timeouts; afterwards the NXDOMAIN server again. Queries still outstanding on the
/// resolver it replaces are cancelled.
class scoped_resolver {
 public:
  explicit scoped_resolver(const std::string& server);
  explicit scoped_resolver(const ae::dns::options& o);
  ~scoped_resolver();
  scoped_resolver(const scoped_resolver&) = delete;
  scoped_resolver& operator=(const scoped_resolver&) = delete;
};

}  // namespace net_test
