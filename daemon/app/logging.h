// cordond's logs: readable lines on stderr by default, JSON lines with
// log.format: json. Per-scan happenings are counted in metrics, not logged.
#pragma once

#include "daemon/app/config.h"

namespace cordon::app {

// Sets the level and format; creates the logger on first use. SIGHUP calls
// it again with the reloaded config.
void ConfigureLogging(const DaemonConfig& config);

}  // namespace cordon::app
