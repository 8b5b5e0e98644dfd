#include "core/credential.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace cordon {

std::string HexOf(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<uint8_t>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

std::string CredentialHash::Hex() const { return HexOf(AsBytes()); }

CredentialHash CredentialHash::FromBytes(std::string_view b) {
  CredentialHash h;
  std::memcpy(h.bytes.data(), b.data(), std::min(b.size(), h.bytes.size()));
  return h;
}

std::string DeriveCredentialKey(std::string_view campus_secret) {
  static constexpr std::string_view kLabel = "cordon credential key v1";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), campus_secret.data(), static_cast<int>(campus_secret.size()),
       reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), mac, &mac_len);
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

CredentialHasher::CredentialHasher(std::string key) : key_(std::move(key)) {
  if (key_.size() < 16) throw std::invalid_argument("campus secret must be at least 16 bytes");
}

CredentialHash CredentialHasher::Hash(std::string_view credential) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(credential.data()), credential.size(), mac,
       &mac_len);
  CredentialHash h;
  std::memcpy(h.bytes.data(), mac, h.bytes.size());
  return h;
}

}  // namespace cordon
