#include "daemon/simulate/policy_simulation.h"

namespace cordon::simulate {

SimulationReport Simulate(const PolicySnapshot& candidate, CampusState state,
                          std::span<const RecordedScan> scans) {
  SimulationReport report;
  report.decisions.reserve(scans.size());
  for (const RecordedScan& scan : scans) {
    Decision d = Decide(candidate, state, ScanInput{scan.credential, scan.direction, scan.gate_id},
                        scan.at);
    if (d.allowed) state.Apply(MovementOf(d, scan.direction, scan.at, scan.gate));
    ++report.scans;
    bool was_allowed = IsAllow(scan.recorded);
    if (d.reason != scan.recorded) ++report.changed;
    if (was_allowed && !d.allowed) ++report.new_denials[d.reason];
    if (!was_allowed && d.allowed) ++report.new_allows;
    if (was_allowed && d.reason == Reason::kDenyCohortSeparation) ++report.separations_prevented;
    report.decisions.push_back(
        SimulatedScan{scan.event_id, d.person, scan.recorded, d.reason, std::move(d.rule)});
  }
  return report;
}

}  // namespace cordon::simulate
