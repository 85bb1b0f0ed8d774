#include "net/tls_context.hpp"

#include <fstream>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

namespace kiln::net {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

namespace {

// The reason OpenSSL gave, without its "error:0A000086:SSL routines::" prefix.
std::string reason_of(const error_code& ec) {
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason != nullptr) return reason;
  }
  if (ec == ssl::error::stream_truncated)
    return "the peer closed the connection during the TLS handshake (does it speak TLS?)";
  return ec.message();
}

Status readable(const std::string& option, const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::invalid_argument, "{} {}: cannot read the file", option, path);
  return {};
}

Status load_identity(ssl::context& context, const std::string& cert_option, const std::string& cert,
                     const std::string& key_option, const std::string& key) {
  KILN_TRY(readable(cert_option, cert));
  KILN_TRY(readable(key_option, key));
  error_code ec;
  context.use_certificate_chain_file(cert, ec);
  if (ec)
    return make_error(ErrorCode::invalid_argument, "{} {}: not a PEM certificate ({})", cert_option, cert,
                      reason_of(ec));
  context.use_private_key_file(key, ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    return make_error(ErrorCode::invalid_argument, "{} {} is not the key of the certificate {} {}", key_option, key,
                      cert_option, cert);
  }
  if (ec)
    return make_error(ErrorCode::invalid_argument, "{} {}: not a PEM private key ({})", key_option, key, reason_of(ec));
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    ERR_clear_error();
    return make_error(ErrorCode::invalid_argument, "{} {} is not the key of the certificate {} {}", key_option, key,
                      cert_option, cert);
  }
  return {};
}

Status load_trust(ssl::context& context, const std::string& option, const std::string& path) {
  KILN_TRY(readable(option, path));
  error_code ec;
  context.load_verify_file(path, ec);
  if (ec)
    return make_error(ErrorCode::invalid_argument, "{} {}: no PEM certificate in it ({})", option, path, reason_of(ec));
  return {};
}

TlsContext base_context(ssl::context::method method) {
  auto context = std::make_shared<ssl::context>(method);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  return context;
}

}  // namespace

Result<TlsContext> make_client_tls(const TlsClientOptions& options) {
  const bool has_identity = !options.cert_file.empty() || !options.key_file.empty();
  if (!options.enabled()) {
    if (has_identity)
      return make_error(ErrorCode::invalid_argument,
                        "--tls-cert/--tls-key need --tls-ca (the CA that signed the daemon's certificate)");
    return TlsContext{};
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return make_error(ErrorCode::invalid_argument,
                      "--tls-cert and --tls-key go together (a client certificate and its key)");
  }
  auto context = base_context(ssl::context::tls_client);
  KILN_TRY(load_trust(*context, "--tls-ca", options.ca_file));
  if (has_identity) KILN_TRY(load_identity(*context, "--tls-cert", options.cert_file, "--tls-key", options.key_file));
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

Result<TlsContext> make_server_tls(const TlsServerOptions& options) {
  if (!options.enabled()) {
    if (!options.key_file.empty() || options.mutual()) {
      return make_error(ErrorCode::invalid_argument,
                        "--tls-key/--tls-client-ca need --tls-cert (the daemon's certificate)");
    }
    return TlsContext{};
  }
  if (options.key_file.empty())
    return make_error(ErrorCode::invalid_argument, "--tls-cert needs --tls-key (its private key)");
  auto context = base_context(ssl::context::tls_server);
  KILN_TRY(load_identity(*context, "--tls-cert", options.cert_file, "--tls-key", options.key_file));
  if (options.mutual()) {
    KILN_TRY(load_trust(*context, "--tls-client-ca", options.client_ca_file));
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  } else {
    context->set_verify_mode(ssl::verify_none);
  }
  return context;
}

Status expect_peer_name(ssl::stream<boost::asio::ip::tcp::socket>& stream, const std::string& host) {
  SSL* handle = stream.native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(handle);
  error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (!ec) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, address.to_string().c_str()) != 1) {
      return make_error(ErrorCode::invalid_argument, "cannot check the daemon's certificate for IP {}", host);
    }
    return {};
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1 ||
      SSL_set_tlsext_host_name(handle, host.c_str()) != 1) {
    return make_error(ErrorCode::invalid_argument, "cannot check the daemon's certificate for host {}", host);
  }
  return {};
}

std::string tls_failure_text(const error_code& ec, ssl::stream<boost::asio::ip::tcp::socket>& stream) {
  std::string text = reason_of(ec);
  const long verify = SSL_get_verify_result(stream.native_handle());
  if (verify != X509_V_OK) {
    text += std::string(": ") + X509_verify_cert_error_string(verify);
  }
  return text;
}

}  // namespace kiln::net
