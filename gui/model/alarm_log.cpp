#include "gui/model/alarm_log.hpp"

#include <algorithm>

namespace kiln::gui {

bool AlarmLog::add(const kiln::v1::Alarm& alarm) {
  // Ids restart with the daemon: an id with another time is a new alarm.
  for (auto& e : entries_) {
    if (e.alarm.id() != alarm.id() || e.alarm.unix_ms() != alarm.unix_ms()) continue;
    // An older version is stale; the same version is a snapshot's resend.
    // An update within the millisecond of the raise carries the same time
    // but another message or state: it still replaces the entry.
    if (alarm.updated_unix_ms() < e.alarm.updated_unix_ms()) return false;
    if (alarm.updated_unix_ms() == e.alarm.updated_unix_ms() && alarm.message() == e.alarm.message() &&
        alarm.cleared() == e.alarm.cleared()) {
      return false;
    }
    // Raised again after it was withdrawn: it needs a look again.
    if (e.alarm.cleared() && !alarm.cleared()) e.acknowledged = false;
    e.alarm = alarm;
    return true;
  }
  auto pos = std::find_if(entries_.begin(), entries_.end(),
                          [&](const AlarmEntry& e) { return e.alarm.unix_ms() < alarm.unix_ms(); });
  entries_.insert(pos, AlarmEntry{alarm, false});
  if (entries_.size() > kKept) entries_.pop_back();
  return true;
}

bool AlarmLog::acknowledge(std::uint64_t id) {
  for (auto& e : entries_) {
    if (e.alarm.id() == id && !e.acknowledged) {
      e.acknowledged = true;
      return true;
    }
  }
  return false;
}

std::size_t AlarmLog::acknowledge_all() {
  std::size_t n = 0;
  for (auto& e : entries_) {
    n += e.acknowledged ? 0 : 1;
    e.acknowledged = true;
  }
  return n;
}

std::size_t AlarmLog::unacknowledged() const {
  return static_cast<std::size_t>(std::count_if(
      entries_.begin(), entries_.end(), [](const AlarmEntry& e) { return !e.acknowledged && !e.alarm.cleared(); }));
}

}  // namespace kiln::gui
