#pragma once
// Framing of the Kiln wire protocol (DESIGN §8): each frame is a 4-byte
// big-endian payload length followed by the payload, one serialized
// kiln.v1.Envelope. Pure code: bytes in, frames or errors out, no sockets, so
// it can be unit-tested and fuzzed on its own.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "schema/kiln.pb.h"

namespace kiln::wire {

inline constexpr std::uint32_t kProtocolVersion = 3;
inline constexpr std::size_t kMaxFrameBytes = 4u << 20;  // payload cap, 4 MiB
inline constexpr std::size_t kFrameHeaderBytes = 4;

// Incremental decoder. Feed it whatever the socket produced, then call next()
// until it answers need_more.
//
// Memory: the decoder keeps only bytes not yet returned by next(). A frame
// whose length prefix exceeds kMaxFrameBytes is rejected as soon as its four
// length bytes arrive, so its body is never buffered; an incomplete legal frame
// never needs more than kFrameHeaderBytes + kMaxFrameBytes. Frames that were
// complete before an oversized header are still handed out, then next()
// answers error for good and every byte fed afterwards is dropped.
class FrameDecoder {
 public:
  enum class State { need_more, frame, error };

  explicit FrameDecoder(std::size_t max_frame_bytes = kMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes < kMaxFrameBytes ? max_frame_bytes : kMaxFrameBytes) {}
  // The payload cap for the headers that arrive from now on (at most
  // kMaxFrameBytes): kilnd reads only a small Hello before a peer is
  // authenticated, then frames up to kMaxFrameBytes.
  void set_max_frame_bytes(std::size_t max_frame_bytes);
  std::size_t max_frame_bytes() const { return max_frame_bytes_; }

  void feed(std::span<const std::uint8_t> bytes);
  void feed(const char* data, std::size_t size);

  // frame: `payload` holds the next payload. need_more: no complete frame is
  // buffered. error: sticky; error_message() says why.
  State next(std::string& payload);

  // Empty until next() has answered error.
  const std::string& error_message() const { return error_message_; }
  // Bytes received but not yet returned as a frame.
  std::size_t buffered() const { return buffer_.size() - read_pos_; }

 private:
  void scan_headers();
  void compact();

  std::size_t max_frame_bytes_;
  std::string buffer_;
  std::size_t read_pos_ = 0;   // start of the first frame not yet returned
  std::size_t scan_pos_ = 0;   // start of the first frame whose header is unchecked
  bool poisoned_ = false;      // an oversized header was seen; input after it is dropped
  bool failed_ = false;        // next() reported the error (sticky)
  std::string pending_error_;  // the reason, reported once earlier frames are drained
  std::string error_message_;
};

// 4-byte big-endian length + payload. The payload must not exceed
// kMaxFrameBytes: a peer rejects larger frames (see try_encode_envelope).
std::string encode_frame(std::string_view payload);

// Serializes an Envelope into a frame; a version of 0 goes out as
// kProtocolVersion. The serialized envelope must fit kMaxFrameBytes.
std::string encode_envelope(const kiln::v1::Envelope& envelope);

// As encode_envelope, but answers invalid_argument instead of producing a
// frame the peer would refuse (for replies whose size depends on data, such
// as query results).
Result<std::string> try_encode_envelope(const kiln::v1::Envelope& envelope);

// Parses one frame payload. protocol error when the bytes are not an
// Envelope, the version is not kProtocolVersion, or no body (or a body this
// build does not know) is set.
Result<kiln::v1::Envelope> decode_envelope(std::string_view payload);

}  // namespace kiln::wire
