#include "fuzz/fuzz_support.hpp"

#include <cstdio>
#include <cstdlib>

namespace kiln::fuzz {
namespace {
FailureHook failure_hook = nullptr;
}  // namespace

void set_failure_hook(FailureHook hook) { failure_hook = hook; }

void fail(const char* file, int line, std::string_view what) {
  std::fprintf(stderr, "%s:%d: invariant failed: %.*s\n", file, line, static_cast<int>(what.size()), what.data());
  if (failure_hook != nullptr) failure_hook();
  std::fflush(stderr);
  std::abort();
}

Chunker::Chunker(InputReader& input) {
  count_ = input.byte() % 16;
  for (std::size_t i = 0; i < count_; ++i) sizes_[i] = input.byte();
}

std::size_t Chunker::next_size(std::size_t remaining) {
  if (count_ == 0) return remaining;
  const std::size_t size = std::size_t{sizes_[next_]} + 1;
  next_ = (next_ + 1) % count_;
  return size < remaining ? size : remaining;
}

}  // namespace kiln::fuzz
