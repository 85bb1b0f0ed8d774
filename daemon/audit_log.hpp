#pragma once
// The audit trail (DESIGN §8): who connected and as whom, what was refused
// and why, who submitted and aborted runs, which agent registered which
// rack — written to the events table with the writer's own transactions, and
// bounded whoever floods the daemon.
//
// Bounded: events are held for a window of kWindow and written together as
// one writer job (it shares the transaction of whatever ingest is queued, so
// ingest gets no extra commit). Within a window, repeats of the same event
// (same kind, actor, peer host, run and detail) become one row with a count;
// at most kMaxRowsPerWindow distinct rows are written per window, and what
// is past that is counted in one "audit_overflow" row. A flood of refused
// connections from one host therefore adds about one row a second, and no
// flood more than kMaxRowsPerWindow + 1. Lives on the io thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "schema/store.hpp"

namespace kiln::daemon {

class IngestWriter;

struct AuditEvent {
  std::string kind;   // connect, refused, turned_away, rack_registered, rack_lost, run_submitted, run_aborted, ...
  std::string actor;  // the credential's name; '' when none was accepted
  std::string peer;   // host:port (or host); the row keeps the host
  std::uint64_t run_id = 0;
  std::string detail_json;  // a JSON object: what else there is to say (reason, rack, epoch, …)
};

// The window's rows, coalesced and capped: what AuditLog writes. Separate
// from the timer and the writer so that its rules can be tested alone.
class AuditWindow {
 public:
  explicit AuditWindow(std::size_t max_rows) : max_rows_(max_rows) {}
  void add(const AuditEvent& event, std::int64_t now_unix_ms);
  bool empty() const { return rows_.empty() && overflow_ == 0; }
  // The rows so far (plus the overflow row, if any); the window starts anew.
  std::vector<store::EventRow> take(std::int64_t now_unix_ms);

 private:
  std::size_t max_rows_;
  std::vector<store::EventRow> rows_;
  std::map<std::string, std::size_t> index_;  // coalescing key → row
  std::uint64_t overflow_ = 0;
};

class AuditLog {
 public:
  static constexpr std::chrono::milliseconds kWindow{1000};
  static constexpr std::size_t kMaxRowsPerWindow = 256;

  AuditLog(boost::asio::any_io_executor executor, IngestWriter& writer);
  void record(AuditEvent event);
  // Queues what the window holds now (the timer does it every kWindow; stop does it last).
  void flush();

 private:
  IngestWriter& writer_;
  AuditWindow window_{kMaxRowsPerWindow};
  boost::asio::steady_timer timer_;
  bool armed_ = false;
};

}  // namespace kiln::daemon
