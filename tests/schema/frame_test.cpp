#include "schema/frame.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kiln::wire {
namespace {

using State = FrameDecoder::State;

std::string heartbeat_payload(std::int64_t sent_unix_ms) {
  kiln::v1::Envelope envelope;
  envelope.mutable_heartbeat()->set_sent_unix_ms(sent_unix_ms);
  return encode_envelope(envelope).substr(kFrameHeaderBytes);
}

// Drains every complete frame the decoder holds.
std::vector<std::string> drain(FrameDecoder& decoder) {
  std::vector<std::string> frames;
  std::string payload;
  while (decoder.next(payload) == State::frame) frames.push_back(payload);
  return frames;
}

std::string length_prefix(std::uint32_t length) {
  return {static_cast<char>(length >> 24), static_cast<char>(length >> 16), static_cast<char>(length >> 8),
          static_cast<char>(length)};
}

TEST(FrameEncoding, LengthIsFourBytesBigEndian) {
  const std::string payload(258, 'p');
  const std::string frame = encode_frame(payload);
  ASSERT_EQ(frame.size(), 4 + payload.size());
  EXPECT_EQ(frame.substr(0, 4), std::string("\x00\x00\x01\x02", 4));
  EXPECT_EQ(frame.substr(4), payload);
  EXPECT_EQ(encode_frame(""), std::string(4, '\0'));
}

TEST(FrameDecoder, ReassemblesFramesDeliveredByteByByte) {
  const std::string first = heartbeat_payload(1);
  const std::string second = heartbeat_payload(123456789);
  const std::string stream = encode_frame(first) + encode_frame(second);

  FrameDecoder decoder;
  std::vector<std::string> frames;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    decoder.feed(stream.data() + i, 1);
    std::string payload;
    const State state = decoder.next(payload);
    if (state == State::frame) {
      frames.push_back(payload);
      // A frame completes exactly on its last byte, never earlier.
      EXPECT_TRUE(i + 1 == 4 + first.size() || i + 1 == stream.size()) << "frame completed at byte " << i;
    } else {
      EXPECT_EQ(state, State::need_more);
    }
  }
  EXPECT_EQ(frames, (std::vector<std::string>{first, second}));
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameDecoder, SplitsSeveralFramesFromOneFeed) {
  const std::string stream = encode_frame("alpha") + encode_frame("") + encode_frame("gamma") + std::string(2, '\0');
  FrameDecoder decoder;
  decoder.feed(stream.data(), stream.size());
  EXPECT_EQ(drain(decoder), (std::vector<std::string>{"alpha", "", "gamma"}));
  // The incomplete fourth header stays; consumed frames are gone.
  EXPECT_EQ(decoder.buffered(), 2u);
  std::string payload;
  EXPECT_EQ(decoder.next(payload), State::need_more);
  decoder.feed(std::string("\x00\x01z", 3).data(), 3);
  EXPECT_EQ(drain(decoder), std::vector<std::string>{"z"});
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameDecoder, AcceptsAFrameOfExactlyTheLimit) {
  const std::string payload(kMaxFrameBytes, 'x');
  const std::string frame = encode_frame(payload);
  FrameDecoder decoder;
  // Delivered in socket-sized chunks: the body must be accepted, not rejected as it grows.
  constexpr std::size_t kChunk = 64 * 1024;
  std::string out;
  for (std::size_t offset = 0; offset < frame.size(); offset += kChunk) {
    ASSERT_EQ(decoder.next(out), State::need_more);
    decoder.feed(frame.data() + offset, std::min(kChunk, frame.size() - offset));
    EXPECT_LE(decoder.buffered(), kFrameHeaderBytes + kMaxFrameBytes);
  }
  ASSERT_EQ(decoder.next(out), State::frame);
  EXPECT_EQ(out.size(), kMaxFrameBytes);
  EXPECT_EQ(out, payload);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameDecoder, RejectsALengthOverTheLimitAsSoonAsTheHeaderArrives) {
  FrameDecoder decoder;
  const std::string header = length_prefix(static_cast<std::uint32_t>(kMaxFrameBytes + 1));
  decoder.feed(header.data(), header.size());
  EXPECT_EQ(decoder.buffered(), 0u);  // not even the header is kept
  std::string payload;
  ASSERT_EQ(decoder.next(payload), State::error);
  EXPECT_NE(decoder.error_message().find("exceeds"), std::string::npos) << decoder.error_message();
  EXPECT_NE(decoder.error_message().find(std::to_string(kMaxFrameBytes + 1)), std::string::npos);

  // The body that follows is dropped, and the error stays.
  const std::string body(1 << 20, 'b');
  decoder.feed(body.data(), body.size());
  EXPECT_EQ(decoder.buffered(), 0u);
  EXPECT_EQ(decoder.next(payload), State::error);
}

