// Times people type, CSV as spreadsheets write it, roster files, tables.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "console/text.h"
#include "console/time_text.h"
#include "ctl/csv.h"
#include "ctl/roster_file.h"

namespace cordon {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::microseconds;
using std::chrono::milliseconds;
const TimePoint kNow = FromUnixMicros(1'790'000'000'000'000);

class TimeTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "Asia/Shanghai", 1);  // campus time, UTC+8, no DST
    tzset();
  }
  void TearDown() override {
    unsetenv("TZ");
    tzset();
  }
};

TEST_F(TimeTextTest, RelativeTimes) {
  EXPECT_EQ(*console::ParseTime("now", kNow), kNow);
  EXPECT_EQ(*console::ParseTime("+2h", kNow), kNow + hours(2));
  EXPECT_EQ(*console::ParseTime("-30m", kNow), kNow - minutes(30));
  EXPECT_EQ(*console::ParseTime("+7d", kNow), kNow + hours(24 * 7));
}

TEST_F(TimeTextTest, LocalAndExplicitOffsets) {
  auto utc = *console::ParseTime("2026-11-22T00:30:00Z", kNow);
  EXPECT_EQ(*console::ParseTime("2026-11-22 08:30", kNow), utc) << "local = UTC+8";
  EXPECT_EQ(*console::ParseTime("2026-11-22T08:30:00+08:00", kNow), utc);
  EXPECT_EQ(console::FormatLocal(utc), "2026-11-22 08:30:00");
  EXPECT_EQ(console::FormatUtc(utc), "2026-11-22T00:30:00.000Z");
  // Fractions of a second count (a time printed by one command, read by another).
  EXPECT_EQ(*console::ParseTime("2026-11-22T00:30:00.761Z", kNow), utc + milliseconds(761));
  EXPECT_EQ(*console::ParseTime("2026-11-22T00:30:00.000005Z", kNow), utc + microseconds(5));
  EXPECT_FALSE(console::ParseTime("2026-11-22T00:30:00.Z", kNow).ok());
}

TEST_F(TimeTextTest, RejectsWhatIsNotATime) {
  for (const char* bad : {"tomorrow", "+2x", "2026-13-01", "2026-11-22 25:00", "2026-11-22Tx", ""}) {
    EXPECT_FALSE(console::ParseTime(bad, kNow).ok()) << bad;
  }
}

TEST(Csv, QuotesCommasNewlinesAndCrlf) {
  auto r = ctl::ParseCsv("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\n\nlast,1");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[1].fields[0], "x, y");
  EXPECT_EQ((*r)[1].fields[1], "say \"hi\"");
  EXPECT_EQ((*r)[2].fields[0], "multi\nline");
  EXPECT_EQ((*r)[3].line, 6) << "records know the line they start on";
}

TEST(Csv, ErrorsNameTheLine) {
  auto r = ctl::ParseCsv("a,b\nok,1\n\"open,2\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("unterminated"), std::string::npos);
  auto q = ctl::ParseCsv("a,b\nbad\"quote,1\n");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(std::string(q.status().message()).rfind("line 2:", 0), 0u) << q.status();
}

TEST(RosterFile, MapsColumnsInAnyOrderAndReportsBadRows) {
  auto f = ctl::ReadRosterCsv(
      "name,external_id,category,credential,active,valid_until\n"
      "Li Na,S1,student,C1;C2,yes,\n"
      "Wang,S2,student,,maybe,\n"
      "Zhou,S3,student,,,next week\n"
      "Short,S4\n",
      kNow);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->rows.size(), 1u);
  EXPECT_EQ(f->rows[0].credentials_size(), 2);
  EXPECT_EQ(f->rows[0].line(), 2);
  ASSERT_EQ(f->problems.size(), 3u);
  EXPECT_EQ(f->problems[0].field(), "active");
  EXPECT_EQ(f->problems[1].field(), "valid_until");
  EXPECT_EQ(f->problems[2].line(), 5);
}

TEST(RosterFile, MissingOrUnknownColumnsAreAnError) {
  EXPECT_FALSE(ctl::ReadRosterCsv("external_id,name\nS1,Li\n", kNow).ok());
  EXPECT_FALSE(ctl::ReadRosterCsv("external_id,name,category,shoe_size\n", kNow).ok());
  EXPECT_FALSE(ctl::ReadRosterCsv("", kNow).ok());
}

TEST(Table, AlignsWideCharacters) {
  console::Table t({"ID", "NAME"});
  t.AddRow({"S1", "王芳"});
  t.AddRow({"S22", "Li"});
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(out.str(), "ID   NAME\n---  ----\nS1   王芳\nS22  Li\n");
}

TEST(Json, EscapesQuotesAndControls) {
  EXPECT_EQ(console::JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace
}  // namespace cordon
