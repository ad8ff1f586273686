// Names we send: checked, converted to ASCII, never truncated.
//
// Notes:
// 1. libidn2's flags 0 mean pure IDNA 2008 without TR46; IDN2_NONTRANSITIONAL |
//    IDN2_NFC_INPUT is what browsers and other resolvers do (UTS #46 non-transitional,
//    so "ß" stays "ß" and is not mapped to "ss"), and it lower-cases for us.
// 2. c-ares reads '\' in a name as an escape; we refuse it (and every byte that is not
//    printable ASCII) so the name c-ares sends is exactly the one we checked.
// 3. Lengths are those of RFC 1035 in text form: 253 bytes without the trailing dot,
//    63 per label.
#include "dns_impl.hpp"

#include <arpa/inet.h>
#include <idn2.h>

#include <cstdlib>
#include <memory>

namespace ae::detail {

namespace {

constexpr std::size_t max_name = 253;
constexpr std::size_t max_label = 63;
// UTF-8 input longer than this cannot become a 253-byte ASCII name; refusing it early keeps
// libidn2 from chewing through megabytes.
constexpr std::size_t max_utf8_input = 4 * 1024;

std::error_code err(std::errc e) { return std::make_error_code(e); }

std::error_code check_ascii_name(std::string_view n) {
  if (n.empty()) return err(std::errc::invalid_argument);
  if (n == ".") return {};
  if (n.back() == '.') n.remove_suffix(1);
  if (n.size() > max_name) return err(std::errc::filename_too_long);
  std::size_t label = 0;
  for (const char ch : n) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '.') {
      if (label == 0) return err(std::errc::invalid_argument);  // "a..b", ".a"
      label = 0;
      continue;
    }
    if (c <= 0x20 || c >= 0x7f || c == '\\') return err(std::errc::invalid_argument);  // note 2
    if (++label > max_label) return err(std::errc::filename_too_long);
  }
  if (label == 0) return err(std::errc::invalid_argument);
  return {};
}

}  // namespace

std::error_code dns_query_name(std::string_view in, std::string& out) {
  bool ascii = true;
  for (const char ch : in) {
    if (ch == '\0') return err(std::errc::invalid_argument);
    if (static_cast<unsigned char>(ch) >= 0x80) ascii = false;
  }
  if (ascii) {
    if (auto ec = check_ascii_name(in)) return ec;
    out.assign(in);
    return {};
  }
  if (in.size() > max_utf8_input) return err(std::errc::filename_too_long);
  const std::string z(in);
  char* converted = nullptr;
  const int rc = idn2_to_ascii_8z(z.c_str(), &converted, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  const std::unique_ptr<char, void (*)(void*)> owned(converted, idn2_free);
  if (rc != IDN2_OK || !converted) {
    if (rc == IDN2_TOO_BIG_DOMAIN || rc == IDN2_TOO_BIG_LABEL)
      return err(std::errc::filename_too_long);
    if (rc == IDN2_MALLOC) return err(std::errc::not_enough_memory);
    return err(std::errc::invalid_argument);
  }
  if (auto ec = check_ascii_name(converted)) return ec;
  out.assign(converted);
  return {};
}

std::string dns_reverse_name(std::string_view ip) {
  if (ip.empty() || ip.size() > INET6_ADDRSTRLEN) return {};
  const std::string z(ip);
  static constexpr char hex[] = "0123456789abcdef";
  unsigned char b[16];
  std::string out;
  if (inet_pton(AF_INET, z.c_str(), b) == 1) {
    for (int i = 3; i >= 0; --i) out += std::to_string(b[i]) + '.';
    return out + "in-addr.arpa.";
  }
  if (inet_pton(AF_INET6, z.c_str(), b) == 1) {
    for (int i = 15; i >= 0; --i) {
      out += hex[b[i] & 0xF];
      out += '.';
      out += hex[b[i] >> 4];
      out += '.';
    }
    return out + "ip6.arpa.";
  }
  return {};
}

}  // namespace ae::detail
