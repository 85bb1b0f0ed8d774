#pragma once
// Pure helpers behind kiln-agent's command line, kept in the library so that
// tests reach them.

#include <string>

namespace kiln::agent {

// <directory of lab_path>/../skus
std::string default_sku_dir(const std::string& lab_path);

}  // namespace kiln::agent
