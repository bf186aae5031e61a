#include "infer/model_registry.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "infer/sha256.h"
#include "test_support.h"
#include "unprivileged.h"

namespace faceweave::infer {
namespace {

namespace fs = std::filesystem;
using ::faceweave::testing::make_reachable;
using ::faceweave::testing::run_unprivileged;
using ::faceweave::testing::TempDir;
using ::faceweave::testing::write_file;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kGoodBytes = "pretend these are onnx weights\n";
const std::string kBadBytes = "a different, corrupt download\n";

// One manifest entry; `file` may be a bare name (inside the models dir) or an absolute path.
std::string entry_json(const std::string& name, const std::string& file, const std::string& sha256,
                       const std::string& pack = "default") {
  return R"({"name": ")" + name + R"(", "role": "detector", "pack": ")" + pack + R"(", "file": ")" + file +
         R"(", "sha256": ")" + sha256 + R"(", "licence": "MIT",
     "source": {"kind": "npm", "package": "some-pkg@1.0.0", "path": "package/model/)" +
         fs::path(file).filename().string() + R"("},
     "input": {"shape": [1, 3, 240, 320], "layout": "NCHW", "color": "rgb",
               "mean": [127, 127, 127], "std": [128, 128, 128], "crop": "whole image"}})";
}

// A temp dir holding manifest.json and a models/ folder, with a registry over them.
class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    models_dir_ = dir_.file("models");
    fs::create_directory(models_dir_);
    manifest_ = dir_.file("manifest.json");
    write_manifest({entry_json("det", "det.onnx", sha256_hex(kGoodBytes))});
  }

  void write_manifest(const std::vector<std::string>& entries) {
    std::string body = R"({"schema": 1, "models": [)";
    for (size_t i = 0; i < entries.size(); ++i) body += (i ? ",\n" : "\n") + entries[i];
    body += "\n]}\n";
    write_file(manifest_, body);
  }

  std::unique_ptr<ModelRegistry> make() {
    auto r = ModelRegistry::create({manifest_, models_dir_});
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? std::move(r).value() : nullptr;
  }

  std::string model_path(const std::string& file) const { return (fs::path(models_dir_) / file).string(); }

  TempDir dir_;
  std::string models_dir_;
  std::string manifest_;
};

// ---- create ----

TEST_F(RegistryTest, MissingManifestIsNotFound) {
  const std::string missing = dir_.file("no-manifest.json");
  auto r = ModelRegistry::create({missing, models_dir_});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(missing));
}

TEST_F(RegistryTest, MalformedJsonIsInvalidInput) {
  write_file(manifest_, R"({"schema": 1, "models": [ {"name": "det", )");
  auto r = ModelRegistry::create({manifest_, models_dir_});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr(manifest_));
  EXPECT_THAT(r.status().message(), HasSubstr("JSON"));
}

TEST_F(RegistryTest, EntryWithoutRequiredFieldIsInvalidInput) {
  write_file(manifest_, R"({"models": [{"name": "det", "role": "detector"}]})");  // no "file"
  auto r = ModelRegistry::create({manifest_, models_dir_});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr(manifest_));

  write_file(manifest_, R"({"schema": 1})");  // no "models"
  r = ModelRegistry::create({manifest_, models_dir_});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
}

TEST_F(RegistryTest, ModelsDirThatIsAFileIsPermissionDenied) {
  const std::string not_a_dir = dir_.file("models.txt");
  write_file(not_a_dir, "I am a file");
  auto r = ModelRegistry::create({manifest_, not_a_dir});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(r.status().message(), HasSubstr(not_a_dir));
  EXPECT_THAT(r.status().message(), HasSubstr("FACEWEAVE_MODELS_DIR"));
}

