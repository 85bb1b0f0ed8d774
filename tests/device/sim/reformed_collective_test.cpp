// A collective re-formed round what failed: a hung or absent chip, a dead
// cable. The chips still joined keep running it, every cable between them
// still carries checked data both ways, so the link faults elsewhere in the
// rack are still found where they are, and each chip's bandwidth is scaled
// to the whole rack's peak so that a smaller ring fails no good chip.

#include <memory>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "device/sim/formation.hpp"
#include "device/sim/sim_fabric.hpp"
#include "tests/device/sim/sim_test_support.hpp"

namespace kiln::device {
namespace {

struct Rack {
  std::vector<std::unique_ptr<Chip>> chips;
  std::unique_ptr<SimFabric> fabric;

  SimChip& chip(int i) { return static_cast<SimChip&>(*chips[static_cast<std::size_t>(i)]); }
};

Rack make_rack(Topology topology, int n, std::map<int, std::vector<Fault>> faults = {}) {
  Rack rack;
  const Sku& sku = test::trn2();
  for (int i = 0; i < n; ++i) {
    SimChipConfig config = test::chip_config(sku, faults[i], fmt::format("F-{}", i));
    config.identity.slot = static_cast<std::uint32_t>(i);
    config.links = chip_link_count(topology, static_cast<std::size_t>(n), sku);
    rack.chips.push_back(std::make_unique<SimChip>(std::move(config)));
  }
  auto fabric = make_sim_fabric(RackSpec{"r01", Backend::sim, topology, {}}, rack.chips);
  EXPECT_TRUE(fabric) << fabric.error().message;
  if (fabric) rack.fabric = std::move(*fabric);
  return rack;
}

Fault fault(FaultKind kind, int link = 0) {
  Fault f;
  f.kind = kind;
  f.link = link;
  f.after = Seconds{0};
  return f;
}

Fault crc(int link, double ber = 1e-7) {
  Fault f = fault(FaultKind::link_crc, link);
  f.ber = ber;
  return f;
}

Fault degraded(int link) {
  Fault f = fault(FaultKind::link_degraded, link);
  f.bandwidth_factor = 0.5;
  return f;
}

CollectiveSlice run(Rack& rack, CollectiveOp op, std::vector<std::string> absent = {},
                    std::uint64_t bytes = 1ULL << 30) {
  if (absent.empty()) absent.assign(static_cast<std::size_t>(rack.fabric->chip_count()), "");
  auto slice = rack.fabric->run_collective(CollectiveWork{op, bytes, true}, Seconds{0.1}, absent);
  EXPECT_TRUE(slice) << slice.error().message;
  return slice ? std::move(*slice) : CollectiveSlice{.stalled = "error"};
}

// Every cable between two chips that both ran carries data both ways.
void expect_every_live_cable_used(Rack& rack, const CollectiveSlice& slice) {
  for (int c = 0; c < rack.fabric->chip_count(); ++c) {
    for (int l = 0; l < rack.chip(c).link_count(); ++l) {
      const LinkEnd far = rack.fabric->peer(c, l);
      if (!far.wired()) continue;
      const bool live = slice.chip_group[static_cast<std::size_t>(c)] >= 0 &&
                        slice.chip_group[static_cast<std::size_t>(far.chip)] >= 0 &&
                        slice.links[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)].up &&
                        slice.links[static_cast<std::size_t>(far.chip)][static_cast<std::size_t>(far.link)].up;
      const double sent = slice.links[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)].sent_bytes;
      if (live) {
        EXPECT_GT(sent, 0.0) << "chip " << c << " link " << l;
      } else {
        EXPECT_EQ(sent, 0.0) << "chip " << c << " link " << l;
      }
    }
  }
}

TEST(Formation, GroupsAreThePartsThatUsableLinksJoinWithRoutesInsideThem) {
  // A ring of six with chip 0 out and the cable 3–4 cut: parts {1, 2, 3} and {4, 5}.
  const Wiring wiring = wire_topology(Topology::ring, 6, 2);
  std::vector<bool> taking_part(6, true);
  taking_part[0] = false;
  std::vector<std::vector<bool>> usable(6, std::vector<bool>(2, false));
  for (int c = 0; c < 6; ++c) {
    for (int l = 0; l < 2; ++l) {
      const LinkEnd far = wiring[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)];
      const bool cut = (c == 3 && l == 0) || (c == 4 && l == 1);
      usable[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)] =
          taking_part[static_cast<std::size_t>(c)] && taking_part[static_cast<std::size_t>(far.chip)] && !cut;
    }
  }
  const auto groups = form_groups(wiring, taking_part, usable);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].chips, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(groups[1].chips, (std::vector<int>{4, 5}));
  // From rank 2 (chip 3) back to rank 0 (chip 1): two hops backwards, never through chip 0 or 4.
  const auto& path = groups[0].route(2, 0);
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[0].chip, 3);
  EXPECT_EQ(path[0].link, 1);
  EXPECT_EQ(path[1].chip, 2);
  EXPECT_EQ(path[1].link, 1);
}

