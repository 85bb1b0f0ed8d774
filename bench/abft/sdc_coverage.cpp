// What the shipped plans catch: for every plan in testplans/ and every
// shipped SKU, the GEMMs each gemm step compares bit for bit and checks by
// ABFT on one healthy simulated chip (agents/sdc_coverage.hpp), and the
// probability that an SDC of a given per-GEMM rate, at any bit, is caught.
// Figures at the SKU's max clock (a cool chip) and at its base clock (a
// chip held down by its thermal limit). Prints JSON; docs/verdicts.md
// quotes it.
//
//   build/<dir>/bin/sdc_coverage
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/sdc_coverage.hpp"
#include "device/sim/compute_model.hpp"
#include "device/sku.hpp"
#include "testplans/loader.hpp"

namespace {

nlohmann::json figures(const kiln::agent::SdcCoverage& coverage) {
  nlohmann::json catches = nlohmann::json::object();
  for (const double rate : {1e-3, 1e-4, 1e-5, 1e-6}) {
    char key[16];
    std::snprintf(key, sizeof key, "%.0e", rate);
    catches[key] = coverage.catch_probability(rate);
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : coverage.steps) {
    steps.push_back({{"step", s.step},
                     {"repeat", s.repeat_index},
                     {"verify", s.verify},
                     {"chip_seconds", s.chip_seconds},
                     {"bitwise_gemms", s.bitwise_gemms},
                     {"checksum_gemms", s.checksum_gemms}});
  }
  return {{"bitwise_gemms", coverage.bitwise_gemms},
          {"checksum_gemms", coverage.checksum_gemms},
          {"catch_probability_by_rate", catches},
          {"rate_caught_99_9pct", coverage.rate_caught_with(0.999)},
          {"steps", steps}};
}

}  // namespace

int main() {
  const std::string source = KILN_SOURCE_DIR;
  auto catalog = kiln::device::SkuCatalog::load_directory(source + "/device/skus");
  if (!catalog) {
    std::fprintf(stderr, "sdc_coverage: %s\n", catalog.error().message.c_str());
    return 1;
  }
  nlohmann::json out = nlohmann::json::array();
  std::vector<std::filesystem::path> plans;
  for (const auto& entry : std::filesystem::directory_iterator(source + "/testplans")) {
    if (entry.path().extension() == ".yaml") plans.push_back(entry.path());
  }
  std::sort(plans.begin(), plans.end());
  for (const auto& path : plans) {
    auto loaded = kiln::plan::load_plan_file(path.string(), kiln::plan::PatternRegistry::builtin());
    if (!loaded.plan) {
      std::fprintf(stderr, "sdc_coverage: %s does not load\n", path.c_str());
      return 1;
    }
    for (const auto& name : catalog->names()) {
      const kiln::device::Sku& sku = *catalog->find(name);
      const auto at_clock = [&](double clock_mhz) {
        return kiln::agent::sdc_coverage(*loaded.plan, [&](const kiln::device::GemmWork& work) {
          return kiln::device::gemm_flops_per_second(sku, work, clock_mhz) / kiln::device::gemm_flops(work);
        });
      };
      out.push_back({{"plan", loaded.plan->name},
                     {"sku", name},
                     {"at_max_clock", figures(at_clock(sku.max_clock_mhz))},
                     {"at_base_clock", figures(at_clock(sku.base_clock_mhz))}});
    }
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
