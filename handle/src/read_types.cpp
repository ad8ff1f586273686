// The parsing behind the read and write types of handle.hpp. Peer bytes are read only
// through net's checked cursor (STYLE 10); lengths from the wire are checked against what
// the buffer holds and against overflow before anything is sliced.
#include <anyevent/error.hpp>
#include <anyevent/handle.hpp>

#include "cursor.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <string>

namespace ae {

namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw ae::error(std::make_error_code(std::errc::invalid_argument), what);
}

}  // namespace

// ---- line ----

line::line(std::string eol) : kind_(kind::text), text_(std::move(eol)) {
  if (text_.empty()) invalid("ae::line: the end-of-line string is empty; use ae::line() for \\r?\\n");
}

namespace detail {

std::optional<line_split> find_line_crlf(std::string_view buf) noexcept {
  const std::size_t nl = buf.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  const std::size_t len = nl > 0 && buf[nl - 1] == '\r' ? nl - 1 : nl;
  return line_split{len, nl + 1 - len};
}

std::optional<line_split> find_line(std::string_view buf, std::string_view eol) noexcept {
  const std::size_t at = buf.find(eol);
  if (at == std::string_view::npos) return std::nullopt;
  return line_split{at, eol.size()};
}

std::optional<line_split> find_line(std::string_view buf, const pattern& eol, bool& costly) {
  captures m;
  const pattern::result r = eol.search(buf, &m);
  costly = r == pattern::result::too_costly;
  if (r != pattern::result::match) return std::nullopt;
  return line_split{m.position(0), m[0].size()};
}

}  // namespace detail

// ---- regex ----

std::optional<std::size_t> regex::match(handle& h, captures& m) {
  const std::string_view v = h.rbuf().view();
  const pattern::result accepted = accept_.search(v, &m);
  if (accepted == pattern::result::match) return m.position(0) + m[0].size();
  const bool rejected = reject_ && reject_->search(v) != pattern::result::no_match;
  if (accepted == pattern::result::too_costly || rejected) {
    h.error(std::errc::bad_message, false,
            rejected ? "the data matched the reject pattern" : "the accept pattern gave up on this input");
    if (h.destroyed()) return std::nullopt;
  }
  captures s;
  if (skip_ && skip_->search(v, &s) == pattern::result::match) {
    const std::size_t n = s.position(0) + s[0].size();
    held_.append(v.substr(0, n));
    h.rbuf().consume(n);
  }
  return std::nullopt;
}

// ---- netstring ----

namespace detail {

frame_status parse_netstring(std::string_view buf, frame& out) noexcept {
  cursor c(buf);
  const std::string_view digits = c.take_while(is_digit);
  if (digits.empty()) return c.at_end() ? frame_status::incomplete : frame_status::malformed;
  // "0" or no leading zero (djb's grammar); 19 digits always fit 64 bits.
  if ((digits.size() > 1 && digits[0] == '0') || digits.size() > 19) return frame_status::malformed;
  if (c.at_end()) return frame_status::incomplete;
  if (!c.consume(':')) return frame_status::malformed;
  std::uint64_t length = 0;
  for (const char d : digits) length = length * 10 + static_cast<unsigned>(d - '0');
  out.begin = c.pos();
  if (length >= c.rest().size()) return frame_status::incomplete;  // the payload and the ','
  out.length = static_cast<std::size_t>(length);
  c.skip(out.length);
  if (!c.consume(',')) return frame_status::malformed;
  out.total = c.pos();
  return frame_status::complete;
}

}  // namespace detail

void netstring::encode(std::string& out) const {
  out += std::to_string(data.size());
  out += ':';
  out += data;
  out += ',';
}

// ---- packstring ----

