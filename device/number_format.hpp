#pragma once
// Rounding fp32 values to the precision of a GEMM's input dtype, so that a
// simulated chip's verification tile holds exactly the numbers a real chip
// would multiply. Every function is exact and portable: no dependence on the
// FPU's rounding mode.

#include <cstdint>
#include <span>

#include "device/sku.hpp"

namespace kiln::device {

// Explicit mantissa bits of the dtype (fp32 23, bf16 7, fp16 10, fp8 e4m3 3).
int mantissa_bits(DType dtype);

// Round-to-nearest-even to the dtype:
//  - fp32: unchanged;
//  - bf16: the top 16 bits of the fp32 pattern;
//  - fp16: IEEE binary16 (subnormals kept, beyond 65504 rounds to infinity);
//  - fp8:  OCP e4m3 (bias 7, subnormals kept, saturates at ±448, no infinity).
// The result is returned as the fp32 value it represents. NaN stays NaN.
float round_to_dtype(float x, DType dtype);
// The same for every element, in place (the dtype dispatch hoisted out of the loop).
void round_to_dtype(std::span<float> values, DType dtype);

std::uint32_t float_bits(float x);
float float_from_bits(std::uint32_t bits);
// Flips bit `bit` (0 = lowest mantissa bit, 31 = sign) of x's fp32 pattern.
float flip_bit(float x, int bit);

}  // namespace kiln::device
