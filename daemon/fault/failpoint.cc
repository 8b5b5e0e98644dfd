#include "daemon/fault/failpoint.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace cordon::fault {

void Failpoint(const char* name) {
  std::string var = std::string("CORDON_FAILPOINT_") + name + "_DELAY_MS";
  if (const char* ms = std::getenv(var.c_str())) {
    spdlog::warn("failpoint {}: holding for {} ms", name, ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(ms)));
  }
}

bool Fails(const char* name) {
  std::string var = std::string("CORDON_FAILPOINT_") + name + "_FAIL";
  if (std::getenv(var.c_str()) == nullptr) return false;
  spdlog::warn("failpoint {}: failing", name);
  return true;
}

}  // namespace cordon::fault
