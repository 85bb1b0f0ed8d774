#include "device/cpu/cpu_gemm.hpp"

#include <bit>
#include <cstring>

#include <cblas.h>
#include <omp.h>
#include <dnnl.hpp>

#include "device/number_format.hpp"
#include "device/sim_random.hpp"

namespace kiln::device {
namespace {

// Checkerboards of opposite phase in a and b, as the simulated chip's tile:
// the sign and every mantissa bit toggle between neighbouring elements.
float toggle_high(DType dtype) { return round_to_dtype(2.0f - std::ldexp(1.0f, -mantissa_bits(dtype)), dtype); }

void fill(std::vector<float>& x, std::int64_t rows, std::int64_t cols, const CpuGemmShape& shape, SimRandom& rng,
          bool first_operand) {
  switch (shape.data) {
    case DataKind::random:
      for (float& v : x) v = round_to_dtype(rng.uniform_pm1(), shape.dtype);
      break;
    case DataKind::ones: std::fill(x.begin(), x.end(), 1.0f); break;
    case DataKind::max_toggle: {
      const float high = toggle_high(shape.dtype);
      for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t c = 0; c < cols; ++c) {
          const bool even = (r + c) % 2 == 0;
          x[static_cast<std::size_t>(r * cols + c)] = even == first_operand ? high : -1.0f;
        }
      }
      break;
    }
  }
}

std::uint16_t to_bf16_bits(float x) { return static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(x) >> 16); }

}  // namespace

const char* to_string(CpuGemmLibrary library) { return library == CpuGemmLibrary::openblas ? "openblas" : "onednn"; }

struct CpuGemm::OneDnn {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul matmul;
  dnnl::memory a, b, c;
  std::vector<std::uint16_t> a_bf16, b_bf16;
};

CpuGemm::CpuGemm(const CpuGemmShape& shape, CpuGemmLibrary library) : shape_(shape), library_(library) {}
CpuGemm::~CpuGemm() = default;

Result<std::unique_ptr<CpuGemm>> CpuGemm::make(const CpuGemmShape& shape, CpuGemmLibrary library, std::uint64_t seed,
                                               int threads) {
  for (const std::int64_t side : {shape.m, shape.n, shape.k}) {
    if (side < 1 || side > kCpuGemmMaxSide) {
      return make_error(ErrorCode::invalid_argument, "GEMM side {} is outside [1, {}]", side, kCpuGemmMaxSide);
    }
  }
  if (shape.dtype != DType::fp32 && shape.dtype != DType::bf16) {
    return make_error(ErrorCode::unavailable, "dtype {} is not supported by the cpu backend (fp32, bf16)",
                      to_string(shape.dtype));
  }
  if (shape.dtype == DType::bf16 && library != CpuGemmLibrary::onednn) {
    return make_error(ErrorCode::unavailable, "bf16 GEMM needs oneDNN (Debian's OpenBLAS exports no sbgemm)");
  }
  std::unique_ptr<CpuGemm> g(new CpuGemm(shape, library));
  g->threads_ = threads;
  if (threads > 0) omp_set_num_threads(threads);  // oneDNN picks its thread count when the primitive is made, too
  const auto M = static_cast<std::size_t>(shape.m), N = static_cast<std::size_t>(shape.n),
             K = static_cast<std::size_t>(shape.k);
  g->a_.resize(M * K);
  g->b_.resize(K * N);
  g->c_.assign(M * N, 0.0f);
  SimRandom rng(seed);
  fill(g->a_, shape.m, shape.k, shape, rng, true);
  fill(g->b_, shape.k, shape.n, shape, rng, false);

  if (library == CpuGemmLibrary::onednn) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const dt in = shape.dtype == DType::bf16 ? dt::bf16 : dt::f32;
    try {
      auto dnn = std::make_unique<OneDnn>();
      const dnnl::memory::desc a_md({shape.m, shape.k}, in, tag::ab);
      const dnnl::memory::desc b_md({shape.k, shape.n}, in, tag::ab);
      const dnnl::memory::desc c_md({shape.m, shape.n}, dt::f32, tag::ab);
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), dnn->engine);
      dnn->matmul = dnnl::matmul(pd);
      if (in == dt::bf16) {
        dnn->a_bf16.resize(g->a_.size());
        dnn->b_bf16.resize(g->b_.size());
        // The fp32 copies hold bf16-rounded values, so truncation is exact.
        for (std::size_t i = 0; i < g->a_.size(); ++i) dnn->a_bf16[i] = to_bf16_bits(g->a_[i]);
        for (std::size_t i = 0; i < g->b_.size(); ++i) dnn->b_bf16[i] = to_bf16_bits(g->b_[i]);
        dnn->a = dnnl::memory(a_md, dnn->engine, dnn->a_bf16.data());
        dnn->b = dnnl::memory(b_md, dnn->engine, dnn->b_bf16.data());
      } else {
        dnn->a = dnnl::memory(a_md, dnn->engine, g->a_.data());
        dnn->b = dnnl::memory(b_md, dnn->engine, g->b_.data());
      }
      dnn->c = dnnl::memory(c_md, dnn->engine, g->c_.data());
      g->dnn_ = std::move(dnn);
    } catch (const dnnl::error& e) {
      return make_error(ErrorCode::unavailable, "oneDNN has no {} matmul for this CPU ({})", to_string(shape.dtype),
                        e.what());
    }
  }
  return g;
}

void CpuGemm::run() {
  if (dnn_) {
    if (threads_ > 0) omp_set_num_threads(threads_);
    dnn_->matmul.execute(dnn_->stream, {{DNNL_ARG_SRC, dnn_->a}, {DNNL_ARG_WEIGHTS, dnn_->b}, {DNNL_ARG_DST, dnn_->c}});
    dnn_->stream.wait();
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(shape_.m), static_cast<int>(shape_.n),
              static_cast<int>(shape_.k), 1.0f, a_.data(), static_cast<int>(shape_.k), b_.data(),
              static_cast<int>(shape_.n), 0.0f, c_.data(), static_cast<int>(shape_.n));
}

}  // namespace kiln::device
