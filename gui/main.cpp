// kiln-dash: the Qt dashboard over kilnd (DESIGN §9). A thin main over kiln_gui_lib.

#include <QApplication>
#include <QSettings>
#include <QTimer>

#include <cstdio>
#include <cstring>

#include "core/endpoint.hpp"
#include "core/version.hpp"
#include "gui/app/options.hpp"
#include "gui/app/screenshot.hpp"
#include "gui/dashboard.hpp"
#include "gui/widgets/lab_page.hpp"
#include "gui/widgets/main_window.hpp"
#include "net/link.hpp"
#include "net/tls_flags.hpp"

int main(int argc, char** argv) {
  // Before QApplication, which would want a display to print one line.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::puts(kiln::version_line("kiln-dash").c_str());
      return 0;
    }
  }
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("kiln"));
  QApplication::setApplicationName(QStringLiteral("kiln-dash"));
  using namespace kiln::gui;

  QStringList args = QApplication::arguments();
  args.removeFirst();
  if (args.contains(QStringLiteral("--help")) || args.contains(QStringLiteral("-h"))) {
    std::fputs(usage().toUtf8().constData(), stdout);
    return 0;
  }
  const kiln::net::TlsClientOptions env_tls{qEnvironmentVariable(kiln::net::kTlsCaEnv).toStdString(),
                                            qEnvironmentVariable(kiln::net::kTlsCertEnv).toStdString(),
                                            qEnvironmentVariable(kiln::net::kTlsKeyEnv).toStdString()};
  auto options =
      parse_options(args, qEnvironmentVariable("KILN_DAEMON"), qEnvironmentVariable("KILN_TOKEN_FILE"), env_tls);
  if (!options) {
    std::fprintf(stderr, "kiln-dash: %s\n%s", options.error().message.c_str(), usage().toUtf8().constData());
    return 2;
  }
  if (auto usable = kiln::net::check_tls(options->tls); !usable) {
    std::fprintf(stderr, "kiln-dash: %s\n", usable.error().message.c_str());
    return 2;
  }
  const bool headless = !options->screenshot.isEmpty();

  QSettings settings;
  QString daemon = options->daemon;
  if (daemon.isEmpty() && !headless) {
    daemon = settings.value("daemon/host", "127.0.0.1").toString() + ":" +
             QString::number(settings.value("daemon/port", 7450).toInt());
  }
  QString token_file = options->token_file;
  if (token_file.isEmpty() && !headless) token_file = settings.value("daemon/token_file").toString();

  Dashboard dashboard;
  MainWindow window(dashboard);
  if (!headless) window.restore_settings();

  std::optional<kiln::gui::LinkConfig> config;
  if (!daemon.isEmpty()) {
    auto endpoint = kiln::parse_endpoint(daemon.toStdString());
    if (!endpoint) {
      std::fprintf(stderr, "kiln-dash: %s\n", endpoint.error().message.c_str());
      return 2;
    }
    auto token = kiln::read_token_file(token_file.toStdString());
    if (token) {
      config = LinkConfig{*endpoint, *token};
      config->tls = options->tls;
      if (!headless) {
        settings.setValue("daemon/host", QString::fromStdString(endpoint->host));
        settings.setValue("daemon/port", endpoint->port);
        settings.setValue("daemon/token_file", token_file);
      }
    } else if (headless) {
      std::fprintf(stderr, "kiln-dash: %s\n", token.error().message.c_str());
      return 2;
    }
  } else if (headless) {
    std::fprintf(stderr, "kiln-dash: --screenshot needs --daemon (or KILN_DAEMON)\n");
    return 2;
  }
  if (config) dashboard.connect_to(*config);

  if (headless) {
    window.resize(options->width, options->height);
    window.lab_page().set_mode_index(options->colour);
    window.show();
    auto* taker = new ScreenshotTaker(dashboard, window, options->view, options->screenshot, options->timeout_s, &app);
    int code = 0;
    QObject::connect(taker, &ScreenshotTaker::finished, &app, [&code](bool ok, const QString& message) {
      std::fprintf(ok ? stdout : stderr, "kiln-dash: %s%s\n", ok ? "wrote " : "", message.toUtf8().constData());
      code = ok ? 0 : 1;
      QApplication::quit();
    });
    taker->start();
    QApplication::exec();
    return code;
  }
  window.show();
  if (!config) QTimer::singleShot(0, &window, &MainWindow::open_connection_dialog);
  return QApplication::exec();
}
