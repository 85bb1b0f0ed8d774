#include "device/sku_search.hpp"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

namespace kiln::device {
namespace {

namespace fs = std::filesystem;

class SkuSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("kiln-sku-search-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string dir(const std::string& name) {
    fs::create_directories(root_ / name);
    return (root_ / name).string();
  }
  fs::path root_;
};

TEST_F(SkuSearchTest, AGivenDirectoryWinsAndAMissingOneIsAnErrorNotAFallback) {
  const std::string mine = dir("mine");
  EXPECT_EQ(find_sku_directory({mine, dir("env"), (root_ / "labs" / "x.yaml").string(), "", {}}).value(), mine);
  auto missing = find_sku_directory({(root_ / "nope").string(), dir("env"), "", "", {}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
}

TEST_F(SkuSearchTest, EnvironmentThenNextToTheLabThenInstalledThenFixed) {
  const std::string lab = (root_ / "site" / "labs" / "lab.yaml").string();
  const std::string program = (root_ / "prefix" / "bin" / "kiln").string();
  const std::string fixed = dir("fixed");
  SkuSearch search{"", (root_ / "absent").string() + ":" + dir("env"), lab, program, {fixed}};
  EXPECT_EQ(find_sku_directory(search).value(), (root_ / "env").string());
  search.env.clear();
  const std::string beside = dir("site/skus");
  EXPECT_EQ(find_sku_directory(search).value(), beside);
  fs::remove_all(beside);
  const std::string labs_skus = dir("site/labs/skus");
  EXPECT_EQ(find_sku_directory(search).value(), labs_skus);
  fs::remove_all(labs_skus);
  const std::string installed = dir("prefix/share/kiln/skus");
  EXPECT_EQ(find_sku_directory(search).value(), installed);
  fs::remove_all(installed);
  EXPECT_EQ(find_sku_directory(search).value(), fixed);
}

TEST_F(SkuSearchTest, NothingFoundNamesEveryPlaceTried) {
  const std::string lab = (root_ / "labs" / "lab.yaml").string();
  auto none = find_sku_directory({"", "", lab, "", {(root_ / "gone").string()}});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find((root_ / "labs" / "skus").string()), std::string::npos) << none.error().message;
  EXPECT_NE(none.error().message.find((root_ / "gone").string()), std::string::npos) << none.error().message;
  EXPECT_NE(none.error().message.find("KILN_SKU_PATH"), std::string::npos);
}

TEST(SkuSearch, ABuildTreeBinaryFindsTheShippedSkus) {
  const auto dirs = SkuSearch::builtin_sku_dirs();
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_TRUE(fs::is_directory(dirs.back())) << dirs.back();
}

}  // namespace
}  // namespace kiln::device
