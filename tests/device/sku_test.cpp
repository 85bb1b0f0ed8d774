#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "device/sku.hpp"
#include "tests/device/test_support.hpp"

namespace kiln::device {
namespace {

using test::position_of;

std::string minimal_sku(std::string_view name, std::string_view extra = "") {
  return std::string("sku: ") + std::string(name) + R"(
peak_tflops: {bf16: 100, fp8: 200}
cores: 2
pe_rows: 4
pe_cols: 8
hbm_stacks: 2
hbm_channels_per_stack: 8
hbm_capacity_gib: 16
hbm_bandwidth_gbps: 1000
links: 2
link_bandwidth_gbps: 50
tdp_w: 300
idle_w: 50
base_clock_mhz: 1000
max_clock_mhz: 1500
nominal_voltage_mv: 750
thermal_resistance_c_per_w: 0.2
thermal_capacitance_j_per_c: 150
throttle_c: 90
critical_c: 105
)" + std::string(extra);
}

struct SkuLoad {
  std::optional<Sku> sku;
  std::vector<std::string> errors;
};

SkuLoad load(std::string_view text) {
  yaml::Diagnostics diagnostics("sku.yaml");
  SkuLoad out;
  out.sku = load_sku(text, diagnostics);
  for (const auto& d : diagnostics.list()) out.errors.push_back(d.to_string());
  return out;
}

TEST(Sku, ShippedSkusLoadWithTheirPublishedFigures) {
  const auto& catalog = test::shipped_catalog();
  ASSERT_NE(catalog.find("trn2-sim"), nullptr);
  ASSERT_NE(catalog.find("h100-sim"), nullptr);

  const Sku& trn2 = test::trn2();
  EXPECT_EQ(trn2.peak(DType::bf16), 667);
  EXPECT_EQ(trn2.peak(DType::fp8), 1299);
  EXPECT_EQ(trn2.cores, 8);
  EXPECT_EQ(trn2.pe_rows, 128);
  EXPECT_EQ(trn2.pe_cols, 128);
  EXPECT_EQ(trn2.hbm_stacks, 4);
  EXPECT_EQ(trn2.hbm_capacity_gib, 96);

  const Sku& h100 = test::h100();
  EXPECT_EQ(h100.peak(DType::bf16), 989);
  EXPECT_EQ(h100.peak(DType::fp8), 1979);
  EXPECT_EQ(h100.peak(DType::fp32), 67);
  EXPECT_EQ(h100.cores, 132);
  EXPECT_EQ(h100.pe_rows, 16);
  EXPECT_EQ(h100.hbm_stacks, 5);
  EXPECT_EQ(h100.hbm_bandwidth_gbps, 3350);
  EXPECT_EQ(h100.links, 18);
  EXPECT_EQ(h100.tdp_w, 700);
  EXPECT_EQ(h100.max_clock_mhz, 1980);
}

TEST(Sku, ShippedThermalsSettleBelowThrottleWithHalfMinuteTimeConstant) {
  for (const Sku* sku : {&test::trn2(), &test::h100()}) {
    SCOPED_TRACE(sku->name);
    const double steady = 25.0 + sku->tdp_w * sku->thermal_resistance_c_per_w;
    EXPECT_GE(steady, 80.0);
    EXPECT_LE(steady, 85.0);
    const double tau = sku->thermal_resistance_c_per_w * sku->thermal_capacitance_j_per_c;
    EXPECT_GE(tau, 20.0);
    EXPECT_LE(tau, 40.0);
    EXPECT_LT(steady, sku->throttle_c);
    EXPECT_LT(sku->throttle_c, sku->critical_c);
  }
}

TEST(Sku, MinimalSkuLoadsAndUnsupportedDtypeHasNoPeak) {
  const auto result = load(minimal_sku("tiny"));
  ASSERT_TRUE(result.sku) << ::testing::PrintToString(result.errors);
  EXPECT_EQ(result.sku->name, "tiny");
  EXPECT_EQ(result.sku->peak(DType::fp8), 200);
  EXPECT_EQ(result.sku->peak(DType::fp32), 0);
  EXPECT_EQ(result.sku->pe_cols, 8);
}

TEST(Sku, UnknownKeyIsReportedAtItsLineAndColumn) {
  const std::string text = minimal_sku("tiny", "colour: red\n");
  const auto result = load(text);
  EXPECT_FALSE(result.sku);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].rfind("sku.yaml:" + position_of(text, "colour") + ": ", 0), 0u) << result.errors[0];
  EXPECT_NE(result.errors[0].find("unknown key 'colour'"), std::string::npos);
}

