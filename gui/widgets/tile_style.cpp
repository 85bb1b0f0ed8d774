#include "gui/widgets/tile_style.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::gui {

namespace {

// Temperatures from ambient to the trn2-class critical point; power to a
// typical accelerator TDP. Fixed scales: the same colour means the same
// figure on every screen and every day.
constexpr double kTempLow = 25, kTempHigh = 105;
constexpr double kPowerHigh = 600;
const QColor kNoData(0xc8, 0xcc, 0xd0);
const QColor kStale(0xb0, 0xb4, 0xb8);

// Blue (cold/low) through green and yellow to red (hot/high).
QColor heat(double fraction) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  return QColor::fromHsvF(static_cast<float>((1.0 - fraction) * 240.0 / 360.0), 0.75f, 0.9f);
}

QColor readable_text(const QColor& fill) { return fill.lightnessF() > 0.55 ? QColor(0x20, 0x20, 0x20) : Qt::white; }

}  // namespace

QString mode_name(ColourMode mode) {
  switch (mode) {
    case ColourMode::verdict: return QStringLiteral("Verdict / state");
    case ColourMode::temperature: return QStringLiteral("Temperature");
    case ColourMode::power: return QStringLiteral("Power");
    case ColourMode::tflops_pct: return QStringLiteral("TFLOPS % of peak");
    case ColourMode::errors: return QStringLiteral("Errors");
    case ColourMode::lifecycle: return QStringLiteral("Lifecycle state");
  }
  return {};
}

QColor lifecycle_colour(std::optional<Lifecycle> state) {
  if (!state) return kNoData;
  switch (*state) {
    case Lifecycle::unknown: return QColor(0x9a, 0xa8, 0xb8);  // never judged: a blue-grey, not "no data"
    case Lifecycle::healthy: return QColor(0x2e, 0x9e, 0x4f);
    case Lifecycle::suspect: return QColor(0xe0, 0xa8, 0x00);
    case Lifecycle::quarantined: return QColor(0xd6, 0x27, 0x28);
    case Lifecycle::rma: return QColor(0x8b, 0x1a, 0x4a);  // out for return: darker than quarantine
    case Lifecycle::retired: return QColor(0x4a, 0x4f, 0x55);
    case Lifecycle::maintenance: return QColor(0x2f, 0x7e, 0xd8);
  }
  return kNoData;
}

QString lifecycle_name(std::optional<Lifecycle> state) {
  return state ? QString::fromLatin1(lifecycle::to_string(*state).data(),
                                     static_cast<int>(lifecycle::to_string(*state).size()))
               : QStringLiteral("state n/a");
}

QColor verdict_colour(const std::string& v) {
  if (v == "pass") return QColor(0x2e, 0x9e, 0x4f);
  if (v == "marginal") return QColor(0xe0, 0xa8, 0x00);
  if (v == "fail") return QColor(0xd6, 0x27, 0x28);
  if (v == "over_limit") return QColor(0xf0, 0x6a, 0x1c);  // over a limit so far: judged when the step ends
  if (v == "error") return QColor(0x8e, 0x44, 0xad);
  if (v == "inconclusive") return QColor(0x7f, 0x8c, 0x9d);
  if (v == "running") return QColor(0x2f, 0x7e, 0xd8);
  return kNoData;
}

QString short_age(std::int64_t ms) {
  const std::int64_t s = ms / 1000;
  if (s < 60) return QStringLiteral("%1s").arg(s);
  if (s < 3600) return QStringLiteral("%1m").arg(s / 60);
  if (s < 86400) return QStringLiteral("%1h").arg(s / 3600);
  return QStringLiteral("%1d").arg(s / 86400);
}

