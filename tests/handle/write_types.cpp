// Write types: netstring and packstring produce the exact wire form (checked against bytes
// written out by hand) and round-trip through the read types of a second handle; a write
// type of the user's own (AnyEvent's "join" example) works with push_write and
// unshift_write.
#include "support.hpp"

using namespace handle_test;
using namespace std::string_view_literals;

namespace {
/// AnyEvent's custom write type example: the arguments joined by a delimiter.
struct join {
  std::string delim;
  std::vector<std::string> args;
  void encode(std::string& out) const {
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (i) out += delim;
      out += args[i];
    }
  }
};
static_assert(ae::write_type<join>);
static_assert(ae::write_type<ae::netstring>);
static_assert(ae::write_type<ae::packstring>);

/// What a handle writes for `push`, as the peer receives it.
template <class Push>
std::string wire_of(Push push, std::size_t expect) {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  push(*h);
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.data.size() >= expect; }));
  run_for(10ms);
  return s.data;
}
}  // namespace

TEST_CASE("handle/write_types/netstring_wire") {
  CHECK(wire_of([](ae::handle& h) { h.push_write(ae::netstring("hello")); }, 8) == "5:hello,");
  CHECK(wire_of([](ae::handle& h) { h.push_write(ae::netstring("")); }, 3) == "0:,");
  const std::string big = pattern(1234, 9);
  CHECK(wire_of([&](ae::handle& h) { h.push_write(ae::netstring(big)); }, 1240) == "1234:" + big + ",");
}

TEST_CASE("handle/write_types/packstring_wire") {
  struct c {
    const char* format;
    std::size_t length;
    std::string_view prefix;
  };
  const c cases[] = {
      {"C", 200, "\xC8"sv},
      {"n", 300, "\x01\x2C"sv},
      {"N", 70000, "\x00\x01\x11\x70"sv},
      {"v", 300, "\x2C\x01"sv},
      {"V", 70000, "\x70\x11\x01\x00"sv},
      {"Q>", 300, "\x00\x00\x00\x00\x00\x00\x01\x2C"sv},
      {"w", 300, "\x82\x2C"sv},
      {"w", 127, "\x7F"sv},
      {"w", 128, "\x81\x00"sv},
      {"w", 0, "\x00"sv},
  };
  for (const auto& x : cases) {
    CAPTURE(x.format);
    CAPTURE(x.length);
    const std::string payload = pattern(x.length, 5);
    const std::string expect = std::string(x.prefix) + payload;
    CHECK(wire_of([&](ae::handle& h) { h.push_write(ae::packstring(x.format, payload)); }, expect.size()) == expect);
  }
}

TEST_CASE("handle/write_types/round_trip") {
  auto p = make_socketpair();
  recorder wrec, rrec;
  std::vector<std::string> got;
  auto reader = ae::handle::create({.fd = std::move(p.b), .on_error = rrec.on_error()});
  auto writer = ae::handle::create({.fd = std::move(p.a), .on_error = wrec.on_error()});
  auto keep = [&](ae::handle&, std::string_view d) { got.emplace_back(d); };
  const std::string big = pattern(200000, 11);
  const char* formats[] = {"C", "n", "N", "v", "V", "Q>", "Q<", "w"};
  reader->push_read(ae::netstring(), keep);
  reader->push_read(ae::netstring(), keep);
  reader->push_read(ae::netstring(), keep);
  for (const char* f : formats) reader->push_read(ae::packstring(f), keep);
  reader->push_read(ae::packstring("N"), keep);
  reader->push_read(ae::packstring("w"), keep);

  writer->push_write(ae::netstring("hello"));
  writer->push_write(ae::netstring(""));
  writer->push_write(ae::netstring(big));
  for (const char* f : formats) writer->push_write(ae::packstring(f, std::string("via ") + f));
  writer->push_write(ae::packstring("N", big));
  writer->push_write(ae::packstring("w", big));

  REQUIRE(run_until([&] { return got.size() == 13; }));
  CHECK(got[0] == "hello");
  CHECK(got[1] == "");
  CHECK(got[2] == big);
  for (std::size_t i = 0; i < 8; ++i) CHECK(got[3 + i] == std::string("via ") + formats[i]);
  CHECK(got[11] == big);
  CHECK(got[12] == big);
  CHECK(reader->rbuf().empty());
  CHECK(wrec.errors.empty());
  CHECK(rrec.errors.empty());
}

TEST_CASE("handle/write_types/packstring_length_does_not_fit") {
  // 256 bytes cannot be described by a one-byte "C" prefix: refused, nothing written.
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  const std::string big(256, 'b');
  CHECK_THROWS_AS(h->push_write(ae::packstring("C", big)), ae::error);
  CHECK_NOTHROW(h->push_write(ae::packstring("C", std::string_view(big).substr(0, 255))));
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.data.size() >= 256; }));
  CHECK(s.data == "\xff" + big.substr(0, 255));
}

TEST_CASE("handle/write_types/user_defined") {
  CHECK(wire_of([](ae::handle& h) { h.push_write(join{" ", {"1", "2", "3"}}); }, 5) == "1 2 3");
  // unshift_write with a type: before what autocork still holds.
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a), .autocork = true});
  h->push_write("rest");
  h->unshift_write(join{"-", {"a", "b"}});
  h->unshift_write(ae::netstring("ns"));
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.data.size() >= 12; }));
  CHECK(s.data == "2:ns,a-brest");
}
