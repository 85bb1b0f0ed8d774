// The rack fabric: wiring by topology, collectives timed over the links
// they use, real data on small buffers, and the link faults.

#include <memory>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "device/sim/collective_data.hpp"
#include "device/sim/sim_fabric.hpp"
#include "tests/device/sim/sim_test_support.hpp"

namespace kiln::device {
namespace {

// A rack of n chips of `sku`, faults per slot, and its fabric.
struct Rack {
  std::vector<std::unique_ptr<Chip>> chips;
  std::unique_ptr<SimFabric> fabric;

  SimChip& chip(int i) { return static_cast<SimChip&>(*chips[static_cast<std::size_t>(i)]); }
};

Rack make_rack(const Sku& sku, Topology topology, int n, std::map<int, std::vector<Fault>> faults = {}) {
  Rack rack;
  RackSpec spec{"r01", Backend::sim, topology, {}};
  for (int i = 0; i < n; ++i) {
    SimChipConfig config = test::chip_config(sku, faults[i], fmt::format("F-{}", i));
    config.identity.slot = static_cast<std::uint32_t>(i);
    config.links = chip_link_count(topology, static_cast<std::size_t>(n), sku);
    rack.chips.push_back(std::make_unique<SimChip>(std::move(config)));
  }
  auto fabric = make_sim_fabric(spec, rack.chips);
  EXPECT_TRUE(fabric) << fabric.error().message;
  if (fabric) rack.fabric = std::move(*fabric);
  return rack;
}

Fault link_fault(FaultKind kind, int link) {
  Fault f;
  f.kind = kind;
  f.link = link;
  f.after = Seconds{0};
  return f;
}

CollectiveSlice collective(Rack& rack, CollectiveOp op, std::uint64_t bytes = 64ULL << 20, bool check = true) {
  auto slice = rack.fabric->run_collective(CollectiveWork{op, bytes, check}, Seconds{0.1});
  EXPECT_TRUE(slice) << slice.error().message;
  return slice ? std::move(*slice) : CollectiveSlice{.stalled = "error"};
}

void expect_clean(const CollectiveSlice& slice) {
  EXPECT_TRUE(slice.stalled.empty()) << slice.stalled;
  EXPECT_TRUE(slice.mismatches.empty());
  for (const auto e : slice.result_errors) EXPECT_EQ(e, 0u);
  for (const auto& chip : slice.links) {
    for (const auto& link : chip) EXPECT_EQ(link.crc_errors, 0u);
  }
}

TEST(Fabric, WiringIsSymmetricForEveryTopology) {
  for (const auto topology : {Topology::ring, Topology::torus2d, Topology::full}) {
    for (const int n : {2, 3, 8, 12}) {
      const int links = topology_link_count(topology, static_cast<std::size_t>(n));
      const auto wiring = wire_topology(topology, n, links);
      for (int c = 0; c < n; ++c) {
        for (int l = 0; l < links; ++l) {
          const LinkEnd far = wiring[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)];
          if (!far.wired()) continue;
          EXPECT_NE(far.chip, c);
          const LinkEnd back = wiring[static_cast<std::size_t>(far.chip)][static_cast<std::size_t>(far.link)];
          EXPECT_EQ(back.chip, c);
          EXPECT_EQ(back.link, l);
        }
      }
    }
  }
  const auto ring = wire_topology(Topology::ring, 8, 2);
  EXPECT_EQ(ring[7][0].chip, 0);                              // link 0 = to the next slot
  EXPECT_EQ(ring[0][1].chip, 7);                              // link 1 = to the previous
  const auto torus = wire_topology(Topology::torus2d, 8, 4);  // 2 rows × 4 columns
  EXPECT_EQ(torus[3][0].chip, 0);
  EXPECT_EQ(torus[1][2].chip, 5);
  EXPECT_EQ(torus[5][3].chip, 1);
  const auto full = wire_topology(Topology::full, 4, 3);
  EXPECT_EQ(full[2][0].chip, 0);
  EXPECT_EQ(full[2][2].chip, 3);
  EXPECT_EQ(full[2][2].link, 2);
  EXPECT_EQ(full[3][2].chip, 2);
}

TEST(Fabric, HealthyAllreduceReachesTwoRingsOfLinkBandwidthWithCorrectData) {
  const Sku& sku = test::trn2();
  Rack rack = make_rack(sku, Topology::ring, 8);
  rack.fabric->set_collective_data(CollectiveData::always);
  const CollectiveSlice slice = collective(rack, CollectiveOp::allreduce, 1ULL << 30);
  expect_clean(slice);
  // A large message: two rings, each link direction at its bandwidth less the frame overhead.
  const double wire = 2 * sku.link_bandwidth_gbps * kFramePayloadBytes / (kFramePayloadBytes + kFrameOverheadBytes);
  EXPECT_NEAR(slice.busbw_gbps, wire, 0.01 * wire);
  EXPECT_LT(slice.busbw_gbps, wire);  // hop latency costs a little
  EXPECT_DOUBLE_EQ(slice.busbw_gbps, slice.algbw_gbps * 2 * 7 / 8);
  EXPECT_NEAR(slice.collectives, 0.1 / slice.seconds_per_collective, 1e-9);
  const Telemetry t = rack.chip(3).telemetry();
  for (const auto& link : t.links) {
    EXPECT_NEAR(link.gbps.value(), sku.link_bandwidth_gbps * 256 / 272, 0.01 * sku.link_bandwidth_gbps);
    EXPECT_EQ(link.crc_errors, 0.0);
    EXPECT_EQ(link.up, true);
  }
  EXPECT_GT(t.power_w.value(), sku.idle_w);
  EXPECT_DOUBLE_EQ(rack.chip(3).now().count(), 0.1);
}

TEST(Fabric, EveryOpMovesCorrectDataOnEveryTopology) {
  for (const auto topology : {Topology::ring, Topology::torus2d, Topology::full}) {
    for (const int n : {2, 5, 8}) {
      Rack rack = make_rack(test::h100(), topology, n);
      rack.fabric->set_collective_data(CollectiveData::always);  // the algorithms run on clean data too
      for (const auto op : {CollectiveOp::allreduce, CollectiveOp::allgather, CollectiveOp::reduce_scatter,
                            CollectiveOp::alltoall, CollectiveOp::sendrecv}) {
        SCOPED_TRACE(fmt::format("{} n={} {}", to_string(topology), n, to_string(op)));
        const CollectiveSlice slice = collective(rack, op, 1ULL << 20);
        expect_clean(slice);
        EXPECT_GT(slice.busbw_gbps, 0.0);
        EXPECT_DOUBLE_EQ(slice.busbw_gbps, slice.algbw_gbps * busbw_factor(op, n));
      }
    }
  }
}

TEST(Fabric, SmallMessagesAreLatencyBound) {
  Rack rack = make_rack(test::trn2(), Topology::ring, 8);
  const double big = collective(rack, CollectiveOp::allreduce, 1ULL << 30).busbw_gbps;
  const double small = collective(rack, CollectiveOp::allreduce, 64ULL << 10).busbw_gbps;
  EXPECT_LT(small, 0.5 * big);
}

TEST(Fabric, DegradedLinkSlowsEveryCollectiveThroughItAtBothEnds) {
  const Sku& sku = test::trn2();
  Fault degraded = link_fault(FaultKind::link_degraded, 0);
  degraded.bandwidth_factor = 0.5;
  Rack healthy = make_rack(sku, Topology::ring, 8);
  Rack slow = make_rack(sku, Topology::ring, 8, {{3, {degraded}}});
  for (const auto op : {CollectiveOp::allreduce, CollectiveOp::allgather, CollectiveOp::sendrecv}) {
    SCOPED_TRACE(to_string(op));
    const CollectiveSlice h = collective(healthy, op, 1ULL << 30);
    const CollectiveSlice s = collective(slow, op, 1ULL << 30);
    expect_clean(s);
    EXPECT_NEAR(s.busbw_gbps / h.busbw_gbps, 0.5, 0.01);
  }
  // Chip 3's link 0 and its far end, chip 4's link 1, trained at half width.
  EXPECT_DOUBLE_EQ(slow.chip(3).link_bandwidth_gbps(0), 0.5 * sku.link_bandwidth_gbps);
  EXPECT_DOUBLE_EQ(slow.chip(4).link_bandwidth_gbps(1), 0.5 * sku.link_bandwidth_gbps);
  EXPECT_DOUBLE_EQ(slow.chip(3).link_bandwidth_gbps(1), sku.link_bandwidth_gbps);
  // In a torus the same fault slows what crosses it too.
  Rack torus_healthy = make_rack(sku, Topology::torus2d, 8);
  Rack torus_slow = make_rack(sku, Topology::torus2d, 8, {{3, {degraded}}});
  EXPECT_LT(collective(torus_slow, CollectiveOp::allreduce).busbw_gbps,
            0.9 * collective(torus_healthy, CollectiveOp::allreduce).busbw_gbps);
}

TEST(Fabric, PerChipBandwidthBlamesOnlyTheEndsOfASlowLink) {
  const Sku& sku = test::trn2();
  Fault degraded = link_fault(FaultKind::link_degraded, 0);
  degraded.bandwidth_factor = 0.5;
  Rack slow = make_rack(sku, Topology::ring, 8, {{3, {degraded}}});
  const CollectiveSlice s = collective(slow, CollectiveOp::allreduce, 1ULL << 30);
  ASSERT_EQ(s.chip_busbw_gbps.size(), 8u);
  for (int c = 0; c < 8; ++c) {
    SCOPED_TRACE(c);
    const double own = s.chip_busbw_gbps[static_cast<std::size_t>(c)];
    if (c == 3 || c == 4) {
      // The cable between chips 3 and 4 carries half: its ends receive at the rack's pace.
      EXPECT_NEAR(own, s.busbw_gbps, 1e-9 * own);
    } else {
      EXPECT_GT(own, 1.9 * s.busbw_gbps);
    }
    EXPECT_DOUBLE_EQ(own, s.chip_algbw_gbps[static_cast<std::size_t>(c)] * busbw_factor(CollectiveOp::allreduce, 8));
  }
  // The trained rate is what telemetry reports for each end of the cable.
  EXPECT_DOUBLE_EQ(*slow.chip(3).telemetry().links[0].rate_gbps, 0.5 * sku.link_bandwidth_gbps);
  EXPECT_DOUBLE_EQ(*slow.chip(4).telemetry().links[1].rate_gbps, 0.5 * sku.link_bandwidth_gbps);
  EXPECT_DOUBLE_EQ(*slow.chip(5).telemetry().links[0].rate_gbps, sku.link_bandwidth_gbps);
}

TEST(Fabric, PeakBusBandwidthIsWhatHealthyLinksCarryAtNominalRate) {
  const Sku& sku = test::trn2();
  Rack ring = make_rack(sku, Topology::ring, 8);
  // Two rings, each link direction at its nominal rate: the same figure for every ring algorithm.
  for (const auto op : {CollectiveOp::allreduce, CollectiveOp::allgather, CollectiveOp::reduce_scatter}) {
    EXPECT_NEAR(ring.fabric->peak_busbw_gbps(op), 2 * sku.link_bandwidth_gbps, 1e-6);
  }
  // A healthy rack reaches it, less frame overhead and latency.
  const double measured = collective(ring, CollectiveOp::allreduce, 1ULL << 30).busbw_gbps;
  EXPECT_GT(measured, 0.9 * ring.fabric->peak_busbw_gbps(CollectiveOp::allreduce));
  EXPECT_LT(measured, ring.fabric->peak_busbw_gbps(CollectiveOp::allreduce));
  // A degraded link does not lower the peak (it is the SKU's figure).
  Fault degraded = link_fault(FaultKind::link_degraded, 0);
  degraded.bandwidth_factor = 0.25;
  Rack slow = make_rack(sku, Topology::ring, 8, {{1, {degraded}}});
  EXPECT_DOUBLE_EQ(slow.fabric->peak_busbw_gbps(CollectiveOp::allreduce),
                   ring.fabric->peak_busbw_gbps(CollectiveOp::allreduce));
  for (const auto topology : {Topology::torus2d, Topology::full}) {
    // A full mesh needs a link to every other chip.
    const int n = topology == Topology::full ? static_cast<int>(sku.links) + 1 : 8;
    Rack rack = make_rack(sku, topology, n);
    for (const auto op : {CollectiveOp::allreduce, CollectiveOp::alltoall, CollectiveOp::sendrecv}) {
      SCOPED_TRACE(fmt::format("{} {}", to_string(topology), to_string(op)));
      const double peak = rack.fabric->peak_busbw_gbps(op);
      EXPECT_GT(peak, 0.0);
      const CollectiveSlice slice = collective(rack, op, 1ULL << 30);
      EXPECT_TRUE(slice.stalled.empty()) << slice.stalled;
      EXPECT_LT(slice.busbw_gbps, peak);
      EXPECT_GT(slice.busbw_gbps, 0.85 * peak);
    }
  }
}

TEST(Fabric, CrcErrorsCountAtTheFaultyReceiverAndRetransmitsCostBandwidth) {
  Fault crc = link_fault(FaultKind::link_crc, 1);
  crc.ber = 1e-5;
  Rack healthy = make_rack(test::trn2(), Topology::ring, 4);
  Rack noisy = make_rack(test::trn2(), Topology::ring, 4, {{2, {crc}}});
  const CollectiveSlice h = collective(healthy, CollectiveOp::allreduce, 64ULL << 20, false);
  const CollectiveSlice s = collective(noisy, CollectiveOp::allreduce, 64ULL << 20, false);
  const double frame_error = -std::expm1(272 * 8 * std::log1p(-1e-5));
  EXPECT_NEAR(s.busbw_gbps / h.busbw_gbps, 1 - frame_error, 0.002);
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 2; ++l) {
      const auto& link = s.links[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)];
      if (c == 2 && l == 1) {
        const double expected = link.retransmits;  // every bad frame is resent
        EXPECT_GT(link.crc_errors, 0u);
        EXPECT_EQ(static_cast<double>(link.crc_errors), expected);
        // Frames received on chip 2's link 1 were sent by chip 1 on its link 0.
        const double frames = s.links[1][0].sent_bytes / kFramePayloadBytes;
        EXPECT_NEAR(static_cast<double>(link.crc_errors), frames * frame_error / (1 - frame_error),
                    6 * std::sqrt(frames * frame_error));
      } else {
        EXPECT_EQ(link.crc_errors, 0u) << c << " " << l;
      }
    }
  }
  const double after_one = noisy.chip(2).telemetry().links[1].crc_errors.value();
  EXPECT_EQ(after_one, static_cast<double>(s.links[2][1].crc_errors));
  (void)collective(noisy, CollectiveOp::allreduce, 64ULL << 20, false);
  EXPECT_GT(noisy.chip(2).telemetry().links[1].crc_errors.value(), after_one);  // cumulative
  noisy.chip(2).start_run(1);
  EXPECT_EQ(noisy.chip(2).telemetry().links[1].crc_errors, 0.0);
  EXPECT_EQ(noisy.chip(1).telemetry().links[0].crc_errors, 0.0);
}

