#include "gui/app/options.hpp"

namespace kiln::gui {

Result<DashView> parse_view(const QString& text) {
  DashView view;
  if (text == QLatin1String("lab")) return view;
  if (text == QLatin1String("runs") || text == QLatin1String("schedules")) {
    view.kind = text == QLatin1String("runs") ? DashView::Kind::runs : DashView::Kind::schedules;
    return view;
  }
  if (text.startsWith(QLatin1String("chip:")) && text.size() > 5) {
    view.kind = DashView::Kind::chip;
    view.serial = text.mid(5);
    return view;
  }
  if (text.startsWith(QLatin1String("run:"))) {
    bool ok = false;
    view.run_id = text.mid(4).toULongLong(&ok);
    if (ok && view.run_id > 0) {
      view.kind = DashView::Kind::run;
      return view;
    }
  }
  return make_error(ErrorCode::invalid_argument, "--view must be lab, chip:SERIAL, run:ID, runs or schedules, not '{}'",
                    text.toStdString());
}

QString usage() {
  return QStringLiteral(
      "usage: kiln-dash [--daemon HOST:PORT] [--token-file F] [--tls-ca F [--tls-cert F --tls-key F]]\n"
      "                 | --version | --help\n"
      "                 [--screenshot FILE --view lab|chip:SERIAL|run:ID|runs|schedules [--colour 0-5] [--size WxH] "
      "[--timeout S]]\n"
      "env: KILN_DAEMON, KILN_TOKEN_FILE, KILN_TLS_CA, KILN_TLS_CERT, KILN_TLS_KEY\n");
}

Result<DashOptions> parse_options(const QStringList& args, const QString& env_daemon, const QString& env_token_file,
                                  const net::TlsClientOptions& env_tls) {
  DashOptions o;
  o.tls = env_tls;
  o.daemon = env_daemon;
  o.token_file = env_token_file;
  bool view_given = false;
  for (int i = 0; i < args.size(); ++i) {
    const QString& a = args[i];
    auto value = [&](const char* name) -> Result<QString> {
      if (i + 1 >= args.size()) return make_error(ErrorCode::invalid_argument, "{} needs a value", name);
      return args[++i];
    };
    auto number = [&](const char* name, int lo, int hi) -> Result<int> {
      KILN_TRY_ASSIGN(const QString v, value(name));
      bool ok = false;
      const int n = v.toInt(&ok);
      if (!ok || n < lo || n > hi) return make_error(ErrorCode::invalid_argument, "{} must be {}..{}", name, lo, hi);
      return n;
    };
    if (a == QLatin1String("--daemon")) {
      KILN_TRY_ASSIGN(o.daemon, value("--daemon"));
    } else if (a == QLatin1String("--token-file")) {
      KILN_TRY_ASSIGN(o.token_file, value("--token-file"));
    } else if (a == QLatin1String("--tls-ca")) {
      KILN_TRY_ASSIGN(const QString v, value("--tls-ca"));
      o.tls.ca_file = v.toStdString();
    } else if (a == QLatin1String("--tls-cert")) {
      KILN_TRY_ASSIGN(const QString v, value("--tls-cert"));
      o.tls.cert_file = v.toStdString();
    } else if (a == QLatin1String("--tls-key")) {
      KILN_TRY_ASSIGN(const QString v, value("--tls-key"));
      o.tls.key_file = v.toStdString();
    } else if (a == QLatin1String("--screenshot")) {
      KILN_TRY_ASSIGN(o.screenshot, value("--screenshot"));
    } else if (a == QLatin1String("--view")) {
      KILN_TRY_ASSIGN(const QString v, value("--view"));
      KILN_TRY_ASSIGN(o.view, parse_view(v));
      view_given = true;
    } else if (a == QLatin1String("--colour")) {
      KILN_TRY_ASSIGN(o.colour, number("--colour", 0, 5));
    } else if (a == QLatin1String("--timeout")) {
      KILN_TRY_ASSIGN(o.timeout_s, number("--timeout", 1, 3600));
    } else if (a == QLatin1String("--size")) {
      KILN_TRY_ASSIGN(const QString v, value("--size"));
      const auto parts = v.split(QLatin1Char('x'));
      bool ok_w = false, ok_h = false;
      if (parts.size() == 2) {
        o.width = parts[0].toInt(&ok_w);
        o.height = parts[1].toInt(&ok_h);
      }
      if (!ok_w || !ok_h || o.width < 320 || o.height < 240) {
        return make_error(ErrorCode::invalid_argument, "--size must be WIDTHxHEIGHT, at least 320x240");
      }
    } else {
      return make_error(ErrorCode::invalid_argument, "unknown argument '{}'", a.toStdString());
    }
  }
  if (view_given && o.screenshot.isEmpty()) {
    return make_error(ErrorCode::invalid_argument, "--view is for --screenshot");
  }
  return o;
}

}  // namespace kiln::gui
