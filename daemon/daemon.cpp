#include "daemon/daemon.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <future>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/log_throttle.hpp"
#include "daemon/hub.hpp"
#include "daemon/ingest_writer.hpp"
#include "daemon/metrics_http.hpp"
#include "daemon/prometheus_text.hpp"
#include "metrics/catalog.hpp"
#include "net/backoff.hpp"
#include "schema/store.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::daemon {

namespace asio = boost::asio;

Daemon::Daemon(DaemonConfig config) : config_(std::move(config)), acceptor_(io_) {}

Result<std::unique_ptr<Daemon>> Daemon::create(DaemonConfig config) {
  if (config.credentials.empty()) {
    return make_error(ErrorCode::invalid_argument, "no credentials: nobody could connect (kilnd --credentials FILE)");
  }
  auto writer = store::Writer::open(config.db_path);
  if (!writer)
    return make_error(writer.error().code, "cannot open database {}: {}", config.db_path, writer.error().message);
  auto epochs = (*writer)->rack_epochs();
  if (!epochs) return make_error(epochs.error().code, "cannot read {}: {}", config.db_path, epochs.error().message);

  auto tls = net::make_server_tls(config.tls);
  if (!tls) return tls.error();
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(config)));
  daemon->tls_ = std::move(tls).value();
  boost::system::error_code ec;
  const std::string& host = daemon->config_.listen_host;
  auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return make_error(ErrorCode::invalid_argument, "bad listen address '{}': {}", host, ec.message());
  if (!address.is_loopback() && !daemon->tls_ && !daemon->config_.allow_insecure_listen) {
    return make_error(ErrorCode::invalid_argument,
                      "listening on {} without TLS would expose the token and every result unencrypted: give "
                      "--tls-cert and --tls-key, listen on 127.0.0.1 or ::1, or pass --allow-plaintext on a "
                      "network you trust",
                      host);
  }
  if (!address.is_loopback() && !daemon->tls_) {
    spdlog::warn(
        "PLAINTEXT: listening on {} without TLS (--allow-plaintext): the token and every result cross "
        "the network unencrypted",
        host);
  }
  asio::ip::tcp::endpoint endpoint(address, daemon->config_.listen_port);
  daemon->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) daemon->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) daemon->acceptor_.bind(endpoint, ec);
  if (!ec) daemon->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::unavailable, "cannot listen on {}:{}: {}", daemon->config_.listen_host,
                      daemon->config_.listen_port, ec.message());
  }
  daemon->port_ = daemon->acceptor_.local_endpoint().port();

  daemon->registry_ = daemon->config_.patterns;
  if (!daemon->registry_) {
    auto builtin = std::make_shared<plan::PatternRegistry>();
    plan::register_builtin_patterns(*builtin);
    daemon->registry_ = std::move(builtin);
  }
  const metrics::MetricCatalog& catalog =
      daemon->config_.metrics ? *daemon->config_.metrics : metrics::MetricCatalog::builtin();
  daemon->writer_ = std::make_unique<IngestWriter>(std::move(writer).value(), daemon->io_.get_executor());
  daemon->retention_ =
      std::make_unique<RawRetention>(daemon->io_.get_executor(), *daemon->writer_, daemon->config_.retention);
  daemon->hub_ = std::make_unique<Hub>(daemon->io_.get_executor(), daemon->config_.credentials, daemon->config_.db_path,
                                       *daemon->writer_, *daemon->registry_, catalog, daemon->config_.queue,
                                       daemon->config_.ingest_queue_bytes, daemon->config_.lifecycle_policy,
                                       daemon->config_.schedules);
  daemon->hub_->lifecycle().catch_up();
  daemon->hub_->lifecycle().refresh_counts();
  daemon->hub_->remember_epochs(*epochs);
  // Runs an earlier daemon left queued or running go on (docs/design.md, "Restarts").
  daemon->hub_->runs().set_rack_return_timeout(daemon->config_.rack_return_timeout);
  {
    auto reader = store::Reader::open(daemon->config_.db_path);
    if (!reader)
      return make_error(reader.error().code, "cannot read {}: {}", daemon->config_.db_path, reader.error().message);
    daemon->hub_->runs().resume(**reader);
    // After the runs: a catch-up run queues behind what was already waiting.
    if (auto loaded = daemon->hub_->scheduler().load(**reader); !loaded) {
      return make_error(loaded.error().code, "cannot load the schedules of {}: {}", daemon->config_.db_path,
                        loaded.error().message);
    }
  }
  if (!daemon->config_.metrics_host.empty()) {
    Daemon* self = daemon.get();
    auto metrics = MetricsHttp::listen(daemon->io_, daemon->config_.metrics_host, daemon->config_.metrics_port,
                                       daemon->config_.allow_insecure_listen, [self] { return self->metrics_page(); });
    if (!metrics) return metrics.error();
    daemon->metrics_ = std::move(metrics).value();
  }
  return daemon;
}

Daemon::~Daemon() { stop(); }

std::uint16_t Daemon::metrics_port() const { return metrics_ ? metrics_->port() : 0; }

