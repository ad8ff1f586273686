// DNS answers as typed records. c-ares hands us the raw answer; we decode it ourselves so
// every byte from the wire passes through the one checked reader (cursor.hpp), names are
// escaped into safe text, and a request() for any type gets the same treatment.
//
// Notes:
// 1. Compression pointers must point strictly backwards from the pointer itself, so a
//    name can never loop; a name's wire length is capped at 255 bytes as RFC 1035 says.
// 2. c-ares already checked that the answer's id and question match the query.
// 3. A malformed record makes the whole answer EBADMSG rather than a silently shorter list.
#include "cursor.hpp"
#include "dns_impl.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <random>

namespace ae::detail {

namespace {

class wire_reader {
 public:
  explicit wire_reader(std::string_view msg) noexcept : msg_(msg), cur_(msg) {}

  std::size_t pos() const noexcept { return cur_.pos(); }

  bool u8(std::uint8_t& v) noexcept {
    const int c = cur_.peek();
    if (c < 0) return false;
    v = static_cast<std::uint8_t>(c);
    return cur_.skip(1);
  }
  bool u16(std::uint16_t& v) noexcept {
    std::uint8_t hi, lo;
    if (!u8(hi) || !u8(lo)) return false;
    v = static_cast<std::uint16_t>((hi << 8) | lo);
    return true;
  }
  bool u32(std::uint32_t& v) noexcept {
    std::uint16_t hi, lo;
    if (!u16(hi) || !u16(lo)) return false;
    v = (std::uint32_t{hi} << 16) | lo;
    return true;
  }
  bool bytes(std::size_t n, std::string_view& out) noexcept {
    const std::string_view r = cur_.rest();
    if (r.size() < n) return false;
    out = r.substr(0, n);
    return cur_.skip(n);
  }
  /// A possibly compressed name, as escaped text (see dns.hpp).
  bool name(std::string& out);

