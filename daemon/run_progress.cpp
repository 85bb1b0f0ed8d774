#include "daemon/run_progress.hpp"

namespace kiln::daemon {

nlohmann::ordered_json progress_json(const RunProgress& p) {
  if (p.state == RunProgress::State::queued) {
    nlohmann::ordered_json j{{"state", "queued"}, {"position", p.queue_position}};
    if (!p.waiting.empty()) j["waiting"] = p.waiting;
    return j;
  }
  nlohmann::ordered_json j;
  j["state"] = "running";
  j["phase"] = p.phase;
  j["phases"] = p.phases;
  j["step"] = p.step;
  j["elapsed_s"] = p.elapsed_s;
  j["total_s"] = p.total_s;
  j["failing"] = p.failing();
  j["over_limit"] = p.over_limit();
  j["lost_racks"] = p.lost_racks;
  return j;
}

std::vector<std::string> RunProgress::failing() const {
  std::vector<std::string> out;
  for (const Concern& c : concerns) {
    if (c.failed) out.push_back(c.serial);
  }
  return out;
}

std::vector<std::string> RunProgress::over_limit() const {
  std::vector<std::string> out;
  for (const Concern& c : concerns) {
    if (!c.failed) out.push_back(c.serial);
  }
  return out;
}

}  // namespace kiln::daemon