TileLook tile_look(const LabState& lab, const ChipState& chip, ColourMode mode, std::int64_t local_now_ms,
                   bool with_text) {
  TileLook look;
  // Coloured by verdict, a small tile needs no figure: thousands of them are painted per refresh.
  const bool figures =
      (mode != ColourMode::verdict && mode != ColourMode::lifecycle) || (with_text && chip.verdict == "running");
  const ChipFigures f = figures ? figures_of(lab, chip) : ChipFigures{};
  const std::int64_t age = lab.age_ms(chip, local_now_ms);
  const bool connected = lab.rack_connected(chip);
  // A final verdict stays true however old it is; live figures do not.
  // So does a lifecycle state: it is the store's, not a live figure.
  const bool final_verdict = (mode == ColourMode::verdict && !chip.verdict.empty() && chip.verdict != "running") ||
                             mode == ColourMode::lifecycle;
  switch (mode) {
    case ColourMode::verdict:
      look.fill = verdict_colour(chip.verdict);
      if (!with_text) break;
      look.value = chip.verdict.empty() ? QStringLiteral("idle") : QString::fromStdString(chip.verdict);
      if (chip.verdict == "running" && !std::isnan(f.temperature_c))
        look.value += QStringLiteral(" · %1 °C").arg(f.temperature_c, 0, 'f', 0);
      if (f.throttled && chip.verdict == "running") look.value += QStringLiteral(" · throttled");
      break;
    case ColourMode::temperature:
      look.fill = std::isnan(f.temperature_c) ? kNoData : heat((f.temperature_c - kTempLow) / (kTempHigh - kTempLow));
      if (with_text)
        look.value = std::isnan(f.temperature_c) ? QStringLiteral("n/a")
                                                 : QStringLiteral("%1 °C").arg(f.temperature_c, 0, 'f', 0);
      break;
    case ColourMode::power:
      look.fill = std::isnan(f.power_w) ? kNoData : heat(f.power_w / kPowerHigh);
      if (with_text)
        look.value = std::isnan(f.power_w) ? QStringLiteral("n/a") : QStringLiteral("%1 W").arg(f.power_w, 0, 'f', 0);
      break;
    case ColourMode::tflops_pct:
      // Low throughput is the problem here: red at 0 %, green at peak.
      look.fill =
          std::isnan(f.tflops_pct)
              ? kNoData
              : QColor::fromHsvF(static_cast<float>(std::clamp(f.tflops_pct, 0.0, 100.0) / 100.0 * 120.0 / 360.0),
                                 0.75f, 0.85f);
      if (with_text)
        look.value =
            std::isnan(f.tflops_pct) ? QStringLiteral("n/a") : QStringLiteral("%1 %").arg(f.tflops_pct, 0, 'f', 0);
      break;
    case ColourMode::lifecycle:
      look.fill = lifecycle_colour(chip.lifecycle);
      if (with_text) {
        look.value = lifecycle_name(chip.lifecycle);
        if (chip.verdict == "running") look.value += QStringLiteral(" · running");
      }
      break;
    case ColourMode::errors:
      if (std::isnan(f.errors)) {
        look.fill = kNoData;
        look.value = QStringLiteral("n/a");
      } else {
        look.fill =
            f.errors <= 0
                ? QColor(0x2e, 0x9e, 0x4f)
                : QColor::fromHsvF(
                      0.0f, static_cast<float>(std::clamp(0.45 + 0.12 * std::log10(f.errors + 1), 0.45, 1.0)), 0.85f);
        if (with_text) look.value = QStringLiteral("%1 err").arg(f.errors, 0, 'f', 0);
      }
      break;
  }
  if (!connected && !final_verdict) {
    look.stale = true;
    look.age = QStringLiteral("agent lost");
  } else if (!final_verdict && age > LabState::kStaleAfterMs) {
    look.stale = true;
    if (with_text) look.age = QStringLiteral("stale ") + short_age(age);
  } else if (!final_verdict && age < 0 && mode != ColourMode::verdict) {
    look.stale = true;
    look.age = QStringLiteral("no data");
  }
  if (look.stale) {
    // Greyer the older: a minute-old figure is nearly grey, an hour-old one fully.
    const double fade = age < 0 || !connected
                            ? 1.0
                            : std::clamp(0.5 + std::log10(std::max<double>(age, 1000) / 5000.0) * 0.3, 0.5, 1.0);
    const QColor c = look.fill;
    look.fill = QColor::fromRgbF(static_cast<float>(c.redF() * (1 - fade) + kStale.redF() * fade),
                                 static_cast<float>(c.greenF() * (1 - fade) + kStale.greenF() * fade),
                                 static_cast<float>(c.blueF() * (1 - fade) + kStale.blueF() * fade));
  }
  look.text = readable_text(look.fill);
  return look;
}

std::vector<std::pair<QString, QColor>> legend(ColourMode mode) {
  switch (mode) {
    case ColourMode::verdict:
      return {{"running", verdict_colour("running")},
              {"pass", verdict_colour("pass")},
              {"marginal", verdict_colour("marginal")},
              {"over limit", verdict_colour("over_limit")},
              {"fail", verdict_colour("fail")},
              {"error", verdict_colour("error")},
              {"inconclusive", verdict_colour("inconclusive")},
              {"idle", verdict_colour("")},
              {"stale", kStale}};
    case ColourMode::temperature:
      return {{"25 °C", heat(0)}, {"45", heat(0.25)}, {"65", heat(0.5)}, {"85", heat(0.75)}, {"105 °C", heat(1)}};
    case ColourMode::power:
      return {{"0 W", heat(0)}, {"150", heat(0.25)}, {"300", heat(0.5)}, {"450", heat(0.75)}, {"600 W", heat(1)}};
    case ColourMode::tflops_pct:
      return {{"0 %", QColor::fromHsvF(0.0f, 0.75f, 0.85f)},
              {"50 %", QColor::fromHsvF(60.0f / 360, 0.75f, 0.85f)},
              {"100 % of peak", QColor::fromHsvF(120.0f / 360, 0.75f, 0.85f)}};
    case ColourMode::lifecycle: {
      std::vector<std::pair<QString, QColor>> stops;
      for (const Lifecycle state : kLifecycleStates) stops.emplace_back(lifecycle_name(state), lifecycle_colour(state));
      stops.emplace_back(QStringLiteral("not known yet"), kNoData);
      return stops;
    }
    case ColourMode::errors:
      return {{"0", QColor(0x2e, 0x9e, 0x4f)},
              {"1", QColor::fromHsvF(0.0f, 0.45f, 0.85f)},
              {"1000+", QColor::fromHsvF(0.0f, 0.85f, 0.85f)}};
  }
  return {};
}

}  // namespace kiln::gui
