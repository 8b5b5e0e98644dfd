#include "core/credential.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <new>
#include <stdexcept>
#include <utility>

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

namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

constexpr size_t kSha256Block = 64;

MdCtx NewCtx() {
  MdCtx c(EVP_MD_CTX_new());
  if (!c) throw std::bad_alloc();
  return c;
}

void Check(int ok, const char* what) {
  if (ok != 1) throw std::runtime_error(std::string("credential hash: ") + what + " failed");
}

}  // namespace

// HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), RFC 2104. Each state
// has absorbed its padded key block; a hash copies it and goes on.
struct CredentialHasher::Prepared {
  MdCtx inner = NewCtx();
  MdCtx outer = NewCtx();
};

CredentialHasher::CredentialHasher(std::string key) : key_(std::move(key)) {
  if (key_.size() < 16) throw std::invalid_argument("campus secret must be at least 16 bytes");
  std::array<unsigned char, kSha256Block> block{};  // K': the key, hashed if longer than a block
  if (key_.size() > kSha256Block) {
    unsigned int n = 0;
    Check(EVP_Digest(key_.data(), key_.size(), block.data(), &n, EVP_sha256(), nullptr), "digest");
  } else {
    std::memcpy(block.data(), key_.data(), key_.size());
  }
  auto prepared = std::make_shared<Prepared>();
  std::array<unsigned char, kSha256Block> pad{};
  const std::pair<EVP_MD_CTX*, unsigned char> pads[] = {{prepared->inner.get(), 0x36},
                                                        {prepared->outer.get(), 0x5c}};
  for (auto [ctx, byte] : pads) {
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = static_cast<unsigned char>(block[i] ^ byte);
    Check(EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr), "init");
    Check(EVP_DigestUpdate(ctx, pad.data(), pad.size()), "update");
  }
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  prepared_ = std::move(prepared);
}

CredentialHash CredentialHasher::Hash(std::string_view credential) const {
  thread_local MdCtx work = NewCtx();
  unsigned char inner[EVP_MAX_MD_SIZE];
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  Check(EVP_MD_CTX_copy_ex(work.get(), prepared_->inner.get()), "copy");
  Check(EVP_DigestUpdate(work.get(), credential.data(), credential.size()), "update");
  Check(EVP_DigestFinal_ex(work.get(), inner, &n), "final");
  Check(EVP_MD_CTX_copy_ex(work.get(), prepared_->outer.get()), "copy");
  Check(EVP_DigestUpdate(work.get(), inner, n), "update");
  Check(EVP_DigestFinal_ex(work.get(), mac, &n), "final");
  CredentialHash h;
  std::memcpy(h.bytes.data(), mac, h.bytes.size());
  return h;
}

}  // namespace cordon
