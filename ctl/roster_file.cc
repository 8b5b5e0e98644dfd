#include "ctl/roster_file.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>

#include "console/time_text.h"
#include "ctl/csv.h"

namespace cordon::ctl {
namespace {

const std::vector<std::string> kColumns = {"external_id", "name",   "category",   "cohort",
                                           "credential",  "active", "valid_until"};

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

v1::RosterProblem Problem(int line, std::string field, std::string message) {
  v1::RosterProblem p;
  p.set_line(line);
  p.set_field(std::move(field));
  p.set_message(std::move(message));
  return p;
}

}  // namespace

absl::StatusOr<RosterFile> ReadRosterCsv(const std::string& text, TimePoint now) {
  auto records = ParseCsv(text);
  if (!records.ok()) return records.status();
  if (records->empty()) return absl::InvalidArgumentError("the file is empty: expected a header row");
  std::map<std::string, size_t> column;
  const CsvRecord& header = records->front();
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name = Trim(header.fields[i]);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    if (std::find(kColumns.begin(), kColumns.end(), name) == kColumns.end()) {
      return absl::InvalidArgumentError(
          "line 1: unknown column '" + name +
          "' (columns: external_id, name, category, cohort, credential, active, valid_until)");
    }
    if (!column.emplace(name, i).second) {
      return absl::InvalidArgumentError("line 1: column '" + name + "' appears twice");
    }
  }
  for (const char* required : {"external_id", "name", "category"}) {
    if (!column.count(required)) {
      return absl::InvalidArgumentError(std::string("line 1: the required column '") + required +
                                        "' is missing");
    }
  }

  RosterFile out;
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& rec = (*records)[r];
    if (rec.fields.size() != header.fields.size()) {
      out.problems.push_back(Problem(rec.line, "", "has " + std::to_string(rec.fields.size()) +
                                                       " fields, the header has " +
                                                       std::to_string(header.fields.size())));
      continue;
    }
    auto get = [&](const char* name) {
      auto it = column.find(name);
      return it == column.end() ? std::string() : Trim(rec.fields[it->second]);
    };
    v1::RosterRow row;
    row.set_line(rec.line);
    row.set_external_id(get("external_id"));
    row.set_name(get("name"));
    row.set_category(get("category"));
    row.set_cohort(get("cohort"));
    std::string creds = get("credential");
    for (size_t start = 0; start <= creds.size();) {
      size_t end = creds.find(';', start);
      if (end == std::string::npos) end = creds.size();
      std::string one = Trim(creds.substr(start, end - start));
      if (!one.empty()) row.add_credentials(one);
      start = end + 1;
    }
    std::string active = get("active");
    std::transform(active.begin(), active.end(), active.begin(), ::tolower);
    if (active.empty() || active == "true" || active == "yes" || active == "1") {
      row.set_active(true);
    } else if (active == "false" || active == "no" || active == "0") {
      row.set_active(false);
    } else {
      out.problems.push_back(Problem(rec.line, "active", "'" + active + "' is not true or false"));
      continue;
    }
    std::string until = get("valid_until");
    if (!until.empty()) {
      auto t = console::ParseTime(until, now);
      if (!t.ok()) {
        out.problems.push_back(Problem(rec.line, "valid_until", std::string(t.status().message())));
        continue;
      }
      TimePoint end_time = *t;
      if (until.size() == 10) end_time += std::chrono::hours(24);  // through that date
      int64_t us = ToUnixMicros(end_time);
      *row.mutable_valid_until() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(us);
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace cordon::ctl
