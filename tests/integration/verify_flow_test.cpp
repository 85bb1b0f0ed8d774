// verify: vote and verify: golden judged end to end on a simulated rack: a
// chip with a deterministic SDC (rate 1.0, the same flip every GEMM) is the
// odd one out of the vote and differs from the golden reference, located at
// its core, PE and bit; the healthy chips pass; a vote without enough
// voters is inconclusive, never a pass.
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using Json = nlohmann::json;

std::string plan(const std::string& verify) {
  return fmt::format(R"(
plan: verify-{0}
seed: 9
sample_hz: 5
steps:
  - name: gemm-{0}
    pattern: gemm
    duration: 4s
    params: {{dtype: bf16, verify: {0}}}
    limits: {{sdc_errors: {{max: 0}}}}
)",
                     verify);
}

// `count` chips V-0.. in one ring; chip `faulty` carries a deterministic SDC.
std::string lab_yaml(int count, int faulty, std::uint64_t seed) {
  return one_rack_lab("V-", count, seed, faulty, "[{kind: sdc, core: 3, pe: [21, 9], bit: 26, rate: 1.0}]");
}

Json run_report(const std::string& lab_text, const std::string& plan_text) {
  return run_on_new_lab(lab_text, plan_text);
}

struct Case {
  std::string verify;
  int faulty;
  std::uint64_t seed;
};
// Readable test names in ctest: "vote faulty 2 seed 61".
void PrintTo(const Case& c, std::ostream* os) { *os << c.verify << " faulty " << c.faulty << " seed " << c.seed; }

class ComparingVerification : public ::testing::TestWithParam<Case> {};

TEST_P(ComparingVerification, DeterministicSdcIsFoundAtItsPeAndHealthyChipsPass) {
  const Case p = GetParam();
  const Json report = run_report(lab_yaml(5, p.faulty, p.seed), plan(p.verify));
  ASSERT_EQ(report["chips"].size(), 5u);
  for (const auto& c : report["chips"]) {
    if (c["serial"] != fmt::format("V-{}", p.faulty)) {
      EXPECT_EQ(c["verdict"], "pass") << c.dump(2);
      continue;
    }
    EXPECT_EQ(c["verdict"], "fail") << c.dump(2);
    ASSERT_FALSE(c["failures"].empty()) << c.dump(2);
    for (const auto& f : c["failures"]) {
      EXPECT_EQ(f["class"], "sdc");
      EXPECT_EQ(f["core"], 3);
      EXPECT_EQ(f["pe"], Json::array({21, 9}));
      EXPECT_EQ(f["bit"], 26);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Verify, ComparingVerification,
                         ::testing::Values(Case{"vote", 2, 61}, Case{"vote", 4, 62}, Case{"golden", 0, 63},
                                           Case{"golden", 3, 64}));

TEST(VerifyFlow, VoteWithTooFewVotersIsInconclusive) {
  const Json report = run_report(lab_yaml(2, -1, 65), plan("vote"));
  ASSERT_EQ(report["chips"].size(), 2u);
  for (const auto& c : report["chips"]) EXPECT_EQ(c["verdict"], "inconclusive") << c.dump(2);
}

TEST(VerifyFlow, AChipThatHangsDuringAVoteFailsAloneAndTheOthersAreStillJudged) {
  // Issue 10: nightly-burnin's vote step on a rack with a hung chip killed
  // that rack's agent (SIGSEGV) and left every other chip `error`.
  const Json report = run_report(one_rack_lab("V-", 5, 66, 1, "[{kind: hang, after: 1s}]"), plan("vote"));
  ASSERT_EQ(report["chips"].size(), 5u);
  for (const auto& c : report["chips"]) {
    if (c["serial"] == "V-1") {
      EXPECT_EQ(c["verdict"], "fail") << c.dump(2);
      ASSERT_FALSE(c["failures"].empty()) << c.dump(2);
      EXPECT_EQ(c["failures"][0]["class"], "hang") << c.dump(2);
    } else {
      EXPECT_EQ(c["verdict"], "pass") << c.dump(2);
    }
  }
}

}  // namespace
}  // namespace kiln::testing
