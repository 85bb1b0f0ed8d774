#include "daemon/alarm_acks.hpp"

#include <nlohmann/json.hpp>

#include "schema/enums.hpp"

namespace kiln::daemon {

void acknowledge_alarms(const AlarmAckContext& context, const kiln::v1::AckAlarm& request, const std::string& actor,
                        const std::string& peer, std::int64_t now_unix_ms,
                        std::function<void(Result<std::string>)> reply) {
  if (!request.all() && request.alarms_size() == 0) {
    reply(make_error(ErrorCode::invalid_argument, "acknowledge: name the alarms, or all"));
    return;
  }
  LiveFeed::Acknowledged acked = context.live.acknowledge(request, actor, now_unix_ms);
  if (!request.all() && acked.marked.empty() && acked.already.empty()) {
    reply(make_error(ErrorCode::not_found, "acknowledge: no such alarm (the daemon keeps the latest {})",
                     LiveFeed::kAlarmsKept));
    return;
  }
  nlohmann::json answer{{"acknowledged", nlohmann::json::array()},
                        {"already", acked.already},
                        {"unknown", acked.unknown},
                        {"by", actor},
                        {"unix_ms", now_unix_ms}};
  if (acked.marked.empty()) {
    reply(answer.dump(2));
    return;
  }
  std::vector<store::AlarmAckRow> rows;
  nlohmann::json detail_alarms = nlohmann::json::array();
  for (const auto& a : acked.marked) {
    rows.push_back(store::AlarmAckRow{a.id(), a.unix_ms(), std::string(wire::to_string(a.kind())), a.serial(), a.rack(),
                                      a.run_id(), a.message(), actor, now_unix_ms});
    answer["acknowledged"].push_back(a.id());
    detail_alarms.push_back({{"id", a.id()},
                             {"kind", rows.back().kind},
                             {"serial", a.serial()},
                             {"rack", a.rack()},
                             {"run", a.run_id()},
                             {"message", a.message()}});
  }
  AuditEvent event{"alarm_acknowledged", actor, peer, 0,
                   nlohmann::json{{"all", request.all()}, {"alarms", detail_alarms}}.dump()};
  LiveFeed& live = context.live;
  context.writer.submit([rows = std::move(rows)](store::Writer& writer) { return writer.acknowledge_alarms(rows); },
                        [&live, audit = context.audit, marked = std::move(acked.marked), event = std::move(event),
                         answer = std::move(answer), reply = std::move(reply)](const Status& stored) mutable {
                          if (!stored) {
                            live.unacknowledge(marked);
                            reply(stored.error());
                            return;
                          }
                          audit(std::move(event));
                          reply(answer.dump(2));
                        });
}

}  // namespace kiln::daemon
