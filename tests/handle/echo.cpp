// End to end over TCP: a tcp_server makes a handle per connection that echoes every line
// back (push_write from a read callback); a client handle pipelines many lines and reads
// them back in order; the server handle sees the client's push_shutdown as a clean EOF.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/echo/pipelined_lines") {
  std::vector<std::shared_ptr<ae::handle>> conns;
  int server_eofs = 0, server_errors = 0;
  std::uint16_t port = 0;
  auto server = ae::tcp_server(
      "127.0.0.1", "0",
      [&](ae::fd f, std::string, std::uint16_t) {
        conns.push_back(ae::handle::create(
            {.fd = std::move(f),
             .on_error = [&](ae::handle&, bool, std::error_code, std::string_view) { ++server_errors; },
             .on_read =
                 [](ae::handle& h) {
                   h.push_read(ae::line(), [](ae::handle& hh, std::string_view l, std::string_view eol) {
                     hh.push_write(std::string(l) + "!" + std::string(eol));
                   });
                 },
             .on_eof =
                 [&](ae::handle& h) {
                   ++server_eofs;
                   h.push_shutdown();  // and close our side too, after the echoes
                 }}));
      },
      [&](int, std::string, std::uint16_t p) {
        port = p;
        return 0;
      });
  recorder rec;
  std::vector<std::string> back;
  auto client = ae::handle::create({.connect = {"127.0.0.1", std::to_string(port)},
                                    .on_error = rec.on_error(),
                                    .on_eof = rec.on_eof()});
  constexpr int lines = 2000;
  std::string all;
  for (int i = 0; i < lines; ++i) all += "line " + std::to_string(i) + (i % 2 ? "\r\n" : "\n");
  client->push_write(all);
  client->push_shutdown();
  for (int i = 0; i < lines; ++i)
    client->push_read(ae::line(), [&](ae::handle&, std::string_view l) { back.emplace_back(l); });
  REQUIRE(run_until([&] { return back.size() == lines; }, 30s));
  for (int i = 0; i < lines; ++i) CHECK(back[static_cast<std::size_t>(i)] == "line " + std::to_string(i) + "!");
  client->on_read([](ae::handle& h) { h.rbuf().consume(h.rbuf().size()); });
  REQUIRE(run_until([&] { return rec.eofs > 0 || !rec.errors.empty(); }));
  CHECK(rec.eofs == 1);
  CHECK(rec.errors.empty());
  CHECK(server_eofs == 1);
  CHECK(server_errors == 0);
}
