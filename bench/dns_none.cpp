// The dns workload in an ae-bench built without net/ or c-ares: dns_built() is false, and
// ae-bench skips the workload before calling anything else here.
#include "bench.hpp"

namespace ae::bench {

bool dns_built() { return false; }

struct dns_responder::impl {};

dns_responder::dns_responder() { die("the dns workload is not built in"); }
dns_responder::~dns_responder() = default;
std::string dns_responder::server() const { return {}; }

void dns_library_init() { die("the dns workload is not built in"); }
dns_result run_dns_raw(const dns_config&, const dns_responder&) { die("the dns workload is not built in"); }
dns_result run_dns_ae(const dns_config&, const dns_responder&, const std::string&) {
  die("the dns workload is not built in");
}

}  // namespace ae::bench
