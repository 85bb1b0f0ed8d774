#pragma once
// A reading request (kiln.v1.Query) answered from a database: the one
// dispatch that kilnd and `kiln … --db FILE` share, so that both give the
// same bytes. RACKS is not answered here: only a running daemon knows its
// agents, as only it knows a live run's progress (it adds both at its edge).

#include "core/result.hpp"
#include "schema/kiln.pb.h"
#include "schema/store.hpp"

namespace kiln::reports {

inline constexpr const char* kJsonContent = "application/json";
inline constexpr const char* kCsvContent = "text/csv";

// answer TEXT: body and content_type; answer TYPED: the typed message for
// the kinds that have one (RUN, TELEMETRY, ROLLUPS), else invalid_argument. Errors of
// the store (not_found for an unknown run or serial) come back as they are.
Result<kiln::v1::QueryReply> answer_query(store::Reader& reader, const kiln::v1::Query& query);

}  // namespace kiln::reports
