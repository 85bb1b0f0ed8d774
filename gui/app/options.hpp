#pragma once
// kiln-dash's command line (DESIGN §9):
//   kiln-dash [--daemon HOST:PORT] [--token-file F] [--tls-ca F [--tls-cert F --tls-key F]]
//             [--screenshot FILE --view lab|chip:SERIAL|run:ID|runs|schedules]
// with KILN_DAEMON, KILN_TOKEN_FILE and KILN_TLS_* as fallbacks, as for the CLI.

#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>

#include "core/result.hpp"
#include "net/tls_options.hpp"

namespace kiln::gui {

struct DashView {
  enum class Kind { lab, chip, run, runs, schedules };
  Kind kind = Kind::lab;
  QString serial;
  std::uint64_t run_id = 0;
};

struct DashOptions {
  QString daemon;      // HOST:PORT, empty: the last one used (QSettings)
  QString token_file;  // empty: the last one used
  net::TlsClientOptions tls;
  QString screenshot;  // PNG to write, then exit
  DashView view;
  int colour = 0;  // the lab view's colouring in a screenshot
  int width = 1280, height = 800;
  int timeout_s = 60;  // how long a screenshot waits for live data
};

// `args` without the program name. Errors name the offending argument.
// `env_tls`: what KILN_TLS_CA, KILN_TLS_CERT and KILN_TLS_KEY say.
Result<DashOptions> parse_options(const QStringList& args, const QString& env_daemon, const QString& env_token_file,
                                  const net::TlsClientOptions& env_tls = {});
Result<DashView> parse_view(const QString& text);
QString usage();

}  // namespace kiln::gui
