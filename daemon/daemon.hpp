#pragma once
// kilnd as a library: opens the store (failing early on an unwritable path),
// binds the listener (failing early on a taken port), then serves on one io
// thread, with one writer thread and a small query pool. Used by kilnd's
// main and, in-process, by integration tests.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/result.hpp"
#include "daemon/credentials.hpp"
#include "daemon/queue_options.hpp"
#include "daemon/raw_retention.hpp"
#include "daemon/scheduler.hpp"
#include "daemon/session.hpp"
#include "lifecycle/policy.hpp"
#include "net/tls_context.hpp"

namespace kiln::plan {
class PatternRegistry;
}
namespace kiln::metrics {
class MetricCatalog;
}

namespace kiln::daemon {

class Hub;
class IngestWriter;
class MetricsHttp;

// How many peers kilnd serves at once. A connection past either cap is
// closed as soon as it is accepted (logged at most once a second).
struct SessionLimits {
  std::size_t max_sessions = 512;        // every connection, authenticated or not
  std::size_t max_unauthenticated = 64;  // connections that have not yet sent an accepted Hello
};

struct DaemonConfig {
  std::string db_path;
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 7450;  // 0: any free port (see port())
  // Who may connect, and as what (DESIGN §8): kilnd --credentials FILE.
  CredentialBook credentials;
  SessionTimeouts timeouts;
  SessionLimits limits;
  // TLS on every connection when tls.cert_file is set; mutual TLS (a client
  // certificate from every peer) when tls.client_ca_file is too.
  net::TlsServerOptions tls;
  // Without TLS a listen address other than loopback is refused unless this
  // is set (kilnd --allow-plaintext), since anyone on the path would read
  // the secrets and every result. It also lets /metrics (plain HTTP) listen
  // off loopback.
  bool allow_insecure_listen = false;
  // kilnd --metrics HOST:PORT: serve Prometheus' /metrics there (port 0:
  // any free port, see metrics_port()); empty host: not served.
  std::string metrics_host;
  std::uint16_t metrics_port = 0;
  // How long a run waits for a rack's agent that went away (killed,
  // restarted, or not back yet after a daemon restart) to register again
  // before its chips are given up (kilnd --rack-return-timeout SECONDS).
  std::chrono::milliseconds rack_return_timeout{std::chrono::minutes(5)};
  // The fair queue and its rack leases (docs/scheduling.md): lease length,
  // renewal interval, longest reservation and maintenance, the clock.
  RunQueueOptions queue;
  // What plans may name and how metrics are judged; null: the built-in
  // patterns and catalog (tests add toy ones).
  std::shared_ptr<const plan::PatternRegistry> patterns;
  std::shared_ptr<const metrics::MetricCatalog> metrics;
  // kilnd --keep-raw: raw telemetry of runs that ended longer ago is dropped
  // in the background (roll-ups, verdicts and failures kept; keep_raw 0: never).
  RetentionConfig retention;
  // Agent batches read and not yet committed, at most (daemon/ingest_budget.hpp):
  // past it agents are not read until the writer catches up.
  std::size_t ingest_queue_bytes = std::size_t{64} << 20;
  // How chips move between lifecycle states after each run (kilnd
  // --lifecycle-policy FILE; docs/lifecycle.md).
  lifecycle::LifecyclePolicy lifecycle_policy = lifecycle::LifecyclePolicy::defaults();
  // When schedules fire and how long a fire time waits for its racks'
  // agents; tests inject the clock (docs/scheduling.md).
  SchedulerOptions schedules;
};

class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> create(DaemonConfig config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  std::uint16_t port() const { return port_; }
  // Where /metrics is served (0: not served).
  std::uint16_t metrics_port() const;
  void start();
  // Times an agent session stopped being read because ingest_queue_bytes
  // of batches were waiting (any thread).
  std::uint64_t ingest_pauses() const;
  // Orderly: stop accepting, close sessions, drain the writer.
  void stop();

 private:
  explicit Daemon(DaemonConfig config);
  boost::asio::awaitable<void> accept_loop();
  // Forgets closed sessions; whether one more may be served.
  bool room_for_another();

  DaemonConfig config_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<const plan::PatternRegistry> registry_;
  std::unique_ptr<IngestWriter> writer_;
  std::unique_ptr<MetricsHttp> metrics_;
  // The /metrics page, on the io thread.
  std::string metrics_page();
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<RawRetention> retention_;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions_;
  std::uint64_t next_session_id_ = 1;
  std::uint16_t port_ = 0;
  net::TlsContext tls_;  // null: plain TCP
  std::thread io_thread_;
  bool stopped_ = false;
};

}  // namespace kiln::daemon
