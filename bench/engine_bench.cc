// The in-memory cost of one scan in the daemon: hashing the credential,
// the decision (policy lookup by credential hash plus the rules, on a campus
// of 100,000 people with 18,000 inside), and the metrics it updates.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "core/engine.h"
#include "daemon/metrics/daemon_metrics.h"
#include "policydoc/policy_document.h"

namespace cordon {
namespace {

struct Campus {
  CredentialHasher hasher{std::string(32, 'k')};
  PolicySnapshot policy;
  CampusState state;
  std::vector<CredentialHash> cards;

  explicit Campus(int people) {
    TimePoint t0 = FromUnixMicros(1'790'000'000'000'000);
    for (int i = 1; i <= people; ++i) {
      Person p;
      p.id = i;
      p.external_id = "S" + std::to_string(i);
      p.name = "Student " + std::to_string(i);
      p.category = i % 50 == 0 ? PersonCategory::kResidentStaff : PersonCategory::kStudent;
      policy.PutPerson(p);
      cards.push_back(hasher.Hash("CARD-" + std::to_string(i)));
      policy.SetCredentials(i, {cards.back()});
      if (i % 100 == 0) policy.PutQuarantine(QuarantineOrder{i, i, t0, t0 + std::chrono::hours(240)});
      if (i <= people * 18 / 100) {
        Movement m{i, Direction::kIn, t0, 1};
        m.to_path = {"campus"};
        state.Apply(m);
      }
    }
  }
};

void BM_Decide(benchmark::State& st) {
  static Campus campus(100'000);
  std::mt19937 rng(1);
  TimePoint now = FromUnixMicros(1'790'000'100'000'000);
  for (auto _ : st) {
    const auto& card = campus.cards[rng() % campus.cards.size()];
    Decision d = Decide(campus.policy, campus.state, ScanInput{card, Direction::kIn}, now);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_Decide);

// The costliest path of the zone rules: the sample closed-management policy
// (deploy/etc/campus-policy.yaml), a student of dorm-a or dorm-b on campus
// entering the canteen, a restricted zone with time windows, a capacity
// and three separation rules. 100,000 people, 18,000 on campus.
void BM_DecideCanteenUnderClosedManagement(benchmark::State& st) {
  static Campus campus = [] {
    Campus c(100'000);
    std::ifstream in(std::string(CORDON_SOURCE_DIR) + "/deploy/etc/campus-policy.yaml");
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = policydoc::ParsePolicyDocument(text.str());
    if (!parsed.ok()) std::abort();
    c.policy.SetZones(parsed.policy);
    for (auto& [id, p] : c.policy.people.Edit()) {
      p.cohort = id % 2 ? "dorm-a" : "dorm-b";
      p.cohorts = {p.cohort};
    }
    return c;
  }();
  std::mt19937 rng(1);
  // Monday 11:20 at +08:00: inside dorm-a's lunch slot.
  TimePoint now = FromUnixMicros(int64_t{1'789'920'000 + 11 * 3600 + 20 * 60} * 1'000'000);
  for (auto _ : st) {
    const auto& card = campus.cards[rng() % (campus.cards.size() * 18 / 100)];
    Decision d = Decide(campus.policy, campus.state,
                        ScanInput{card, Direction::kIn, "canteen-1-door"}, now);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_DecideCanteenUnderClosedManagement);

// What metrics add to each scan in the daemon: one counter and one
// histogram observation (prometheus-cpp's histogram takes a mutex).
void BM_MetricsPerScan(benchmark::State& st) {
  prometheus::Registry registry;
  metrics::DaemonMetrics m(registry);
  for (auto _ : st) {
    m.CountScan(Reason::kAllowStudent, DecisionSource::kDaemon);
    m.ObserveDecision(std::chrono::nanoseconds(2500));
  }
}
BENCHMARK(BM_MetricsPerScan);

void BM_HashCredential(benchmark::State& st) {
  CredentialHasher hasher(std::string(32, 'k'));
  for (auto _ : st) benchmark::DoNotOptimize(hasher.Hash("CARD-0123456789"));
}
BENCHMARK(BM_HashCredential);

// The raw limit the decision was first compared with (issues 2 and 3):
// OpenSSL's one-shot HMAC-SHA256, which hashed each credential until the
// keyed states were prepared once (issue 7, eighth pass).
void BM_HmacOneShot(benchmark::State& st) {
  const std::string key(32, 'k');
  const std::string credential = "CARD-0123456789";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  for (auto _ : st) {
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(credential.data()), credential.size(), mac, &len);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_HmacOneShot);

}  // namespace
}  // namespace cordon

BENCHMARK_MAIN();
