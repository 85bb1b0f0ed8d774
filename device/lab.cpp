#include "device/lab.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>

#include "device/fault_loader.hpp"
#include "yaml/config_file.hpp"
#include "yaml/fields.hpp"

namespace kiln::device {

const char* to_string(Backend backend) {
  switch (backend) {
    case Backend::sim: return "sim";
    case Backend::cpu: return "cpu";
    case Backend::cuda: return "cuda";
  }
  return "?";
}

const char* to_string(Topology topology) {
  switch (topology) {
    case Topology::ring: return "ring";
    case Topology::torus2d: return "torus2d";
    case Topology::full: return "full";
  }
  return "?";
}

const char* to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::sdc: return "sdc";
    case FaultKind::margin: return "margin";
    case FaultKind::slow: return "slow";
    case FaultKind::cooling: return "cooling";
    case FaultKind::hbm_ce: return "hbm_ce";
    case FaultKind::hbm_ue: return "hbm_ue";
    case FaultKind::hbm_stuck: return "hbm_stuck";
    case FaultKind::link_crc: return "link_crc";
    case FaultKind::link_degraded: return "link_degraded";
    case FaultKind::link_down: return "link_down";
    case FaultKind::hang: return "hang";
  }
  return "?";
}

std::optional<Backend> parse_backend(std::string_view text) {
  for (const Backend b : {Backend::sim, Backend::cpu, Backend::cuda}) {
    if (text == to_string(b)) return b;
  }
  return std::nullopt;
}

std::optional<Topology> parse_topology(std::string_view text) {
  for (const Topology t : {Topology::ring, Topology::torus2d, Topology::full}) {
    if (text == to_string(t)) return t;
  }
  return std::nullopt;
}

std::optional<FaultKind> parse_fault_kind(std::string_view text) {
  for (int i = 0; i <= static_cast<int>(FaultKind::hang); ++i) {
    const auto kind = static_cast<FaultKind>(i);
    if (text == to_string(kind)) return kind;
  }
  return std::nullopt;
}

int topology_link_count(Topology topology, std::size_t chips) {
  switch (topology) {
    case Topology::ring: return 2;
    case Topology::torus2d: return 4;
    case Topology::full: return chips == 0 ? 0 : static_cast<int>(chips - 1);
  }
  return 0;
}

int chip_link_count(Topology topology, std::size_t chips, const Sku& sku) {
  return std::min(topology_link_count(topology, chips), sku.links);
}

const RackSpec* Lab::find_rack(std::string_view id) const {
  for (const auto& rack : racks) {
    if (rack.id == id) return &rack;
  }
  return nullptr;
}

namespace {

using yaml::read_integer;
using yaml::read_number;

constexpr std::size_t kMaxIdentifierBytes = 64;  // lab names, rack ids, serials

bool valid_identifier(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdentifierBytes) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
}

std::string where(yaml::Mark mark) { return fmt::format("line {}, column {}", mark.line, mark.column); }

// State shared by all racks of one file: names that must be unique.
class LabLoader {
 public:
  LabLoader(yaml::Diagnostics& diagnostics, const SkuCatalog& catalog) : diagnostics_(diagnostics), catalog_(catalog) {}

  std::optional<RackSpec> rack(const yaml::Node& node, const std::string& what);

 private:
  std::optional<std::string> identifier(yaml::MapReader& reader, const std::string& what, std::string_view key);
  const Sku* sku(yaml::MapReader& reader, const std::string& what, std::string& name);
  void unique_serial(const std::string& serial, yaml::Mark mark, const std::string& what);
  void count_form(const yaml::Node& node, const std::string& what, RackSpec& rack);
  void list_form(const yaml::Node& node, const std::string& what, RackSpec& rack);
  // A topology the rack's chips cannot be cabled as: a chip would need more
  // links than its SKU has (a full mesh of 16 four-link chips).
  void check_wiring(const RackSpec& rack, yaml::Mark mark, const std::string& what);

  yaml::Diagnostics& diagnostics_;
  const SkuCatalog& catalog_;
  std::map<std::string, yaml::Mark> rack_ids_;
  std::map<std::string, yaml::Mark> serials_;
};

