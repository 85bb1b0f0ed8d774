#include "cli/progress.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/units.hpp"
#include "reports/run_status.hpp"

namespace kiln::cli {

std::string progress_line(const kiln::v1::RunProgress& run) {
  std::string line = fmt::format("run {} {}", run.run_id(), run.plan());
  if (!run.live()) return fmt::format("{}  {}", line, reports::to_string(run.status()));
  if (run.state() == kiln::v1::LIVE_RUN_QUEUED) {
    line += fmt::format("  queued (position {})", run.queue_position());
    return run.waiting().empty() ? line : fmt::format("{}: {}", line, run.waiting());
  }
  const double elapsed = run.elapsed_s();
  const double total = std::max(run.total_s(), 1e-9);
  const int width = 20;
  const int filled = std::clamp(static_cast<int>(elapsed / total * width + 0.5), 0, width);
  line +=
      fmt::format("  phase {}/{} {:<12} [{}{}] {}/{}", run.phase(), run.phases(), run.step(), std::string(filled, '#'),
                  std::string(width - filled, '-'), format_duration(Seconds{elapsed}), format_duration(Seconds{total}));
  if (run.failing().empty() && run.over_limit().empty()) line += "  no failures so far";
  if (!run.failing().empty()) line += fmt::format("  failing: {}", fmt::join(run.failing(), ", "));
  if (!run.over_limit().empty()) line += fmt::format("  over a limit so far: {}", fmt::join(run.over_limit(), ", "));
  if (!run.lost_racks().empty()) line += fmt::format("  lost racks: {}", fmt::join(run.lost_racks(), ", "));
  return line;
}

bool run_finished(const kiln::v1::RunProgress& run) { return reports::is_finished(run.status()); }

}  // namespace kiln::cli
