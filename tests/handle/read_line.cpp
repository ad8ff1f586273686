// line(): the default end of line is \r?\n (as AnyEvent's qr|\015?\012|), a fixed string, or
// a regex (the shortest line before a match); the eol found goes to a 3-argument callback.
// A partial line is never handed out.
#include "support.hpp"

#include <utility>

using namespace handle_test;

namespace {
using line_eol = std::pair<std::string, std::string>;
}

TEST_CASE("handle/read_line/default_lf_and_crlf") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<line_eol> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  auto cb = [&](ae::handle&, std::string_view line, std::string_view eol) { got.emplace_back(line, eol); };
  for (int i = 0; i < 5; ++i) h->push_read(ae::line(), cb);
  // Only a \n ends a line; a \r before it belongs to the eol, any other \r to the line.
  REQUIRE(write_all(p.b.get(), "one\ntwo\r\n\nthree\r\r\nfo"));
  REQUIRE(run_until([&] { return got.size() == 4; }));
  run_for(20ms);
  REQUIRE(got.size() == 4);  // "fo" is not a line yet
  CHECK(got[0] == line_eol{"one", "\n"});
  CHECK(got[1] == line_eol{"two", "\r\n"});
  CHECK(got[2] == line_eol{"", "\n"});
  CHECK(got[3] == line_eol{"three\r", "\r\n"});
  CHECK(h->rbuf().view() == "fo");
  REQUIRE(write_all(p.b.get(), "ur\r"));
  run_for(20ms);
  CHECK(got.size() == 4);  // a lone \r ends nothing
  REQUIRE(write_all(p.b.get(), "\n"));
  REQUIRE(run_until([&] { return got.size() == 5; }));
  CHECK(got[4] == line_eol{"four", "\r\n"});
  CHECK(h->rbuf().empty());
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/read_line/two_argument_callback") {
  auto p = make_socketpair();
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_read(ae::line(), [&](ae::handle&, std::string_view line) { got.emplace_back(line); });
  h->push_read(ae::line(), [&](ae::handle&, std::string_view line) { got.emplace_back(line); });
  REQUIRE(write_all(p.b.get(), "alpha\r\nbeta\n"));
  REQUIRE(run_until([&] { return got.size() == 2; }));
  CHECK(got == std::vector<std::string>{"alpha", "beta"});
  CHECK(h->rbuf().empty());
}

TEST_CASE("handle/read_line/fixed_string") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<line_eol> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  auto cb = [&](ae::handle&, std::string_view line, std::string_view eol) { got.emplace_back(line, eol); };
  h->push_read(ae::line("\r\n\r\n"), cb);
  h->push_read(ae::line("\r\n\r\n"), cb);
  // Single \r\n inside the record do not end it; the marker split across writes does.
  REQUIRE(write_all(p.b.get(), "GET / HTTP/1.0\r\nHost: x\r\n\r"));
  run_for(30ms);
  CHECK(got.empty());
  REQUIRE(write_all(p.b.get(), "\nbody\r\n\r\n.+*"));
  REQUIRE(run_until([&] { return got.size() == 2; }));
  CHECK(got[0] == line_eol{"GET / HTTP/1.0\r\nHost: x", "\r\n\r\n"});
  CHECK(got[1] == line_eol{"body", "\r\n\r\n"});
  CHECK(h->rbuf().view() == ".+*");
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/read_line/fixed_string_is_not_a_regex") {
  auto p = make_socketpair();
  std::vector<line_eol> got;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_read(ae::line(".*"), [&](ae::handle&, std::string_view line, std::string_view eol) {
    got.emplace_back(line, eol);
  });
  REQUIRE(write_all(p.b.get(), "abc.d.*ef"));
  REQUIRE(run_until([&] { return !got.empty(); }));
  CHECK(got[0] == line_eol{"abc.d", ".*"});
  CHECK(h->rbuf().view() == "ef");
}

TEST_CASE("handle/read_line/regex") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<line_eol> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  auto cb = [&](ae::handle&, std::string_view line, std::string_view eol) { got.emplace_back(line, eol); };
  for (int i = 0; i < 4; ++i) h->push_read(ae::line(ae::pattern(";+|\r?\n")), cb);
  REQUIRE(write_all(p.b.get(), "a;b;;;c\r\n\nd"));
  REQUIRE(run_until([&] { return got.size() == 4; }));
  CHECK(got[0] == line_eol{"a", ";"});
  CHECK(got[1] == line_eol{"b", ";;;"});
  CHECK(got[2] == line_eol{"c", "\r\n"});
  CHECK(got[3] == line_eol{"", "\n"});
  CHECK(h->rbuf().view() == "d");
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/read_line/empty_eol_rejected") {
  CHECK_THROWS_AS(ae::line(""), ae::error);
  CHECK_THROWS_AS(ae::line(std::string()), ae::error);
}

TEST_CASE("handle/read_line/partial_line_at_eof") {
  auto p = make_socketpair();
  recorder rec;
  int lines = 0;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .on_eof = rec.on_eof()});
  h->push_read(ae::line(), [&](ae::handle&, std::string_view) { ++lines; });
  REQUIRE(write_all(p.b.get(), "no newline here"));
  p.b.reset();
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  CHECK(lines == 0);
  CHECK(rec.eofs == 0);
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::broken_pipe);
  CHECK(h->destroyed());
}
