// reports/ links schema/ (kiln_store): its headers are visible.
#include "reports/queries.hpp"
#include "schema/store.hpp"
