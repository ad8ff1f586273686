// on_connect's retry: drops the connection just made, with everything queued on it, and
// tries the next target ("localhost" is 127.0.0.1 then ::1, never asked of DNS); with no
// target left, on_connect_error runs and the handle is destroyed.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/connect_retry/next_target_then_out_of_targets") {
  std::vector<ae::fd> accepted;
  std::uint16_t port = 0;
  auto server = ae::tcp_server(
      "", "0", [&](ae::fd f, std::string, std::uint16_t) { accepted.push_back(std::move(f)); },
      [&](int, std::string, std::uint16_t p) {
        port = p;
        return 0;
      });
  std::vector<std::string> hosts;
  int first_reads = 0, connect_errors = 0;
  std::string second_read;
  auto h = ae::handle::create(
      {.connect = {"localhost", std::to_string(port)},
       .on_connect =
           [&](ae::handle& hh, std::string host, std::uint16_t p, ae::retry_fn retry) {
             CHECK(p == port);
             hosts.push_back(host);
             if (hosts.size() == 1) {
               hh.push_read(ae::chunk(1), [&](ae::handle&, std::string_view) { ++first_reads; });
               hh.push_write(std::string(4 * 1024 * 1024, 'q'));  // mostly still queued
               retry();  // both are dropped with this connection
             } else {
               CHECK(hh.wbuf_size() == 0);
               CHECK(hh.rbuf().empty());
               hh.push_read(ae::chunk(1), [retry = std::move(retry), &second_read](ae::handle&, std::string_view d) mutable {
                 second_read = d;
                 retry();  // nothing left to try
               });
             }
           },
       .on_connect_error = [&](ae::handle&, std::error_code, std::string_view) { ++connect_errors; }});
  REQUIRE(run_until([&] { return hosts.size() == 2 && accepted.size() == 2; }));
  CHECK(hosts == std::vector<std::string>{"127.0.0.1", "::1"});
  for (auto& f : accepted) (void)::send(f.get(), "Z", 1, MSG_NOSIGNAL);
  REQUIRE(run_until([&] { return connect_errors > 0; }));
  run_for(20ms);
  CHECK(second_read == "Z");
  CHECK(first_reads == 0);
  CHECK(connect_errors == 1);
  CHECK(h->destroyed());
}
