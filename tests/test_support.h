// Paths and helpers shared by the tests. Test data is read from ../shared/testdata, never copied.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace faceweave::testing {

inline std::string testdata(const std::string& rel) {
  return (std::filesystem::path(FACEWEAVE_TESTDATA_DIR) / rel).string();
}
inline std::string image(const std::string& name) {
  return testdata("images/" + name);
}
inline std::string manifest_path() {
  return FACEWEAVE_MANIFEST_PATH;
}
inline std::string models_dir() {
  const char* env = std::getenv("FACEWEAVE_MODELS_DIR");
  return env && *env ? env : FACEWEAVE_MODELS_DIR_DEFAULT;
}
inline std::string binary() {
  return FACEWEAVE_BINARY;
}

// A fresh temporary directory removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "faceweave-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

struct CommandResult {
  int code = -1;    // exit status; -1 when the command could not run or was killed
  std::string out;  // its standard output (append " 2>&1" to the command to get standard error too)
};

// Runs a shell command line and collects its output and exit status.
inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace faceweave::testing
