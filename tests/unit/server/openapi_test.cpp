// The OpenAPI document (src/server/openapi.json) against the route table (src/server/routes.cpp): every
// registered route is documented and every documented operation is registered, so a route added to one and
// not the other fails here. The responses themselves are checked against the schemas by
// tests/api/openapi.test.mjs on a running server.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "server/api.h"

namespace faceweave::server {
namespace {

using nlohmann::json;

std::set<std::string> registered() {
  std::set<std::string> out;
  for (const auto& r : Api::routes()) {
    std::string method = r.method;
    for (char& c : method) c = char(std::tolower(static_cast<unsigned char>(c)));
    out.insert(method + " " + r.path);
  }
  return out;
}

std::set<std::string> documented(const json& doc) {
  static const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch", "head", "options"};
  std::set<std::string> out;
  for (const auto& [path, item] : doc.at("paths").items())
    for (const auto& [method, operation] : item.items())
      if (kMethods.count(method)) out.insert(method + " " + path);
  return out;
}

TEST(OpenApi, EveryRouteIsDocumentedAndEveryOperationIsARoute) {
  const json doc = json::parse(Api::openapi_document());
  const auto routes = registered(), operations = documented(doc);
  ASSERT_EQ(routes.size(), Api::routes().size()) << "a method and path appear twice in the route table";
  for (const auto& r : routes) EXPECT_TRUE(operations.count(r)) << r << " is served but not in openapi.json";
  for (const auto& o : operations) EXPECT_TRUE(routes.count(o)) << o << " is in openapi.json but not served";
}

TEST(OpenApi, DocumentIsTheSourceFileAndNamesThisVersion) {
  std::ifstream in(std::string(FACEWEAVE_SOURCE_DIR) + "/src/server/openapi.json");
  ASSERT_TRUE(in) << "src/server/openapi.json";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(Api::openapi_document(), text.str()) << "the embedded document is stale: rebuild";
  const json doc = json::parse(text.str());
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  EXPECT_EQ(doc.at("info").at("version"), FACEWEAVE_VERSION);
}

TEST(OpenApi, EveryOperationDocumentsItsErrors) {
  const json doc = json::parse(Api::openapi_document());
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      const json& responses = op.at("responses");
      const std::string where = method + " " + path;
      EXPECT_TRUE(op.contains("operationId")) << where;
      for (const char* status : {"421", "429", "500"})
        EXPECT_TRUE(responses.contains(status)) << where << " " << status;
      // Everything under /api/ but the two open documents, and /metrics, need the token when one is set;
      // the probes (/healthz, /readyz) are open.
      const bool open =
          path == "/healthz" || path == "/readyz" || path == "/api/config" || path == "/api/openapi.json";
      EXPECT_EQ(responses.contains("401"), !open) << where;
      EXPECT_EQ(responses.contains("403"), method != "get")
          << where << ": state-changing requests may be cross_origin";
      // A path parameter can name something that does not exist; a body can be malformed.
      if (path.find('{') != std::string::npos) {
        EXPECT_TRUE(responses.contains("404")) << where;
      }
      if (op.contains("requestBody")) {
        EXPECT_TRUE(responses.contains("400")) << where;
        EXPECT_TRUE(responses.contains("413")) << where;
      }
    }
  }
}

TEST(OpenApi, PathTemplatesMatch) {
  PathParams p;
  EXPECT_TRUE(Api::match_path("/api/jobs", "/api/jobs", p));
  EXPECT_TRUE(p.empty());
  EXPECT_FALSE(Api::match_path("/api/jobs", "/api/jobs/", p));
  EXPECT_FALSE(Api::match_path("/api/jobs", "/api/job", p));
  ASSERT_TRUE(Api::match_path("/api/jobs/{id}", "/api/jobs/j_1", p));
  EXPECT_EQ(p, PathParams{"j_1"});
  EXPECT_FALSE(Api::match_path("/api/jobs/{id}", "/api/jobs/", p));
  EXPECT_FALSE(Api::match_path("/api/jobs/{id}", "/api/jobs/a/result", p));
  ASSERT_TRUE(Api::match_path("/api/uploads/{id}/faces/{n}.jpg", "/api/uploads/u_2/faces/13.jpg", p));
  EXPECT_EQ(p, (PathParams{"u_2", "13"}));
  EXPECT_FALSE(Api::match_path("/api/uploads/{id}/faces/{n}.jpg", "/api/uploads/u_2/faces/.jpg", p));
  EXPECT_FALSE(Api::match_path("/api/uploads/{id}/faces/{n}.jpg", "/api/uploads/u_2/faces/1.png", p));
  EXPECT_FALSE(Api::match_path("/healthz", "/healthz/x", p));
}

TEST(OpenApi, FirstMatchingRouteWinsForFixedPaths) {
  // /api/insights/stream must come before /api/insights/{view}, or the template would take it.
  const auto& routes = Api::routes();
  PathParams p;
  for (const auto& r : routes) {
    if (!Api::match_path(r.path, "/api/insights/stream", p)) continue;
    EXPECT_STREQ(r.path, "/api/insights/stream");
    break;
  }
}

}  // namespace
}  // namespace faceweave::server
