#include "device/number_format.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace kiln::device {

std::uint32_t float_bits(float x) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

float float_from_bits(std::uint32_t bits) {
  float x = 0;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

float flip_bit(float x, int bit) { return float_from_bits(float_bits(x) ^ (std::uint32_t{1} << bit)); }

int mantissa_bits(DType dtype) {
  switch (dtype) {
    case DType::fp32: return 23;
    case DType::bf16: return 7;
    case DType::fp16: return 10;
    case DType::fp8: return 3;
  }
  return 23;
}

namespace {

struct Format {
  int mantissa_bits;
  int min_exponent;  // exponent of the smallest normal number
  float max_finite;
  bool saturates;  // e4m3 has no infinity: clamp instead
};

// Rounds a finite, non-negative normal fp32 magnitude to `mbits` mantissa
// bits by integer arithmetic on its pattern: add just under half an ulp of
// the target, plus the kept lowest bit (ties to even), then truncate. A
// carry out of the mantissa correctly bumps the exponent.
float round_normal(float magnitude, int mbits) {
  const int drop = 23 - mbits;
  std::uint32_t u = float_bits(magnitude);
  u += (std::uint32_t{1} << (drop - 1)) - 1 + ((u >> drop) & 1);
  u &= ~((std::uint32_t{1} << drop) - 1);
  return float_from_bits(u);
}

// Below the target's smallest normal the grid is uniform with step
// q = 2^(min_exponent - mbits). magnitude / q is exact (a power-of-two
// scaling of a value far from fp32's limits) and below 2^mbits, so its
// fraction is exact too and the tie test needs no rounding mode.
float round_subnormal(float magnitude, const Format& format) {
  const float q = std::ldexp(1.0f, format.min_exponent - format.mantissa_bits);
  const float t = magnitude / q;
  float whole = std::floor(t);
  const float fraction = t - whole;
  if (fraction > 0.5f || (fraction == 0.5f && std::fmod(whole, 2.0f) == 1.0f)) whole += 1.0f;
  return whole * q;
}

float round_to_format(float x, const Format& format) {
  if (std::isnan(x)) return x;
  const float magnitude = std::fabs(x);
  if (magnitude == 0.0f) return x;
  float r = 0;
  if (std::isinf(magnitude)) {
    r = magnitude;
  } else if (magnitude >= std::ldexp(1.0f, format.min_exponent)) {
    r = round_normal(magnitude, format.mantissa_bits);
  } else {
    r = round_subnormal(magnitude, format);
  }
  if (r > format.max_finite) {
    r = format.saturates ? format.max_finite : std::numeric_limits<float>::infinity();
  }
  return std::copysign(r, x);
}

constexpr Format kFp16{10, -14, 65504.0f, false};
constexpr Format kFp8E4m3{3, -6, 448.0f, true};

}  // namespace

void round_to_dtype(std::span<float> values, DType dtype) {
  switch (dtype) {
    case DType::fp32: return;
    case DType::bf16:
      for (float& x : values) x = round_to_dtype(x, DType::bf16);
      return;
    case DType::fp16:
      for (float& x : values) x = round_to_format(x, kFp16);
      return;
    case DType::fp8:
      for (float& x : values) x = round_to_format(x, kFp8E4m3);
      return;
  }
}

float round_to_dtype(float x, DType dtype) {
  switch (dtype) {
    case DType::fp32: return x;
    case DType::bf16: {
      // bf16 shares fp32's exponent range: only the mantissa is cut, and
      // overflow to infinity falls out of the same integer carry.
      if (std::isnan(x)) return x;
      const std::uint32_t sign = float_bits(x) & 0x80000000u;
      return float_from_bits(sign | float_bits(round_normal(std::fabs(x), 7)));
    }
    case DType::fp16: return round_to_format(x, kFp16);
    case DType::fp8: return round_to_format(x, kFp8E4m3);
  }
  return x;
}

}  // namespace kiln::device
