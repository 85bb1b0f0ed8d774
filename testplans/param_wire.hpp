#pragma once
// Typed params on the wire (kiln.v1.ParamValue) and back. Its own small
// library (kiln_param_wire) so that kiln_testplan keeps no protobuf
// dependency; the daemon writes with it, the agent reads with it.

#include "core/result.hpp"
#include "schema/kiln.pb.h"
#include "testplans/param_value.hpp"

namespace kiln::plan {

kiln::v1::ParamValue to_proto(const ParamValue& value);
void write_params(const ParamSet& params, google::protobuf::Map<std::string, kiln::v1::ParamValue>& out);

// A value with no case set is an error (a peer of another revision, or a bug).
Result<ParamValue> from_proto(const kiln::v1::ParamValue& value);
// Every value read; checking them against the pattern is check_params().
Result<ParamSet> read_params(const google::protobuf::Map<std::string, kiln::v1::ParamValue>& params);

}  // namespace kiln::plan
