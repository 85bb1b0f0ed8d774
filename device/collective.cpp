#include "device/collective.hpp"

namespace kiln::device {

const char* to_string(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::allreduce: return "allreduce";
    case CollectiveOp::allgather: return "allgather";
    case CollectiveOp::reduce_scatter: return "reduce_scatter";
    case CollectiveOp::alltoall: return "alltoall";
    case CollectiveOp::sendrecv: return "sendrecv";
  }
  return "?";
}

std::optional<CollectiveOp> parse_collective_op(std::string_view text) {
  for (const auto op : {CollectiveOp::allreduce, CollectiveOp::allgather, CollectiveOp::reduce_scatter,
                        CollectiveOp::alltoall, CollectiveOp::sendrecv}) {
    if (text == to_string(op)) return op;
  }
  return std::nullopt;
}

double busbw_factor(CollectiveOp op, int ranks) {
  const double n = ranks;
  switch (op) {
    case CollectiveOp::allreduce: return 2.0 * (n - 1) / n;
    case CollectiveOp::allgather:
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::alltoall: return (n - 1) / n;
    case CollectiveOp::sendrecv: return 1.0;
  }
  return 1.0;
}

}  // namespace kiln::device
