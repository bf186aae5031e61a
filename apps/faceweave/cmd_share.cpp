// faceweave telemetry share: aggregate counts that pass k (optionally noised) and per-day user sketches in
// one JSON file, never a raw event or a pseudonym; faceweave insights merge: many installs' shares as one
// view (docs/analytics.md "Shares", docs/privacy.md "Sharing").
#include "cmd_share.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "faceweave/analytics.h"
#include "faceweave/analytics_share.h"

namespace faceweave::cli {
namespace {

Status write_file(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return invalid_argument("--out " + path + " is a directory; name a file");
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return io_error("cannot write " + tmp + ": check that its folder exists and is writable");
    out << text;
    if (!out.flush()) return io_error("cannot write " + tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return io_error("cannot move the share into " + path);
  }
  return Status::ok();
}

std::string epsilon_text(double e) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", e);
  return buf;
}

}  // namespace

void add_share_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  CLI::App* telemetry = app.get_subcommand("telemetry");
  auto o = std::make_shared<ShareOptions>();
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = telemetry->add_subcommand(
      "share",
      "Write aggregate counts that pass k (optionally with Laplace noise) and per-day user sketches to a "
      "file, for `faceweave insights merge`; no raw event or pseudonym leaves");
  cmd->add_option("--out", *out, "The share file to write (JSON)")->required();
  cmd->add_option("--epsilon", o->epsilon,
                  "Add Laplace noise of scale 1/epsilon to every count (differential privacy per count); "
                  "default: no noise")
      ->check(CLI::Range(1e-6, 100.0));
  cmd->add_option("--k", o->k, "Leave out cells of fewer than k distinct users")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--from", o->from, "First day, YYYY-MM-DD (UTC)");
  cmd->add_option("--to", o->to, "Last day, YYYY-MM-DD (UTC)");
  cmd->callback([o, out, &global, &exit_code]() {
    auto a = Analytics::open(resolve_data_dir(global.telemetry_options.data_dir));
    if (!a) return void(exit_code = report(a.status()));
    auto share = make_share(**a, *o);
    if (!share) return void(exit_code = report(share.status()));
    if (Status s = write_file(*out, share->dump(1) + "\n"); !s.is_ok()) return void(exit_code = report(s));
    std::printf(
        "wrote %s: %zu option cells, %zu error groups, %zu days of active-user sketches; %d cells of fewer "
        "than k = %d users left out%s\n",
        out->c_str(), (*share)["options"].size(), (*share)["errors"].size(), (*share)["active_users"].size(),
        (*share)["suppressed_cells"].get<int>(), o->k,
        o->epsilon > 0 ? (", Laplace noise with epsilon " + epsilon_text(o->epsilon)).c_str() : "");
  });
}

int run_insights_merge(const std::vector<std::string>& files, bool json, bool csv) {
  if (files.empty()) return report(invalid_argument("insights merge needs one or more share files"));
  std::vector<nlohmann::json> shares;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return report(not_found("cannot read share file " + f));
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded()) return report(invalid_argument(f + " is not JSON (not a faceweave share)"));
    shares.push_back(std::move(j));
  }
  auto t = merge_shares(shares);
  if (!t) return report(t.status());
  if (json)
    std::cout << t->to_json().dump(2) << "\n";
  else if (csv)
    std::cout << t->to_csv();
  else
    std::cout << t->to_text();
  return 0;
}

}  // namespace faceweave::cli