TEST(ReformedCollective, AHungChipIsLeftOutAndTheOthersRunCorrectDataWithoutIt) {
  Fault hang = fault(FaultKind::hang);
  Rack rack = make_rack(Topology::ring, 5, {{3, {hang}}});
  rack.chip(3).idle(Seconds{0.1});
  ASSERT_TRUE(rack.chip(3).hung());
  for (const auto op : {CollectiveOp::allreduce, CollectiveOp::allgather, CollectiveOp::reduce_scatter,
                        CollectiveOp::alltoall, CollectiveOp::sendrecv}) {
    SCOPED_TRACE(to_string(op));
    const CollectiveSlice s = run(rack, op, {}, 1ULL << 20);
    EXPECT_TRUE(s.stalled.empty()) << s.stalled;
    EXPECT_GT(s.collectives, 0.0);
    ASSERT_EQ(s.groups.size(), 1u);
    EXPECT_EQ(s.groups[0].chips, (std::vector<int>{0, 1, 2, 4}));
    EXPECT_TRUE(s.groups[0].reformed);
    EXPECT_EQ(s.chip_group[3], -1);
    EXPECT_NE(s.idle[3].find("hung"), std::string::npos) << s.idle[3];
    EXPECT_NE(s.reformed.find("F-3"), std::string::npos) << s.reformed;
    EXPECT_TRUE(s.mismatches.empty());
    for (const auto e : s.result_errors) EXPECT_EQ(e, 0u);
    EXPECT_DOUBLE_EQ(s.busbw_gbps, s.algbw_gbps * busbw_factor(op, 4));  // nccl-tests' figure for 4 ranks
  }
  const CollectiveSlice s = run(rack, CollectiveOp::allreduce);
  expect_every_live_cable_used(rack, s);
  // Four chips in a line: each cable carries both ring halves, so the
  // group's peak is half the whole ring's; the chips' figures are scaled
  // back to the whole rack's, where a healthy chip passes 0.8 of peak.
  const double peak = rack.fabric->peak_busbw_gbps(CollectiveOp::allreduce);
  EXPECT_DOUBLE_EQ(s.peak_busbw_gbps, peak);
  EXPECT_NEAR(s.groups[0].peak_busbw_gbps, peak / 2, 1e-6 * peak);
  EXPECT_LT(s.busbw_gbps, peak / 2);
  for (const int c : {0, 1, 2, 4}) {
    const double own = s.chip_busbw_gbps[static_cast<std::size_t>(c)];
    EXPECT_GT(own, 0.9 * peak) << c;
    EXPECT_LT(own, peak) << c;
    EXPECT_DOUBLE_EQ(own, s.chip_algbw_gbps[static_cast<std::size_t>(c)] * busbw_factor(CollectiveOp::allreduce, 5));
  }
  EXPECT_EQ(s.chip_busbw_gbps[3], 0.0);
  // A present hung chip's time passes with the others' (it idled 0.1 s before them).
  EXPECT_NEAR(rack.chip(3).now().count(), rack.chip(0).now().count() + 0.1, 1e-9);
}

TEST(ReformedCollective, ALongLineLeftByAHungChipIsJudgedAsTheWholeRingWouldBe) {
  // Twenty-four in a ring, one hung: a line of 23 whose closing hops cross
  // 22 cables, with hop latency to match. Its healthy chips show what the
  // healthy whole ring measures, at every size.
  Fault hang = fault(FaultKind::hang);
  Rack rack = make_rack(Topology::ring, 24, {{5, {hang}}});
  Rack whole = make_rack(Topology::ring, 24);
  rack.chip(5).idle(Seconds{0.1});
  for (const std::uint64_t bytes : {1ULL << 20, 64ULL << 20, 1ULL << 30}) {
    SCOPED_TRACE(bytes);
    const CollectiveSlice s = run(rack, CollectiveOp::allreduce, {}, bytes);
    const CollectiveSlice h = run(whole, CollectiveOp::allreduce, {}, bytes);
    ASSERT_EQ(s.groups.size(), 1u);
    EXPECT_GT(s.groups[0].scale, 1.0);
    EXPECT_LT(s.busbw_gbps, 0.6 * h.busbw_gbps);  // what the line itself measures
    for (int c = 0; c < 24; ++c) {
      if (c == 5) continue;
      EXPECT_NEAR(s.chip_busbw_gbps[static_cast<std::size_t>(c)], h.chip_busbw_gbps[static_cast<std::size_t>(c)],
                  1e-6 * h.chip_busbw_gbps[static_cast<std::size_t>(c)])
          << c;
    }
  }
}

