// Runs resolve_sockaddr to completion and returns its targets as text.
#pragma once

#include "tcp_support.hpp"

#include <optional>
#include <vector>

namespace net_test {

struct resolved {
  int family;
  int type;
  int protocol;
  std::string host;     // format_address, or the path for unix sockets
  std::string service;  // port, or the path
};

inline std::vector<resolved> resolve(std::string_view node, std::string_view service,
                                     std::string_view proto = "tcp", int family = 0, int type = 0) {
  std::optional<std::vector<ae::target>> got;
  ae::resolve_sockaddr(node, service, proto, family, type, [&](std::vector<ae::target> t) { got = std::move(t); });
  REQUIRE_FALSE(got.has_value());  // never before resolve_sockaddr returns
  REQUIRE(run_until([&] { return got.has_value(); }));
  std::vector<resolved> r;
  for (auto& t : *got) {
    auto [svc, addr] = ae::unpack_sockaddr(t.addr);
    CHECK(t.addr.family() == t.family);
    r.push_back({t.family, t.type, t.protocol, ae::format_address(addr), svc});
  }
  return r;
}

inline std::vector<std::string> hosts_of(const std::vector<resolved>& r) {
  std::vector<std::string> h;
  for (auto& x : r) h.push_back(x.host);
  return h;
}

}  // namespace net_test
