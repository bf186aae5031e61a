// A node stops promptly even while its connection to PostgreSQL hangs: a server that accepts the TCP
// connection and never answers (a blackholed or wedged database) keeps libpq waiting, and a stopping worker
// must not wait out the connect timeout.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "integration/fleet/pg_cluster.h"
#include "test_support.h"

namespace faceweave::testing {
namespace {

// A listening socket that never accepts: the kernel completes the handshake, nobody ever answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(FleetShutdown, AWorkerWhoseDatabaseNeverAnswersStopsOnSigtermWithinSeconds) {
  SilentServer silent;
  TempDir dir;
  const std::string url =
      "postgres://postgres@127.0.0.1:" + std::to_string(silent.port()) + "/x?connect_timeout=120";
  const std::string log = dir.file("worker.log");
  const pid_t pid = ::fork();
  if (pid == 0) {
    FILE* out = std::freopen(log.c_str(), "w", stdout);
    (void)out;
    ::dup2(::fileno(stdout), 2);
    ::setenv("FACEWEAVE_TELEMETRY", "off", 1);
    const std::string bin = binary(), data = dir.file("w");
    ::execl(bin.c_str(), bin.c_str(), "--data-dir", data.c_str(), "worker", "--database-url", url.c_str(),
            "--media-dir", dir.path().c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  // The worker is now waiting for the server's answer to its login (120 s allowed).
  std::this_thread::sleep_for(std::chrono::seconds(2));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "the worker ended before SIGTERM: " << read_all(log);
  ::kill(pid, SIGTERM);
  // A generous bound (the connect timeout is 120 s): the attempt gives up about a second after the signal.
  bool ended = false;
  for (int i = 0; i < 300 && !ended; ++i) {
    ended = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!ended) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(ended) << "the worker did not stop within 30 s of SIGTERM: " << read_all(log);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130) << read_all(log);
  EXPECT_NE(read_all(log).find("stopped while connecting to PostgreSQL"), std::string::npos) << read_all(log);
}

// A host name is resolved by faceweave (bounded), and every address it has is tried: `localhost` may give
// ::1 first while the test cluster listens on 127.0.0.1 only.
TEST(FleetShutdown, AHostNameIsResolvedAndEachOfItsAddressesTried) {
  const std::string url = PgCluster::get().url();
  const std::string port = url.substr(url.rfind(':') + 1, url.rfind('/') - url.rfind(':') - 1);
  const CommandResult ok =
      run_command("FACEWEAVE_TELEMETRY=off " + binary() +
                  " jobs list --database-url postgres://postgres@localhost:" + port + "/postgres 2>&1");
  EXPECT_EQ(ok.code, 0) << ok.out;
  const CommandResult unknown = run_command(
      "FACEWEAVE_TELEMETRY=off " + binary() +
      " jobs list --database-url 'postgres://postgres@no-such-host.invalid:5432/x?connect_timeout=10' 2>&1");
  EXPECT_EQ(unknown.code, 8) << unknown.out;
  EXPECT_NE(unknown.out.find("no-such-host.invalid"), std::string::npos) << unknown.out;
}

}  // namespace
}  // namespace faceweave::testing
