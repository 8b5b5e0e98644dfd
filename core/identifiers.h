// Shape rules for identifiers that cross the wire or come from files. Each
// check returns an empty string when the value is fine, or what is wrong with
// it; the caller names the field.
#pragma once

#include <string>
#include <string_view>

namespace cordon {

inline constexpr size_t kMaxCredentialLength = 128;
inline constexpr size_t kMaxGateIdLength = 64;
inline constexpr size_t kMaxExternalIdLength = 64;
inline constexpr size_t kMaxNameLength = 200;
inline constexpr size_t kMaxFreeTextLength = 500;

// 1-128 printable ASCII characters, no spaces (scanners emit "CRED in").
std::string CheckCredential(std::string_view credential);
// 1-64 of [A-Za-z0-9._-].
std::string CheckGateId(std::string_view gate_id);
// 1-64 printable ASCII characters, no spaces.
std::string CheckExternalId(std::string_view external_id);
// 1-200 bytes of valid UTF-8 without control characters.
std::string CheckName(std::string_view name);
// 0-500 bytes of valid UTF-8 without control characters (reasons, hosts).
std::string CheckFreeText(std::string_view text);

// Masks a name for public displays: the first character of each word is kept,
// the rest become '*' ("Zhang Wei" -> "Z**** W**", "张伟" -> "张*").
std::string MaskName(std::string_view name);

}  // namespace cordon
