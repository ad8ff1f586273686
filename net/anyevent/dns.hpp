// ae::dns — DNS queries over c-ares, driven only by ae io and timer watchers, so they work
// on every backend (no helper thread, no private loop, no polling).
//
//   auto g = ae::dns::a("example.org", [](std::error_code ec, std::vector<std::string> ips) {
//     if (!ec) for (auto& ip : ips) std::puts(ip.c_str());
//   });
//
// Every query returns an ae::guard: destroying it (or the resolver) cancels the query and its
// callback never runs, also when that happens inside another query's callback. Otherwise the
// callback runs exactly once, on the loop, never before the call that started it returns.
//
// Errors (std::generic_category(), as AnyEvent sets $!):
//   ENXIO  (std::errc::no_such_device_or_address)  the name does not exist (NXDOMAIN)
//   ENODATA (std::errc::no_message_available)      the name exists but has no such records
//                                                  — not_found() is true for both
//   ETIMEDOUT                                      no answer after every attempt
//   ECONNREFUSED                                   every server failed (SERVFAIL), refused
//                                                  (REFUSED), or has nothing listening
//   EBADMSG                                        a malformed or unusable answer
//   EINVAL / ENAMETOOLONG                          the name cannot be queried: empty label,
//                                                  forbidden byte, failed IDNA conversion /
//                                                  longer than 253 bytes or a label > 63
//   ENOMEM                                         out of memory
//
// Names are ASCII; a name with non-ASCII bytes is taken as UTF-8 and converted with IDNA 2008
// (TR46 non-transitional, libidn2), never truncated. Names read from answers are untrusted:
// bytes other than printable ASCII, and '.', '\\', '"', '(', ')', ';', '@', '$' inside a
// label, come back escaped as in a zone file (\DDD or \.), without a trailing dot; the root
// name is ".".
#pragma once

#include <anyevent/function.hpp>
#include <anyevent/guard.hpp>
#include <anyevent/loop.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace ae::detail {
class dns_resolver;
}

namespace ae::dns {

/// Resource record types by their IANA numbers; any other number may be cast in.
enum class rr_type : std::uint16_t {
  a = 1, ns = 2, cname = 5, soa = 6, ptr = 12, hinfo = 13, mx = 15, txt = 16, aaaa = 28,
  srv = 33, naptr = 35, dname = 39, opt = 41, ds = 43, sshfp = 44, rrsig = 46, nsec = 47,
  dnskey = 48, tlsa = 52, svcb = 64, https = 65, spf = 99, any = 255, uri = 256, caa = 257,
};
/// "A", "MX", …; "TYPE<n>" for a number without a name.
std::string type_name(rr_type t);
/// Case-insensitive "mx", "AAAA", "TYPE65", or a decimal number 1–65535.
std::optional<rr_type> parse_type(std::string_view text);

struct mx_record {
  std::uint16_t preference = 0;
  std::string exchange;
  friend bool operator==(const mx_record&, const mx_record&) = default;
};
struct srv_record {
  std::uint16_t priority = 0, weight = 0, port = 0;
  std::string target;  // "." alone: the service is decidedly not available (RFC 2782)
  friend bool operator==(const srv_record&, const srv_record&) = default;
};
struct soa_record {
  std::string mname, rname;
  std::uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;
};
struct txt_record {
  std::vector<std::string> strings;  // the character-strings, as bytes (may hold NULs)
};
struct raw_record {
  std::string bytes;  // the rdata of a type not decoded here
};

/// One resource record of an answer section.
struct record {
  std::string name;  // owner
  rr_type type = rr_type::a;
  std::uint16_t rclass = 1;
  std::uint32_t ttl = 0;
  /// A/AAAA: the address as text; NS/CNAME/PTR/DNAME: the name; MX, SRV, SOA, TXT (and SPF):
  /// their structs; anything else: raw_record.
  std::variant<std::string, mx_record, srv_record, soa_record, txt_record, raw_record> data;
};

/// The IPv4 and IPv6 addresses of one name, as text.
struct host_addresses {
  std::vector<std::string> ipv4, ipv6;
};

/// True for the errors that mean "no such records": ENXIO (NXDOMAIN) and ENODATA.
bool not_found(std::error_code ec) noexcept;

/// Resolver configuration. Defaults are those of glibc without a resolv.conf.
struct options {
  /// "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353". Empty: 127.0.0.1.
  std::vector<std::string> servers;
  /// Search list for names with fewer than `ndots` dots (not for names ending in '.').
  std::vector<std::string> search;
  int ndots = 1;
  /// The first attempt's timeout; c-ares doubles it for each round through the servers.
  std::chrono::milliseconds timeout{5000};
  /// How often each server is tried (resolv.conf "attempts").
  int attempts = 2;
  bool rotate = false;
  /// Advertise EDNS0 with this UDP payload size; answers that still do not fit are
  /// truncated by the server and retried over TCP either way.
  bool edns0 = false;
  std::uint16_t edns_size = 1232;
  /// Always use TCP.
  bool use_vc = false;
  /// Keep sockets open while idle. Off by default: a fresh socket (and source port) per
  /// burst of queries is harder to spoof.
  bool stay_open = false;
  /// Queries handed to c-ares at once; the rest wait in a FIFO. 0: the value of
  /// ANYEVENT_MAX_OUTSTANDING_DNS, else 10.
  std::size_t max_outstanding = 0;
};

/// Parses resolv.conf text: nameserver (at most 3, as glibc), domain, search (the last of
/// the two wins; at most 32 valid names), options ndots:n (≤ 15), timeout:n (seconds, ≤ 30),
/// attempts:n (≤ 5), rotate, edns0, use-vc. '#' and ';' start comments. Lines holding a NUL
/// byte and entries that do not parse are ignored (and logged at level info); nothing is
/// truncated. An extension: "nameserver 1.2.3.4:5353" / "[::1]:5353" name a port.
options parse_resolv_conf(std::string_view text);
/// Reads and parses a file (its first 16 MiB). A missing or unreadable file gives defaults.
options load_resolv_conf(const std::string& path);
/// load_resolv_conf(ANYEVENT_RESOLV_CONF, else /etc/resolv.conf). The variable is ignored in
/// setuid programs.
options system_options();

using addresses_cb = unique_function<void(std::error_code, std::vector<std::string>)>;
using names_cb = unique_function<void(std::error_code, std::vector<std::string>)>;
using strings_cb = unique_function<void(std::error_code, std::vector<std::string>)>;
using mx_cb = unique_function<void(std::error_code, std::vector<mx_record>)>;
using srv_cb = unique_function<void(std::error_code, std::vector<srv_record>)>;
using records_cb = unique_function<void(std::error_code, std::vector<record>)>;
using host_cb = unique_function<void(std::error_code, host_addresses)>;

/// A c-ares channel on one loop. Use it on that loop's thread only. Destroying it cancels
/// every query without calling back (also from inside a callback of its own).
class resolver {
 public:
  /// Configured by system_options().
  explicit resolver(loop& l = default_loop());
  /// Throws ae::error (EINVAL) for a server that is not an address.
  explicit resolver(options o, loop& l = default_loop());
  ~resolver();
  resolver(resolver&&) noexcept;
  resolver& operator=(resolver&&) noexcept;

