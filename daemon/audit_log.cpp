#include "daemon/audit_log.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "daemon/ingest_writer.hpp"

namespace kiln::daemon {

namespace {

// "127.0.0.1:5034" → "127.0.0.1", "[::1]:5034" → "::1": a flood comes from new ports.
std::string host_of(const std::string& peer) {
  if (!peer.empty() && peer.front() == '[') {
    const auto close = peer.find(']');
    return close == std::string::npos ? peer : peer.substr(1, close - 1);
  }
  const auto colon = peer.rfind(':');
  if (colon == std::string::npos || peer.find(':') != colon) return peer;  // no port, or a bare IPv6 address
  return peer.substr(0, colon);
}

}  // namespace

void AuditWindow::add(const AuditEvent& event, std::int64_t now_unix_ms) {
  const std::string host = host_of(event.peer);
  const std::string detail = event.detail_json.empty() ? "{}" : event.detail_json;
  std::string key = event.kind;
  for (const std::string* part : {&event.actor, &host, &detail}) key.append(1, '\x1f').append(*part);
  key.append(1, '\x1f').append(std::to_string(event.run_id));
  if (auto it = index_.find(key); it != index_.end()) {
    ++rows_[it->second].count;
    return;
  }
  if (rows_.size() >= max_rows_) {
    ++overflow_;
    return;
  }
  store::EventRow row;
  row.run_id = event.run_id;
  row.kind = event.kind;
  row.actor = event.actor;
  row.peer = host;
  row.detail_json = detail;
  row.unix_ms = now_unix_ms;
  row.count = 1;
  index_.emplace(std::move(key), rows_.size());
  rows_.push_back(std::move(row));
}

std::vector<store::EventRow> AuditWindow::take(std::int64_t now_unix_ms) {
  std::vector<store::EventRow> rows = std::move(rows_);
  if (overflow_ > 0) {
    store::EventRow row;
    row.kind = "audit_overflow";
    row.detail_json =
        nlohmann::json{{"reason", "more distinct events in one window than are recorded one by one"}}.dump();
    row.unix_ms = now_unix_ms;
    row.count = overflow_;
    rows.push_back(std::move(row));
  }
  rows_.clear();
  index_.clear();
  overflow_ = 0;
  return rows;
}

AuditLog::AuditLog(boost::asio::any_io_executor executor, IngestWriter& writer) : writer_(writer), timer_(executor) {}

void AuditLog::record(AuditEvent event) {
  window_.add(event, unix_ms_now());
  if (armed_) return;
  armed_ = true;
  timer_.expires_after(kWindow);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    armed_ = false;
    flush();
  });
}

void AuditLog::flush() {
  if (window_.empty()) return;
  auto rows = std::make_shared<std::vector<store::EventRow>>(window_.take(unix_ms_now()));
  writer_.submit(
      [rows](store::Writer& w) -> Status {
        // One event that cannot be stored (its run is gone) must not undo the
        // others, nor the ingest sharing this transaction: logged, skipped.
        for (const auto& row : *rows) {
          if (auto added = w.add_event(row); !added) {
            spdlog::warn("audit: event {} not recorded: {}", row.kind, added.error().message);
          }
        }
        return {};
      },
      [](const Status&) {});
}

}  // namespace kiln::daemon
