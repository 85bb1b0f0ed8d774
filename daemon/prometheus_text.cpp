#include "daemon/prometheus_text.hpp"

#include <cmath>
#include <map>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "schema/enums.hpp"

namespace kiln::daemon {
namespace {

std::string escape(const std::string& text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// One metric family: its # HELP and # TYPE, then its samples.
struct Family {
  std::string type;
  std::string help;
  std::vector<std::string> samples;
};

class Exposition {
 public:
  void add(const std::string& name, const std::string& type, const std::string& help, const std::string& labels,
           double value) {
    Family& f = families_[name];
    if (f.type.empty()) {
      f.type = type;
      f.help = help;
    }
    f.samples.push_back(fmt::format("{}{} {}", name, labels.empty() ? "" : "{" + labels + "}", number(value)));
  }
  // Declared even with no samples, so that a scraper sees the family.
  void declare(const std::string& name, const std::string& type, const std::string& help) {
    Family& f = families_[name];
    f.type = type;
    f.help = help;
  }

  std::string text() const {
    std::string out;
    for (const auto& [name, f] : families_) {
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(f.help), name, f.type);
      for (const auto& s : f.samples) out += s + "\n";
    }
    return out;
  }

 private:
  static std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);
  }
  // HELP text escapes backslash and newline; label values also the quote.
  static std::string escape_help(const std::string& help) { return escape(help, false); }
  std::map<std::string, Family> families_;  // sorted: stable output
};

std::string label(std::string_view name, const std::string& value) {
  return fmt::format("{}=\"{}\"", name, prometheus_label_value(value));
}

std::string chip_labels(const kiln::v1::ChipLive& chip) {
  return label("serial", chip.serial()) + "," + label("rack", chip.rack()) + "," +
         label("slot", std::to_string(chip.slot())) + "," + label("sku", chip.sku());
}

// "none" for a chip with no verdict yet, else schema/enums' wording.
std::string verdict_name(kiln::v1::LiveVerdict v) {
  const std::string_view name = wire::to_string(v);
  return name.empty() ? "none" : std::string(name);
}

std::string help_of(const metrics::MetricDef& def) {
  std::string help = def.label.empty() ? def.name : def.label;
  if (!def.unit.empty()) help += " (" + def.unit + ")";
  if (!def.help.empty()) help += ": " + def.help;
  return help;
}

// The family a chip reading goes to: kiln_chip_<name> or, per link,
// kiln_link_<suffix>; counters end in _total, as Prometheus names them.
std::string family_of(const metrics::MetricDef& def) {
  std::string base;
  if (def.per_link()) {
    const auto at = def.name.find("{}");
    std::string rest = def.name.substr(at + 2);
    if (!rest.empty() && rest.front() == '_') rest.erase(0, 1);
    base = "kiln_link_" + rest;
  } else {
    base = "kiln_chip_" + def.name;
  }
  if (def.kind == metrics::MetricKind::counter) base += "_total";
  return base;
}

void add_chips(Exposition& e, const LiveFeed::Snapshot& live, const DaemonHealth& health,
               const metrics::MetricCatalog& catalog) {
  e.declare("kiln_chip_verdict", "gauge", "1 for the chip's verdict so far in its current or last run");
  for (const auto& chip : live.chips) {
    const std::string labels = chip_labels(chip);
    e.add("kiln_chip_verdict", "gauge", "", labels + "," + label("verdict", verdict_name(chip.verdict())), 1);
    if (chip.run_id() != 0) {
      e.add("kiln_chip_run_id", "gauge", "the run the chip is in, or was in last", labels,
            static_cast<double>(chip.run_id()));
    }
    if (chip.wall_unix_ms() > 0) {
      e.add("kiln_chip_last_sample_age_seconds", "gauge", "seconds since the chip's last telemetry sample", labels,
            static_cast<double>(health.now_unix_ms - chip.wall_unix_ms()) / 1000.0);
    }
    const int n = std::min(chip.metric_index_size(), chip.metric_value_size());
    for (int i = 0; i < n; ++i) {
      const auto index = chip.metric_index(i);
      if (index >= live.metric_names.size()) continue;
      const metrics::MetricRef ref = catalog.resolve(live.metric_names[index]);
      if (ref.def == nullptr) continue;  // not in the catalog: nothing says what it is
      const std::string type = ref.def->kind == metrics::MetricKind::counter ? "counter" : "gauge";
      const std::string link = ref.link ? "," + label("link", std::to_string(*ref.link)) : "";
      e.add(family_of(*ref.def), type, help_of(*ref.def), labels + link, chip.metric_value(i));
    }
  }
}

std::string run_state(kiln::v1::LiveRunState s) {
  const std::string_view name = wire::to_string(s);
  return name.empty() ? "unknown" : std::string(name);
}

