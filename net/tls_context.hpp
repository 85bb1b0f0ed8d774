#pragma once
// Builds Boost.Asio's ssl::context from TlsClientOptions/TlsServerOptions,
// with every missing, unreadable or malformed file a Result error that
// names the file and the option, and sets what a client verifies of the
// daemon it dialled. TLS 1.2 at least; peer verification always on.
//
// Internal to kiln_net and kilnd (it names Boost.Asio).

#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "core/result.hpp"
#include "net/tls_options.hpp"

namespace kiln::net {

using TlsContext = std::shared_ptr<boost::asio::ssl::context>;

// null when !options.enabled() (plain TCP); an error for a half-given or bad set.
Result<TlsContext> make_client_tls(const TlsClientOptions& options);
Result<TlsContext> make_server_tls(const TlsServerOptions& options);

// SNI (for a name) and what the daemon's certificate must name: `host` as
// dialled, a DNS name checked against its DNS SANs or an IP address
// checked against its IP SANs.
Status expect_peer_name(boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& stream, const std::string& host);

// One line for a failed TLS operation: OpenSSL's reason and, when the
// peer's certificate was rejected, why.
std::string tls_failure_text(const boost::system::error_code& ec,
                             boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& stream);

}  // namespace kiln::net
