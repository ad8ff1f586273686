// A read type of the user's own (register_read_type's C++ form): handle.hpp's u16_frame
// example, used with push_read and unshift_read, and one that reports errors through
// h.error() the way the built-in types do.
#include "support.hpp"

using namespace handle_test;
using namespace std::string_view_literals;

namespace {
struct u16_frame {
  template <class F>
  bool read(ae::handle& h, F& cb) {
    auto b = h.rbuf().view();
    if (b.size() < 2) return false;
    std::size_t n = std::uint8_t(b[0]) << 8 | std::uint8_t(b[1]);
    if (b.size() < 2 + n) return false;
    h.rbuf().consume(2 + n);  // the view stays valid until this callback returns
    cb(h, b.substr(2, n));
    return true;
  }
};

/// Digits only; anything else is a non-fatal EBADMSG, a 'F' a fatal one.
struct digits {
  std::size_t n;
  template <class F>
  bool read(ae::handle& h, F& cb) {
    auto b = h.rbuf().view();
    for (std::size_t i = 0; i < b.size() && i < n; ++i) {
      if (b[i] == 'F') {
        h.error(std::errc::protocol_error, true, "F is fatal");
        return false;
      }
      if (b[i] < '0' || b[i] > '9') {
        h.error(std::errc::bad_message, false, "not a digit");
        return false;
      }
    }
    if (b.size() < n) return false;
    const std::string copy(b.substr(0, n));
    h.rbuf().consume(n);
    cb(h, std::stoul(copy));
    return true;
  }
};
}  // namespace

static_assert(ae::read_type<u16_frame, void (*)(ae::handle&, std::string_view)>);

TEST_CASE("handle/read_custom_type/u16_frame") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  auto cb = [&](ae::handle&, std::string_view d) { got.emplace_back(d); };
  h->push_read(u16_frame{}, cb);
  h->push_read(u16_frame{}, cb);
  h->push_read(u16_frame{}, cb);
  const std::string big = pattern(300, 3);
  REQUIRE(write_all(p.b.get(), "\x00\x05hello\x00\x00\x01"sv));
  REQUIRE(run_until([&] { return got.size() == 2; }));
  run_for(10ms);
  CHECK(got.size() == 2);
  REQUIRE(write_all(p.b.get(), "\x2c"sv));  // 0x012c = 300
  run_for(10ms);
  CHECK(got.size() == 2);
  REQUIRE(write_all(p.b.get(), big));
  REQUIRE(run_until([&] { return got.size() == 3; }));
  CHECK(got[0] == "hello");
  CHECK(got[1] == "");
  CHECK(got[2] == big);
  CHECK(h->rbuf().empty());
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/read_custom_type/unshift") {
  auto p = make_socketpair();
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_read(ae::chunk(3), [&](ae::handle&, std::string_view d) { got.push_back("chunk:" + std::string(d)); });
  h->unshift_read(u16_frame{}, [&](ae::handle&, std::string_view d) { got.push_back("frame:" + std::string(d)); });
  REQUIRE(write_all(p.b.get(), "\x00\x02hixyz"sv));
  REQUIRE(run_until([&] { return got.size() == 2; }));
  CHECK(got == std::vector<std::string>{"frame:hi", "chunk:xyz"});
}

TEST_CASE("handle/read_custom_type/reports_errors") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<unsigned long> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  h->push_read(digits{3}, [&](ae::handle&, unsigned long v) { got.push_back(v); });
  h->push_read(digits{3}, [&](ae::handle&, unsigned long v) { got.push_back(v); });
  REQUIRE(write_all(p.b.get(), "123x"));
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  run_for(10ms);
  CHECK(got == std::vector<unsigned long>{123});
  REQUIRE(rec.errors.size() == 1);
  CHECK_FALSE(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::bad_message);
  CHECK(rec.errors[0].message == "not a digit");
  CHECK_FALSE(h->destroyed());

  // A fatal error from a read type ends the handle like any other fatal error.
  h->rbuf().consume(1);
  REQUIRE(write_all(p.b.get(), "F"));
  REQUIRE(run_until([&] { return rec.errors.size() == 2; }));
  CHECK(rec.errors[1].fatal);
  CHECK(rec.errors[1].ec == std::errc::protocol_error);
  CHECK(rec.errors[1].message == "F is fatal");
  CHECK(h->destroyed());
  CHECK(h->fd() == -1);
  REQUIRE(run_until([&] { return peer_sees_eof(p.b.get()); }));
}
