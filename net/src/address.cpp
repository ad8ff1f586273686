// ae::address and the text forms of IPv4 and IPv6 addresses.
//
// Notes:
// 1. parse_ipv4 takes the inet_aton grammar (parts in decimal, 0-octal or 0x-hex, the last
//    part filling the remaining octets) but, unlike glibc's inet_aton, rejects anything
//    after the address: inet_aton("1.2.3.4 junk") succeeds, which has let junk through
//    address filters before.
// 2. parse_ipv6 follows RFC 4291: "::" stands for one or more zero groups, never zero
//    groups ("1::2:3:4:5:6:7:8" is rejected, as glibc's inet_pton does, though AnyEvent's
//    split-based parser accepts it; so are AnyEvent's ":::" and "1:2:3:4:5:6:7:8:"). An
//    IPv4 tail may use every parse_ipv4 form, as AnyEvent documents, so "::ffff:10.1" is
//    accepted here and refused by inet_pton.
// 3. format_ipv6 writes RFC 5952 text (no "::" for a single zero group, like inet_ntop),
//    plus AnyEvent's dotted tails. Where AnyEvent prints "::0.0.0.2" for ::2, this prints
//    "::2" as inet_ntop does: the dotted v4-compatible form is used only when the address
//    really looks like one (its seventh group is non-zero).
#include <anyevent/address.hpp>

#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "cursor.hpp"

namespace ae {

namespace {

using words = std::array<std::uint16_t, 8>;

constexpr std::array<std::uint8_t, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

address v4_mapped(const address& v4) {
  std::array<std::uint8_t, 16> o{};
  std::copy(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), o.begin());
  const auto b = v4.bytes();
  std::copy(b.begin(), b.end(), o.begin() + 12);
  return address::ipv6(o);
}

address v4_unmapped(const address& v6) {
  std::array<std::uint8_t, 4> o{};
  const auto tail = v6.bytes().last(4);
  std::copy(tail.begin(), tail.end(), o.begin());
  return address::ipv4(o);
}

// One part of an inet_aton address: 0x… hex, 0… octal, otherwise decimal. A part above
// 0xffffffff fails at once, so a long digit string cannot overflow the accumulator.
std::optional<std::uint32_t> ipv4_part(detail::cursor& c) {
  int base = 10;
  if (c.consume("0x") || c.consume("0X"))
    base = 16;
  else if (c.peek() == '0')
    base = 8;  // the 0 itself is an octal digit, so "0" alone is zero
  else if (!detail::is_digit(c.peek()))
    return std::nullopt;
  const auto digits = c.take_while([base](int ch) {
    const int v = detail::hex_value(ch);
    return v >= 0 && v < base;
  });
  if (digits.empty()) return std::nullopt;  // "0x" with no hex digit
  std::uint64_t value = 0;
  for (char ch : digits) {
    value = value * static_cast<unsigned>(base) + static_cast<unsigned>(detail::hex_value(ch));
    if (value > 0xffffffffu) return std::nullopt;
  }
  return static_cast<std::uint32_t>(value);
}

void append_hex(std::string& out, std::uint16_t v) {
  std::array<char, 4> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v, 16);
  out.append(buf.data(), r.ptr);
}

void append_dotted(std::string& out, std::span<const std::uint8_t> octets) {
  bool first = true;
  for (std::uint8_t b : octets) {
    if (!first) out += '.';
    first = false;
    out += std::to_string(b);
  }
}

words to_words(std::span<const std::uint8_t> b) {
  words w{};
  for (std::size_t i = 0; i < w.size(); ++i)
    w[i] = static_cast<std::uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  return w;
}

bool zero_groups(const words& w, std::size_t count) {
  return std::all_of(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(count),
                     [](std::uint16_t g) { return g == 0; });
}

}  // namespace

// --- ae::address ---------------------------------------------------------------------

