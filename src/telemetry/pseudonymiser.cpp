#include "telemetry/pseudonymiser.h"

#include <fcntl.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/log.h"
#include "telemetry/paths.h"

namespace faceweave::telemetry {
namespace {

std::string to_hex(const uint8_t* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

Result<Pseudonymiser> parse_secret(const std::string& path, const std::string& bytes) {
  if (bytes.size() != Pseudonymiser::kSecretBytes)
    return invalid_input(
        "the pseudonym secret " + path + " is damaged (" + std::to_string(bytes.size()) +
        " bytes instead of 32); delete it to start a new pseudonym (stored events keep the old "
        "one)");
  std::array<uint8_t, Pseudonymiser::kSecretBytes> secret{};
  std::memcpy(secret.data(), bytes.data(), secret.size());
  return Pseudonymiser(secret);
}

}  // namespace

Result<Pseudonymiser> Pseudonymiser::load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    // Narrowing is safe and keeps the promise of docs/privacy.md even if someone widened the mode.
    if (::chmod(path.c_str(), 0600) == 0)
      core::log_warning("telemetry: the pseudonym secret " + path +
                        " was readable by others; set it to 0600");
  }
  FW_ASSIGN_OR_RETURN(std::string bytes, read_small_file(path, 64));
  return parse_secret(path, bytes);
}

Result<Pseudonymiser> Pseudonymiser::load_or_create(const std::string& path) {
  auto existing = load(path);
  if (existing.is_ok() || existing.status().code() != StatusCode::kNotFound) return existing;

  std::array<uint8_t, kSecretBytes> secret{};
  if (RAND_bytes(secret.data(), int(secret.size())) != 1)
    return internal_error("OpenSSL could not produce random bytes for the pseudonym secret");
  // Write a complete temporary file, then link() it into place: link fails when another process won the
  // race, and then its secret (already complete) is the one everybody uses.
  std::string tmp = path + ".new." + std::to_string(::getpid()) + "." + random_hex(8);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return permission_denied("cannot create the pseudonym secret " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  bool written = ::write(fd, secret.data(), secret.size()) == ssize_t(secret.size());
  ::fsync(fd);
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return io_error("cannot write the pseudonym secret " + tmp);
  }
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0 && err != EEXIST)
    return io_error("cannot create the pseudonym secret " + path + ": " + std::strerror(err));
  if (rc != 0) return load(path);
  return Pseudonymiser(secret);
}

std::string Pseudonymiser::pseudonym(std::string_view user_id) const {
  uint8_t mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), int(secret_.size()), reinterpret_cast<const uint8_t*>(user_id.data()),
       user_id.size(), mac, &len);
  return to_hex(mac, len);
}

std::string local_user_id() {
  // A shared account (a CI runner, a kiosk) can name its person; the id is pseudonymised like a uid.
  if (const char* env = std::getenv("FACEWEAVE_TELEMETRY_USER"); env && *env)
    return std::string("user:") + env;
  return "uid:" + std::to_string(::getuid());
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), int(bytes)) != 1) {
    // Session ids need to be unique, not secret: fall back to the clock and the thread.
    uint64_t x =
        uint64_t(unix_ms()) ^ (uint64_t(std::hash<std::thread::id>{}(std::this_thread::get_id())) << 1);
    for (size_t i = 0; i < bytes; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      raw[i] = char(x);
    }
  }
  return to_hex(reinterpret_cast<const uint8_t*>(raw.data()), bytes);
}

bool is_pseudonym(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace faceweave::telemetry
