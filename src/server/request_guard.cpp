#include "server/request_guard.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace faceweave::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return lower(host);
}

// "host", "host:port", "[v6]" or "[v6]:port" into its parts; port -1 when absent. False when malformed.
bool split_authority(std::string_view authority, std::string& host, int& port) {
  port = -1;
  std::string_view rest;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = lower(authority.substr(1, close - 1));
    rest = authority.substr(close + 1);
  } else {
    const size_t colon = authority.find(':');
    if (colon != authority.rfind(':')) return false;  // a bare IPv6 address is not a valid authority
    host = lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) rest = authority.substr(colon);
  }
  if (host.empty()) return false;
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':'))
      return false;
  if (rest.empty()) return true;
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return false;
  int value = 0;
  for (char c : rest.substr(1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return false;
  port = value;
  return true;
}

std::string header(const std::map<std::string, std::string>& headers, const char* name) {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace

bool is_loopback(const std::string& host) {
  const std::string h = strip_brackets(host);
  if (h == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

bool valid_host_name(const std::string& name) {
  if (name.empty()) return false;
  std::string host;
  int port = -1;
  if (name.front() == '[' || name.find(':') == std::string::npos)
    return split_authority(name, host, port) && port == -1;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, name.c_str(), &v6) == 1;  // a bare IPv6 address
}

bool is_wildcard(const std::string& host) {
  const std::string h = strip_brackets(host);
  if (h.empty()) return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return v4.s_addr == INADDR_ANY;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, h.c_str(), &v6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&v6);
}

bool constant_time_equal(std::string_view given, std::string_view secret) {
  // Every byte of `given` is compared (against the secret repeated), and a length difference is folded in
  // rather than returned early.
  unsigned char diff = given.size() == secret.size() ? 0 : 1;
  if (secret.empty()) return given.empty();
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ secret[i % secret.size()]);
  return diff == 0;
}

RequestGuard::RequestGuard(GuardOptions options) : enabled_(true), options_(std::move(options)) {
  // A wildcard bind answers on every address of the machine under any name; there the token protects the
  // server and Host is checked only when --allowed-host names the server's names.
  check_host_ = !is_wildcard(options_.bind_host) || !options_.allowed_hosts.empty();
  own_names_ = {"localhost", "127.0.0.1", "::1"};
  if (!is_wildcard(options_.bind_host)) own_names_.push_back(strip_brackets(options_.bind_host));
  for (const auto& h : options_.allowed_hosts) allowed_names_.push_back(strip_brackets(h));
}

bool RequestGuard::authority_allowed(std::string_view authority, bool https) const {
  std::string host;
  int port = -1;
  if (!split_authority(authority, host, port)) return false;
  // A name the operator allowed is theirs whatever the port and scheme (a reverse proxy on 443 in front
  // of the server); the server's own names only with the port it listens on, over plain HTTP.
  if (std::find(allowed_names_.begin(), allowed_names_.end(), host) != allowed_names_.end()) return true;
  if (https) return false;
  if (port == -1) port = 80;
  return port == options_.port && std::find(own_names_.begin(), own_names_.end(), host) != own_names_.end();
}

bool RequestGuard::host_allowed(std::string_view authority) const {
  return authority_allowed(authority, false);
}

bool RequestGuard::own_origin(std::string_view origin) const {
  constexpr std::string_view kHttp = "http://", kHttps = "https://";
  const bool https = origin.substr(0, kHttps.size()) == kHttps;
  if (!https && origin.substr(0, kHttp.size()) != kHttp) return false;
  std::string_view authority = origin.substr(https ? kHttps.size() : kHttp.size());
  authority = authority.substr(0, authority.find_first_of("/?#"));
  return authority_allowed(authority, https);
}

std::optional<Refusal> RequestGuard::check(const std::string& method,
                                           const std::map<std::string, std::string>& headers) const {
  if (!enabled_) return std::nullopt;
  if (check_host_) {
    // HTTP/1.0 clients may leave Host out; browsers never do, so a missing Host is no rebinding attack.
    auto it = headers.find("host");
    if (it != headers.end() && !host_allowed(it->second)) {
      std::string names;
      for (const auto& n : own_names_)
        names += (names.empty() ? "" : ", ") + (n.find(':') != std::string::npos ? "[" + n + "]" : n);
      names += " on port " + std::to_string(options_.port);
      for (const auto& n : allowed_names_) names += ", " + n;
      return Refusal{421, "misdirected_request",
                     "this server answers only to the names " + names + ", not to the Host '" +
                         it->second.substr(0, 80) +
                         "'; reach it by one of those, or start it with --allowed-host NAME"};
    }
  }
  if (options_.token_required) return std::nullopt;
  if (method != "POST" && method != "PUT" && method != "PATCH" && method != "DELETE") return std::nullopt;
  const std::string origin = header(headers, "origin");
  const std::string referer = header(headers, "referer");
  const std::string fetch_site = header(headers, "sec-fetch-site");
  // Sec-Fetch-Site is set by the browser alone (a page cannot forge it). "same-origin" also vouches for
  // `Origin: null`, which a browser sends for its own page's sendBeacon under Referrer-Policy: no-referrer;
  // without it, null (sandboxed frames, pages that hide their origin) is refused.
  const bool fetch_same = fetch_site == "same-origin" || fetch_site == "none";
  std::string from;
  if (!fetch_site.empty() && !fetch_same) {
    from = "a page of another site (Sec-Fetch-Site: " + fetch_site.substr(0, 20) + ")";
  } else if (!origin.empty()) {
    if (origin == "null" ? !fetch_same : !own_origin(origin)) from = "the Origin " + origin.substr(0, 80);
  } else if (!referer.empty()) {
    if (!own_origin(referer)) from = "the Referer's origin";
  }
  if (from.empty()) return std::nullopt;
  return Refusal{403, "cross_origin",
                 "refused a " + method + " from " + from +
                     ": without a token this server accepts changes only from its own pages and from clients "
                     "that send no Origin (scripts, curl); to use it from elsewhere start it with --token"};
}

}  // namespace faceweave::server
