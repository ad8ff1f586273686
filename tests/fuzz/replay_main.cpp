// A main() for the fuzz targets without libFuzzer: replays every file under the directories
// (or the files) named on the command line, then inputs generated here because they are too
// big to check in. `meson test --suite fuzz` runs it over tests/fuzz/corpus/<target>/.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::vector<std::string> generated_inputs() {
  const std::string mib(1 << 20, 'a');
  return {
      "[" + mib + "]:80",
      mib,
      std::string(1 << 20, ':'),
      std::string(1 << 20, '['),
      std::string(1 << 20, '0'),
      "0x" + std::string(1 << 20, '0') + "1",
      "::" + std::string(1 << 20, '1'),
      "/" + mib,
      mib + ":80",
  };
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "no corpus files found\n");
    return 2;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    run(input);
  }
  const auto extra = generated_inputs();
  for (const auto& input : extra) run(input);
  std::printf("replayed %zu corpus files and %zu generated inputs\n", files.size(), extra.size());
  return 0;
}
