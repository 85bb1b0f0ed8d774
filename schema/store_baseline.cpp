// Writer::baselines: what `of: baseline` limits compare with.
#include <SQLiteCpp/SQLiteCpp.h>

#include "schema/store.hpp"
#include "schema/store_internal.hpp"

namespace kiln::store {

Result<std::vector<BaselineRow>> Writer::baselines(const std::string& plan_name, std::uint64_t before_run_id) {
  return detail::guarded("baselines", [&]() -> Result<std::vector<BaselineRow>> {
    SQLite::Statement q(*db_,
                        "WITH last AS ("
                        "  SELECT rc.chip_id AS chip_id, max(r.id) AS run_id FROM run_chips rc"
                        "  JOIN runs r ON r.id = rc.run_id JOIN plans p ON p.id = r.plan_id"
                        "  WHERE p.name = ?1 AND r.id < ?2 AND r.status = 'completed' AND rc.verdict = 'pass'"
                        "  GROUP BY rc.chip_id) "
                        "SELECT c.serial, l.run_id, s.name, m.name, csm.avg, csm.max, csm.count FROM last l "
                        "JOIN chips c ON c.id = l.chip_id "
                        "JOIN chip_step_metrics csm ON csm.run_id = l.run_id AND csm.chip_id = l.chip_id "
                        "JOIN steps s ON s.run_id = csm.run_id AND s.step_index = csm.step_index "
                        "JOIN metric_names m ON m.id = csm.metric_id "
                        "WHERE s.repeat_index = 0 AND csm.count > 0 AND csm.avg IS NOT NULL AND csm.max IS NOT NULL "
                        "ORDER BY c.serial, s.step_index, m.name");
    q.bind(1, plan_name);
    q.bind(2, static_cast<std::int64_t>(before_run_id));
    std::vector<BaselineRow> rows;
    while (q.executeStep()) {
      rows.push_back(BaselineRow{q.getColumn(0).getString(), static_cast<std::uint64_t>(q.getColumn(1).getInt64()),
                                 q.getColumn(2).getString(), q.getColumn(3).getString(), q.getColumn(4).getDouble(),
                                 q.getColumn(5).getDouble(), static_cast<std::uint64_t>(q.getColumn(6).getInt64())});
    }
    return rows;
  });
}

}  // namespace kiln::store
