// resolve_sockaddr: the one entry point that turns a node and a service into targets.
//
// Notes:
// 1. Order of sources, as AnyEvent::Socket: "unix/", numeric addresses and "localhost" are
//    answered at once (resolve_now). Any other name goes to DNS through the loop's default
//    resolver (ae::dns::default_resolver): first SRV (_service._proto.name) when the
//    service was given as a name (also "name=port"), whose targets and ports then replace
//    the name; then A and AAAA in parallel for each name. The hosts file answers a name and
//    family only when DNS gave no addresses for it (DNS takes precedence, and any DNS
//    failure — NXDOMAIN, timeout, no server — falls back to the hosts file).
// 1a. Results are ordered by family preference first, then by SRV order (AnyEvent's sort),
//    so with SRV records every IPv4 target of every server comes before any IPv6 one.
// 1b. A lone SRV record with target "." means "no such service": no targets at all.
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

#include <anyevent/dns.hpp>
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
#include "dns_impl.hpp"

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

/// The addresses of a node that needs no lookup: a numeric address or "localhost".
std::optional<std::vector<address>> local_answer(std::string_view node) {
  if (auto a = parse_address(node)) return std::vector<address>{*a};
  if (node.size() == 9 && lower(node) == "localhost")
    return std::vector<address>{address::ipv4({127, 0, 0, 1}),
                                address::ipv6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})};
  return std::nullopt;
}

