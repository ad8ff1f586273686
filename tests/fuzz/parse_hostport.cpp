// Fuzz target: ae::parse_hostport. Invariants: no crash; an accepted input gives a
// non-empty host and service without NULs; a host with a colon is an IPv6 address;
// format_hostport of the result parses back to the same pair; a default service never
// changes an input that names its own service.
#include <anyevent/address.hpp>

#include <string>

#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using ae::fuzz::check;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto plain = ae::parse_hostport(input);
  const auto defaulted = ae::parse_hostport(input, "80");
  if (plain) check(defaulted == plain, "a default service changed an explicit one", input);
  for (const auto& r : {plain, defaulted}) {
    if (!r) continue;
    const auto& [host, service] = *r;
    check(!ae::fuzz::has_nul(input), "accepted an embedded NUL", input);
    check(!host.empty() && !service.empty(), "empty host or service", input);
    if (host.find(':') != std::string::npos)
      check(ae::parse_ipv6(host).has_value(), "host with a colon is not an IPv6 address", input);
    const std::string text = ae::format_hostport(host, service);
    check(ae::parse_hostport(text) == r, "parse_hostport(format_hostport(h, s)) != (h, s)", input);
  }
  return 0;
}
