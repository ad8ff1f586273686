// resolv.conf, read by us (not by c-ares) through the checked reader, so that hostile or
// broken files — NUL bytes, megabyte lines, thousands of entries — cost bounded work and
// memory and never truncate an entry into a different one. The result is fed to c-ares as
// explicit options, which also stops c-ares from reading LOCALDOMAIN / RES_OPTIONS itself.
//
// Notes:
// 1. glibc semantics: at most 3 nameservers (MAXNS); "domain" and "search" replace each
//    other, the last one wins; ndots ≤ 15, timeout ≤ 30 s, attempts ≤ 5 (RES_MAXNDOTS,
//    RES_MAXRETRANS, RES_MAXRETRY). The search list is capped at 32 names.
// 2. glibc reads lines as C strings, so "nameserver 1.2.3.4\0junk" would be cut at the NUL;
//    we ignore such a line instead: a NUL has no business in a text file.
// 3. Scoped IPv6 servers ("fe80::1%eth0") are skipped: c-ares 1.18 cannot use a scope id.
#include "cursor.hpp"
#include "dns_impl.hpp"

#include <anyevent/fd.hpp>
#include <anyevent/log.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace ae::detail {

namespace {

constexpr std::size_t max_servers = 3;
constexpr std::size_t max_search = 32;
constexpr std::size_t max_file = 16u << 20;

bool is_blank(int c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
bool is_word(int c) noexcept { return c >= 0 && !is_blank(c) && c != '\n'; }

void note(std::string_view what, std::string_view detail) {
  if (!log::enabled(log::level::info)) return;
  std::string m = "ae::dns: resolv.conf: ";
  m += what;
  if (!detail.empty()) {
    m += ": ";
    m.append(detail.substr(0, 80));
    if (detail.size() > 80) m += "...";
  }
  log::write(log::level::info, m);
}

/// Parses a decimal number; values beyond `cap` become `cap`.
std::optional<int> parse_count(std::string_view s, int cap) {
  if (s.empty()) return std::nullopt;
  long v = 0;
  for (const char c : s) {
    if (!is_digit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
    if (v > cap) v = cap;
  }
  return static_cast<int>(v);
}

}  // namespace

/// A server in text form ("1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53") as an address and port.
bool parse_server(std::string_view s, ares_addr_port_node& out) {
  std::string host;
  int port = 53;
  auto take_port = [&](std::string_view p) {
    const auto v = parse_count(p, 65536);
    if (!v || *v < 1 || *v > 65535) return false;
    port = *v;
    return true;
  };
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return false;
    host.assign(s.substr(1, close - 1));
    const std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !take_port(rest.substr(1)))) return false;
  } else if (s.find(':') != s.rfind(':')) {  // bare IPv6
    host.assign(s);
  } else if (const auto colon = s.find(':'); colon != std::string_view::npos) {
    host.assign(s.substr(0, colon));
    if (!take_port(s.substr(colon + 1))) return false;
  } else {
    host.assign(s);
  }
  if (host.empty() || host.size() > INET6_ADDRSTRLEN || host.find('\0') != std::string::npos)
    return false;
  out = {};
  if (inet_pton(AF_INET, host.c_str(), &out.addr.addr4) == 1) {
    out.family = AF_INET;
  } else if (inet_pton(AF_INET6, host.c_str(), &out.addr.addr6) == 1) {
    out.family = AF_INET6;
  } else {
    return false;
  }
  out.udp_port = out.tcp_port = port;
  return true;
}

}  // namespace ae::detail

namespace ae::dns {

using detail::cursor;

options parse_resolv_conf(std::string_view text) {
  options o;
  cursor in(text);
  while (!in.at_end()) {
    std::string_view line = in.take_while([](int c) { return c != '\n'; });
    in.consume('\n');
    if (line.find('\0') != std::string_view::npos) {  // note 2
      detail::note("line with a NUL byte ignored", {});
      continue;
    }
    // Comments run from '#' or ';' to the end of the line.
    if (const auto hash = line.find_first_of("#;"); hash != std::string_view::npos)
      line = line.substr(0, hash);
    cursor l(line);
    l.take_while(detail::is_blank);
    const std::string_view key = l.take_while(detail::is_word);
    auto next_word = [&] {
      l.take_while(detail::is_blank);
      return l.take_while(detail::is_word);
    };
    if (key == "nameserver") {
      const std::string_view addr = next_word();
      ares_addr_port_node probe;
      if (addr.find('%') != std::string_view::npos || !detail::parse_server(addr, probe)) {
        detail::note("nameserver ignored", addr);  // note 3
      } else if (o.servers.size() < detail::max_servers) {
        o.servers.emplace_back(addr);
      }
    } else if (key == "domain" || key == "search") {
      std::vector<std::string> list;
      for (std::string_view w = next_word(); !w.empty(); w = next_word()) {
        if (key == "domain" && !list.empty()) break;
        std::string ascii;
        if (list.size() >= detail::max_search) break;
        if (detail::dns_query_name(w, ascii)) {
          detail::note("search domain ignored", w);
          continue;
        }
        if (ascii.size() > 1 && ascii.back() == '.') ascii.pop_back();
        if (ascii == ".") continue;
        list.push_back(std::move(ascii));
      }
      o.search = std::move(list);  // note 1: the last domain/search line wins
    } else if (key == "options") {
      for (std::string_view w = next_word(); !w.empty(); w = next_word()) {
        auto value = [&](std::string_view name, int cap) -> std::optional<int> {
          if (w.substr(0, name.size()) != name) return std::nullopt;
          return detail::parse_count(w.substr(name.size()), cap);
        };
        if (auto v = value("ndots:", 15)) {
          o.ndots = *v;
        } else if (auto t = value("timeout:", 30)) {
          o.timeout = std::chrono::seconds(*t < 1 ? 1 : *t);
        } else if (auto a = value("attempts:", 5)) {
          o.attempts = *a < 1 ? 1 : *a;
        } else if (w == "rotate") {
          o.rotate = true;
        } else if (w == "edns0") {
          o.edns0 = true;
        } else if (w == "use-vc" || w == "usevc") {
          o.use_vc = true;
        }
      }
    }
  }
  return o;
}

options load_resolv_conf(const std::string& path) {
  if (path.empty() || path.find('\0') != std::string::npos) return {};
  ae::fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f) {
    if (errno != ENOENT) detail::note("cannot open", path);
    return {};
  }
  std::string text;
  char buf[65536];
  while (text.size() < detail::max_file) {
    const ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  if (text.size() >= detail::max_file) {
    // Keep whole lines only: a line cut short could read as a different entry.
    text.resize(detail::max_file);
    text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
    detail::note("file longer than 16 MiB; the rest is ignored", path);
  }
  return parse_resolv_conf(text);
}

options system_options() {
  const char* env = ::secure_getenv("ANYEVENT_RESOLV_CONF");
  return load_resolv_conf(env && *env ? std::string(env) : std::string("/etc/resolv.conf"));
}

}  // namespace ae::dns
