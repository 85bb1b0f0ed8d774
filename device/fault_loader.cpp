#include "device/fault_loader.hpp"

#include <fmt/format.h>

#include "yaml/fields.hpp"

namespace kiln::device::detail {
namespace {

using yaml::Bounds;
using yaml::read_integer;
using yaml::read_number;

constexpr double kHuge = 1e12;

// The fields of one fault entry, read with the entry's own context so that
// every range message can say which SKU or topology it comes from.
class FaultReader {
 public:
  FaultReader(yaml::MapReader& reader, yaml::Diagnostics& diagnostics, std::string what, const FaultContext& context)
      : reader_(reader), diagnostics_(diagnostics), what_(std::move(what)), context_(context) {}

  template <typename T>
  void number(std::string_view key, Bounds bounds, T& field) {
    if (auto v = read_number(reader_, diagnostics_, what_, key, bounds, false)) field = *v;
  }

  void integer(std::string_view key, Bounds bounds, int& field) {
    if (auto v = read_integer(reader_, diagnostics_, what_, key, bounds, false)) field = static_cast<int>(*v);
  }

  // An index into something the chip has `count` of (count < 0: unknown).
  void index(std::string_view key, int count, std::string_view explain, int& field) {
    const yaml::Node* node = reader_.get(key);
    if (node == nullptr) return;
    auto v = yaml::as_integer(*node, diagnostics_, fmt::format("{}.{}", what_, key));
    if (!v) return;
    if (*v < 0 || (count >= 0 && *v >= count)) {
      diagnostics_.error(node->mark(),
                         fmt::format("{}.{}: {} {} does not exist ({})", what_, key, key, *v,
                                     explain.empty() ? std::string_view("must not be negative") : explain));
      return;
    }
    field = static_cast<int>(*v);
  }

  void core(Fault& fault) {
    const Sku* sku = context_.sku;
    index("core", sku ? sku->cores : -1,
          sku ? fmt::format("{} has {} cores, 0..{}", sku->name, sku->cores, sku->cores - 1) : "", fault.core);
  }

  void pe(Fault& fault) {
    const yaml::Node* node = reader_.get("pe");
    if (node == nullptr) return;
    if (!node->is_sequence() || node->items().size() != 2) {
      diagnostics_.error(node->mark(), fmt::format("{}.pe: expected [row, col]", what_));
      return;
    }
    const Sku* sku = context_.sku;
    const int limits[2] = {sku ? sku->pe_rows : -1, sku ? sku->pe_cols : -1};
    const char* names[2] = {"row", "column"};
    int* fields[2] = {&fault.pe_row, &fault.pe_col};
    for (int axis = 0; axis < 2; ++axis) {
      const yaml::Node& item = node->items()[static_cast<std::size_t>(axis)];
      auto v = yaml::as_integer(item, diagnostics_, fmt::format("{}.pe[{}]", what_, axis));
      if (!v) continue;
      if (*v < 0 || (limits[axis] >= 0 && *v >= limits[axis])) {
        diagnostics_.error(
            item.mark(),
            sku ? fmt::format("{}.pe: {} {} is outside the {}×{} systolic array of {} ({}s 0..{})", what_, names[axis],
                              *v, sku->pe_rows, sku->pe_cols, sku->name, names[axis], limits[axis] - 1)
                : fmt::format("{}.pe: {} {} is negative", what_, names[axis], *v));
        continue;
      }
      *fields[axis] = static_cast<int>(*v);
    }
  }

  void hbm_location(Fault& fault) {
    const Sku* sku = context_.sku;
    index("stack", sku ? sku->hbm_stacks : -1,
          sku ? fmt::format("{} has {} HBM stacks, 0..{}", sku->name, sku->hbm_stacks, sku->hbm_stacks - 1) : "",
          fault.stack);
    index("channel", sku ? sku->hbm_channels_per_stack : -1,
          sku ? fmt::format("{} has {} channels per stack, 0..{}", sku->name, sku->hbm_channels_per_stack,
                            sku->hbm_channels_per_stack - 1)
              : "",
          fault.channel);
  }

