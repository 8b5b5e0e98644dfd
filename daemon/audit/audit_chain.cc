#include "daemon/audit/audit_chain.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace cordon::audit {
namespace {

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// Length-prefixed, so no two different entries serialise alike.
void Append(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

}  // namespace

std::string ChainKey(std::string_view campus_secret) {
  return Hmac(campus_secret, "cordon audit chain v1");
}

std::string EntryHash(std::string_view key, std::string_view previous,
                      const storage::AuditEntry& e) {
  std::string data;
  Append(data, previous);
  Append(data, std::to_string(e.id));
  Append(data, std::to_string(ToUnixMicros(e.at)));
  Append(data, e.actor);
  Append(data, e.action);
  Append(data, e.purpose);
  Append(data, e.subject);
  Append(data, e.outcome);
  Append(data, std::to_string(e.rows));
  return Hmac(key, data);
}

std::string HeadTag(std::string_view key, int64_t head_id, std::string_view head_hash) {
  std::string data = "head ";
  Append(data, std::to_string(head_id));
  Append(data, head_hash);
  return Hmac(key, data);
}

std::string Problem::Describe() const {
  std::string ids = first_id == last_id
                        ? "entry " + std::to_string(first_id)
                        : "entries " + std::to_string(first_id) + "-" + std::to_string(last_id);
  return ids + " " + what;
}

ChainVerifier::ChainVerifier(std::string key, storage::AuditChainEnds ends)
    : key_(std::move(key)), ends_(std::move(ends)), expect_(ends_.anchor_id + 1),
      previous_(ends_.anchor_hash) {}

void ChainVerifier::Add(const storage::AuditEntry& e) {
  ++checked_;
  if (e.id < expect_) {
    problems_.push_back({e.id, e.id, "is out of order (before the chain's start, or repeated)"});
    return;
  }
  if (e.id > expect_) problems_.push_back({expect_, e.id - 1, "deleted"});
  // Each entry is checked against the predecessor hash it keeps, so one after
  // a gap is checked too; a kept hash that differs from the predecessor's
  // means one of the two was rewritten.
  bool bad = EntryHash(key_, e.prev_hash, e) != e.hash;
  if (bad) {
    problems_.push_back({e.id, e.id, "edited (its hash no longer matches)"});
  } else if (e.id == expect_ && e.prev_hash != previous_ && !previous_bad_) {
    problems_.push_back({e.id - 1, e.id - 1, "edited (the next entry no longer chains to it)"});
  }
  previous_bad_ = bad;
  previous_ = e.hash;
  expect_ = e.id + 1;
}

std::vector<Problem> ChainVerifier::Finish() {
  int64_t last = expect_ - 1;
  if (ends_.head_id > last) {
    problems_.push_back({last + 1, ends_.head_id, "deleted (cut from the end)"});
  } else if (ends_.head_id < last) {
    problems_.push_back({ends_.head_id + 1, last, "not written by cordond (after the chain's head)"});
  } else if (ends_.head_id > 0 && HeadTag(key_, ends_.head_id, previous_) != ends_.head_tag) {
    problems_.push_back({ends_.head_id, ends_.head_id, "edited (the chain's head no longer matches)"});
  }
  return std::move(problems_);
}

std::vector<Problem> VerifyChain(std::string_view key, const storage::AuditChainEnds& ends,
                                 std::span<const storage::AuditEntry> entries) {
  ChainVerifier v(std::string(key), ends);
  for (const storage::AuditEntry& e : entries) v.Add(e);
  return v.Finish();
}

}  // namespace cordon::audit
