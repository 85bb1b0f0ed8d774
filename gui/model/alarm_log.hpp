#pragma once
// The alarms the daemon raised (new failures, throttling, agents gone silent
// or lost), newest first, with what the engineer has acknowledged. Qt-free.

#include <cstdint>
#include <string>
#include <vector>

#include "schema/kiln.pb.h"

namespace kiln::gui {

struct AlarmEntry {
  kiln::v1::Alarm alarm;
  bool acknowledged = false;
};

class AlarmLog {
 public:
  static constexpr std::size_t kKept = 1000;

  // Returns false for an alarm already listed as it is (snapshots resend
  // the daemon's recent alarms); an alarm the daemon updated (same id, a
  // later update) replaces its entry, which keeps its acknowledgement
  // unless the update reports something worse than it was cleared of.
  bool add(const kiln::v1::Alarm& alarm);
  bool acknowledge(std::uint64_t id);
  std::size_t acknowledge_all();
  std::size_t unacknowledged() const;  // cleared alarms need no one's attention

  const std::vector<AlarmEntry>& entries() const { return entries_; }  // newest first

 private:
  std::vector<AlarmEntry> entries_;
};

}  // namespace kiln::gui
