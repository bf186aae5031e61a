// Library messages in the words of the command line: option keys become the flags a user typed
// (identity_strength -> --identity-strength) and numbers lose the zeros std::to_string pads them with
// (1.500000 -> 1.5).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace faceweave::cli {

// The command line whose flags the messages name (set once in main).
void set_message_app(const CLI::App* app);

std::string in_cli_words(const std::string& message);

}  // namespace faceweave::cli
