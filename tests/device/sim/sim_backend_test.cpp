// The simulator as a registered backend: a sim rack of the demo lab comes
// back as its chips in slot order and the fabric over them; other racks
// are not the simulator's to make.
#include "device/sim/sim_backend.hpp"

#include <gtest/gtest.h>

#include "tests/device/sim/sim_test_support.hpp"

namespace kiln::device {
namespace {

TEST(SimBackend, MakesADemoRackWithItsFabric) {
  auto lab = load_lab_file(test::source_path("device/labs/demo.yaml"), test::shipped_catalog());
  ASSERT_TRUE(lab) << lab.error().message;
  BackendRegistry registry;
  register_sim_backend(registry);
  EXPECT_EQ(registry.backends(), std::vector<Backend>{Backend::sim});

  auto rack = registry.make_rack(*lab, *lab->find_rack("r02"), test::shipped_catalog());
  ASSERT_TRUE(rack) << rack.error().message;
  ASSERT_EQ(rack->chips.size(), 8u);
  EXPECT_EQ(rack->chips[5]->identity().serial, "TRN-0205");
  ASSERT_NE(rack->fabric, nullptr);
  EXPECT_EQ(rack->fabric->chip_count(), 8);
}

TEST(SimBackend, RefusesARackThatIsNotSimulated) {
  Lab lab;
  RackSpec cpu{"host", Backend::cpu, Topology::ring, {}};
  EXPECT_EQ(make_sim_rack(lab, cpu, test::shipped_catalog()).error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace kiln::device