  /// Addresses of `name` as text, in the order the server gave them, after CNAMEs.
  guard a(std::string_view name, addresses_cb cb);
  guard aaaa(std::string_view name, addresses_cb cb);
  /// Mail exchangers, by preference (equal preferences keep the server's order).
  guard mx(std::string_view name, mx_cb cb);
  guard ns(std::string_view name, names_cb cb);
  /// One string per TXT record: its character-strings concatenated, as AnyEvent does.
  guard txt(std::string_view name, strings_cb cb);
  /// _service._proto.domain, by priority and, within one priority, in RFC 2782's weighted
  /// random order. A leading '_' on service or proto may be given or left out.
  guard srv(std::string_view service, std::string_view proto, std::string_view domain,
            srv_cb cb);
  guard ptr(std::string_view name, names_cb cb);
  /// The CNAME targets of `name` itself.
  guard cname(std::string_view name, names_cb cb);
  /// PTR names of an IPv4 or IPv6 address (EINVAL when `ip` is not one).
  guard reverse_lookup(std::string_view ip, names_cb cb);
  /// Any type: every record of the answer section, in wire order (CNAMEs included).
  guard request(std::string_view name, rr_type type, records_cb cb);
  /// A and AAAA in parallel (family AF_INET, AF_INET6, or AF_UNSPEC for both); one callback
  /// when both are done. Succeeds when either found addresses; otherwise the error of the
  /// one that did not merely find nothing (a timeout wins over NXDOMAIN), else A's.
  guard host(std::string_view name, int family, host_cb cb);

  /// Queries handed to c-ares and not finished (cancelled ones still count until c-ares lets
  /// go of them), and queries waiting for a slot.
  std::size_t in_flight() const noexcept;
  std::size_t queued() const noexcept;
  /// The configuration in force (max_outstanding resolved).
  const options& config() const noexcept;

 private:
  std::shared_ptr<detail::dns_resolver> impl_;
};

/// The resolver shared by everything on loop `l`, configured by system_options() on first
/// use. It lives as long as `l`: when the last handle of `l` goes, it goes first, and its
/// outstanding queries are cancelled without calling back. Assigning another resolver made
/// on `l` to it makes `l` live until the process ends (that resolver holds a handle of `l`).
resolver& default_resolver(loop& l = default_loop());

/// The same queries on default_resolver(l).
guard a(std::string_view name, addresses_cb cb, loop& l = default_loop());
guard aaaa(std::string_view name, addresses_cb cb, loop& l = default_loop());
guard mx(std::string_view name, mx_cb cb, loop& l = default_loop());
guard ns(std::string_view name, names_cb cb, loop& l = default_loop());
guard txt(std::string_view name, strings_cb cb, loop& l = default_loop());
guard srv(std::string_view service, std::string_view proto, std::string_view domain, srv_cb cb,
          loop& l = default_loop());
guard ptr(std::string_view name, names_cb cb, loop& l = default_loop());
guard cname(std::string_view name, names_cb cb, loop& l = default_loop());
guard reverse_lookup(std::string_view ip, names_cb cb, loop& l = default_loop());
guard request(std::string_view name, rr_type type, records_cb cb, loop& l = default_loop());
guard host(std::string_view name, int family, host_cb cb, loop& l = default_loop());

}  // namespace ae::dns
