// How cordonctl shows values: times, enumerations, CSV fields.
#pragma once

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <string>

#include "cordon/v1/common.pb.h"
#include "console/time_text.h"
#include "core/model.h"
#include "core/time.h"

namespace cordon::ctl {

using console::FormatLocal;
using google::protobuf::util::TimeUtil;

inline TimePoint FromTs(const google::protobuf::Timestamp& ts) {
  return FromUnixMicros(TimeUtil::TimestampToMicroseconds(ts));
}
inline google::protobuf::Timestamp ToTs(TimePoint t) {
  return TimeUtil::MicrosecondsToTimestamp(ToUnixMicros(t));
}
inline std::string When(const google::protobuf::Timestamp& ts, bool present) {
  return present ? FormatLocal(FromTs(ts)) : "-";
}

inline std::string CategoryText(v1::PersonCategory c) {
  if (c == v1::PERSON_CATEGORY_UNSPECIFIED) return "?";
  return std::string(CategoryName(static_cast<PersonCategory>(c)));
}

inline std::string ReasonText(v1::Reason r) { return v1::Reason_Name(r); }

inline std::string DirectionText(v1::Direction d) {
  return d == v1::DIRECTION_IN ? "in" : d == v1::DIRECTION_OUT ? "out" : "?";
}

inline std::string SourceText(v1::DecisionSource s) {
  return s == v1::DECISION_SOURCE_GATE_OFFLINE ? "gate-offline" : "daemon";
}

inline std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace cordon::ctl
