#pragma once
// One GEMM shape on the host CPU, run as often as asked: the inputs are made
// once (seeded, rounded to the dtype), then each run() is one library call
// writing C. fp32 goes through OpenBLAS (cblas_sgemm), bf16 through oneDNN's
// matmul (bf16 inputs, fp32 accumulation and output); oneDNN can also run
// fp32 (the benchmark compares both). Single-threaded use: one per chip.

#include <cstdint>
#include <memory>
#include <vector>

#include "core/result.hpp"
#include "device/chip.hpp"

namespace kiln::device {

enum class CpuGemmLibrary { openblas, onednn };
const char* to_string(CpuGemmLibrary library);

struct CpuGemmShape {
  DType dtype = DType::fp32;
  std::int64_t m = 1024, n = 1024, k = 1024;
  DataKind data = DataKind::random;
};

// Largest side accepted: three 16384² fp32 matrices are 3 GiB.
inline constexpr std::int64_t kCpuGemmMaxSide = 16384;

class CpuGemm {
 public:
  // unavailable: the dtype (fp16, fp8; bf16 where oneDNN has no kernel
  // for this CPU) or library cannot run it; invalid_argument: a bad shape.
  // threads: oneDNN's OpenMP threads for this GEMM, set on the calling
  // thread before each run (0: the library's default). OpenBLAS keeps one
  // pool per process and ignores it.
  static Result<std::unique_ptr<CpuGemm>> make(const CpuGemmShape& shape, CpuGemmLibrary library, std::uint64_t seed,
                                               int threads = 0);
  ~CpuGemm();
  CpuGemm(const CpuGemm&) = delete;
  CpuGemm& operator=(const CpuGemm&) = delete;

  void run();  // C = A·B

  const CpuGemmShape& shape() const { return shape_; }
  CpuGemmLibrary library() const { return library_; }
  double flops() const {
    return 2.0 * static_cast<double>(shape_.m) * static_cast<double>(shape_.n) * static_cast<double>(shape_.k);
  }
  // The inputs as the GEMM sees them (bf16 values widened to fp32), and C.
  const float* a() const { return a_.data(); }
  const float* b() const { return b_.data(); }
  const float* c() const { return c_.data(); }
  float* mutable_c() { return c_.data(); }  // tests plant corruption here

 private:
  struct OneDnn;
  CpuGemm(const CpuGemmShape& shape, CpuGemmLibrary library);

  CpuGemmShape shape_;
  CpuGemmLibrary library_;
  int threads_ = 0;
  std::vector<float> a_, b_, c_;
  std::unique_ptr<OneDnn> dnn_;
};

}  // namespace kiln::device
