#pragma once
// One line of progress for a run, from `kiln run show --json`'s document:
// "run 3 smoke  phase 1/2 gemm-bf16  [######----] 27s/60s  failing: TRN-0205".

#include <string>

namespace kiln::cli {

std::string progress_line(const std::string& run_json);
// True once the run's status is completed, aborted or error.
bool run_finished(const std::string& run_json, std::string* status = nullptr);

}  // namespace kiln::cli
