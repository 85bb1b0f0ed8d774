// reports/ does not link daemon/: its headers must not be visible.
#include "daemon/judge.hpp"