address address::ipv4(const std::array<std::uint8_t, 4>& octets) noexcept {
  address a;
  a.kind_ = kind::v4;
  std::copy(octets.begin(), octets.end(), a.octets_.begin());
  return a;
}

address address::ipv6(const std::array<std::uint8_t, 16>& octets) noexcept {
  address a;
  a.kind_ = kind::v6;
  a.octets_ = octets;
  return a;
}

address address::unix_socket() noexcept {
  address a;
  a.kind_ = kind::unix_token;
  return a;
}

std::optional<address> address::from_bytes(std::span<const std::uint8_t> octets) noexcept {
  if (octets.size() == 4) {
    std::array<std::uint8_t, 4> o{};
    std::copy(octets.begin(), octets.end(), o.begin());
    return ipv4(o);
  }
  if (octets.size() == 16) {
    std::array<std::uint8_t, 16> o{};
    std::copy(octets.begin(), octets.end(), o.begin());
    return ipv6(o);
  }
  return std::nullopt;
}

std::span<const std::uint8_t> address::bytes() const noexcept {
  switch (kind_) {
    case kind::v4: return std::span<const std::uint8_t>(octets_).first(4);
    case kind::v6: return octets_;
    case kind::unix_token: break;
  }
  return {};
}

int address::family() const noexcept {
  switch (kind_) {
    case kind::v4: return AF_INET;
    case kind::v6: return AF_INET6;
    case kind::unix_token: break;
  }
  return AF_UNIX;
}

bool address::is_v4_mapped() const noexcept {
  return kind_ == kind::v6 && std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), octets_.begin());
}

int address_family(const address& a) noexcept { return a.family(); }

// --- parsing -------------------------------------------------------------------------

