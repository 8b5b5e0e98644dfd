#include "tls/client_credentials.h"

#include <grpcpp/security/credentials.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace cordon::tls {

absl::StatusOr<std::string> ReadPemFile(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + what + " '" + path + "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(what + " '" + path + "' is not a PEM file");
  }
  return text;
}

namespace {

void FromEnv(std::string& field, const char* name) {
  if (!field.empty()) return;
  if (const char* v = std::getenv(name)) field = v;
}

}  // namespace

ClientTls FromEnvironment(ClientTls given) {
  FromEnv(given.ca_file, "CORDON_TLS_CA");
  FromEnv(given.cert_file, "CORDON_TLS_CERT");
  FromEnv(given.key_file, "CORDON_TLS_KEY");
  // Certificates given win over CORDON_INSECURE (a test environment may set it).
  bool certified = !given.ca_file.empty() || !given.cert_file.empty();
  if (const char* v = std::getenv("CORDON_INSECURE"); v && std::string(v) == "1" && !certified) {
    given.insecure = true;
  }
  return given;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(const ClientTls& tls) {
  if (tls.insecure) return grpc::InsecureChannelCredentials();
  if (tls.ca_file.empty() || tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "mutual TLS needs --tls-ca, --tls-cert and --tls-key (or CORDON_TLS_CA, CORDON_TLS_CERT, "
        "CORDON_TLS_KEY); deploy/pki/cordon-pki issues them; --insecure for a daemon started "
        "with --insecure");
  }
  auto ca = ReadPemFile("CA certificate", tls.ca_file);
  if (!ca.ok()) return ca.status();
  auto cert = ReadPemFile("certificate", tls.cert_file);
  if (!cert.ok()) return cert.status();
  auto key = ReadPemFile("private key", tls.key_file);
  if (!key.ok()) return key.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = *ca;
  options.pem_cert_chain = *cert;
  options.pem_private_key = *key;
  return grpc::SslCredentials(options);
}

}  // namespace cordon::tls
