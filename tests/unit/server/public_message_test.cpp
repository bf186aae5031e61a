// Error messages for HTTP clients lose the server's paths but keep what the client needs.
#include "server/public_message.h"

#include <gtest/gtest.h>

namespace faceweave::server {
namespace {

using nlohmann::json;

TEST(PublicMessage, ServerPathsBecomeWhatTheyName) {
  const std::vector<std::string> roots = {"/home/Ann Lee/.local/share/faceweave", "/opt/fw models"};
  EXPECT_EQ(without_server_paths("/home/Ann Lee/.local/share/faceweave/uploads/u_0123abcd/media.png is a "
                                 "truncated JPEG (no end-of-image marker); re-export it",
                                 roots),
            "upload u_0123abcd is a truncated JPEG (no end-of-image marker); re-export it");
  EXPECT_EQ(
      without_server_paths("model file /opt/fw models/inswapper_128.onnx is missing; run faceweave models "
                           "download",
                           roots),
      "model file inswapper_128.onnx is missing; run faceweave models download");
  EXPECT_EQ(
      without_server_paths("cannot write /home/Ann Lee/.local/share/faceweave/results/j_00ff.mp4", roots),
      "cannot write the result of job j_00ff");
  // Paths under no known root: only the file's own name is left.
  EXPECT_EQ(without_server_paths("cannot open '/var/lib/other/place/x.onnx': denied", roots),
            "cannot open 'x.onnx': denied");
  EXPECT_EQ(without_server_paths("see /srv/a/b/c", {}), "see c");
}

TEST(PublicMessage, RoutesAndDocsStay) {
  const std::string m =
      "sources must be a non-empty list of upload ids (POST /api/uploads first); GET /api/jobs/j_1 shows it, "
      "docs/api.md lists the API; /healthz and /metrics answer; send text/plain";
  EXPECT_EQ(without_server_paths(m, {"/data"}), m);
}

TEST(PublicMessage, ScrubsErrorsAndJobErrorsOnly) {
  json error{{"error", {{"code", "invalid_input"}, {"message", "/d/uploads/u_1a/media.png is empty"}}}};
  scrub_error_messages(error, {"/d"});
  EXPECT_EQ(error["error"]["message"], "upload u_1a is empty");
  json jobs{{"jobs",
             {{{"id", "j_1"},
               {"error", {{"code", "io_error"}, {"message", "cannot read /d/uploads/u_2b/media.jpg"}}}},
              {{"id", "j_2"}, {"error", nullptr}}}}};
  scrub_error_messages(jobs, {"/d"});
  EXPECT_EQ(jobs["jobs"][0]["error"]["message"], "cannot read upload u_2b");
  EXPECT_TRUE(jobs["jobs"][1]["error"].is_null());
  json other{{"name", "/d/x/y"}};
  scrub_error_messages(other, {"/d"});
  EXPECT_EQ(other["name"], "/d/x/y");
}

}  // namespace
}  // namespace faceweave::server
