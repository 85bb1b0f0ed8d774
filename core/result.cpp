#include "core/result.hpp"

namespace kiln {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid argument";
    case ErrorCode::parse: return "parse error";
    case ErrorCode::not_found: return "not found";
    case ErrorCode::io: return "i/o error";
    case ErrorCode::protocol: return "protocol error";
    case ErrorCode::auth: return "authentication failed";
    case ErrorCode::permission_denied: return "permission denied";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::internal: return "internal error";
  }
  return "unknown error";
}

}  // namespace kiln
