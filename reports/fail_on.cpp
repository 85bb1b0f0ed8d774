#include "reports/fail_on.hpp"

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kiln::reports {
namespace {

constexpr std::array<std::string_view, 5> kVerdicts{"pass", "marginal", "inconclusive", "error", "fail"};

std::optional<int> verdict_rank(std::string_view verdict) {
  for (std::size_t i = 0; i < kVerdicts.size(); ++i) {
    if (kVerdicts[i] == verdict) return static_cast<int>(i);
  }
  return std::nullopt;
}

// The rank of the least verdict that meets `level`; none for never.
std::optional<int> threshold(FailOn level) {
  switch (level) {
    case FailOn::never: return std::nullopt;
    case FailOn::marginal: return 1;
    case FailOn::inconclusive: return 2;
    case FailOn::error: return 3;
    case FailOn::fail: return 4;
  }
  return std::nullopt;
}

struct Met {
  std::string serial;
  std::string verdict;
};

Result<std::vector<Met>> meeting(const std::string& report_json, FailOn level) {
  const auto report = nlohmann::json::parse(report_json, nullptr, false);
  if (report.is_discarded() || !report.is_object() || !report.contains("chips") || !report["chips"].is_array()) {
    return make_error(ErrorCode::invalid_argument, "not a JSON report: no chips array");
  }
  const auto least = threshold(level);
  std::vector<Met> out;
  for (const auto& chip : report["chips"]) {
    const std::string serial = chip.value("serial", "");
    const std::string verdict = chip.value("verdict", "");
    const auto rank = verdict_rank(verdict);
    if (!rank) return make_error(ErrorCode::invalid_argument, "chip {} has verdict '{}'", serial, verdict);
    if (least && *rank >= *least) out.push_back({serial, verdict});
  }
  return out;
}

}  // namespace

const char* to_string(FailOn level) {
  switch (level) {
    case FailOn::never: return "never";
    case FailOn::marginal: return "marginal";
    case FailOn::inconclusive: return "inconclusive";
    case FailOn::error: return "error";
    case FailOn::fail: return "fail";
  }
  return "?";
}

std::optional<FailOn> parse_fail_on(std::string_view text) {
  for (FailOn level : {FailOn::never, FailOn::marginal, FailOn::inconclusive, FailOn::error, FailOn::fail}) {
    if (text == to_string(level)) return level;
  }
  return std::nullopt;
}

std::vector<std::string> fail_on_names() { return {"fail", "error", "inconclusive", "marginal", "never"}; }

Result<std::vector<std::string>> chips_meeting(const std::string& report_json, FailOn level) {
  KILN_TRY_ASSIGN(auto met, meeting(report_json, level));
  std::vector<std::string> serials;
  for (auto& m : met) serials.push_back(std::move(m.serial));
  return serials;
}

Result<std::string> fail_on_message(const std::string& report_json, FailOn level) {
  KILN_TRY_ASSIGN(auto met, meeting(report_json, level));
  if (met.empty()) return std::string();
  std::string list;
  constexpr std::size_t kListed = 10;
  for (std::size_t i = 0; i < met.size() && i < kListed; ++i) {
    list += fmt::format("{}{} ({})", i == 0 ? "" : ", ", met[i].serial, met[i].verdict);
  }
  if (met.size() > kListed) list += fmt::format(" and {} more", met.size() - kListed);
  return fmt::format("kiln: {} chip{} at or above --fail-on {}: {}", met.size(), met.size() == 1 ? "" : "s",
                     to_string(level), list);
}

}  // namespace kiln::reports
