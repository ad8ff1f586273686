// parse_hostport / format_hostport: "host:port" and the other spellings AnyEvent accepts.
//
// Notes:
// 1. An IPv6 literal is tried first and swallows every colon it can: "::1:80" is the
//    address ::1:80 with the default service, not ::1 port 80 (AnyEvent's rule; the
//    unambiguous spellings are "[::1]:80", "::1 80" and "::1#80"). A leading run of hex
//    digits, colons and dots with two or more colons must be an IPv6 address, or the whole
//    string is refused: that is what rejects host names with colons in them.
// 2. Stricter than AnyEvent, whose regular expressions let a few oddities through: no
//    leading white space, no white space or control characters inside a host (AnyEvent
//    accepts "[ a b ]"), and '#' separates host and service after every kind of host, not
//    only after an IPv6 literal (AnyEvent reads "host#80" as the host "host#80").
// 3. "/path" is taken whole, spaces and colons included, because a socket path may hold
//    them; "unix/:path" takes the same service characters as any other port.
#include <anyevent/address.hpp>

#include <algorithm>

#include "cursor.hpp"

namespace ae {

namespace {

bool is_host_char(int c) {
  return c != '[' && c != ']' && c != ':' && c != '#' && !detail::is_space(c) &&
         !detail::is_control(c);
}

bool is_bracketed_host_char(int c) { return c == ':' || is_host_char(c); }

bool is_service_char(int c) { return c != ':' && !detail::is_space(c) && !detail::is_control(c); }

bool is_ipv6_literal_char(int c) { return detail::is_hex_digit(c) || c == ':' || c == '.'; }

bool has_colon(std::string_view s) { return s.find(':') != std::string_view::npos; }

}  // namespace

std::optional<std::pair<std::string, std::string>> parse_hostport(std::string_view text,
                                                                  std::string_view default_service) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  if (text.substr(0, 1) == "/") return std::pair<std::string, std::string>("unix/", text);

  detail::cursor c(text);
  std::string_view host;
  const std::size_t run = c.count_while(is_ipv6_literal_char);
  const std::string_view literal = c.rest().substr(0, run);
  if (std::count(literal.begin(), literal.end(), ':') >= 2) {
    if (!parse_ipv6(literal)) return std::nullopt;
    host = literal;
    c.skip(run);
  } else if (c.consume('[')) {
    host = c.take_while(is_bracketed_host_char);
    if (host.empty() || !c.consume(']')) return std::nullopt;
    if (has_colon(host) && !parse_ipv6(host)) return std::nullopt;
  } else {
    host = c.take_while(is_host_char);
    if (host.empty()) return std::nullopt;
  }

  std::string_view service;
  const bool spaced = !c.take_while(detail::is_space).empty();
  if (c.at_end()) {
    service = default_service;
  } else if (spaced || c.consume(':') || c.consume('#')) {
    service = c.take_while(is_service_char);
    c.take_while(detail::is_space);
    if (!c.at_end()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (service.empty()) return std::nullopt;
  return std::pair<std::string, std::string>(host, service);
}

std::string format_hostport(std::string_view host, std::string_view service) {
  // A path alone reads back as ("unix/", path) whatever characters it holds.
  if (host == "unix/" && service.substr(0, 1) == "/") return std::string(service);
  std::string out;
  // Brackets keep an IPv6 address's colons, and a host starting with '/', from being
  // read as something else.
  if (has_colon(host) || host.substr(0, 1) == "/") {
    out += '[';
    out += host;
    out += ']';
  } else {
    out += host;
  }
  if (!service.empty()) {
    out += ':';
    out += service;
  }
  return out;
}

}  // namespace ae
