#pragma once
// ErrorReply{code, message} (docs/protocol.md) and the Error it stands for:
// the daemon turns an Error into the reply, a client turns the reply back.
// The codes on the wire are ErrorCode's names for not_found, conflict,
// invalid_argument and unavailable; anything else travels as "internal".

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "schema/kiln.pb.h"

namespace kiln::net {

kiln::v1::Envelope error_reply(std::uint64_t request_id, const Error& error);
Error error_from(const kiln::v1::ErrorReply& reply);
ErrorCode error_code_from(const std::string& code);

}  // namespace kiln::net
