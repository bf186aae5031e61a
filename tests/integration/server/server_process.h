// A real `faceweave serve` child process for the API tests: started on a free port (--port 0), its address
// read from its first line of output, stopped with SIGTERM (or killed with SIGKILL to simulate a crash).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace faceweave::testing {

class ServerProcess {
 public:
  // Starts the server; started() says whether it is listening (else exit_code() says how it ended).
  // `telemetry` is the server's consent level (off: it never creates the events database).
  ServerProcess(const std::string& data_dir, std::vector<std::string> extra, const std::string& log_path,
                const std::string& telemetry = "all")
      : log_path_(log_path) {
    std::vector<std::string> args = {binary(),  "--data-dir", data_dir, "--telemetry",
                                     telemetry, "serve",      "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::error_code ec;
    std::filesystem::remove(log_path, ec);  // an earlier server's address must not be read as this one's
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const std::regex listening("serving on http://127\\.0\\.0\\.1:([0-9]+)/");
    for (int i = 0; i < 1200; ++i) {  // model loading takes a few seconds; give it 60
      std::smatch m;
      const std::string out = log();
      if (std::regex_search(out, m, listening)) {
        port_ = std::stoi(m[1]);
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ServerProcess() { stop(); }

  bool started() const { return port_ > 0; }
  int port() const { return port_; }
  int exit_code() const { return exit_code_; }
  std::string log() const { return read_all(log_path_); }

  // SIGTERM and wait (a clean stop: running jobs are queued again, telemetry is committed).
  int stop() {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 600; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return exit_code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill9();
    return -1;
  }
  // SIGTERM without waiting (the server drains: tests watch it while it does).
  void terminate() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }
  // A crash: nothing is cleaned up.
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
};

}  // namespace faceweave::testing
