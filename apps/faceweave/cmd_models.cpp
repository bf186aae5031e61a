// faceweave models list | verify | download NAME... [--pack full]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "faceweave/engine.h"

namespace faceweave::cli {

void add_models_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto* models = app.add_subcommand("models", "List and verify the models");
  models->require_subcommand(1);

  auto* list = models->add_subcommand("list", "Every model in the manifest: role, file, present, verified");
  static bool json = false;
  list->add_flag("--json", json, "Print JSON");
  list->callback([&global, &exit_code] {
    auto infos = list_models(global.engine);
    if (!infos) {
      exit_code = report(infos.status());
      return;
    }
    if (json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& m : *infos)
        out.push_back({{"name", m.name},
                       {"role", m.role},
                       {"pack", m.pack},
                       {"path", m.path},
                       {"source", m.source},
                       {"licence", m.licence},
                       {"present", m.present},
                       {"verified", m.verified},
                       {"pinned", m.pinned},
                       {"downloadable", m.downloadable},
                       {"unsupported", m.unsupported},
                       {"sha256", m.expected_sha256}});
      std::cout << out.dump(2) << "\n";
      return;
    }
    std::cout << std::left << std::setw(20) << "NAME" << std::setw(16) << "ROLE" << std::setw(9) << "PACK"
              << std::setw(12) << "STATE"
              << "PATH\n";
    for (const auto& m : *infos) {
      std::string state =
          !m.present ? "missing" : (!m.pinned ? "unpinned" : (m.verified ? "verified" : "BAD HASH"));
      if (!m.unsupported.empty()) state = "unsupported";
      std::cout << std::setw(20) << m.name << std::setw(16) << m.role << std::setw(9) << m.pack
                << std::setw(12) << state << m.path << "\n";
      if (!m.unsupported.empty()) std::cout << "  unsupported on this build: " << m.unsupported << "\n";
    }
  });

  auto* verify = models->add_subcommand(
      "verify", "Check every model of the default pack (and any other present) against its sha256");
  verify->callback([&global, &exit_code] {
    auto infos = list_models(global.engine);
    if (!infos) {
      exit_code = report(infos.status());
      return;
    }
    int bad = 0;
    for (const auto& m : *infos) {
      if (!m.present && m.pack != "default") continue;  // optional models that are not installed are fine
      if (m.present && !m.pinned) {
        std::cout << "unpinned " << m.name << " " << m.path
                  << " (the manifest pins no checksum for it; it was checked by CRC32 when downloaded)\n";
      } else if (!m.present) {
        std::cerr << "faceweave: error: model " << m.name << " is missing: expected " << m.path << "; run "
                  << m.fix << "\n";
        ++bad;
      } else if (!m.verified) {
        std::cerr << "faceweave: error: model " << m.name << " at " << m.path
                  << " failed verification: expected sha256 " << m.expected_sha256 << ", got "
                  << m.actual_sha256 << "; delete it and run " << m.fix << "\n";
        ++bad;
      } else {
        std::cout << "ok " << m.name << " " << m.path << "\n";
      }
    }
    if (bad) {
      std::cerr << "faceweave: " << bad << " model(s) failed verification\n";
      exit_code = exit_code_for(Status(StatusCode::kModelError, ""));
    } else {
      std::cout << "all present models verified\n";
    }
  });

  static ModelDownloadOptions download_options;
  auto* download = models->add_subcommand(
      "download", "Download models by name (or a whole pack): resumable, retried, checksum-verified");
  download->add_option("names", download_options.names, "Model names (see `faceweave models list`)");
  download->add_option("--pack", download_options.pack, "Every downloadable model of this pack (full)")
      ->check(CLI::IsMember({"full", "extra"}));
  download->add_option("--retries", download_options.attempts, "Tries per file (backoff doubles from 1 s)")
      ->check(CLI::Range(1, 20))
      ->capture_default_str();
  download
      ->add_option("--stall-timeout", download_options.stall_timeout_s,
                   "Seconds without data after which a try is abandoned")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  download->callback([&global, &exit_code] {
    const bool tty = ::isatty(STDERR_FILENO);
    if (tty)
      download_options.on_progress = [](const std::string& name, int64_t done, int64_t total) {
        static auto last = std::chrono::steady_clock::time_point();
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::milliseconds(200) && done != total) return;
        last = now;
        if (total > 0)
          std::fprintf(stderr, "\r%s: %.1f / %.1f MB   ", name.c_str(), double(done) / 1e6,
                       double(total) / 1e6);
        else
          std::fprintf(stderr, "\r%s: %.1f MB   ", name.c_str(), double(done) / 1e6);
      };
    auto result = download_models(global.engine, download_options);
    if (tty) std::fprintf(stderr, "\n");
    if (!result) {
      exit_code = report(result.status());
      return;
    }
    for (const auto& d : *result) {
      if (d.already_present)
        std::cout << "present " << d.name << " " << d.path << " (already verified; nothing fetched)\n";
      else
        std::cout << "downloaded " << d.name << " " << d.path << " (" << d.bytes << " bytes, " << d.checksum
                  << (d.resumed ? ", resumed" : "") << ", " << d.attempts << " attempt(s))\n";
    }
  });
}

}  // namespace faceweave::cli
