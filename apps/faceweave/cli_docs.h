// Shell completions and the manual page, generated from the command line's own definition (the CLI11 tree
// that main.cpp builds), so they never drift from the flags: `faceweave completions bash|zsh` and
// `faceweave man` print them; the build writes them for `cmake --install` (docs/cli.md).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace faceweave::cli {

// One command of the tree: its path ("faceweave jobs submit"), its names (the name and any aliases), its
// options and its sub-commands.
struct CommandDoc {
  struct OptionDoc {
    std::vector<std::string> names;  // "-s", "--source"
    std::string description;
    std::string value;                 // "" for a flag, else the value's type ("TEXT", "INT", ...)
    std::vector<std::string> choices;  // the allowed values, when the option has a fixed set
    bool required = false;
  };
  std::string path;
  std::vector<std::string> names;
  std::string description;
  std::vector<OptionDoc> options;
  std::vector<std::string> positionals;  // "IMAGE" ...
  std::vector<const CommandDoc*> children;
};

// Every command of the tree under `root`, depth first (the root first). Hidden commands and options are left
// out.
std::vector<CommandDoc> describe_commands(const CLI::App& root, const std::string& program);

std::string bash_completion(const std::vector<CommandDoc>& commands);
std::string zsh_completion(const std::vector<CommandDoc>& commands);
// The man page in roff (man(7) macros), section 1.
std::string man_page(const std::vector<CommandDoc>& commands, const std::string& version);

}  // namespace faceweave::cli
