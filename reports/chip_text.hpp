#pragma once
// `kiln chip SERIAL` as text: the chip's lifecycle (chip_lifecycle_json) and,
// with --drift, its drift trend (drift_json).

#include <string>

namespace kiln::reports {

std::string lifecycle_text(const std::string& lifecycle_json);
std::string drift_text(const std::string& drift_json);

}  // namespace kiln::reports
