#pragma once
// A run report as JUnit XML, for CI systems (Jenkins, GitLab, GitHub
// Actions reporters): one <testsuite> per chip (properties: rack, slot, sku,
// verdict), one <testcase> per step (named by its label, `gemm-bf16 #2`):
//   fail          <failure type="CLASS"> per failure of that step, with its
//                 location, conditions, count and detail;
//   error         <error> with the step's reason (the agent was lost, …);
//   inconclusive  <skipped> with the reason nothing could judge it;
//   marginal      passes, its reason in <system-out>.
// The suites carry the run's plan, seed and reproduce line as properties.
// Rendered from the JSON report (DESIGN §6).

#include <string>

#include "core/result.hpp"

namespace kiln::reports {

Result<std::string> render_report_junit(const std::string& report_json);

// `text` escaped for XML 1.0 character data and attribute values; characters
// XML 1.0 cannot carry (most control characters) become U+FFFD.
std::string xml_escape(const std::string& text);

}  // namespace kiln::reports
