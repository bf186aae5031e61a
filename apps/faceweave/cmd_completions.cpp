// `faceweave completions bash|zsh` and `faceweave man`: generated from the command line itself (cli_docs.h).
#include <iostream>

#include "cli.h"
#include "cli_docs.h"

namespace faceweave::cli {

void add_completions_command(CLI::App& app, GlobalOptions&, int& exit_code) {
  auto* completions = app.add_subcommand("completions", "Print the shell completion script (bash or zsh)");
  static std::string shell;
  completions->add_option("shell", shell, "bash | zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  completions->callback([&app, &exit_code] {
    const auto commands = describe_commands(app, app.get_name());
    std::cout << (shell == "bash" ? bash_completion(commands) : zsh_completion(commands));
    exit_code = 0;
  });
  auto* man = app.add_subcommand("man", "Print the manual page (roff; `faceweave man | man -l -`)");
  man->callback([&app, &exit_code] {
    std::cout << man_page(describe_commands(app, app.get_name()), FACEWEAVE_VERSION);
    exit_code = 0;
  });
}

}  // namespace faceweave::cli
