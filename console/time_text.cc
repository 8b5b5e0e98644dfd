#include "console/time_text.h"

#include <cstdio>
#include <ctime>

namespace cordon::console {
namespace {

absl::Status Unrecognised(std::string_view text) {
  return absl::InvalidArgumentError(
      "'" + std::string(text) +
      "' is not a time: use now, +2h, -30m, +7d, 2026-11-22, 2026-11-22 08:30 or "
      "2026-11-22T08:30:00Z");
}

}  // namespace

absl::StatusOr<TimePoint> ParseTime(std::string_view text, TimePoint now) {
  std::string s(text);
  if (s == "now") return now;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    long long n = 0;
    char unit = 0;
    int consumed = 0;
    if (std::sscanf(s.c_str() + 1, "%lld%c%n", &n, &unit, &consumed) != 2 ||
        static_cast<size_t>(consumed) + 1 != s.size() || n < 0) {
      return Unrecognised(text);
    }
    int64_t secs = unit == 's' ? n : unit == 'm' ? n * 60 : unit == 'h' ? n * 3600
                                  : unit == 'd'   ? n * 86400 : -1;
    if (secs < 0) return Unrecognised(text);
    auto delta = std::chrono::seconds(secs);
    return s[0] == '+' ? now + delta : now - delta;
  }
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, consumed = 0;
  int64_t fraction_us = 0;
  char sep = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3 || consumed != 10) {
    return Unrecognised(text);
  }
  std::string rest = s.substr(10);
  bool utc = false;
  int offset_minutes = 0;
  if (!rest.empty()) {
    int n = 0;
    if (std::sscanf(rest.c_str(), "%c%2d:%2d%n", &sep, &h, &mi, &n) != 3 ||
        (sep != ' ' && sep != 'T')) {
      return Unrecognised(text);
    }
    rest = rest.substr(static_cast<size_t>(n));
    if (!rest.empty() && rest[0] == ':') {
      if (std::sscanf(rest.c_str(), ":%2d%n", &sec, &n) != 1) return Unrecognised(text);
      rest = rest.substr(static_cast<size_t>(n));
      if (!rest.empty() && rest[0] == '.') {  // fractional seconds, to the microsecond
        size_t i = 1;
        int64_t scale = 100'000;
        for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i, scale /= 10) {
          fraction_us += (rest[i] - '0') * scale;
        }
        if (i == 1) return Unrecognised(text);
        rest = rest.substr(i);
      }
    }
    if (rest == "Z") {
      utc = true;
    } else if (!rest.empty()) {
      int oh = 0, om = 0;
      char sign = rest[0];
      if ((sign != '+' && sign != '-') || std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &oh, &om, &n) != 2 ||
          static_cast<size_t>(n) + 1 != rest.size()) {
        return Unrecognised(text);
      }
      utc = true;
      offset_minutes = (sign == '+' ? 1 : -1) * (oh * 60 + om);
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    return Unrecognised(text);
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  tm.tm_isdst = -1;
  std::time_t t = utc ? timegm(&tm) - offset_minutes * 60 : mktime(&tm);
  if (t == -1) return Unrecognised(text);
  return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::from_time_t(t)) +
         Micros(fraction_us);
}

std::string FormatLocal(TimePoint t) {
  std::time_t secs = static_cast<std::time_t>(ToUnixMicros(t) / 1'000'000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string FormatUtc(TimePoint t) {
  int64_t us = ToUnixMicros(t);
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>((us / 1000) % 1000));
  return std::string(buf) + frac;
}

}  // namespace cordon::console
