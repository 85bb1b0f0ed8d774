#include "reports/digest.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::ordered_json;

Json parse_object(const std::string& text) {
  Json parsed = Json::parse(text, nullptr, false);
  return parsed.is_object() ? parsed : Json::object();
}

bool in_window(std::int64_t t, std::int64_t since, std::int64_t until) { return t >= since && t <= until; }

std::string text_of(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "-";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

}  // namespace

Result<std::string> digest_json(store::Reader& reader, std::int64_t since, std::int64_t until) {
  KILN_TRY_ASSIGN(auto runs, reader.list_runs());
  Json ran = Json::array(), failures = Json::array(), errored = Json::array();
  std::set<std::string> tested;
  std::map<std::string, std::string> last_tested;  // rack → when its last run in the window or before ended
  std::map<std::string, std::string> tried;        // rack → why its runs in the window did not test it
  for (const auto& run : runs) {
    const std::int64_t when = run.ended_unix_ms.value_or(run.started_unix_ms.value_or(run.submitted_unix_ms));
    if (when > until) continue;
    if (!in_window(when, since, until)) {
      if (run.status == "completed") {
        for (const auto& r : run.racks) last_tested[r] = format_iso8601(when);
      }
      continue;
    }
    KILN_TRY_ASSIGN(auto chips, reader.run_chips(run.id));
    std::map<std::string, int> verdicts;
    for (const auto& c : chips) ++verdicts[c.verdict.empty() ? "pending" : c.verdict];
    ran.push_back({{"run", run.id},
                   {"plan", run.plan_name},
                   {"status", run.status},
                   {"racks", run.racks},
                   {"submitted", format_iso8601(run.submitted_unix_ms)},
                   {"ended", run.ended_unix_ms ? Json(format_iso8601(*run.ended_unix_ms)) : Json(nullptr)},
                   {"verdicts", verdicts}});
    if (run.status == "error" || run.status == "aborted") {
      errored.push_back({{"run", run.id}, {"plan", run.plan_name}, {"status", run.status}, {"reason", run.reason}});
      for (const auto& r : run.racks) tried[r] = fmt::format("run {} {}: {}", run.id, run.status, run.reason);
    } else if (run.status == "completed") {
      for (const auto& r : run.racks) {
        tested.insert(r);
        last_tested[r] = format_iso8601(when);
      }
    }
    // The failures, located; "new" when the chip's run before passed (or it had none).
    bool any_failed = false;
    for (const auto& c : chips) any_failed |= c.verdict == "fail" || c.verdict == "marginal";
    if (!any_failed) continue;
    KILN_TRY_ASSIGN(auto chip_steps, reader.chip_steps(run.id));
    for (const auto& c : chips) {
      if (c.verdict != "fail" && c.verdict != "marginal") continue;
      KILN_TRY_ASSIGN(auto history, reader.chip_history(c.serial));
      bool fresh = true;
      for (const auto& h : history) {
        if (h.run_id >= run.id) break;
        if (h.verdict == "pass") fresh = true;
        if (h.verdict == "fail" || h.verdict == "marginal") fresh = false;
      }
      Json located = Json::array();
      for (const auto& cs : chip_steps) {
        if (cs.serial != c.serial) continue;
        for (const auto& f : cs.failures) {
          Json one{{"class", f.cls}, {"step", f.step_name}, {"count", f.count}};
          const Json location = parse_object(f.location_json);
          for (const auto& [k, v] : location.items()) one[k] = v;
          located.push_back(one);
        }
      }
      failures.push_back({{"run", run.id},
                          {"serial", c.serial},
                          {"rack", c.rack},
                          {"slot", c.slot},
                          {"verdict", c.verdict},
                          {"new", fresh},
                          {"failures", located}});
    }
  }

  KILN_TRY_ASSIGN(auto chips, reader.chips());
  Json transitions = Json::array();
  std::set<std::string> racks;
  for (const auto& c : chips) {
    if (!c.rack.empty()) racks.insert(c.rack);
    KILN_TRY_ASSIGN(auto list, reader.lifecycle_transitions(c.serial));
    for (const auto& t : list) {
      if (!in_window(t.unix_ms, since, until)) continue;
      transitions.push_back({{"time", format_iso8601(t.unix_ms)},
                             {"serial", c.serial},
                             {"from", t.from_state},
                             {"to", t.to_state},
                             {"actor", t.actor},
                             {"reason", t.reason},
                             {"run", t.run_id ? Json(t.run_id) : Json(nullptr)},
                             {"plan_sha256", t.plan_sha256}});
    }
  }
  std::sort(transitions.begin(), transitions.end(),
            [](const Json& a, const Json& b) { return a["time"].get<std::string>() < b["time"].get<std::string>(); });

  KILN_TRY_ASSIGN(auto events, reader.events(0, since, 0));
  Json drift = Json::array(), breaker = Json::array(), slots = Json::array();
  for (const auto& e : events) {
    if (e.unix_ms > until) continue;
    const Json detail = parse_object(e.detail_json);
    Json one{{"time", format_iso8601(e.unix_ms)}, {"run", e.run_id ? Json(e.run_id) : Json(nullptr)}};
    if (!e.serial.empty()) one["serial"] = e.serial;
    for (const auto& [k, v] : detail.items()) one[k] = v;
    if (e.kind == "lifecycle_drift") drift.push_back(one);
    if (e.kind == "lifecycle_breaker") breaker.push_back(one);
    if (e.kind == "lifecycle_slot") slots.push_back(one);
  }

  Json untested = Json::array();
  for (const auto& rack : racks) {
    if (tested.contains(rack)) continue;
    std::string why = tried.contains(rack) ? tried[rack] : std::string("no run targeted it");
    untested.push_back({{"rack", rack},
                        {"why", why},
                        {"last_tested", last_tested.contains(rack) ? Json(last_tested[rack]) : Json(nullptr)}});
  }
  // What each schedule's fire times did in the window (docs/scheduling.md).
  KILN_TRY_ASSIGN(auto fires, reader.schedule_fires(0, since, until == INT64_MAX ? until : until + 1, 0));
  Json scheduled = Json::array();
  std::map<std::uint64_t, std::string> schedule_names;
  for (const auto& f : fires) {
    if (!schedule_names.contains(f.schedule_id)) {
      auto name = reader.schedule_name(f.schedule_id);
      schedule_names[f.schedule_id] = name ? *name : std::to_string(f.schedule_id);
    }
    scheduled.push_back({{"schedule", schedule_names[f.schedule_id]},
                         {"fire", format_iso8601(f.fire_unix_ms)},
                         {"outcome", f.outcome},
                         {"run", f.run_id ? Json(f.run_id) : Json(nullptr)},
                         {"detail", f.detail}});
  }
  Json digest{{"since", format_iso8601(since)},
              {"until", format_iso8601(until)},
              {"runs", ran},
              {"failures", failures},
              {"transitions", transitions},
              {"drift_alarms", drift},
              {"breaker", breaker},
              {"slot_findings", slots},
              {"errored_runs", errored},
              {"untested_racks", untested},
              {"scheduled", scheduled}};
  return digest.dump(2);
}

