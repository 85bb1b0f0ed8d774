#pragma once
// Options every kiln command shares (DESIGN §9).

#include <string>

#include "net/tls_options.hpp"

namespace kiln::cli {

inline constexpr const char* kDefaultDaemon = "127.0.0.1:7450";
inline constexpr const char* kDefaultDb = "kiln.db";

struct GlobalOptions {
  std::string daemon;         // --daemon / $KILN_DAEMON; empty: the default
  std::string token_file;     // --token-file / $KILN_TOKEN_FILE
  std::string db;             // --db: read this database file instead of asking a daemon
  net::TlsClientOptions tls;  // --tls-ca [--tls-cert --tls-key] / $KILN_TLS_*
};

}  // namespace kiln::cli
