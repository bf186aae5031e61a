// LD_PRELOAD library for the fleet tests: a name service that does not answer, for one host name.
//
//   FACEWEAVE_TEST_HANG_HOST=name   getaddrinfo() of exactly this name hangs; every other call goes to the
//                                   real getaddrinfo (dlsym(RTLD_NEXT)).
//   FACEWEAVE_TEST_HANG_WHILE=path  (optional) the name hangs only while this file exists; otherwise, and
//                                   once the file is removed, it resolves as 127.0.0.1.
//   FACEWEAVE_TEST_HANG_LOG=path    (optional) a line "hang <name>" is appended each time a lookup starts to
//                                   hang, so a test knows the process is stuck in one.
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>

namespace {

using GetaddrinfoFn = int (*)(const char*, const char*, const addrinfo*, addrinfo**);

GetaddrinfoFn real_getaddrinfo() {
  static GetaddrinfoFn real = reinterpret_cast<GetaddrinfoFn>(dlsym(RTLD_NEXT, "getaddrinfo"));
  return real;
}

bool gate_open(const char* gate) {
  return gate == nullptr || ::access(gate, F_OK) == 0;
}

void note_hang(const char* name) {
  const char* log = std::getenv("FACEWEAVE_TEST_HANG_LOG");
  if (!log) return;
  const int fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0) return;
  const char prefix[] = "hang ";
  ssize_t ignored = ::write(fd, prefix, sizeof(prefix) - 1);
  ignored = ::write(fd, name, std::strlen(name));
  ignored = ::write(fd, "\n", 1);
  (void)ignored;
  ::close(fd);
}

}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
  const GetaddrinfoFn real = real_getaddrinfo();
  if (!real) return EAI_SYSTEM;
  const char* name = std::getenv("FACEWEAVE_TEST_HANG_HOST");
  if (!node || !name || std::strcmp(node, name) != 0) return real(node, service, hints, res);
  const char* gate = std::getenv("FACEWEAVE_TEST_HANG_WHILE");
  if (gate_open(gate)) {
    note_hang(name);
    const timespec tick{0, 100 * 1000 * 1000};
    while (gate_open(gate)) ::nanosleep(&tick, nullptr);  // without a gate: forever
  }
  return real("127.0.0.1", service, hints, res);
}
