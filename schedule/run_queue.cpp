#include "schedule/run_queue.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/units.hpp"

namespace kiln::schedule {
namespace {

std::string hold_text(const RackHold& hold, const date::time_zone& zone) {
  const std::string until = hold.until ? " until " + format_local(zone, *hold.until) : "";
  switch (hold.kind) {
    case RackHold::Kind::run_lease: return fmt::format("leased by run {}{}", hold.run_id, until);
    case RackHold::Kind::reservation:
      return fmt::format("reserved by {}{}{}", hold.by, until, hold.reason.empty() ? "" : " (" + hold.reason + ")");
    case RackHold::Kind::maintenance:
      return fmt::format("in maintenance{}{}", hold.by.empty() ? "" : " by " + hold.by,
                         hold.reason.empty() ? "" : " (" + hold.reason + ")");
    case RackHold::Kind::offline: return "its agent is not connected";
  }
  return "held";
}

}  // namespace

double effective_priority(const WaitingRun& run, Instant now, const QueueSettings& settings) {
  const double waited = std::max<double>(0, static_cast<double>((now - run.queued_at).count()));
  const double aging = std::max<double>(1, static_cast<double>(settings.aging.count()));
  return run.priority + waited / aging;
}

QueueDecision decide_queue(const std::vector<WaitingRun>& runs, const std::map<std::string, RackHold>& holds,
                           Instant now, const QueueSettings& settings, const date::time_zone& zone) {
  std::vector<const WaitingRun*> order;
  for (const WaitingRun& r : runs) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(), [&](const WaitingRun* a, const WaitingRun* b) {
    const double pa = effective_priority(*a, now, settings);
    const double pb = effective_priority(*b, now, settings);
    if (pa != pb) return pa > pb;
    if (a->queued_at != b->queued_at) return a->queued_at < b->queued_at;
    return a->id < b->id;
  });

  QueueDecision decision;
  struct Claim {
    std::uint64_t run_id = 0;
    std::optional<Instant> earliest_start;  // of that run; none: unknown, or it starts now
  };
  std::map<std::string, Claim> claimed;  // rack → the run ahead that waits for it, or starts on it
  for (const WaitingRun* run : order) {
    std::vector<std::string> reasons;
    std::optional<Instant> earliest_start = now;
    for (const std::string& rack : run->racks) {
      if (const auto held = holds.find(rack); held != holds.end()) {
        reasons.push_back(fmt::format("{}: {}", rack, hold_text(held->second, zone)));
        if (!held->second.until) {
          earliest_start.reset();
        } else if (earliest_start) {
          earliest_start = std::max(*earliest_start, *held->second.until);
        }
      } else if (const auto ahead = claimed.find(rack); ahead != claimed.end()) {
        const bool fits_before =
            run->max_wall && ahead->second.earliest_start && now + *run->max_wall <= *ahead->second.earliest_start;
        if (!fits_before) {
          reasons.push_back(fmt::format("{}: kept for run {}, ahead in the queue", rack, ahead->second.run_id));
          earliest_start.reset();
        }
      }
    }
    if (reasons.empty()) {
      decision.start.push_back(run->id);
      for (const std::string& rack : run->racks) claimed[rack] = Claim{run->id, std::nullopt};
      continue;
    }
    std::string why = "waiting for ";
    for (std::size_t i = 0; i < reasons.size(); ++i) why += (i == 0 ? "" : "; ") + reasons[i];
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - run->queued_at);
    if (run->queue_timeout && waited > *run->queue_timeout) {
      decision.timed_out[run->id] =
          fmt::format("waited {} (queue timeout {}), {}", format_duration(Seconds(static_cast<double>(waited.count()))),
                      format_duration(Seconds(static_cast<double>(run->queue_timeout->count()))), why);
      continue;  // it leaves the queue: its racks are not kept for it
    }
    decision.waiting[run->id] = why;
    for (const std::string& rack : run->racks) claimed.emplace(rack, Claim{run->id, earliest_start});
  }
  return decision;
}

}  // namespace kiln::schedule
