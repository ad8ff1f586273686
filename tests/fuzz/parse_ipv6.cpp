// Fuzz target: ae::parse_ipv6. Invariants: no crash; an accepted input formats to text that
// parses back to the same address and formats the same again; every input inet_pton
// (AF_INET6) accepts is accepted with the same octets; an accepted input with colons and no
// dot (pure RFC 4291 hex form, where both grammars are the same) is accepted by inet_pton.
#include <anyevent/address.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using ae::fuzz::check;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto a = ae::parse_ipv6(input);
  in6_addr y{};
  const bool nul = ae::fuzz::has_nul(input);
  const bool libc = !nul && ::inet_pton(AF_INET6, input.c_str(), &y) == 1;
  if (a) {
    check(a->family() == AF_INET6 && a->bytes().size() == 16, "parse_ipv6 gave a non-IPv6 address", input);
    check(!nul, "accepted an embedded NUL", input);
    const std::string text = ae::format_ipv6(*a);
    const auto again = ae::parse_ipv6(text);
    check(again && *again == *a, "parse_ipv6(format_ipv6(a)) != a", input);
    check(ae::format_ipv6(*again) == text, "format_ipv6 not stable", input);
    const auto any = ae::parse_address(input);
    check(any.has_value(), "parse_address refuses what parse_ipv6 accepts", input);
    if (input.find(':') != std::string::npos && input.find('.') == std::string::npos)
      check(libc, "inet_pton refuses a pure hex IPv6 address parse_ipv6 accepts", input);
  }
  if (libc) check(a && std::memcmp(&y, a->bytes().data(), 16) == 0, "inet_pton accepts, parse_ipv6 disagrees", input);
  return 0;
}
