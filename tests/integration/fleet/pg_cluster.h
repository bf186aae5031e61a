// A real PostgreSQL 15 for the fleet tests: scripts/start-postgres.sh starts a throwaway cluster (initdb in
// a temporary folder, a free port on 127.0.0.1) when the test program starts; it is stopped and deleted
// when the program ends. Tests that need the server down restart it (same port).
#pragma once

#include <cstdlib>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"

namespace faceweave::testing {

class PgCluster : public ::testing::Environment {
 public:
  static PgCluster& get() {
    static PgCluster* cluster = new PgCluster();
    return *cluster;
  }
  void SetUp() override {
    const CommandResult r = run_command(script() + " 2>&1");
    std::smatch url, dir;
    ASSERT_EQ(r.code, 0) << r.out;
    ASSERT_TRUE(std::regex_search(r.out, url, std::regex("FACEWEAVE_DATABASE_URL=([^;]+);"))) << r.out;
    ASSERT_TRUE(std::regex_search(r.out, dir, std::regex("FACEWEAVE_PG_DIR=([^;]+);"))) << r.out;
    url_ = url[1];
    dir_ = dir[1];
  }
  void TearDown() override {
    if (!dir_.empty()) run_command(script() + " --stop " + dir_ + " 2>&1");
  }
  // postgres://postgres@127.0.0.1:PORT/postgres
  const std::string& url() const { return url_; }
  // The same server on another database (each test its own: tables never leak between tests).
  std::string fresh_database(const std::string& name) const {
    run_command("psql -q '" + url_ + "' -c 'DROP DATABASE IF EXISTS " + name + "' 2>&1");
    const CommandResult r = run_command("psql -q '" + url_ + "' -c 'CREATE DATABASE " + name + "' 2>&1");
    EXPECT_EQ(r.code, 0) << r.out;
    return url_.substr(0, url_.rfind('/') + 1) + name;
  }
  // Runs SQL with psql; the rows as text (unaligned, tuples only).
  std::string sql(const std::string& url, const std::string& statement) const {
    return run_command("psql -tAq '" + url + "' -c \"" + statement + "\" 2>&1").out;
  }
  void restart() const {
    const CommandResult r = run_command(script() + " --restart " + dir_ + " 2>&1");
    EXPECT_EQ(r.code, 0) << r.out;
  }

 private:
  static std::string script() { return std::string(FACEWEAVE_SOURCE_DIR) + "/scripts/start-postgres.sh"; }
  std::string url_, dir_;
};

// Runs the faceweave binary on a data dir with telemetry off; expects exit 0 and returns its output.
inline std::string faceweave(const std::string& data_dir, const std::string& args) {
  const CommandResult r =
      run_command("FACEWEAVE_TELEMETRY=off " + binary() + " --data-dir " + data_dir + " " + args + " 2>&1");
  EXPECT_EQ(r.code, 0) << args << "\n" << r.out;
  return r.out;
}

}  // namespace faceweave::testing
