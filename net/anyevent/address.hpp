// Host addresses as AnyEvent::Socket knows them — IPv4, IPv6 and the "unix/" token — with
// their text forms, "host:port" strings and socket addresses. Nothing here does I/O or name
// resolution; every parser is strict, reads the whole string and returns std::nullopt for
// anything it does not accept (trailing junk, embedded NULs, scope ids, out-of-range parts).
#pragma once

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace ae {

/// A host address: 4 octets (IPv4), 16 octets (IPv6), or the "unix/" token that stands for
/// "a unix domain socket" (the socket's path then travels as the service). A value type:
/// copy it, compare it, hash it, use it as a map key. Ordered IPv4 < IPv6 < unix/, then by
/// octets. Default-constructed it is the IPv4 address 0.0.0.0.
///
///   auto a = ae::parse_address("10.0.0.1");        // IPv4, bytes() == {10, 0, 0, 1}
///   auto b = ae::address::ipv4({127, 0, 0, 1});
///   std::unordered_set<ae::address> seen{*a, b};
class address {
 public:
  address() noexcept = default;

  /// The IPv4 address with these octets (network order).
  static address ipv4(const std::array<std::uint8_t, 4>& octets) noexcept;
  /// The IPv6 address with these octets (network order).
  static address ipv6(const std::array<std::uint8_t, 16>& octets) noexcept;
  /// The "unix/" token (AnyEvent's host for unix domain sockets).
  static address unix_socket() noexcept;
  /// 4 octets give an IPv4 address, 16 an IPv6 address; any other length gives nullopt.
  static std::optional<address> from_bytes(std::span<const std::uint8_t> octets) noexcept;

  /// The octets in network order: 4 for IPv4, 16 for IPv6, none for the unix/ token.
  std::span<const std::uint8_t> bytes() const noexcept;
  /// AF_INET, AF_INET6 or AF_UNIX.
  int family() const noexcept;
  /// True for an IPv6 address of the form ::ffff:a.b.c.d (an IPv4 address mapped into IPv6).
  bool is_v4_mapped() const noexcept;

  /// Same family and same octets.
  friend bool operator==(const address&, const address&) noexcept = default;
  /// IPv4 < IPv6 < unix/, then octet by octet.
  friend std::strong_ordering operator<=>(const address&, const address&) noexcept = default;

 private:
  enum class kind : std::uint8_t { v4, v6, unix_token };
  // kind_ first so the defaulted ordering sorts by family; octets a kind does not use stay
  // zero, so the defaulted comparisons only ever see meaningful differences.
  kind kind_ = kind::v4;
  std::array<std::uint8_t, 16> octets_{};
};

/// Parses an IPv4 address in any form POSIX inet_aton accepts: 1 to 4 parts separated by
/// dots, each decimal, octal (leading 0) or hexadecimal (0x…); every part but the last must
/// be below 256 and the last fills the remaining octets ("10.1" is 10.0.0.1, "10.0x020304"
/// is 10.2.3.4, "0x12345678" is 18.52.86.120, "0377.0377.0377.0377" is 255.255.255.255).
/// Unlike inet_aton, nothing may follow the address.
std::optional<address> parse_ipv4(std::string_view text);

/// Parses an IPv6 address in the forms of RFC 4291 ("2001:db8::1", "::", "::1",
/// "::ffff:1.2.3.4", "2002:5345::10.0.0.1"); the embedded IPv4 tail may use any form
/// parse_ipv4 accepts that has a dot ("::ffff:10.1"). A string without any colon that parse_ipv4 accepts gives the
/// v4-mapped address, as in AnyEvent: parse_ipv6("192.89.98.1") is ::ffff:192.89.98.1.
/// Scope ids ("fe80::1%eth0") are not accepted.
std::optional<address> parse_ipv6(std::string_view text);

/// Returns the unix/ token for exactly "unix/", nullopt for anything else.
std::optional<address> parse_unix(std::string_view text);

/// parse_ipv6, parse_ipv4 and parse_unix in one: "10.1.2.3", "::1", "unix/". A v4-mapped
/// IPv6 address ("::ffff:10.1.2.3") comes back as the IPv4 address; call parse_ipv6 to keep
/// it mapped.
std::optional<address> parse_address(std::string_view text);

/// The same as parse_address (AnyEvent exports both names).
inline std::optional<address> parse_ip(std::string_view text) { return parse_address(text); }

/// Dotted-quad text of an IPv4 address ("10.0.0.1"). Throws std::invalid_argument for
/// any other kind of address.
std::string format_ipv4(const address& a);

/// Text of an IPv6 address, lower case, leading zeros dropped, the longest run of two or
/// more zero groups written "::" (the first on a tie). Addresses with an IPv4 inside get a
/// dotted tail: v4-compatible "::1.2.3.4", v4-mapped "::ffff:1.2.3.4", v4-translated
/// "::ffff:0:1.2.3.4"; "::" and "::1" stay as they are. An IPv4 address is printed as its
/// v4-mapped form. Throws std::invalid_argument for the unix/ token.
std::string format_ipv6(const address& a);

/// Text of any address: IPv4 dotted, IPv6 as format_ipv6 except that a v4-mapped address is
/// printed as the plain IPv4 address, and "unix/" for the unix token. parse_address of the
/// result gives the address back (with a v4-mapped address unmapped).
std::string format_address(const address& a);

/// The same as format_address (AnyEvent exports both names).
inline std::string format_ip(const address& a) { return format_address(a); }

/// AF_INET, AF_INET6 or AF_UNIX: the same as a.family().
int address_family(const address& a) noexcept;

/// Splits "host:port" and its relatives into (host, service). Accepted forms:
///
///   hostname:port    "www.x.de:443", "www.x.de:https=443", "www.linux.org" (default service)
///   ipv4:port        "198.182.196.56", "127.1:22"
///   ipv6             "::1", "affe::1" (the whole string is the address: "::1:80" is one)
///   [host]:port      "[::1]:80", "[10.0.1]:80", "[www.x.org]"
///   [host] port      "[www.x.org] 17"
///   host port        "::1 443", "10.0.0.1 smtp"
///   host#port        "::1#53" (the separator dig and many configs use)
///   unix/:path       "unix/:/path/to/socket"
///   /path            "/path/to/socket" gives ("unix/", "/path/to/socket")
///
/// The service is anything up to trailing white space that holds no colon or white space:
/// a port number, a service name or AnyEvent's "name=port". Without one, default_service is
/// used; if that is empty too the result is nullopt. nullopt also for a host name that holds
/// a colon but is not an IPv6 address, an empty host, unbalanced brackets, white space or
/// control characters inside the host, leading white space and embedded NULs.
///
///   ae::parse_hostport("localhost:443")          // {"localhost", "443"}
///   ae::parse_hostport("localhost", "https")     // {"localhost", "https"}
///   ae::parse_hostport("[::1]")                  // nullopt: no service
std::optional<std::pair<std::string, std::string>> parse_hostport(
    std::string_view text, std::string_view default_service = {});

/// The inverse of parse_hostport: "host:service", the host in brackets when it holds a
/// colon ("[::1]:80"), without ":service" when the service is empty, and just the path
/// for ("unix/", "/path"). parse_hostport reads the result back as (host, service).
std::string format_hostport(std::string_view host, std::string_view service = {});

/// A socket address as bind(), connect(), accept() and getpeername() use it: a
/// sockaddr_storage plus the length in use. A value type; compares by length and bytes.
///
///   ae::sockaddr peer;
///   socklen_t len = peer.capacity();
///   int c = ::accept(listen_fd, peer.data(), &len);
///   peer.resize(len);
///   auto [port, host] = ae::unpack_sockaddr(peer);
class sockaddr {
 public:
  /// An empty address: size() 0, family() AF_UNSPEC.
  sockaddr() noexcept = default;
  /// Copies `size` bytes from `sa`. Throws std::invalid_argument if size > capacity().
  sockaddr(const ::sockaddr* sa, socklen_t size);

  /// The address, for the system calls; writable, up to capacity() bytes.
  ::sockaddr* data() noexcept;
  /// The address, for the system calls.
  const ::sockaddr* data() const noexcept;
  /// Bytes in use.
  socklen_t size() const noexcept { return size_; }
  /// Room for any socket address (sizeof(sockaddr_storage)).
  static constexpr socklen_t capacity() noexcept { return sizeof(::sockaddr_storage); }
  /// Sets the bytes in use after a system call filled data(). Throws std::invalid_argument
  /// if size > capacity() (the kernel truncated the address).
  void resize(socklen_t size);
  /// The address family in the first bytes, or AF_UNSPEC when too short to hold one.
  int family() const noexcept;

  /// Same length and the same bytes in that length.
  friend bool operator==(const sockaddr& a, const sockaddr& b) noexcept;

 private:
  ::sockaddr_storage storage_{};
  socklen_t size_ = 0;
};

/// Packs a service and a host address into a socket address. For IPv4 and IPv6 the service
/// is a decimal port 0–65535 or AnyEvent's "name=port"; for the unix/ token it is the path
/// of the socket (a leading NUL selects Linux's abstract namespace). Throws
/// std::invalid_argument when the port is not a number in range, or the path holds a NUL
/// or is too long for sockaddr_un (it is never truncated).
///
///   auto sa = ae::pack_sockaddr("8080", *ae::parse_address("127.0.0.1"));
///   ::bind(fd, sa.data(), sa.size());
ae::sockaddr pack_sockaddr(std::string_view service_or_path, const address& host);

/// pack_sockaddr with a numeric port (IPv4 and IPv6 only; throws std::invalid_argument for
/// the unix/ token).
ae::sockaddr pack_sockaddr(std::uint16_t port, const address& host);

/// Unpacks a socket address into (service, host): for IPv4 and IPv6 the port in decimal and
/// the address (an IPv6 scope id is dropped), for AF_UNIX the path (empty for an unnamed
/// socket) and the unix/ token. Throws std::invalid_argument for another family or a
/// length too short for the family.
std::pair<std::string, address> unpack_sockaddr(const ae::sockaddr& sa);

}  // namespace ae

/// Hashes an address, so it can key unordered containers.
template <>
struct std::hash<ae::address> {
  std::size_t operator()(const ae::address& a) const noexcept {
    // FNV-1a over the family and octets: addresses are short, and this needs no state.
    std::size_t h = static_cast<std::size_t>(14695981039346656037ull);
    auto mix = [&h](std::uint8_t b) {
      h ^= b;
      h *= static_cast<std::size_t>(1099511628211ull);
    };
    mix(static_cast<std::uint8_t>(a.family()));
    for (std::uint8_t b : a.bytes()) mix(b);
    return h;
  }
};