TEST(Fabric, HighBitErrorRateCorruptsDataThatTheCheckCatchesOnThatLink) {
  Fault crc = link_fault(FaultKind::link_crc, 1);
  crc.ber = 1e-4;
  Rack rack = make_rack(test::trn2(), Topology::ring, 4, {{2, {crc}}});
  std::uint64_t caught = 0, wrong_words = 0;
  for (int i = 0; i < 5; ++i) {
    const CollectiveSlice slice = collective(rack, CollectiveOp::allreduce);
    for (const auto& m : slice.mismatches) {
      EXPECT_EQ(m.chip, 2);
      EXPECT_EQ(m.link, 1);
      caught += m.count;
    }
    for (const auto e : slice.result_errors) wrong_words += e;
  }
  EXPECT_GT(caught, 0u);
  EXPECT_GT(wrong_words, 0u);  // the corruption propagated into the reduced results
}

TEST(Fabric, LinkDownShowsAtBothEndsAndTheCollectiveGoesRoundIt) {
  Fault down = link_fault(FaultKind::link_down, 0);
  down.after = Seconds{0.95};
  Rack rack = make_rack(test::trn2(), Topology::ring, 4, {{1, {down}}});
  for (int i = 0; i < 9; ++i) expect_clean(collective(rack, CollectiveOp::allreduce));
  EXPECT_EQ(rack.chip(1).telemetry().links[0].up, true);
  (void)collective(rack, CollectiveOp::allreduce);  // the link drops during this slice
  const CollectiveSlice after = collective(rack, CollectiveOp::allreduce);
  // Re-formed round the dead cable (reformed_collective_test.cpp has the rest).
  expect_clean(after);
  EXPECT_NE(after.reformed.find("link 0 of F-1"), std::string::npos) << after.reformed;
  EXPECT_GT(after.collectives, 0.0);
  EXPECT_FALSE(after.links[1][0].up);
  EXPECT_FALSE(after.links[2][1].up);
  EXPECT_EQ(after.links[1][0].sent_bytes, 0.0);
  EXPECT_EQ(rack.chip(1).telemetry().links[0].up, false);
  EXPECT_EQ(rack.chip(2).telemetry().links[1].up, false);  // the far end lost it too
  EXPECT_EQ(rack.chip(1).telemetry().links[1].up, true);
  EXPECT_EQ(rack.chip(0).telemetry().links[0].up, true);
  EXPECT_EQ(rack.chip(1).telemetry().links[0].gbps, 0.0);
  EXPECT_DOUBLE_EQ(rack.chip(0).now().count(), 1.1);
}

