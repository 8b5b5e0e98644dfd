// Helpers for operating a daemon under test: Prometheus scrapes over real
// HTTP, grpc.health.v1 checks, port files.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "tests/support/process.h"

namespace cordon::testing {

// GET http://127.0.0.1:port/path; the body, or "" on any failure.
std::string HttpGet(int port, const std::string& path);
// The value of one series in a Prometheus text exposition, e.g.
// `cordon_scans_total{decision="allow",reason="ALLOW_STUDENT",source="daemon"}`.
std::optional<double> MetricValue(const std::string& exposition, const std::string& series);
// "SERVING", "NOT_SERVING", or "" when the check itself failed.
std::string HealthStatus(const std::shared_ptr<grpc::Channel>& channel);
// Waits for a port file and returns the port in it (0 on timeout).
int WaitForPortFile(const std::string& path, Deadline deadline);

}  // namespace cordon::testing
