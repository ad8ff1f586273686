// resolve_sockaddr: the one entry point that turns a node and a service into targets.
//
// Notes:
// 1. Today names are answered without DNS: numeric addresses, "unix/", "localhost" and the
//    hosts file. The DNS issue adds c-ares lookups in lookup_name() below (A/AAAA, and SRV
//    when node and service are both names, as AnyEvent does); the hosts file then answers
//    only names DNS has no records for (AnyEvent's order). Nothing else needs to change:
//    callers already get their targets in a later iteration.
// 2. The hosts file is untrusted text of any size and content. It is read whole (at most
//    max_hosts_bytes) and parsed through detail::cursor; NUL bytes are ordinary bytes of a
//    token, so a line holding one cannot end the file early or hide the lines after it.
//    The parsed table is cached and read again when the file's identity, size or mtime
//    change (AnyEvent re-reads on mtime).
// 3. The hosts file is opened O_NONBLOCK and used only when it is a regular file: a FIFO
//    named by ANYEVENT_HOSTS must not block the loop.
// 4. getservbyname() is not thread-safe; getservbyname_r() is used (glibc). ANYEVENT_HOSTS
//    and ANYEVENT_PROTOCOLS are read with secure_getenv (ignored in setuid programs).
#include "socket_impl.hpp"

#include <anyevent/error.hpp>
#include <anyevent/log.hpp>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "cursor.hpp"

namespace ae::detail {

namespace {

constexpr std::size_t max_hosts_bytes = 64u << 20;

bool is_blank(int c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), ascii_lower);
  return r;
}

std::optional<std::uint16_t> parse_decimal_port(std::string_view digits) {
  if (digits.empty() || digits.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : digits) {
    if (!is_digit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > 0xffff) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// ---- the hosts file ----

struct host_entry {
  std::vector<address> v4, v6;
};

struct hosts_table {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  timespec mtime{};
  std::unordered_map<std::string, host_entry> names;
};

void parse_hosts_line(std::string_view line, hosts_table& table) {
  cursor c(line);
  const std::string_view content = c.take_while([](int ch) { return ch != '#'; });
  cursor t(content);
  t.take_while(is_blank);
  const std::string_view addr_text = t.take_while([](int ch) { return !is_blank(ch); });
  if (addr_text.empty()) return;
  // parse_ipv4 first, as AnyEvent: "127.1" is an IPv4 address, not a v4-mapped IPv6 one.
  std::optional<address> a = parse_ipv4(addr_text);
  if (!a) a = parse_ipv6(addr_text);
  if (!a) return;
  const bool v6 = a->family() == AF_INET6;
  for (;;) {
    t.take_while(is_blank);
    const std::string_view name = t.take_while([](int ch) { return !is_blank(ch); });
    if (name.empty()) break;
    auto& e = table.names[lower(name)];
    (v6 ? e.v6 : e.v4).push_back(*a);
  }
}

void parse_hosts(std::string_view text, hosts_table& table) {
  cursor c(text);
  while (!c.at_end()) {
    parse_hosts_line(c.take_while([](int ch) { return ch != '\n'; }), table);
    c.consume('\n');
  }
}

std::string hosts_path() {
  const char* env = ::secure_getenv("ANYEVENT_HOSTS");
  return env && *env ? std::string(env) : std::string("/etc/hosts");
}

bool same_file(const hosts_table& t, const std::string& path, const struct stat& st) {
  return t.path == path && t.dev == st.st_dev && t.ino == st.st_ino && t.size == st.st_size &&
         t.mtime.tv_sec == st.st_mtim.tv_sec && t.mtime.tv_nsec == st.st_mtim.tv_nsec;
}

/// Reads the hosts file into `table` unless the cached copy is current. Caller holds the lock.
void refresh_hosts(hosts_table& table) {
  const std::string path = hosts_path();
  const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (raw < 0) {
    if (table.path != path || table.size != -1) {
      log::write(log::level::debug, "hosts file " + path + ": " + errno_text(errno));
      table = hosts_table{};
      table.path = path;
    }
    return;
  }
  ae::fd f(raw);
  struct stat st{};
  if (::fstat(f.get(), &st) < 0 || !S_ISREG(st.st_mode)) {
    log::write(log::level::debug, "hosts file " + path + " is not a regular file; ignored");
    table = hosts_table{};
    table.path = path;
    return;
  }
  if (same_file(table, path, st)) return;

  std::string text;
  text.resize(static_cast<std::size_t>(std::min<off_t>(std::max<off_t>(st.st_size, 0), max_hosts_bytes)));
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(f.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  if (static_cast<std::uintmax_t>(st.st_size) > max_hosts_bytes)
    log::write(log::level::warn, "hosts file " + path + " is larger than 64 MiB; the rest is ignored");

  hosts_table fresh;
  fresh.path = path;
  fresh.dev = st.st_dev;
  fresh.ino = st.st_ino;
  fresh.size = st.st_size;
  fresh.mtime = st.st_mtim;
  parse_hosts(text, fresh);
  log::write(log::level::debug, "(re)loaded hosts file " + path);
  table = std::move(fresh);
}

std::mutex hosts_mutex;

host_entry hosts_lookup(std::string_view name) {
  static hosts_table table;
  std::lock_guard lock(hosts_mutex);
  refresh_hosts(table);
  auto it = table.names.find(lower(name));
  return it == table.names.end() ? host_entry{} : it->second;
}

// ---- names to addresses ----

/// Addresses of one node name, without DNS (see note 1). Order: IPv4 then IPv6 as found;
/// the caller sorts by preference.
std::vector<address> lookup_name(std::string_view node) {
  if (node.empty() || node.find('\0') != std::string_view::npos) return {};
  if (auto a = parse_address(node)) return {*a};
  if (lower(node) == "localhost")
    return {address::ipv4({127, 0, 0, 1}), address::ipv6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})};
  std::string_view name = node;
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);  // fully qualified form
  host_entry e = hosts_lookup(name);
  std::vector<address> r = std::move(e.v4);
  r.insert(r.end(), e.v6.begin(), e.v6.end());
  return r;
}

