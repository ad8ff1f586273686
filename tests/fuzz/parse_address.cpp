// Fuzz target: ae::parse_address. Invariants: no crash; an accepted input formats (with
// format_address) to text that parses back to the same address; a v4-mapped IPv6 address
// never comes back (it is unmapped to IPv4); the family and byte count agree.
#include <anyevent/address.hpp>

#include <string>

#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using ae::fuzz::check;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto a = ae::parse_address(input);
  if (!a) return 0;
  check(!ae::fuzz::has_nul(input), "accepted an embedded NUL", input);
  check(!a->is_v4_mapped(), "parse_address returned a v4-mapped address", input);
  const std::size_t expected = a->family() == AF_INET ? 4 : a->family() == AF_INET6 ? 16 : 0;
  check(a->bytes().size() == expected, "family and byte count disagree", input);
  check(a->family() != AF_UNIX || input == "unix/", "unix/ token from another string", input);
  const std::string text = ae::format_address(*a);
  const auto again = ae::parse_address(text);
  check(again && *again == *a, "parse_address(format_address(a)) != a", input);
  check(ae::format_address(*again) == text, "format_address not stable", input);
  check(std::hash<ae::address>{}(*again) == std::hash<ae::address>{}(*a), "hash differs", input);
  return 0;
}
