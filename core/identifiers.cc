#include "core/identifiers.h"

#include <cstdint>
#include <optional>

namespace cordon {
namespace {

bool IsPrintableNoSpace(char c) { return c > 0x20 && c < 0x7F; }

std::string CheckToken(std::string_view v, size_t max_len, const char* what) {
  if (v.empty()) return std::string("must not be empty");
  if (v.size() > max_len) {
    return "must be at most " + std::to_string(max_len) + " characters (got " +
           std::to_string(v.size()) + ")";
  }
  for (char c : v) {
    if (!IsPrintableNoSpace(c)) return std::string("must be ") + what;
  }
  return {};
}

// Decodes one UTF-8 code point at s[i]; advances i. nullopt if malformed.
std::optional<uint32_t> NextCodePoint(std::string_view s, size_t& i) {
  auto b0 = static_cast<uint8_t>(s[i]);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return std::nullopt;
  uint32_t cp = len == 1 ? b0 : b0 & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    auto b = static_cast<uint8_t>(s[i + k]);
    if ((b >> 6) != 0x2) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return std::nullopt;  // overlong, out of range or a surrogate
  }
  i += len;
  return cp;
}

std::string CheckText(std::string_view v, size_t max_len, bool allow_empty) {
  if (v.empty() && !allow_empty) return "must not be empty";
  if (v.size() > max_len) {
    return "must be at most " + std::to_string(max_len) + " bytes (got " +
           std::to_string(v.size()) + ")";
  }
  for (size_t i = 0; i < v.size();) {
    auto cp = NextCodePoint(v, i);
    if (!cp) return "must be valid UTF-8";
    if (*cp < 0x20 || *cp == 0x7F) return "must not contain control characters";
  }
  return {};
}

}  // namespace

std::string CheckCredential(std::string_view credential) {
  return CheckToken(credential, kMaxCredentialLength, "printable ASCII without spaces");
}

std::string CheckGateId(std::string_view gate_id) {
  if (auto problem = CheckToken(gate_id, kMaxGateIdLength, "letters, digits, '.', '_' or '-'");
      !problem.empty()) {
    return problem;
  }
  for (char c : gate_id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return "must be letters, digits, '.', '_' or '-'";
  }
  return {};
}

std::string CheckExternalId(std::string_view external_id) {
  return CheckToken(external_id, kMaxExternalIdLength, "printable ASCII without spaces");
}

std::string CheckName(std::string_view name) { return CheckText(name, kMaxNameLength, false); }

std::string CheckFreeText(std::string_view text) {
  return CheckText(text, kMaxFreeTextLength, true);
}

std::string MaskName(std::string_view name) {
  std::string out;
  bool word_start = true;
  for (size_t i = 0; i < name.size();) {
    size_t start = i;
    auto cp = NextCodePoint(name, i);
    if (!cp) {  // not UTF-8: mask the byte
      ++i;
      out.push_back('*');
      word_start = false;
      continue;
    }
    if (*cp == ' ') {
      out.push_back(' ');
      word_start = true;
    } else if (word_start) {
      out.append(name.substr(start, i - start));
      word_start = false;
    } else {
      out.push_back('*');
    }
  }
  return out;
}

}  // namespace cordon
