// regex(accept, reject, skip): everything up to and including the accepting match; a match
// of reject (while accept does not match) is a non-fatal EBADMSG; skip takes bytes out of the
// buffer early but they still begin the data handed out.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/read_regex/accept") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  h->push_read(ae::regex(ae::pattern("\n")), [&](ae::handle&, std::string_view d) { got.emplace_back(d); });
  h->push_read(ae::regex(ae::pattern("END")), [&](ae::handle&, std::string_view d) { got.emplace_back(d); });
  REQUIRE(write_all(p.b.get(), "first line\nsecond EN"));
  REQUIRE(run_until([&] { return got.size() == 1; }));
  run_for(20ms);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == "first line\n");  // the match is part of the data
  REQUIRE(write_all(p.b.get(), "D rest"));
  REQUIRE(run_until([&] { return got.size() == 2; }));
  CHECK(got[1] == "second END");
  CHECK(h->rbuf().view() == " rest");
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/read_regex/accept_with_match") {
  auto p = make_socketpair();
  std::string data, number, word;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_read(ae::regex(ae::pattern("([a-z]+)=([0-9]+);")),
               [&](ae::handle&, std::string_view d, const ae::captures& m) {
                 data = d;
                 word = std::string(m[1]);
                 number = std::string(m[2]);
               });
  REQUIRE(write_all(p.b.get(), "xx: count=42; tail"));
  REQUIRE(run_until([&] { return !data.empty(); }));
  CHECK(data == "xx: count=42;");
  CHECK(word == "count");
  CHECK(number == "42");
  CHECK(h->rbuf().view() == " tail");
}

TEST_CASE("handle/read_regex/reject_is_a_non_fatal_ebadmsg") {
  auto p = make_socketpair();
  recorder rec;
  int accepted = 0;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  // AnyEvent's example: a decimal number followed by white space, anything else rejected.
  h->push_read(ae::regex(ae::pattern("^[0-9]+\\s"), ae::pattern("[^0-9]")),
               [&](ae::handle&, std::string_view) { ++accepted; });
  REQUIRE(write_all(p.b.get(), "12"));
  run_for(30ms);
  CHECK(rec.errors.empty());  // only digits so far: could still match
  REQUIRE(write_all(p.b.get(), "x"));
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  run_for(20ms);
  REQUIRE(rec.errors.size() == 1);
  CHECK_FALSE(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::bad_message);
  CHECK_FALSE(rec.errors[0].destroyed_inside);
  CHECK_FALSE(h->destroyed());
  CHECK(accepted == 0);
  CHECK(h->rbuf().view() == "12x");  // nothing consumed; the request is still queued
}

TEST_CASE("handle/read_regex/reject_then_recover") {
  auto p = make_socketpair();
  int errors = 0;
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error = [&](ae::handle& hh, bool fatal, std::error_code ec, std::string_view) {
                                 ++errors;
                                 CHECK_FALSE(fatal);
                                 CHECK(ec == std::errc::bad_message);
                                 hh.rbuf().consume(hh.rbuf().size());  // drop the garbage, keep going
                               }});
  h->push_read(ae::regex(ae::pattern("^[0-9]+\\s"), ae::pattern("[^0-9]")),
               [&](ae::handle&, std::string_view d) { got.emplace_back(d); });
  REQUIRE(write_all(p.b.get(), "1a"));
  REQUIRE(run_until([&] { return errors == 1; }));
  REQUIRE(write_all(p.b.get(), "34 "));
  REQUIRE(run_until([&] { return !got.empty(); }));
  CHECK(got == std::vector<std::string>{"34 "});
  CHECK(errors == 1);
  CHECK_FALSE(h->destroyed());
}

TEST_CASE("handle/read_regex/skip") {
  auto p = make_socketpair();
  recorder rec;
  std::string got;
  int calls = 0;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  // AnyEvent's HTTP header example: skip what cannot be part of the final \r\n\r\n.
  h->push_read(ae::regex(ae::pattern("\r\n\r\n"), std::nullopt, ae::pattern("^.*[^\r\n]")),
               [&](ae::handle&, std::string_view d) {
                 ++calls;
                 got = d;
               });
  REQUIRE(write_all(p.b.get(), "aaaa\r\nbbbb"));
  REQUIRE(run_until([&] { return all_read(*h); }));
  run_for(20ms);
  CHECK(calls == 0);
  CHECK(h->rbuf().view() == "\r\nbbbb");  // "aaaa" was skipped out of the buffer
  REQUIRE(write_all(p.b.get(), "\r\n\r\nafter"));
  REQUIRE(run_until([&] { return calls > 0; }));
  CHECK(calls == 1);
  CHECK(got == "aaaa\r\nbbbb\r\n\r\n");  // skipped bytes still begin the data
  CHECK(h->rbuf().view() == "after");
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/read_regex/skip_across_many_reads") {
  auto p = make_socketpair();
  std::string got;
  auto h = ae::handle::create({.fd = std::move(p.a), .rbuf_max = 4096});
  h->push_read(ae::regex(ae::pattern("\n\n"), std::nullopt, ae::pattern("^[^\n]*[^\n]")),
               [&](ae::handle&, std::string_view d) { got = d; });
  // 64 KiB without the terminator: with skip the buffer never holds more than one write,
  // so rbuf_max (4 KiB) is not exceeded.
  std::string expect;
  for (int i = 0; i < 64; ++i) {
    const std::string part(1024, static_cast<char>('a' + i % 26));
    expect += part;
    REQUIRE(write_all(p.b.get(), part));
    REQUIRE(run_until([&] { return all_read(*h); }));
    CHECK(h->rbuf().size() <= 1);
  }
  expect += "\n\n";
  REQUIRE(write_all(p.b.get(), "\n\n"));
  REQUIRE(run_until([&] { return !got.empty(); }));
  CHECK(got.size() == expect.size());
  CHECK(got == expect);
  CHECK_FALSE(h->destroyed());
}
