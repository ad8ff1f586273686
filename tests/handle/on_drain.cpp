// on_drain: called when the write buffer drops to low_water_mark or below, and at once when
// set while it already is (AnyEvent calls it on creation too).
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/on_drain/set_on_empty_buffer_runs_at_once") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  int calls = 0;
  h->on_drain([&](ae::handle& hh) {
    ++calls;
    CHECK(hh.wbuf_size() == 0);
  });
  CHECK(calls == 1);
  run_for(20ms);
  CHECK(calls == 1);  // nothing written since: no more calls
}

TEST_CASE("handle/on_drain/from_options") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_drain = rec.on_drain()});
  REQUIRE(run_until([&] { return rec.drains > 0; }));
  run_for(20ms);
  CHECK(rec.drains == 1);
}

TEST_CASE("handle/on_drain/when_buffer_empties") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  const std::string data = pattern(2 * 1024 * 1024, 2);
  h->push_write(data);
  REQUIRE(h->wbuf_size() > 0);
  int calls = 0;
  std::size_t wbuf_at_call = 99;
  h->on_drain([&](ae::handle& hh) {
    ++calls;
    wbuf_at_call = hh.wbuf_size();
  });
  CHECK(calls == 0);  // not empty: not called when set
  run_for(30ms);
  CHECK(calls == 0);  // the peer reads nothing yet
  sink s(p.b.get());
  REQUIRE(run_until([&] { return calls > 0; }));
  CHECK(wbuf_at_call == 0);
  REQUIRE(run_until([&] { return s.data.size() >= data.size(); }));
  run_for(20ms);
  CHECK(calls == 1);
  CHECK(s.data == data);

  // Another write that the kernel takes whole empties the buffer again: one more call.
  h->push_write("tail");
  REQUIRE(run_until([&] { return calls == 2; }));
  run_for(20ms);
  CHECK(calls == 2);
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/on_drain/low_water_mark") {
  auto p = make_socketpair();
  int small = 16 * 1024;  // the kernel takes little per write, so the buffer drains in steps
  REQUIRE(::setsockopt(p.a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  constexpr std::size_t mark = 512 * 1024;
  auto h = ae::handle::create({.fd = std::move(p.a), .low_water_mark = mark});
  const std::string data = pattern(2 * 1024 * 1024, 4);
  h->push_write(data);
  REQUIRE(h->wbuf_size() > mark);
  std::vector<std::size_t> at_calls;
  h->on_drain([&](ae::handle& hh) { at_calls.push_back(hh.wbuf_size()); });
  CHECK(at_calls.empty());
  sink s(p.b.get(), 8192);
  REQUIRE(run_until([&] { return !at_calls.empty(); }));
  // "Empty" means at or below the mark: called while data is still waiting.
  CHECK(at_calls[0] <= mark);
  CHECK(at_calls[0] > 0);
  CHECK(s.data.size() < data.size());
  REQUIRE(run_until([&] { return s.data.size() >= data.size(); }));
  CHECK(s.data == data);
  for (std::size_t w : at_calls) CHECK(w <= mark);

  // The mark changed at run time: setting on_drain now calls it at once (the buffer is
  // empty, at or below any mark).
  h->low_water_mark(0);
  int now = 0;
  h->on_drain([&](ae::handle&) { ++now; });
  CHECK(now == 1);
}