 private:
  std::string_view msg_;
  cursor cur_;
};

bool plain_label_byte(unsigned char c) noexcept {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '.': case '\\': case '"': case '(': case ')': case ';': case '@': case '$':
      return false;
    default:
      return true;
  }
}

void append_label(std::string& out, std::string_view label) {
  for (const char ch : label) {
    const auto c = static_cast<unsigned char>(ch);
    if (plain_label_byte(c)) {
      out += ch;
    } else if (c > 0x20 && c < 0x7f) {
      out += '\\';
      out += ch;
    } else {
      const char esc[4] = {'\\', static_cast<char>('0' + c / 100),
                           static_cast<char>('0' + c / 10 % 10), static_cast<char>('0' + c % 10)};
      out.append(esc, 4);
    }
  }
}

bool wire_reader::name(std::string& out) {
  out.clear();
  cursor c = cur_;
  bool jumped = false;
  std::size_t wire_len = 1;  // the final zero octet
  int jumps = 0;
  for (;;) {
    const std::size_t here = c.pos();
    const int len = c.peek();
    if (len < 0 || !c.skip(1)) return false;
    if ((len & 0xC0) == 0xC0) {
      const int lo = c.peek();
      if (lo < 0 || !c.skip(1)) return false;
      const std::size_t target = (static_cast<std::size_t>(len & 0x3F) << 8) | static_cast<std::size_t>(lo);
      if (target >= here || ++jumps > 127) return false;  // note 1
      if (!jumped) {
        cur_ = c;
        jumped = true;
      }
      c = cursor(msg_);
      if (!c.skip(target)) return false;
      continue;
    }
    if (len & 0xC0) return false;  // extended label types (RFC 6891 obsoleted them)
    if (len == 0) break;
    wire_len += static_cast<std::size_t>(len) + 1;
    if (wire_len > 255) return false;
    const std::string_view r = c.rest();
    if (r.size() < static_cast<std::size_t>(len)) return false;
    if (!out.empty()) out += '.';
    append_label(out, r.substr(0, static_cast<std::size_t>(len)));
    c.skip(static_cast<std::size_t>(len));
  }
  if (!jumped) cur_ = c;
  if (out.empty()) out = ".";
  return true;
}

bool parse_rdata(wire_reader& w, dns::record& rec, std::uint16_t rdlength) {
  const std::size_t start = w.pos();
  const std::size_t end = start + rdlength;
  using dns::rr_type;
  switch (rec.type) {
    case rr_type::a:
    case rr_type::aaaa: {
      const std::size_t want = rec.type == rr_type::a ? 4 : 16;
      std::string_view b;
      if (rdlength != want || !w.bytes(want, b)) return false;
      char text[INET6_ADDRSTRLEN];
      if (!inet_ntop(want == 4 ? AF_INET : AF_INET6, b.data(), text, sizeof text)) return false;
      rec.data = std::string(text);
      return true;
    }
    case rr_type::ns:
    case rr_type::cname:
    case rr_type::ptr:
    case rr_type::dname: {
      std::string n;
      if (!w.name(n)) return false;
      rec.data = std::move(n);
      break;
    }
    case rr_type::mx: {
      dns::mx_record mx;
      if (!w.u16(mx.preference) || !w.name(mx.exchange)) return false;
      rec.data = std::move(mx);
      break;
    }
    case rr_type::srv: {
      dns::srv_record s;
      if (!w.u16(s.priority) || !w.u16(s.weight) || !w.u16(s.port) || !w.name(s.target)) return false;
      rec.data = std::move(s);
      break;
    }
    case rr_type::soa: {
      dns::soa_record s;
      if (!w.name(s.mname) || !w.name(s.rname) || !w.u32(s.serial) || !w.u32(s.refresh) ||
          !w.u32(s.retry) || !w.u32(s.expire) || !w.u32(s.minimum))
        return false;
      rec.data = std::move(s);
      break;
    }
    case rr_type::txt:
    case rr_type::spf: {
      dns::txt_record t;
      while (w.pos() < end) {
        std::uint8_t n;
        std::string_view s;
        if (!w.u8(n) || !w.bytes(n, s)) return false;
        t.strings.emplace_back(s);
      }
      rec.data = std::move(t);
      break;
    }
    default: {
      std::string_view b;
      if (!w.bytes(rdlength, b)) return false;
      rec.data = dns::raw_record{std::string(b)};
      break;
    }
  }
  return w.pos() == end;  // note 3: rdata must be exactly as long as it says
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool parse_dns_message(std::span<const unsigned char> msg, dns_response& out) {
  wire_reader w(std::string_view(reinterpret_cast<const char*>(msg.data()), msg.size()));
  std::uint16_t id, flags, qd, an, ns, ar;
  if (!w.u16(id) || !w.u16(flags) || !w.u16(qd) || !w.u16(an) || !w.u16(ns) || !w.u16(ar))
    return false;
  if (!(flags & 0x8000)) return false;  // not a response
  out.qname.clear();
  out.answers.clear();
  for (std::uint16_t i = 0; i < qd; ++i) {
    std::string n;
    std::uint16_t type, cls;
    if (!w.name(n) || !w.u16(type) || !w.u16(cls)) return false;
    if (i == 0) out.qname = std::move(n);
  }
  // Each record takes at least 11 bytes, so `an` cannot make us allocate beyond the message.
  out.answers.reserve(std::min<std::size_t>(an, msg.size() / 11));
  for (std::uint16_t i = 0; i < an; ++i) {
    dns::record rec;
    std::uint16_t type, rdlength;
    if (!w.name(rec.name) || !w.u16(type) || !w.u16(rec.rclass) || !w.u32(rec.ttl) ||
        !w.u16(rdlength))
      return false;
    rec.type = static_cast<dns::rr_type>(type);
    if (!parse_rdata(w, rec, rdlength)) return false;
    out.answers.push_back(std::move(rec));
  }
  return true;
}

bool dns_name_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::vector<const dns::record*> dns_select(const dns_response& r, dns::rr_type want) {
  std::vector<const dns::record*> out;
  if (want == dns::rr_type::cname) {
    for (const auto& rec : r.answers)
      if (rec.type == want && dns_name_equal(rec.name, r.qname)) out.push_back(&rec);
    return out;
  }
  // The owners that stand for the question: qname and every CNAME target reached from it.
  std::vector<std::string_view> owners{r.qname};
  for (int link = 0; link < 16; ++link) {
    const dns::record* next = nullptr;
    for (const auto& rec : r.answers)
      if (rec.type == dns::rr_type::cname && dns_name_equal(rec.name, owners.back())) {
        next = &rec;
        break;
      }
    if (!next) break;
    const auto& target = std::get<std::string>(next->data);
    if (std::any_of(owners.begin(), owners.end(),
                    [&](std::string_view o) { return dns_name_equal(o, target); }))
      break;  // a CNAME loop
    owners.push_back(target);
  }
  for (const auto& rec : r.answers) {
    if (want != dns::rr_type::any && rec.type != want) continue;
    if (std::any_of(owners.begin(), owners.end(),
                    [&](std::string_view o) { return dns_name_equal(o, rec.name); }))
      out.push_back(&rec);
  }
  return out;
}

void dns_srv_order(std::vector<dns::srv_record>& v) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& x, const auto& y) { return x.priority < y.priority; });
  std::vector<dns::srv_record> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j < v.size() && v[j].priority == v[i].priority) ++j;
    // RFC 2782: zero-weight records first, then pick by running sum against a random
    // number in [0, total] until the group is used up.
    std::vector<dns::srv_record> group(std::make_move_iterator(v.begin() + static_cast<long>(i)),
                                       std::make_move_iterator(v.begin() + static_cast<long>(j)));
    std::stable_partition(group.begin(), group.end(), [](const auto& s) { return s.weight == 0; });
    while (!group.empty()) {
      std::uint32_t total = 0;
      for (const auto& s : group) total += s.weight;
      const std::uint32_t pick = std::uniform_int_distribution<std::uint32_t>(0, total)(rng);
      std::uint32_t running = 0;
      std::size_t k = 0;
      for (; k + 1 < group.size(); ++k) {
        running += group[k].weight;
        if (running >= pick) break;
      }
      out.push_back(std::move(group[k]));
      group.erase(group.begin() + static_cast<long>(k));
    }
    i = j;
  }
  v = std::move(out);
}

}  // namespace ae::detail

