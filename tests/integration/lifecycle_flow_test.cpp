// Integration: kilnd applies the chip lifecycle after every run (docs/lifecycle.md)
// on a simulated lab: a faulty chip is quarantined and, after its retests,
// sent to rma; a marginal one becomes suspect and is retested; the circuit
// breaker holds a run's quarantines when they would take too much of a SKU;
// a person's state is sticky. `kiln chip` and `kiln digest` say so.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/chip_text.hpp"
#include "reports/digest.hpp"
#include "tests/integration/lifecycle_lab.hpp"

namespace kiln::testing {
namespace {

using Json = nlohmann::json;
using life::chip;
using life::digest;
using life::state_of;
using life::wait_for_chip;
const char* const kLab = life::kLab;
const char* const kPlan = life::kPlan;

TEST(LifecycleFlow, AFaultyChipIsQuarantinedThenRmaAfterItsRetestsAndAMarginalOneSuspect) {
  LabExtensions extensions;
  extensions.lifecycle_policy = lifecycle::LifecyclePolicy::defaults();  // with its retests
  LabFixture lab(extensions);
  lab.start(kLab);
  lab.wait_for_racks(1);
  const auto first = lab.submit(kPlan);
  lab.wait_for_run(first);

  // Its retests (the same seed, then two new ones) run by themselves; the
  // second failed one sends it to rma.
  const Json faulty = wait_for_chip(lab, "L-01", [](const Json& c) { return state_of(c) == "rma"; });
  const Json& life = faulty["lifecycle"];
  ASSERT_GE(life["transitions"].size(), 2u) << life.dump(2);
  const Json& quarantine = life["transitions"][0];
  EXPECT_EQ(quarantine["from"], "unknown");
  EXPECT_EQ(quarantine["to"], "quarantined");
  EXPECT_EQ(quarantine["actor"], "kilnd");
  EXPECT_EQ(quarantine["run"], first);
  EXPECT_EQ(quarantine["plan_sha256"].get<std::string>().size(), 64u);
  EXPECT_NE(quarantine["reason"].get<std::string>().find("sdc"), std::string::npos) << quarantine.dump();
  const Json& rma = life["transitions"][1];
  EXPECT_EQ(rma["to"], "rma");
  EXPECT_NE(rma["reason"].get<std::string>().find("failed 2 of 2 retests"), std::string::npos) << rma.dump();
  EXPECT_GT(rma["run"].get<std::uint64_t>(), first);

  // The marginal chip: suspect, and every retest of it marginal again.
  const Json marginal =
      wait_for_chip(lab, "L-02", [](const Json& c) { return c["lifecycle"]["retests"]["run"].get<int>() >= 3; });
  EXPECT_EQ(state_of(marginal), "suspect") << marginal["lifecycle"].dump(2);
  EXPECT_EQ(marginal["lifecycle"]["retests"]["tally"], "failed 3 of 3 retests");
  EXPECT_EQ(marginal["lifecycle"]["transitions"][0]["to"], "suspect");

  // A clean chip passed its first run: healthy, and its retest runs (it sits in the rack) keep it so.
  const Json clean = chip(lab, "L-00");
  EXPECT_EQ(state_of(clean), "healthy");

  // What `kiln chip L-01` prints.
  const std::string text = reports::lifecycle_text(faulty["lifecycle"].dump());
  EXPECT_NE(text.find("state: rma"), std::string::npos) << text;
  EXPECT_NE(text.find("failed 2 of 2 retests"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown -> quarantined  by kilnd  run " + std::to_string(first)), std::string::npos) << text;
  EXPECT_NE(text.find("slots: r01/1 (failed"), std::string::npos) << text;

  // The digest: the runs, the located failure, the transitions.
  const Json d = digest(lab);
  EXPECT_EQ(d["runs"].size(), 4u) << d.dump(2);
  bool located = false;
  for (const auto& f : d["failures"]) {
    if (f["serial"] == "L-01" && f["run"] == first) {
      EXPECT_TRUE(f["new"].get<bool>());
      ASSERT_FALSE(f["failures"].empty());
      EXPECT_EQ(f["failures"][0]["class"], "sdc");
      EXPECT_EQ(f["failures"][0]["core"], 1);
      located = true;
    }
  }
  EXPECT_TRUE(located) << d["failures"].dump(2);
  int to_rma = 0;
  for (const auto& t : d["transitions"]) to_rma += t["serial"] == "L-01" && t["to"] == "rma" ? 1 : 0;
  EXPECT_EQ(to_rma, 1) << d["transitions"].dump(2);
  EXPECT_TRUE(d["untested_racks"].empty()) << d["untested_racks"].dump(2);
  const std::string digest_text = reports::digest_text(d.dump());
  EXPECT_NE(digest_text.find("NEW L-01 fail in r01/1 run " + std::to_string(first)), std::string::npos) << digest_text;
}

TEST(LifecycleFlow, TheCircuitBreakerHoldsQuarantinesThatWouldTakeTooMuchOfASku) {
  LabExtensions extensions;
  extensions.lifecycle_policy = lifecycle::LifecyclePolicy::defaults();  // held quarantines ask for no retests
  LabFixture lab(extensions);
  // Three of four chips corrupt: a broken lab or plan, not a bad batch.
  // (High fp32 bits, which a checksum catches: a flip of bit 3 changes a
  // result by about 2^-20 of itself, below what abft alone can see.)
  lab.start(R"(
lab: breaker
seed: 4
time_scale: 100
racks:
  - id: r01
    backend: sim
    topology: ring
    chips:
      - {slot: 0, serial: K-00, sku: trn2-sim}
      - {slot: 1, serial: K-01, sku: trn2-sim, faults: [{kind: sdc, core: 0, pe: [1, 1], bit: 22, rate: 1.0}]}
      - {slot: 2, serial: K-02, sku: trn2-sim, faults: [{kind: sdc, core: 0, pe: [2, 2], bit: 23, rate: 1.0}]}
      - {slot: 3, serial: K-03, sku: trn2-sim, faults: [{kind: sdc, core: 0, pe: [3, 3], bit: 24, rate: 1.0}]}
)");
  lab.wait_for_racks(1);
  const auto run = lab.submit(kPlan);
  lab.wait_for_run(run);
  // K-00 passed: healthy once the lifecycle is applied; the others stay unknown, held.
  wait_for_chip(lab, "K-00", [](const Json& c) { return state_of(c) == "healthy"; });
  for (const char* serial : {"K-01", "K-02", "K-03"}) {
    const Json c = chip(lab, serial);
    EXPECT_EQ(state_of(c), "unknown") << c["lifecycle"].dump(2);
    EXPECT_TRUE(c["lifecycle"]["transitions"].empty());
  }
  const Json d = digest(lab);
  ASSERT_EQ(d["breaker"].size(), 1u) << d.dump(2);
  EXPECT_NE(d["breaker"][0]["reason"].get<std::string>().find("would quarantine 3 of 4 trn2-sim chips"),
            std::string::npos)
      << d["breaker"].dump();
  EXPECT_EQ(d["runs"].size(), 1u) << "held quarantines ask for no retests: " << d["runs"].dump(2);
}

TEST(LifecycleFlow, APersonsStateIsStickyAndOnlyOperatorsMaySetIt) {
  LabFixture lab;  // no retests: one run is the whole story here
  lab.start(one_rack_lab("P-", 3, 5));
  lab.wait_for_racks(1);
  lab.wait_for_run(lab.submit(kPlan));
  wait_for_chip(lab, "P-1", [](const Json& c) { return state_of(c) == "healthy"; });

  kiln::v1::Envelope set;
  set.mutable_set_chip_state()->set_serial("P-1");
  set.mutable_set_chip_state()->set_state("maintenance");
  set.mutable_set_chip_state()->set_reason("reseated the heat sink");
  auto viewer = lab.client(lab.client_credential(daemon::ClientRole::viewer));
  auto refused = viewer->call(set);
  ASSERT_TRUE(refused);
  ASSERT_TRUE(refused->has_error_reply());

  auto op = lab.client(lab.client_credential(daemon::ClientRole::run_operator));
  auto reply = op->call(set);
  ASSERT_TRUE(reply) << reply.error().message;
  ASSERT_FALSE(reply->has_error_reply()) << reply->error_reply().message();
  const Json answer = Json::parse(reply->query_reply().body());
  EXPECT_EQ(answer["from"], "healthy");
  EXPECT_EQ(answer["to"], "maintenance");
  EXPECT_TRUE(answer["sticky"].get<bool>());

  // Another clean run: the policy records it but leaves P-1 where the person put it.
  lab.wait_for_run(lab.submit(kPlan));
  wait_for_chip(lab, "P-0", [](const Json& c) { return c["lifecycle"]["clean_streak"].get<int>() >= 2; });
  const Json held = chip(lab, "P-1");
  EXPECT_EQ(state_of(held), "maintenance");
  EXPECT_TRUE(held["lifecycle"]["set_by_person"].get<bool>());
  ASSERT_EQ(held["lifecycle"]["transitions"].size(), 2u) << held["lifecycle"].dump(2);
  const Json& by_hand = held["lifecycle"]["transitions"][1];
  EXPECT_EQ(by_hand["reason"], "reseated the heat sink");
  EXPECT_NE(by_hand["actor"], "kilnd");
  EXPECT_TRUE(by_hand["run"].is_null());
}

}  // namespace
}  // namespace kiln::testing
