// Real child processes for integration tests: cordond, cordon-gate and
// cordonctl run as the binaries users run, with their output in files.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cordon::testing {

using Deadline = std::chrono::steady_clock::time_point;
inline Deadline In(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }

// Polls `condition` until it holds or the deadline passes. Tests wait on
// conditions, never on fixed sleeps.
bool WaitFor(const std::function<bool()>& condition, Deadline deadline);

class Process {
 public:
  // Starts argv[0] with stdout and stderr redirected to the given files
  // (appended) and stdin from `stdin_path` (or /dev/null).
  Process(std::vector<std::string> argv, std::string stdout_path, std::string stderr_path,
          std::string stdin_path = "/dev/null");
  ~Process();  // SIGKILLs the process if it still runs
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // The exit code, or 128+signal; nullopt if it did not exit by the deadline.
  std::optional<int> Wait(Deadline deadline);
  bool Running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs a command to completion (60 s at most) and captures its output.
RunResult Run(const std::vector<std::string>& argv, const std::string& scratch_dir);

std::string ReadFile(const std::string& path);
// The last `n` lines of `text`, for failure messages.
std::string LastLines(const std::string& text, size_t n);
void WriteFile(const std::string& path, const std::string& text);
// A fresh directory under the test temp dir, removed by the caller if wanted.
std::string MakeTempDir(const std::string& prefix);

}  // namespace cordon::testing
