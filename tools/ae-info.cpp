// ae-info: which backends this installation has, their library versions, and which one
// an empty ae::loop::create() would select, and why.
#include <anyevent/anyevent.hpp>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::puts("usage: ae-info [--errors]\n"
                "Lists anyevent's backends (built in or loadable modules), their library versions,\n"
                "and the one ANYEVENT_BACKEND selects. --errors also lists anyevent's error codes.");
      return 0;
    }
    if (std::strcmp(argv[i], "--errors")) {
      std::fprintf(stderr, "ae-info: unknown option '%s' (try --help)\n", argv[i]);
      return 2;
    }
  }
  std::puts("backends:");
  for (const auto& b : ae::describe_backends()) {
    if (b.available)
      std::printf("  %-9s yes  %-24s %s\n", b.name.c_str(), b.version.c_str(), b.where.c_str());
    else
      std::printf("  %-9s no   %s\n", b.name.c_str(), b.error.c_str());
  }
  std::printf("selected: %s\n", ae::describe_selection().c_str());
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--errors")) continue;
    std::puts("errors:");
    for (const auto& e : ae::error_table())
      std::printf("  %-22s %s\n", e.name, e.message);
  }
  return 0;
}
