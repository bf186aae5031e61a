// Permission checks that also run as root (CI containers often are): the check runs in a forked child that,
// as root, first becomes `nobody` (uid/gid 65534), for whom permission bits apply. Files the child must
// reach need to be reachable by others (TempDir folders are 0700: open them with make_reachable).
#pragma once

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

#include "test_support.h"

namespace faceweave::testing {

constexpr uid_t kNobody = 65534;

// Drops to nobody when root; false when that failed.
inline bool drop_privileges() {
  if (::geteuid() != 0) return true;
  return ::setgroups(0, nullptr) == 0 && ::setgid(kNobody) == 0 && ::setuid(kNobody) == 0 && ::geteuid() != 0;
}

// Runs `check` in a child without privileges; its return value (0..125) is the child's exit status, 126 means
// the privileges could not be dropped, -1 that the child died.
inline int run_unprivileged(const std::function<int()>& check) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!drop_privileges()) ::_exit(126);
    ::_exit(check());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A shell command run without privileges (output and standard error together).
inline CommandResult run_command_unprivileged(const std::string& command) {
  const std::string out_file = std::filesystem::temp_directory_path() /
                               ("faceweave-unprivileged-" + std::to_string(::getpid()) + ".out");
  CommandResult r;
  r.code = run_unprivileged([&] {
    const std::string line = command + " >" + out_file + " 2>&1";
    const int status = std::system(line.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
  });
  r.out = read_all(out_file);
  std::error_code ec;
  std::filesystem::remove(out_file, ec);
  return r;
}

// Lets others into `dir` (mode 0755), so the unprivileged child reaches what is inside.
inline void make_reachable(const std::string& dir) {
  ::chmod(dir.c_str(), 0755);
}

}  // namespace faceweave::testing
