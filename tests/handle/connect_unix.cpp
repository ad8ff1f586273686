// .connect = {"unix/", path}: a unix stream socket; on_connect reports host "unix/", port 0.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/connect_unix/exchange") {
  temp_dir dir;
  const std::string path = dir / "sock";
  std::vector<ae::fd> accepted;
  auto server = ae::tcp_server("unix/", path, [&](ae::fd f, std::string, std::uint16_t) { accepted.push_back(std::move(f)); });
  recorder rec;
  int connects = 0;
  std::string host = "?";
  std::uint16_t port = 99;
  std::string reply;
  auto h = ae::handle::create({.connect = {"unix/", path},
                               .on_connect =
                                   [&](ae::handle&, std::string ho, std::uint16_t po) {
                                     ++connects;
                                     host = std::move(ho);
                                     port = po;
                                   },
                               .on_error = rec.on_error()});
  CHECK(h->peername() == "unix/");
  h->push_write("ping\n");
  h->push_read(ae::line(), [&](ae::handle&, std::string_view l) { reply = l; });
  REQUIRE(run_until([&] { return connects == 1 && accepted.size() == 1; }));
  CHECK(host == "unix/");
  CHECK(port == 0);
  sink s(accepted[0].get());
  REQUIRE(run_until([&] { return s.data.size() >= 5; }));
  CHECK(s.data == "ping\n");
  REQUIRE(write_all(accepted[0].get(), "pong\n"));
  REQUIRE(run_until([&] { return !reply.empty(); }));
  CHECK(reply == "pong");
  CHECK(rec.errors.empty());
}
