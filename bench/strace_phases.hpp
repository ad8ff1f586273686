// Syscall counts per measured phase, read from an `strace -f` log of a program that wrote
// markers around its phases: write(-1, "@@ae-budget begin NAME") … write(-1, "@@ae-budget
// end NAME") (the write fails with EBADF and costs nothing else). Shared by ae-budget and
// ae-connect-syscalls.
#pragma once

#include <cctype>
#include <fstream>
#include <map>
#include <string>

namespace ae_bench {

struct phase_count {
  long total = 0;
  std::map<std::string, long> by_name;
};

/// The syscalls logged between each phase's markers, by phase name. `empty`, when given,
/// tells whether the log held no line at all (strace could not trace).
inline std::map<std::string, phase_count> parse_strace(const std::string& path, bool* empty = nullptr) {
  std::map<std::string, phase_count> phases;
  std::ifstream in(path);
  std::string line, current;
  if (empty) *empty = true;
  while (std::getline(in, line)) {
    if (empty) *empty = false;
    const auto m = line.find("\"@@ae-budget ");
    if (m != std::string::npos) {
      const std::string body = line.substr(m + 13, line.find('"', m + 13) - (m + 13));
      if (body.rfind("begin ", 0) == 0) {
        current = body.substr(6);
        phases[current];
      } else {
        current.clear();
      }
      continue;
    }
    if (current.empty()) continue;
    // "PID  name(args) = result"; resumed calls and signal/exit lines are not new syscalls.
    std::size_t i = 0;
    while (i < line.size() && (std::isdigit(static_cast<unsigned char>(line[i])) || line[i] == ' ')) ++i;
    if (line.compare(i, 4, "<...") == 0 || line.compare(i, 3, "+++") == 0 || line.compare(i, 3, "---") == 0) continue;
    const auto paren = line.find('(', i);
    if (paren == std::string::npos) continue;
    auto& pc = phases[current];
    ++pc.total;
    ++pc.by_name[line.substr(i, paren - i)];
  }
  return phases;
}

}  // namespace ae_bench
