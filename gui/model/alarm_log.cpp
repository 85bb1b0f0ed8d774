#include "gui/model/alarm_log.hpp"

#include <algorithm>

namespace kiln::gui {

bool AlarmLog::add(const kiln::v1::Alarm& alarm) {
  const bool acked_by_daemon = !alarm.acknowledged_by().empty();
  // Ids restart with the daemon: an id with another time is a new alarm.
  for (auto& e : entries_) {
    if (e.alarm.id() != alarm.id() || e.alarm.unix_ms() != alarm.unix_ms()) continue;
    // An older version is stale; the same version is a snapshot's resend.
    // An update within the millisecond of the raise carries the same time
    // but another message or state: it still replaces the entry. An
    // acknowledgement (by anyone) changes no version but is news.
    if (alarm.updated_unix_ms() < e.alarm.updated_unix_ms()) return false;
    if (alarm.updated_unix_ms() == e.alarm.updated_unix_ms() && alarm.message() == e.alarm.message() &&
        alarm.cleared() == e.alarm.cleared() && alarm.acknowledged_by() == e.alarm.acknowledged_by() &&
        alarm.acknowledged_unix_ms() == e.alarm.acknowledged_unix_ms()) {
      return false;
    }
    // Raised again after it was withdrawn: it needs a look again.
    if (e.alarm.cleared() && !alarm.cleared()) {
      e.acknowledged = false;
      e.acknowledged_here = false;
    }
    e.alarm = alarm;
    if (acked_by_daemon) e.acknowledged = true;
    return true;
  }
  auto pos = std::find_if(entries_.begin(), entries_.end(),
                          [&](const AlarmEntry& e) { return e.alarm.unix_ms() < alarm.unix_ms(); });
  entries_.insert(pos, AlarmEntry{alarm, acked_by_daemon, false});
  if (entries_.size() > kKept) entries_.pop_back();
  return true;
}

bool AlarmLog::acknowledge(std::uint64_t id) {
  for (auto& e : entries_) {
    if (e.alarm.id() == id && !e.acknowledged) {
      e.acknowledged = true;
      e.acknowledged_here = true;
      return true;
    }
  }
  return false;
}

std::size_t AlarmLog::acknowledge_all() {
  std::size_t n = 0;
  for (auto& e : entries_) {
    if (e.acknowledged) continue;
    ++n;
    e.acknowledged = true;
    e.acknowledged_here = true;
  }
  return n;
}

std::size_t AlarmLog::unacknowledged() const {
  return static_cast<std::size_t>(std::count_if(
      entries_.begin(), entries_.end(), [](const AlarmEntry& e) { return !e.acknowledged && !e.alarm.cleared(); }));
}

kiln::v1::AckAlarm AlarmLog::ack_request(const std::vector<std::uint64_t>& ids) const {
  kiln::v1::AckAlarm request;
  for (const std::uint64_t id : ids) {
    for (const auto& e : entries_) {
      if (e.alarm.id() != id) continue;
      auto* ref = request.add_alarms();
      ref->set_id(id);
      ref->set_raised_unix_ms(e.alarm.unix_ms());
      break;
    }
  }
  return request;
}

const AlarmEntry* AlarmLog::find(std::uint64_t id) const {
  for (const auto& e : entries_) {
    if (e.alarm.id() == id) return &e;
  }
  return nullptr;
}

}  // namespace kiln::gui