TEST(ReformedCollective, AnAbsentChipIsNeitherTouchedNorRoutedThrough) {
  Rack rack = make_rack(Topology::ring, 4);
  std::vector<std::string> absent(4);
  absent[1] = "chip hung";
  const CollectiveSlice s = run(rack, CollectiveOp::allreduce, absent);
  EXPECT_EQ(s.groups.at(0).chips, (std::vector<int>{0, 2, 3}));
  EXPECT_EQ(s.idle[1], "chip hung");
  EXPECT_NE(s.reformed.find("F-1 (chip hung)"), std::string::npos) << s.reformed;
  EXPECT_EQ(rack.chip(1).now().count(), 0.0);  // its own thread drives it meanwhile
  EXPECT_DOUBLE_EQ(rack.chip(0).now().count(), 0.1);
  EXPECT_EQ(rack.chip(1).telemetry().links[0].gbps, 0.0);
  expect_every_live_cable_used(rack, s);
}

TEST(ReformedCollective, ADeadCableIsRoutedRoundAndACrcFaultElsewhereIsStillFoundAtItsReceiver) {
  Fault down = fault(FaultKind::link_down, 0);
  down.after = Seconds{0.15};
  // Chip 3's link 1 receives what chip 2 sends on its link 0.
  Rack rack = make_rack(Topology::ring, 4, {{1, {down}}, {3, {crc(1)}}});
  (void)run(rack, CollectiveOp::allreduce);
  (void)run(rack, CollectiveOp::allreduce);  // the cable 1–2 drops during this slice
  ASSERT_FALSE(rack.chip(1).link_up(0));
  ASSERT_FALSE(rack.chip(2).link_up(1));
  for (int i = 0; i < 3; ++i) {
    const CollectiveSlice s = run(rack, CollectiveOp::allreduce);
    EXPECT_TRUE(s.stalled.empty()) << s.stalled;
    ASSERT_EQ(s.groups.size(), 1u);
    EXPECT_EQ(s.groups[0].chips.size(), 4u);
    EXPECT_TRUE(s.groups[0].reformed);
    EXPECT_NE(s.reformed.find("around link 0 of F-1 (down)"), std::string::npos) << s.reformed;
    EXPECT_FALSE(s.links[1][0].up);
    EXPECT_FALSE(s.links[2][1].up);
    expect_every_live_cable_used(rack, s);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 2; ++l) {
        const auto& link = s.links[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)];
        if (c == 3 && l == 1) {
          EXPECT_GT(link.crc_errors, 0u);
        } else {
          EXPECT_EQ(link.crc_errors, 0u) << c << " " << l;  // not the other direction of that cable
        }
      }
    }
    const double peak = rack.fabric->peak_busbw_gbps(CollectiveOp::allreduce);
    for (int c = 0; c < 4; ++c) EXPECT_GT(s.chip_busbw_gbps[static_cast<std::size_t>(c)], 0.9 * peak) << c;
    for (const auto e : s.result_errors) EXPECT_EQ(e, 0u);
  }
  EXPECT_GT(rack.chip(3).telemetry().links[1].crc_errors.value(), 0.0);
  EXPECT_EQ(rack.chip(2).telemetry().links[0].crc_errors.value(), 0.0);
}

TEST(ReformedCollective, ADegradedLinkInAReformedRingStillFailsOnlyItsEnds) {
  Fault hang = fault(FaultKind::hang);
  // Ring of six, chip 0 hung; chip 3's link 0 (to chip 4) at half width.
  Rack rack = make_rack(Topology::ring, 6, {{0, {hang}}, {3, {degraded(0)}}});
  rack.chip(0).idle(Seconds{0.1});
  const CollectiveSlice s = run(rack, CollectiveOp::allreduce);
  const double peak = rack.fabric->peak_busbw_gbps(CollectiveOp::allreduce);
  for (const int c : {1, 2, 3, 4, 5}) {
    SCOPED_TRACE(c);
    const double own = s.chip_busbw_gbps[static_cast<std::size_t>(c)];
    if (c == 3 || c == 4) {
      EXPECT_LT(own, 0.6 * peak);
    } else {
      EXPECT_GT(own, 0.9 * peak);
    }
  }
}

