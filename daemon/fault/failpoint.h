// Fault injection for tests: CORDON_FAILPOINT_<NAME>_DELAY_MS holds the
// daemon at a named point, so a test can observe what clients see there (a
// slow start, a slow commit, a slow welcome); CORDON_FAILPOINT_<NAME>_FAIL
// makes a named operation fail (a disk that lost a write). Unset, each costs
// a getenv.
#pragma once

namespace cordon::fault {

void Failpoint(const char* name);
// True when CORDON_FAILPOINT_<NAME>_FAIL is set: the caller fails as the
// real operation would.
bool Fails(const char* name);

}  // namespace cordon::fault