int protocol_number(std::string_view proto) {
  if (proto.empty() || proto == "tcp") return IPPROTO_TCP;
  if (proto == "udp") return IPPROTO_UDP;
  if (proto == "sctp") return IPPROTO_SCTP;
  return -1;
}

[[noreturn]] void invalid(const std::string& what) {
  throw ae::error(std::make_error_code(std::errc::invalid_argument), what);
}

}  // namespace

std::optional<std::uint16_t> parse_service(std::string_view service, std::string_view proto) {
  if (service.empty()) return 0;
  if (const auto eq = service.find('='); eq != std::string_view::npos && eq > 0)
    return parse_decimal_port(service.substr(eq + 1));
  if (auto p = parse_decimal_port(service)) return p;
  if (service.find('\0') != std::string_view::npos || service.size() > 255) return std::nullopt;
  const std::string name(service);
  const std::string pr(proto.empty() ? std::string_view("tcp") : proto);
  servent se{};
  servent* result = nullptr;
  char buf[4096];
  if (::getservbyname_r(name.c_str(), pr.c_str(), &se, buf, sizeof buf, &result) != 0 || !result)
    return std::nullopt;
  return ntohs(static_cast<std::uint16_t>(result->s_port));
}

protocol_preference protocols() {
  const char* env = ::secure_getenv("ANYEVENT_PROTOCOLS");
  if (!env || !*env) return {};
  // Only the families listed are used, earlier ones preferred (AnyEvent's rule).
  protocol_preference p{-1, -1};
  cursor c(env);
  int rank = 0;
  while (!c.at_end()) {
    const std::string_view item = c.take_while([](int ch) { return ch != ','; });
    c.consume(',');
    const std::string name = lower(item);
    if (name == "ipv4" && p.ipv4 < 0) p.ipv4 = rank++;
    if (name == "ipv6" && p.ipv6 < 0) p.ipv6 = rank++;
  }
  return p;
}

std::pair<std::string, std::uint16_t> host_port(const ae::sockaddr& sa) noexcept {
  try {
    auto [service, host] = unpack_sockaddr(sa);
    if (host.family() == AF_UNIX) return {"unix/", 0};
    return {format_address(host), parse_decimal_port(service).value_or(0)};
  } catch (...) {
    return {};
  }
}

std::string describe(const ae::sockaddr& sa) {
  try {
    auto [service, host] = unpack_sockaddr(sa);
    if (host.family() == AF_UNIX) return service.empty() ? "unix/" : service;
    return format_hostport(format_address(host), service);
  } catch (const std::exception&) {
    return "(address of family " + std::to_string(sa.family()) + ")";
  }
}

std::string errno_text(int err) { return std::generic_category().message(err); }

}  // namespace ae::detail

namespace ae {

namespace detail {

std::optional<std::vector<target>> resolve_now(std::string_view node, std::string_view service,
                                               std::string_view proto, int family, int type) {
  std::vector<target> result;

  if (node == "unix/") {
    // AnyEvent accepts no family restriction here; an empty path names nothing.
    if (family == 0 && !service.empty()) {
      try {
        result.push_back({AF_UNIX, type ? type : SOCK_STREAM, 0, pack_sockaddr(service, address::unix_socket())});
      } catch (const std::invalid_argument& e) {
        log::write(log::level::debug, std::string("resolve_sockaddr: ") + e.what());
      }
    }
  } else {
    const int protocol = detail::protocol_number(proto);
    if (protocol < 0) detail::invalid("ae::resolve_sockaddr: unknown protocol '" + std::string(proto) + "'");
    if (family != 0 && family != 4 && family != 6)
      detail::invalid("ae::resolve_sockaddr: family must be 0, 4 or 6");
    if (!type) type = protocol == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
    const auto port = detail::parse_service(service, proto);
    if (!port)
      detail::invalid("ae::resolve_sockaddr: unknown service '" + std::string(service) + "/" +
                      std::string(proto.empty() ? "tcp" : proto) + "'");

    const detail::protocol_preference pref = detail::protocols();
    auto usable = [&](int af) {
      if (family == 4) return af == AF_INET;
      if (family == 6) return af == AF_INET6;
      return pref.rank(af) >= 0;
    };
    std::vector<address> addrs = detail::lookup_name(node);
    std::stable_sort(addrs.begin(), addrs.end(), [&](const address& a, const address& b) {
      return pref.rank(a.family()) < pref.rank(b.family());
    });
    for (const address& a : addrs)
      if (usable(a.family())) result.push_back({a.family(), type, protocol, pack_sockaddr(*port, a)});
  }

  return result;
}

}  // namespace detail

void resolve_sockaddr(std::string_view node, std::string_view service, std::string_view proto,
                      int family, int type, unique_function<void(std::vector<target>)> cb, loop& l) {
  // Everything is answered at once today; the DNS issue starts its queries here when
  // resolve_now() says a name needs them (note 1). The callback waits for the loop either way.
  auto result = detail::resolve_now(node, service, proto, family, type);
  ae::postpone([cb = std::move(cb), r = std::move(*result)]() mutable { cb(std::move(r)); }, l);
}

}  // namespace ae
