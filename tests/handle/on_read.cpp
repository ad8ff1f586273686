// on_read: called only when no read request is queued and rbuf() is not empty; it may take
// part of the buffer (it is called again while it makes progress) or queue reads.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/on_read/only_when_queue_empty") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> order;
  std::shared_ptr<ae::handle> h = ae::handle::create({.fd = std::move(p.a),
                                                      .on_error = rec.on_error(),
                                                      .on_read = [&](ae::handle& hh) {
                                                        CHECK_FALSE(hh.rbuf().empty());
                                                        order.push_back("on_read:" + std::string(hh.rbuf().view()));
                                                        hh.rbuf().consume(hh.rbuf().size());
                                                      }});
  h->push_read(ae::chunk(3), [&](ae::handle&, std::string_view d) { order.push_back("chunk:" + std::string(d)); });
  REQUIRE(write_all(p.b.get(), "abcdef"));
  REQUIRE(run_until([&] { return order.size() == 2; }));
  CHECK(order == std::vector<std::string>{"chunk:abc", "on_read:def"});

  // A queued request that is not satisfied keeps on_read away.
  order.clear();
  h->push_read(ae::chunk(10), [&](ae::handle&, std::string_view d) { order.push_back("chunk:" + std::string(d)); });
  REQUIRE(write_all(p.b.get(), "12345"));
  REQUIRE(run_until([&] { return all_read(*h); }));
  run_for(20ms);
  CHECK(order.empty());
  REQUIRE(write_all(p.b.get(), "67890xy"));
  REQUIRE(run_until([&] { return order.size() == 2; }));
  CHECK(order == std::vector<std::string>{"chunk:1234567890", "on_read:xy"});

  // Exactly consumed by requests: on_read is not called with an empty buffer.
  order.clear();
  h->push_read(ae::chunk(2), [&](ae::handle&, std::string_view d) { order.push_back("chunk:" + std::string(d)); });
  REQUIRE(write_all(p.b.get(), "zz"));
  REQUIRE(run_until([&] { return !order.empty(); }));
  run_for(20ms);
  CHECK(order == std::vector<std::string>{"chunk:zz"});
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/on_read/partial_consume") {
  auto p = make_socketpair();
  recorder rec;
  int calls = 0;
  std::vector<std::string> pairs;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error = rec.on_error(),
                               .on_read = [&](ae::handle& hh) {
                                 ++calls;
                                 if (hh.rbuf().size() < 2) return;  // wait for more
                                 pairs.emplace_back(hh.rbuf().view().substr(0, 2));
                                 hh.rbuf().consume(2);
                               }});
  REQUIRE(write_all(p.b.get(), "abcde"));
  REQUIRE(run_until([&] { return pairs.size() == 2; }));
  run_for(20ms);
  // Called again while it makes progress: "ab", "cd", then once with "e" that it leaves.
  CHECK(calls == 3);
  CHECK(pairs == std::vector<std::string>{"ab", "cd"});
  CHECK(h->rbuf().view() == "e");
  REQUIRE(write_all(p.b.get(), "f"));
  REQUIRE(run_until([&] { return pairs.size() == 3; }));
  run_for(20ms);
  CHECK(calls == 4);  // "ef" taken; an empty buffer calls nobody
  CHECK(pairs.back() == "ef");
  CHECK(h->rbuf().empty());
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/on_read/set_on_buffered_data_runs_at_once") {
  auto p = make_socketpair();
  std::vector<std::string> order;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_read(ae::chunk(1), [&](ae::handle&, std::string_view d) { order.push_back("chunk:" + std::string(d)); });
  REQUIRE(write_all(p.b.get(), "xyz"));
  REQUIRE(run_until([&] { return order.size() == 1; }));
  CHECK(h->rbuf().view() == "yz");
  h->on_read([&](ae::handle& hh) {
    order.push_back("on_read:" + std::string(hh.rbuf().view()));
    hh.rbuf().consume(hh.rbuf().size());
  });
  CHECK(order == std::vector<std::string>{"chunk:x", "on_read:yz"});
}

TEST_CASE("handle/on_read/pushes_reads") {
  // AnyEvent's "serve requests in a loop" pattern: on_read queues a line read for each
  // request; an EOF between requests is a clean on_eof, not an error.
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> requests;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error = rec.on_error(),
                               .on_read =
                                   [&](ae::handle& hh) {
                                     hh.push_read(ae::line(), [&](ae::handle&, std::string_view l) {
                                       requests.emplace_back(l);
                                     });
                                   },
                               .on_eof = rec.on_eof()});
  REQUIRE(write_all(p.b.get(), "GET a\nGET b\nGET"));
  REQUIRE(run_until([&] { return requests.size() == 2; }));
  REQUIRE(write_all(p.b.get(), " c\n"));
  REQUIRE(run_until([&] { return requests.size() == 3; }));
  p.b.reset();
  REQUIRE(run_until([&] { return rec.eofs > 0 || !rec.errors.empty(); }));
  CHECK(requests == std::vector<std::string>{"GET a", "GET b", "GET c"});
  CHECK(rec.eofs == 1);
  CHECK(rec.errors.empty());
}
