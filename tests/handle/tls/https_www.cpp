// HTTPS against a real server: `openssl s_server -WWW` serves files relative to its current
// directory, so it runs in a temporary directory holding the page. An ae::handle connects to
// localhost with TLS and our CA, sends a GET, reads the header with a line read and the body
// until end-of-file, and compares the body with the file.
#include "tls_support.hpp"

#include <filesystem>
#include <fstream>

using namespace tls_test;

namespace {

struct page_dir {
  std::string path;
  page_dir() {
    std::string templ = std::filesystem::temp_directory_path().string() + "/ae-www-XXXXXX";
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~page_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  void write(const std::string& name, const std::string& body) {
    std::ofstream f(path + "/" + name, std::ios::binary);
    f << body;
  }
};

struct response {
  observed o;
  std::string head, body;
  bool head_done = false;
};

std::shared_ptr<ae::handle> get(response& r, std::uint16_t port, const std::string& path) {
  ae::handle_options opts;
  opts.connect = {"localhost", std::to_string(port)};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  observe(opts, r.o, true, false, /*read_all=*/false);
  opts.on_read = [&r](ae::handle& h) {
    r.body.append(h.rbuf().view());
    h.rbuf().consume(h.rbuf().size());
  };
  auto h = ae::handle::create(std::move(opts));
  h->push_write("GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n");
  h->push_read(ae::line("\r\n\r\n"), [&r](ae::handle&, std::string_view head) {
    r.head = std::string(head);
    r.head_done = true;
  });
  return h;
}

}  // namespace

TEST_CASE("tls/https/s_server_WWW_get") {
  page_dir dir;
  std::string page;
  for (int i = 0; page.size() < 300000; ++i) page += "line " + std::to_string(i) + " of the page served over TLS\n";
  dir.write("page.txt", page);
  auto args = server_cert_args();
  args.push_back("-WWW");
  s_server srv(args, dir.path);

  response r;
  auto h = get(r, srv.port(), "/page.txt");
  REQUIRE(run_until([&] { return r.o.eof_calls > 0 || r.o.errors > 0; }, std::chrono::seconds(30)));
  CHECK_MESSAGE(r.o.errors == 0, r.o.ec.message() << ": " << r.o.error_message);
  CHECK(r.o.starttls_ok);
  REQUIRE(r.head_done);
  CHECK(r.head.starts_with("HTTP/1.0 200"));
  CHECK(contains_nocase(r.head, "content-type: text/plain"));
  CHECK(r.body.size() == page.size());
  CHECK(r.body == page);
  CHECK(r.o.eof_calls == 1);
}

TEST_CASE("tls/https/s_server_WWW_missing_file") {
  // s_server -WWW answers a missing file with "200 ok" and an error text.
  page_dir dir;
  auto args = server_cert_args();
  args.push_back("-WWW");
  s_server srv(args, dir.path);
  response r;
  auto h = get(r, srv.port(), "/missing.txt");
  REQUIRE(run_until([&] { return r.o.eof_calls > 0 || r.o.errors > 0; }, std::chrono::seconds(30)));
  CHECK(r.o.errors == 0);
  REQUIRE(r.head_done);
  CHECK_MESSAGE(r.head.starts_with("HTTP/1.0 200"), r.head);
  CHECK_MESSAGE(r.body.find("Error opening") != std::string::npos, r.body);
}
