// The host CPU as a registered backend: a cpu rack of one chip is that
// chip and no fabric (nothing to link); other racks are not its to make.
#include "device/cpu/cpu_backend.hpp"

#include <gtest/gtest.h>

namespace kiln::device {
namespace {

TEST(CpuBackend, AHostOfOneChipHasNoFabric) {
  Lab lab;
  lab.name = "cpu";
  RackSpec host{"host", Backend::cpu, Topology::ring, {}};
  host.cpu_chips = 1;
  lab.racks.push_back(host);
  BackendRegistry registry;
  register_cpu_backend(registry);
  EXPECT_EQ(registry.backends(), std::vector<Backend>{Backend::cpu});

  auto rack = registry.make_rack(lab, lab.racks[0], SkuCatalog{});
  ASSERT_TRUE(rack) << rack.error().message;
  ASSERT_EQ(rack->chips.size(), 1u);
  EXPECT_EQ(rack->chips[0]->identity().rack, "host");
  EXPECT_EQ(rack->fabric, nullptr);
}

TEST(CpuBackend, RefusesARackThatIsNotTheHost) {
  Lab lab;
  RackSpec sim{"r01", Backend::sim, Topology::ring, {}};
  EXPECT_FALSE(make_cpu_rack(lab, sim, SkuCatalog{}));
}

}  // namespace
}  // namespace kiln::device