namespace ae::dns {

namespace {
struct type_entry {
  rr_type type;
  const char* name;
};
constexpr std::array<type_entry, 25> type_table{{
    {rr_type::a, "A"},          {rr_type::ns, "NS"},       {rr_type::cname, "CNAME"},
    {rr_type::soa, "SOA"},      {rr_type::ptr, "PTR"},     {rr_type::hinfo, "HINFO"},
    {rr_type::mx, "MX"},        {rr_type::txt, "TXT"},     {rr_type::aaaa, "AAAA"},
    {rr_type::srv, "SRV"},      {rr_type::naptr, "NAPTR"}, {rr_type::dname, "DNAME"},
    {rr_type::opt, "OPT"},      {rr_type::ds, "DS"},       {rr_type::sshfp, "SSHFP"},
    {rr_type::rrsig, "RRSIG"},  {rr_type::nsec, "NSEC"},   {rr_type::dnskey, "DNSKEY"},
    {rr_type::tlsa, "TLSA"},    {rr_type::svcb, "SVCB"},   {rr_type::https, "HTTPS"},
    {rr_type::spf, "SPF"},      {rr_type::any, "ANY"},     {rr_type::uri, "URI"},
    {rr_type::caa, "CAA"},
}};

std::optional<std::uint16_t> parse_u16(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}
}  // namespace

std::string type_name(rr_type t) {
  for (const auto& e : type_table)
    if (e.type == t) return e.name;
  return "TYPE" + std::to_string(static_cast<unsigned>(t));
}

std::optional<rr_type> parse_type(std::string_view text) {
  for (const auto& e : type_table)
    if (detail::dns_name_equal(text, e.name)) return e.type;
  if (text.size() > 4 && detail::dns_name_equal(text.substr(0, 4), "TYPE")) text.remove_prefix(4);
  if (auto n = parse_u16(text)) return static_cast<rr_type>(*n);
  return std::nullopt;
}

bool not_found(std::error_code ec) noexcept {
  return ec == std::errc::no_such_device_or_address || ec == std::errc::no_message_available;
}

}  // namespace ae::dns
