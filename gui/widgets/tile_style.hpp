#pragma once
// How a chip tile looks in each colouring of the lab view: by verdict/state,
// temperature, power, TFLOPS as % of peak, or error count. Stale data greys
// out with its age; a chip whose rack's agent is gone says so.

#include <QColor>
#include <QString>

#include <cstdint>
#include <optional>

#include "gui/model/lab_state.hpp"

namespace kiln::gui {

enum class ColourMode { verdict, temperature, power, tflops_pct, errors, lifecycle };
inline constexpr ColourMode kColourModes[] = {ColourMode::verdict,    ColourMode::temperature, ColourMode::power,
                                              ColourMode::tflops_pct, ColourMode::errors,      ColourMode::lifecycle};
QString mode_name(ColourMode mode);

struct TileLook {
  QColor fill;
  QColor text;
  QString value;  // the figure the colour stands for ("71 °C", "fail")
  QString age;    // "stale 12s", "agent lost", empty when fresh
  bool stale = false;
};

QColor verdict_colour(const std::string& verdict);
// A lifecycle state's colour (docs/lifecycle.md); nullopt: the daemon has not said.
QColor lifecycle_colour(std::optional<Lifecycle> state);
QString lifecycle_name(std::optional<Lifecycle> state);
// with_text false: only the colours (tiles too small for labels skip the formatting).
TileLook tile_look(const LabState& lab, const ChipState& chip, ColourMode mode, std::int64_t local_now_ms,
                   bool with_text = true);
// "12s", "4m", "2h"
QString short_age(std::int64_t ms);
// The scale of a metric colouring, for the legend: (label, colour) stops.
std::vector<std::pair<QString, QColor>> legend(ColourMode mode);

}  // namespace kiln::gui