std::optional<std::string> LabLoader::identifier(yaml::MapReader& reader, const std::string& what,
                                                 std::string_view key) {
  const yaml::Node* node = reader.get(key, true);
  if (node == nullptr) return std::nullopt;
  auto text = yaml::as_string(*node, diagnostics_, fmt::format("{}.{}", what, key));
  if (!text) return std::nullopt;
  if (!valid_identifier(*text)) {
    diagnostics_.error(node->mark(),
                       fmt::format("{}.{}: '{}' is not valid (1 to 64 letters, digits, - _ .)", what, key, *text));
    return std::nullopt;
  }
  return text;
}

const Sku* LabLoader::sku(yaml::MapReader& reader, const std::string& what, std::string& name) {
  const yaml::Node* node = reader.get("sku", true);
  if (node == nullptr) return nullptr;
  auto text = yaml::as_string(*node, diagnostics_, what + ".sku");
  if (!text) return nullptr;
  name = *text;
  const Sku* found = catalog_.find(name);
  if (found == nullptr) {
    std::string known;
    for (const auto& n : catalog_.names()) known += (known.empty() ? "" : ", ") + n;
    diagnostics_.error(node->mark(),
                       fmt::format("{}.sku: unknown SKU '{}' (known: {})", what, name, known.empty() ? "none" : known));
  }
  return found;
}

void LabLoader::check_wiring(const RackSpec& rack, yaml::Mark mark, const std::string& what) {
  const int needed = topology_link_count(rack.topology, rack.chips.size());
  std::set<std::string> reported;
  for (const ChipSpec& chip : rack.chips) {
    const Sku* sku = catalog_.find(chip.sku);
    if (sku == nullptr || sku->links >= needed || !reported.insert(chip.sku).second) continue;
    std::string hint;
    if (rack.topology == Topology::full) {
      hint =
          fmt::format("; a full mesh of {}-link chips has at most {} chips, or use ring", sku->links, sku->links + 1);
    }
    diagnostics_.error(mark,
                       fmt::format("{}.topology: {} of {} chips needs {} links per chip, but SKU {} has {}{}", what,
                                   to_string(rack.topology), rack.chips.size(), needed, sku->name, sku->links, hint));
  }
}

void LabLoader::unique_serial(const std::string& serial, yaml::Mark mark, const std::string& what) {
  const auto [it, inserted] = serials_.emplace(serial, mark);
  if (!inserted) {
    diagnostics_.error(mark,
                       fmt::format("{}: duplicate serial '{}' (already used at {})", what, serial, where(it->second)));
  }
}

std::optional<RackSpec> LabLoader::rack(const yaml::Node& node, const std::string& what) {
  const std::size_t errors_before = diagnostics_.size();
  yaml::MapReader reader(node, diagnostics_, what);
  if (!reader.valid()) return std::nullopt;
  RackSpec rack;
  if (auto id = identifier(reader, what, "id")) {
    rack.id = *id;
    const yaml::Node* id_node = reader.node().find("id");
    if (const auto [it, inserted] = rack_ids_.emplace(rack.id, id_node->mark()); !inserted) {
      diagnostics_.error(id_node->mark(), fmt::format("{}.id: duplicate rack '{}' (already defined at {})", what,
                                                      rack.id, where(it->second)));
    }
  }
  if (auto backend = reader.string("backend")) {
    if (auto parsed = parse_backend(*backend)) {
      rack.backend = *parsed;
    } else {
      diagnostics_.error(reader.node().find("backend")->mark(),
                         fmt::format("{}.backend: unknown backend '{}' (expected sim, cpu or cuda)", what, *backend));
    }
  }
  if (auto topology = reader.string("topology")) {
    if (auto parsed = parse_topology(*topology)) {
      rack.topology = *parsed;
    } else {
      diagnostics_.error(
          reader.node().find("topology")->mark(),
          fmt::format("{}.topology: unknown topology '{}' (expected ring, torus2d or full)", what, *topology));
    }
  }
  const bool sim = rack.backend == Backend::sim;
  if (const yaml::Node* split = reader.node().find("cpu_chips")) {
    if (rack.backend != Backend::cpu) {
      diagnostics_.error(split->mark(), fmt::format("{}.cpu_chips: only cpu racks split the host into chips", what));
    }
  }
  if (auto count = read_integer(reader, diagnostics_, what, "cpu_chips", {1, 1024}, false)) {
    rack.cpu_chips = static_cast<int>(*count);
  }
  if (const yaml::Node* chips = reader.get("chips", sim)) {
    const std::string chips_what = what + ".chips";
    if (!sim) {
      diagnostics_.error(chips->mark(), fmt::format("{}: only sim racks list their chips; a {} rack enumerates its own",
                                                    chips_what, to_string(rack.backend)));
    } else if (chips->is_map()) {
      count_form(*chips, chips_what, rack);
    } else if (chips->is_sequence() && !chips->items().empty()) {
      list_form(*chips, chips_what, rack);
    } else {
      diagnostics_.error(chips->mark(), fmt::format("{}: expected {{count, sku, serial_prefix}} or a non-empty list "
                                                    "of {{slot, serial, sku, faults?}}",
                                                    chips_what));
    }
  }
  if (sim && diagnostics_.size() == errors_before) {
    const yaml::Node* topology = reader.node().find("topology");
    check_wiring(rack, topology != nullptr ? topology->mark() : node.mark(), what);
  }
  reader.finish();
  if (diagnostics_.size() != errors_before) return std::nullopt;
  return rack;
}

