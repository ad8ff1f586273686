// ae::sockaddr, pack_sockaddr and unpack_sockaddr.
//
// Notes:
// 1. A unix path that does not fit sun_path (with its terminating NUL) is an error, never
//    silently truncated as Perl's Socket::pack_sockaddr_un does: a truncated path names a
//    different socket.
// 2. The kernel reports unix addresses of varying length: just the family for an unnamed
//    socket, the path with or without its NUL, and for Linux's abstract namespace a leading
//    NUL followed by a name that may hold more NULs. unpack keeps an abstract name whole
//    (leading NUL included) so that pack_sockaddr gives the same address back.
// 3. Every read of a sockaddr first checks its length against the family's structure and
//    copies it into a local one; nothing is read through a cast pointer.
#include <anyevent/address.hpp>

#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>

#include "cursor.hpp"

namespace ae {

namespace {

// A decimal port, or AnyEvent's "name=port" (the port number a caller supplies for a
// service name its services database may lack).
std::uint16_t parse_port(std::string_view service) {
  detail::cursor c(service);
  if (const auto eq = service.find('='); eq != std::string_view::npos && eq > 0) c.skip(eq + 1);
  const auto digits = c.take_while(detail::is_digit);
  std::uint32_t port = 0;
  bool ok = !digits.empty() && c.at_end();
  for (char ch : digits) {
    port = port * 10 + static_cast<std::uint32_t>(ch - '0');
    if (port > 0xffff) {
      ok = false;
      break;
    }
  }
  if (!ok)
    throw std::invalid_argument("ae::pack_sockaddr: '" + std::string(service) +
                                "' is not a port number (0-65535) or name=port");
  return static_cast<std::uint16_t>(port);
}

template <class T>
ae::sockaddr from_struct(const T& s, socklen_t size) {
  ::sockaddr_storage storage{};
  std::memcpy(&storage, &s, sizeof s);
  return ae::sockaddr(reinterpret_cast<const ::sockaddr*>(&storage), size);
}

ae::sockaddr pack_unix(std::string_view path) {
  ::sockaddr_un un{};
  un.sun_family = AF_UNIX;
  constexpr std::size_t room = sizeof un.sun_path;
  constexpr std::size_t header = offsetof(::sockaddr_un, sun_path);
  const bool abstract = !path.empty() && path.front() == '\0';
  if (!abstract && path.find('\0') != std::string_view::npos)
    throw std::invalid_argument("ae::pack_sockaddr: the unix socket path holds a NUL byte");
  // A filesystem path needs its NUL; an abstract name is counted by length instead.
  const std::size_t limit = abstract ? room : room - 1;
  if (path.size() > limit)
    throw std::invalid_argument("ae::pack_sockaddr: the unix socket path is " +
                                std::to_string(path.size()) + " bytes long; at most " +
                                std::to_string(limit) + " fit in sockaddr_un");
  std::copy(path.begin(), path.end(), std::begin(un.sun_path));
  const std::size_t size = header + path.size() + (abstract || path.empty() ? 0 : 1);
  return from_struct(un, static_cast<socklen_t>(size));
}

}  // namespace

// --- ae::sockaddr ----------------------------------------------------------------------

sockaddr::sockaddr(const ::sockaddr* sa, socklen_t size) {
  if (size > capacity())
    throw std::invalid_argument("ae::sockaddr: " + std::to_string(size) +
                                " bytes do not fit in sockaddr_storage");
  if (size > 0 && sa == nullptr) throw std::invalid_argument("ae::sockaddr: null address");
  if (size > 0) std::memcpy(&storage_, sa, size);
  size_ = size;
}

::sockaddr* sockaddr::data() noexcept { return reinterpret_cast<::sockaddr*>(&storage_); }
const ::sockaddr* sockaddr::data() const noexcept {
  return reinterpret_cast<const ::sockaddr*>(&storage_);
}

void sockaddr::resize(socklen_t size) {
  if (size > capacity())
    throw std::invalid_argument("ae::sockaddr::resize: " + std::to_string(size) +
                                " bytes do not fit in sockaddr_storage (the address was truncated)");
  size_ = size;
}

int sockaddr::family() const noexcept {
  if (size_ < sizeof(sa_family_t)) return AF_UNSPEC;
  return storage_.ss_family;
}

bool operator==(const sockaddr& a, const sockaddr& b) noexcept {
  return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
}

// --- pack / unpack -------------------------------------------------------------------

ae::sockaddr pack_sockaddr(std::uint16_t port, const address& host) {
  const auto b = host.bytes();
  switch (host.family()) {
    case AF_INET: {
      ::sockaddr_in in{};
      in.sin_family = AF_INET;
      in.sin_port = htons(port);
      std::memcpy(&in.sin_addr, b.data(), b.size());
      return from_struct(in, sizeof in);
    }
    case AF_INET6: {
      ::sockaddr_in6 in6{};
      in6.sin6_family = AF_INET6;
      in6.sin6_port = htons(port);
      std::memcpy(&in6.sin6_addr, b.data(), b.size());
      return from_struct(in6, sizeof in6);
    }
    default:
      throw std::invalid_argument(
          "ae::pack_sockaddr: a unix socket address takes a path, not a port number");
  }
}

ae::sockaddr pack_sockaddr(std::string_view service_or_path, const address& host) {
  if (host.family() == AF_UNIX) return pack_unix(service_or_path);
  return pack_sockaddr(parse_port(service_or_path), host);
}

std::pair<std::string, address> unpack_sockaddr(const ae::sockaddr& sa) {
  const auto too_short = [&](const char* what) {
    return std::invalid_argument("ae::unpack_sockaddr: " + std::to_string(sa.size()) +
                                 " bytes are too short for " + what);
  };
  if (sa.size() < sizeof(sa_family_t)) throw too_short("any socket address");
  switch (sa.family()) {
    case AF_INET: {
      ::sockaddr_in in{};
      if (sa.size() < sizeof in) throw too_short("sockaddr_in");
      std::memcpy(&in, sa.data(), sizeof in);
      std::array<std::uint8_t, 4> o{};
      std::memcpy(o.data(), &in.sin_addr, o.size());
      return {std::to_string(ntohs(in.sin_port)), address::ipv4(o)};
    }
    case AF_INET6: {
      ::sockaddr_in6 in6{};
      if (sa.size() < sizeof in6) throw too_short("sockaddr_in6");
      std::memcpy(&in6, sa.data(), sizeof in6);
      std::array<std::uint8_t, 16> o{};
      std::memcpy(o.data(), &in6.sin6_addr, o.size());
      return {std::to_string(ntohs(in6.sin6_port)), address::ipv6(o)};
    }
    case AF_UNIX: {
      ::sockaddr_un un{};
      constexpr std::size_t header = offsetof(::sockaddr_un, sun_path);
      const std::size_t size = std::min<std::size_t>(sa.size(), sizeof un);
      std::memcpy(&un, sa.data(), size);
      const std::string_view raw(un.sun_path, size - header);
      const bool abstract = !raw.empty() && raw.front() == '\0';
      return {std::string(abstract ? raw : raw.substr(0, raw.find('\0'))), address::unix_socket()};
    }
    default:
      throw std::invalid_argument("ae::unpack_sockaddr: unsupported address family " +
                                  std::to_string(sa.family()));
  }
}

}  // namespace ae
