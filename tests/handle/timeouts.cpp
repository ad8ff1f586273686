// Inactivity timeouts: timeout (nothing read or written), rtimeout (nothing read), wtimeout
// (nothing written). The callback runs, or without one a non-fatal ETIMEDOUT reaches
// on_error; either way the timeout starts again. Never before the duration passed, measured
// with the loop's now() as the handle does. 0 disables; timeout_reset counts as activity.
#include "support.hpp"

using namespace handle_test;

namespace {
enum class which { any, read, write };

/// A handle whose `w` timeout is `d` with a callback recording when it ran.
struct timed {
  std::vector<ae::time_point> fired;
  recorder rec;
  ae::time_point start;
  std::shared_ptr<ae::handle> h;

  timed(ae::fd f, which w, ae::duration d) {
    ae::handle_options o{.fd = std::move(f), .on_error = rec.on_error()};
    auto cb = [this](ae::handle&) { fired.push_back(loop_now()); };
    switch (w) {
      case which::any: o.timeout = d, o.on_timeout = cb; break;
      case which::read: o.rtimeout = d, o.on_rtimeout = cb; break;
      case which::write: o.wtimeout = d, o.on_wtimeout = cb; break;
    }
    ae::default_loop().now_update();
    start = loop_now();
    h = ae::handle::create(std::move(o));
  }
};

void fires_after_inactivity(which w) {
  auto p = make_socketpair();
  timed t(std::move(p.a), w, 80ms);
  REQUIRE(run_until([&] { return t.fired.size() >= 2; }));
  CHECK(t.fired[0] - t.start >= 80ms);
  CHECK(t.fired[1] - t.fired[0] >= 80ms);  // started again after the callback
  CHECK(t.rec.errors.empty());              // the callback replaces the error
  CHECK_FALSE(t.h->destroyed());
}
}  // namespace

TEST_CASE("handle/timeouts/timeout_fires_after_inactivity") {
  fires_after_inactivity(which::any);
}

TEST_CASE("handle/timeouts/rtimeout_fires_after_inactivity") {
  fires_after_inactivity(which::read);
}

TEST_CASE("handle/timeouts/wtimeout_fires_after_inactivity") {
  fires_after_inactivity(which::write);
}

TEST_CASE("handle/timeouts/without_callback_non_fatal_etimedout") {
  auto p = make_socketpair();
  std::vector<ae::time_point> at;
  recorder rec;
  ae::default_loop().now_update();
  const auto start = loop_now();
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error =
                                   [&](ae::handle& hh, bool fatal, std::error_code ec, std::string_view m) {
                                     at.push_back(loop_now());
                                     rec.errors.push_back({fatal, ec, std::string(m), hh.destroyed()});
                                   },
                               .rtimeout = 60ms});
  REQUIRE(run_until([&] { return at.size() >= 3; }));
  for (auto& e : rec.errors) {
    CHECK_FALSE(e.fatal);
    CHECK(e.ec == std::errc::timed_out);
  }
  CHECK(at[0] - start >= 60ms);
  CHECK(at[1] - at[0] >= 60ms);
  CHECK(at[2] - at[1] >= 60ms);
  CHECK_FALSE(h->destroyed());
}

TEST_CASE("handle/timeouts/reads_push_rtimeout_out") {
  auto p = make_socketpair();
  std::vector<ae::time_point> fired;
  std::string got;
  ae::time_point last_write{};
  int writes = 0;
  std::size_t fired_before_last_write = 99;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_read =
                                   [&](ae::handle& hh) {
                                     got += hh.rbuf().view();
                                     hh.rbuf().consume(hh.rbuf().size());
                                   },
                               .rtimeout = 400ms,
                               .on_rtimeout = [&](ae::handle&) { fired.push_back(loop_now()); }});
  // A byte every 50 ms for 400 ms: the 400 ms rtimeout never runs out meanwhile.
  ae::timer feed(50ms, 50ms, [&] {
    if (writes == 8) return;
    REQUIRE(write_all(p.b.get(), "x"));
    last_write = loop_now();
    if (++writes == 8) fired_before_last_write = fired.size();
  });
  REQUIRE(run_until([&] { return !fired.empty(); }));
  CHECK(writes == 8);
  CHECK(fired_before_last_write == 0);
  CHECK(got == "xxxxxxxx");
  CHECK(fired[0] - last_write >= 400ms);
}

TEST_CASE("handle/timeouts/writes_do_not_push_rtimeout_out") {
  auto p = make_socketpair();
  int fired = 0, writes = 0;
  sink s(p.b.get());
  auto h = ae::handle::create({.fd = std::move(p.a), .rtimeout = 100ms,
                               .on_rtimeout = [&](ae::handle&) { ++fired; }});
  ae::timer writer(10ms, 10ms, [&] {
    h->push_write("w");
    ++writes;
  });
  REQUIRE(run_until([&] { return fired > 0; }));  // fires although writes go on
  CHECK(writes >= 5);
}