std::string digest_text(const std::string& text) {
  const Json d = Json::parse(text, nullptr, false);
  if (!d.is_object()) return text;
  std::string out = fmt::format("Kiln digest {} .. {}\n", text_of(d, "since"), text_of(d, "until"));
  auto section = [&](const char* title, const Json& list, auto&& line) {
    out += fmt::format("\n{} ({})\n", title, list.size());
    if (list.empty()) out += "  none\n";
    for (const auto& item : list) out += "  " + line(item) + "\n";
  };
  section("Runs", d["runs"], [](const Json& r) {
    return fmt::format("run {} {} {} on {}: {}", text_of(r, "run"), text_of(r, "plan"), text_of(r, "status"),
                       fmt::format("{}", fmt::join(r["racks"].get<std::vector<std::string>>(), ",")),
                       r["verdicts"].dump());
  });
  section("Failures", d["failures"], [](const Json& f) {
    std::string where;
    for (const auto& one : f["failures"]) {
      std::string loc;
      for (const auto& [k, v] : one.items()) {
        if (k != "class" && k != "step" && k != "count") loc += fmt::format(" {}={}", k, v.dump());
      }
      where += fmt::format("; {} in {}{}", text_of(one, "class"), text_of(one, "step"), loc);
    }
    return fmt::format("{}{} {} in {}/{} run {}{}", f["new"].get<bool>() ? "NEW " : "", text_of(f, "serial"),
                       text_of(f, "verdict"), text_of(f, "rack"), text_of(f, "slot"), text_of(f, "run"), where);
  });
  section("Lifecycle transitions", d["transitions"], [](const Json& t) {
    return fmt::format("{} {} {} -> {} by {}: {}", text_of(t, "time"), text_of(t, "serial"), text_of(t, "from"),
                       text_of(t, "to"), text_of(t, "actor"), text_of(t, "reason"));
  });
  section("Drift alarms", d["drift_alarms"], [](const Json& a) {
    return fmt::format("{} run {}: {}", text_of(a, "serial"), text_of(a, "run"), text_of(a, "reason"));
  });
  section("Circuit breaker", d["breaker"],
          [](const Json& b) { return fmt::format("HELD run {}: {}", text_of(b, "run"), text_of(b, "reason")); });
  section("Slot findings", d["slot_findings"],
          [](const Json& s) { return fmt::format("{}: {}", text_of(s, "serial"), text_of(s, "reason")); });
  section("Runs that errored", d["errored_runs"], [](const Json& r) {
    return fmt::format("run {} {} {}: {}", text_of(r, "run"), text_of(r, "plan"), text_of(r, "status"),
                       text_of(r, "reason"));
  });
  section("Racks not tested", d["untested_racks"], [](const Json& r) {
    return fmt::format("{}: {} (last tested {})", text_of(r, "rack"), text_of(r, "why"), text_of(r, "last_tested"));
  });
  if (d.contains("scheduled")) {
    section("Scheduled fire times", d["scheduled"], [](const Json& f) {
      const std::string what = f["run"].is_null() ? text_of(f, "outcome") : "run " + text_of(f, "run");
      const std::string detail = f.value("detail", "");
      return fmt::format("{} {}: {}{}{}", text_of(f, "schedule"), text_of(f, "fire"), what, detail.empty() ? "" : ": ",
                         detail);
    });
  }
  return out;
}

}  // namespace kiln::reports
