// ae-dig — DNS queries through ae::dns, printed like `dig +short`.
//
//   ae-dig example.org                 A records, servers from resolv.conf
//   ae-dig @127.0.0.1:5353 example.org mx
//   ae-dig -x 192.0.2.1                reverse lookup
#include <anyevent/dns.hpp>
#include <anyevent/loop.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

const char* const usage_text =
    "usage: ae-dig [options] [@server[:port]] name [type]\n"
    "       ae-dig [options] [@server[:port]] -x address\n"
    "\n"
    "Queries DNS through ae::dns (c-ares on an anyevent loop) and prints the answer\n"
    "section like `dig +short`: one record per line.\n"
    "\n"
    "  @server[:port]   ask this server (IPv6 as [addr]:port) instead of resolv.conf's\n"
    "  type             A (default), AAAA, MX, NS, TXT, SRV, PTR, CNAME, SOA, ANY, TYPEnnn\n"
    "  -x address       reverse lookup (PTR) of an IPv4 or IPv6 address\n"
    "  --timeout=SEC    first attempt's timeout (default: resolv.conf, else 5)\n"
    "  --tries=N        attempts per server (default: resolv.conf, else 2)\n"
    "  --tcp            use TCP only\n"
    "  --edns           advertise EDNS0 (1232-byte UDP payload)\n"
    "  -h, --help       this text\n"
    "\n"
    "Environment: ANYEVENT_RESOLV_CONF (another resolv.conf), ANYEVENT_BACKEND.\n"
    "Exit status: 0 with an answer, 1 when the query failed (NXDOMAIN, no data, timeout…),\n"
    "2 for a usage error.\n";

int usage_error(const std::string& what) {
  std::fprintf(stderr, "ae-dig: %s\n(ae-dig --help for usage)\n", what.c_str());
  return 2;
}

/// A TXT character-string in dig's quoting: printable ASCII as is, '"' and '\' escaped,
/// everything else as \DDD.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03u", c);
      out += buf;
    }
  }
  return out + "\"";
}

std::string describe(std::error_code ec) {
  if (ec == std::errc::no_such_device_or_address) return "no such name (NXDOMAIN)";
  if (ec == std::errc::no_message_available) return "no records of that type";
  if (ec == std::errc::timed_out) return "no answer (timed out)";
  if (ec == std::errc::connection_refused) return "the servers refused or failed (" + ec.message() + ")";
  if (ec == std::errc::bad_message) return "malformed answer";
  return ec.message();
}

std::string fqdn(const std::string& name) { return name == "." ? name : name + "."; }

struct printer {
  std::string operator()(const std::string& s) const {
    return is_name ? fqdn(s) : s;
  }
  std::string operator()(const ae::dns::mx_record& m) const {
    return std::to_string(m.preference) + " " + fqdn(m.exchange);
  }
  std::string operator()(const ae::dns::srv_record& s) const {
    return std::to_string(s.priority) + " " + std::to_string(s.weight) + " " +
           std::to_string(s.port) + " " + fqdn(s.target);
  }
  std::string operator()(const ae::dns::soa_record& s) const {
    return fqdn(s.mname) + " " + fqdn(s.rname) + " " + std::to_string(s.serial) + " " +
           std::to_string(s.refresh) + " " + std::to_string(s.retry) + " " +
           std::to_string(s.expire) + " " + std::to_string(s.minimum);
  }
  std::string operator()(const ae::dns::txt_record& t) const {
    std::string out;
    for (const auto& s : t.strings) out += (out.empty() ? "" : " ") + quote(s);
    return out;
  }
  std::string operator()(const ae::dns::raw_record& r) const {  // RFC 3597
    std::string out = "\\# " + std::to_string(r.bytes.size());
    if (!r.bytes.empty()) out += ' ';
    for (const char ch : r.bytes) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned char>(ch));
      out += buf;
    }
    return out;
  }
  bool is_name = false;
};

std::optional<int> parse_int(const char* s, int lo, int hi) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return std::nullopt;
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  std::string server, name, type_text;
  bool reverse = false;
  ae::dns::options opts;
  try {
    opts = ae::dns::system_options();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ae-dig: %s\n", e.what());
    return 1;
  }
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(usage_text, stdout);
      return 0;
    } else if (a == "-x") {
      if (++i >= argc) return usage_error("-x needs an address");
      reverse = true;
      name = argv[i];
    } else if (a.substr(0, 10) == "--timeout=") {
      const auto v = parse_int(argv[i] + 10, 1, 3600);
      if (!v) return usage_error("bad --timeout");
      opts.timeout = std::chrono::seconds(*v);
    } else if (a.substr(0, 8) == "--tries=") {
      const auto v = parse_int(argv[i] + 8, 1, 16);
      if (!v) return usage_error("bad --tries");
      opts.attempts = *v;
    } else if (a == "--tcp") {
      opts.use_vc = true;
    } else if (a == "--edns") {
      opts.edns0 = true;
    } else if (a.size() > 1 && a[0] == '@') {
      server = std::string(a.substr(1));
    } else if (a.size() > 1 && a[0] == '-') {
      return usage_error("unknown option " + std::string(a));
    } else {
      positional.emplace_back(a);
    }
  }
  if (reverse) {
    if (!positional.empty()) return usage_error("-x takes no name or type");
  } else {
    if (positional.empty()) return usage_error("no name given");
    if (positional.size() > 2) return usage_error("too many arguments");
    name = positional[0];
    if (positional.size() == 2) type_text = positional[1];
  }
  ae::dns::rr_type type = ae::dns::rr_type::a;
  if (reverse) {
    type = ae::dns::rr_type::ptr;
  } else if (!type_text.empty()) {
    const auto t = ae::dns::parse_type(type_text);
    if (!t) return usage_error("unknown type " + type_text);
    type = *t;
  }
  if (!server.empty()) opts.servers = {server};

  int status = 1;
  try {
    ae::loop& l = ae::default_loop();
    ae::dns::resolver r(opts, l);
    auto print = [&](std::error_code ec, std::vector<ae::dns::record> v) {
      if (ec) {
        std::fprintf(stderr, "ae-dig: %s: %s\n", name.c_str(), describe(ec).c_str());
      } else {
        for (const auto& rec : v) {
          printer p;
          p.is_name = rec.type == ae::dns::rr_type::cname || rec.type == ae::dns::rr_type::ns ||
                      rec.type == ae::dns::rr_type::ptr || rec.type == ae::dns::rr_type::dname;
          std::printf("%s\n", std::visit(p, rec.data).c_str());
        }
        status = 0;
      }
      l.stop();
    };
    ae::guard g;
    if (reverse) {
      g = r.reverse_lookup(name, [&](std::error_code ec, std::vector<std::string> names) {
        std::vector<ae::dns::record> v;
        for (auto& n : names) v.push_back({{}, ae::dns::rr_type::ptr, 1, 0, std::move(n)});
        print(ec, std::move(v));
      });
    } else {
      g = r.request(name, type, print);
    }
    l.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ae-dig: %s\n", e.what());
    return server.empty() ? 1 : 2;
  }
  std::fflush(stdout);
  return status;
}
