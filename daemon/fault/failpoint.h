// Fault injection for tests: CORDON_FAILPOINT_<NAME>_DELAY_MS holds the
// daemon at a named point, so a test can observe what clients see there (a
// slow start, a slow commit, a slow welcome). Unset, it costs a getenv.
#pragma once

namespace cordon::fault {

void Failpoint(const char* name);

}  // namespace cordon::fault
