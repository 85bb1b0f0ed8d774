// kilnd: the central daemon. A thin main over kiln_daemon_lib.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "core/endpoint.hpp"
#include "core/log.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "daemon/daemon.hpp"
#include "net/tls_files.hpp"
#include "net/tls_options.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kilnd — Kiln's central daemon: runs, verdicts and the SQLite store"};
  std::string db_path;
  std::string listen = "127.0.0.1:7450";
  std::string credentials_file;
  std::string port_file;
  std::string log_level = "info";
  app.add_option("--db", db_path, "SQLite database file (created if missing); required unless --init-tls");
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
  app.add_option("--credentials", credentials_file,
                 "who may connect: a YAML file of {name, secret, rack | role} (mode 0600; default: "
                 "$KILN_CREDENTIALS)")
      ->envname("KILN_CREDENTIALS");
  app.add_option("--port-file", port_file, "write the port actually listened on to this file once ready");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")->capture_default_str();
  std::string metrics_listen;
  app.add_option("--metrics", metrics_listen,
                 "serve Prometheus metrics at http://HOST:PORT/metrics (e.g. 127.0.0.1:9450; loopback unless "
                 "--allow-plaintext)");
  kiln::net::TlsServerOptions tls;
  app.add_option("--tls-cert", tls.cert_file, "TLS on every connection: this PEM certificate (chain) ($KILN_TLS_CERT)")
      ->envname("KILN_TLS_CERT");
  app.add_option("--tls-key", tls.key_file, "the private key of --tls-cert, PEM ($KILN_TLS_KEY)")
      ->envname("KILN_TLS_KEY");
  app.add_option("--tls-client-ca", tls.client_ca_file,
                 "mutual TLS: every peer must present a certificate signed by this CA ($KILN_TLS_CLIENT_CA)")
      ->envname("KILN_TLS_CLIENT_CA");
  std::string init_tls_dir;
  app.add_option("--init-tls", init_tls_dir,
                 "write a private CA, a server certificate for localhost/127.0.0.1/::1 and a client certificate "
                 "(all 0600) into DIR, then exit");
  bool insecure_listen = false;
  app.add_flag("--allow-plaintext,--insecure-listen", insecure_listen,
               "allow a --listen address other than loopback without TLS, and --metrics off loopback (a network "
               "you trust; logged loudly)");
  double rack_return_timeout_s = 300;
  app.add_option("--rack-return-timeout", rack_return_timeout_s,
                 "seconds a run waits for a rack's agent that went away to register again before its chips are "
                 "given up (verdict error)")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  std::string keep_raw = "30d";
  app.add_option("--keep-raw", keep_raw,
                 "drop the raw telemetry of runs that ended longer ago than this (e.g. 30d, 12h; 0 keeps it "
                 "forever); roll-ups, verdicts, failures and detections are always kept")
      ->capture_default_str();
  std::string lifecycle_policy_file;
  app.add_option("--lifecycle-policy", lifecycle_policy_file,
                 "the chip lifecycle policy (YAML, docs/lifecycle.md); default: the shipped "
                 "share/kiln/lifecycle-policy.yaml");
  app.set_version_flag("--version", kiln::version_line("kilnd"));
  CLI11_PARSE(app, argc, argv);

  try {
    if (auto logging = kiln::setup_logging("kilnd", log_level); !logging) {
      std::cerr << "kilnd: " << logging.error().message << "\n";
      return 2;
    }
    if (!init_tls_dir.empty()) {
      auto files = kiln::net::write_lab_tls(init_tls_dir);
      if (!files) {
        std::cerr << "kilnd: --init-tls: " << files.error().message << "\n";
        return 1;
      }
      std::cout << "wrote " << files->ca_cert << ", " << files->server_cert << ", " << files->client_cert
                << " and their keys\n";
      return 0;
    }
    if (db_path.empty()) {
      std::cerr << "kilnd: --db is required\n";
      return 2;
    }
    if (credentials_file.empty()) {
      std::cerr << "kilnd: a credentials file is required (--credentials F or KILN_CREDENTIALS)\n";
      return 2;
    }
    auto credentials = kiln::daemon::CredentialBook::load_file(credentials_file);
    if (!credentials) {
      std::cerr << "kilnd: " << credentials.error().message << "\n";
      return 2;
    }
    std::chrono::milliseconds keep_raw_ms{0};
    if (keep_raw != "0") {
      auto parsed = kiln::parse_duration(keep_raw);
      if (!parsed || parsed->count() < 1) {
        std::cerr << "kilnd: --keep-raw " << keep_raw << ": " << (parsed ? "at least 1s" : parsed.error().message)
                  << " (or 0 to keep raw telemetry forever)\n";
        return 2;
      }
      keep_raw_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
    }
    auto endpoint = kiln::parse_endpoint(listen, /*allow_any_port=*/true);
    if (!endpoint) {
      std::cerr << "kilnd: --listen " << endpoint.error().message << "\n";
      return 2;
    }

    // Signals are taken synchronously by this thread once the daemon runs.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    kiln::daemon::DaemonConfig config;
    config.db_path = db_path;
    config.listen_host = endpoint->host;
    config.listen_port = endpoint->port;
    config.credentials = std::move(credentials).value();
    config.allow_insecure_listen = insecure_listen;
    config.rack_return_timeout = std::chrono::milliseconds(static_cast<long long>(rack_return_timeout_s * 1000));
    config.tls = tls;
    config.retention.keep_raw = keep_raw_ms;
    {
      std::string policy_path = lifecycle_policy_file;
      if (policy_path.empty()) {
        for (const char* candidate : {KILN_INSTALLED_LIFECYCLE_POLICY, KILN_SOURCE_LIFECYCLE_POLICY}) {
          if (std::ifstream(candidate).good()) {
            policy_path = candidate;
            break;
          }
        }
      }
      if (policy_path.empty()) {
        spdlog::warn("no lifecycle policy file found: using the built-in defaults (docs/lifecycle.md)");
      } else {
        auto policy = kiln::lifecycle::load_policy(policy_path);
        if (!policy) {
          std::cerr << "kilnd: --lifecycle-policy " << policy.error().message << "\n";
          return 2;
        }
        config.lifecycle_policy = std::move(policy).value();
        spdlog::info("lifecycle policy {}", policy_path);
      }
    }
    if (!metrics_listen.empty()) {
      auto metrics = kiln::parse_endpoint(metrics_listen, /*allow_any_port=*/true);
      if (!metrics) {
        std::cerr << "kilnd: --metrics " << metrics.error().message << "\n";
        return 2;
      }
      config.metrics_host = metrics->host;
      config.metrics_port = metrics->port;
    }
    auto daemon = kiln::daemon::Daemon::create(std::move(config));
    if (!daemon) {
      std::cerr << "kilnd: " << daemon.error().message << "\n";
      return 1;
    }
    (*daemon)->start();
    if ((*daemon)->metrics_port() != 0) {
      spdlog::info("serving http://{}/metrics (port {})", metrics_listen, (*daemon)->metrics_port());
    }
    if (!port_file.empty()) {
      // Written whole under a temporary name, then renamed: a reader never sees half a number.
      const std::string tmp = port_file + ".tmp";
      std::ofstream(tmp) << (*daemon)->port() << "\n";
      if (std::rename(tmp.c_str(), port_file.c_str()) != 0) {
        std::cerr << "kilnd: cannot write port file " << port_file << "\n";
        return 1;
      }
    }
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    spdlog::info("signal {}: stopping", signal_number);
    (*daemon)->stop();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "kilnd: fatal: " << e.what() << "\n";
    return 1;
  }
}
