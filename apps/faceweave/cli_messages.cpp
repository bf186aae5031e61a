#include "cli_messages.h"

#include <CLI/CLI.hpp>
#include <regex>

namespace faceweave::cli {
namespace {

const CLI::App* g_app = nullptr;

// Whether `--name` is a flag of the app or of any of its sub-commands.
bool has_flag(const CLI::App& app, const std::string& name) {
  for (const CLI::Option* o : app.get_options())
    for (const std::string& l : o->get_lnames())
      if (l == name) return true;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (has_flag(*sub, name)) return true;
  return false;
}

}  // namespace

void set_message_app(const CLI::App* app) {
  g_app = app;
}

std::string in_cli_words(const std::string& message) {
  std::string out;
  static const std::regex kKey(R"(\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b)");
  auto begin = std::sregex_iterator(message.begin(), message.end(), kKey);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    std::string flag = it->str();
    std::replace(flag.begin(), flag.end(), '_', '-');
    out += message.substr(last, size_t(it->position()) - last);
    // Only whole words outside paths and quotes: a key is followed by a space, ',', ')' or the end.
    const size_t end = size_t(it->position() + it->length());
    const bool word = end == message.size() || std::string(" ,);:").find(message[end]) != std::string::npos;
    const bool after_dash = it->position() > 0 && message[size_t(it->position()) - 1] == '-';
    out += g_app && word && !after_dash && has_flag(*g_app, flag) ? "--" + flag : it->str();
    last = end;
  }
  out += message.substr(last);
  // std::to_string's six decimals: 1.500000 -> 1.5, 100.000000 -> 100 (other numbers stay as written).
  static const std::regex kSix(R"(\b(\d+)\.(\d{6})\b)");
  std::string tidy;
  last = 0;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), kSix); it != std::sregex_iterator(); ++it) {
    std::string decimals = (*it)[2].str();
    while (!decimals.empty() && decimals.back() == '0') decimals.pop_back();
    tidy += out.substr(last, size_t(it->position()) - last) + (*it)[1].str() +
            (decimals.empty() ? "" : "." + decimals);
    last = size_t(it->position() + it->length());
  }
  return tidy + out.substr(last);
}

}  // namespace faceweave::cli
