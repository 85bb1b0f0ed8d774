// The replay driver: a fuzz target's LLVMFuzzerTestOneInput without
// libFuzzer, for builds whose compiler has none (the default gcc preset).
// Runs every seed file given, then a fixed number of pseudo-random
// mutations of each, all drawn from a fixed seed, so that a run is the same
// every time. A target's failed invariant aborts the process: the input is
// written to `<name>.failure` in the working directory and the test fails.
//
//   kiln_fuzz_<target>_replay [--mutations N] [--max-len BYTES] PATH…
// A PATH that is a directory stands for the regular files in it.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

struct Seed {
  std::string name;
  std::vector<std::uint8_t> bytes;
};

// What the failure hook reports.
std::string current_name;
std::vector<std::uint8_t> current_input;

void report_failure() {
  const std::string path = std::filesystem::path(current_name).filename().string() + ".failure";
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(current_input.data()), static_cast<std::streamsize>(current_input.size()));
  std::fprintf(stderr, "while running %s (%zu bytes), written to %s\n", current_name.c_str(), current_input.size(),
               path.c_str());
}

void run(const std::string& name, std::vector<std::uint8_t> input) {
  current_name = name;
  current_input = std::move(input);
  LLVMFuzzerTestOneInput(current_input.data(), current_input.size());
}

// splitmix64: small, portable, the same sequence everywhere.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

// Bytes that matter to YAML, to frame lengths and to protobuf varints.
constexpr std::string_view kTokens[] = {
    ":",  " ",    "\n",   "- ",   "{",    "}",    "[",     "]",    ",",    "'",     "\"", "#",       "&a ",
    "*a", "!!",   "---",  "...",  "0",    "-1",   "1e309", ".nan", ".inf", "65536", "  ", "\t",      "~",
    "\r", "\xff", "\x00", "\x7f", "\x80", "\x10", "true",  "null", "1s",   "64MiB", "|",  "\xc3\xa9"};

std::vector<std::uint8_t> mutate(const std::vector<std::uint8_t>& seed, const std::vector<Seed>& all, Random& random,
                                 std::size_t max_len) {
  std::vector<std::uint8_t> out = seed;
  const std::size_t ops = 1 + random.below(4);
  for (std::size_t op = 0; op < ops; ++op) {
    const std::size_t at = random.below(out.size() + 1);
    switch (random.below(8)) {
      case 0:  // flip a bit
        if (!out.empty()) out[std::min(at, out.size() - 1)] ^= static_cast<std::uint8_t>(1u << random.below(8));
        break;
      case 1:  // any byte
        if (!out.empty()) out[std::min(at, out.size() - 1)] = static_cast<std::uint8_t>(random.next());
        break;
      case 2:  // insert a byte
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), static_cast<std::uint8_t>(random.next()));
        break;
      case 3: {  // erase a range
        const std::size_t n = std::min(out.size() - at, 1 + random.below(16));
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(at), out.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 4: {  // duplicate a range
        const std::size_t n = std::min(out.size() - at, 1 + random.below(32));
        const std::vector<std::uint8_t> piece(out.begin() + static_cast<std::ptrdiff_t>(at),
                                              out.begin() + static_cast<std::ptrdiff_t>(at + n));
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(random.below(out.size() + 1)), piece.begin(), piece.end());
        break;
      }
      case 5: {  // a token
        const std::string_view token = kTokens[random.below(std::size(kTokens))];
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), token.begin(), token.end());
        break;
      }
      case 6:  // cut the rest
        out.resize(at);
        break;
      case 7: {  // splice in a piece of another seed
        const auto& other = all[random.below(all.size())].bytes;
        const std::size_t from = random.below(other.size() + 1);
        const std::size_t n = std::min(other.size() - from, 1 + random.below(64));
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), other.begin() + static_cast<std::ptrdiff_t>(from),
                   other.begin() + static_cast<std::ptrdiff_t>(from + n));
        break;
      }
    }
  }
  if (out.size() > max_len) out.resize(max_len);
  return out;
}

bool read_file(const std::filesystem::path& path, std::vector<Seed>& seeds) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  seeds.push_back(Seed{path.string(), std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {})});
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mutations = 100;
  std::size_t max_len = 4096;
  std::vector<Seed> seeds;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--mutations" || arg == "--max-len") && i + 1 < argc) {
      (arg == "--mutations" ? mutations : max_len) = std::stoul(argv[++i]);
      continue;
    }
    const std::filesystem::path path(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& file : files) read_file(file, seeds);
    } else if (!read_file(path, seeds)) {
      fmt::print(stderr, "replay: cannot read {}\n", path.string());
      return 2;
    }
  }
  if (seeds.empty()) {
    fmt::print(stderr, "replay: no seed files given\n");
    return 2;
  }
  kiln::fuzz::set_failure_hook(report_failure);
  const auto start = std::chrono::steady_clock::now();
  for (const auto& seed : seeds) run(seed.name, seed.bytes);
  Random random(0x6b696c6e66757a7aULL);  // "kilnfuzz"
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    for (std::size_t m = 0; m < mutations; ++m) {
      run(fmt::format("{}#mutation{}", seeds[i].name, m), mutate(seeds[i].bytes, seeds, random, max_len));
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("replay: {} seeds and {} mutations of each, no invariant failed ({:.2f} s)\n", seeds.size(), mutations,
             seconds);
  return 0;
}
