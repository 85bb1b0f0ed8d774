#include "reports/failure_list.hpp"

#include <map>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

namespace kiln::reports {
namespace {

// The location as canonical JSON text (nlohmann::json sorts object keys).
std::string canonical_location(const std::string& text) {
  if (text.empty()) return "{}";
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? text : parsed.dump();
}

}  // namespace

std::vector<store::FailureRow> distinct_failures(const std::vector<store::FailureRow>& failures) {
  std::vector<store::FailureRow> out;
  std::map<std::tuple<std::uint32_t, std::string, std::string>, std::size_t> kept;  // key → out[i]
  for (const auto& f : failures) {
    const auto key = std::tuple{f.step_index, f.cls, canonical_location(f.location_json)};
    auto [it, fresh] = kept.emplace(key, out.size());
    if (fresh) {
      out.push_back(f);
      continue;
    }
    std::string& detail = out[it->second].detail;
    if (f.detail.empty() || detail.find(f.detail) != std::string::npos) continue;
    detail += (detail.empty() ? "" : "; ") + f.detail;
  }
  return out;
}

}  // namespace kiln::reports
