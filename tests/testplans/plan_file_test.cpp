// Reading a plan file (load_plan_file): the text is kept verbatim, errors
// name the file as given, and the 1 MiB cap is applied before reading. The
// YAML-level rules themselves are tests/yaml/strict_yaml_test.cpp; here a
// plan shows that its loader reads through them.

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "tests/testplans/plan_test_support.hpp"

namespace kiln::plan {
namespace {

using testing::only_error;

TEST(PlanStrictYaml, ThePlanLoaderReadsThroughTheStrictRules) {
  EXPECT_TRUE(only_error(testing::load(R"(plan: t
seed: 1
steps:
  - {name: a, pattern: idle, duration: 1s}
seed: 2
)"),
                         "p.yaml:5:1: duplicate key 'seed' (first at line 2)"));
  EXPECT_TRUE(only_error(testing::load(R"(plan: t
description:
steps:
  - {name: a, pattern: idle, duration: 1s}
)"),
                         "p.yaml:2:1: description: expected a string, got a null"));
  EXPECT_TRUE(only_error(testing::load(R"(plan: t
steps:
  - {name: a, pattern: gemm, duration: 1s, params: {m: "8192"}}
)"),
                         "p.yaml:3:56: steps[0].params.m: expected an integer, got \"8192\" (quoted, so a string)"));
}

class PlanFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kiln_testplans_" + std::to_string(::getpid()) + "_" +
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
