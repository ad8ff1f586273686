// netstring reads ("5:hello,"): whole strings however they are split; format violations
// (a bad terminator, a non-digit length, a leading zero, a length that does not fit) are a
// non-fatal EBADMSG, as AnyEvent's netstring reader raises.
#include "support.hpp"

using namespace handle_test;
using namespace std::string_view_literals;

namespace {
struct netstring_reader {
  recorder rec;
  std::vector<std::string> got;
  std::shared_ptr<ae::handle> h;  // last: goes first, before what its callbacks use
  void push() {
    h->push_read(ae::netstring(), [this](ae::handle&, std::string_view s) { got.emplace_back(s); });
  }
};
}  // namespace

TEST_CASE("handle/read_netstring/good") {
  auto p = make_socketpair();
  netstring_reader r;
  r.h = ae::handle::create({.fd = std::move(p.a), .on_error = r.rec.on_error()});
  for (int i = 0; i < 3; ++i) r.push();
  REQUIRE(write_all(p.b.get(), "5:hello,0:,12:hello\0world\n,3:ab"sv));
  REQUIRE(run_until([&] { return r.got.size() == 3; }));
  CHECK(r.got[0] == "hello");
  CHECK(r.got[1] == "");
  CHECK(r.got[2] == "hello\0world\n"sv);
  CHECK(r.h->rbuf().view() == "3:ab");
  CHECK(r.rec.errors.empty());
}

TEST_CASE("handle/read_netstring/split") {
  auto p = make_socketpair();
  netstring_reader r;
  r.h = ae::handle::create({.fd = std::move(p.a), .on_error = r.rec.on_error()});
  r.push();
  for (std::string_view part : {"1", "1:hel", "lo worl", "d"}) {
    REQUIRE(write_all(p.b.get(), part));
    REQUIRE(run_until([&] { return all_read(*r.h); }));
    run_for(10ms);
    CHECK(r.got.empty());
  }
  REQUIRE(write_all(p.b.get(), ","));
  REQUIRE(run_until([&] { return !r.got.empty(); }));
  CHECK(r.got == std::vector<std::string>{"hello world"});
  CHECK(r.h->rbuf().empty());
  CHECK(r.rec.errors.empty());
}

namespace {
/// Sends `bytes` to a handle with one netstring read queued: only non-fatal EBADMSG errors.
void expect_ebadmsg(std::string_view bytes) {
  auto p = make_socketpair();
  netstring_reader r;
  r.h = ae::handle::create({.fd = std::move(p.a), .on_error = r.rec.on_error()});
  r.push();
  REQUIRE(write_all(p.b.get(), bytes));
  REQUIRE(run_until([&] { return !r.rec.errors.empty(); }));
  run_for(20ms);
  CHECK(r.got.empty());
  REQUIRE_FALSE(r.rec.errors.empty());
  for (auto& e : r.rec.errors) {
    CHECK_FALSE(e.fatal);
    CHECK(e.ec == std::errc::bad_message);
  }
  CHECK_FALSE(r.h->destroyed());  // non-fatal: the handle lives on
}
}  // namespace

TEST_CASE("handle/read_netstring/bad_terminator") {
  expect_ebadmsg("5:hello!");
}

TEST_CASE("handle/read_netstring/non_digit_length") {
  expect_ebadmsg("abc:hello,");
  expect_ebadmsg("5x:hello,");
  expect_ebadmsg(":hello,");
}

TEST_CASE("handle/read_netstring/leading_zero_rejected") {
  // AnyEvent's reader takes (0|[1-9][0-9]*): "01:" is not a netstring.
  expect_ebadmsg("01:a,");
}

TEST_CASE("handle/read_netstring/huge_length_digits") {
  // A length no size_t holds must not wrap around to a small one, nor wait forever.
  expect_ebadmsg("123456789012345678901234567890:x,");
  expect_ebadmsg("18446744073709551617:x,");  // 2^64 + 1
}

TEST_CASE("handle/read_netstring/good_after_bad_is_not_confused") {
  // The leading "0" is a whole length here ("0:,"), then a real string follows.
  auto p = make_socketpair();
  netstring_reader r;
  r.h = ae::handle::create({.fd = std::move(p.a), .on_error = r.rec.on_error()});
  r.push();
  r.push();
  REQUIRE(write_all(p.b.get(), "0:,10:0123456789,"));
  REQUIRE(run_until([&] { return r.got.size() == 2; }));
  CHECK(r.got == std::vector<std::string>{"", "0123456789"});
  CHECK(r.rec.errors.empty());
}
