// packstring reads: a length prefix in a Perl pack() integer format, then that many bytes.
// The prefixes here are written out by hand (not by the library's encoder) from perlfunc's
// pack: C = 1 byte, n/N = 16/32-bit big-endian, v/V = little-endian, Q> / Q< = 64-bit, w = BER
// (7 bits per byte, most significant first, high bit set on all but the last).
#include "support.hpp"

using namespace handle_test;
using namespace std::string_view_literals;

namespace {
struct packcase {
  const char* format;
  std::size_t length;
  std::string_view prefix;
};

/// One packstring read of `format`, the bytes arriving in two writes split at `split`; the
/// item (prefix and payload) is `item` bytes long, "tail" follows it.
std::string read_one(const char* format, std::string_view wire, std::size_t split, std::size_t item) {
  auto p = make_socketpair();
  recorder rec;
  std::string got;
  int calls = 0;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  h->push_read(ae::packstring(format), [&](ae::handle&, std::string_view d) {
    ++calls;
    got = d;
  });
  REQUIRE(write_all(p.b.get(), wire.substr(0, split)));
  REQUIRE(run_until([&] { return all_read(*h); }));
  run_for(10ms);
  CHECK(calls == (split >= item ? 1 : 0));
  REQUIRE(write_all(p.b.get(), wire.substr(split)));
  REQUIRE(run_until([&] { return calls > 0; }));
  run_for(10ms);
  CHECK(calls == 1);
  // "tail" came with the item's last bytes (when the item was split at all).
  CHECK(h->rbuf().view() == (split < item ? "tail" : ""));
  CHECK(rec.errors.empty());
  return got;
}
}  // namespace

TEST_CASE("handle/read_packstring/formats") {
  const packcase cases[] = {
      {"C", 200, "\xC8"sv},
      {"n", 300, "\x01\x2C"sv},
      {"N", 70000, "\x00\x01\x11\x70"sv},
      {"v", 300, "\x2C\x01"sv},
      {"V", 70000, "\x70\x11\x01\x00"sv},
      {"Q>", 300, "\x00\x00\x00\x00\x00\x00\x01\x2C"sv},
      {"Q<", 300, "\x2C\x01\x00\x00\x00\x00\x00\x00"sv},
      {"w", 300, "\x82\x2C"sv},
      {"w", 127, "\x7F"sv},
      {"w", 128, "\x81\x00"sv},
      {"w", 16384, "\x81\x80\x00"sv},
      {"w", 0, "\x00"sv},
      {"n", 0, "\x00\x00"sv},
  };
  for (const auto& c : cases) {
    CAPTURE(c.format);
    CAPTURE(c.length);
    const std::string payload = pattern(c.length, static_cast<unsigned>(c.length));
    const std::string wire = std::string(c.prefix) + payload + "tail";
    // Split inside the prefix when it has more than one byte, else inside the payload.
    const std::size_t split = c.prefix.size() > 1 ? 1 : c.prefix.size() + c.length / 2;
    const std::string got = read_one(c.format, wire, split, c.prefix.size() + c.length);
    CHECK(got.size() == c.length);
    CHECK(got == payload);
  }
}

TEST_CASE("handle/read_packstring/several_in_one_read") {
  auto p = make_socketpair();
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  for (int i = 0; i < 3; ++i)
    h->push_read(ae::packstring("n"), [&](ae::handle&, std::string_view d) { got.emplace_back(d); });
  REQUIRE(write_all(p.b.get(), "\x00\x03" "abc" "\x00\x00" "\x00\x02" "de" "x"sv));
  REQUIRE(run_until([&] { return got.size() == 3; }));
  CHECK(got == std::vector<std::string>{"abc", "", "de"});
  CHECK(h->rbuf().view() == "x");
}

TEST_CASE("handle/read_packstring/length_above_max") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  ae::packstring ten("N");
  ten.max = 10;
  h->push_read(ten, [&](ae::handle&, std::string_view d) { got.emplace_back(d); });
  h->push_read(ten, [&](ae::handle&, std::string_view d) { got.emplace_back(d); });
  // Exactly max is fine; one more is refused before its bytes are even waited for.
  REQUIRE(write_all(p.b.get(), "\x00\x00\x00\x0a" "0123456789" "\x00\x00\x00\x0b"sv));
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  run_for(20ms);
  CHECK(got == std::vector<std::string>{"0123456789"});
  REQUIRE_FALSE(rec.errors.empty());
  for (auto& e : rec.errors) {
    CHECK_FALSE(e.fatal);
    CHECK(e.ec == std::errc::bad_message);
  }
  CHECK_FALSE(h->destroyed());
}

TEST_CASE("handle/read_packstring/huge_ber_length_above_default_max") {
  // 2^35 in BER: above the default max of 1 GiB.
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  int calls = 0;
  h->push_read(ae::packstring("w"), [&](ae::handle&, std::string_view) { ++calls; });
  REQUIRE(write_all(p.b.get(), "\x81\x80\x80\x80\x80\x00"sv));
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  CHECK(calls == 0);
  CHECK_FALSE(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::bad_message);
}

TEST_CASE("handle/read_packstring/bad_format") {
  CHECK_THROWS_AS(ae::packstring(""), ae::error);
  CHECK_THROWS_AS(ae::packstring("x"), ae::error);
  CHECK_THROWS_AS(ae::packstring("NN"), ae::error);
  CHECK_THROWS_AS(ae::packstring("a*"), ae::error);
  CHECK_THROWS_AS(ae::packstring("N/a*"), ae::error);
  CHECK_NOTHROW(ae::packstring("w"));
  CHECK_NOTHROW(ae::packstring("Q>"));
}
