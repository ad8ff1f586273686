// autocork: writes wait for the loop's next iteration and then go out together; without it
// they go to the kernel inside push_write. autocork(bool) switches at run time.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/autocork/waits_for_the_loop") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .autocork = true});
  h->push_write("a");
  h->push_write("bc");
  h->push_write(ae::netstring("d"));
  CHECK(h->wbuf_size() == 7);
  CHECK(read_available(p.b.get()).empty());
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.data.size() >= 7; }));
  run_for(10ms);
  CHECK(s.data == "abc1:d,");
  CHECK(h->wbuf_size() == 0);
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/autocork/switched_at_run_time") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_write("1");
  CHECK(read_available(p.b.get()) == "1");
  h->autocork(true);
  h->push_write("2");
  h->push_write("3");
  CHECK(read_available(p.b.get()).empty());
  CHECK(h->wbuf_size() == 2);
  REQUIRE(run_until([&] { return h->wbuf_size() == 0; }));
  CHECK(read_available(p.b.get()) == "23");
  h->autocork(false);
  h->push_write("4");
  CHECK(read_available(p.b.get()) == "4");
}