// As root too: the check runs in a child that drops to nobody (unprivileged.h).
TEST_F(RegistryTest, UnreadableModelsDirIsPermissionDenied) {
  make_reachable(dir_.path());
  fs::permissions(manifest_, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(models_dir_, fs::perms::none);
  const int outcome = run_unprivileged([&] {
    auto r = ModelRegistry::create({manifest_, models_dir_});
    if (r.is_ok()) return 1;
    if (r.status().code() != StatusCode::kPermissionDenied) return 2;
    return r.status().message().find(models_dir_) == std::string::npos ? 3 : 0;
  });
  fs::permissions(models_dir_, fs::perms::owner_all);
  EXPECT_EQ(outcome, 0) << "1: it was opened, 2: another error, 3: the message does not name the folder";
}

TEST_F(RegistryTest, MissingModelsDirIsAcceptedAndModelsReportMissing) {
  const std::string absent = dir_.file("not-yet-fetched");
  auto r = ModelRegistry::create({manifest_, absent});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  auto resolved = (*r)->resolve("det");
  ASSERT_FALSE(resolved.is_ok());
  EXPECT_EQ(resolved.status().code(), StatusCode::kModelError);
  EXPECT_THAT(resolved.status().message(), HasSubstr((fs::path(absent) / "det.onnx").string()));
}

TEST_F(RegistryTest, ParsesEntries) {
  write_manifest({entry_json("det", "det.onnx", "00ff"), entry_json("big", "big.onnx", "11ee", "extra")});
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  ASSERT_EQ(reg->entries().size(), 2u);
  EXPECT_EQ(reg->models_dir(), models_dir_);
  const ModelEntry* det = reg->find("det");
  ASSERT_NE(det, nullptr);
  EXPECT_EQ(det->name, "det");
  EXPECT_EQ(det->role, "detector");
  EXPECT_EQ(det->pack, "default");
  EXPECT_EQ(det->file, "det.onnx");
  EXPECT_EQ(det->sha256, "00ff");
  EXPECT_EQ(det->licence, "MIT");
  EXPECT_EQ(det->source, "npm some-pkg@1.0.0 package/model/det.onnx");
  EXPECT_EQ(det->input.shape, (std::vector<int>{1, 3, 240, 320}));
  EXPECT_EQ(det->input.layout, "NCHW");
  EXPECT_EQ(det->input.color, "rgb");
  EXPECT_EQ(det->input.mean, (std::vector<double>{127, 127, 127}));
  EXPECT_EQ(det->input.std, (std::vector<double>{128, 128, 128}));
  EXPECT_EQ(det->input.crop, "whole image");
  ASSERT_NE(reg->find("big"), nullptr);
  EXPECT_EQ(reg->find("big")->pack, "extra");
  EXPECT_EQ(reg->find("nothing"), nullptr);
}

TEST_F(RegistryTest, ExpectedPath) {
  const std::string system_file = dir_.file("system/predictor.dat");
  write_manifest({entry_json("det", "det.onnx", "00"), entry_json("sys", system_file, "00")});
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(reg->expected_path(*reg->find("det")), model_path("det.onnx"));
  EXPECT_EQ(reg->expected_path(*reg->find("sys")), system_file);  // absolute paths are used as they are
}

// ---- resolve ----

TEST_F(RegistryTest, ResolveMissingModelNamesPathAndFix) {
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  auto r = reg->resolve("det");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kModelError);
  EXPECT_THAT(r.status().message(), HasSubstr(model_path("det.onnx")));
  EXPECT_THAT(r.status().message(), HasSubstr("fetch-models.sh"));
}

TEST_F(RegistryTest, ResolveWrongContentReportsBothHashes) {
  write_file(model_path("det.onnx"), kBadBytes);
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  auto r = reg->resolve("det");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kModelError);
  EXPECT_THAT(r.status().message(), HasSubstr(sha256_hex(kGoodBytes)));  // expected
  EXPECT_THAT(r.status().message(), HasSubstr(sha256_hex(kBadBytes)));   // actual
  EXPECT_THAT(r.status().message(), HasSubstr(model_path("det.onnx")));
  EXPECT_THAT(r.status().message(), HasSubstr("fetch-models.sh"));
}

TEST_F(RegistryTest, ResolveCorrectFileGivesItsPath) {
  write_file(model_path("det.onnx"), kGoodBytes);
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  auto r = reg->resolve("det");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, model_path("det.onnx"));
  // A second resolve (served from the cache) agrees.
  auto again = reg->resolve("det");
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(*again, *r);
}

TEST_F(RegistryTest, ResolveUnknownNameIsNotFound) {
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  auto r = reg->resolve("no_such_model");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("no_such_model"));
}

TEST_F(RegistryTest, ResolveMissingPathIsNotFound) {
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  const std::string path = dir_.file("elsewhere/mine.onnx");
  auto r = reg->resolve(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
}

TEST_F(RegistryTest, PathWhoseNameMatchesAnEntryIsVerifiedAgainstIt) {
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  fs::create_directory(dir_.file("copies"));
  const std::string copy = dir_.file("copies/det.onnx");

  write_file(copy, kBadBytes);
  auto bad = reg->resolve(copy);
  ASSERT_FALSE(bad.is_ok()) << "a corrupt copy of a manifest model was accepted";
  EXPECT_EQ(bad.status().code(), StatusCode::kModelError);
  EXPECT_THAT(bad.status().message(), HasSubstr(copy));
  EXPECT_THAT(bad.status().message(), HasSubstr(sha256_hex(kGoodBytes)));
  EXPECT_THAT(bad.status().message(), HasSubstr(sha256_hex(kBadBytes)));

  const std::string good_copy = dir_.file("copies/good/det.onnx");
  fs::create_directory(dir_.file("copies/good"));
  write_file(good_copy, kGoodBytes);
  auto good = reg->resolve(good_copy);
  ASSERT_TRUE(good.is_ok()) << good.status().to_string();
  EXPECT_EQ(*good, good_copy);  // the given path, not the models dir one
}

TEST_F(RegistryTest, UsersOwnModelPathIsAcceptedUnverified) {
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  const std::string mine = dir_.file("my_detector.onnx");
  write_file(mine, "anything at all");
  auto r = reg->resolve(mine);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, mine);
}

