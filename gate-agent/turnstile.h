// The turnstile hook: on an allowed, timely decision the agent runs a
// configured command (e.g. a GPIO pulse script). Commands run one at a time
// on a separate thread so a slow relay never delays the next decision; a
// command still running after 5 seconds is killed.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace cordon::gate {

class Turnstile {
 public:
  // An empty command disables the hook.
  explicit Turnstile(std::string command);
  ~Turnstile();
  Turnstile(const Turnstile&) = delete;
  Turnstile& operator=(const Turnstile&) = delete;

  // Environment for the command: CORDON_GATE, CORDON_SEQ, CORDON_DIRECTION,
  // CORDON_REASON.
  void Open(std::map<std::string, std::string> env);

 private:
  void Run();

  const std::string command_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::map<std::string, std::string>> queue_;  // guarded by mu_
  bool stopping_ = false;                                 // guarded by mu_
  std::thread thread_;
};

}  // namespace cordon::gate
