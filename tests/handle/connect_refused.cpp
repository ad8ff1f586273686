// A refused connection: on_connect_error with ECONNREFUSED, or without it a fatal
// ECONNREFUSED through on_error; the handle is destroyed afterwards and on_connect never
// runs. The port is bound and not listening (refusing_socket), so nobody else can take it.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/connect_refused/on_connect_error") {
  std::uint16_t port = 0;
  ae::fd holder = refusing_socket(port);
  recorder rec;
  int connects = 0, calls = 0;
  std::error_code got;
  std::string message;
  bool destroyed_inside = true;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(port)},
                               .on_connect = [&](ae::handle&) { ++connects; },
                               .on_connect_error =
                                   [&](ae::handle& hh, std::error_code ec, std::string_view m) {
                                     ++calls;
                                     got = ec;
                                     message = m;
                                     destroyed_inside = hh.destroyed();
                                   },
                               .on_error = rec.on_error()});
  h->push_read(ae::line(), [](ae::handle&, std::string_view) {});
  CHECK(calls == 0);
  REQUIRE(run_until([&] { return calls > 0; }));
  run_for(30ms);
  CHECK(calls == 1);
  CHECK(got == std::errc::connection_refused);
  CHECK_FALSE(message.empty());
  CHECK_FALSE(destroyed_inside);
  CHECK(h->destroyed());  // afterwards
  CHECK(connects == 0);
  CHECK(rec.errors.empty());  // on_connect_error replaces on_error for this
}

TEST_CASE("handle/connect_refused/on_error_without_on_connect_error") {
  std::uint16_t port = 0;
  ae::fd holder = refusing_socket(port);
  recorder rec;
  int connects = 0;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(port)},
                               .on_connect = [&](ae::handle&) { ++connects; },
                               .on_error = rec.on_error()});
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  run_for(30ms);
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::connection_refused);
  CHECK_FALSE(rec.errors[0].destroyed_inside);
  CHECK(h->destroyed());
  CHECK(connects == 0);
}

TEST_CASE("handle/connect_refused/missing_unix_path") {
  temp_dir dir;
  std::error_code got;
  int calls = 0;
  auto h = ae::handle::create({.connect = {"unix/", dir / "nobody-here"},
                               .on_connect_error = [&](ae::handle&, std::error_code ec, std::string_view) {
                                 ++calls;
                                 got = ec;
                               }});
  REQUIRE(run_until([&] { return calls > 0; }));
  CHECK(got == std::errc::no_such_file_or_directory);
  CHECK(h->destroyed());
}
