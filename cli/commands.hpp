#pragma once
// The kiln subcommands other than `lab`. Each returns the process exit
// status and writes errors to stderr as one line with the reason.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "core/result.hpp"
#include "reports/fail_on.hpp"

namespace kiln::cli {

int plan_check(const std::vector<std::string>& files);

struct SubmitOptions {
  std::string file;
  std::vector<std::string> racks;
  std::optional<std::uint64_t> seed;
  std::int32_t priority = 0;                 // the fair queue (docs/scheduling.md)
  std::optional<std::string> queue_timeout;  // a duration ("2h")
  std::optional<std::string> max_wall;       // a duration
  bool wait = false;
  reports::FailOn fail_on = reports::kDefaultFailOn;  // with wait: exit 3 when a chip meets it
};
int run_submit(const GlobalOptions& global, const SubmitOptions& options);
int run_list(const GlobalOptions& global, bool json);
int run_show(const GlobalOptions& global, std::uint64_t run_id, bool json);
int run_abort(const GlobalOptions& global, std::uint64_t run_id);

int report(const GlobalOptions& global, std::uint64_t run_id, const std::string& format, const std::string& output);
int telemetry(const GlobalOptions& global, std::uint64_t run_id, const std::string& chip, const std::string& metric,
              const std::string& format, const std::string& output);
// `state`: only chips in this lifecycle state ('' all).
int chips(const GlobalOptions& global, bool json, const std::string& state = "");

struct EventsOptions {
  std::uint64_t run_id = 0;  // 0: every run's and none's
  std::string since;         // "" (all), a duration back from now ("10m", "24h"), or UTC "2026-12-02T05:00:00Z"
  std::size_t limit = 100;   // the latest this many; 0: all
  bool json = false;
};
// The audit trail (DESIGN §8), oldest first; needs an admin's credential.
int events(const GlobalOptions& global, const EventsOptions& options);
// --since as Unix milliseconds, given the time now.
Result<std::int64_t> parse_since(const std::string& text, std::int64_t now_unix_ms);
// A chip's lifecycle (state, retests, transitions, slots) and history; `drift`: its drift trend instead.
int chip(const GlobalOptions& global, const std::string& serial, bool json, bool drift = false);

struct ChipSetOptions {
  std::string serial;
  std::string state;
  std::string reason;
  bool hand_back = false;  // the policy decides from then on
  bool json = false;
};
// A person's lifecycle state for a chip (operator or admin): sticky unless handed back.
int chip_set(const GlobalOptions& global, const ChipSetOptions& options);

struct DigestOptions {
  std::string since = "24h";
  std::string format = "text";  // text | json
};
// The morning digest (docs/lifecycle.md).
int digest(const GlobalOptions& global, const DigestOptions& options);

// Racks: connected ones and what holds each (a run's lease, a reservation, maintenance).
int racks(const GlobalOptions& global, bool json);
struct RackHoldOptions {
  std::string rack;
  std::string action;    // reserve | release | maintenance-on | maintenance-off
  std::string duration;  // reserve (required), maintenance on (optional): "2h"
  std::string reason;
};
int rack_hold(const GlobalOptions& global, const RackHoldOptions& options);

}  // namespace kiln::cli
