// Host and Origin checks (DNS rebinding, cross-site requests), the loopback test and the token compare.
#include "server/request_guard.h"

#include <gtest/gtest.h>

namespace faceweave::server {
namespace {

using Headers = std::map<std::string, std::string>;

RequestGuard loopback(std::vector<std::string> allowed = {}) {
  return RequestGuard({"127.0.0.1", 7860, std::move(allowed), false});
}

int status_of(const RequestGuard& g, const std::string& method, const Headers& h) {
  auto r = g.check(method, h);
  return r ? r->status : 0;
}

TEST(RequestGuard, AnswersOnlyToItsOwnNamesAndPort) {
  const RequestGuard g = loopback();
  for (const char* host : {"127.0.0.1:7860", "localhost:7860", "LOCALHOST:7860", "[::1]:7860"})
    EXPECT_EQ(status_of(g, "GET", {{"host", host}}), 0) << host;
  // DNS rebinding: the attacker's name (now resolving to 127.0.0.1) is still in Host.
  for (const char* host : {"evil.example:7860", "127.0.0.1.evil.example:7860", "127.0.0.1:7861", "127.0.0.1",
                           "localhost:80", "", "127.0.0.1:7860:1", "::1:7860", "[::1", "local host:7860"})
    EXPECT_EQ(status_of(g, "GET", {{"host", host}}), 421) << host;
  auto r = g.check("GET", {{"host", "evil.example:7860"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, "misdirected_request");
  EXPECT_NE(r->message.find("--allowed-host"), std::string::npos) << r->message;
  // HTTP/1.0 clients may send no Host at all; browsers always do.
  EXPECT_EQ(status_of(g, "GET", {}), 0);
}

// Names the operator allowed are theirs on any port and scheme: a reverse proxy serves them on 80 or 443.
TEST(RequestGuard, AllowedHostsMatchAnyPort) {
  const RequestGuard g = loopback({"faceweave.lan", "Studio.Local"});
  EXPECT_EQ(status_of(g, "GET", {{"host", "faceweave.lan:7860"}}), 0);
  EXPECT_EQ(status_of(g, "GET", {{"host", "studio.local:7860"}}), 0);
  EXPECT_EQ(status_of(g, "GET", {{"host", "faceweave.lan"}}), 0);
  EXPECT_EQ(status_of(g, "GET", {{"host", "other.lan:7860"}}), 421);
  EXPECT_EQ(status_of(g, "POST", {{"host", "faceweave.lan"}, {"origin", "https://faceweave.lan"}}), 0);
  EXPECT_EQ(status_of(g, "POST", {{"host", "faceweave.lan"}, {"origin", "https://other.lan"}}), 403);
  // The server's own names stay bound to its port and to plain HTTP.
  EXPECT_EQ(status_of(g, "GET", {{"host", "localhost:80"}}), 421);
  EXPECT_EQ(status_of(g, "POST", {{"host", "127.0.0.1:7860"}, {"origin", "https://127.0.0.1:7860"}}), 403);
  // Port 80 may be left out of Host.
  const RequestGuard on80({"127.0.0.1", 80, {}, false});
  EXPECT_EQ(status_of(on80, "GET", {{"host", "localhost"}}), 0);
}

TEST(RequestGuard, AWildcardBindChecksHostOnlyWithAllowedHosts) {
  const RequestGuard any({"0.0.0.0", 8080, {}, true});
  EXPECT_EQ(status_of(any, "GET", {{"host", "192.168.1.20:8080"}}), 0);
  const RequestGuard named({"0.0.0.0", 8080, {"faceweave.lan"}, true});
  EXPECT_EQ(status_of(named, "GET", {{"host", "faceweave.lan:8080"}}), 0);
  EXPECT_EQ(status_of(named, "GET", {{"host", "192.168.1.20:8080"}}), 421);
  // A specific address is one of its names.
  const RequestGuard lan({"192.168.1.20", 8080, {}, true});
  EXPECT_EQ(status_of(lan, "GET", {{"host", "192.168.1.20:8080"}}), 0);
  EXPECT_EQ(status_of(lan, "GET", {{"host", "evil.example:8080"}}), 421);
}

TEST(RequestGuard, WithoutATokenChangesComeOnlyFromItsOwnOrigin) {
  const RequestGuard g = loopback();
  const Headers own = {{"host", "127.0.0.1:7860"}, {"origin", "http://127.0.0.1:7860"}};
  for (const char* m : {"POST", "PUT", "PATCH", "DELETE", "GET"}) EXPECT_EQ(status_of(g, m, own), 0) << m;
  EXPECT_EQ(status_of(g, "POST", {{"host", "127.0.0.1:7860"}, {"origin", "http://localhost:7860"}}), 0);
  for (const char* origin : {"http://evil.example", "https://127.0.0.1:7860", "http://127.0.0.1:7861", "null",
                             "http://127.0.0.1:7860.evil.example", "http://127.0.0.1:7860@evil.example"})
    for (const char* m : {"POST", "PUT", "PATCH", "DELETE"})
      EXPECT_EQ(status_of(g, m, {{"host", "127.0.0.1:7860"}, {"origin", origin}}), 403) << m << " " << origin;
  // Reading is not changing: a cross-site GET is answered (the browser keeps the answer from the page).
  EXPECT_EQ(status_of(g, "GET", {{"host", "127.0.0.1:7860"}, {"origin", "http://evil.example"}}), 0);
  auto r = g.check("POST", {{"host", "127.0.0.1:7860"}, {"origin", "http://evil.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, "cross_origin");
  EXPECT_NE(r->message.find("--token"), std::string::npos) << r->message;
}

TEST(RequestGuard, RefererCountsWhenThereIsNoOrigin) {
  const RequestGuard g = loopback();
  const std::string host = "127.0.0.1:7860";
  EXPECT_EQ(status_of(g, "POST", {{"host", host}, {"referer", "http://127.0.0.1:7860/insights/?x=1"}}), 0);
  EXPECT_EQ(status_of(g, "POST", {{"host", host}, {"referer", "http://evil.example/page"}}), 403);
  EXPECT_EQ(status_of(g, "POST", {{"host", host}, {"referer", "http://127.0.0.1:7860.evil.example/"}}), 403);
  // The Origin decides when both are there.
  EXPECT_EQ(
      status_of(g, "POST",
                {{"host", host}, {"origin", "http://evil.example"}, {"referer", "http://127.0.0.1:7860/"}}),
      403);
  EXPECT_EQ(status_of(g, "POST", {{"host", host}, {"sec-fetch-site", "cross-site"}}), 403);
  EXPECT_EQ(status_of(g, "POST", {{"host", host}, {"sec-fetch-site", "same-site"}}), 403);
}

// Under Referrer-Policy: no-referrer a browser sends `Origin: null` with its own page's sendBeacon; the
// browser-set Sec-Fetch-Site tells it apart from a sandboxed or origin-hiding page of another site.
TEST(RequestGuard, ANullOriginNeedsSecFetchSiteSameOrigin) {
  const RequestGuard g = loopback();
  const std::string host = "127.0.0.1:7860";
  EXPECT_EQ(status_of(g, "POST", {{"host", host}, {"origin", "null"}, {"sec-fetch-site", "same-origin"}}), 0);
  EXPECT_EQ(status_of(g, "POST", {{"host", host}, {"origin", "null"}}), 403);
  EXPECT_EQ(status_of(g, "POST", {{"host", host}, {"origin", "null"}, {"sec-fetch-site", "cross-site"}}),
            403);
  // A real Origin must still be this server's own.
  EXPECT_EQ(status_of(g, "POST",
                      {{"host", host}, {"origin", "http://evil.example"}, {"sec-fetch-site", "same-origin"}}),
            403);
}

TEST(RequestGuard, ClientsThatSendNoOriginMayPost) {
  const RequestGuard g = loopback();
  EXPECT_EQ(status_of(g, "POST", {{"host", "127.0.0.1:7860"}}), 0);
  EXPECT_EQ(status_of(g, "DELETE", {{"host", "localhost:7860"}, {"user-agent", "curl/7.88"}}), 0);
  EXPECT_EQ(status_of(g, "POST", {{"host", "127.0.0.1:7860"}, {"sec-fetch-site", "same-origin"}}), 0);
}

TEST(RequestGuard, WithATokenOriginIsNotChecked) {
  const RequestGuard g({"127.0.0.1", 7860, {}, true});
  EXPECT_EQ(status_of(g, "POST", {{"host", "127.0.0.1:7860"}, {"origin", "http://evil.example"}}), 0);
  EXPECT_EQ(status_of(g, "POST", {{"host", "evil.example:7860"}}), 421) << "Host is still checked";
}

TEST(RequestGuard, ADefaultGuardChecksNothing) {
  const RequestGuard g;
  EXPECT_FALSE(g.check("POST", {{"host", "evil.example"}, {"origin", "http://evil.example"}}));
}

TEST(RequestGuard, LoopbackIsParsedNotMatchedByPrefix) {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"})
    EXPECT_TRUE(is_loopback(h)) << h;
  for (const char* h : {"127.evil.example", "127.0.0.1.nip.io", "0.0.0.0", "::", "192.168.1.2", "10.0.0.1",
                        "", "1270.0.0.1", "::ffff:10.0.0.1"})
    EXPECT_FALSE(is_loopback(h)) << h;
}

TEST(RequestGuard, HostNamesForAllowedHost) {
  for (const char* h : {"faceweave.lan", "studio", "192.168.1.20", "[fe80::1]", "fe80::1"})
    EXPECT_TRUE(valid_host_name(h)) << h;
  for (const char* h : {"", "http://faceweave.lan", "faceweave.lan:8080", "a b", "faceweave.lan/x"})
    EXPECT_FALSE(valid_host_name(h)) << h;
}

TEST(RequestGuard, TokenCompareIsExact) {
  EXPECT_TRUE(constant_time_equal("s3cret-token", "s3cret-token"));
  EXPECT_FALSE(constant_time_equal("s3cret-tokex", "s3cret-token"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cret-token"));
  EXPECT_FALSE(constant_time_equal("s3cret-token-and-more", "s3cret-token"));
  EXPECT_FALSE(constant_time_equal("s3cret-tokens3cret-token", "s3cret-token")) << "not the secret repeated";
  EXPECT_FALSE(constant_time_equal("", "s3cret-token"));
}

}  // namespace
}  // namespace faceweave::server