TEST(FrameDecoder, DoesNotBufferTheBodyOfAnOversizedFrameFedTogetherWithItsHeader) {
  FrameDecoder decoder;
  const std::string stream = length_prefix(0xffffffffu) + std::string(1 << 20, 'b');
  decoder.feed(stream.data(), stream.size());
  EXPECT_EQ(decoder.buffered(), 0u);
  std::string payload;
  EXPECT_EQ(decoder.next(payload), State::error);
}

TEST(FrameDecoder, HandsOutFramesThatPrecedeAnOversizedHeader) {
  const std::string stream =
      encode_frame("last words") + length_prefix(static_cast<std::uint32_t>(kMaxFrameBytes + 1)) + "junk";
  FrameDecoder decoder;
  decoder.feed(stream.data(), stream.size());
  std::string payload;
  ASSERT_EQ(decoder.next(payload), State::frame);
  EXPECT_EQ(payload, "last words");
  EXPECT_EQ(decoder.next(payload), State::error);
  EXPECT_FALSE(decoder.error_message().empty());
}

TEST(EnvelopeCodec, RoundTripsAndStampsTheProtocolVersion) {
  kiln::v1::Envelope envelope;
  envelope.set_request_id(77);
  auto* hello = envelope.mutable_hello();
  hello->set_role(kiln::v1::ROLE_AGENT);
  hello->set_identity("r01");
  const std::string frame = encode_envelope(envelope);

  FrameDecoder decoder;
  decoder.feed(frame.data(), frame.size());
  std::string payload;
  ASSERT_EQ(decoder.next(payload), State::frame);
  const Result<kiln::v1::Envelope> decoded = decode_envelope(payload);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->version(), kProtocolVersion);
  EXPECT_EQ(decoded->request_id(), 77u);
  ASSERT_TRUE(decoded->has_hello());
  EXPECT_EQ(decoded->hello().identity(), "r01");
  EXPECT_EQ(decoded->hello().role(), kiln::v1::ROLE_AGENT);
}

TEST(EnvelopeCodec, RejectsGarbage) {
  const Result<kiln::v1::Envelope> decoded = decode_envelope(std::string("\xff\xff\xff\xff\x0f", 5));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::protocol);
  EXPECT_NE(decoded.error().message.find("malformed"), std::string::npos) << decoded.error().message;
}

TEST(EnvelopeCodec, RejectsAnotherProtocolVersion) {
  kiln::v1::Envelope envelope;
  envelope.set_version(1);  // the release before typed contracts
  envelope.mutable_heartbeat()->set_sent_unix_ms(5);
  const std::string frame = encode_envelope(envelope);  // an explicit version is sent as is
  const Result<kiln::v1::Envelope> decoded = decode_envelope(std::string_view(frame).substr(kFrameHeaderBytes));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::protocol);
  EXPECT_NE(decoded.error().message.find("version 1"), std::string::npos) << decoded.error().message;
}

TEST(EnvelopeCodec, RejectsProtocolTwoWhoseStepParamsWereText) {
  kiln::v1::Envelope envelope;
  envelope.set_version(2);  // StepSpec field 5 was a map of text, now reserved
  envelope.mutable_heartbeat()->set_sent_unix_ms(5);
  const std::string frame = encode_envelope(envelope);
  const Result<kiln::v1::Envelope> decoded = decode_envelope(std::string_view(frame).substr(kFrameHeaderBytes));
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message.find("version 2"), std::string::npos) << decoded.error().message;
}

TEST(EnvelopeCodec, RejectsAnEnvelopeWithoutABody) {
  kiln::v1::Envelope envelope;
  envelope.set_request_id(3);
  const std::string frame = encode_envelope(envelope);
  const Result<kiln::v1::Envelope> no_body = decode_envelope(std::string_view(frame).substr(kFrameHeaderBytes));
  ASSERT_FALSE(no_body);
  EXPECT_NE(no_body.error().message.find("no body"), std::string::npos) << no_body.error().message;

  // A zero-length frame is a valid frame whose payload is not a valid envelope.
  FrameDecoder decoder;
  const std::string empty = encode_frame("");
  decoder.feed(empty.data(), empty.size());
  std::string payload = "stale";
  ASSERT_EQ(decoder.next(payload), State::frame);
  EXPECT_TRUE(payload.empty());
  EXPECT_FALSE(decode_envelope(payload));
}

TEST(EnvelopeCodec, TryEncodeRefusesAMessageOverTheFrameLimit) {
  kiln::v1::Envelope envelope;
  envelope.mutable_query_reply()->set_body(std::string(kMaxFrameBytes, 'c'));
  const Result<std::string> too_big = try_encode_envelope(envelope);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, ErrorCode::invalid_argument);

  envelope.mutable_query_reply()->set_body(std::string(kMaxFrameBytes - 64, 'c'));
  const Result<std::string> fits = try_encode_envelope(envelope);
  ASSERT_TRUE(fits) << fits.error().message;
  FrameDecoder decoder;
  decoder.feed(fits->data(), fits->size());
  std::string payload;
  ASSERT_EQ(decoder.next(payload), State::frame);
  EXPECT_TRUE(decode_envelope(payload));
}

}  // namespace
}  // namespace kiln::wire
