#include "testplans/step_reader.hpp"

#include <map>

#include <fmt/format.h>

#include "testplans/limit_reader.hpp"
#include "testplans/param_reader.hpp"

namespace kiln::plan {

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

using yaml::Diagnostics;
using yaml::MapReader;
using yaml::Mark;
using yaml::Node;

class StepsReader {
 public:
  StepsReader(const PatternRegistry& registry, Diagnostics& diagnostics)
      : registry_(registry), diagnostics_(diagnostics) {}

  std::vector<Phase> read(const Node& node) {
    std::vector<Phase> phases;
    if (!node.is_sequence()) {
      diagnostics_.error(node.mark(),
                         fmt::format("steps: expected a list of steps, got a {}", Node::kind_name(node.kind())));
      return phases;
    }
    if (node.items().empty()) {
      diagnostics_.error(node.mark(), "steps: the plan has no steps");
      return phases;
    }
    for (std::size_t i = 0; i < node.items().size(); ++i) {
      const Node& item = node.items()[i];
      const std::string path = fmt::format("steps[{}]", i);
      if (item.is_map() && item.find("parallel") != nullptr) {
        phases.push_back(read_parallel(item, path));
      } else {
        phases.push_back(Phase{{read_step(item, path)}});
      }
    }
    return phases;
  }

 private:
  Phase read_parallel(const Node& node, const std::string& path) {
    Phase phase;
    MapReader reader(node, diagnostics_, path);
    const Node* list = reader.get("parallel", true);
    reader.finish();  // a group has no name, pattern or duration of its own
    const std::string list_path = path + ".parallel";
    if (!list->is_sequence()) {
      diagnostics_.error(list->mark(), fmt::format("{}: expected a list of steps, got a {}", list_path,
                                                   Node::kind_name(list->kind())));
      return phase;
    }
    if (list->items().size() < 2) {
      diagnostics_.error(list->mark(), fmt::format("{}: a parallel group needs at least 2 steps, got {}", list_path,
                                                   list->items().size()));
    }
    for (std::size_t j = 0; j < list->items().size(); ++j) {
      const Node& item = list->items()[j];
      const std::string item_path = fmt::format("{}[{}]", list_path, j);
      if (item.is_map()) {
        if (const Node* nested = find_key(item, "parallel")) {
          diagnostics_.error(nested->mark(), fmt::format("{}: parallel groups cannot be nested", item_path));
          continue;
        }
      }
      phase.steps.push_back(read_step(item, item_path));
    }
    return phase;
  }

  Step read_step(const Node& node, const std::string& path) {
    Step step;
    step.mark = node.mark();
    MapReader reader(node, diagnostics_, path);
    if (!reader.valid()) return step;
    if (const Node* name = reader.get("name", true)) read_name(*name, path, step);
    const Node* pattern_node = reader.get("pattern", true);
    const PatternSpec* pattern = nullptr;
    if (pattern_node != nullptr) pattern = read_pattern(*pattern_node, path, step);
    if (const auto duration = reader.duration("duration", true)) {
      if (duration->count() > 0) {
        step.duration = *duration;
      } else {
        diagnostics_.error(reader.node().find("duration")->mark(),
                           fmt::format("{}.duration: must be longer than 0s", path));
      }
    }
    const Node* params = reader.get("params");
    const Node* limits = reader.get("limits");
    reader.finish();

    if (pattern != nullptr) {
      auto read = read_params(params, *pattern, diagnostics_, path + ".params");
      step.params = read.effective.texts();
      step.values = std::move(read.effective);
      step.params_given = std::move(read.given);
    } else if (params != nullptr && !params->is_map()) {
      diagnostics_.error(params->mark(),
                         fmt::format("{}.params: expected a mapping, got a {}", path, Node::kind_name(params->kind())));
    }
    if (limits != nullptr) step.limits = read_limits(*limits, pattern, registry_, diagnostics_, path + ".limits");
    return step;
  }

  void read_name(const Node& node, const std::string& path, Step& step) {
    const auto name = yaml::as_string(node, diagnostics_, path + ".name");
    if (!name) return;
    if (!is_valid_name(*name)) {
      diagnostics_.error(node.mark(), fmt::format("{}.name: '{}' is not a valid step name (1 to {} of a-z, 0-9, "
                                                  "'_' and '-')",
                                                  path, *name, kMaxNameLength));
      return;
    }
    const auto [first, inserted] = names_.emplace(*name, node.mark());
    if (!inserted) {
      diagnostics_.error(node.mark(), fmt::format("{}.name: duplicate step name '{}' (first used at line {})", path,
                                                  *name, first->second.line));
      return;
    }
    step.name = *name;
  }

  const PatternSpec* read_pattern(const Node& node, const std::string& path, Step& step) {
    const auto name = yaml::as_string(node, diagnostics_, path + ".pattern");
    if (!name) return nullptr;
    const PatternSpec* pattern = registry_.find(*name);
    if (pattern == nullptr) {
      std::string known;
      for (const auto& n : registry_.names()) known += (known.empty() ? "" : ", ") + n;
      diagnostics_.error(node.mark(), fmt::format("{}.pattern: unknown pattern '{}' (known: {})", path, *name, known));
      return nullptr;
    }
    step.pattern = *name;
    return pattern;
  }

  // The key node (not its value), to point at the word a user typed.
  static const Node* find_key(const Node& map, std::string_view key) {
    for (const auto& [k, v] : map.entries()) {
      if (k.scalar() == key) return &k;
    }
    return nullptr;
  }

  const PatternRegistry& registry_;
  Diagnostics& diagnostics_;
  std::map<std::string, Mark, std::less<>> names_;  // step name → where it was first used
};

}  // namespace

std::vector<Phase> read_steps(const Node& node, const PatternRegistry& registry, Diagnostics& diagnostics) {
  return StepsReader(registry, diagnostics).read(node);
}

}  // namespace kiln::plan
