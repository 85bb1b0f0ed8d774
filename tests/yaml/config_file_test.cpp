// Reading a configuration file with the 1 MiB cap (yaml/config_file.hpp):
// a file over the cap is refused from its size, before it is read.
#include "yaml/config_file.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace kiln::yaml {
namespace {

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kiln_yaml_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(ConfigFileTest, ReadsAFileWhole) {
  std::ofstream(path("lab.yaml")) << "lab: t\n";
  auto text = read_config_file(path("lab.yaml"));
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "lab: t\n");
}

TEST_F(ConfigFileTest, MissingFileAndDirectoryAreNotFound) {
  auto missing = read_config_file(path("missing.yaml"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_EQ(missing.error().message, path("missing.yaml") + ": no such file");
  EXPECT_EQ(read_config_file(dir_.string()).error().code, ErrorCode::not_found);
}

TEST_F(ConfigFileTest, AFileOverTheCapIsRefusedAndOneAtItIsRead) {
  { std::ofstream(path("huge.yaml")) << "lab: t\n"; }
  std::filesystem::resize_file(path("huge.yaml"), kMaxConfigBytes + 1);
  auto huge = read_config_file(path("huge.yaml"));
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(huge.error().message, path("huge.yaml") + ": file is 1048577 bytes, larger than the 1048576 byte limit");

  std::filesystem::resize_file(path("huge.yaml"), kMaxConfigBytes);
  auto max = read_config_file(path("huge.yaml"));
  ASSERT_TRUE(max) << max.error().message;
  EXPECT_EQ(max->size(), kMaxConfigBytes);
}

}  // namespace
}  // namespace kiln::yaml
