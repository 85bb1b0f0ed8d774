#pragma once
// An engineer acknowledges alarms (Envelope.ack_alarm, operator or admin;
// Hub checks the role): the live feed marks them at once, on the io thread,
// so the first acknowledgement wins; the writer stores who and when
// (alarm_acks); once committed, an audit event alarm_acknowledged is
// recorded and the reply says what was acknowledged. Every subscribed
// dashboard sees the marks in its next update. If storing fails, the marks
// are taken back and the reply is the error.

#include <functional>
#include <string>

#include "core/result.hpp"
#include "daemon/audit_log.hpp"
#include "daemon/ingest_writer.hpp"
#include "daemon/live_feed.hpp"
#include "schema/kiln.pb.h"

namespace kiln::daemon {

struct AlarmAckContext {
  LiveFeed& live;
  IngestWriter& writer;
  std::function<void(AuditEvent)> audit;
};

// `reply` gets the JSON answer ({"acknowledged": [ids], "already": [...],
// "unknown": [...], "by", "unix_ms"}) or the error: invalid_argument when the
// request names no alarm, not_found when none it names is kept.
void acknowledge_alarms(const AlarmAckContext& context, const kiln::v1::AckAlarm& request, const std::string& actor,
                        const std::string& peer, std::int64_t now_unix_ms,
                        std::function<void(Result<std::string>)> reply);

}  // namespace kiln::daemon
