// Gives freed heap memory back to the system after a policy change.
//
// Each change builds a new snapshot of the whole roster and a new gate copy,
// and frees the old ones. glibc keeps freed pages inside its arenas unless
// they sit at the top of the heap: after importing 100,000 people into a
// store with a year of history, cordond held 271 MB, of which malloc_trim
// returned 132 MB. Trimming walks the arenas' free lists under their locks,
// so it runs once changes stop (`quiet` after the last), not on every one.
#pragma once

#include <atomic>
#include <chrono>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace cordon::schedule {

class MemoryTrim {
 public:
  MemoryTrim(boost::asio::io_context& io, std::chrono::milliseconds quiet);
  // Any thread: trim `quiet` after the last call.
  void Changed();
  void Stop();

 private:
  void Trim();

  const std::chrono::milliseconds quiet_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;  // used on strand_ only
  std::atomic<bool> stopped_{false};
};

}  // namespace cordon::schedule
