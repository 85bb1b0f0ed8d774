#pragma once
// What a TLS connection to or from kilnd is made of (docs/protocol.md
// "TLS"): file paths only, so that agents/, cli/ and gui/ can carry them
// without naming OpenSSL or Boost.Asio (net/tls_context.hpp builds them).

#include <string>

namespace kiln::net {

// A client's side (agent, CLI, dashboard). TLS when ca_file is set: the
// daemon's certificate must chain to it and name the host dialled (a DNS
// name or an IP address). cert_file/key_file: the client's own certificate,
// for a daemon that asks for one (mutual TLS); both or neither.
struct TlsClientOptions {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool enabled() const { return !ca_file.empty(); }
};

// kilnd's side. TLS when cert_file is set (key_file too). client_ca_file:
// every client must then present a certificate that chains to it (mutual
// TLS), on top of its credential.
struct TlsServerOptions {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  bool enabled() const { return !cert_file.empty(); }
  bool mutual() const { return !client_ca_file.empty(); }
};

// The files of a lab's TLS (kilnd --init-tls DIR writes them, net/tls_files.hpp).
struct TlsFiles {
  std::string ca_cert;  // ca.pem: what clients give as --tls-ca, kilnd as --tls-client-ca
  std::string ca_key;   // ca.key: kept to sign more certificates later
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;

  TlsServerOptions server(bool mutual) const { return {server_cert, server_key, mutual ? ca_cert : std::string()}; }
  TlsClientOptions client(bool mutual) const {
    return {ca_cert, mutual ? client_cert : std::string(), mutual ? client_key : std::string()};
  }
};

// Where, in `dir`, kilnd --init-tls writes them.
inline TlsFiles lab_tls_paths(const std::string& dir) {
  const std::string d = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  return TlsFiles{d + "ca.pem", d + "ca.key", d + "server.pem", d + "server.key", d + "client.pem", d + "client.key"};
}

}  // namespace kiln::net