void LabLoader::count_form(const yaml::Node& node, const std::string& what, RackSpec& rack) {
  yaml::MapReader reader(node, diagnostics_, what);
  const auto count = read_integer(reader, diagnostics_, what, "count", {1, 1000}, true);
  std::string sku_name;
  sku(reader, what, sku_name);
  std::string prefix = rack.id + "-";
  std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                 [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
  yaml::Mark prefix_mark = node.mark();
  if (const yaml::Node* p = reader.get("serial_prefix")) {
    prefix_mark = p->mark();
    if (auto text = yaml::as_string(*p, diagnostics_, what + ".serial_prefix")) {
      prefix = *text;
      if (!prefix.empty() && !valid_identifier(prefix)) {
        diagnostics_.error(p->mark(),
                           fmt::format("{}.serial_prefix: '{}' is not valid (letters, digits, - _ .)", what, prefix));
      }
    }
  }
  reader.finish();
  if (!count) return;
  // A serial is at most 64 characters, as in the list form: the prefix
  // (given, or the rack id's) leaves room for the slot's digits.
  const std::string longest = fmt::format("{}{:02}", prefix, *count - 1);
  if (longest.size() > kMaxIdentifierBytes) {
    diagnostics_.error(prefix_mark, fmt::format("{}.serial_prefix: serials such as '{}' would be {} characters, "
                                                "more than {}: give a shorter serial_prefix",
                                                what, longest, longest.size(), kMaxIdentifierBytes));
    return;
  }
  for (std::int64_t slot = 0; slot < *count; ++slot) {
    ChipSpec chip;
    chip.slot = static_cast<std::uint32_t>(slot);
    chip.serial = fmt::format("{}{:02}", prefix, slot);
    chip.sku = sku_name;
    unique_serial(chip.serial, prefix_mark, what);
    rack.chips.push_back(std::move(chip));
  }
}

void LabLoader::list_form(const yaml::Node& node, const std::string& what, RackSpec& rack) {
  const std::size_t chip_count = node.items().size();
  std::map<std::int64_t, yaml::Mark> slots;
  for (std::size_t j = 0; j < chip_count; ++j) {
    const std::string chip_what = fmt::format("{}[{}]", what, j);
    yaml::MapReader reader(node.items()[j], diagnostics_, chip_what);
    if (!reader.valid()) continue;
    ChipSpec chip;
    if (auto slot = read_integer(reader, diagnostics_, chip_what, "slot", {0, 65535}, true)) {
      chip.slot = static_cast<std::uint32_t>(*slot);
      const yaml::Mark mark = reader.node().find("slot")->mark();
      if (const auto [it, inserted] = slots.emplace(*slot, mark); !inserted) {
        diagnostics_.error(mark, fmt::format("{}.slot: duplicate slot {} in rack '{}' (already used at {})", chip_what,
                                             *slot, rack.id, where(it->second)));
      }
    }
    if (auto serial = identifier(reader, chip_what, "serial")) {
      chip.serial = *serial;
      unique_serial(chip.serial, reader.node().find("serial")->mark(), chip_what + ".serial");
    }
    const Sku* chip_sku = sku(reader, chip_what, chip.sku);
    if (const yaml::Node* faults = reader.get("faults")) {
      if (!faults->is_sequence()) {
        diagnostics_.error(faults->mark(), fmt::format("{}.faults: expected a list of faults", chip_what));
      } else {
        detail::FaultContext context;
        context.sku = chip_sku;
        context.topology = rack.topology;
        context.topology_links = topology_link_count(rack.topology, chip_count);
        context.links = chip_sku ? chip_link_count(rack.topology, chip_count, *chip_sku) : context.topology_links;
        for (std::size_t f = 0; f < faults->items().size(); ++f) {
          auto fault =
              detail::load_fault(faults->items()[f], diagnostics_, fmt::format("{}.faults[{}]", chip_what, f), context);
          if (fault) chip.faults.push_back(std::move(*fault));
        }
      }
    }
    reader.finish();
    rack.chips.push_back(std::move(chip));
  }
}

}  // namespace

