// A callback may replace or clear its own slot while it runs (on_read from on_read, on_error
// from on_error); the running callable and its captures stay alive until it returns.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/callback_replace/on_read_from_on_read") {
  auto p = make_socketpair();
  std::vector<std::string> order;
  const std::string tag_a(500, 'A');  // heap-held capture: ASan sees a use after free
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->on_read([&order, tag_a](ae::handle& hh) {
    hh.on_read([&order](ae::handle& h2) {
      order.push_back("B:" + std::string(h2.rbuf().view()));
      h2.rbuf().consume(h2.rbuf().size());
    });
    // Still running the old callable: its captures are intact.
    order.push_back(tag_a.substr(0, 1) + ":" + std::string(hh.rbuf().view()));
    hh.rbuf().consume(hh.rbuf().size());
  });
  REQUIRE(write_all(p.b.get(), "one"));
  REQUIRE(run_until([&] { return order.size() == 1; }));
  REQUIRE(write_all(p.b.get(), "two"));
  REQUIRE(run_until([&] { return order.size() == 2; }));
  REQUIRE(write_all(p.b.get(), "three"));
  REQUIRE(run_until([&] { return order.size() == 3; }));
  CHECK(order == std::vector<std::string>{"A:one", "B:two", "B:three"});
}

TEST_CASE("handle/callback_replace/clear_on_read_from_on_read") {
  auto p = make_socketpair();
  int calls = 0;
  std::string later;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->on_read([&](ae::handle& hh) {
    ++calls;
    hh.on_read({});
    hh.rbuf().consume(hh.rbuf().size());
  });
  REQUIRE(write_all(p.b.get(), "first"));
  REQUIRE(run_until([&] { return calls == 1; }));
  REQUIRE(write_all(p.b.get(), "second"));
  run_for(50ms);
  CHECK(calls == 1);  // cleared: not called again, and the old callable did not come back
  // The bytes are kept (in the kernel or rbuf) for whoever asks next.
  h->push_read(ae::chunk(6), [&](ae::handle&, std::string_view d) { later = d; });
  REQUIRE(run_until([&] { return !later.empty(); }));
  CHECK(later == "second");
  CHECK(calls == 1);
}

TEST_CASE("handle/callback_replace/on_read_replaced_by_itself_kept") {
  // Setting another callback and then the same kind again from inside: the last set wins.
  auto p = make_socketpair();
  std::vector<std::string> order;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->on_read([&](ae::handle& hh) {
    order.push_back("A");
    hh.on_read([&](ae::handle& h2) {
      order.push_back("B");
      h2.rbuf().consume(h2.rbuf().size());
    });
    hh.on_read([&](ae::handle& h2) {
      order.push_back("C");
      h2.rbuf().consume(h2.rbuf().size());
    });
    hh.rbuf().consume(hh.rbuf().size());
  });
  REQUIRE(write_all(p.b.get(), "1"));
  REQUIRE(run_until([&] { return order.size() == 1; }));
  REQUIRE(write_all(p.b.get(), "2"));
  REQUIRE(run_until([&] { return order.size() == 2; }));
  CHECK(order == std::vector<std::string>{"A", "C"});
}

TEST_CASE("handle/callback_replace/on_error_from_on_error") {
  auto p = make_socketpair();
  std::vector<std::string> order;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->on_error([&](ae::handle& hh, bool fatal, std::error_code ec, std::string_view) {
    CHECK_FALSE(fatal);
    CHECK(ec == std::errc::bad_message);
    order.push_back("first");
    hh.on_error([&](ae::handle&, bool f2, std::error_code, std::string_view) {
      order.push_back(f2 ? "second-fatal" : "second");
    });
    hh.rbuf().consume(hh.rbuf().size());
  });
  h->push_read(ae::netstring(), [](ae::handle&, std::string_view) {});
  REQUIRE(write_all(p.b.get(), "x"));
  REQUIRE(run_until([&] { return order.size() == 1; }));
  REQUIRE(write_all(p.b.get(), "y"));
  REQUIRE(run_until([&] { return order.size() == 2; }));
  CHECK(order == std::vector<std::string>{"first", "second"});
}
