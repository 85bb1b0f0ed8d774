#include "gui/model/runs_table.hpp"

#include "schema/enums.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kiln::gui {

namespace {
// Pace is judged over at least this much wall time so the first updates of a
// run do not give wild ETAs.
constexpr std::int64_t kMinPaceMs = 1500;

std::string text_or_empty(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

RunRow& RunsTable::row(std::uint64_t id) {
  for (auto& r : rows_) {
    if (r.id == id) return r;
  }
  RunRow r;
  r.id = id;
  rows_.insert(
      std::upper_bound(rows_.begin(), rows_.end(), id, [](std::uint64_t v, const RunRow& x) { return v > x.id; }), r);
  return row(id);
}

const RunRow* RunsTable::find(std::uint64_t id) const {
  for (const auto& r : rows_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

Result<bool> RunsTable::load_runs_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("runs")) return make_error(ErrorCode::parse, "the run list does not parse");
  bool changed = false;
  for (const auto& r : j["runs"]) {
    const std::uint64_t id = r.value("id", std::uint64_t{0});
    if (id == 0) continue;
    RunRow& row = this->row(id);
    RunRow before = row;
    row.plan = text_or_empty(r, "plan");
    row.lab = text_or_empty(r, "lab");
    // The feed may know a run is running before the store says so.
    const std::string status = text_or_empty(r, "status");
    if (!(status == "queued" && row.status == "running")) row.status = status;
    row.reason = text_or_empty(r, "reason");
    row.racks.clear();
    for (const auto& rack : r.value("racks", nlohmann::json::array())) row.racks.push_back(rack.get<std::string>());
    row.submitted = text_or_empty(r, "submitted");
    row.started = text_or_empty(r, "started");
    row.ended = text_or_empty(r, "ended");
    // The daemon says why a queued run waits; the feed may have said it more recently.
    if (row.status == "queued") {
      if (auto why = text_or_empty(r, "waiting"); !why.empty()) row.waiting = std::move(why);
    } else {
      row.waiting.clear();
    }
    if (!row.active()) row.eta_s.reset();
    changed = changed || before.status != row.status || before.plan != row.plan || before.ended != row.ended ||
              before.waiting != row.waiting;
  }
  return changed;
}

bool RunsTable::apply(const kiln::v1::RunLive& live, std::int64_t local_now_ms) {
  const bool known = find(live.run_id()) != nullptr;
  RunRow& r = row(live.run_id());
  if (live.state() == kiln::v1::LIVE_RUN_ENDED) {
    const bool was_active = r.active() || !known;
    if (r.active()) r.status = "ended";  // until the run list says how it ended
    r.waiting.clear();
    r.eta_s.reset();
    pace_.erase(live.run_id());
    return was_active;
  }
  r.status = std::string(wire::to_string(live.state()));
  r.phase = live.phase();
  r.phases = live.phases();
  r.step = live.step();
  r.elapsed_s = live.elapsed_s();
  r.total_s = live.total_s();
  r.failing = static_cast<std::size_t>(live.failing_size());
  r.queue_position = live.queue_position();
  r.waiting = live.state() == kiln::v1::LIVE_RUN_QUEUED ? live.waiting() : std::string();
  if (live.state() == kiln::v1::LIVE_RUN_RUNNING) {
    auto [it, fresh] = pace_.try_emplace(live.run_id(), Pace{local_now_ms, live.elapsed_s()});
    const double wall_s = static_cast<double>(local_now_ms - it->second.first_ms) / 1000.0;
    const double done = live.elapsed_s() - it->second.first_elapsed;
    if (!fresh && local_now_ms - it->second.first_ms >= kMinPaceMs && done > 0) {
      r.eta_s = std::max(0.0, (live.total_s() - live.elapsed_s()) * wall_s / done);
    }
  }
  return !known;
}

std::string format_seconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "–";
  const auto s = static_cast<long long>(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m {:02}s", s / 60, s % 60);
  return fmt::format("{}h {:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace kiln::gui