std::optional<Lab> load_lab(std::string_view text, yaml::Diagnostics& diagnostics, const SkuCatalog& catalog) {
  const std::size_t errors_before = diagnostics.size();
  const auto root = yaml::parse(text, diagnostics);
  if (!root) return std::nullopt;
  yaml::MapReader reader(*root, diagnostics, "lab");
  if (!reader.valid()) return std::nullopt;

  Lab lab;
  if (const yaml::Node* name = reader.get("lab", true)) {
    if (auto value = yaml::as_string(*name, diagnostics, "lab.lab")) {
      if (valid_identifier(*value)) {
        lab.name = *value;
      } else {
        diagnostics.error(name->mark(),
                          fmt::format("lab.lab: '{}' is not a valid lab name (letters, digits, - _ .)", *value));
      }
    }
  }
  // Seeds are non-negative so that they read the same in YAML, JSON and SQLite.
  if (auto seed = read_integer(reader, diagnostics, "lab", "seed", {0, 9.2e18}, false)) {
    lab.seed = static_cast<std::uint64_t>(*seed);
  }
  const yaml::Node* scale_node = reader.node().find("time_scale");
  if (scale_node != nullptr && scale_node->is_scalar() && !scale_node->quoted() && scale_node->scalar() == "unpaced") {
    (void)reader.get("time_scale");
    lab.unpaced = true;
  } else if (auto scale = read_number(reader, diagnostics, "lab", "time_scale", {0, 600, true}, false)) {
    lab.time_scale = *scale;
  }
  if (auto ambient = read_number(reader, diagnostics, "lab", "ambient_c", {-50, 80}, false)) lab.ambient_c = *ambient;

  if (const yaml::Node* racks = reader.get("racks", true)) {
    if (!racks->is_sequence() || racks->items().empty()) {
      diagnostics.error(racks->mark(), "lab.racks: expected a non-empty list of racks");
    } else {
      LabLoader loader(diagnostics, catalog);
      for (std::size_t i = 0; i < racks->items().size(); ++i) {
        if (auto rack = loader.rack(racks->items()[i], fmt::format("racks[{}]", i)))
          lab.racks.push_back(std::move(*rack));
      }
    }
  }
  reader.finish();
  if (diagnostics.size() != errors_before) return std::nullopt;
  return lab;
}

Result<Lab> load_lab_file(const std::string& path, const SkuCatalog& catalog) {
  KILN_TRY_ASSIGN(const std::string text, yaml::read_config_file(path));
  yaml::Diagnostics diagnostics(path);
  auto lab = load_lab(text, diagnostics, catalog);
  if (!lab) {
    std::string message = diagnostics.to_string();
    if (!message.empty() && message.back() == '\n') message.pop_back();
    return Error{ErrorCode::parse, std::move(message)};
  }
  lab->source_path = path;
  return std::move(*lab);
}

}  // namespace kiln::device
