#include "reports/answer.hpp"

#include <sstream>

#include "core/clock.hpp"
#include "reports/digest.hpp"
#include "reports/queries.hpp"
#include "reports/telemetry_windows.hpp"
#include "reports/typed_replies.hpp"

namespace kiln::reports {
namespace {

using Kind = kiln::v1::Query;

kiln::v1::QueryReply text_reply(std::string body, const char* content_type) {
  kiln::v1::QueryReply reply;
  reply.set_body(std::move(body));
  reply.set_content_type(content_type);
  return reply;
}

Result<kiln::v1::QueryReply> answer_text(store::Reader& reader, const kiln::v1::Query& q) {
  auto json = [](std::string body) { return text_reply(std::move(body), kJsonContent); };
  switch (q.kind()) {
    case Kind::RUNS: return runs_json(reader).transform(json);
    case Kind::RUN: return run_json(reader, q.run_id()).transform(json);
    case Kind::REPORT: return report_json(reader, q.run_id()).transform(json);
    case Kind::CHIPS: return chips_json(reader).transform(json);
    case Kind::CHIP: return chip_json(reader, q.serial()).transform(json);
    case Kind::TELEMETRY: {
      KILN_TRY_ASSIGN(const auto windows, windows_of(q));
      std::ostringstream csv;
      KILN_TRY(telemetry_csv(reader, q.run_id(), q.serial(), q.metric(), csv, windows));
      return text_reply(csv.str(), kCsvContent);
    }
    case Kind::EVENTS: return events_json(reader, q.run_id(), q.since_unix_ms(), q.limit()).transform(json);
    case Kind::DIGEST:
      return digest_json(reader, q.since_unix_ms(), q.until_unix_ms() != 0 ? q.until_unix_ms() : unix_ms_now())
          .transform(json);
    case Kind::RACKS: return make_error(ErrorCode::invalid_argument, "this question needs a running daemon");
    case Kind::ROLLUPS: return make_error(ErrorCode::invalid_argument, "query ROLLUPS has only a typed answer");
    default: return make_error(ErrorCode::invalid_argument, "unknown query");
  }
}

Result<kiln::v1::QueryReply> answer_typed(store::Reader& reader, const kiln::v1::Query& q) {
  switch (q.kind()) {
    case Kind::RUN:
      return run_progress(reader, q.run_id()).transform([](kiln::v1::RunProgress progress) {
        kiln::v1::QueryReply reply;
        *reply.mutable_run_progress() = std::move(progress);
        return reply;
      });
    case Kind::TELEMETRY: {
      KILN_TRY_ASSIGN(const auto windows, windows_of(q));
      return telemetry_series(reader, q.run_id(), q.serial(), q.metric(), windows)
          .transform([](kiln::v1::TelemetrySeries series) {
            kiln::v1::QueryReply reply;
            *reply.mutable_telemetry() = std::move(series);
            return reply;
          });
    }
    case Kind::ROLLUPS:
      return chip_rollups(reader, q.run_id(), q.serial()).transform([](kiln::v1::TelemetryRollups rollups) {
        kiln::v1::QueryReply reply;
        *reply.mutable_rollups() = std::move(rollups);
        return reply;
      });
    default:
      return make_error(ErrorCode::invalid_argument, "query {} has no typed answer",
                        kiln::v1::Query::Kind_Name(q.kind()));
  }
}

}  // namespace

Result<kiln::v1::QueryReply> answer_query(store::Reader& reader, const kiln::v1::Query& query) {
  return query.answer() == kiln::v1::Query::ANSWER_TYPED ? answer_typed(reader, query) : answer_text(reader, query);
}

}  // namespace kiln::reports