TEST(Fabric, NothingRunsWhenNoTwoLiveChipsAreJoined) {
  Fault hang;
  hang.kind = FaultKind::hang;
  hang.after = Seconds{0};
  Rack rack = make_rack(test::trn2(), Topology::ring, 2, {{1, {hang}}});
  rack.chip(1).idle(Seconds{0.1});
  const CollectiveSlice slice = collective(rack, CollectiveOp::alltoall);
  EXPECT_NE(slice.stalled.find("F-1"), std::string::npos) << slice.stalled;
  EXPECT_EQ(slice.collectives, 0.0);
  EXPECT_DOUBLE_EQ(rack.chip(0).now().count(), 0.1);  // time passes while stalled
}

TEST(Fabric, LinkRatesComeFromTrafficAndOtherWorkClearsThem) {
  Rack rack = make_rack(test::trn2(), Topology::ring, 4);
  (void)collective(rack, CollectiveOp::sendrecv);
  EXPECT_GT(rack.chip(0).telemetry().links[0].gbps.value(), 0.0);
  // sendrecv sends to the next slot; the way back carries the link test
  // stream at its full rate meanwhile (reformed_collective_test.cpp).
  EXPECT_GT(rack.chip(0).telemetry().links[1].gbps.value(), 0.0);
  (void)rack.chip(0).run_gemm(test::big_gemm(DType::bf16, false), Seconds{0.1});
  EXPECT_EQ(rack.chip(0).telemetry().links[0].gbps, 0.0);
}

