// Fuzz target: the wire's FrameDecoder (schema/frame.hpp) fed in chunks
// whose sizes come from the input, with a payload cap that is raised part
// way through as kilnd raises it after a Hello.
//
// Input: [cap byte][raise byte][chunker: count, sizes…][stream…]
//   cap byte    the first cap (low 3 bits pick 0, 1, 7, 64, 300, 4096,
//               kMaxFrameBytes, or a cap above kMaxFrameBytes); bit 3: set
//               through the constructor instead of set_max_frame_bytes
//   raise byte  low 3 bits: after how many frames the cap becomes the one
//               the high bits pick (7 = never)
//
// Checked against a model that walks the whole stream at once: the frames
// handed out are exactly the stream's frames, in order, byte for byte,
// whatever the chunking; none is larger than the cap in force when its
// header arrived (nor than kMaxFrameBytes); a header over that cap ends the
// stream with an error after every earlier frame, and the error is sticky
// and keeps nothing buffered; what is left over is what the model leaves.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "schema/frame.hpp"

namespace {

using kiln::wire::FrameDecoder;
using kiln::wire::kFrameHeaderBytes;
using kiln::wire::kMaxFrameBytes;

constexpr std::size_t kNever = std::numeric_limits<std::size_t>::max();

std::size_t pick_cap(unsigned selector) {
  constexpr std::size_t caps[] = {0, 1, 7, 64, 300, 4096, kMaxFrameBytes, kMaxFrameBytes * 2};
  return caps[selector % 8];
}

std::uint32_t read_be32(std::string_view bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

struct Expected {
  std::vector<std::string> frames;
  bool error = false;
  std::size_t leftover = 0;  // bytes buffered at the end when there is no error
};

// The stream's frames with the first cap for headers complete by byte
// `raised_at` of the stream and the second for the rest.
Expected model(std::string_view stream, std::size_t first_cap, std::size_t second_cap, std::size_t raised_at) {
  Expected out;
  std::size_t pos = 0;
  while (stream.size() - pos >= kFrameHeaderBytes) {
    const std::uint32_t length = read_be32(stream, pos);
    const std::size_t header_end = pos + kFrameHeaderBytes;
    const std::size_t cap = header_end <= raised_at ? first_cap : second_cap;
    if (length > std::min(cap, kMaxFrameBytes)) {
      out.error = true;
      return out;
    }
    if (stream.size() - header_end < length) break;
    out.frames.emplace_back(stream.substr(header_end, length));
    pos = header_end + length;
  }
  out.leftover = stream.size() - pos;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kiln::fuzz::InputReader input({data, size});
  const std::uint8_t cap_byte = input.byte();
  const std::uint8_t raise_byte = input.byte();
  kiln::fuzz::Chunker chunker(input);
  const auto stream_bytes = input.rest();
  const std::string_view stream(reinterpret_cast<const char*>(stream_bytes.data()), stream_bytes.size());

  const std::size_t first_cap = pick_cap(cap_byte & 7u);
  const std::size_t raise_after = (raise_byte & 7u) == 7 ? kNever : (raise_byte & 7u);
  const std::size_t second_cap = pick_cap(raise_byte >> 3);

  FrameDecoder decoder = (cap_byte & 8u) ? FrameDecoder(first_cap) : FrameDecoder();
  if (!(cap_byte & 8u)) decoder.set_max_frame_bytes(first_cap);
  KILN_FUZZ_CHECK(decoder.max_frame_bytes() == std::min(first_cap, kMaxFrameBytes), "cap {} set, {} in force",
                  first_cap, decoder.max_frame_bytes());

  std::vector<std::string> got;
  std::size_t fed = 0;
  std::size_t raised_at = kNever;  // stream bytes fed when the cap was raised
  bool error = false;
  std::string payload;
  const auto maybe_raise = [&] {
    if (raised_at == kNever && got.size() == raise_after) {
      decoder.set_max_frame_bytes(second_cap);
      raised_at = fed;
    }
  };
  maybe_raise();
  while (fed < stream.size()) {
    const std::size_t chunk = chunker.next_size(stream.size() - fed);
    decoder.feed(stream.data() + fed, chunk);
    fed += chunk;
    for (;;) {
      const auto state = decoder.next(payload);
      if (state == FrameDecoder::State::need_more) break;
      if (state == FrameDecoder::State::error) {
        error = true;
        break;
      }
      // Precisely: the cap in force when its header arrived (the model checks that).
      KILN_FUZZ_CHECK(payload.size() <= std::min(std::max(first_cap, second_cap), kMaxFrameBytes),
                      "a {}-byte frame under caps of {} and {}", payload.size(), first_cap, second_cap);
      got.push_back(payload);
      maybe_raise();
    }
    if (error) break;
    // An incomplete frame is all that stays, and never more than one legal frame.
    KILN_FUZZ_CHECK(decoder.buffered() <= kFrameHeaderBytes + kMaxFrameBytes, "{} bytes buffered", decoder.buffered());
  }

  const Expected expected = model(stream, first_cap, second_cap, raised_at);
  KILN_FUZZ_CHECK(got.size() == expected.frames.size(), "{} frames decoded, the stream holds {}", got.size(),
                  expected.frames.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    KILN_FUZZ_CHECK(got[i] == expected.frames[i], "frame {} differs ({} vs {} bytes)", i, got[i].size(),
                    expected.frames[i].size());
    KILN_FUZZ_CHECK(kiln::wire::encode_frame(got[i]).size() == kFrameHeaderBytes + got[i].size(),
                    "frame {} does not re-encode", i);
  }
  // The model may see an oversized header the decoder never reached only if
  // the decoder stopped on it too: both end in error, or neither.
  KILN_FUZZ_CHECK(error == expected.error, "decoder error {}, model error {}", error, expected.error);
  if (error) {
    KILN_FUZZ_CHECK(!decoder.error_message().empty(), "an error without a message");
    KILN_FUZZ_CHECK(decoder.buffered() == 0, "{} bytes kept after an error", decoder.buffered());
    // Sticky: more input changes nothing.
    decoder.feed(stream.data(), stream.size());
    KILN_FUZZ_CHECK(decoder.next(payload) == FrameDecoder::State::error, "the error was not sticky");
    KILN_FUZZ_CHECK(decoder.buffered() == 0, "{} bytes kept after an error", decoder.buffered());
  } else {
    KILN_FUZZ_CHECK(decoder.buffered() == expected.leftover, "{} bytes buffered, {} expected", decoder.buffered(),
                    expected.leftover);
    KILN_FUZZ_CHECK(decoder.error_message().empty(), "a message without an error: {}", decoder.error_message());
  }
  return 0;
}