  void link(Fault& fault) {
    const int topology_links = context_.topology_links;
    std::string explain;
    switch (context_.topology) {
      case Topology::ring: explain = "a chip in a ring rack has links 0 = to the next slot, 1 = to the previous"; break;
      case Topology::torus2d: explain = "a chip in a torus2d rack has links 0..3"; break;
      case Topology::full: explain = "a chip in a full rack has one link to each other chip"; break;
    }
    if (context_.sku) {
      explain += fmt::format("; this chip has {} link{}", context_.links, context_.links == 1 ? "" : "s");
      if (context_.links > 0) explain += fmt::format(", 0..{}", context_.links - 1);
      if (context_.links < topology_links)
        explain += fmt::format(" (its SKU {} has {})", context_.sku->name, context_.sku->links);
    }
    index("link", context_.links, explain, fault.link);
  }

  void after(Fault& fault) {
    fault.after = Seconds{0};  // absent: from the run's first step
    if (auto v = reader_.duration("after")) fault.after = *v;
  }

 private:
  yaml::MapReader& reader_;
  yaml::Diagnostics& diagnostics_;
  std::string what_;
  const FaultContext& context_;
};

std::string kind_list() {
  std::string out;
  for (int i = 0; i <= static_cast<int>(FaultKind::hang); ++i) {
    out += (out.empty() ? "" : ", ") + std::string(to_string(static_cast<FaultKind>(i)));
  }
  return out;
}

}  // namespace

std::optional<Fault> load_fault(const yaml::Node& node, yaml::Diagnostics& diagnostics, const std::string& what,
                                const FaultContext& context) {
  const std::size_t errors_before = diagnostics.size();
  if (!node.is_map()) {
    yaml::MapReader reports(node, diagnostics, what);  // "expected a mapping"
    return std::nullopt;
  }
  const yaml::Node* kind_node = node.find("kind");
  if (kind_node == nullptr) {
    diagnostics.error(node.mark(), fmt::format("{}: missing required key 'kind' (one of: {})", what, kind_list()));
    return std::nullopt;
  }
  const auto kind_text = yaml::as_string(*kind_node, diagnostics, what + ".kind");
  if (!kind_text) return std::nullopt;
  const auto kind = parse_fault_kind(*kind_text);
  if (!kind) {
    // Without a kind the other keys cannot be judged: report only this.
    diagnostics.error(kind_node->mark(), fmt::format("{}.kind: unknown fault kind '{}' (expected one of: {})", what,
                                                     *kind_text, kind_list()));
    return std::nullopt;
  }

  Fault fault;
  fault.kind = *kind;
  fault.mark = node.mark();
  // Named with its kind, so that "unknown key" says which kind lacks the field.
  yaml::MapReader reader(node, diagnostics, fmt::format("{} ({})", what, *kind_text));
  reader.get("kind");
  FaultReader fields(reader, diagnostics, what, context);
  const Sku* sku = context.sku;
  switch (*kind) {
    case FaultKind::sdc:
      fields.core(fault);
      fields.pe(fault);
      fields.integer("bit", {0, 31}, fault.bit);
      fields.number("rate", {0, 1}, fault.rate);
      if (auto v = read_number(reader, diagnostics, what, "above_c", {-50, 250}, false)) fault.above_c = *v;
      if (auto v = read_number(reader, diagnostics, what, "above_mhz", {0, kHuge}, false)) fault.above_mhz = *v;
      break;
    case FaultKind::margin: {
      const double span = sku ? sku->max_clock_mhz : kHuge;
      fields.number("fmax_offset_mhz", {-span, span}, fault.fmax_offset_mhz);
      break;
    }
    case FaultKind::slow: fields.number("factor", {0, 1, true}, fault.factor); break;
    case FaultKind::cooling: fields.number("r_th_factor", {0, 100, true}, fault.r_th_factor); break;
    case FaultKind::hbm_ce:
      fields.hbm_location(fault);
      fields.number("rate_per_hour", {0, kHuge}, fault.rate_per_hour);
      break;
    case FaultKind::hbm_ue:
      fields.hbm_location(fault);
      fields.after(fault);
      break;
    case FaultKind::hbm_stuck:
      fields.hbm_location(fault);
      fields.integer("bit", {0, 63}, fault.bit);
      break;
    case FaultKind::link_crc:
      fields.link(fault);
      fields.number("ber", {0, 1}, fault.ber);
      break;
    case FaultKind::link_degraded:
      fields.link(fault);
      fields.number("bandwidth_factor", {0, 1, true}, fault.bandwidth_factor);
      break;
    case FaultKind::link_down:
      fields.link(fault);
      fields.after(fault);
      break;
    case FaultKind::hang: fields.after(fault); break;
  }
  reader.finish();  // a field of another kind is an unknown key here
  if (diagnostics.size() != errors_before) return std::nullopt;
  return fault;
}

}  // namespace kiln::device::detail
