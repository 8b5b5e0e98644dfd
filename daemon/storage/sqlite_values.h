// Conversions between domain values and how SQLite stores them (see schema.cc).
#pragma once

#include <cstdint>
#include <optional>

#include "core/time.h"
#include "sqlite/database.h"

namespace cordon::storage {

inline int64_t Us(TimePoint t) { return ToUnixMicros(t); }
inline std::optional<int64_t> Us(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return ToUnixMicros(*t);
}
inline std::optional<TimePoint> OptTime(const sqlite::Statement& s, int col) {
  auto v = s.OptInt(col);
  if (!v) return std::nullopt;
  return FromUnixMicros(*v);
}
// SQLite integers are signed 64-bit; incarnations are random unsigned 64-bit.
inline int64_t AsStored(uint64_t v) { return static_cast<int64_t>(v); }
inline uint64_t FromStored(int64_t v) { return static_cast<uint64_t>(v); }

}  // namespace cordon::storage
