#pragma once
// Reads a StepSpec's params, which arrive as canonical text (integers
// "8192", numbers "0.9", booleans "true"/"false", choices as the word, sizes
// as byte counts). The daemon fills in every param, but the agent trusts no
// peer: a missing or malformed param is an error whose message becomes the
// step's note.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "device/chip.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

class StepParams {
 public:
  explicit StepParams(const google::protobuf::Map<std::string, std::string>& params) : params_(params) {}

  Result<std::int64_t> integer(std::string_view name, std::int64_t min, std::int64_t max) const;
  Result<double> number(std::string_view name, double min, double max) const;
  Result<bool> boolean(std::string_view name) const;
  Result<std::string> choice(std::string_view name, std::initializer_list<std::string_view> choices) const;
  // A number_list ("700,750,800"); every element within [min, max], at least one.
  Result<std::vector<double>> numbers(std::string_view name, double min, double max) const;

 private:
  Result<std::string> text(std::string_view name) const;

  const google::protobuf::Map<std::string, std::string>& params_;
};

enum class Verify { none, abft, golden, vote };
const char* to_string(Verify verify);

// The gemm pattern's params (testplans' registry: dtype, m, n, k, verify, data).
struct GemmSettings {
  device::GemmWork work;
  Verify verify = Verify::abft;
};
Result<GemmSettings> parse_gemm_settings(const StepParams& params);

}  // namespace kiln::agent