TEST(ReformedCollective, AHangAndADeadCableSplitTheRackAndEachPartRunsOnItsOwn) {
  Fault hang = fault(FaultKind::hang);
  Fault down = fault(FaultKind::link_down, 0);
  // Ring of six: chip 0 hung, cable 3–4 down. Parts {1, 2, 3} and {4, 5}; a CRC fault in each.
  Rack rack = make_rack(Topology::ring, 6, {{0, {hang}}, {3, {down}}, {2, {crc(0)}}, {5, {crc(1)}}});
  rack.chip(0).idle(Seconds{0.1});
  const CollectiveSlice s = run(rack, CollectiveOp::allreduce);
  EXPECT_TRUE(s.stalled.empty()) << s.stalled;
  ASSERT_EQ(s.groups.size(), 2u);
  EXPECT_EQ(s.groups[0].chips, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(s.groups[1].chips, (std::vector<int>{4, 5}));
  EXPECT_DOUBLE_EQ(s.busbw_gbps, s.groups[0].busbw_gbps);  // the largest part's figure
  expect_every_live_cable_used(rack, s);
  EXPECT_GT(s.links[2][0].crc_errors, 0u);  // from chip 3
  EXPECT_GT(s.links[5][1].crc_errors, 0u);  // from chip 4
  const double peak = rack.fabric->peak_busbw_gbps(CollectiveOp::allreduce);
  for (const int c : {1, 2, 3, 4, 5}) EXPECT_GT(s.chip_busbw_gbps[static_cast<std::size_t>(c)], 0.9 * peak) << c;
  for (const auto e : s.result_errors) EXPECT_EQ(e, 0u);
}

TEST(LinkTest, EveryWorkingLinkIsTestedBothWaysWhateverTheOpAndTopology) {
  // The ops' routes leave links idle (a torus's second cable per pair, a
  // ring of two's second cable, sendrecv's way back): those carry a link
  // test stream, CRC-counted and checked, that no bandwidth figure counts.
  for (const auto topology : {Topology::ring, Topology::torus2d, Topology::full}) {
    for (const auto op : {CollectiveOp::allreduce, CollectiveOp::alltoall, CollectiveOp::sendrecv}) {
      SCOPED_TRACE(fmt::format("{} {}", to_string(topology), to_string(op)));
      Rack rack = make_rack(topology, topology == Topology::full ? 5 : 8);
      const CollectiveSlice s = run(rack, op, {}, 1ULL << 20);
      EXPECT_TRUE(s.mismatches.empty());
      expect_every_live_cable_used(rack, s);
    }
  }
  Rack healthy = make_rack(Topology::ring, 4);
  Rack again = make_rack(Topology::ring, 4);
  const CollectiveSlice h = run(healthy, CollectiveOp::sendrecv);
  EXPECT_DOUBLE_EQ(h.chip_busbw_gbps[0], run(again, CollectiveOp::sendrecv).chip_busbw_gbps[0]);
  EXPECT_GT(h.links[0][1].sent_bytes, 0.0);  // the stream back
  EXPECT_NEAR(h.busbw_gbps, test::trn2().link_bandwidth_gbps * 256 / 272, 0.01 * test::trn2().link_bandwidth_gbps);
}

TEST(LinkTest, AFaultOnALinkTheOpLeavesIdleIsFoundAtItsReceiver) {
  // In a ring of two, allreduce sends 0 → 1 on chip 0's link 0 and 1 → 0 on
  // chip 1's link 0: chip 0's link 0 receives (from chip 1's link 1) only the link test.
  Rack rack = make_rack(Topology::ring, 2, {{0, {crc(0, 1e-4)}}});
  std::uint64_t caught = 0;
  for (int i = 0; i < 5; ++i) {
    const CollectiveSlice s = run(rack, CollectiveOp::allreduce, {}, 64ULL << 20);
    EXPECT_GT(s.links[0][0].crc_errors, 0u);
    EXPECT_EQ(s.links[0][1].crc_errors, 0u);
    EXPECT_EQ(s.links[1][0].crc_errors + s.links[1][1].crc_errors, 0u);
    for (const auto& m : s.mismatches) {
      EXPECT_EQ(m.chip, 0);
      EXPECT_EQ(m.link, 0);
      caught += m.count;
    }
    for (const auto e : s.result_errors) EXPECT_EQ(e, 0u);  // the collective's own data crossed clean links
  }
  EXPECT_GT(caught, 0u);  // corruption the CRC missed, caught by the probe's check
}

TEST(ReformedCollective, AChipWithNoWorkingLinkToALivePeerIsIdleAndSaysWhy) {
  Fault hang = fault(FaultKind::hang);
  Rack rack = make_rack(Topology::ring, 2, {{0, {hang}}});
  rack.chip(0).idle(Seconds{0.1});
  const CollectiveSlice s = run(rack, CollectiveOp::allreduce);
  EXPECT_FALSE(s.stalled.empty());
  EXPECT_EQ(s.collectives, 0.0);
  EXPECT_TRUE(s.groups.empty());
  EXPECT_NE(s.idle[1].find("no working link to a chip taking part"), std::string::npos) << s.idle[1];
  EXPECT_NE(s.idle[1].find("link 0 to F-0, which is hung"), std::string::npos) << s.idle[1];
  EXPECT_DOUBLE_EQ(rack.chip(1).now().count(), 0.1);  // time still passes
}

}  // namespace
}  // namespace kiln::device