std::optional<address> parse_ipv4(std::string_view text) {
  detail::cursor c(text);
  std::array<std::uint32_t, 4> parts{};
  std::size_t n = 0;
  do {
    if (n == parts.size()) return std::nullopt;
    const auto part = ipv4_part(c);
    if (!part) return std::nullopt;
    parts[n++] = *part;
  } while (c.consume('.'));
  if (!c.at_end()) return std::nullopt;

  // Leading parts are one octet each; the last fills the 5 - n octets that remain.
  for (std::size_t i = 0; i + 1 < n; ++i)
    if (parts[i] > 0xff) return std::nullopt;
  const unsigned last_bits = 8 * static_cast<unsigned>(5 - n);
  if (last_bits < 32 && (parts[n - 1] >> last_bits) != 0) return std::nullopt;

  std::uint32_t v = parts[n - 1];
  for (std::size_t i = 0; i + 1 < n; ++i) v |= parts[i] << (24 - 8 * i);
  return address::ipv4({static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                        static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}

std::optional<address> parse_ipv6(std::string_view text) {
  if (text.find(':') == std::string_view::npos) {
    const auto v4 = parse_ipv4(text);
    if (!v4) return std::nullopt;
    return v4_mapped(*v4);
  }

  detail::cursor c(text);
  words w{};
  std::size_t n = 0;               // groups read
  std::optional<std::size_t> gap;  // where "::" stood, in groups
  if (c.consume("::")) {
    gap = 0;
    if (c.at_end()) return address::ipv6({});
  }
  for (;;) {
    // A group that holds a dot is the IPv4 tail: two groups, and nothing may follow it.
    const std::size_t len = c.count_while([](int ch) { return ch != ':'; });
    if (c.rest().substr(0, len).find('.') != std::string_view::npos) {
      if (len != c.rest().size() || n + 2 > w.size()) return std::nullopt;
      const auto v4 = parse_ipv4(c.take_rest());
      if (!v4) return std::nullopt;
      const auto b = v4->bytes();
      w[n++] = static_cast<std::uint16_t>(b[0] << 8 | b[1]);
      w[n++] = static_cast<std::uint16_t>(b[2] << 8 | b[3]);
      break;
    }
    const auto group = c.take_while(detail::is_hex_digit);
    if (group.empty() || group.size() > 4 || n == w.size()) return std::nullopt;
    std::uint16_t g = 0;
    for (char ch : group) g = static_cast<std::uint16_t>(g << 4 | detail::hex_value(ch));
    w[n++] = g;
    if (c.at_end()) break;
    if (c.consume("::")) {
      if (gap) return std::nullopt;  // two "::"
      gap = n;
      if (c.at_end()) break;
      continue;
    }
    if (!c.consume(':')) return std::nullopt;
  }

  words full{};
  if (!gap) {
    if (n != full.size()) return std::nullopt;
    full = w;
  } else {
    if (n >= full.size()) return std::nullopt;  // "::" must stand for at least one group
    const auto g = static_cast<std::ptrdiff_t>(*gap);
    std::copy(w.begin(), w.begin() + g, full.begin());
    std::copy(w.begin() + g, w.begin() + static_cast<std::ptrdiff_t>(n),
              full.end() - (static_cast<std::ptrdiff_t>(n) - g));
  }
  std::array<std::uint8_t, 16> o{};
  for (std::size_t i = 0; i < full.size(); ++i) {
    o[2 * i] = static_cast<std::uint8_t>(full[i] >> 8);
    o[2 * i + 1] = static_cast<std::uint8_t>(full[i]);
  }
  return address::ipv6(o);
}

std::optional<address> parse_unix(std::string_view text) {
  if (text == "unix/") return address::unix_socket();
  return std::nullopt;
}

std::optional<address> parse_address(std::string_view text) {
  // parse_ipv6 also takes every IPv4 form (as v4-mapped), so one call covers both.
  if (const auto a = parse_ipv6(text)) return a->is_v4_mapped() ? v4_unmapped(*a) : *a;
  return parse_unix(text);
}

// --- formatting ----------------------------------------------------------------------

std::string format_ipv4(const address& a) {
  if (a.family() != AF_INET)
    throw std::invalid_argument("ae::format_ipv4: the address is not an IPv4 address");
  std::string out;
  append_dotted(out, a.bytes());
  return out;
}

std::string format_ipv6(const address& a) {
  if (a.family() == AF_UNIX)
    throw std::invalid_argument("ae::format_ipv6: the unix/ token is not an IPv6 address");
  const address v6 = a.family() == AF_INET ? v4_mapped(a) : a;
  const auto b = v6.bytes();
  const words w = to_words(b);
  const auto v4_tail = b.last(4);

  std::string out;
  if (zero_groups(w, 8)) return "::";
  if (zero_groups(w, 6) && w[6] != 0) {  // v4-compatible
    out = "::";
    append_dotted(out, v4_tail);
    return out;
  }
  if (zero_groups(w, 5) && w[5] == 0xffff) {  // v4-mapped
    out = "::ffff:";
    append_dotted(out, v4_tail);
    return out;
  }
  if (zero_groups(w, 4) && w[4] == 0xffff && w[5] == 0) {  // v4-translated (RFC 2765)
    out = "::ffff:0:";
    append_dotted(out, v4_tail);
    return out;
  }

  // The longest run of two or more zero groups becomes "::" (RFC 5952 4.2), the first
  // one if two runs are equally long.
  std::size_t best = 0, best_len = 0;
  for (std::size_t i = 0; i < w.size();) {
    if (w[i] != 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < w.size() && w[j] == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  if (best_len < 2) best_len = 0;

  for (std::size_t i = 0; i < w.size();) {
    if (best_len != 0 && i == best) {
      out += "::";
      i += best_len;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    append_hex(out, w[i]);
    ++i;
  }
  return out;
}

std::string format_address(const address& a) {
  switch (a.family()) {
    case AF_INET: return format_ipv4(a);
    case AF_INET6: return a.is_v4_mapped() ? format_ipv4(v4_unmapped(a)) : format_ipv6(a);
    default: return "unix/";
  }
}

}  // namespace ae
