// faceweave models list | verify
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
                       {"sha256", m.expected_sha256}});
      std::cout << out.dump(2) << "\n";
      return;
    }
    std::cout << std::left << std::setw(16) << "NAME" << std::setw(16) << "ROLE" << std::setw(9) << "PACK"
              << std::setw(10) << "STATE"
              << "PATH\n";
    for (const auto& m : *infos) {
      std::string state = !m.present ? "missing" : (m.verified ? "verified" : "BAD HASH");
      std::cout << std::setw(16) << m.name << std::setw(16) << m.role << std::setw(9) << m.pack
                << std::setw(10) << state << m.path << "\n";
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
      if (!m.present) {
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
}

}  // namespace faceweave::cli
