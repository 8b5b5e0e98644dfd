#include "ctl/csv.h"

namespace cordon::ctl {

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // spreadsheet BOM
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  int line = 1;
  record.line = 1;
  bool in_quotes = false;
  bool field_was_quoted = false;
  bool after_quote = false;  // just closed a quoted field
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError("line " + std::to_string(line) + ": " + what);
  };
  auto end_record = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    bool blank = record.fields.size() == 1 && record.fields[0].empty() && !field_was_quoted;
    if (!blank) records.push_back(std::move(record));
    record = CsvRecord{};
    record.line = line;
    field_was_quoted = false;
    after_quote = false;
  };

  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == ',') {
      record.fields.push_back(std::move(field));
      field.clear();
      field_was_quoted = false;
      after_quote = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      end_record();
    } else if (c == '"') {
      if (!field.empty() || after_quote) return error("a quote inside an unquoted field");
      in_quotes = true;
      field_was_quoted = true;
    } else {
      if (after_quote) return error("text after a closing quote");
      field.push_back(c);
    }
  }
  if (in_quotes) return error("unterminated quoted field");
  if (!field.empty() || !record.fields.empty() || field_was_quoted) end_record();
  return records;
}

}  // namespace cordon::ctl