namespace detail {

pack_format parse_pack_format(std::string_view format) {
  pack_format f;
  cursor c(format);
  const int code = c.peek();
  c.skip(1);
  bool native_size = false;
  std::optional<bool> order;  // explicit < or >
  for (;;) {
    if (c.consume('!')) native_size = true;
    else if (c.consume('<')) order = false;
    else if (c.consume('>')) order = true;
    else break;
  }
  if (!c.at_end()) invalid("ae::packstring: \"" + std::string(format) + "\" is not one integer format");
  const bool little = std::endian::native == std::endian::little;
  auto fixed = [&](std::uint8_t width, bool is_signed, bool allows_order) {
    if (order && !allows_order) invalid("ae::packstring: \"" + std::string(format) + "\": this code takes no < or >");
    f.width = width;
    f.is_signed = is_signed;
    f.big_endian = order ? *order : !little;
  };
  switch (code) {
    case 'C': fixed(1, false, false); break;
    case 'c': fixed(1, true, false); break;
    case 'n': fixed(2, false, false), f.big_endian = true; break;
    case 'N': fixed(4, false, false), f.big_endian = true; break;
    case 'v': fixed(2, false, false), f.big_endian = false; break;
    case 'V': fixed(4, false, false), f.big_endian = false; break;
    case 'S': fixed(2, false, true); break;
    case 's': fixed(2, true, true); break;
    case 'L': fixed(native_size ? sizeof(long) : 4, false, true); break;
    case 'l': fixed(native_size ? sizeof(long) : 4, true, true); break;
    case 'I': fixed(sizeof(unsigned), false, true); break;
    case 'i': fixed(sizeof(int), true, true); break;
    case 'Q': case 'J': fixed(8, false, true); break;
    case 'q': case 'j': fixed(8, true, true); break;
    case 'w':
      if (order || native_size) invalid("ae::packstring: \"w\" takes no modifier");
      f.width = 0;
      break;
    default:
      invalid("ae::packstring: \"" + std::string(format) +
              "\" is not an integer format (one of C c n N v V s S l L i I q Q j J w)");
  }
  return f;
}

frame_status parse_packstring(std::string_view buf, const pack_format& f, std::size_t max, frame& out) noexcept {
  cursor c(buf);
  std::uint64_t length = 0;
  if (f.width == 0) {
    // BER: 7 bits per byte, most significant first, high bit set on all but the last.
    for (int i = 0;; ++i) {
      const int b = c.peek();
      if (b < 0) return frame_status::incomplete;
      c.skip(1);
      if (length > (std::numeric_limits<std::uint64_t>::max() >> 7) || (i == 0 && b == 0x80))
        return frame_status::malformed;  // overflow, or a redundant leading zero group
      length = length << 7 | static_cast<unsigned>(b & 0x7f);
      if (!(b & 0x80)) break;
    }
  } else {
    if (c.rest().size() < f.width) return frame_status::incomplete;
    const std::string_view bytes = c.rest().substr(0, f.width);
    c.skip(f.width);
    for (std::size_t i = 0; i < f.width; ++i) {
      const std::size_t k = f.big_endian ? i : f.width - 1 - i;
      length = length << 8 | static_cast<unsigned char>(bytes[k]);
    }
    if (f.is_signed && f.width < 8 && (length >> (f.width * 8 - 1)) != 0) return frame_status::malformed;
    if (f.is_signed && f.width == 8 && (length >> 63) != 0) return frame_status::malformed;
  }
  if (length > max) return frame_status::malformed;
  out.begin = c.pos();
  if (length > c.rest().size()) return frame_status::incomplete;
  out.length = static_cast<std::size_t>(length);
  out.total = out.begin + out.length;
  return frame_status::complete;
}

void encode_packstring(const pack_format& f, std::string_view data, std::string& out) {
  const std::uint64_t length = data.size();
  if (f.width == 0) {
    char groups[10];
    int n = 0;
    std::uint64_t v = length;
    do {
      groups[n++] = static_cast<char>(v & 0x7f);
      v >>= 7;
    } while (v);
    for (int i = n - 1; i >= 0; --i) out += static_cast<char>(groups[i] | (i ? 0x80 : 0));
  } else {
    const unsigned bits = f.width * 8 - (f.is_signed ? 1 : 0);
    if (bits < 64 && (length >> bits) != 0)
      invalid("ae::packstring: " + std::to_string(length) + " bytes do not fit a " + std::to_string(f.width) +
              "-byte length");
    for (std::size_t i = 0; i < f.width; ++i) {
      const std::size_t shift = 8 * (f.big_endian ? f.width - 1 - i : i);
      out += static_cast<char>(shift < 64 ? (length >> shift) & 0xff : 0);
    }
  }
  out += data;
}

}  // namespace detail
}  // namespace ae
