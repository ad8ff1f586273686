// A handle over either end of a pipe (not a socket): reads, writes, EOF; writing to a pipe
// whose reader closed is a fatal EPIPE and raises no SIGPIPE (for a pipe MSG_NOSIGNAL does
// not exist, so the library has to keep the signal away by other means).
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/pipes/read_end") {
  auto p = make_pipe();
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
                               .on_eof = rec.on_eof()});
  REQUIRE(::write(p.b.get(), "over\nthe pipe\n", 14) == 14);
  REQUIRE(run_until([&] { return lines.size() == 2; }));
  p.b.reset();
  REQUIRE(run_until([&] { return rec.eofs > 0; }));
  CHECK(lines == std::vector<std::string>{"over", "the pipe"});
  CHECK(rec.eofs == 1);
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/pipes/write_end") {
  auto p = make_pipe();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.b), .on_error = rec.on_error()});
  const std::string data = pattern(300000, 12);  // more than a pipe holds
  h->push_write(data);
  h->push_write(ae::netstring("end"));
  sink s(p.a.get());
  REQUIRE(run_until([&] { return s.data.size() >= data.size() + 6; }));
  CHECK(s.data == data + "3:end,");
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/pipes/write_end_push_shutdown_closes") {
  // A pipe has no half-close: push_shutdown must still leave the reader with an EOF after
  // all the data (or report nothing worse than a no-op); the bytes must all arrive.
  auto p = make_pipe();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.b), .on_error = rec.on_error()});
  h->push_write("all of it");
  h->push_shutdown();
  sink s(p.a.get());
  REQUIRE(run_until([&] { return s.data.size() >= 9; }));
  CHECK(s.data == "all of it");
  CHECK(rec.errors.empty());  // shutdown() does not apply to a pipe; AnyEvent ignores that
  h.reset();  // the handle goes; the reader sees EOF now at the latest
  REQUIRE(run_until([&] { return s.eof; }));
  CHECK(s.error == 0);
}

TEST_CASE("handle/pipes/epipe_without_sigpipe") {
  sigpipe_watch sig;
  auto p = make_pipe();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.b), .on_error = rec.on_error()});
  p.a.reset();  // the reader is gone
  h->push_write("nobody reads this");
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::broken_pipe);
  CHECK(h->destroyed());
  CHECK_FALSE(sig.raised());
  CHECK(sig.disposition_default());
}
