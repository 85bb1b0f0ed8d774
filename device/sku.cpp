#include "device/sku.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "device/sku_loader.hpp"
#include "yaml/config_file.hpp"
#include "yaml/fields.hpp"

namespace kiln::device {

const char* to_string(DType dtype) {
  switch (dtype) {
    case DType::fp32: return "fp32";
    case DType::bf16: return "bf16";
    case DType::fp16: return "fp16";
    case DType::fp8: return "fp8";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view text) {
  for (const DType d : {DType::fp32, DType::bf16, DType::fp16, DType::fp8}) {
    if (text == to_string(d)) return d;
  }
  return std::nullopt;
}

double Sku::peak(DType dtype) const {
  const auto it = peak_tflops.find(dtype);
  return it == peak_tflops.end() ? 0.0 : it->second;
}

namespace {

using yaml::Bounds;
using yaml::read_integer;
using yaml::read_number;

constexpr std::string_view kWhat = "sku";
constexpr double kHuge = 1e12;

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

void read_peaks(const yaml::Node& node, yaml::Diagnostics& diagnostics, Sku& sku) {
  if (!node.is_map() || node.entries().empty()) {
    diagnostics.error(node.mark(), "sku.peak_tflops: expected a mapping of dtype to dense TFLOPS, e.g. {bf16: 667}");
    return;
  }
  for (const auto& [key, value] : node.entries()) {
    const auto dtype = parse_dtype(key.scalar());
    if (!dtype) {
      diagnostics.error(
          key.mark(),
          fmt::format("sku.peak_tflops: unknown dtype '{}' (expected fp32, bf16, fp16 or fp8)", key.scalar()));
      continue;
    }
    const auto tflops = yaml::as_number(value, diagnostics, fmt::format("sku.peak_tflops.{}", key.scalar()));
    if (!tflops) continue;
    if (*tflops <= 0) {
      diagnostics.error(value.mark(), fmt::format("sku.peak_tflops.{}: must be > 0, got {}", key.scalar(), *tflops));
      continue;
    }
    sku.peak_tflops[*dtype] = *tflops;
  }
}

template <typename T, typename V>
void assign(T& field, const std::optional<V>& value) {
  if (value) field = static_cast<T>(*value);
}

}  // namespace

namespace detail {

std::optional<Sku> load_sku_with_mark(std::string_view text, yaml::Diagnostics& diagnostics, yaml::Mark* name_mark) {
  const std::size_t errors_before = diagnostics.size();
  const auto root = yaml::parse(text, diagnostics);
  if (!root) return std::nullopt;
  yaml::MapReader reader(*root, diagnostics, std::string(kWhat));
  if (!reader.valid()) return std::nullopt;

  Sku sku;
  if (const yaml::Node* name = reader.get("sku", true)) {
    if (auto text_name = yaml::as_string(*name, diagnostics, "sku.sku")) {
      if (valid_name(*text_name)) {
        sku.name = *text_name;
      } else {
        diagnostics.error(name->mark(),
                          fmt::format("sku.sku: '{}' is not a valid SKU name (letters, digits, - _ .)", *text_name));
      }
    }
    if (name_mark != nullptr) *name_mark = name->mark();
  }
  assign(sku.description, reader.string("description"));
  if (const yaml::Node* peaks = reader.get("peak_tflops", true)) read_peaks(*peaks, diagnostics, sku);

  const Bounds positive{0, kHuge, true};
  assign(sku.cores, read_integer(reader, diagnostics, kWhat, "cores", {1, 4096}, true));
  assign(sku.pe_rows, read_integer(reader, diagnostics, kWhat, "pe_rows", {1, 1024}, true));
  assign(sku.pe_cols, read_integer(reader, diagnostics, kWhat, "pe_cols", {1, 1024}, true));
  assign(sku.hbm_stacks, read_integer(reader, diagnostics, kWhat, "hbm_stacks", {1, 64}, true));
  assign(sku.hbm_channels_per_stack,
         read_integer(reader, diagnostics, kWhat, "hbm_channels_per_stack", {1, 256}, true));
  assign(sku.hbm_capacity_gib, read_number(reader, diagnostics, kWhat, "hbm_capacity_gib", positive, true));
  assign(sku.hbm_bandwidth_gbps, read_number(reader, diagnostics, kWhat, "hbm_bandwidth_gbps", positive, true));
  assign(sku.links, read_integer(reader, diagnostics, kWhat, "links", {0, 1024}, true));
  assign(sku.link_bandwidth_gbps, read_number(reader, diagnostics, kWhat, "link_bandwidth_gbps",
                                              sku.links > 0 ? positive : Bounds{0, kHuge}, true));
  assign(sku.tdp_w, read_number(reader, diagnostics, kWhat, "tdp_w", positive, true));
  assign(sku.idle_w, read_number(reader, diagnostics, kWhat, "idle_w", {0, kHuge}, true));
  assign(sku.base_clock_mhz, read_number(reader, diagnostics, kWhat, "base_clock_mhz", positive, true));
  assign(sku.max_clock_mhz, read_number(reader, diagnostics, kWhat, "max_clock_mhz", positive, true));
  assign(sku.nominal_voltage_mv, read_number(reader, diagnostics, kWhat, "nominal_voltage_mv", positive, true));
  assign(sku.thermal_resistance_c_per_w,
         read_number(reader, diagnostics, kWhat, "thermal_resistance_c_per_w", positive, true));
  assign(sku.thermal_capacitance_j_per_c,
         read_number(reader, diagnostics, kWhat, "thermal_capacitance_j_per_c", positive, true));
  assign(sku.throttle_c, read_number(reader, diagnostics, kWhat, "throttle_c", {0, 200, true}, true));
  assign(sku.critical_c, read_number(reader, diagnostics, kWhat, "critical_c", {0, 250, true}, true));
  reader.finish();

  // Relations between fields, reported at the second field of each pair.
  const auto relation = [&](bool holds, std::string_view key, std::string message) {
    if (holds) return;
    const yaml::Node* node = reader.node().find(key);
    diagnostics.error(node ? node->mark() : root->mark(), fmt::format("sku.{}: {}", key, message));
  };
  if (diagnostics.size() == errors_before) {
    relation(sku.idle_w < sku.tdp_w, "idle_w", fmt::format("{} W must be below tdp_w ({} W)", sku.idle_w, sku.tdp_w));
    relation(sku.max_clock_mhz >= sku.base_clock_mhz, "max_clock_mhz",
             fmt::format("{} MHz must be at least base_clock_mhz ({} MHz)", sku.max_clock_mhz, sku.base_clock_mhz));
    relation(sku.critical_c > sku.throttle_c, "critical_c",
             fmt::format("{} °C must be above throttle_c ({} °C)", sku.critical_c, sku.throttle_c));
  }
  if (diagnostics.size() != errors_before) return std::nullopt;
  return sku;
}

}  // namespace detail

std::optional<Sku> load_sku(std::string_view text, yaml::Diagnostics& diagnostics) {
  return detail::load_sku_with_mark(text, diagnostics, nullptr);
}

Result<SkuCatalog> SkuCatalog::load_directory(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return make_error(ErrorCode::not_found, "{}: no such SKU directory", dir);
  }
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  if (ec) return make_error(ErrorCode::io, "{}: {}", dir, ec.message());
  std::sort(files.begin(), files.end());  // directory order is arbitrary; messages should not be
  if (files.empty()) return make_error(ErrorCode::not_found, "{}: no SKU files (*.yaml)", dir);

  SkuCatalog catalog;
  std::map<std::string, std::string> defined_in;
  std::string errors;
  for (const auto& file : files) {
    auto text = yaml::read_config_file(file);
    if (!text) {
      errors += text.error().message + "\n";
      continue;
    }
    yaml::Diagnostics diagnostics(file);
    yaml::Mark name_mark;
    auto sku = detail::load_sku_with_mark(*text, diagnostics, &name_mark);
    if (sku) {
      if (const auto [it, inserted] = defined_in.emplace(sku->name, file); !inserted) {
        diagnostics.error(name_mark, fmt::format("duplicate SKU '{}' (already defined in {})", sku->name, it->second));
      } else {
        catalog.add(std::move(*sku));
      }
    }
    errors += diagnostics.to_string();
  }
  if (!errors.empty()) {
    errors.pop_back();  // the last newline
    return Error{ErrorCode::parse, std::move(errors)};
  }
  return catalog;
}

void SkuCatalog::add(Sku sku) {
  std::string name = sku.name;
  skus_.insert_or_assign(std::move(name), std::move(sku));
}

const Sku* SkuCatalog::find(std::string_view name) const {
  const auto it = skus_.find(name);
  return it == skus_.end() ? nullptr : &it->second;
}

std::vector<std::string> SkuCatalog::names() const {
  std::vector<std::string> out;
  out.reserve(skus_.size());
  for (const auto& [name, sku] : skus_) out.push_back(name);
  return out;
}

}  // namespace kiln::device
