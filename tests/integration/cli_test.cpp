// The faceweave binary end to end: analyse output, exit codes and messages on bad input, models list/verify.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.h"
#include "unprivileged.h"

namespace faceweave::testing {
namespace {

using CliRun = CommandResult;  // stdout and stderr together

CliRun run(const std::string& args, const std::string& env = "") {
  return run_command(env + " " + binary() + " " + args + " 2>&1");
}

std::string models_env() {
  return "FACEWEAVE_MODELS_DIR='" + models_dir() + "'";
}

TEST(Cli, AnalyseJsonReportsEveryFace) {
  CliRun r = run("analyse --json " + image("two_people.jpg"), models_env());
  ASSERT_EQ(r.code, 0) << r.out;
  auto start = r.out.find('{');
  ASSERT_NE(start, std::string::npos) << r.out;
  auto j = nlohmann::json::parse(r.out.substr(start));
  EXPECT_EQ(j["image"]["width"], 1126);
  ASSERT_EQ(j["faces"].size(), 2u);
  for (const auto& f : j["faces"]) {
    EXPECT_EQ(f["landmarks68"].size(), 68u);
    EXPECT_EQ(f["landmarks5"].size(), 5u);
    EXPECT_TRUE(f.contains("age"));
    EXPECT_TRUE(f.contains("gender"));
    EXPECT_TRUE(f["pose"].contains("yaw"));
    EXPECT_GT(f["score"].get<double>(), 0.7);
  }
}

// The debug image is the input with the face annotated: some pixels change (an unannotated copy fails), and
// they lie on and around the face the analysis found (a different image fails).
TEST(Cli, AnalyseWritesTheDebugImage) {
  TempDir dir;
  CliRun r = run("analyse " + image("obama.jpg") + " --debug-out " + dir.file("annotated.png"), models_env());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("1 face(s)"), std::string::npos) << r.out;
  CliRun j = run("analyse --json " + image("obama.jpg"), models_env());
  ASSERT_EQ(j.code, 0) << j.out;
  const auto faces = nlohmann::json::parse(j.out.substr(j.out.find('{')))["faces"];
  ASSERT_EQ(faces.size(), 1u);
  const auto& box = faces[0]["box"];
  const cv::Mat input = cv::imread(image("obama.jpg"), cv::IMREAD_COLOR);
  const cv::Mat annotated = cv::imread(dir.file("annotated.png"), cv::IMREAD_COLOR);
  ASSERT_FALSE(annotated.empty());
  ASSERT_EQ(annotated.size(), input.size());
  cv::Mat diff, changed;
  cv::absdiff(input, annotated, diff);
  cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
  changed = diff > 40;
  const int total = cv::countNonZero(changed);
  EXPECT_GT(total, 300) << "the annotation changed almost nothing";
  EXPECT_LT(total, input.total() / 5) << "more than an annotation changed";
  // Around the face: its box grown by half its size on each side.
  const double w = box["width"], h = box["height"];
  cv::Rect around(int(box["x"].get<double>() - w / 2), int(box["y"].get<double>() - h / 2), int(2 * w),
                  int(2 * h));
  around &= cv::Rect(0, 0, input.cols, input.rows);
  EXPECT_GT(cv::countNonZero(changed(around)), total * 8 / 10) << "the changes are not at the face";
}

// A folder the user may not write to is exit 7 for analyse --debug-out as for swap -o (it was 8 for analyse).
// Run as nobody when the tests run as root, for whom no folder is read-only.
TEST(Cli, ReadOnlyOutputFolderIsExit7ForAnalyseAsForSwap) {
  TempDir dir;
  make_reachable(dir.path());
  const std::string locked = dir.file("locked");
  std::filesystem::create_directory(locked);
  std::filesystem::permissions(locked,
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec |
                                   std::filesystem::perms::others_read | std::filesystem::perms::others_exec);
  const std::string env = "FACEWEAVE_TELEMETRY=off " + models_env();
  CliRun analyse = run_command_unprivileged(env + " " + binary() + " analyse " + image("obama.jpg") +
                                            " --debug-out " + locked + "/a.png");
  EXPECT_EQ(analyse.code, 7) << analyse.out;
  EXPECT_NE(analyse.out.find("not writable"), std::string::npos) << analyse.out;
  CliRun swap = run_command_unprivileged(env + " " + binary() + " swap -s " + image("obama.jpg") + " -t " +
                                         image("biden.jpg") + " -o " + locked + "/s.png");
  EXPECT_EQ(swap.code, 7) << swap.out;
  EXPECT_FALSE(std::filesystem::exists(locked + "/a.png"));
}

TEST(Cli, AnalyseNeverWritesItsDebugImageOverTheImage) {
  TempDir dir;
  namespace fs = std::filesystem;
  const std::string in = dir.file("in.png");
  fs::copy_file(image("obama.jpg"), dir.file("in.jpg"));
  fs::copy_file(image("astronaut.png"), in);
  fs::create_symlink(in, dir.file("link.png"));
  fs::create_hard_link(in, dir.file("hard.png"));
  const std::string before = read_all(in), before_jpg = read_all(dir.file("in.jpg"));
  for (const std::string& out :
       {in, dir.file("link.png"), dir.file("hard.png"),
        dir.path() + "/../" + fs::path(dir.path()).filename().string() + "/in.png"}) {
    CliRun r = run("analyse " + in + " --debug-out " + out, models_env());
    EXPECT_EQ(r.code, 2) << out << "\n" << r.out;
    EXPECT_NE(r.out.find("never overwrites its input"), std::string::npos) << r.out;
  }
  CliRun r = run("analyse " + dir.file("in.jpg") + " --debug-out " + dir.file("in.jpg"), models_env());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_EQ(read_all(in), before);
  EXPECT_EQ(read_all(dir.file("in.jpg")), before_jpg);
  EXPECT_TRUE(fs::is_symlink(dir.file("link.png")));
}

TEST(Cli, BadInputsExitNonZeroWithAMessage) {
  TempDir dir;
  write_file(dir.file("text.jpg"), "hello");
  struct Case {
    std::string args;
    int code;
    std::string needle;
  };
  for (const auto& c :
       std::vector<Case>{{"analyse /nonexistent.jpg", 3, "does not exist"},
                         {"analyse " + dir.file("text.jpg"), 4, "not an image"},
                         {"analyse " + image("obama.jpg") + " --debug-out " + dir.file("x.tiff"), 2, ".tiff"},
                         {"analyse", 2, "image"},
                         {"--execution-provider tpu analyse " + image("obama.jpg"), 2, "tpu"}}) {
    CliRun r = run(c.args, models_env());
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << c.args << "\n" << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.tiff")));
}

TEST(Cli, CudaRequestWarnsOnceAndStillWorks) {
  CliRun r = run("--execution-provider cuda analyse " + image("obama.jpg"), models_env());
  ASSERT_EQ(r.code, 0) << r.out;
  size_t first = r.out.find("'cuda' is not available");
  ASSERT_NE(first, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("'cuda' is not available", first + 1), std::string::npos) << "warned more than once:\n"
                                                                                 << r.out;
}

TEST(Cli, ModelsListAndVerify) {
  CliRun list = run("models list", models_env());
  ASSERT_EQ(list.code, 0) << list.out;
  for (const char* name :
       {"fr_detect", "fr_landmark", "fr_feature", "fr_age", "fr_gender", "fr_pose", "dlib_68"})
    EXPECT_NE(list.out.find(name), std::string::npos) << name;
  EXPECT_NE(list.out.find("verified"), std::string::npos);
  CliRun verify = run("models verify", models_env());
  EXPECT_EQ(verify.code, 0) << verify.out;
}

TEST(Cli, ModelsVerifyFailsOnACorruptFile) {
  TempDir dir;
  for (const auto& entry : std::filesystem::directory_iterator(models_dir()))
    std::filesystem::copy(entry.path(), dir.file(entry.path().filename().string()));
  write_file(dir.file("fr_pose.onnx"), "corrupt");
  CliRun r = run("models verify", "FACEWEAVE_MODELS_DIR='" + dir.path() + "'");
  EXPECT_EQ(r.code, 6) << r.out;
  EXPECT_NE(r.out.find("fr_pose"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("72d032ec941b7153bf8d3f2c03a4c165453cc7e63d479041ec7c6ef087e5839d"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("fetch-models.sh"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace faceweave::testing