std::string Daemon::metrics_page() {
  DaemonHealth health;
  health.sessions = 0;
  for (const auto& [id, weak] : sessions_) health.sessions += weak.expired() ? 0 : 1;
  const IngestWriter::Stats stats = writer_->stats();
  health.ingest_jobs = stats.jobs;
  health.ingest_transactions = stats.transactions;
  health.ingest_failed_jobs = stats.failed_jobs;
  health.writer_queue = stats.queued;
  health.last_commit_unix_ms = stats.last_commit_unix_ms;
  std::error_code ec;
  const auto db = std::filesystem::file_size(config_.db_path, ec);
  if (!ec) {
    const auto wal = std::filesystem::file_size(config_.db_path + "-wal", ec);
    health.database_bytes = static_cast<std::int64_t>(db + (ec ? 0 : wal));
  }
  health.now_unix_ms = unix_ms_now();
  health.lifecycle_chips = hub_->lifecycle().counts();
  const metrics::MetricCatalog& catalog = config_.metrics ? *config_.metrics : metrics::MetricCatalog::builtin();
  return prometheus_text(hub_->live().snapshot(), health, catalog);
}

std::uint64_t Daemon::ingest_pauses() const { return hub_->ingest_budget().pauses(); }

void Daemon::start() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
  if (metrics_) metrics_->start();
  asio::post(io_, [this] { retention_->start(); });
  hub_->scheduler().start();
  io_thread_ = std::thread([this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        // A handler threw: log it and keep serving the others.
        spdlog::error("io thread: {}", e.what());
      }
    }
  });
  spdlog::info("kilnd listening on {}:{} ({}; database {})", config_.listen_host, port_,
               !tls_                  ? "plaintext"
               : config_.tls.mutual() ? "TLS, client certificates required"
                                      : "TLS",
               config_.db_path);
}

bool Daemon::room_for_another() {
  std::size_t unauthenticated = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto session = it->second.lock();
    if (!session || !session->is_open()) {
      it = sessions_.erase(it);
      continue;
    }
    if (!session->authenticated()) ++unauthenticated;
    ++it;
  }
  return sessions_.size() < config_.limits.max_sessions && unauthenticated < config_.limits.max_unauthenticated;
}

asio::awaitable<void> Daemon::accept_loop() {
  // Accept fails at once and again while the process is out of descriptors:
  // back off (10 ms doubling to 1 s) and log once a second, not per failure.
  net::Backoff backoff(net::BackoffPolicy{std::chrono::milliseconds(10), std::chrono::milliseconds(1000)});
  LogThrottle accept_failures(std::chrono::seconds(1));
  LogThrottle turned_away(std::chrono::seconds(1));
  asio::steady_timer pause(io_);
  for (;;) {
    boost::system::error_code ec;
    auto socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      const auto delay = backoff.next();
      if (auto held = accept_failures.admit(LogThrottle::Clock::now())) {
        spdlog::warn("accept failed: {} (and {} more times since the last report); next try in {} ms", ec.message(),
                     *held, delay.count());
      }
      pause.expires_after(delay);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    backoff.reset();
    if (!room_for_another()) {
      if (auto held = turned_away.admit(LogThrottle::Clock::now())) {
        spdlog::warn(
            "turned away a connection from {}: {} connections, at most {} of {} unauthenticated "
            "(and {} more turned away since the last report)",
            socket.remote_endpoint(ec).address().to_string(), sessions_.size(), config_.limits.max_unauthenticated,
            config_.limits.max_sessions, *held);
      }
      hub_->audit(AuditEvent{"turned_away", "", socket.remote_endpoint(ec).address().to_string(), 0,
                             nlohmann::json{{"reason", "over the connection caps"},
                                            {"max_sessions", config_.limits.max_sessions},
                                            {"max_unauthenticated", config_.limits.max_unauthenticated}}
                                 .dump()});
      socket.close(ec);
      continue;
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    auto session = std::make_shared<Session>(std::move(socket), *hub_, next_session_id_++, config_.timeouts, tls_);
    sessions_[session->id()] = session;
    session->start();
  }
}

void Daemon::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (io_thread_.joinable()) {
    std::promise<void> closed;
    asio::post(io_, [this, &closed] {
      hub_->runs().on_stopping();  // the active run stays resumable: its racks are not lost
      hub_->scheduler().stop();    // fire times from now on are the next daemon's (catch-up)
      retention_->stop();
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      if (metrics_) metrics_->close();
      for (auto& [id, weak] : sessions_) {
        if (auto s = weak.lock()) s->close("daemon stopping");
      }
      sessions_.clear();
      hub_->flush_audit();  // what the trail holds goes out with the writer's last jobs
      closed.set_value();
    });
    closed.get_future().wait();
  }
  if (hub_) hub_->stop();
  if (writer_) writer_->stop();  // drains: everything acknowledged is committed
  io_.stop();
  if (io_thread_.joinable()) io_thread_.join();
  spdlog::info("kilnd stopped");
}

}  // namespace kiln::daemon
