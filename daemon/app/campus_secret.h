// The campus secret keys the credential hashes. It is created once, with 32
// random bytes, in the data directory (mode 0600); losing it makes every
// stored credential unmatchable, so it belongs in the backups.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace cordon::app {

absl::StatusOr<std::string> LoadOrCreateCampusSecret(const std::string& path);

}  // namespace cordon::app
