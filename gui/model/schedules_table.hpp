#pragma once
// The schedules as the schedule view lists them: the daemon's SCHEDULES
// query (JSON, docs/scheduling.md), each with its next fire time and its
// last result, the last run's status joined from the runs the dashboard
// lists. A daemon that does not answer the query (an older one answers an
// error) leaves the table empty with that error to show. Qt-free.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "gui/model/runs_table.hpp"

namespace kiln::gui {

struct ScheduleRow {
  std::uint64_t id = 0;
  std::string name;
  std::string plan;
  std::string plan_path;
  std::string cron;
  std::string time_zone;
  std::vector<std::string> racks;
  std::string sku;
  std::int64_t priority = 0;
  std::optional<std::int64_t> max_wall_s;
  std::optional<std::int64_t> queue_timeout_s;
  std::int64_t jitter_s = 0;
  std::string catch_up;
  bool enabled = true;
  std::string created_by;
  std::string next_fire;        // ISO 8601 UTC; empty: none (disabled, or never again)
  std::string next_fire_local;  // "2026-12-04 02:30 CET" in the schedule's zone
  std::string waiting;          // a fire that is due but waits (for late racks): why
  std::string last_fire;
  std::optional<std::uint64_t> last_run;
  std::string last_outcome;  // the daemon's words: "run 12 submitted", "skipped: daemon was down"
};

class SchedulesTable {
 public:
  // The SCHEDULES answer. Replaces the rows; returns whether anything changed.
  // A body that does not parse is an error and leaves the rows as they were.
  Result<bool> load_json(const std::string& text);
  // The daemon could not answer (an error reply, or the link is down): the
  // rows are dropped and `why` is what the view says instead.
  void set_unavailable(std::string why);

  const std::vector<ScheduleRow>& rows() const { return rows_; }  // as the daemon lists them
  const ScheduleRow* find(const std::string& name) const;
  // Empty while the daemon answers.
  const std::string& unavailable() const { return unavailable_; }
  bool loaded() const { return loaded_; }

 private:
  std::vector<ScheduleRow> rows_;
  std::string unavailable_;
  bool loaded_ = false;
};

// The next fire time as the view shows it: the schedule's local time when
// the daemon gave it, else the UTC time, with why a due fire waits; "disabled"
// or "–" when none.
std::string next_fire_text(const ScheduleRow& row);
// The last result, joined with the runs list: "run 12: completed",
// "run 14: queued #2 — waiting for r02: …", or the daemon's outcome when the
// run is not listed (or no run was submitted: "skipped: …"); "never fired" when
// it has not fired.
std::string last_result_text(const ScheduleRow& row, const RunsTable& runs);

}  // namespace kiln::gui
