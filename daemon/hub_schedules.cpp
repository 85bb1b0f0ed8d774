// Hub: schedule requests and queries (docs/scheduling.md), routed to the Scheduler.
#include "core/clock.hpp"
#include "daemon/hub.hpp"
#include "net/error_reply.hpp"
#include "net/reply_parts.hpp"
#include "reports/answer.hpp"

namespace kiln::daemon {

namespace {

void send_json(Session& session, std::uint64_t request_id, const nlohmann::ordered_json& body) {
  kiln::v1::QueryReply reply;
  reply.set_body(body.dump(2));
  reply.set_content_type(reports::kJsonContent);
  session.send_reply(request_id, net::split_reply(std::move(reply)));
}

}  // namespace

void Hub::on_schedule_request(Session& session, std::uint64_t request_id, const kiln::v1::ScheduleRequest& request) {
  if (!permitted(session, request_id, ClientRole::run_operator, "add, change or remove schedules")) return;
  std::weak_ptr<Session> weak = session.shared_from_this();
  scheduler_.request(request, session.credential_name(), [weak, request_id](Result<nlohmann::ordered_json> answer) {
    auto session = weak.lock();
    if (!session) return;
    if (!answer) {
      session->send(net::error_reply(request_id, answer.error()));
      return;
    }
    send_json(*session, request_id, *answer);
  });
}

void Hub::answer_schedule_query(Session& session, std::uint64_t request_id, const kiln::v1::Query& query) {
  if (query.answer() == kiln::v1::Query::ANSWER_TYPED) {
    session.send(
        net::error_reply(request_id, make_error(ErrorCode::invalid_argument, "schedule queries have no typed answer")));
    return;
  }
  if (query.kind() == kiln::v1::Query::SCHEDULES) {
    send_json(session, request_id, scheduler_.list_json());
    return;
  }
  auto shown = scheduler_.show_json(query.name());
  if (!shown) {
    session.send(net::error_reply(request_id, shown.error()));
    return;
  }
  send_json(session, request_id, *shown);
}

void Hub::submit_scheduled(const kiln::v1::SubmitRun& request, const std::string& actor,
                           const store::ScheduleFireRow& fire, Scheduler::SubmitReply reply) {
  runs_.submit(
      request,
      [this, actor, plan_path = request.plan_path(), fire_ms = fire.fire_unix_ms,
       reply = std::move(reply)](kiln::v1::SubmitRunReply answer) {
        if (answer.run_id() != 0) {
          live_.on_run_submitted(answer.run_id());
          // The actor is the schedule ("schedule:nightly"); the fire time says which night.
          audit_.record(AuditEvent{"run_submitted", actor, "", answer.run_id(),
                                   nlohmann::json{{"plan_path", plan_path}, {"fire", format_iso8601(fire_ms)}}.dump()});
        }
        reply(std::move(answer));
      },
      actor, fire);
}

}  // namespace kiln::daemon
