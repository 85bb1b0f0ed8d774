// The backend registry: a rack's hardware comes from the factory of its
// backend, and a backend this binary was built without is refused with
// that reason (and the list of what it has) rather than made up.
#include "device/backend_registry.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace kiln::device {
namespace {

Lab lab_with(Backend backend) {
  Lab lab;
  lab.name = "t";
  RackSpec rack;
  rack.id = "r01";
  rack.backend = backend;
  lab.racks.push_back(rack);
  return lab;
}

RackFactory recording(std::string& seen) {
  return [&seen](const Lab& lab, const RackSpec& rack, const SkuCatalog&) -> Result<RackHardware> {
    seen = lab.name + "/" + rack.id + "/" + to_string(rack.backend);
    return RackHardware{};
  };
}

TEST(BackendRegistry, MakesARackWithTheFactoryOfItsBackend) {
  std::string sim_seen, cpu_seen;
  BackendRegistry registry;
  registry.add(Backend::sim, recording(sim_seen));
  registry.add(Backend::cpu, recording(cpu_seen));

  const Lab lab = lab_with(Backend::cpu);
  auto made = registry.make_rack(lab, lab.racks[0], SkuCatalog{});
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(cpu_seen, "t/r01/cpu");
  EXPECT_EQ(sim_seen, "");
}

TEST(BackendRegistry, ABackendNotBuiltInIsRefusedNamingWhatIs) {
  std::string seen;
  BackendRegistry registry;
  registry.add(Backend::cpu, recording(seen));
  registry.add(Backend::sim, recording(seen));

  const Lab lab = lab_with(Backend::cuda);
  auto made = registry.make_rack(lab, lab.racks[0], SkuCatalog{});
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(made.error().message, "backend cuda is not built into this binary (built: sim, cpu)");
  EXPECT_EQ(seen, "");

  auto none = BackendRegistry{}.make_rack(lab, lab.racks[0], SkuCatalog{});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "backend cuda is not built into this binary (built: none)");
}

TEST(BackendRegistry, AFactoryErrorComesBackUnchanged) {
  BackendRegistry registry;
  registry.add(Backend::sim, [](const Lab&, const RackSpec& rack, const SkuCatalog&) -> Result<RackHardware> {
    return make_error(ErrorCode::not_found, "rack '{}': unknown SKU", rack.id);
  });
  const Lab lab = lab_with(Backend::sim);
  auto made = registry.make_rack(lab, lab.racks[0], SkuCatalog{});
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, ErrorCode::not_found);
  EXPECT_EQ(made.error().message, "rack 'r01': unknown SKU");
}

TEST(BackendRegistry, ListsItsBackendsInEnumOrder) {
  std::string seen;
  BackendRegistry registry;
  EXPECT_TRUE(registry.backends().empty());
  registry.add(Backend::cuda, recording(seen));
  registry.add(Backend::sim, recording(seen));
  EXPECT_EQ(registry.backends(), (std::vector<Backend>{Backend::sim, Backend::cuda}));
  EXPECT_TRUE(registry.has(Backend::sim));
  EXPECT_FALSE(registry.has(Backend::cpu));
}

TEST(BackendRegistry, RegisteringABackendTwiceIsAProgrammingError) {
  std::string seen;
  BackendRegistry registry;
  registry.add(Backend::sim, recording(seen));
  EXPECT_THROW(registry.add(Backend::sim, recording(seen)), std::logic_error);
  EXPECT_THROW(registry.add(Backend::cpu, RackFactory{}), std::logic_error);
}

}  // namespace
}  // namespace kiln::device
