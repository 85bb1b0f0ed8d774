#pragma once
// A private CA and the certificates one lab needs (kilnd --init-tls DIR,
// which `kiln lab` runs): a CA, a server certificate for localhost,
// 127.0.0.1 and ::1, and a client certificate for mutual TLS, each key
// EC P-256, every file written mode 0600. Key generation lives here, in its
// own library, which only kilnd (and tests) link: the clients only load
// files (net/tls_context.hpp).

#include <string>

#include "core/result.hpp"
#include "net/tls_options.hpp"

namespace kiln::net {

// Creates `dir` (0700) when missing and writes every file of TlsFiles in
// it, replacing what was there. `days`: how long the certificates hold.
Result<TlsFiles> write_lab_tls(const std::string& dir, int days = 365);

}  // namespace kiln::net
