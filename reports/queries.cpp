#include "reports/queries.hpp"

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "reports/chip_lifecycle.hpp"
#include "reports/failure_list.hpp"
#include "reports/reproduce.hpp"
#include "reports/shmoo_map.hpp"
#include "reports/step_names.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::ordered_json;

Json time_or_null(const std::optional<std::int64_t>& unix_ms) {
  return unix_ms ? Json(format_iso8601(*unix_ms)) : Json(nullptr);
}

Json run_header(const store::RunRow& run) {
  Json j;
  j["id"] = run.id;
  j["plan"] = run.plan_name;
  j["plan_sha256"] = run.plan_sha256;
  if (!run.plan_path.empty()) j["plan_path"] = run.plan_path;
  j["seed"] = run.seed;
  j["lab"] = run.lab;
  j["status"] = run.status;
  if (!run.reason.empty()) j["reason"] = run.reason;
  j["racks"] = run.racks;
  j["submitted"] = format_iso8601(run.submitted_unix_ms);
  j["started"] = time_or_null(run.started_unix_ms);
  j["ended"] = time_or_null(run.ended_unix_ms);
  // Retention dropped its raw telemetry (kilnd --keep-raw); roll-ups, verdicts and failures stay.
  if (run.raw_telemetry_pruned_unix_ms) j["raw_telemetry_pruned"] = format_iso8601(*run.raw_telemetry_pruned_unix_ms);
  return j;
}

Json parse_object(const std::string& text) {
  if (text.empty()) return Json::object();
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? Json::object() : parsed;
}

Json failure_json(const store::FailureRow& f, const std::string& label) {
  Json j;
  j["class"] = f.cls;
  j["step"] = f.step_name;
  j["step_index"] = f.step_index;
  j["step_label"] = label;
  j["count"] = f.count;
  const Json location = parse_object(f.location_json);
  for (const auto& [key, value] : location.items()) j[key] = value;
  j["first_at"] = f.first_unix_ms > 0 ? Json(format_iso8601(f.first_unix_ms)) : Json(nullptr);
  j["last_at"] = f.last_unix_ms > 0 ? Json(format_iso8601(f.last_unix_ms)) : Json(nullptr);
  j["first_t_s"] = f.first_t_s;
  j["last_t_s"] = f.last_t_s;
  j["conditions"] = parse_object(f.conditions_json);
  if (!f.detail.empty()) j["detail"] = f.detail;
  return j;
}

}  // namespace

Result<std::string> runs_json(store::Reader& reader) {
  KILN_TRY_ASSIGN(auto runs, reader.list_runs());
  Json list = Json::array();
  for (const auto& run : runs) list.push_back(run_header(run));
  return Json{{"runs", list}}.dump(2);
}

Result<std::string> run_json(store::Reader& reader, std::uint64_t run_id) {
  KILN_TRY_ASSIGN(auto run, reader.run(run_id));
  KILN_TRY_ASSIGN(auto steps, reader.steps(run_id));
  KILN_TRY_ASSIGN(auto chips, reader.run_chips(run_id));
  Json j = run_header(run);
  j["sample_hz"] = run.sample_hz;
  Json step_list = Json::array();
  double total = 0;
  std::map<std::uint32_t, double> phase_length;
  const std::map<std::uint32_t, std::string> labels = step_display_names(steps);
  for (const auto& s : steps) {
    step_list.push_back({{"index", s.step_index},
                         {"phase", s.phase_index},
                         {"repeat", s.repeat_index},
                         {"name", s.name},
                         {"label", labels.at(s.step_index)},
                         {"pattern", s.pattern},
                         {"duration_s", s.duration_s},
                         {"params", parse_object(s.params_json)}});
    phase_length[s.phase_index] = std::max(phase_length[s.phase_index], s.duration_s);
  }
  for (const auto& [phase, length] : phase_length) total += length;
  j["steps"] = step_list;
  j["total_s"] = total;
  std::map<std::string, int> verdicts;
  for (const auto& c : chips) ++verdicts[c.verdict.empty() ? "pending" : c.verdict];
  j["chips"] = chips.size();
  j["verdicts"] = verdicts;
  return j.dump(2);
}

