#include "gate-agent/turnstile.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <vector>

extern char** environ;

namespace cordon::gate {

Turnstile::Turnstile(std::string command) : command_(std::move(command)) {
  if (!command_.empty()) thread_ = std::thread([this] { Run(); });
}

Turnstile::~Turnstile() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Turnstile::Open(std::map<std::string, std::string> env) {
  if (command_.empty()) return;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(env));
  }
  wake_.notify_one();
}

void Turnstile::Run() {
  for (;;) {
    std::map<std::string, std::string> env;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every pending opening was run
      env = std::move(queue_.front());
      queue_.pop_front();
    }
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string sh = "/bin/sh", dash_c = "-c", cmd = command_;
    char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
    pid_t pid = 0;
    if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp.data()) != 0) {
      std::cerr << "cordon-gate: cannot run the turnstile command\n";
      continue;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    for (;;) {
      pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid || r < 0) break;
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        std::cerr << "cordon-gate: turnstile command took over 5 s and was killed\n";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a child process
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      std::cerr << "cordon-gate: turnstile command exited with " << WEXITSTATUS(status) << "\n";
    }
  }
}

}  // namespace cordon::gate
