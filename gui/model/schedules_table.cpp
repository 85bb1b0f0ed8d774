#include "gui/model/schedules_table.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kiln::gui {

namespace {

std::string text_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::int64_t> int_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

bool same(const ScheduleRow& a, const ScheduleRow& b) {
  return a.id == b.id && a.name == b.name && a.plan == b.plan && a.plan_path == b.plan_path && a.cron == b.cron &&
         a.time_zone == b.time_zone && a.racks == b.racks && a.sku == b.sku && a.priority == b.priority &&
         a.max_wall_s == b.max_wall_s && a.queue_timeout_s == b.queue_timeout_s && a.jitter_s == b.jitter_s &&
         a.catch_up == b.catch_up && a.enabled == b.enabled && a.created_by == b.created_by &&
         a.next_fire == b.next_fire && a.next_fire_local == b.next_fire_local && a.waiting == b.waiting &&
         a.last_fire == b.last_fire && a.last_run == b.last_run && a.last_outcome == b.last_outcome;
}

}  // namespace

Result<bool> SchedulesTable::load_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("schedules") || !j["schedules"].is_array())
    return make_error(ErrorCode::parse, "the schedule list does not parse");
  std::vector<ScheduleRow> next;
  for (const auto& s : j["schedules"]) {
    if (!s.is_object()) continue;
    ScheduleRow row;
    row.id = static_cast<std::uint64_t>(int_of(s, "id").value_or(0));
    row.name = text_of(s, "name");
    if (row.name.empty()) continue;
    row.plan = text_of(s, "plan");
    row.plan_path = text_of(s, "plan_path");
    row.cron = text_of(s, "cron");
    row.time_zone = text_of(s, "time_zone");
    if (auto racks = s.find("racks"); racks != s.end() && racks->is_array()) {
      for (const auto& r : *racks) {
        if (r.is_string()) row.racks.push_back(r.get<std::string>());
      }
    }
    row.sku = text_of(s, "sku");
    row.priority = int_of(s, "priority").value_or(0);
    row.max_wall_s = int_of(s, "max_wall_s");
    row.queue_timeout_s = int_of(s, "queue_timeout_s");
    row.jitter_s = int_of(s, "jitter_s").value_or(0);
    row.catch_up = text_of(s, "catch_up");
    if (auto enabled = s.find("enabled"); enabled != s.end() && enabled->is_boolean()) row.enabled = *enabled;
    row.created_by = text_of(s, "created_by");
    row.next_fire = text_of(s, "next_fire");
    row.next_fire_local = text_of(s, "next_fire_local");
    row.waiting = text_of(s, "waiting");
    row.last_fire = text_of(s, "last_fire");
    if (auto run = int_of(s, "last_run"); run && *run > 0) row.last_run = static_cast<std::uint64_t>(*run);
    row.last_outcome = text_of(s, "last_outcome");
    next.push_back(std::move(row));
  }
  bool changed = !loaded_ || !unavailable_.empty() || next.size() != rows_.size();
  for (std::size_t i = 0; !changed && i < next.size(); ++i) changed = !same(next[i], rows_[i]);
  rows_ = std::move(next);
  unavailable_.clear();
  loaded_ = true;
  return changed;
}

void SchedulesTable::set_unavailable(std::string why) {
  rows_.clear();
  unavailable_ = why.empty() ? std::string("no answer") : std::move(why);
  loaded_ = true;
}

const ScheduleRow* SchedulesTable::find(const std::string& name) const {
  for (const auto& r : rows_) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string next_fire_text(const ScheduleRow& row) {
  if (!row.enabled) return "disabled";
  std::string text = !row.next_fire_local.empty() ? row.next_fire_local
                     : !row.next_fire.empty()     ? row.next_fire
                                                  : std::string("–");
  if (!row.waiting.empty()) text += " — " + row.waiting;
  return text;
}

std::string last_result_text(const ScheduleRow& row, const RunsTable& runs) {
  if (!row.last_run) {
    if (!row.last_outcome.empty()) return row.last_outcome;
    return row.last_fire.empty() ? "never fired" : "fired, no run";
  }
  const RunRow* run = runs.find(*row.last_run);
  if (run == nullptr || run->status.empty()) {
    return row.last_outcome.empty() ? fmt::format("run {}", *row.last_run) : row.last_outcome;
  }
  std::string text = fmt::format("run {}: {}", run->id, run->status);
  if (run->status == "queued") {
    if (run->queue_position > 0) text += fmt::format(" #{}", run->queue_position);
    if (!run->waiting.empty()) text += " — " + run->waiting;
  } else if (run->status == "running") {
    if (run->phases > 0) text += fmt::format(" (phase {}/{})", run->phase, run->phases);
    if (run->failing > 0) text += fmt::format(", {} failing", run->failing);
  } else if (!run->reason.empty()) {
    text += " (" + run->reason + ")";
  }
  return text;
}

}  // namespace kiln::gui
