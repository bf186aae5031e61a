// Who may talk to the server, decided from the request's headers alone (docs/security.md):
//  - Host: a browser page of another site that re-points its own DNS name at 127.0.0.1 (DNS rebinding)
//    reaches the loopback server as "same origin", but its requests still carry the attacker's name in
//    Host. Only this server's own names are answered (the bound address, localhost, 127.0.0.1, [::1], each
//    with the bound port, and the names given with --allowed-host, with any port: a reverse proxy may serve
//    them on 443); anything else gets 421.
//  - Origin: with no token (the loopback default) any page the user visits could POST to the server
//    (a "simple" cross-site request needs no CORS preflight). State-changing requests (POST, PUT, PATCH,
//    DELETE) that carry an Origin, or a Referer when there is no Origin, must come from the server's own
//    origin; others get 403. Requests with neither (curl, scripts, API clients) are let through: a
//    browser always sends Origin on a cross-site POST.
// Pure functions of their inputs: thread-safe once built.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faceweave::server {

struct GuardOptions {
  std::string bind_host;                   // --host as given: 127.0.0.1, ::1, 0.0.0.0, a name...
  int port = 0;                            // the port actually bound
  std::vector<std::string> allowed_hosts;  // --allowed-host NAME (repeatable)
  bool token_required = false;             // --token given: the token, not Origin, keeps other sites out
};

// Why a request is refused: its HTTP status (421 or 403), error code and message (the API's error shape).
struct Refusal {
  int status = 0;
  std::string code;
  std::string message;
};

class RequestGuard {
 public:
  RequestGuard() = default;  // checks nothing: until the server knows its port
  explicit RequestGuard(GuardOptions options);

  // `headers` with lower-case names. nullopt: the request may go on.
  std::optional<Refusal> check(const std::string& method,
                               const std::map<std::string, std::string>& headers) const;

  // The authority (host[:port]) names this server.
  bool host_allowed(std::string_view authority) const;
  // An Origin or Referer value ("http://host:port[/...]") is this server's own origin.
  bool own_origin(std::string_view origin) const;

 private:
  bool authority_allowed(std::string_view authority, bool https) const;

  bool enabled_ = false;
  bool check_host_ = false;
  GuardOptions options_;
  // Lower case, IPv6 without brackets. Own names match only with the bound port; allowed names (given by
  // the operator) with any port.
  std::vector<std::string> own_names_, allowed_names_;
};

// An address of this machine's loopback interface: 127.0.0.0/8, ::1 (and ::ffff:127.x.y.z), or
// "localhost". Parsed as an address: a DNS name that merely starts with "127." is not loopback.
bool is_loopback(const std::string& host);

// A host name or address as --allowed-host takes it: no scheme, port, path or spaces.
bool valid_host_name(const std::string& name);

// 0.0.0.0, :: or empty: every address of the machine.
bool is_wildcard(const std::string& host);

// Compares in time that depends only on `given`'s length, never on where the first difference is or on
// the secret's length.
bool constant_time_equal(std::string_view given, std::string_view secret);

}  // namespace faceweave::server
