// The c10k workload in an ae-bench built without libuv, net/ or handle/: c10k_built() is
// false, and ae-bench skips the workload before calling anything else here.
#include "bench.hpp"

namespace ae::bench {

bool c10k_built() { return false; }
c10k_result run_c10k_raw(const c10k_config&) { die("the c10k workload is not built in"); }
c10k_result run_c10k_ae(const c10k_config&, const std::string&) { die("the c10k workload is not built in"); }

}  // namespace ae::bench
