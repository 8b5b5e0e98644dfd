// Channel credentials for cordon's clients (cordon-gate, cordonctl): mutual
// TLS with a certificate from the campus CA, whose subject carries the
// client's role (OU) and name (CN; a gate's CN is its gate id). Plain text
// only when asked for explicitly.
#pragma once

#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cordon::tls {

struct ClientTls {
  std::string ca_file;    // the campus CA certificate (PEM)
  std::string cert_file;  // this client's certificate (PEM)
  std::string key_file;   // its private key (PEM)
  bool insecure = false;  // plain text: development only
};

// The text of a PEM file; an error names `what` and the path.
absl::StatusOr<std::string> ReadPemFile(const std::string& what, const std::string& path);

// Fills unset files from the environment: CORDON_TLS_CA, CORDON_TLS_CERT,
// CORDON_TLS_KEY (and CORDON_INSECURE=1).
ClientTls FromEnvironment(ClientTls given);

// An error names the missing or unreadable file and how to get one.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(const ClientTls& tls);

}  // namespace cordon::tls
