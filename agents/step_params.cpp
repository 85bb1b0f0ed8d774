#include "agents/step_params.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

#include "testplans/param_text.hpp"

namespace kiln::agent {

Result<std::string> StepParams::text(std::string_view name) const {
  const auto it = params_.find(std::string(name));
  if (it == params_.end()) return make_error(ErrorCode::invalid_argument, "param {} is missing", name);
  return it->second;
}

Result<std::int64_t> StepParams::integer(std::string_view name, std::int64_t min, std::int64_t max) const {
  auto raw = text(name);
  if (!raw) return raw.error();
  std::int64_t value = 0;
  const std::string& s = *raw;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    return make_error(ErrorCode::invalid_argument, "param {}: '{}' is not an integer", name, s);
  }
  if (value < min || value > max) {
    return make_error(ErrorCode::invalid_argument, "param {}: {} is outside [{}, {}]", name, value, min, max);
  }
  return value;
}

Result<double> StepParams::number(std::string_view name, double min, double max) const {
  auto raw = text(name);
  if (!raw) return raw.error();
  double value = 0;
  const std::string& s = *raw;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(value)) {
    return make_error(ErrorCode::invalid_argument, "param {}: '{}' is not a number", name, s);
  }
  if (value < min || value > max) {
    return make_error(ErrorCode::invalid_argument, "param {}: {} is outside [{}, {}]", name, value, min, max);
  }
  return value;
}

Result<bool> StepParams::boolean(std::string_view name) const {
  auto raw = text(name);
  if (!raw) return raw.error();
  if (*raw == "true") return true;
  if (*raw == "false") return false;
  return make_error(ErrorCode::invalid_argument, "param {}: '{}' is not true or false", name, *raw);
}

Result<std::string> StepParams::choice(std::string_view name, std::initializer_list<std::string_view> choices) const {
  auto raw = text(name);
  if (!raw) return raw.error();
  for (std::string_view c : choices) {
    if (*raw == c) return std::move(raw).value();
  }
  return make_error(ErrorCode::invalid_argument, "param {}: '{}' is not one of {}", name, *raw,
                    fmt::join(choices, ", "));
}

Result<std::vector<double>> StepParams::numbers(std::string_view name, double min, double max) const {
  auto raw = text(name);
  if (!raw) return raw.error();
  auto values = plan::parse_number_list_text(*raw);
  if (!values || values->empty()) {
    return make_error(ErrorCode::invalid_argument, "param {}: '{}' is not a list of numbers", name, *raw);
  }
  for (double v : *values) {
    if (!std::isfinite(v) || v < min || v > max) {
      return make_error(ErrorCode::invalid_argument, "param {}: {} is outside [{}, {}]", name, v, min, max);
    }
  }
  return std::move(values).value();
}

const char* to_string(Verify verify) {
  switch (verify) {
    case Verify::none: return "none";
    case Verify::abft: return "abft";
    case Verify::golden: return "golden";
    case Verify::vote: return "vote";
  }
  return "?";
}

Result<GemmSettings> parse_gemm_settings(const StepParams& params) {
  GemmSettings out;
  auto dtype = params.choice("dtype", {"fp32", "bf16", "fp16", "fp8"});
  if (!dtype) return dtype.error();
  if (*dtype == "fp32") out.work.dtype = device::DType::fp32;
  else if (*dtype == "bf16") out.work.dtype = device::DType::bf16;
  else if (*dtype == "fp16") out.work.dtype = device::DType::fp16;
  else out.work.dtype = device::DType::fp8;

  // Shapes beyond 2^20 per side are not GEMMs a chip's memory holds.
  constexpr std::int64_t kMaxSide = std::int64_t{1} << 20;
  for (auto [name, field] : {std::pair{"m", &out.work.m}, std::pair{"n", &out.work.n}, std::pair{"k", &out.work.k}}) {
    auto v = params.integer(name, 1, kMaxSide);
    if (!v) return v.error();
    *field = *v;
  }

  auto verify = params.choice("verify", {"abft", "golden", "vote", "none"});
  if (!verify) return verify.error();
  if (*verify == "abft") out.verify = Verify::abft;
  else if (*verify == "golden") out.verify = Verify::golden;
  else if (*verify == "vote") out.verify = Verify::vote;
  else out.verify = Verify::none;

  auto data = params.choice("data", {"random", "ones", "max_toggle"});
  if (!data) return data.error();
  if (*data == "random") out.work.data = device::DataKind::random;
  else if (*data == "ones") out.work.data = device::DataKind::ones;
  else out.work.data = device::DataKind::max_toggle;

  out.work.functional = out.verify != Verify::none;
  return out;
}

}  // namespace kiln::agent
