// Durability: a child process records at full speed and is killed with SIGKILL in the middle of its work.
// On reopening, the database is intact, every batch the child saw committed is there in full, and no event
// is stored twice. Three kills in a row on the same database, then a normal writer continues after them.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "telemetry_test_support.h"

namespace faceweave::testing {
namespace {

struct Batch {
  int64_t first = 0, last = 0, rows = 0;
};

// Starts the child, waits until it reported `min_batches` commits, kills it, returns every batch it reported.
std::vector<Batch> run_and_kill(const std::string& data_dir, int64_t first_frame, size_t min_batches) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    std::string frame = std::to_string(first_frame);
    ::execl(FACEWEAVE_TELEMETRY_CHILD, FACEWEAVE_TELEMETRY_CHILD, data_dir.c_str(), frame.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string text;
  std::vector<Batch> batches;
  auto parse = [&] {
    batches.clear();
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // an incomplete last line
      std::istringstream l(line);
      std::string word;
      int64_t n;
      Batch b;
      if (l >> word >> n >> b.first >> b.last >> b.rows) batches.push_back(b);
    }
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  while (batches.size() < min_batches && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, size_t(n));
    parse();
  }
  // Killed in the middle of its work: it is recording and committing continuously.
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child ended on its own";
  // Lines it wrote before the kill are still in the pipe.
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, size_t(n));
  ::close(fds[0]);
  parse();
  return batches;
}

TEST(TelemetryDurability, CommittedBatchesSurviveSigkillWithoutDuplicates) {
  TempDir dir;
  const std::string db = events_db(dir);
  int64_t committed_rows = 0;
  for (int run = 0; run < 3; ++run) {
    auto batches = run_and_kill(dir.path(), int64_t(run) * 1'000'000'000, 20);
    ASSERT_GE(batches.size(), 20u) << "run " << run;
    ASSERT_EQ(sql_column(db, "PRAGMA integrity_check"), std::vector<std::string>{"ok"}) << "run " << run;
    for (const auto& b : batches) {
      EXPECT_EQ(b.last - b.first + 1, b.rows);
      EXPECT_EQ(sql_int(db, "SELECT count(*) FROM events WHERE id BETWEEN " + std::to_string(b.first) +
                                " AND " + std::to_string(b.last)),
                b.rows)
          << "batch " << b.first << ".." << b.last << " of run " << run << " is not all there";
      committed_rows += b.rows;
    }
    // Nothing stored twice: every frame number (unique per recorded event) appears once.
    // (telemetry.dropped events, which the writer adds when the child outruns it, have no frame.)
    const std::string frames = "FROM events_view WHERE event = 'frame.timing'";
    EXPECT_EQ(sql_int(db, "SELECT count(*) - count(DISTINCT json_extract(props, '$.frame')) " + frames), 0);
    EXPECT_GE(sql_int(db, "SELECT count(*) FROM events"), committed_rows);
    // This run's events are exactly those after the previous run's last stored id.
    EXPECT_EQ(
        sql_int(db, "SELECT count(*) " + frames + " AND json_extract(props, '$.frame') >= " +
                        std::to_string(int64_t(run) * 1'000'000'000)),
        sql_int(db, "SELECT count(*) " + frames + " AND id >= " + std::to_string(batches.front().first)));
  }
  // A normal writer takes over the database after the crashes and continues the ids.
  int64_t max_id = sql_int(db, "SELECT max(id) FROM events");
  auto t = Telemetry::create(telemetry_options(dir));
  ASSERT_TRUE(t.is_ok());
  ASSERT_TRUE((*t)->enabled()) << (*t)->health().to_string();
  (*t)->record_stage("detect", 1, 1, 1);
  ASSERT_TRUE((*t)->flush().is_ok());
  EXPECT_EQ(sql_int(db, "SELECT max(id) FROM events"), max_id + 1);
}

}  // namespace
}  // namespace faceweave::testing
