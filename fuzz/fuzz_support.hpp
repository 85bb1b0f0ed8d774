#pragma once
// What the fuzz targets share: the invariant check, which stops the process
// with a message (libFuzzer then saves the input; the replay driver names
// it), and the input splitter that draws chunk sizes from the input itself.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <fmt/format.h>

namespace kiln::fuzz {

// Prints "invariant failed: <what>" with where it was checked, then aborts.
[[noreturn]] void fail(const char* file, int line, std::string_view what);

// The replay driver sets this so that a failure also names the input.
using FailureHook = void (*)();
void set_failure_hook(FailureHook hook);

// An input read front to back: control bytes first, the rest as data. Reads
// past the end answer 0, so every input is a valid script.
class InputReader {
 public:
  explicit InputReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  std::uint8_t byte() { return pos_ < bytes_.size() ? bytes_[pos_++] : 0; }
  std::span<const std::uint8_t> rest() const { return bytes_.subspan(pos_); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

// Chunk sizes taken from the input: a count byte (0..15), then that many
// size bytes, used in a cycle (size byte b → b + 1 bytes; no sizes → one
// chunk). So the fuzzer controls every split of the data that follows.
class Chunker {
 public:
  explicit Chunker(InputReader& input);
  // The size of the next chunk, at most `remaining`; never 0 while data remains.
  std::size_t next_size(std::size_t remaining);

 private:
  std::uint8_t sizes_[15] = {};
  std::size_t count_ = 0;
  std::size_t next_ = 0;
};

}  // namespace kiln::fuzz

#define KILN_FUZZ_CHECK(condition, ...)                                                                   \
  do {                                                                                                    \
    if (!(condition)) ::kiln::fuzz::fail(__FILE__, __LINE__, #condition ": " + fmt::format(__VA_ARGS__)); \
  } while (0)
