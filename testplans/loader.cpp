#include "testplans/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "testplans/step_reader.hpp"

namespace kiln::plan {
namespace {

using yaml::Diagnostics;
using yaml::MapReader;
using yaml::Node;

constexpr double kMinSampleHz = 0.1;
constexpr double kMaxSampleHz = 1000;
constexpr std::int64_t kMaxRepeat = 10000;
// A generated or mangled file can hold thousands of errors; past this many a
// user learns nothing more from the rest than their number.
constexpr std::size_t kMaxDiagnostics = 100;

Targets read_targets(const Node& node, Diagnostics& diagnostics) {
  Targets targets;
  MapReader reader(node, diagnostics, "targets");
  const Node* racks = reader.get("racks");
  if (const Node* sku = reader.get("sku")) {
    const auto text = yaml::as_string(*sku, diagnostics, "targets.sku");
    if (text && text->empty()) diagnostics.error(sku->mark(), "targets.sku: must not be empty");
    if (text && !text->empty()) targets.sku = *text;
  }
  reader.finish();
  if (racks == nullptr) return targets;

  if (racks->is_scalar() && !racks->quoted() && racks->scalar() == "all") return targets;
  if (!racks->is_sequence()) {
    diagnostics.error(racks->mark(),
                      fmt::format("targets.racks: expected all or a list of rack ids such as [r01, r02], "
                                  "got {}",
                                  racks->is_scalar() ? "'" + racks->scalar() + "'"
                                                     : std::string("a ") + Node::kind_name(racks->kind())));
    return targets;
  }
  if (racks->items().empty()) {
    diagnostics.error(racks->mark(), "targets.racks: the list is empty (use `racks: all` for every rack)");
    return targets;
  }
  targets.all_racks = false;
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < racks->items().size(); ++i) {
    const Node& item = racks->items()[i];
    const auto id = yaml::as_string(item, diagnostics, fmt::format("targets.racks[{}]", i));
    if (!id) continue;
    if (id->empty()) {
      diagnostics.error(item.mark(), fmt::format("targets.racks[{}]: empty rack id", i));
    } else if (!seen.insert(*id).second) {
      diagnostics.error(item.mark(), fmt::format("targets.racks[{}]: rack '{}' is listed twice", i, *id));
    } else {
      targets.racks.push_back(*id);
    }
  }
  return targets;
}

void read_top_level(const Node& root, Plan& plan, const PatternRegistry& registry, Diagnostics& diagnostics) {
  MapReader reader(root, diagnostics, "");
  if (!reader.valid()) return;

  if (const auto name = reader.string("plan", true)) {
    if (is_valid_name(*name)) {
      plan.name = *name;
    } else {
      diagnostics.error(
          reader.node().find("plan")->mark(),
          fmt::format("plan: '{}' is not a valid plan name (1 to {} of a-z, 0-9, '_' and '-')", *name, kMaxNameLength));
    }
  }
  if (const auto description = reader.string("description")) plan.description = *description;
  if (const auto seed = reader.integer("seed")) {
    if (*seed >= 0) {
      plan.seed = static_cast<std::uint64_t>(*seed);
    } else {
      diagnostics.error(reader.node().find("seed")->mark(),
                        fmt::format("seed: must be a non-negative integer, got {}", *seed));
    }
  }
  if (const Node* targets = reader.get("targets")) plan.targets = read_targets(*targets, diagnostics);
  if (const auto hz = reader.number("sample_hz")) {
    if (reader.check_range("sample_hz", *hz, kMinSampleHz, kMaxSampleHz)) plan.sample_hz = *hz;
  }
  const Node* steps = reader.get("steps", true);
  if (const auto repeat = reader.integer("repeat")) {
    if (reader.check_range("repeat", static_cast<double>(*repeat), 1, static_cast<double>(kMaxRepeat))) {
      plan.repeat = static_cast<std::uint32_t>(*repeat);
    }
  }
  reader.finish();
  if (steps != nullptr) plan.phases = read_steps(*steps, registry, diagnostics);
}

// In file order, whatever order the checks ran in; errors without a
// position (whole-file problems) first. At most kMaxDiagnostics, then a count.
std::vector<yaml::Diagnostic> sorted(const Diagnostics& diagnostics) {
  std::vector<yaml::Diagnostic> list = diagnostics.list();
  std::stable_sort(list.begin(), list.end(), [](const yaml::Diagnostic& a, const yaml::Diagnostic& b) {
    return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
  });
  if (list.size() > kMaxDiagnostics) {
    const std::size_t more = list.size() - kMaxDiagnostics;
    list.resize(kMaxDiagnostics);
    list.push_back(yaml::Diagnostic{diagnostics.file(), {}, fmt::format("{} more errors not shown", more)});
  }
  return list;
}

LoadResult single_error(const std::string& file, std::string message) {
  LoadResult result;
  result.diagnostics.push_back(yaml::Diagnostic{file, {}, std::move(message)});
  return result;
}

}  // namespace

LoadResult load_plan(std::string_view text, std::string_view file, const PatternRegistry& registry) {
  Diagnostics diagnostics{std::string(file)};
  LoadResult result;
  const auto root = yaml::parse(text, diagnostics);
  if (root) {
    Plan plan;
    read_top_level(*root, plan, registry, diagnostics);
    if (diagnostics.empty()) {
      plan.text = std::string(text);
      plan.source_path = std::string(file);
      result.plan = std::move(plan);
    }
  }
  result.diagnostics = sorted(diagnostics);
  return result;
}

LoadResult load_plan_file(const std::string& path, const PatternRegistry& registry) {
  const std::size_t max_bytes = yaml::Limits{}.max_bytes;
  // Size first: an oversized file is refused without being read.
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return single_error(path, "cannot read: " + ec.message());
  if (size > max_bytes) {
    return single_error(path, fmt::format("file is {} bytes, larger than the {} byte limit", size, max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return single_error(path, std::string("cannot read: ") + std::strerror(errno));
  // Read at most one byte past the cap in case the file grew since the stat.
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return single_error(path, std::string("cannot read: ") + std::strerror(errno));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return load_plan(text, path, registry);
}

}  // namespace kiln::plan
