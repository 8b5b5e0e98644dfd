// libFuzzer: what a gate (a device in a public place) sends: a GateMessage
// in any bytes. Parsed, its fields checked as the daemon checks them, and
// each scan decided by the engine against the sample closed-management
// policy, so a hostile gate reaches every rule.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>

#include <google/protobuf/stubs/logging.h>

#include "cordon/v1/gate.pb.h"
#include "core/campus_state.h"
#include "core/credential.h"
#include "core/engine.h"
#include "core/identifiers.h"
#include "core/policy_snapshot.h"
#include "policydoc/policy_document.h"

namespace {

struct Campus {
  cordon::PolicySnapshot policy;
  cordon::CampusState state;
  cordon::CredentialHasher hasher{std::string(32, 'k')};
  Campus() {
    google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 is refused, not worth a line each
    std::ifstream in(CORDON_SOURCE_DIR "/deploy/etc/campus-policy.yaml");
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = cordon::policydoc::ParsePolicyDocument(text.str());
    if (parsed.ok()) policy.SetZones(parsed.policy);
  }
};

void Scan(Campus& c, const cordon::v1::Scan& scan, std::string_view gate) {
  if (!cordon::CheckCredential(scan.credential()).empty()) return;  // refused, as the daemon does
  auto direction = scan.direction() == cordon::v1::DIRECTION_OUT ? cordon::Direction::kOut
                                                                  : cordon::Direction::kIn;
  int64_t seconds = scan.gate_time().seconds() % (int64_t{400} * 365 * 86400);
  cordon::TimePoint at = cordon::FromUnixMicros(1'790'000'000'000'000 + seconds);
  cordon::Decision d = cordon::Decide(
      c.policy, c.state, cordon::ScanInput{c.hasher.Hash(scan.credential()), direction, gate}, at);
  (void)d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Campus campus;
  cordon::v1::GateMessage m;
  if (!m.ParseFromArray(data, static_cast<int>(size))) return 0;
  switch (m.kind_case()) {
    case cordon::v1::GateMessage::kHello:
      (void)cordon::CheckGateId(m.hello().gate_id());
      break;
    case cordon::v1::GateMessage::kScan:
      Scan(campus, m.scan(), "north-1");
      break;
    case cordon::v1::GateMessage::kScanBatch:
      if (m.scan_batch().scans_size() > 1024) return 0;
      for (const auto& s : m.scan_batch().scans()) Scan(campus, s, "canteen-1-door");
      break;
    case cordon::v1::GateMessage::kDisinfection:
      (void)cordon::CheckCredential(m.disinfection().credential());
      break;
    default:
      break;
  }
  return 0;
}
