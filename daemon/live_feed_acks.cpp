// The live feed's alarm acknowledgements (LiveFeed::acknowledge): kept on
// the alarms themselves, so deltas and snapshots carry them to every
// dashboard. On the io thread, like the rest of the feed.
#include <algorithm>

#include "daemon/live_feed.hpp"

namespace kiln::daemon {

LiveFeed::Acknowledged LiveFeed::acknowledge(const kiln::v1::AckAlarm& request, const std::string& by,
                                             std::int64_t unix_ms) {
  Acknowledged result;
  auto mark = [&](StoredAlarm& a) {
    if (!a.alarm.acknowledged_by().empty()) {
      result.already.push_back(a.alarm.id());
      return;
    }
    a.alarm.set_acknowledged_by(by);
    a.alarm.set_acknowledged_unix_ms(unix_ms);
    a.version = bump();
    result.marked.push_back(a.alarm);
  };
  if (request.all()) {
    for (auto& a : alarms_) {
      if (a.alarm.acknowledged_by().empty() && !a.alarm.cleared()) mark(a);
    }
    return result;
  }
  for (const auto& ref : request.alarms()) {
    auto it = std::find_if(alarms_.begin(), alarms_.end(), [&](const StoredAlarm& a) {
      return a.alarm.id() == ref.id() && (ref.raised_unix_ms() == 0 || a.alarm.unix_ms() == ref.raised_unix_ms());
    });
    if (it == alarms_.end()) {
      result.unknown.push_back(ref.id());
    } else {
      mark(*it);
    }
  }
  return result;
}

void LiveFeed::unacknowledge(const std::vector<kiln::v1::Alarm>& marked) {
  for (const auto& m : marked) {
    for (auto& a : alarms_) {
      if (a.alarm.id() != m.id() || a.alarm.acknowledged_unix_ms() != m.acknowledged_unix_ms() ||
          a.alarm.acknowledged_by() != m.acknowledged_by())
        continue;
      a.alarm.clear_acknowledged_by();
      a.alarm.set_acknowledged_unix_ms(0);
      a.version = bump();
    }
  }
}

}  // namespace kiln::daemon