void add_runs(Exposition& e, const LiveFeed::Snapshot& live) {
  std::map<std::string, int> by_state{{"queued", 0}, {"running", 0}};
  for (const auto& run : live.runs) {
    ++by_state[run_state(run.state())];
    const std::string labels = label("run", std::to_string(run.run_id()));
    if (run.total_s() > 0) {
      e.add("kiln_run_progress_ratio", "gauge", "simulated or chip time done over the plan's total", labels,
            run.elapsed_s() / run.total_s());
    }
    e.add("kiln_run_phase", "gauge", "the phase the run is in (1-based)", labels, run.phase());
    e.add("kiln_run_failing_chips", "gauge", "chips failed so far", labels, run.failing_size());
    e.add("kiln_run_lost_racks", "gauge", "racks whose agent was lost during the run", labels, run.lost_racks_size());
    if (run.state() == kiln::v1::LIVE_RUN_QUEUED) {
      e.add("kiln_run_queue_position", "gauge", "place in the queue (1: next)", labels, run.queue_position());
    }
  }
  for (const auto& [state, count] : by_state) {
    e.add("kiln_runs", "gauge", "runs by state", label("state", state), count);
  }
}

void add_racks(Exposition& e, const LiveFeed::Snapshot& live) {
  int connected = 0;
  for (const auto& rack : live.racks) {
    connected += rack.connected() ? 1 : 0;
    e.add("kiln_rack_connected", "gauge", "1 while the rack's agent is connected",
          label("rack", rack.rack()) + "," + label("backend", rack.backend()), rack.connected() ? 1 : 0);
  }
  e.add("kiln_racks_connected", "gauge", "racks whose agent is connected", "", connected);
}

// Every state appears for every SKU seen, 0 included, so that a rate or an
// alert on a state has a series before the first chip reaches it.
void add_lifecycle(Exposition& e, const DaemonHealth& h) {
  static constexpr const char* kStates[] = {"unknown", "healthy", "suspect",    "quarantined",
                                            "rma",     "retired", "maintenance"};
  e.declare("kiln_chips_lifecycle", "gauge", "chips by lifecycle state and SKU");
  std::map<std::string, std::map<std::string, std::uint64_t>> by_sku;
  for (const auto& [key, count] : h.lifecycle_chips) by_sku[key.second][key.first] += count;
  for (const auto& [sku, states] : by_sku) {
    for (const char* state : kStates) {
      const auto it = states.find(state);
      e.add("kiln_chips_lifecycle", "gauge", "chips by lifecycle state and SKU",
            label("state", state) + "," + label("sku", sku), static_cast<double>(it == states.end() ? 0 : it->second));
    }
  }
}

void add_health(Exposition& e, const LiveFeed::Snapshot& live, const DaemonHealth& h) {
  e.add("kiln_daemon_up", "gauge", "1: kilnd answers", "", 1);
  e.add("kiln_daemon_sessions", "gauge", "open connections (agents, clients, dashboards)", "",
        static_cast<double>(h.sessions));
  e.add("kiln_daemon_dashboard_subscribers", "gauge", "clients subscribed to the live feed", "",
        static_cast<double>(live.subscribers));
  e.add("kiln_daemon_ingest_jobs_total", "counter", "writes handed to the store's writer (batches, results, runs)", "",
        static_cast<double>(h.ingest_jobs));
  e.add("kiln_daemon_ingest_transactions_total", "counter", "SQLite transactions committed or tried", "",
        static_cast<double>(h.ingest_transactions));
  e.add("kiln_daemon_ingest_failed_jobs_total", "counter", "writes the store refused", "",
        static_cast<double>(h.ingest_failed_jobs));
  e.add("kiln_daemon_writer_queue_jobs", "gauge", "writes waiting for the writer thread", "",
        static_cast<double>(h.writer_queue));
  if (h.last_commit_unix_ms > 0) {
    e.add("kiln_daemon_last_commit_age_seconds", "gauge", "seconds since the store last committed", "",
          static_cast<double>(h.now_unix_ms - h.last_commit_unix_ms) / 1000.0);
  }
  if (h.database_bytes >= 0) {
    e.add("kiln_daemon_database_bytes", "gauge", "size of the SQLite database file and its WAL", "",
          static_cast<double>(h.database_bytes));
  }
}

}  // namespace

std::string prometheus_label_value(const std::string& value) { return escape(value, true); }

std::string prometheus_text(const LiveFeed::Snapshot& live, const DaemonHealth& health,
                            const metrics::MetricCatalog& catalog) {
  Exposition e;
  add_chips(e, live, health, catalog);
  add_runs(e, live);
  add_racks(e, live);
  add_health(e, live, health);
  add_lifecycle(e, health);
  return e.text();
}

}  // namespace kiln::daemon
