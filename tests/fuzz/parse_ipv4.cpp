// Fuzz target: ae::parse_ipv4. Invariants: no crash; an accepted input formats to text
// that parses back to the same address and formats the same again; glibc's inet_aton
// (which reads the same grammar but allows trailing junk) agrees on every accepted input;
// every input inet_pton(AF_INET) accepts is accepted with the same octets.
#include <anyevent/address.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using ae::fuzz::check;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto a = ae::parse_ipv4(input);
  if (a) {
    check(a->family() == AF_INET && a->bytes().size() == 4, "parse_ipv4 gave a non-IPv4 address", input);
    const std::string text = ae::format_ipv4(*a);
    const auto again = ae::parse_ipv4(text);
    check(again && *again == *a, "parse_ipv4(format_ipv4(a)) != a", input);
    check(ae::format_ipv4(*again) == text, "format_ipv4 not stable", input);
    check(ae::parse_address(input) == a, "parse_address disagrees with parse_ipv4", input);
    check(!ae::fuzz::has_nul(input), "accepted an embedded NUL", input);
    in_addr x{};
    check(::inet_aton(input.c_str(), &x) == 1 && std::memcmp(&x, a->bytes().data(), 4) == 0,
          "inet_aton disagrees", input);
  }
  if (!ae::fuzz::has_nul(input)) {
    in_addr y{};
    if (::inet_pton(AF_INET, input.c_str(), &y) == 1)
      check(a && std::memcmp(&y, a->bytes().data(), 4) == 0, "inet_pton accepts, parse_ipv4 disagrees",
            input);
  }
  return 0;
}
