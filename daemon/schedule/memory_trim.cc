#include "daemon/schedule/memory_trim.h"

#include <malloc.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cstdio>
#include <spdlog/spdlog.h>

namespace cordon::schedule {
namespace {

// Resident set size in MiB (second field of /proc/self/statm, in pages).
double ResidentMiB() {
  long size = 0, pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &size, &pages) != 2) pages = 0;
    std::fclose(f);
  }
  return static_cast<double>(pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

}  // namespace

MemoryTrim::MemoryTrim(boost::asio::io_context& io, std::chrono::milliseconds quiet)
    : quiet_(quiet), strand_(boost::asio::make_strand(io)), timer_(strand_) {}

void MemoryTrim::Changed() {
  if (stopped_) return;
  boost::asio::post(strand_, [this] {
    if (stopped_) return;
    timer_.expires_after(quiet_);  // cancels a wait already armed
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopped_) Trim();
    });
  });
}

void MemoryTrim::Stop() {
  stopped_ = true;
  boost::asio::post(strand_, [this] { timer_.cancel(); });
}

void MemoryTrim::Trim() {
  const double before = ResidentMiB();
  const auto started = std::chrono::steady_clock::now();
  malloc_trim(0);
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  const double after = ResidentMiB();
  spdlog::info("memory: freed heap returned to the system after a policy change: RSS {:.0f} MB "
               "-> {:.0f} MB in {:.1f} ms",
               before, after, static_cast<double>(took.count()) / 1000);
}

}  // namespace cordon::schedule