TEST_F(RegistryTest, ChangedFileIsRehashed) {
  write_file(model_path("det.onnx"), kGoodBytes);
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  ASSERT_TRUE(reg->resolve("det").is_ok());

  // Same size, different bytes: the cache must notice through the modification time.
  std::string tampered = kGoodBytes;
  tampered[0] = 'P';
  ASSERT_EQ(tampered.size(), kGoodBytes.size());
  const auto mtime = fs::last_write_time(model_path("det.onnx"));
  write_file(model_path("det.onnx"), tampered);
  fs::last_write_time(model_path("det.onnx"), mtime + std::chrono::seconds(2));
  auto r = reg->resolve("det");
  ASSERT_FALSE(r.is_ok()) << "a modified model file was still accepted from the hash cache";
  EXPECT_EQ(r.status().code(), StatusCode::kModelError);
  EXPECT_THAT(r.status().message(), HasSubstr(sha256_hex(tampered)));

  // A different size is noticed as well, and restoring the right bytes makes it resolve again.
  write_file(model_path("det.onnx"), kBadBytes + "longer");
  EXPECT_FALSE(reg->resolve("det").is_ok());
  write_file(model_path("det.onnx"), kGoodBytes);
  fs::last_write_time(model_path("det.onnx"), mtime + std::chrono::seconds(4));
  EXPECT_TRUE(reg->resolve("det").is_ok());
}

TEST_F(RegistryTest, MissingSystemFileNamesInstallCommand) {
  const std::string system_file = dir_.file("usr/share/dlib/predictor.dat");
  write_manifest({entry_json("sys", system_file, sha256_hex(kGoodBytes))});
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  auto r = reg->resolve("sys");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kModelError);
  EXPECT_THAT(r.status().message(), HasSubstr(system_file));
  EXPECT_THAT(r.status().message(), HasSubstr("install-deps.sh"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("FACEWEAVE_MODELS_DIR")));
}

TEST_F(RegistryTest, MissingExtraPackModelNamesItsSource) {
  write_manifest({entry_json("big", "big.onnx", sha256_hex(kGoodBytes), "extra")});
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  auto r = reg->resolve("big");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kModelError);
  EXPECT_THAT(r.status().message(), HasSubstr(model_path("big.onnx")));
  EXPECT_THAT(r.status().message(), HasSubstr("some-pkg@1.0.0"));
}

// ---- check ----

TEST_F(RegistryTest, CheckReportsPresentAndVerified) {
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  const ModelEntry& det = *reg->find("det");

  ModelFileState missing = reg->check(det);
  EXPECT_EQ(missing.path, model_path("det.onnx"));
  EXPECT_FALSE(missing.present);
  EXPECT_FALSE(missing.verified);
  EXPECT_TRUE(missing.actual_sha256.empty());

  write_file(model_path("det.onnx"), kBadBytes);
  ModelFileState wrong = reg->check(det);
  EXPECT_TRUE(wrong.present);
  EXPECT_FALSE(wrong.verified);
  EXPECT_EQ(wrong.actual_sha256, sha256_hex(kBadBytes));

  write_file(model_path("det.onnx"), kGoodBytes);
  fs::last_write_time(model_path("det.onnx"),
                      fs::last_write_time(model_path("det.onnx")) + std::chrono::seconds(2));
  ModelFileState good = reg->check(det);
  EXPECT_TRUE(good.present);
  EXPECT_TRUE(good.verified);
  EXPECT_EQ(good.actual_sha256, sha256_hex(kGoodBytes));
}

TEST_F(RegistryTest, CheckTreatsAFolderAsNotPresent) {
  fs::create_directory(model_path("det.onnx"));
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  ModelFileState st = reg->check(*reg->find("det"));
  EXPECT_FALSE(st.present);
  EXPECT_FALSE(st.verified);
}

