#pragma once
// Internal: the SKU loader, also telling where the name was, so that the
// catalog can point at a duplicate.

#include <optional>
#include <string_view>

#include "device/sku.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::device::detail {

std::optional<Sku> load_sku_with_mark(std::string_view text, yaml::Diagnostics& diagnostics, yaml::Mark* name_mark);

}  // namespace kiln::device::detail
