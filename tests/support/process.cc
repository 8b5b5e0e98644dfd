#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cordon::testing {

bool WaitFor(const std::function<bool()>& condition, Deadline deadline) {
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval, not a wait
  }
}

Process::Process(std::vector<std::string> argv, std::string stdout_path, std::string stderr_path,
                 std::string stdin_path) {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int in = open(stdin_path.c_str(), O_RDONLY);
    int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() {
  if (Running()) {
    kill(pid_, SIGKILL);
    Wait(In(std::chrono::seconds(10)));
  }
}

void Process::Signal(int sig) {
  if (!status_) kill(pid_, sig);
}

bool Process::Running() {
  if (status_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

std::optional<int> Process::Wait(Deadline deadline) {
  WaitFor([&] { return !Running(); }, deadline);
  return status_;
}

RunResult Run(const std::vector<std::string>& argv, const std::string& scratch_dir) {
  static std::atomic<int> counter{0};
  std::string base = scratch_dir + "/run" + std::to_string(counter++);
  {
    Process p(argv, base + ".out", base + ".err");
    RunResult r;
    auto code = p.Wait(In(std::chrono::seconds(60)));
    r.exit_code = code.value_or(-1);
    r.out = ReadFile(base + ".out");
    r.err = ReadFile(base + ".err");
    return r;
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string LastLines(const std::string& text, size_t n) {
  size_t at = text.size();
  // Skip a final newline, then walk back n line breaks.
  if (at > 0 && text[at - 1] == '\n') --at;
  while (n > 0 && at > 0) {
    at = text.rfind('\n', at - 1);
    if (at == std::string::npos) return text;
    --n;
  }
  return n > 0 ? text : text.substr(at + 1);
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string MakeTempDir(const std::string& prefix) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace cordon::testing
