// Shared pieces of the faceweave command line: global options, the one place where a Status becomes an
// exit code and a message, and the sub-command registrations (one file each).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "faceweave/options.h"
#include "faceweave/status.h"

namespace faceweave::cli {

struct GlobalOptions {
  EngineOptions engine;
  bool verbose = false;
};

// Exit codes (docs/cli.md): 0 ok, 1 internal, 2 invalid argument, 3 not found, 4 invalid input,
// 5 unsupported, 6 model error, 7 permission denied, 8 I/O error, 9 no face, 130 cancelled.
int exit_code_for(const Status& status);
// Prints "faceweave: error: <message>" to stderr and returns the exit code.
int report(const Status& status);

void add_models_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_analyse_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_swap_command(CLI::App& app, GlobalOptions& global, int& exit_code);

}  // namespace faceweave::cli