TEST(Fabric, MixedSkusWithDifferentLinkCountsAreWiredByWhatBothEndsHave) {
  // A full rack of 6: trn2-sim chips have 4 links (one short of 5 peers), h100-sim chips 5.
  Rack rack;
  for (int i = 0; i < 6; ++i) {
    const Sku& sku = i % 2 == 0 ? test::trn2() : test::h100();
    SimChipConfig config = test::chip_config(sku, {}, fmt::format("X-{}", i));
    config.links = chip_link_count(Topology::full, 6, sku);
    rack.chips.push_back(std::make_unique<SimChip>(std::move(config)));
  }
  auto fabric = make_sim_fabric(RackSpec{"r", Backend::sim, Topology::full, {}}, rack.chips);
  ASSERT_TRUE(fabric) << fabric.error().message;
  rack.fabric = std::move(*fabric);
  EXPECT_EQ(rack.chip(0).link_count(), 4);
  EXPECT_EQ(rack.chip(1).link_count(), 5);
  // Chip 5's link 0 would reach chip 0 on chip 0's link 4, which a trn2-sim lacks.
  EXPECT_FALSE(rack.fabric->peer(5, 0).wired());
  EXPECT_EQ(rack.fabric->peer(1, 4).chip, 5);  // two h100-sim ends: wired
  EXPECT_EQ(rack.fabric->peer(1, 4).link, 1);
  for (const auto op : {CollectiveOp::allreduce, CollectiveOp::alltoall}) {
    const CollectiveSlice slice = collective(rack, op, 1ULL << 20);
    expect_clean(slice);
    EXPECT_GT(slice.busbw_gbps, 0.0);
    EXPECT_EQ(slice.links[0].size(), 4u);
    EXPECT_EQ(slice.links[1].size(), 5u);
  }
}

TEST(Fabric, RefusesWhatItCannotRun) {
  Rack one = make_rack(test::trn2(), Topology::ring, 1);
  EXPECT_EQ(one.fabric->run_collective(CollectiveWork{}, Seconds{0.1}).error().code, ErrorCode::invalid_argument);
  Rack two = make_rack(test::trn2(), Topology::ring, 2);
  EXPECT_EQ(two.fabric->run_collective(CollectiveWork{CollectiveOp::allreduce, 0, true}, Seconds{0.1}).error().code,
            ErrorCode::invalid_argument);
  RackSpec cpu{"host", Backend::cpu, Topology::ring, {}};
  EXPECT_FALSE(make_sim_fabric(cpu, two.chips));
  EXPECT_EQ(parse_collective_op("reduce_scatter"), CollectiveOp::reduce_scatter);
  EXPECT_FALSE(parse_collective_op("broadcast"));
}

}  // namespace
}  // namespace kiln::device
