// Mergeable user-count sketches kept in the rollups (docs/analytics.md, "Distinct users"):
//
//   Hll      HyperLogLog with 2^14 one-byte registers over a 64-bit hash of the pseudonym: distinct users
//            of any union of days (merge = register-wise max, so a user in two sketches counts once),
//            estimated with Ertl's improved estimator (relative standard error 1.04 / 128 = 0.81%).
//   UserSet  the 32 smallest user hashes of a cell (k-minimum values): the exact count of distinct users
//            while a cell has fewer than 32, an estimate above; enough to decide k-anonymity (k <= 32
//            exactly) for any union of rollup rows.
//
// Both serialise to a compact byte string (stored as a BLOB; base64 in share files) and are registered as
// SQLite functions on the analytics connection (register_sketch_functions), so the fold's grouped upserts
// build and merge them in SQL:
//   ax_hll(user) -> blob (aggregate)        ax_hll_merge(a, b) -> blob
//   ax_uset(user) -> blob (aggregate)       ax_uset_merge(a, b) -> blob
//   ax_uset_union(blob) -> blob (aggregate) ax_uset_count(blob) -> real
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "faceweave/status.h"

namespace faceweave::telemetry {
class Database;
}

namespace faceweave::analytics {

// A well-mixed 64-bit hash of a pseudonym (FNV-1a, then the MurmurHash3 finaliser). The same on every
// install, so sketches from different installs merge.
uint64_t hash_user(std::string_view pseudonym);

class Hll {
 public:
  static constexpr int kPrecision = 14;
  static constexpr int kRegisters = 1 << kPrecision;
  static constexpr int kQ = 64 - kPrecision;  // register values are 0..kQ + 1
  // Relative standard error of the estimate: 1.04 / sqrt(2^14).
  static constexpr double kStandardError = 0.008125;

  Hll() : registers_(kRegisters, 0) {}
  void add_hash(uint64_t h);
  void add(std::string_view pseudonym) { add_hash(hash_user(pseudonym)); }
  void merge(const Hll& other);
  double estimate() const;
  bool empty() const;

  // 'D' + 2^14 registers, or 'S' + (index u16 LE, value u8) per non-zero register when that is shorter.
  std::string serialize() const;
  static Result<Hll> parse(std::string_view bytes);

 private:
  std::vector<uint8_t> registers_;
};

class UserSet {
 public:
  static constexpr size_t kCapacity = 32;
  void add_hash(uint64_t h);
  void add(std::string_view pseudonym) { add_hash(hash_user(pseudonym)); }
  void merge(const UserSet& other);
  // Merges a serialised set without building it: stops at the first hash that cannot enter (the bytes are
  // ascending), so unions of many full sets cost little.
  void merge_bytes(std::string_view bytes);
  // Exact below kCapacity distinct users; above, (K - 1) / (K-th smallest hash / 2^64).
  double count() const;
  bool exact() const { return hashes_.size() < kCapacity; }
  std::string serialize() const;                 // 8 bytes (LE) per hash, ascending
  static UserSet parse(std::string_view bytes);  // malformed tails are ignored

 private:
  std::vector<uint64_t> hashes_;  // ascending, distinct, at most kCapacity
};

std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);

// Registers the SQL functions above on the database's connection (idempotent).
Status register_sketch_functions(telemetry::Database& db);

}  // namespace faceweave::analytics
