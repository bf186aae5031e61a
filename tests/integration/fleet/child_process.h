// A faceweave child process for the fleet tests (workers, an API node): its output goes to a log file; it is
// stopped with SIGTERM, or killed with SIGKILL to play a crash. `env` adds variables to its environment
// (LD_PRELOAD, ...).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_support.h"

namespace faceweave::testing {

class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> args, std::string log_path,
               std::vector<std::pair<std::string, std::string>> env = {})
      : log_path_(std::move(log_path)) {
    args.insert(args.begin(), binary());
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::setenv("FACEWEAVE_TELEMETRY", "off", 1);
      for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() { stop(); }
  std::string log() const { return read_all(log_path_); }
  // Waits (up to 60 s: models load first) until the log matches `pattern`; false when the process ended.
  bool wait_for(const std::string& pattern) {
    const std::regex re(pattern);
    for (int i = 0; i < 1200; ++i) {
      if (std::regex_search(log(), re)) return true;
      if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return std::regex_search(log(), re);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // SIGTERM, then waits up to `limit` for the process to end (SIGKILL after that).
  struct Stopped {
    bool in_time = false;  // ended on its own within the limit
    double seconds = 0;    // from the signal to its end
    int exit_code = -1;    // -1: killed by a signal
  };
  Stopped stop_within(std::chrono::milliseconds limit) {
    Stopped r;
    if (pid_ <= 0) return r;
    const auto start = std::chrono::steady_clock::now();
    ::kill(pid_, SIGTERM);
    int status = 0;
    while (!(r.in_time = ::waitpid(pid_, &status, WNOHANG) == pid_) &&
           std::chrono::steady_clock::now() - start < limit)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.in_time) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }
  bool running() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace faceweave::testing
