#include "infer/model_registry.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "infer/downloader.h"
#include "infer/sha256.h"

namespace faceweave::infer {
namespace fs = std::filesystem;
namespace {

std::string describe_source(const nlohmann::json& s) {
  std::string kind = s.value("kind", "");
  if (kind == "npm") return "npm " + s.value("package", "") + " " + s.value("path", "");
  if (kind == "debian") return "Debian package " + s.value("package", "") + " (" + s.value("path", "") + ")";
  if (kind == "url") return s.value("url", "");
  return kind;
}

std::string file_stamp(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  auto time = fs::last_write_time(path, ec);
  return std::to_string(size) + ":" + std::to_string(time.time_since_epoch().count());
}

}  // namespace

std::string fix_command_for(const ModelEntry& entry) {
  if (entry.pack == "default") {
    if (entry.file.starts_with("/")) return "scripts/install-deps.sh (installs " + entry.source + ")";
    return "scripts/fetch-models.sh (or make setup)";
  }
  if (!entry.url.empty())
    return "`faceweave models download " + entry.name + "` (or download it from " + entry.source +
           " into the models directory)";
  return "download it from " + entry.source + " into the models directory";
}

Result<std::unique_ptr<ModelRegistry>> ModelRegistry::create(const ModelRegistryOptions& options) {
  std::ifstream in(options.manifest_path);
  if (!in)
    return not_found("model manifest " + options.manifest_path +
                     " cannot be read; run faceweave from its build or set FACEWEAVE_MANIFEST");
  nlohmann::json doc;
  try {
    in >> doc;
  } catch (const nlohmann::json::exception& e) {
    return invalid_input("model manifest " + options.manifest_path + " is not valid JSON: " + e.what());
  }
  std::unique_ptr<ModelRegistry> reg(new ModelRegistry());
  reg->models_dir_ = options.models_dir;
  try {
    for (const auto& m : doc.at("models")) {
      ModelEntry e;
      e.name = m.at("name").get<std::string>();
      e.role = m.at("role").get<std::string>();
      e.kind = m.value("kind", "");
      e.unsupported = m.value("unsupported", "");
      e.pack = m.value("pack", "extra");
      e.file = m.at("file").get<std::string>();
      e.sha256 = m.value("sha256", "");
      e.licence = m.value("licence", "");
      e.source = m.contains("source") ? describe_source(m["source"]) : "";
      if (m.contains("source") && m["source"].value("kind", "") == "url")
        e.url = m["source"].value("url", "");
      e.crc32 = m.value("crc32", "");
      e.crc32_url = m.value("crc32_url", "");
      e.size = m.value("size", int64_t{0});
      if (m.contains("input")) {
        const auto& i = m["input"];
        e.input.shape = i.value("shape", std::vector<int>{});
        e.input.layout = i.value("layout", "");
        e.input.color = i.value("color", "");
        e.input.mean = i.value("mean", std::vector<double>{});
        e.input.std = i.value("std", std::vector<double>{});
        e.input.crop = i.value("crop", "");
        e.input.warp_template = i.value("template", "");
      }
      reg->entries_.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& e) {
    return invalid_input("model manifest " + options.manifest_path + " has a malformed entry: " + e.what());
  }

  std::error_code ec;
  auto st = fs::status(options.models_dir, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st))
      return permission_denied(
          "models directory " + options.models_dir +
          " is not a directory; point FACEWEAVE_MODELS_DIR at the folder that holds the models");
    if (::access(options.models_dir.c_str(), R_OK | X_OK) != 0)
      return permission_denied(
          "models directory " + options.models_dir +
          " cannot be read (permission denied); fix its permissions or set FACEWEAVE_MODELS_DIR");
    fs::directory_iterator probe(options.models_dir, ec);
    if (ec)
      return permission_denied("models directory " + options.models_dir + " cannot be read (" + ec.message() +
                               "); fix its permissions or set FACEWEAVE_MODELS_DIR");
  }
  return reg;
}

const ModelEntry* ModelRegistry::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::string ModelRegistry::expected_path(const ModelEntry& entry) const {
  if (fs::path(entry.file).is_absolute()) return entry.file;
  return (fs::path(models_dir_) / entry.file).string();
}

Result<bool> ModelRegistry::verify_cached(const std::string& path, const ModelEntry& entry,
                                          std::string* actual) const {
  const std::string kind = entry.checksum_kind();
  const std::string& expected = kind == "crc32" ? entry.crc32 : entry.sha256;
  std::string stamp = kind + ":" + file_stamp(path);
  {
    std::lock_guard lock(cache_mutex_);
    auto it = hash_cache_.find(path);
    if (it != hash_cache_.end() && it->second.first == stamp) {
      *actual = it->second.second;
      return *actual == expected;
    }
  }
  std::string hash;
  if (kind == "crc32") {
    FW_ASSIGN_OR_RETURN(hash, crc32_file(path));
  } else {
    FW_ASSIGN_OR_RETURN(hash, sha256_file(path));
  }
  {
    std::lock_guard lock(cache_mutex_);
    hash_cache_[path] = {stamp, hash};
  }
  *actual = hash;
  return hash == expected;
}

ModelFileState ModelRegistry::check(const ModelEntry& entry) const {
  ModelFileState state;
  state.path = expected_path(entry);
  std::error_code ec;
  state.present = fs::is_regular_file(state.path, ec);
  state.pinned = !entry.checksum_kind().empty();
  if (!state.present || !state.pinned) return state;
  auto ok = verify_cached(state.path, entry, &state.actual_sha256);
  state.verified = ok.is_ok() && ok.value();
  return state;
}

Result<std::string> ModelRegistry::resolve(const std::string& name_or_path) const {
  const ModelEntry* entry = find(name_or_path);
  std::string path;
  if (entry) {
    path = expected_path(*entry);
  } else {
    path = name_or_path;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      if (name_or_path.find('/') == std::string::npos && name_or_path.find('.') == std::string::npos)
        return not_found("unknown model '" + name_or_path +
                         "'; `faceweave models list` shows the known names");
      return not_found("model file " + path + " does not exist; check the path");
    }
    std::string base = fs::path(path).filename().string();
    for (const auto& e : entries_)
      if (fs::path(e.file).filename().string() == base) entry = &e;
    if (!entry) return path;  // a user's own model file: nothing to verify it against
  }
  if (!entry->unsupported.empty())
    return unsupported("model " + entry->name + " is unsupported on this build: " + entry->unsupported);
  std::error_code ec;
  if (!fs::exists(path, ec))
    return model_error(
        "model " + entry->name + " is missing: expected " + path + "; run " + fix_command_for(*entry) +
        (entry->file.starts_with("/") ? "" : ", or set FACEWEAVE_MODELS_DIR to the folder that has it"));
  if (::access(path.c_str(), R_OK) != 0)
    return permission_denied("model file " + path +
                             " cannot be read (permission denied); fix its permissions");
  if (entry->checksum_kind().empty()) {
    core::log_warning("model " + entry->name + " at " + path +
                      " has no pinned checksum in the manifest; it is used unverified");
    return path;
  }
  std::string actual;
  FW_ASSIGN_OR_RETURN(bool ok, verify_cached(path, *entry, &actual));
  if (!ok)
    return model_error(
        "model " + entry->name + " at " + path + " failed verification: expected " + entry->checksum_kind() +
        " " + (entry->sha256.empty() ? entry->crc32 : entry->sha256) + ", got " + actual +
        "; the file is corrupt or a different version: delete it and run " + fix_command_for(*entry));
  return path;
}

}  // namespace faceweave::infer