/// The hosts file's addresses of `name` (any case, a trailing dot ignored).
host_entry hosts_entry(std::string_view name) {
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  return hosts_lookup(name);
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

namespace {

/// What resolve_now works out from its arguments before any lookup.
struct request_shape {
  int family = 0;  // 0, 4 or 6
  int type = SOCK_STREAM;
  int protocol = IPPROTO_TCP;
  std::uint16_t port = 0;
  std::string service_name;  // the service as a name ("http" of "http=80"): SRV applies
  std::string proto;         // "tcp", "udp", "sctp"
  protocol_preference pref;

  bool usable(int af) const noexcept {
    if (family == 4) return af == AF_INET;
    if (family == 6) return af == AF_INET6;
    return pref.rank(af) >= 0;
  }
};

/// Checks protocol, family and service (throwing as resolve_sockaddr documents).
request_shape shape_of(std::string_view service, std::string_view proto, int family, int type) {
  request_shape r;
  r.protocol = protocol_number(proto);
  if (r.protocol < 0) invalid("ae::resolve_sockaddr: unknown protocol '" + std::string(proto) + "'");
  if (family != 0 && family != 4 && family != 6) invalid("ae::resolve_sockaddr: family must be 0, 4 or 6");
  r.family = family;
  r.proto = proto.empty() ? "tcp" : std::string(proto);
  r.type = type ? type : r.protocol == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
  const auto port = parse_service(service, proto);
  if (!port)
    invalid("ae::resolve_sockaddr: unknown service '" + std::string(service) + "/" + r.proto + "'");
  r.port = *port;
  // AnyEvent keeps the service's name, and so looks for SRV records, unless it was digits.
  if (!service.empty() && !parse_decimal_port(service))
    r.service_name = std::string(service.substr(0, service.find('=')));
  r.pref = protocols();
  return r;
}

/// Targets for known addresses, best first (a stable sort by family preference).
std::vector<target> targets_of(std::vector<address> addrs, const request_shape& r) {
  std::stable_sort(addrs.begin(), addrs.end(), [&](const address& a, const address& b) {
    return r.pref.rank(a.family()) < r.pref.rank(b.family());
  });
  std::vector<target> result;
  for (const address& a : addrs)
    if (r.usable(a.family())) result.push_back({a.family(), r.type, r.protocol, pack_sockaddr(r.port, a)});
  return result;
}

/// One name resolution through DNS (notes 1–1b). Shared by the query callbacks and, weakly,
/// the guard; it lives until the last callback ran or the guard cancelled the queries.
class dns_lookup final : public std::enable_shared_from_this<dns_lookup> {
 public:
  dns_lookup(request_shape shape, unique_function<void(std::vector<target>)> cb, loop& l)
      : shape_(std::move(shape)), cb_(std::move(cb)), resolver_(&dns::default_resolver(l)) {}

  void start(std::string name) {
    if (shape_.service_name.empty()) return resolve({{std::move(name), shape_.port}});
    auto self = shared_from_this();
    srv_ = resolver_->srv(shape_.service_name, shape_.proto, name,
                          [self, name](std::error_code ec, std::vector<dns::srv_record> records) {
                            self->on_srv(ec, std::move(records), name);
                          });
  }

  void cancel() noexcept {
    auto drop = std::move(cb_);
    srv_.reset();
    queries_.clear();
  }

 private:
  struct found {
    int rank;
    std::size_t index;  // of the name in SRV order
    target t;
  };

  void on_srv(std::error_code ec, std::vector<dns::srv_record> records, const std::string& name) {
    srv_.release();
    if (ec || records.empty()) return resolve({{name, shape_.port}});  // no SRV: the name itself
    if (records.size() == 1 && records.front().target == ".") return finish();  // note 1b
    std::vector<std::pair<std::string, std::uint16_t>> names;
    for (auto& r : records)
      if (r.target != ".") names.emplace_back(std::move(r.target), r.port);
    resolve(std::move(names));
  }

  void resolve(std::vector<std::pair<std::string, std::uint16_t>> names) {
    auto self = shared_from_this();
    const bool v4 = shape_.usable(AF_INET), v6 = shape_.usable(AF_INET6);
    if (!v4 && !v6) return finish();
    const int family = v4 && v6 ? AF_UNSPEC : v4 ? AF_INET : AF_INET6;
    pending_ = names.size();
    queries_.reserve(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto& [name, port] = names[i];
      queries_.push_back(resolver_->host(
          name, family, [self, i, name = name, port = port](std::error_code, dns::host_addresses found) {
            self->on_host(i, name, port, std::move(found));
          }));
    }
    if (names.empty()) finish();
  }

  void on_host(std::size_t index, const std::string& name, std::uint16_t port, dns::host_addresses got) {
    std::optional<host_entry> hosts;  // read only when DNS had nothing for a family
    auto add = [&](int af, std::vector<std::string>& dns_answer, std::vector<address> host_entry::*from_hosts) {
      if (!shape_.usable(af)) return;
      std::vector<address> addrs;
      for (const auto& text : dns_answer)
        if (auto a = af == AF_INET ? parse_ipv4(text) : parse_ipv6(text)) addrs.push_back(*a);
      if (addrs.empty()) {
        if (!hosts) hosts = hosts_entry(name);
        addrs = (*hosts).*from_hosts;
      }
      for (const address& a : addrs)
        found_.push_back({shape_.pref.rank(af), index, {af, shape_.type, shape_.protocol, pack_sockaddr(port, a)}});
    };
    add(AF_INET, got.ipv4, &host_entry::v4);
    add(AF_INET6, got.ipv6, &host_entry::v6);
    if (--pending_ == 0) finish();
  }

  void finish() {
    if (!cb_) return;
    std::stable_sort(found_.begin(), found_.end(), [](const found& a, const found& b) {
      return a.rank != b.rank ? a.rank < b.rank : a.index < b.index;
    });
    std::vector<target> result;
    result.reserve(found_.size());
    for (auto& f : found_) result.push_back(std::move(f.t));
    found_.clear();
    auto cb = std::move(cb_);
    auto keep = shared_from_this();  // the callback may cancel us
    queries_.clear();
    cb(std::move(result));
  }

  request_shape shape_;
  unique_function<void(std::vector<target>)> cb_;
  dns::resolver* resolver_;  // the loop's default resolver: lives until the process ends
  guard srv_;
  std::vector<guard> queries_;
  std::vector<found> found_;
  std::size_t pending_ = 0;
};

/// The targets of "unix/" and a path.
std::vector<target> unix_targets(std::string_view path, int family, int type) {
  // AnyEvent accepts no family restriction here; an empty path names nothing.
  std::vector<target> result;
  if (family == 0 && !path.empty()) {
    try {
      result.push_back({AF_UNIX, type ? type : SOCK_STREAM, 0, pack_sockaddr(path, address::unix_socket())});
    } catch (const std::invalid_argument& e) {
      log::write(log::level::debug, std::string("resolve_sockaddr: ") + e.what());
    }
  }
  return result;
}

/// The targets of a node that needs no DNS; nullopt for a name.
std::optional<std::vector<target>> known_targets(std::string_view node, const request_shape& shape) {
  if (node.empty() || node.find('\0') != std::string_view::npos) return std::vector<target>{};
  if (!shape.usable(AF_INET) && !shape.usable(AF_INET6)) return std::vector<target>{};
  if (auto addrs = local_answer(node)) return targets_of(std::move(*addrs), shape);
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<target>> resolve_now(std::string_view node, std::string_view service,
                                               std::string_view proto, int family, int type) {
  if (node == "unix/") return unix_targets(service, family, type);
  return known_targets(node, shape_of(service, proto, family, type));
}

guard resolve_async(std::string_view node, std::string_view service, std::string_view proto,
                    int family, int type, unique_function<void(std::vector<target>)> cb, loop& l) {
  auto later = [&](std::vector<target> targets) {
    ae::postpone([cb = std::move(cb), r = std::move(targets)]() mutable { cb(std::move(r)); }, l);
    return guard();
  };
  if (node == "unix/") return later(unix_targets(service, family, type));
  request_shape shape = shape_of(service, proto, family, type);
  if (auto known = known_targets(node, shape)) return later(std::move(*known));
  // Queries go out in ASCII (IDNA 2008 for non-ASCII names). A name DNS cannot carry (too
  // long, a forbidden byte) still gets its hosts-file answer, after a query that fails.
  std::string name;
  if (dns_query_name(node, name)) name.assign(node);
  std::transform(name.begin(), name.end(), name.begin(), ascii_lower);
  auto lookup = std::make_shared<dns_lookup>(std::move(shape), std::move(cb), l);
  lookup->start(std::move(name));
  return guard([w = std::weak_ptr<dns_lookup>(lookup)] {
    if (auto s = w.lock()) s->cancel();
  });
}

}  // namespace detail

void resolve_sockaddr(std::string_view node, std::string_view service, std::string_view proto,
                      int family, int type, unique_function<void(std::vector<target>)> cb, loop& l) {
  detail::resolve_async(node, service, proto, family, type, std::move(cb), l).release();
}

}  // namespace ae
