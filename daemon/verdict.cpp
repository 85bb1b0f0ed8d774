#include "daemon/verdict.hpp"

namespace kiln::daemon {

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::pass: return "pass";
    case Verdict::marginal: return "marginal";
    case Verdict::inconclusive: return "inconclusive";
    case Verdict::error: return "error";
    case Verdict::fail: return "fail";
  }
  return "error";
}

std::optional<Verdict> parse_verdict(std::string_view text) {
  for (auto v : {Verdict::pass, Verdict::marginal, Verdict::inconclusive, Verdict::error, Verdict::fail}) {
    if (text == to_string(v)) return v;
  }
  return std::nullopt;
}

Verdict worst(Verdict a, Verdict b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

}  // namespace kiln::daemon
