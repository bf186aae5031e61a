// faceweave telemetry share and faceweave insights merge (docs/analytics.md "Shares", docs/privacy.md).
#pragma once

#include <string>
#include <vector>

#include "cli.h"

namespace faceweave::cli {

// `faceweave telemetry share --out FILE [--epsilon E] [--k K] [--from D --to D]`.
void add_share_command(CLI::App& app, GlobalOptions& global, int& exit_code);
// `faceweave insights merge FILE... [--json|--csv]`: prints the merged view; returns the exit code.
int run_insights_merge(const std::vector<std::string>& files, bool json, bool csv);

}  // namespace faceweave::cli