TEST_CASE("handle/timeouts/writes_push_timeout_out") {
  auto p = make_socketpair();
  std::vector<ae::time_point> fired;
  int writes = 0;
  ae::time_point last_write{};
  std::size_t fired_during_writes = 99;
  sink s(p.b.get());
  auto h = ae::handle::create({.fd = std::move(p.a), .timeout = 300ms,
                               .on_timeout = [&](ae::handle&) { fired.push_back(loop_now()); }});
  ae::timer writer(20ms, 20ms, [&] {
    if (writes == 15) return;
    h->push_write("w");
    last_write = loop_now();
    if (++writes == 15) fired_during_writes = fired.size();
  });
  REQUIRE(run_until([&] { return !fired.empty(); }));
  CHECK(writes == 15);
  CHECK(fired_during_writes == 0);
  CHECK(fired[0] - last_write >= 300ms);
}

TEST_CASE("handle/timeouts/zero_disables") {
  auto p = make_socketpair();
  recorder rec;
  int fired = 0;
  auto count = [&](ae::handle&) { ++fired; };
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .timeout = 40ms,
                               .rtimeout = 40ms, .wtimeout = 40ms, .on_timeout = count,
                               .on_rtimeout = count, .on_wtimeout = count});
  h->timeout(0s);
  h->rtimeout(0s);
  h->wtimeout(0s);
  run_for(200ms);
  CHECK(fired == 0);
  CHECK(rec.errors.empty());
  // And on again: it fires.
  h->rtimeout(30ms);
  REQUIRE(run_until([&] { return fired > 0; }));
}

TEST_CASE("handle/timeouts/past_due_fires_inside_the_setter") {
  auto p = make_socketpair();
  int fired = 0;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_timeout = [&](ae::handle&) { ++fired; }});
  run_for(100ms);  // 100 ms without activity
  CHECK(fired == 0);
  h->timeout(50ms);  // already past due: checked at once
  CHECK(fired == 1);
}

TEST_CASE("handle/timeouts/timeout_reset") {
  auto p = make_socketpair();
  std::vector<ae::time_point> fired;
  ae::time_point reset_at{};
  auto h = ae::handle::create({.fd = std::move(p.a), .timeout = 300ms,
                               .on_timeout = [&](ae::handle&) { fired.push_back(loop_now()); }});
  ae::timer r1(100ms, [&] {
    h->timeout_reset();
    reset_at = loop_now();
  });
  REQUIRE(run_until([&] { return !fired.empty(); }));
  CHECK(reset_at != ae::time_point{});
  CHECK(fired[0] - reset_at >= 300ms);
}

TEST_CASE("handle/timeouts/rtimeout_reset_and_wtimeout_reset") {
  auto p = make_socketpair();
  std::vector<ae::time_point> rfired, wfired;
  ae::time_point reset_at{};
  auto h = ae::handle::create({.fd = std::move(p.a), .rtimeout = 300ms, .wtimeout = 300ms,
                               .on_rtimeout = [&](ae::handle&) { rfired.push_back(loop_now()); },
                               .on_wtimeout = [&](ae::handle&) { wfired.push_back(loop_now()); }});
  ae::timer r1(100ms, [&] {
    h->rtimeout_reset();
    h->wtimeout_reset();
    reset_at = loop_now();
  });
  REQUIRE(run_until([&] { return !rfired.empty() && !wfired.empty(); }));
  CHECK(rfired[0] - reset_at >= 300ms);
  CHECK(wfired[0] - reset_at >= 300ms);
}

TEST_CASE("handle/timeouts/callback_turns_it_off") {
  auto p = make_socketpair();
  int fired = 0;
  auto h = ae::handle::create({.fd = std::move(p.a), .timeout = 30ms, .on_timeout = [&](ae::handle& hh) {
                                 ++fired;
                                 hh.timeout(0s);
                               }});
  REQUIRE(run_until([&] { return fired > 0; }));
  run_for(150ms);
  CHECK(fired == 1);
}

TEST_CASE("handle/timeouts/negative_is_refused") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  CHECK_THROWS_AS(h->timeout(-1ms), ae::error);
  CHECK_THROWS_AS(h->rtimeout(-1ms), ae::error);
  CHECK_THROWS_AS(h->wtimeout(-1ms), ae::error);
}

TEST_CASE("handle/timeouts/destroy_in_on_timeout") {
  auto p = make_socketpair();
  int fired = 0;
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .timeout = 30ms,
                               .rtimeout = 30ms,
                               .on_timeout =
                                   [&](ae::handle& hh) {
                                     ++fired;
                                     hh.destroy();
                                   },
                               .on_rtimeout = [&](ae::handle& hh) {
                                 ++fired;
                                 hh.destroy();
                               }});
  REQUIRE(run_until([&] { return fired > 0; }));
  run_for(150ms);
  CHECK(fired == 1);  // the other timeout does not run after destroy()
  CHECK(h->destroyed());
  CHECK(rec.errors.empty());
  CHECK(peer_sees_eof(p.b.get()));
}
