#pragma once
// kilnd's /metrics page in the Prometheus text exposition format (0.0.4),
// the way dcgm-exporter shows GPUs: per chip, its latest telemetry as
// gauges and counters labelled serial, rack, slot and sku (per-link
// readings also by link), its verdict so far; the runs queued and running;
// the racks; and the daemon's own health. Pure: a snapshot in, text out
// (daemon/metrics_http.hpp serves it). Names: docs/design.md §8a.

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "daemon/live_feed.hpp"
#include "metrics/catalog.hpp"

namespace kiln::daemon {

struct DaemonHealth {
  std::size_t sessions = 0;  // open connections, every role
  std::uint64_t ingest_jobs = 0;
  std::uint64_t ingest_transactions = 0;
  std::uint64_t ingest_failed_jobs = 0;
  std::size_t writer_queue = 0;
  std::int64_t last_commit_unix_ms = 0;  // 0: none yet
  std::int64_t database_bytes = -1;      // -1: unknown
  std::int64_t now_unix_ms = 0;
  // Chip lifecycle: (state, sku) → chips (docs/lifecycle.md).
  std::map<std::pair<std::string, std::string>, std::uint64_t> lifecycle_chips;
};

std::string prometheus_text(const LiveFeed::Snapshot& live, const DaemonHealth& health,
                            const metrics::MetricCatalog& catalog);

// A label value escaped as the exposition format says (\\, \", \n).
std::string prometheus_label_value(const std::string& value);

}  // namespace kiln::daemon
