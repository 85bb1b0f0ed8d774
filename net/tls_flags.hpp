#pragma once
// The client TLS options every command line takes alike (kiln, kiln-agent;
// kiln-dash reads the same names and variables through Qt's parser): one
// set of names, help texts and environment variables.

#include "net/tls_options.hpp"

namespace kiln::net {

inline constexpr const char* kTlsCaEnv = "KILN_TLS_CA";
inline constexpr const char* kTlsCertEnv = "KILN_TLS_CERT";
inline constexpr const char* kTlsKeyEnv = "KILN_TLS_KEY";
inline constexpr const char* kTlsCaHelp =
    "TLS to kilnd: the CA (PEM) that signed the daemon's certificate, which must name the host dialled "
    "($KILN_TLS_CA)";
inline constexpr const char* kTlsCertHelp = "mutual TLS: this client's certificate, PEM ($KILN_TLS_CERT)";
inline constexpr const char* kTlsKeyHelp = "mutual TLS: the private key of --tls-cert, PEM ($KILN_TLS_KEY)";

// `App`: a CLI::App (a template, so that kiln_net does not link CLI11).
template <typename App>
void add_tls_client_flags(App& app, TlsClientOptions& tls) {
  app.add_option("--tls-ca", tls.ca_file, kTlsCaHelp)->envname(kTlsCaEnv);
  app.add_option("--tls-cert", tls.cert_file, kTlsCertHelp)->envname(kTlsCertEnv);
  app.add_option("--tls-key", tls.key_file, kTlsKeyHelp)->envname(kTlsKeyEnv);
}

}  // namespace kiln::net
