// End-of-file: with nothing queued, on_eof (after on_read saw all data); with a read queued
// that can never be satisfied, or on_read leaving data it cannot use, a fatal EPIPE; without
// on_eof, a fatal error with errno 0, "unexpected end-of-file". After a fatal error the
// handle is destroyed, once on_error returned.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/eof/on_eof_after_the_data") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> order;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error = rec.on_error(),
                               .on_read =
                                   [&](ae::handle& hh) {
                                     order.push_back("read:" + std::string(hh.rbuf().view()));
                                     hh.rbuf().consume(hh.rbuf().size());
                                   },
                               .on_eof = [&](ae::handle&) { order.push_back("eof"); }});
  REQUIRE(write_all(p.b.get(), "last words"));
  p.b.reset();
  REQUIRE(run_until([&] { return !order.empty() && order.back() == "eof"; }));
  run_for(20ms);
  CHECK(order == std::vector<std::string>{"read:last words", "eof"});
  CHECK(rec.errors.empty());
  CHECK_FALSE(h->destroyed());  // an EOF is no error: the handle stays
}

TEST_CASE("handle/eof/can_still_write_after_eof") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error = rec.on_error(),
                               .on_read = [](ae::handle& hh) { hh.rbuf().consume(hh.rbuf().size()); },
                               .on_eof = [&](ae::handle& hh) {
                                 ++rec.eofs;
                                 hh.push_write("bye");
                               }});
  REQUIRE(::shutdown(p.b.get(), SHUT_WR) == 0);  // the peer stops sending, still reads
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.data == "bye"; }));
  CHECK(rec.eofs == 1);
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/eof/queued_read_unsatisfied_is_epipe") {
  auto p = make_socketpair();
  recorder rec;
  int chunks = 0;
  bool destroyed_in_on_error = true;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error =
                                   [&](ae::handle& hh, bool fatal, std::error_code ec, std::string_view m) {
                                     rec.errors.push_back({fatal, ec, std::string(m), hh.destroyed()});
                                     destroyed_in_on_error = hh.destroyed();
                                     CHECK(hh.rbuf().view() == "abc");  // still there to look at
                                   },
                               .on_eof = rec.on_eof()});
  h->push_read(ae::chunk(10), [&](ae::handle&, std::string_view) { ++chunks; });
  REQUIRE(write_all(p.b.get(), "abc"));
  p.b.reset();
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  run_for(20ms);
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::broken_pipe);
  CHECK_FALSE(destroyed_in_on_error);  // destroyed after on_error, not before
  CHECK(h->destroyed());
  CHECK(h->fd() == -1);
  CHECK(rec.eofs == 0);
  CHECK(chunks == 0);
}

TEST_CASE("handle/eof/without_on_eof_is_fatal_errno_0") {
  auto p = make_socketpair();
  recorder rec;
  std::string seen;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error = rec.on_error(),
                               .on_read = [&](ae::handle& hh) {
                                 seen += hh.rbuf().view();
                                 hh.rbuf().consume(hh.rbuf().size());
                               }});
  REQUIRE(write_all(p.b.get(), "data"));
  p.b.reset();
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  run_for(20ms);
  CHECK(seen == "data");  // the data first, then the error
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec.value() == 0);
  CHECK(rec.errors[0].message == "unexpected end-of-file");
  CHECK(h->destroyed());
}

TEST_CASE("handle/eof/on_read_leftover_is_epipe") {
  auto p = make_socketpair();
  recorder rec;
  int on_read_calls = 0;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error = rec.on_error(),
                               .on_read =
                                   [&](ae::handle& hh) {
                                     ++on_read_calls;
                                     if (hh.rbuf().size() >= 10) hh.rbuf().consume(10);  // wants 10 at a time
                                   },
                               .on_eof = rec.on_eof()});
  REQUIRE(write_all(p.b.get(), "0123456789abc"));
  p.b.reset();
  REQUIRE(run_until([&] { return !rec.errors.empty() || rec.eofs > 0; }));
  run_for(20ms);
  CHECK(rec.eofs == 0);
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::broken_pipe);
  CHECK(h->destroyed());
  CHECK(on_read_calls >= 2);
}

TEST_CASE("handle/eof/requests_get_the_data_before_the_eof") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .on_eof = rec.on_eof()});
  h->push_read(ae::line(), [&](ae::handle&, std::string_view l) { got.emplace_back(l); });
  h->push_read(ae::line(), [&](ae::handle&, std::string_view l) { got.emplace_back(l); });
  h->push_read(ae::line(), [&](ae::handle&, std::string_view l) { got.emplace_back(l); });
  REQUIRE(write_all(p.b.get(), "one\ntwo\nthr"));
  p.b.reset();
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  CHECK(got == std::vector<std::string>{"one", "two"});
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].ec == std::errc::broken_pipe);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.eofs == 0);
}
