#pragma once
// Where reading commands (report, telemetry, run list|show, chips) get their
// answers: a running daemon, or a database file read directly. Both give the
// same bytes, because both answer with reports::answer_query.

#include <memory>
#include <string>

#include "cli/options.hpp"
#include "core/result.hpp"
#include "reports/report_sources.hpp"
#include "schema/kiln.pb.h"

namespace kiln::cli {

class DaemonClient;

class ReadSource {
 public:
  virtual ~ReadSource() = default;
  // The reply (a text body, or the typed answer the query asked for).
  virtual Result<kiln::v1::QueryReply> query(const kiln::v1::Query& query) = 0;
  // The run's plan, typed (what GetPlan answers).
  virtual Result<kiln::v1::RunPlan> plan(std::uint64_t run_id) = 0;
  virtual std::string describe() const = 0;
};

// What a report format drawing telemetry asks `source` for.
reports::ReportSources report_sources(ReadSource& source);

// --db FILE → that file. Otherwise the daemon (--daemon, $KILN_DAEMON or the
// default address); when no daemon answers at the default address and
// ./kiln.db exists (what `kiln lab` leaves behind), that file, with a note on
// stderr.
Result<std::unique_ptr<ReadSource>> open_read_source(const GlobalOptions& options);

// For commands that need the daemon itself (run submit, run abort).
Result<std::unique_ptr<DaemonClient>> connect_daemon(const GlobalOptions& options);

}  // namespace kiln::cli
