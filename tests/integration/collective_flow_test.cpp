// Link faults under the collective pattern, judged end to end: a rack of
// eight simulated chips in a ring runs an allreduce sweep; each planted link
// fault fails the chips at that link's ends with the right class and link,
// and every other chip passes (a dead link re-forms the collective round it).
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using Json = nlohmann::json;

const char* kPlan = R"(
plan: links
seed: 3
sample_hz: 5
steps:
  - name: allreduce
    pattern: collective
    duration: 6s
    params: {op: allreduce, sizes: [1MiB, 1GiB], check: true}
    limits:
      busbw_gbps: {min: 0.8, of: peak}
      link_gbps: {min: 0.95, of: peak}
      link_crc_errors: {max: 0}
)";

// A ring of eight trn2-sim chips L-0..L-7; `fault` (YAML flow map or
// empty) is planted on slot `slot`.
std::string lab_yaml(std::uint64_t seed, int slot, const std::string& fault) {
  return one_rack_lab("L-", 8, seed, fault.empty() ? -1 : slot, "[" + fault + "]");
}

Json run_report(const std::string& lab_text) { return run_on_new_lab(lab_text, kPlan); }

const Json& chip(const Json& report, int slot) {
  for (const auto& c : report["chips"]) {
    if (c["serial"] == fmt::format("L-{}", slot)) return c;
  }
  static const Json none;
  ADD_FAILURE() << "no chip L-" << slot;
  return none;
}

// The failures of `c` of class `cls` at `link`.
int failures_at(const Json& c, const std::string& cls, int link) {
  int n = 0;
  for (const auto& f : c["failures"]) {
    if (f["class"] == cls && f.contains("link") && f["link"] == link) ++n;
  }
  return n;
}

TEST(CollectiveFlow, HealthyRingPassesEveryLimitAtFullBandwidth) {
  const Json report = run_report(lab_yaml(21, -1, ""));
  ASSERT_EQ(report["chips"].size(), 8u);
  for (const auto& c : report["chips"]) {
    EXPECT_EQ(c["verdict"], "pass") << c.dump(2);
    const Json& busbw = c["steps"][0]["metrics"]["busbw_gbps"];
    EXPECT_GT(busbw["avg"].get<double>(), 0.9 * 320) << busbw.dump();  // two rings of 160 GB/s links
  }
}

struct LinkCase {
  std::uint64_t seed;
  int slot;
  int link;
};
// Readable test names in ctest: "seed 21 slot 3 link 0".
void PrintTo(const LinkCase& c, std::ostream* os) {
  *os << "seed " << c.seed << " slot " << c.slot << " link " << c.link;
}

class DegradedLink : public ::testing::TestWithParam<LinkCase> {};

TEST_P(DegradedLink, FailsBothEndsOfTheCableAtTheirLinkAndNoOtherChip) {
  const LinkCase p = GetParam();
  const Json report = run_report(
      lab_yaml(p.seed, p.slot, fmt::format("{{kind: link_degraded, link: {}, bandwidth_factor: 0.5}}", p.link)));
  // Ring: link 0 goes to the next slot (arriving on its link 1), link 1 to the previous.
  const int far = p.link == 0 ? (p.slot + 1) % 8 : (p.slot + 7) % 8;
  const int far_link = 1 - p.link;
  for (int s = 0; s < 8; ++s) {
    SCOPED_TRACE(s);
    const Json& c = chip(report, s);
    if (s == p.slot || s == far) {
      EXPECT_EQ(c["verdict"], "fail") << c.dump(2);
      EXPECT_GE(failures_at(c, "link_degraded", s == p.slot ? p.link : far_link), 1) << c.dump(2);
    } else {
      EXPECT_EQ(c["verdict"], "pass") << c.dump(2);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Placements, DegradedLink,
                         ::testing::Values(LinkCase{21, 3, 0}, LinkCase{22, 7, 1}, LinkCase{23, 0, 1}));

class CrcLink : public ::testing::TestWithParam<LinkCase> {};

TEST_P(CrcLink, FailsOnlyTheReceiverWithLinkErrorsAtItsLink) {
  const LinkCase p = GetParam();
  const Json report =
      run_report(lab_yaml(p.seed, p.slot, fmt::format("{{kind: link_crc, link: {}, ber: 1e-9}}", p.link)));
  for (int s = 0; s < 8; ++s) {
    SCOPED_TRACE(s);
    const Json& c = chip(report, s);
    if (s == p.slot) {
      EXPECT_EQ(c["verdict"], "fail") << c.dump(2);
      EXPECT_GE(failures_at(c, "link_errors", p.link), 1) << c.dump(2);
    } else {
      EXPECT_EQ(c["verdict"], "pass") << c.dump(2);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Placements, CrcLink, ::testing::Values(LinkCase{31, 5, 1}, LinkCase{32, 2, 0}));

TEST(CollectiveFlow, LinkDownFailsItsEndsAndTheOthersAreStillJudgedAndPass) {
  const Json report = run_report(lab_yaml(41, 2, "{kind: link_down, link: 0, after: 2s}"));
  for (int s = 0; s < 8; ++s) {
    SCOPED_TRACE(s);
    const Json& c = chip(report, s);
    if (s == 2 || s == 3) {
      EXPECT_EQ(c["verdict"], "fail") << c.dump(2);
      EXPECT_GE(failures_at(c, "link_down", s == 2 ? 0 : 1), 1) << c.dump(2);
    } else {
      // The collective was re-formed round the dead cable: the others ran to the end at full (scaled) bandwidth.
      EXPECT_EQ(c["verdict"], "pass") << c.dump(2);
      EXPECT_NE(c["steps"][0]["note"].get<std::string>().find("re-formed around link 0 of L-2"), std::string::npos)
          << c.dump(2);
    }
  }
}

TEST(CollectiveFlow, CorruptionTheCrcMissesFailsTheReceivingLinkWhateverTheLimits) {
  // A bit error rate so high that some bad frames slip past the CRC.
  const Json report = run_report(lab_yaml(51, 6, "{kind: link_crc, link: 0, ber: 1e-4}"));
  const Json& c = chip(report, 6);
  EXPECT_EQ(c["verdict"], "fail");
  bool data = false;
  for (const auto& f : c["failures"]) {
    if (f["class"] == "link_errors" && f.contains("link") && f["link"] == 0 &&
        f["detail"].get<std::string>().find("differed") != std::string::npos)
      data = true;
  }
  EXPECT_TRUE(data) << c.dump(2);
}

}  // namespace
}  // namespace kiln::testing
