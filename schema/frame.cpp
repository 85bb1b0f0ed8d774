#include "schema/frame.hpp"

#include <algorithm>
#include <climits>

#include <fmt/format.h>

namespace kiln::wire {
namespace {

// Past this much spare capacity an idle decoder gives its buffer back, so a
// connection that once carried a 4 MiB frame does not pin 4 MiB forever.
constexpr std::size_t kKeepCapacityBytes = 256u << 10;

// Field 1 (version), wire type 0 (varint), value kProtocolVersion. Used to
// stamp the version onto an envelope without copying it: proto3 omits a zero
// field, and a parser accepts fields in any order.
constexpr char kVersionField[] = {0x08, static_cast<char>(kProtocolVersion)};
static_assert(kProtocolVersion < 0x80, "kVersionField encodes the version as a one-byte varint");

std::uint32_t read_be32(const char* p) {
  const auto byte = [p](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])); };
  return (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
}

void append_be32(std::string& out, std::uint32_t value) {
  out.push_back(static_cast<char>((value >> 24) & 0xff));
  out.push_back(static_cast<char>((value >> 16) & 0xff));
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

std::string encode_envelope_unchecked(const kiln::v1::Envelope& envelope, std::size_t body_size) {
  const bool stamp_version = envelope.version() == 0;
  const std::size_t payload_size = body_size + (stamp_version ? sizeof kVersionField : 0);
  std::string frame;
  frame.reserve(kFrameHeaderBytes + payload_size);
  append_be32(frame, static_cast<std::uint32_t>(payload_size));
  if (stamp_version) frame.append(kVersionField, sizeof kVersionField);
  const std::size_t offset = frame.size();
  frame.resize(offset + body_size);
  envelope.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(frame.data() + offset));
  return frame;
}

}  // namespace

void FrameDecoder::feed(const char* data, std::size_t size) {
  feed(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), size));
}

void FrameDecoder::feed(std::span<const std::uint8_t> bytes) {
  if (poisoned_ || failed_) return;  // the connection is being closed; nothing more is kept
  compact();
  // Copy in pieces that end at each header boundary, so every length prefix
  // is checked before a single byte of its body enters the buffer.
  while (!bytes.empty() && !poisoned_) {
    const std::size_t end = buffer_.size();
    const std::size_t want = scan_pos_ > end ? scan_pos_ - end                       // rest of a checked body
                                             : scan_pos_ + kFrameHeaderBytes - end;  // rest of a header
    const std::size_t take = std::min(want, bytes.size());
    buffer_.append(reinterpret_cast<const char*>(bytes.data()), take);
    bytes = bytes.subspan(take);
    scan_headers();
  }
}

void FrameDecoder::set_max_frame_bytes(std::size_t max_frame_bytes) {
  max_frame_bytes_ = std::min(max_frame_bytes, kMaxFrameBytes);
}

void FrameDecoder::scan_headers() {
  if (scan_pos_ + kFrameHeaderBytes > buffer_.size()) return;
  const std::uint32_t length = read_be32(buffer_.data() + scan_pos_);
  if (length > max_frame_bytes_) {
    pending_error_ = fmt::format("frame length {} exceeds the limit of {} bytes", length, max_frame_bytes_);
    buffer_.resize(scan_pos_);  // the frames before it stay readable; the rest is dropped
    poisoned_ = true;
    return;
  }
  scan_pos_ += kFrameHeaderBytes + length;
}

void FrameDecoder::compact() {
  if (read_pos_ == 0) return;
  buffer_.erase(0, read_pos_);
  scan_pos_ -= read_pos_;
  read_pos_ = 0;
  if (buffer_.empty() && buffer_.capacity() > kKeepCapacityBytes) std::string().swap(buffer_);
}

FrameDecoder::State FrameDecoder::next(std::string& payload) {
  if (failed_) return State::error;
  const std::size_t available = buffer_.size() - read_pos_;
  if (available >= kFrameHeaderBytes) {
    const std::size_t length = read_be32(buffer_.data() + read_pos_);
    if (available >= kFrameHeaderBytes + length) {
      payload.assign(buffer_, read_pos_ + kFrameHeaderBytes, length);
      read_pos_ += kFrameHeaderBytes + length;
      if (read_pos_ == buffer_.size()) compact();  // cheap: nothing left to move
      return State::frame;
    }
  }
  if (!poisoned_) return State::need_more;
  // Every frame before the oversized header has been handed out.
  failed_ = true;
  error_message_ = std::move(pending_error_);
  std::string().swap(buffer_);
  read_pos_ = scan_pos_ = 0;
  return State::error;
}

std::string encode_frame(std::string_view payload) {
  std::string frame;
  frame.reserve(kFrameHeaderBytes + payload.size());
  append_be32(frame, static_cast<std::uint32_t>(payload.size()));
  frame.append(payload);
  return frame;
}

std::string encode_envelope(const kiln::v1::Envelope& envelope) {
  return encode_envelope_unchecked(envelope, envelope.ByteSizeLong());
}

Result<std::string> try_encode_envelope(const kiln::v1::Envelope& envelope) {
  const std::size_t body_size = envelope.ByteSizeLong();
  const std::size_t payload_size = body_size + (envelope.version() == 0 ? sizeof kVersionField : 0);
  if (payload_size > kMaxFrameBytes) {
    return make_error(ErrorCode::invalid_argument, "message of {} bytes exceeds the frame limit of {} bytes",
                      payload_size, kMaxFrameBytes);
  }
  return encode_envelope_unchecked(envelope, body_size);
}

Result<kiln::v1::Envelope> decode_envelope(std::string_view payload) {
  if (payload.size() > static_cast<std::size_t>(INT_MAX)) {
    return make_error(ErrorCode::protocol, "payload of {} bytes is too large to parse", payload.size());
  }
  kiln::v1::Envelope envelope;
  if (!envelope.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return make_error(ErrorCode::protocol, "malformed Envelope ({} bytes)", payload.size());
  }
  if (envelope.version() != kProtocolVersion) {
    return make_error(ErrorCode::protocol, "unsupported protocol version {} (this build speaks {})", envelope.version(),
                      kProtocolVersion);
  }
  if (envelope.body_case() == kiln::v1::Envelope::BODY_NOT_SET) {
    return make_error(ErrorCode::protocol, "Envelope has no body, or one this build does not know");
  }
  return envelope;
}

}  // namespace kiln::wire
