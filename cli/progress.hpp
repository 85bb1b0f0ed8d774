#pragma once
// One line of progress for a run, from its typed RunProgress (Query RUN,
// answer TYPED): "run 3 smoke  phase 1/2 gemm-bf16  [######----] 27s/60s
// failing: TRN-0205".

#include <string>

#include "schema/kiln.pb.h"

namespace kiln::cli {

std::string progress_line(const kiln::v1::RunProgress& run);
// True once the run's status is completed, aborted or error.
bool run_finished(const kiln::v1::RunProgress& run);

}  // namespace kiln::cli
