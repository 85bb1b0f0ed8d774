#include "daemon/run_progress.hpp"

namespace kiln::daemon {

nlohmann::ordered_json progress_json(const RunProgress& p) {
  if (p.state == RunProgress::State::queued) {
    return nlohmann::ordered_json{{"state", "queued"}, {"position", p.queue_position}};
  }
  nlohmann::ordered_json j;
  j["state"] = "running";
  j["phase"] = p.phase;
  j["phases"] = p.phases;
  j["step"] = p.step;
  j["elapsed_s"] = p.elapsed_s;
  j["total_s"] = p.total_s;
  j["failing"] = p.failing;
  j["lost_racks"] = p.lost_racks;
  return j;
}

}  // namespace kiln::daemon
