#include "testplans/param_wire.hpp"

namespace kiln::plan {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// Spelled out for clang 14, which does not deduce an aggregate's arguments (P1816).
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

kiln::v1::ParamValue to_proto(const ParamValue& value) {
  kiln::v1::ParamValue out;
  std::visit(Overloaded{[&](const ChoiceValue& v) { out.set_choice(v.value); },
                        [&](std::int64_t v) { out.set_integer(v); }, [&](double v) { out.set_number(v); },
                        [&](bool v) { out.set_boolean(v); }, [&](const SizeBytes& v) { out.set_size_bytes(v.bytes); },
                        [&](const DurationSeconds& v) { out.set_duration_s(v.seconds); },
                        // The list is set even when empty: an empty list is
                        // still a list (the peer judges it), not a value without a type.
                        [&](const std::vector<std::uint64_t>& v) {
                          auto* list = out.mutable_size_list();
                          for (const auto b : v) list->add_bytes(b);
                        },
                        [&](const std::vector<double>& v) {
                          auto* list = out.mutable_number_list();
                          for (const auto d : v) list->add_values(d);
                        }},
             value);
  return out;
}

void write_params(const ParamSet& params, google::protobuf::Map<std::string, kiln::v1::ParamValue>& out) {
  for (const auto& [name, value] : params.all()) out[name] = to_proto(value);
}

Result<ParamValue> from_proto(const kiln::v1::ParamValue& value) {
  using V = kiln::v1::ParamValue;
  switch (value.value_case()) {
    case V::kChoice: return ParamValue(ChoiceValue{value.choice()});
    case V::kInteger: return ParamValue(static_cast<std::int64_t>(value.integer()));
    case V::kNumber: return ParamValue(value.number());
    case V::kBoolean: return ParamValue(value.boolean());
    case V::kSizeBytes: return ParamValue(SizeBytes{value.size_bytes()});
    case V::kDurationS: return ParamValue(DurationSeconds{value.duration_s()});
    case V::kSizeList:
      return ParamValue(std::vector<std::uint64_t>(value.size_list().bytes().begin(), value.size_list().bytes().end()));
    case V::kNumberList:
      return ParamValue(std::vector<double>(value.number_list().values().begin(), value.number_list().values().end()));
    case V::VALUE_NOT_SET: break;
  }
  return make_error(ErrorCode::invalid_argument, "the value has no type");
}

Result<ParamSet> read_params(const google::protobuf::Map<std::string, kiln::v1::ParamValue>& params) {
  ParamSet out;
  for (const auto& [name, value] : params) {
    auto typed = from_proto(value);
    if (!typed) return make_error(ErrorCode::invalid_argument, "param {}: {}", name, typed.error().message);
    out.set(name, std::move(typed).value());
  }
  return out;
}

}  // namespace kiln::plan
