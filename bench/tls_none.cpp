// The tls workload in an ae-bench built without handle/: tls_built() is false, and ae-bench
// skips the workload before calling anything else here.
#include "bench.hpp"

namespace ae::bench {

bool tls_built() { return false; }

tls_peers::tls_peers() { die("the tls workload is not built in"); }
tls_peers::~tls_peers() = default;

tls_result run_tls_raw(const tls_config&, const tls_peers&) { die("the tls workload is not built in"); }
tls_result run_tls_ae(const tls_config&, const tls_peers&, const std::string&) { die("the tls workload is not built in"); }

}  // namespace ae::bench