TEST(Sku, WrongTypesRangesAndDtypesAreAllReportedAtOnce) {
  std::string text = minimal_sku("tiny");
  text.replace(text.find("cores: 2"), 8, "cores: two");
  text.replace(text.find("tdp_w: 300"), 10, "tdp_w: 0");
  text.replace(text.find("fp8: 200"), 8, "int4: 9");
  const auto result = load(text);
  EXPECT_FALSE(result.sku);
  ASSERT_EQ(result.errors.size(), 3u) << ::testing::PrintToString(result.errors);
  EXPECT_NE(result.errors[0].find(position_of(text, "int4") + ": sku.peak_tflops: unknown dtype 'int4'"),
            std::string::npos)
      << result.errors[0];
  EXPECT_NE(result.errors[1].find(position_of(text, "two") + ": sku.cores: expected an integer"), std::string::npos)
      << result.errors[1];
  EXPECT_NE(result.errors[2].find(position_of(text, "tdp_w: 0", 0, 7) + ": sku.tdp_w: 0 is out of range (0, "),
            std::string::npos)
      << result.errors[2];
}

TEST(Sku, MissingKeyAndInconsistentFiguresAreErrors) {
  std::string text = minimal_sku("tiny");
  text.erase(text.find("cores: 2\n"), 9);
  EXPECT_NE(::testing::PrintToString(load(text).errors).find("missing required key 'cores'"), std::string::npos);

  std::string hot = minimal_sku("tiny");
  hot.replace(hot.find("critical_c: 105"), 15, "critical_c: 80");
  const auto result = load(hot);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].find("critical_c: 80 °C must be above throttle_c"), std::string::npos);
}

TEST(Sku, DuplicateKeysAndAliasesAreRejected) {
  EXPECT_FALSE(load(minimal_sku("tiny", "cores: 4\n")).sku);
  EXPECT_FALSE(load(minimal_sku("tiny", "x: &a 1\ny: *a\n")).sku);
}

class SkuDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kiln_sku_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  std::filesystem::path dir_;
};

TEST_F(SkuDirectory, LoadsEveryYamlFileAndIgnoresOthers) {
  write("a.yaml", minimal_sku("alpha"));
  write("b.yaml", minimal_sku("beta"));
  write("notes.txt", "not yaml");
  auto catalog = SkuCatalog::load_directory(dir_.string());
  ASSERT_TRUE(catalog) << catalog.error().message;
  EXPECT_EQ(catalog->names(), (std::vector<std::string>{"alpha", "beta"}));
}

TEST_F(SkuDirectory, DuplicateNameIsAnErrorAtTheSecondDefinition) {
  write("a.yaml", minimal_sku("same"));
  write("b.yaml", minimal_sku("same"));
  auto catalog = SkuCatalog::load_directory(dir_.string());
  ASSERT_FALSE(catalog);
  EXPECT_NE(
      catalog.error().message.find((dir_ / "b.yaml").string() + ":1:6: duplicate SKU 'same' (already defined in " +
                                   (dir_ / "a.yaml").string()),
      std::string::npos)
      << catalog.error().message;
}

TEST_F(SkuDirectory, ReportsErrorsOfEveryFile) {
  write("a.yaml", minimal_sku("alpha", "bogus: 1\n"));
  write("b.yaml", minimal_sku("beta", "bogus: 2\n"));
  auto catalog = SkuCatalog::load_directory(dir_.string());
  ASSERT_FALSE(catalog);
  EXPECT_NE(catalog.error().message.find("a.yaml:"), std::string::npos);
  EXPECT_NE(catalog.error().message.find("b.yaml:"), std::string::npos);
}

TEST_F(SkuDirectory, MissingOrEmptyDirectoryIsNotFound) {
  EXPECT_EQ(SkuCatalog::load_directory((dir_ / "nope").string()).error().code, ErrorCode::not_found);
  EXPECT_EQ(SkuCatalog::load_directory(dir_.string()).error().code, ErrorCode::not_found);
}

TEST(Dtype, NamesRoundTrip) {
  for (const DType d : {DType::fp32, DType::bf16, DType::fp16, DType::fp8}) EXPECT_EQ(parse_dtype(to_string(d)), d);
  EXPECT_FALSE(parse_dtype("int8"));
}

}  // namespace
}  // namespace kiln::device
