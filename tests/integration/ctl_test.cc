// cordonctl as an administrator and the security office use it: tables for
// people, JSON for programs, errors on stderr with a non-zero exit.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/campus.h"

namespace cordon::testing {
namespace {

class CtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("ctl");
    daemon_ = std::make_unique<DaemonUnderTest>(dir_);
    daemon_->Start();
  }
  void TearDown() override {
    daemon_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  RunResult Cordonctl(std::vector<std::string> args) {
    args.insert(args.begin(), {CordonctlPath(), "--daemon", daemon_->address()});
    return cordon::testing::Run(args, dir_);
  }
  std::string dir_;
  std::unique_ptr<DaemonUnderTest> daemon_;
};

const char* kBadRoster =
    "external_id,name,category,cohort,credential,active,valid_until\n"
    "S1,Li Na,student,dorm-7,CARD-1,,\n"
    "S2,Wang Fang,studnet,dorm-7,CARD-2,,\n"
    "S3,Zhou Jie,student,dorm-7,CARD-1,,\n"
    "S4,Sun Li,student,dorm-7,CARD-4,perhaps,\n"
    "S1,Li Na again,student,dorm-8,CARD-5,,\n"
    "T1,Chen Gang,resident_staff,canteen,CARD-T1,,\n";

TEST_F(CtlTest, ARosterWithBadRowsImportsNothingAndReportsEveryBadLine) {
  WriteFile(dir_ + "/roster.csv", kBadRoster);
  auto r = Cordonctl({"roster", "import", dir_ + "/roster.csv"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  for (const char* expected : {"3     category", "4     credential   also on line 2",
                               "5     active", "6     external_id  'S1' is also on line 2",
                               "Nothing was imported"}) {
    EXPECT_NE(r.out.find(expected), std::string::npos) << "missing '" << expected << "' in\n"
                                                       << r.out;
  }
  auto list = Cordonctl({"person", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("0 of 0 people"), std::string::npos) << list.out;
}

TEST_F(CtlTest, SkipBadRowsImportsTheGoodOnes) {
  WriteFile(dir_ + "/roster.csv", kBadRoster);
  auto r = Cordonctl({"roster", "import", dir_ + "/roster.csv", "--skip-bad-rows"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2 added"), std::string::npos) << r.out;
  auto list = Cordonctl({"person", "list"});
  EXPECT_NE(list.out.find("S1           Li Na      student"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("T1"), std::string::npos);
  EXPECT_EQ(list.out.find("S3"), std::string::npos);
}

TEST_F(CtlTest, JsonOutputIsForPrograms) {
  ASSERT_EQ(Cordonctl({"person", "add", "S1", "--name", "Li Na", "--category", "student",
                 "--credential", "CARD-1"}).exit_code, 0);
  auto r = Cordonctl({"--json", "person", "show", "S1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  google::protobuf::Struct obj;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &obj).ok()) << r.out;
  const auto& person = obj.fields().at("person").struct_value().fields();
  EXPECT_EQ(person.at("external_id").string_value(), "S1");
  EXPECT_EQ(person.at("category").string_value(), "PERSON_CATEGORY_STUDENT");
  EXPECT_EQ(person.at("credential_count").number_value(), 1);
  EXPECT_EQ(obj.fields().at("on_campus").bool_value(), false);
  EXPECT_EQ(r.out.find("CARD-1"), std::string::npos) << "credentials are never returned";
}

TEST_F(CtlTest, ErrorsGoToStderrWithANonZeroExit) {
  auto missing = Cordonctl({"person", "show", "NOPE"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_NE(missing.err.find("person 'NOPE' not found (NOT_FOUND)"), std::string::npos)
      << missing.err;

  auto bad_time = Cordonctl({"quarantine", "set", "S1", "--until", "next tuesday"});
  EXPECT_EQ(bad_time.exit_code, 2);
  EXPECT_NE(bad_time.err.find("--until: 'next tuesday' is not a time"), std::string::npos)
      << bad_time.err;

  auto usage = Cordonctl({"quarantine", "set", "S1"});
  EXPECT_EQ(usage.exit_code, 2) << "--until is required";

  auto bad_category = Cordonctl({"person", "add", "S9", "--name", "X", "--category", "teacher"});
  EXPECT_EQ(bad_category.exit_code, 2);

  ASSERT_EQ(Cordonctl({"person", "add", "S1", "--name", "Li Na", "--category", "student"}).exit_code, 0);
  auto pass_for_student = Cordonctl({"pass", "issue", "S1", "--host", "T1", "--until", "+2h"});
  EXPECT_EQ(pass_for_student.exit_code, 1);
  EXPECT_NE(pass_for_student.err.find("passes are for single_visit and contractor"),
            std::string::npos) << pass_for_student.err;
}

TEST_F(CtlTest, AnUnreachableDaemonIsReportedClearly) {
  auto r = cordon::testing::Run({CordonctlPath(), "--daemon", "127.0.0.1:1", "--timeout-s", "3", "gate", "list"},
               dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot reach cordond at 127.0.0.1:1"), std::string::npos) << r.err;
}

TEST_F(CtlTest, TheSecurityOfficeSeesMovementsAndWhoIsOnCampus) {
  daemon_->RegisterGate("north-1");
  ASSERT_EQ(Cordonctl({"person", "add", "S1", "--name", "Li Na", "--category", "student",
                 "--credential", "CARD-1", "--cohort", "dorm-7"}).exit_code, 0);
  WriteLines(dir_ + "/scans.txt", {"CARD-1 in", "CARD-1 out", "CARD-1 in"});
  GateUnderTest gate(dir_, "north-1");
  gate.Start(daemon_->address(), dir_ + "/scans.txt");
  ASSERT_EQ(gate.Wait(In(std::chrono::seconds(60))), 0);

  auto moves = Cordonctl({"movements", "S1", "--from", "-1h"});
  ASSERT_EQ(moves.exit_code, 0) << moves.err;
  EXPECT_NE(moves.out.find("3 movement(s)\n"), std::string::npos) << moves.out;
  auto csv = Cordonctl({"movements", "S1", "--csv"});
  EXPECT_EQ(csv.out.rfind("occurred_at,person,gate,direction,allowed,reason", 0), 0u) << csv.out;
  EXPECT_NE(csv.out.find(",S1,north-1,out,true,ALLOW_STUDENT,,campus,daemon,"), std::string::npos);

  auto presence = Cordonctl({"presence"});
  EXPECT_NE(presence.out.find("S1           Li Na  student   dorm-7"), std::string::npos)
      << presence.out;
  EXPECT_NE(presence.out.find("1 on campus: 1 student"), std::string::npos);
}

}  // namespace
}  // namespace cordon::testing
