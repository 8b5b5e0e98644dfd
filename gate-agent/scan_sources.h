// Where scan lines come from: standard input, a file (resumed after the last
// line recorded in the outbox), or TCP connections from barcode and card
// scanners that emit lines. Each source runs on its own thread and hands
// lines to the agent in batches.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gate-agent/outbox.h"

namespace cordon::gate {

struct ScanLines {
  std::string source;             // "stdin", the file path, or "tcp:PEER"
  int64_t first_line_number = 0;  // of lines[0] within the source, for error messages
  std::vector<std::string> lines;
  std::optional<InputMark> mark;  // files: the offset after the last line
};

struct ScanSink {
  std::function<void(ScanLines)> on_lines;
  std::function<void(const std::string& source)> on_end;  // EOF: the source is finished
};

class ScanSource {
 public:
  virtual ~ScanSource() = default;
  virtual void Start(ScanSink sink) = 0;
  // Stops reading (best effort for stdin) and joins the thread.
  virtual void Stop() = 0;
  // Whether this source ends on its own (stdin, file) or runs until stopped.
  virtual bool Finite() const = 0;
};

std::unique_ptr<ScanSource> StdinSource();
// Reads `path` from `start_offset`. lines_per_second > 0 paces the lines, as
// a real lane would (demo, load generation); 0 reads as fast as possible.
std::unique_ptr<ScanSource> FileSource(std::string path, int64_t start_offset,
                                       double lines_per_second);
// Accepts scanner connections on host:port; the bound port is reported.
std::unique_ptr<ScanSource> TcpSource(std::string host, uint16_t port,
                                      std::function<void(uint16_t bound_port)> on_listening);

}  // namespace cordon::gate
