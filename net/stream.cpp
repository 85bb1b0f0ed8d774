#include "net/stream.hpp"

namespace kiln::net {

namespace asio = boost::asio;
using boost::system::error_code;

Stream::Stream(asio::ip::tcp::socket socket) : plain_(std::make_unique<asio::ip::tcp::socket>(std::move(socket))) {}

Stream::Stream(asio::ip::tcp::socket socket, asio::ssl::context& context, Side side)
    : tls_(std::make_unique<TlsStream>(std::move(socket), context)), side_(side) {}

void Stream::close() {
  error_code ignored;
  socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
}

bool looks_like_tls(const char* data, std::size_t size) {
  if (size < 2) return false;
  const auto type = static_cast<unsigned char>(data[0]);
  // 0x15 alert, 0x16 handshake; record version 3.x.
  return (type == 0x15 || type == 0x16) && static_cast<unsigned char>(data[1]) == 0x03;
}

}  // namespace kiln::net