ModelEntry make_entry(const std::string& pack, const std::string& file, const std::string& source) {
  ModelEntry e;
  e.name = "m";
  e.pack = pack;
  e.file = file;
  e.source = source;
  return e;
}

TEST_F(RegistryTest, FolderAtTheModelPathDoesNotResolve) {
  fs::create_directory(model_path("det.onnx"));
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  auto r = reg->resolve("det");
  ASSERT_FALSE(r.is_ok()) << "a folder resolved as model det: " << *r;
  EXPECT_THAT(r.status().message(), HasSubstr(model_path("det.onnx")));
}

TEST(FixCommandTest, DependsOnPackAndLocation) {
  EXPECT_THAT(fix_command_for(make_entry("default", "a.onnx", "npm x")), HasSubstr("fetch-models.sh"));
  ModelEntry system_file = make_entry("default", "/usr/share/b.dat", "Debian package b");
  EXPECT_THAT(fix_command_for(system_file), HasSubstr("install-deps.sh"));
  EXPECT_THAT(fix_command_for(system_file), HasSubstr("Debian package b"));
  EXPECT_THAT(fix_command_for(make_entry("extra", "c.onnx", "https://example.org/c.onnx")),
              HasSubstr("https://example.org/c.onnx"));
  ModelEntry downloadable = make_entry("full", "d.onnx", "https://example.org/d.onnx");
  downloadable.name = "d";
  downloadable.url = "https://example.org/d.onnx";
  EXPECT_THAT(fix_command_for(downloadable), HasSubstr("faceweave models download d"));
}

// An entry pinned only by CRC32 (what FaceFusion publishes) is verified by CRC32; one pinned by nothing is
// accepted but reported as unpinned.
TEST_F(RegistryTest, Crc32PinnedAndUnpinnedEntries) {
  std::string crc_entry =
      R"({"name": "c", "role": "landmarker", "pack": "full", "file": "c.onnx", "sha256": "",
      "crc32": "cbf43926", "source": {"kind": "url", "url": "https://example.org/c.onnx"}})";
  std::string free_entry =
      R"({"name": "u", "role": "landmarker", "pack": "full", "file": "u.onnx", "sha256": "",
      "crc32_url": "https://example.org/u.hash", "source": {"kind": "url", "url": "https://example.org/u.onnx"}})";
  write_manifest({crc_entry, free_entry});
  write_file(model_path("c.onnx"), "123456789");  // CRC-32 cbf43926
  write_file(model_path("u.onnx"), "anything");
  auto reg = make();
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(reg->find("c")->url, "https://example.org/c.onnx");
  EXPECT_EQ(reg->find("u")->crc32_url, "https://example.org/u.hash");
  auto c = reg->check(*reg->find("c"));
  EXPECT_TRUE(c.pinned);
  EXPECT_TRUE(c.verified);
  EXPECT_TRUE(reg->resolve("c").is_ok());
  auto u = reg->check(*reg->find("u"));
  EXPECT_FALSE(u.pinned);
  EXPECT_FALSE(u.verified);
  EXPECT_TRUE(reg->resolve("u").is_ok());
  write_file(model_path("c.onnx"), "12345678X");
  auto bad = reg->resolve("c");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("expected crc32 cbf43926"));
}

// The project's own manifest parses and every entry carries a full sha256.
TEST(ProjectManifestTest, ParsesWithFullHashes) {
  TempDir dir;
  auto r = ModelRegistry::create({::faceweave::testing::manifest_path(), dir.path()});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_FALSE((*r)->entries().empty());
  for (const ModelEntry& e : (*r)->entries()) {
    EXPECT_FALSE(e.name.empty());
    EXPECT_FALSE(e.role.empty()) << e.name;
    EXPECT_FALSE(e.file.empty()) << e.name;
    // Every entry pins a full sha256, except downloadable ones whose publisher gives only a CRC32 file.
    if (e.sha256.empty() && e.pack == "full") {
      EXPECT_FALSE(e.crc32_url.empty()) << e.name << " has neither a sha256 nor a published CRC32";
    } else {
      EXPECT_EQ(e.sha256.size(), 64u) << e.name;
      EXPECT_EQ(e.sha256.find_first_not_of("0123456789abcdef"), std::string::npos) << e.name;
    }
    if (e.pack == "full") {
      EXPECT_TRUE(e.url.starts_with("https://")) << e.name;
      EXPECT_GT(e.size, 0) << e.name;
    }
    EXPECT_EQ((*r)->find(e.name), &e) << "duplicate name " << e.name;
  }
}

}  // namespace
}  // namespace faceweave::infer