Result<std::string> report_json(store::Reader& reader, std::uint64_t run_id) {
  KILN_TRY_ASSIGN(auto run, reader.run(run_id));
  KILN_TRY_ASSIGN(auto steps, reader.steps(run_id));
  KILN_TRY_ASSIGN(auto chips, reader.run_chips(run_id));
  KILN_TRY_ASSIGN(auto chip_steps, reader.chip_steps(run_id));

  std::map<std::pair<std::string, std::uint32_t>, const store::ChipStepRow*> by_chip_step;
  for (const auto& cs : chip_steps) by_chip_step[{cs.serial, cs.step_index}] = &cs;
  const std::map<std::uint32_t, std::string> labels = step_display_names(steps);

  Json report;
  report["run"] = run_header(run);
  Json chip_list = Json::array();
  for (const auto& chip : chips) {
    Json c;
    c["serial"] = chip.serial;
    c["rack"] = chip.rack;
    c["slot"] = chip.slot;
    c["sku"] = chip.sku;
    c["verdict"] = chip.verdict.empty() ? Json(nullptr) : Json(chip.verdict);
    Json failures = Json::array();
    Json step_list = Json::array();
    for (const auto& step : steps) {
      Json s;
      s["name"] = step.name;
      s["index"] = step.step_index;
      s["label"] = labels.at(step.step_index);
      auto it = by_chip_step.find({chip.serial, step.step_index});
      if (it == by_chip_step.end()) {
        s["verdict"] = nullptr;
        s["metrics"] = Json::object();
        step_list.push_back(s);
        continue;
      }
      const store::ChipStepRow& cs = *it->second;
      s["verdict"] = cs.verdict.empty() ? Json(nullptr) : Json(cs.verdict);
      if (!cs.reason.empty()) s["reason"] = cs.reason;
      s["completed"] = cs.completed;
      s["ran_s"] = cs.ran_s;
      if (!cs.note.empty()) s["note"] = cs.note;
      if (cs.shmoo) s["shmoo"] = shmoo_json(*cs.shmoo);
      Json metrics = Json::object();
      for (const auto& m : cs.metrics) metrics[m.metric] = {{"min", m.min}, {"avg", m.avg}, {"max", m.max}};
      s["metrics"] = metrics;
      step_list.push_back(s);
      for (const auto& f : distinct_failures(cs.failures)) {
        const auto label = labels.find(f.step_index);
        failures.push_back(failure_json(f, label != labels.end() ? label->second : f.step_name));
      }
    }
    c["failures"] = failures;
    c["steps"] = step_list;
    chip_list.push_back(c);
  }
  report["chips"] = chip_list;
  // The plan's text is stored with the run under its hash; this is the command
  // that replays it on the same chips with the same randomness.
  // Named by the path it was submitted with, where the store has it.
  report["reproduce"] =
      reproduce_command(RunToReproduce{run.plan_path, run.plan_name, run.seed, run.racks, run.plan_sha256});
  return report.dump(2);
}

Result<std::string> chips_json(store::Reader& reader) {
  KILN_TRY_ASSIGN(auto chips, reader.chips());
  KILN_TRY_ASSIGN(auto states, reader.lifecycle_states());
  std::map<std::string, std::string> state_of;
  for (const auto& s : states) state_of[s.serial] = s.state;
  Json list = Json::array();
  for (const auto& c : chips) {
    list.push_back(
        {{"serial", c.serial},
         {"sku", c.sku},
         {"rack", c.rack},
         {"slot", c.slot},
         {"state", state_of.contains(c.serial) ? state_of[c.serial] : std::string("unknown")},
         {"last_seen", c.last_seen_unix_ms > 0 ? Json(format_iso8601(c.last_seen_unix_ms)) : Json(nullptr)}});
  }
  return Json{{"chips", list}}.dump(2);
}

Result<std::string> events_json(store::Reader& reader, std::uint64_t run_id, std::int64_t since_unix_ms,
                                std::size_t limit) {
  KILN_TRY_ASSIGN(auto events, reader.events(run_id, since_unix_ms, limit));
  Json list = Json::array();
  for (const auto& e : events) {
    Json detail = Json::parse(e.detail_json, nullptr, false);
    list.push_back({{"id", e.id},
                    {"time", format_iso8601(e.unix_ms)},
                    {"unix_ms", e.unix_ms},
                    {"kind", e.kind},
                    {"actor", e.actor},
                    {"peer", e.peer},
                    {"run", e.run_id == 0 ? Json(nullptr) : Json(e.run_id)},
                    {"serial", e.serial.empty() ? Json(nullptr) : Json(e.serial)},
                    {"count", e.count},
                    {"detail", detail.is_discarded() ? Json::object() : detail}});
  }
  return Json{{"events", list}}.dump(2);
}

Result<std::string> chip_json(store::Reader& reader, const std::string& serial) {
  KILN_TRY_ASSIGN(auto chips, reader.chips());
  const store::ChipRow* found = nullptr;
  for (const auto& c : chips) found = c.serial == serial ? &c : found;
  if (found == nullptr) return make_error(ErrorCode::not_found, "no chip with serial '{}'", serial);
  KILN_TRY_ASSIGN(auto history, reader.chip_history(serial));
  Json runs = Json::array();
  for (const auto& h : history) {
    runs.push_back({{"run", h.run_id},
                    {"plan", h.plan_name},
                    {"rack", h.rack},
                    {"slot", h.slot},
                    {"verdict", h.verdict.empty() ? Json(nullptr) : Json(h.verdict)},
                    {"status", h.status},
                    {"submitted", format_iso8601(h.submitted_unix_ms)}});
  }
  Json j{{"serial", found->serial}, {"sku", found->sku}, {"rack", found->rack}, {"slot", found->slot}, {"runs", runs}};
  KILN_TRY_ASSIGN(j["lifecycle"], chip_lifecycle_json(reader, serial));
  return j.dump(2);
}

Status telemetry_csv(store::Reader& reader, std::uint64_t run_id, const std::string& serial, const std::string& metric,
                     std::ostream& out, const std::vector<store::TelemetryWindow>& windows) {
  KILN_TRY_ASSIGN(auto run, reader.run(run_id));
  KILN_TRY_ASSIGN(auto steps, reader.steps(run_id));
  std::map<std::uint32_t, std::string> step_names = step_display_names(steps);
  out << "serial,step,t_s,time,metric,value\n";
  return reader.telemetry(run_id, serial, metric, windows, [&](const store::TelemetryRow& row) {
    out << row.serial << ',' << step_names[row.step_index] << ',' << fmt::format("{:.3f}", row.t_s) << ','
        << format_iso8601(row.wall_unix_ms) << ',' << row.metric << ',' << fmt::format("{:.9g}", row.value) << '\n';
  });
}

}  // namespace kiln::reports
