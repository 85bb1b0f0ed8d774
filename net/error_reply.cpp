#include "net/error_reply.hpp"

namespace kiln::net {

kiln::v1::Envelope error_reply(std::uint64_t request_id, const Error& error) {
  kiln::v1::Envelope envelope;
  envelope.set_request_id(request_id);
  auto* reply = envelope.mutable_error_reply();
  switch (error.code) {
    case ErrorCode::not_found: reply->set_code("not_found"); break;
    case ErrorCode::conflict: reply->set_code("conflict"); break;
    case ErrorCode::invalid_argument: reply->set_code("invalid_argument"); break;
    case ErrorCode::unavailable: reply->set_code("unavailable"); break;
    case ErrorCode::permission_denied: reply->set_code("permission_denied"); break;
    default: reply->set_code("internal"); break;
  }
  reply->set_message(error.message);
  return envelope;
}

ErrorCode error_code_from(const std::string& code) {
  if (code == "not_found") return ErrorCode::not_found;
  if (code == "conflict") return ErrorCode::conflict;
  if (code == "invalid_argument") return ErrorCode::invalid_argument;
  if (code == "unavailable") return ErrorCode::unavailable;
  if (code == "permission_denied") return ErrorCode::permission_denied;
  return ErrorCode::internal;
}

Error error_from(const kiln::v1::ErrorReply& reply) { return Error{error_code_from(reply.code()), reply.message()}; }

}  // namespace kiln::net
