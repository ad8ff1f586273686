// rbuf_max: a fatal ENOSPC when more than rbuf_max bytes stay unconsumed after the read
// callbacks ran (a long line without its newline); data the callbacks consume does not
// count, however big a single read was.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/rbuf_max/long_line_is_fatal_enospc") {
  auto p = make_socketpair();
  recorder rec;
  int lines = 0;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .rbuf_max = 1000});
  h->push_read(ae::line(), [&](ae::handle&, std::string_view) { ++lines; });
  REQUIRE(write_all(p.b.get(), std::string(5000, 'x')));
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  run_for(20ms);
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::no_space_on_device);
  CHECK(lines == 0);
  CHECK(h->destroyed());
  REQUIRE(run_until([&] { return peer_sees_eof(p.b.get()); }));
}

TEST_CASE("handle/rbuf_max/consumed_data_does_not_count") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> lines;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error = rec.on_error(),
                               .on_read =
                                   [&](ae::handle& hh) {
                                     hh.push_read(ae::line(), [&](ae::handle&, std::string_view l) {
                                       lines.emplace_back(l);
                                     });
                                   },
                               .rbuf_max = 1000});
  std::string all;
  for (int i = 0; i < 20; ++i) all += std::string(900, static_cast<char>('a' + i)) + "\n";
  REQUIRE(write_all(p.b.get(), all));  // 18 KB in one go, each line under the limit
  REQUIRE(run_until([&] { return lines.size() == 20 || !rec.errors.empty(); }));
  CHECK(rec.errors.empty());
  REQUIRE(lines.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(lines[static_cast<std::size_t>(i)] == std::string(900, static_cast<char>('a' + i)));
  CHECK_FALSE(h->destroyed());
}

TEST_CASE("handle/rbuf_max/set_at_run_time") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  h->push_read(ae::line(), [](ae::handle&, std::string_view) {});
  REQUIRE(write_all(p.b.get(), std::string(3000, 'y')));
  REQUIRE(run_until([&] { return all_read(*h); }));
  run_for(10ms);
  CHECK(rec.errors.empty());  // no limit yet
  h->rbuf_max(100);
  REQUIRE(write_all(p.b.get(), "more"));
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::no_space_on_device);
  CHECK(h->destroyed());
}
