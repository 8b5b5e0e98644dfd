// Page sizes and page tokens shared by the list RPCs.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/time.h"

namespace cordon::rpc {

inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 10'000;

// 0 -> the default; otherwise clamped to [1, kMaxPageSize]. nullopt if < 0.
inline std::optional<int> PageSize(int requested) {
  if (requested < 0) return std::nullopt;
  if (requested == 0) return kDefaultPageSize;
  return requested > kMaxPageSize ? kMaxPageSize : requested;
}

// A (time, row id) cursor as "<unix micros>.<id>".
inline std::string TimeCursorToken(TimePoint at, int64_t id) {
  return std::to_string(ToUnixMicros(at)) + "." + std::to_string(id);
}

// nullopt for a malformed token.
inline std::optional<std::pair<TimePoint, int64_t>> ParseTimeCursorToken(const std::string& token) {
  auto dot = token.find('.');
  if (dot == std::string::npos) return std::nullopt;
  int64_t us = 0;
  int64_t id = 0;
  const char* b = token.data();
  auto r1 = std::from_chars(b, b + dot, us);
  auto r2 = std::from_chars(b + dot + 1, b + token.size(), id);
  if (r1.ec != std::errc() || r1.ptr != b + dot || r2.ec != std::errc() ||
      r2.ptr != b + token.size()) {
    return std::nullopt;
  }
  return std::make_pair(FromUnixMicros(us), id);
}

}  // namespace cordon::rpc
