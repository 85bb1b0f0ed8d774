// The YAML-level rules of DESIGN §4, seen through the plan loader as a user
// sees them: yaml-cpp's leniencies (duplicate keys, anchors and aliases,
// tags, several documents, unbounded size and depth) are all refused with
// the position of the offending text.

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "tests/testplans/plan_test_support.hpp"

namespace kiln::plan {
namespace {

using testing::has_error;
using testing::load;
using testing::only_error;

TEST(StrictYaml, DuplicateKeyIsAnErrorNamingTheFirst) {
  const auto result = load(R"(plan: t
seed: 1
steps:
  - {name: a, pattern: idle, duration: 1s}
seed: 2
)");
  EXPECT_TRUE(only_error(result, "p.yaml:5:1: duplicate key 'seed' (first at line 2)"));
}

TEST(StrictYaml, DuplicateKeyInsideAFlowMappingIsAnError) {
  const auto result = load(R"(plan: t
steps:
  - {name: a, pattern: gemm, duration: 1s, params: {m: 1, m: 2}}
)");
  EXPECT_TRUE(only_error(result, "p.yaml:3:59: duplicate key 'm' (first at line 3)"));
}

TEST(StrictYaml, AnchorAndAliasAreRejectedWhereTheyAre) {
  const auto result = load(R"(plan: t
steps:
  - &base {name: a, pattern: idle, duration: 1s}
  - *base
)");
  ASSERT_FALSE(result.plan);
  ASSERT_EQ(result.diagnostics.size(), 2u) << testing::all_messages(result);
  EXPECT_EQ(result.diagnostics[0].to_string(), "p.yaml:3:5: anchors (&base) are not allowed");
  EXPECT_EQ(result.diagnostics[1].to_string(), "p.yaml:4:5: aliases (*base) are not allowed");
}

// yaml-cpp would share the aliased nodes and a naive walk would visit 9^9
// (387 million) of them; the strict reader refuses at the first alias.
TEST(StrictYaml, BillionLaughsAliasBombIsRejectedFast) {
  std::string bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n";
  for (char level = 'b'; level <= 'i'; ++level) {
    const char prev = static_cast<char>(level - 1);
    bomb += fmt::format("{0}: &{0} [*{1},*{1},*{1},*{1},*{1},*{1},*{1},*{1},*{1}]\n", level, prev);
  }
  ASSERT_LT(bomb.size(), 320u);

  const auto start = std::chrono::steady_clock::now();
  const auto result = load(bomb);
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_FALSE(result.plan);
  EXPECT_LT(elapsed, std::chrono::seconds(1));
  EXPECT_TRUE(has_error(result, "p.yaml:1:4: anchors (&a) are not allowed"));
  EXPECT_TRUE(has_error(result, "p.yaml:2:8: aliases (*a) are not allowed"));
  // One report per anchor and its first use, not one per alias (81).
  EXPECT_EQ(result.diagnostics.size(), 17u) << testing::all_messages(result);
}

TEST(StrictYaml, ExplicitTagIsRejected) {
  const auto result = load(R"(plan: t
seed: !!str 7
steps:
  - {name: a, pattern: idle, duration: 1s}
)");
  EXPECT_TRUE(only_error(result, "p.yaml:2:7: explicit tags (tag:yaml.org,2002:str) are not allowed"));
}

TEST(StrictYaml, SecondDocumentIsRejectedAtItsStart) {
  const auto result = load(R"(plan: t
steps:
  - {name: a, pattern: idle, duration: 1s}
---
plan: u
)");
  EXPECT_TRUE(only_error(result, "p.yaml:4:1: only one YAML document per file is allowed"));
}

TEST(StrictYaml, DeepNestingIsRejectedAtTheLevelThatIsTooDeep) {
  const std::string deep = "plan: t\nsteps: " + std::string(100, '[') + std::string(100, ']') + "\n";
  // The top-level mapping is level 1, so the 32nd '[' (column 39) would be level 33.
  EXPECT_TRUE(only_error(load(deep), "p.yaml:2:39: nesting deeper than 32 levels"));
}

TEST(StrictYaml, TextOverOneMebibyteIsRejectedUnparsed) {
  const std::string big = "plan: t\ndescription: " + std::string(1 << 20, 'x') + "\n";
  EXPECT_TRUE(only_error(load(big), fmt::format("p.yaml: file is {} bytes, larger than the 1048576 byte limit",
                                                 big.size())));
}

TEST(StrictYaml, SyntaxErrorHasAPosition) {
  const auto result = load("plan: t\nsteps: [a, b\nrepeat: 1\n");
  ASSERT_FALSE(result.plan);
  ASSERT_EQ(result.diagnostics.size(), 1u) << testing::all_messages(result);
  EXPECT_GT(result.diagnostics[0].mark.line, 1u);
  EXPECT_NE(result.diagnostics[0].message.find("end of sequence flow not found"), std::string::npos);
}

TEST(StrictYaml, EmptyFileIsAnError) {
  EXPECT_TRUE(only_error(load(""), "p.yaml:1:1: the file is empty"));
  EXPECT_TRUE(only_error(load("# nothing but a comment\n"), "p.yaml:1:1: the file is empty"));
}

// Regression: yaml-cpp marks an empty value where the next line starts,
// which pointed users at the wrong key.
TEST(StrictYaml, EmptyValueIsReportedAtItsKey) {
  const auto result = load(R"(plan: t
description:
steps:
  - {name: a, pattern: idle, duration: 1s}
)");
  EXPECT_TRUE(only_error(result, "p.yaml:2:1: description: expected a string, got a null"));
}

TEST(StrictYaml, QuotedNumberIsAString) {
  const auto result = load(R"(plan: t
steps:
  - {name: a, pattern: gemm, duration: 1s, params: {m: "8192"}}
)");
  EXPECT_TRUE(only_error(result, "p.yaml:3:56: steps[0].params.m: expected an integer, got \"8192\" (quoted, so a string)"));
}

class PlanFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kiln_testplans_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(PlanFileTest, ReadsAFileAndKeepsItVerbatim) {
  const std::string text = "plan: t   # comment kept\nsteps:\n  - {name: a, pattern: idle, duration: 1s}\n";
  std::ofstream(path("t.yaml")) << text;
  const auto result = load_plan_file(path("t.yaml"), testing::builtin_registry());
  ASSERT_TRUE(result.plan) << testing::all_messages(result);
  EXPECT_EQ(result.plan->text, text);
  EXPECT_EQ(result.plan->source_path, path("t.yaml"));
}

TEST_F(PlanFileTest, ErrorsNameTheFileAsGiven) {
  std::ofstream(path("bad.yaml")) << "plan: t\nsteps: []\n";
  const auto result = load_plan_file(path("bad.yaml"), testing::builtin_registry());
  EXPECT_TRUE(only_error(result, path("bad.yaml") + ":2:8: steps: the plan has no steps"));
}

TEST_F(PlanFileTest, MissingFileIsOneCannotReadError) {
  const auto result = load_plan_file(path("missing.yaml"), testing::builtin_registry());
  EXPECT_TRUE(only_error(result, path("missing.yaml") + ": cannot read: No such file or directory"));
}

TEST_F(PlanFileTest, DirectoryIsOneCannotReadError) {
  const auto result = load_plan_file(dir_.string(), testing::builtin_registry());
  EXPECT_TRUE(only_error(result, dir_.string() + ": cannot read: Is a directory"));
}

TEST_F(PlanFileTest, FileOverOneMebibyteIsRefusedWithoutReadingIt) {
  // A sparse 4 GiB file: reading it whole would take seconds and 4 GiB of
  // memory, and only a stat can know its full size for the message.
  { std::ofstream(path("huge.yaml")) << "plan: t\n"; }
  std::filesystem::resize_file(path("huge.yaml"), 4ull << 30);
  const auto start = std::chrono::steady_clock::now();
  const auto result = load_plan_file(path("huge.yaml"), testing::builtin_registry());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_TRUE(only_error(result, path("huge.yaml") + ": file is 4294967296 bytes, larger than the 1048576 byte limit"));
}

TEST_F(PlanFileTest, FileOfExactlyOneMebibyteIsRead) {
  std::string text = "plan: t\nsteps:\n  - {name: a, pattern: idle, duration: 1s}\n";
  text += "# " + std::string((1u << 20) - text.size() - 3, 'x') + "\n";
  ASSERT_EQ(text.size(), 1u << 20);
  std::ofstream(path("max.yaml")) << text;
  const auto result = load_plan_file(path("max.yaml"), testing::builtin_registry());
  EXPECT_TRUE(result.plan) << testing::all_messages(result);
}

}  // namespace
}  // namespace kiln::plan
