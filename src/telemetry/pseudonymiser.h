// The user is stored only as HMAC-SHA256(per-install secret, local user id), hex-encoded. The 32-byte secret
// is made once per data dir from OpenSSL's CSPRNG and kept in its own file, mode 0600, never in the events
// database: a copy of the database alone cannot be linked back to a user id, and erasing the secret unlinks
// every stored pseudonym from its user for good.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "faceweave/status.h"

namespace faceweave::telemetry {

class Pseudonymiser {
 public:
  static constexpr size_t kSecretBytes = 32;

  // Reads the secret, or creates it (mode 0600) when the file does not exist. Two processes starting at
  // once agree on one secret. A secret file readable by others is narrowed to 0600 (and logged).
  static Result<Pseudonymiser> load_or_create(const std::string& path);
  // Reads an existing secret; NotFound when there is none. Creates nothing.
  static Result<Pseudonymiser> load(const std::string& path);

  explicit Pseudonymiser(const std::array<uint8_t, kSecretBytes>& secret) : secret_(secret) {}

  // 64 lower-case hex digits; the same id always gives the same pseudonym under one secret.
  std::string pseudonym(std::string_view user_id) const;

 private:
  std::array<uint8_t, kSecretBytes> secret_{};
};

// The local user as the raw id to pseudonymise: "user:<FACEWEAVE_TELEMETRY_USER>" when that is set, else
// the OS user, "uid:<n>".
std::string local_user_id();
// `bytes` bytes from OpenSSL's CSPRNG as lower-case hex.
std::string random_hex(size_t bytes);
// Whether `s` looks like a pseudonym (64 lower-case hex digits).
bool is_pseudonym(std::string_view s);

}  // namespace faceweave::telemetry
