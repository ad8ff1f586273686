// The hosts file (ANYEVENT_HOSTS here, pointing at generated files): comments, case,
// several addresses per name, IPv6, CRLF, NUL bytes inside lines, a 1 MiB line and 10,000
// entries; a changed file is read again.
#include "resolve_support.hpp"

#include <sys/stat.h>

#include <fstream>

using namespace net_test;
using namespace std::string_literals;
using V = std::vector<std::string>;

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace

TEST_CASE("resolve_sockaddr/hosts_file_basics") {
  temp_dir dir;
  write_file(dir / "hosts",
             "# a comment line\n"
             "   \t\n"
             "10.0.0.1   Alpha.test alpha-alias   # trailing comment\n"
             "10.0.0.2\tbeta.test\r\n"
             "2001:db8::5 alpha.test\n"
             "10.0.0.3 alpha.test\n"
             "not-an-address gamma.test\n"
             "10.0.0.4\n"
             "127.1 short.test\n"
             "10.0.0.9 last.test");  // no final newline
  scoped_env env("ANYEVENT_HOSTS", dir / "hosts");
  CHECK(hosts_of(resolve("alpha.test", "80")) == V{"10.0.0.1", "10.0.0.3", "2001:db8::5"});
  CHECK(hosts_of(resolve("ALPHA.TEST.", "80")) == V{"10.0.0.1", "10.0.0.3", "2001:db8::5"});
  CHECK(hosts_of(resolve("alpha-alias", "80")) == V{"10.0.0.1"});
  CHECK(hosts_of(resolve("beta.test", "80")) == V{"10.0.0.2"});  // CR is not part of the name
  CHECK(hosts_of(resolve("alpha.test", "80", "tcp", 6)) == V{"2001:db8::5"});
  CHECK(resolve("gamma.test", "80").empty());
  CHECK(hosts_of(resolve("short.test", "80")) == V{"127.0.0.1"});
  CHECK(hosts_of(resolve("last.test", "80")) == V{"10.0.0.9"});
  {
    scoped_env pref("ANYEVENT_PROTOCOLS", "ipv6,ipv4");
    CHECK(hosts_of(resolve("alpha.test", "80")) == V{"2001:db8::5", "10.0.0.1", "10.0.0.3"});
  }

  // Changed contents are picked up (the file's size differs, whatever the mtime says).
  write_file(dir / "hosts", "10.9.9.9 alpha.test\n");
  CHECK(hosts_of(resolve("alpha.test", "80")) == V{"10.9.9.9"});
}

TEST_CASE("resolve_sockaddr/hosts_file_nul_bytes") {
  temp_dir dir;
  std::string text = "10.0.0.1 before.test\n";
  text += "10.0.0.2 nul\0name.test clean.test\n"s;
  text += "\0\0\0\n"s;
  text += "10.0.0.3\0 hidden.test\n"s;  // the address token holds a NUL
  text += "10.0.0.4 after.test\n";
  write_file(dir / "hosts", text);
  scoped_env env("ANYEVENT_HOSTS", dir / "hosts");
  CHECK(hosts_of(resolve("before.test", "1")) == V{"10.0.0.1"});
  CHECK(hosts_of(resolve("clean.test", "1")) == V{"10.0.0.2"});
  CHECK(resolve("hidden.test", "1").empty());
  CHECK(hosts_of(resolve("after.test", "1")) == V{"10.0.0.4"});
  CHECK(resolve("nul", "1").empty());
}

TEST_CASE("resolve_sockaddr/hosts_file_big") {
  temp_dir dir;
  std::string text;
  text += "10.1.1.1 " + std::string(1 << 20, 'a') + " long-line.test\n";  // a 1 MiB line
  text += std::string(1 << 20, '#') + "\n";                              // a 1 MiB comment
  for (int i = 0; i < 10000; ++i)
    text += "10." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ".1 host" +
            std::to_string(i) + ".test\n";
  text += "10.2.2.2 final.test\n";
  write_file(dir / "hosts", text);
  scoped_env env("ANYEVENT_HOSTS", dir / "hosts");
  CHECK(hosts_of(resolve("long-line.test", "1")) == V{"10.1.1.1"});
  CHECK(hosts_of(resolve(std::string(1 << 20, 'a'), "1")) == V{"10.1.1.1"});
  CHECK(hosts_of(resolve("host0.test", "1")) == V{"10.0.0.1"});
  CHECK(hosts_of(resolve("host9999.test", "1")) == V{"10.39.15.1"});
  CHECK(hosts_of(resolve("final.test", "1")) == V{"10.2.2.2"});
}

TEST_CASE("resolve_sockaddr/hosts_file_not_regular") {
  temp_dir dir;
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  {
    scoped_env env("ANYEVENT_HOSTS", dir / "fifo");  // must not block the loop
    CHECK(resolve("anything.test", "1").empty());
  }
  {
    scoped_env env("ANYEVENT_HOSTS", dir.path());  // a directory
    CHECK(resolve("anything.test", "1").empty());
  }
}
