#pragma once
// A chip model's datasheet (device/skus/*.yaml): what "peak" means for
// `of: peak` limits, and the parameters the simulator's physics needs.
// A SKU file has one key per field below (the name under `sku:`, the
// peaks as `peak_tflops: {bf16: 667, …}`); all but `description` are required.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::device {

enum class DType { fp32, bf16, fp16, fp8 };
const char* to_string(DType dtype);
std::optional<DType> parse_dtype(std::string_view text);

struct Sku {
  std::string name;
  std::string description;
  std::map<DType, double> peak_tflops;  // dense, per dtype the chip supports
  int cores = 1;
  int pe_rows = 128;  // systolic array per core
  int pe_cols = 128;
  int hbm_stacks = 0;
  int hbm_channels_per_stack = 0;
  double hbm_capacity_gib = 0;
  double hbm_bandwidth_gbps = 0;  // GB/s, whole chip
  int links = 0;
  double link_bandwidth_gbps = 0;  // GB/s per link per direction
  double tdp_w = 0;
  double idle_w = 0;
  double base_clock_mhz = 0;
  double max_clock_mhz = 0;
  double nominal_voltage_mv = 0;
  double thermal_resistance_c_per_w = 0;  // die to ambient
  double thermal_capacitance_j_per_c = 0;
  double throttle_c = 0;
  double critical_c = 0;

  double peak(DType dtype) const;  // 0 when unsupported
};

// Parses one SKU file with the strict YAML rules (unknown keys, types,
// ranges), reporting into `diagnostics`.
std::optional<Sku> load_sku(std::string_view text, yaml::Diagnostics& diagnostics);

// All SKUs of a directory (device/skus), keyed by name.
class SkuCatalog {
 public:
  static Result<SkuCatalog> load_directory(const std::string& dir);  // error text lists every diagnostic
  void add(Sku sku);
  const Sku* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Sku, std::less<>> skus_;
};

}  // namespace kiln::device
