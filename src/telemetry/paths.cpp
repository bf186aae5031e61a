#include "telemetry/paths.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "faceweave/telemetry.h"

namespace faceweave {

std::string resolve_data_dir(std::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  if (const char* env = std::getenv("FACEWEAVE_DATA_DIR"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg && xdg[0] == '/')
    return (std::filesystem::path(xdg) / "faceweave").string();
  std::string home;
  if (const char* h = std::getenv("HOME"); h && *h) {
    home = h;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) {
    home = pw->pw_dir;
  } else {
    home = "/tmp";
  }
  return (std::filesystem::path(home) / ".local" / "share" / "faceweave").string();
}

namespace telemetry {

Paths telemetry_paths(const std::string& data_dir) {
  namespace fs = std::filesystem;
  Paths p;
  p.data_dir = data_dir;
  p.dir = (fs::path(data_dir) / "telemetry").string();
  p.database = (fs::path(p.dir) / "events.db").string();
  p.secret = (fs::path(p.dir) / "pseudonym.key").string();
  p.session = (fs::path(p.dir) / "session").string();
  p.notice = (fs::path(p.dir) / "notice-shown").string();
  p.archive_dir = (fs::path(p.dir) / "archive").string();
  return p;
}

namespace {
Status errno_status(const std::string& what, const std::string& path, int err) {
  std::string m = what + " " + path + ": " + std::strerror(err);
  if (err == EACCES || err == EPERM || err == EROFS)
    return permission_denied(m + " (choose another folder with --data-dir or FACEWEAVE_DATA_DIR)");
  return io_error(m);
}
}  // namespace

Status make_private_dirs(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  fs::path built;
  for (const auto& part : p) {
    built /= part;
    if (built.empty() || built == built.root_path()) continue;
    if (::mkdir(built.c_str(), 0700) == 0) continue;
    int err = errno;
    if (err != EEXIST) return errno_status("cannot create the folder", built.string(), err);
    struct stat st {};
    if (::stat(built.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return io_error("cannot create the folder " + built.string() + ": a file of that name is in the way");
  }
  // The folder itself is owner-only even when it existed with a wider mode (parents keep theirs).
  if (::chmod(path.c_str(), 0700) != 0) return errno_status("cannot make private the folder", path, errno);
  return Status::ok();
}

Status write_file_atomic(const std::string& path, std::string_view bytes, unsigned mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return errno_status("cannot write", tmp, errno);
  // The umask may have narrowed the mode; a secret must never be wider than asked, and never narrower
  // than the owner needs.
  ::fchmod(fd, mode);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return errno_status("cannot write", tmp, err);
    }
    done += size_t(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errno_status("cannot replace", path, err);
  }
  return Status::ok();
}

Result<std::string> read_small_file(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return not_found(path + " does not exist");
    return errno_status("cannot read", path, err);
  }
  std::string out(max_bytes, '\0');
  size_t got = 0;
  while (got < max_bytes) {
    ssize_t n = ::read(fd, out.data() + got, max_bytes - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += size_t(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace telemetry
}  // namespace faceweave
