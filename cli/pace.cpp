#include "cli/pace.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kiln::cli {
namespace {

// Under this much wall time a ratio says more about start-up than speed.
constexpr double kMinWallS = 0.5;
constexpr double kBehindShare = 0.95;

std::string scale_text(double scale) {
  return scale >= 10 ? fmt::format("{:.0f}x", scale) : fmt::format("{:.1f}x", scale);
}

}  // namespace

void PaceMeter::observe(double elapsed_s, bool running, Clock::time_point now) {
  if (!running) {
    if (!started_) not_running_at_ = now;
    return;
  }
  if (!started_) started_ = now;
  last_ = now;
  simulated_s_ = std::max(simulated_s_, elapsed_s);
}

void PaceMeter::finish(double simulated_s, Clock::time_point now) {
  if (!started_) started_ = not_running_at_.value_or(now);
  last_ = now;
  simulated_s_ = std::max(simulated_s_, simulated_s);
  finished_ = true;
}

double PaceMeter::wall_s() const { return started_ ? std::chrono::duration<double>(last_ - *started_).count() : 0.0; }

std::optional<double> PaceMeter::achieved() const {
  const double wall = wall_s();
  // A finished run's figure stands however short it was; a running one's
  // waits until start-up no longer dominates it.
  if (simulated_s_ <= 0 || wall <= 0 || (!finished_ && wall < kMinWallS)) return std::nullopt;
  return simulated_s_ / wall;
}

bool PaceMeter::behind() const {
  const auto got = achieved();
  return requested_ > 0 && got && *got < kBehindShare * requested_;
}

std::string PaceMeter::text() const {
  const auto got = achieved();
  if (!got) return {};
  const std::string asked = requested_ > 0 ? scale_text(requested_) + " requested" : "unpaced";
  return fmt::format("time scale {}, {} achieved{}", asked, scale_text(*got), behind() ? " (behind)" : "");
}

Result<std::string> with_time_scale(const std::string& report_json, const PaceMeter& pace) {
  using Json = nlohmann::ordered_json;
  Json report = Json::parse(report_json, nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded() || !report.contains("run") || !report["run"].is_object()) {
    return make_error(ErrorCode::parse, "not a Kiln report");
  }
  const auto got = pace.achieved();
  if (!got) return report_json;
  Json scale = Json::object();
  scale["requested"] = pace.requested() > 0 ? Json(pace.requested()) : Json(nullptr);
  scale["unpaced"] = pace.requested() <= 0;
  scale["achieved"] = *got;
  scale["simulated_s"] = pace.simulated_s();
  scale["wall_s"] = pace.wall_s();
  scale["behind"] = pace.behind();
  report["run"]["time_scale"] = std::move(scale);
  return report.dump(2);
}

}  // namespace kiln::cli
