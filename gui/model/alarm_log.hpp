#pragma once
// The alarms the daemon raised (new failures, throttling, agents gone silent
// or lost), newest first, with what has been acknowledged: by whom and when
// as the daemon says (every dashboard sees an acknowledgement, docs/dashboard.md),
// or here, until the daemon's word arrives. Qt-free.

#include <cstdint>
#include <string>
#include <vector>

#include "schema/kiln.pb.h"

namespace kiln::gui {

struct AlarmEntry {
  kiln::v1::Alarm alarm;           // acknowledged_by / acknowledged_unix_ms: the daemon's record
  bool acknowledged = false;       // by anyone: the daemon says so, or it was acknowledged here
  bool acknowledged_here = false;  // asked of this dashboard (the daemon may not have stored it yet)
  const std::string& acknowledged_by() const { return alarm.acknowledged_by(); }
};

class AlarmLog {
 public:
  static constexpr std::size_t kKept = 1000;

  // Returns false for an alarm already listed as it is (snapshots resend
  // the daemon's recent alarms); an alarm the daemon updated (same id, a
  // later update, or someone acknowledged it) replaces its entry, which
  // keeps its acknowledgement unless the update reports something worse
  // than it was cleared of.
  bool add(const kiln::v1::Alarm& alarm);
  // Marks it acknowledged here; returns false when it already was (or is not listed).
  bool acknowledge(std::uint64_t id);
  std::size_t acknowledge_all();
  std::size_t unacknowledged() const;  // cleared alarms need no one's attention
  // What an AckAlarm names for these alarms (id and raise time).
  kiln::v1::AckAlarm ack_request(const std::vector<std::uint64_t>& ids) const;

  const std::vector<AlarmEntry>& entries() const { return entries_; }  // newest first
  const AlarmEntry* find(std::uint64_t id) const;

 private:
  std::vector<AlarmEntry> entries_;
};

}  // namespace kiln::gui
