#include "reports/chip_lifecycle.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

#include "core/clock.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::ordered_json;

bool judged(const std::string& verdict) { return verdict == "pass" || verdict == "marginal" || verdict == "fail"; }

Json finding_json(const lifecycle::DriftFinding& f) {
  Json j{
      {"alarm", f.alarm}, {"baseline", f.baseline}, {"latest", f.latest}, {"change", f.change}, {"reason", f.reason}};
  j["since_run"] = f.since_run ? Json(*f.since_run) : Json(nullptr);
  return j;
}

}  // namespace

Result<std::vector<lifecycle::SlotRun>> slot_runs(store::Reader& reader, const std::string& serial,
                                                  std::uint64_t upto) {
  KILN_TRY_ASSIGN(auto own, reader.chip_history(serial));
  std::vector<lifecycle::SlotRun> out;
  std::set<std::pair<std::string, std::uint32_t>> slots;
  for (const auto& h : own) {
    if ((upto != 0 && h.run_id > upto) || !judged(h.verdict)) continue;
    out.push_back({h.run_id, serial, h.rack, h.slot, h.verdict != "pass"});
    slots.insert({h.rack, h.slot});
  }
  KILN_TRY_ASSIGN(auto chips, reader.chips());
  for (const auto& c : chips) {
    if (c.serial == serial) continue;
    KILN_TRY_ASSIGN(auto theirs, reader.chip_history(c.serial));
    for (const auto& h : theirs) {
      if ((upto != 0 && h.run_id > upto) || !judged(h.verdict) || !slots.contains({h.rack, h.slot})) continue;
      out.push_back({h.run_id, c.serial, h.rack, h.slot, h.verdict != "pass"});
    }
  }
  return out;
}

Json drift_json(const ChipDrift& drift) {
  Json figures = Json::object();
  for (std::size_t i = 0; i < drift.history.size(); ++i) {
    const std::string& figure = drift.history[i].figure;
    Json trend = Json::array();
    for (const auto& v : drift.trend.at(figure)) trend.push_back({{"run", v.run_id}, {"value", v.value}});
    figures[figure] = {
        {"trend", trend}, {"history", finding_json(drift.history[i])}, {"peers", finding_json(drift.peers[i])}};
  }
  return Json{{"alarm", drift.alarm()}, {"figures", figures}};
}

Result<Json> chip_lifecycle_json(store::Reader& reader, const std::string& serial) {
  KILN_TRY_ASSIGN(auto states, reader.lifecycle_states());
  store::LifecycleRow record;
  record.serial = serial;
  for (const auto& s : states) record = s.serial == serial ? s : record;
  KILN_TRY_ASSIGN(auto transitions, reader.lifecycle_transitions(serial));
  KILN_TRY_ASSIGN(auto history, reader.chip_history(serial));

  Json j;
  j["state"] = record.state;
  j["set_by_person"] = record.set_by_person;
  j["clean_streak"] = record.clean_streak;
  j["episode_run"] = record.episode_run_id ? Json(record.episode_run_id) : Json(nullptr);
  j["retests"] = {{"run", record.retests_run},
                  {"failed", record.retests_failed},
                  {"tally", fmt::format("failed {} of {} retest{}", record.retests_failed, record.retests_run,
                                        record.retests_run == 1 ? "" : "s")}};
  int runs = 0, failed = 0;
  for (const auto& h : history) {
    if (!judged(h.verdict)) continue;
    ++runs;
    failed += h.verdict != "pass" ? 1 : 0;
  }
  j["runs"] = {{"judged", runs}, {"failed", failed}, {"tally", fmt::format("failed {} of {} runs", failed, runs)}};
  Json list = Json::array();
  for (const auto& t : transitions) {
    list.push_back({{"time", format_iso8601(t.unix_ms)},
                    {"from", t.from_state},
                    {"to", t.to_state},
                    {"actor", t.actor},
                    {"reason", t.reason},
                    {"run", t.run_id ? Json(t.run_id) : Json(nullptr)},
                    {"plan_sha256", t.plan_sha256}});
  }
  j["transitions"] = list;

  // The slots it sat in, in the order it first sat there, with its tally in each.
  KILN_TRY_ASSIGN(auto slot_history, slot_runs(reader, serial));
  std::vector<std::pair<std::string, std::uint32_t>> order;
  std::map<std::pair<std::string, std::uint32_t>, std::pair<int, int>> tally;  // failed, passed
  for (const auto& r : slot_history) {
    if (r.serial != serial) continue;
    const auto key = std::make_pair(r.rack, r.slot);
    if (!tally.contains(key)) order.push_back(key);
    (r.failed ? tally[key].first : tally[key].second) += 1;
  }
  Json slots = Json::array();
  for (const auto& key : order) {
    slots.push_back(
        {{"rack", key.first}, {"slot", key.second}, {"failed", tally[key].first}, {"passed", tally[key].second}});
  }
  j["slots"] = slots;
  const auto finding = lifecycle::points_at_slot(slot_history, serial);
  j["points_at_slot"] =
      finding ? Json{{"rack", finding->rack}, {"slot", finding->slot}, {"reason", finding->reason}} : Json(nullptr);
  DriftReader drift_reader(reader);
  KILN_TRY_ASSIGN(auto drift, drift_reader.chip(serial));
  j["drift"] = drift_json(drift);
  return j;
}

}  // namespace kiln::reports
