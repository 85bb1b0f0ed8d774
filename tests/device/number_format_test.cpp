#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "device/number_format.hpp"

namespace kiln::device {
namespace {

TEST(NumberFormat, Fp32IsUnchanged) {
  EXPECT_EQ(round_to_dtype(0.1f, DType::fp32), 0.1f);
  EXPECT_EQ(mantissa_bits(DType::fp32), 23);
}

TEST(NumberFormat, Bf16RoundsToNearestEvenOnTheTop16Bits) {
  EXPECT_EQ(float_bits(round_to_dtype(float_from_bits(0x3F808000u), DType::bf16)), 0x3F800000u);  // tie, even stays
  EXPECT_EQ(float_bits(round_to_dtype(float_from_bits(0x3F818000u), DType::bf16)), 0x3F820000u);  // tie, odd rounds up
  EXPECT_EQ(float_bits(round_to_dtype(float_from_bits(0x3F808001u), DType::bf16)), 0x3F810000u);  // above the tie
  EXPECT_EQ(float_bits(round_to_dtype(float_from_bits(0xBF807FFFu), DType::bf16)), 0xBF800000u);  // below, negative
  EXPECT_EQ(round_to_dtype(1.0f / 3.0f, DType::bf16), 0.333984375f);
  EXPECT_TRUE(std::isinf(round_to_dtype(std::numeric_limits<float>::max(), DType::bf16)));
  EXPECT_TRUE(std::isnan(round_to_dtype(std::numeric_limits<float>::quiet_NaN(), DType::bf16)));
}

TEST(NumberFormat, Fp16HasTenMantissaBitsSubnormalsAndInfinity) {
  EXPECT_EQ(round_to_dtype(1.0f / 3.0f, DType::fp16), 0.333251953125f);
  EXPECT_EQ(round_to_dtype(1.0f + 0x1.0p-11f, DType::fp16), 1.0f);                  // tie to even
  EXPECT_EQ(round_to_dtype(1.0f + 3 * 0x1.0p-11f, DType::fp16), 1.0f + 0x1.0p-9f);  // tie to even, up
  EXPECT_EQ(round_to_dtype(65519.0f, DType::fp16), 65504.0f);
  EXPECT_TRUE(std::isinf(round_to_dtype(65520.0f, DType::fp16)));
  EXPECT_EQ(round_to_dtype(0x1.0p-24f, DType::fp16), 0x1.0p-24f);        // smallest subnormal
  EXPECT_EQ(round_to_dtype(0x1.0p-26f, DType::fp16), 0.0f);              // below half of it
  EXPECT_EQ(round_to_dtype(-3 * 0x1.0p-25f, DType::fp16), -0x1.0p-23f);  // 1.5 ulps: tie to even
}

TEST(NumberFormat, Fp8IsE4m3WithSaturation) {
  EXPECT_EQ(round_to_dtype(0.3f, DType::fp8), 0.3125f);
  EXPECT_EQ(round_to_dtype(1.0625f, DType::fp8), 1.0f);   // tie between 1.0 and 1.125: even
  EXPECT_EQ(round_to_dtype(1.1875f, DType::fp8), 1.25f);  // tie between 1.125 and 1.25: even
  EXPECT_EQ(round_to_dtype(-1.9921875f, DType::fp8), -2.0f);
  EXPECT_EQ(round_to_dtype(448.0f, DType::fp8), 448.0f);
  EXPECT_EQ(round_to_dtype(1000.0f, DType::fp8), 448.0f);
  EXPECT_EQ(round_to_dtype(-1e9f, DType::fp8), -448.0f);
  EXPECT_EQ(round_to_dtype(0x1.0p-9f, DType::fp8), 0x1.0p-9f);       // smallest subnormal
  EXPECT_EQ(round_to_dtype(3 * 0x1.0p-10f, DType::fp8), 0x1.0p-8f);  // 1.5 × it: tie to even
  EXPECT_EQ(round_to_dtype(0x1.0p-11f, DType::fp8), 0.0f);
  EXPECT_TRUE(std::signbit(round_to_dtype(-0x1.0p-11f, DType::fp8)));  // sign survives underflow
  EXPECT_EQ(round_to_dtype(0.015625f, DType::fp8), 0.015625f);         // smallest normal 2^-6
}

TEST(NumberFormat, RoundingIsIdempotentForEveryDtype) {
  for (const DType d : {DType::fp32, DType::bf16, DType::fp16, DType::fp8}) {
    for (float x = -2.0f; x < 2.0f; x += 0.0037f) {
      const float r = round_to_dtype(x, d);
      EXPECT_EQ(round_to_dtype(r, d), r) << to_string(d) << " " << x;
    }
  }
}

TEST(NumberFormat, FlipBitTogglesOneBitOfTheFp32Pattern) {
  EXPECT_EQ(flip_bit(16.0f, 22), 24.0f);
  EXPECT_EQ(flip_bit(1.0f, 31), -1.0f);
  EXPECT_EQ(flip_bit(flip_bit(0.7f, 3), 3), 0.7f);
  EXPECT_EQ(float_bits(flip_bit(0.0f, 0)), 1u);
}

}  // namespace
}  // namespace kiln::device
