#include "cli_docs.h"

#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace faceweave::cli {
namespace {

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

// "TEXT:{cpu,cuda}" -> {"cpu", "cuda"}; the validators' descriptions follow the type after ':'.
std::vector<std::string> choices_of(const std::string& type_name) {
  const size_t open = type_name.find(":{"), close = type_name.find('}', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return {};
  std::vector<std::string> out;
  std::stringstream in(type_name.substr(open + 2, close - open - 2));
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string type_of(const std::string& type_name) {
  std::string t = type_name.substr(0, type_name.find(':'));
  if (const size_t eq = t.find('='); eq != std::string::npos) t = t.substr(0, eq);
  return t.empty() ? "VALUE" : t;
}

// Single-quoted for a shell.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Every spelling of a command's path, aliases included ("faceweave analyse", "faceweave analyze").
std::vector<std::string> spellings(const CommandDoc& c,
                                   const std::map<const CommandDoc*, const CommandDoc*>& parent) {
  auto up = parent.find(&c);
  if (up == parent.end() || up->second == nullptr) return {c.names.front()};
  std::vector<std::string> out;
  for (const auto& prefix : spellings(*up->second, parent))
    for (const auto& n : c.names) out.push_back(prefix + " " + n);
  return out;
}

std::map<const CommandDoc*, const CommandDoc*> parents(const std::vector<CommandDoc>& commands) {
  std::map<const CommandDoc*, const CommandDoc*> out;
  for (const auto& c : commands) {
    out.emplace(&c, nullptr);
    for (const CommandDoc* child : c.children) out[child] = &c;
  }
  return out;
}

// The shell-independent part of both scripts: which words move to a sub-command, which options take a value.
struct Script {
  std::vector<std::pair<std::string, std::string>> moves;  // "path word" -> the child's canonical path
  std::vector<std::pair<std::string, std::vector<std::string>>> value_options;  // "path|opt" -> choices
};

Script script(const std::vector<CommandDoc>& commands) {
  Script s;
  const auto up = parents(commands);
  for (const auto& c : commands) {
    for (const CommandDoc* child : c.children)
      for (const auto& from : spellings(c, up))
        for (const auto& n : child->names) s.moves.emplace_back(from + " " + n, child->path);
    for (const auto& o : c.options)
      if (!o.value.empty())
        for (const auto& n : o.names) s.value_options.emplace_back(c.path + "|" + n, o.choices);
  }
  return s;
}

std::string roff(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

}  // namespace

std::vector<CommandDoc> describe_commands(const CLI::App& root, const std::string& program) {
  // Two passes: first collect every App in order, so `children` can point into a vector that no longer grows.
  std::vector<std::pair<const CLI::App*, std::string>> apps;
  std::function<void(const CLI::App*, const std::string&)> walk = [&](const CLI::App* app,
                                                                      const std::string& path) {
    apps.emplace_back(app, path);
    for (const CLI::App* sub : app->get_subcommands([](const CLI::App* a) { return !a->get_name().empty(); }))
      if (!sub->get_group().empty()) walk(sub, path + " " + sub->get_name());
  };
  walk(&root, program);
  std::vector<CommandDoc> out(apps.size());
  std::map<const CLI::App*, size_t> index;
  for (size_t i = 0; i < apps.size(); ++i) {
    const auto& [app, path] = apps[i];
    index[app] = i;
    CommandDoc& c = out[i];
    c.path = path;
    c.names = {app == &root ? program : app->get_name()};
    for (const auto& a : app->get_aliases()) c.names.push_back(a);
    c.description = app->get_description();
    for (const CLI::Option* o : app->get_options()) {
      if (o->get_group().empty()) continue;  // hidden
      if (!o->nonpositional()) {
        c.positionals.push_back(o->get_name(true));
        continue;
      }
      CommandDoc::OptionDoc d;
      for (const auto& n : o->get_snames()) d.names.push_back("-" + n);
      for (const auto& n : o->get_lnames()) d.names.push_back("--" + n);
      d.description = o->get_description();
      if (o->get_type_size_max() > 0) {
        const std::string type_name = o->get_type_name();
        d.value = type_of(type_name);
        d.choices = choices_of(type_name);
      }
      d.required = o->get_required();
      c.options.push_back(std::move(d));
    }
  }
  for (size_t i = 0; i < apps.size(); ++i)
    for (const CLI::App* sub :
         apps[i].first->get_subcommands([](const CLI::App* a) { return !a->get_name().empty(); }))
      if (auto it = index.find(sub); it != index.end()) out[i].children.push_back(&out[it->second]);
  return out;
}

std::string bash_completion(const std::vector<CommandDoc>& commands) {
  const Script s = script(commands);
  const std::string program = commands.front().names.front();
  const std::string fn = "_" + program;
  std::ostringstream o;
  o << "# bash completion for " << program << "; generated by `" << program
    << " completions bash` from its command line.\n"
    << fn << "() {\n"
    << "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" path="
    << quoted(program) << " i\n"
    << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
    << "    case \"$path ${COMP_WORDS[i]}\" in\n";
  std::map<std::string, std::vector<std::string>> by_target;
  for (const auto& [from, to] : s.moves) by_target[to].push_back(quoted(from));
  for (const auto& [to, froms] : by_target)
    o << "      " << join(froms, "|") << ") path=" << quoted(to) << " ;;\n";
  o << "    esac\n  done\n"
    << "  case \"$path|$prev\" in\n";
  std::vector<std::string> files;
  for (const auto& [key, choices] : s.value_options) {
    if (choices.empty()) {
      files.push_back(quoted(key));
    } else {
      o << "    " << quoted(key) << ") COMPREPLY=($(compgen -W " << quoted(join(choices, " "))
        << " -- \"$cur\")); return ;;\n";
    }
  }
  if (!files.empty()) o << "    " << join(files, "|") << ") COMPREPLY=(); return ;;  # a value: files\n";
  o << "  esac\n  local words\n  case \"$path\" in\n";
  for (const auto& c : commands) {
    std::vector<std::string> opts, subs;
    for (const auto& op : c.options)
      for (const auto& n : op.names) opts.push_back(n);
    for (const CommandDoc* child : c.children)
      for (const auto& n : child->names) subs.push_back(n);
    o << "    " << quoted(c.path) << ") if [[ $cur == -* ]]; then words=" << quoted(join(opts, " "))
      << "; else words=" << quoted(join(subs, " ")) << "; fi ;;\n";
  }
  o << "  esac\n"
    << "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
    << "}\n"
    << "complete -o default -F " << fn << " " << program << "\n";
  return o.str();
}

std::string zsh_completion(const std::vector<CommandDoc>& commands) {
  const Script s = script(commands);
  const std::string program = commands.front().names.front();
  // _describe reads "name:description"; a ':' in the name is escaped.
  auto described = [](const std::string& name, const std::string& description) {
    std::string n;
    for (char c : name) n += c == ':' ? std::string("\\:") : std::string(1, c);
    return quoted(n + ":" + description.substr(0, description.find('\n')));
  };
  std::ostringstream o;
  o << "#compdef " << program << "\n"
    << "# zsh completion for " << program << "; generated by `" << program
    << " completions zsh` from its command line.\n"
    << "_" << program << "() {\n"
    << "  local path_=" << quoted(program) << " i\n"
    << "  for ((i = 2; i < CURRENT; i++)); do\n"
    << "    case \"$path_ ${words[i]}\" in\n";
  std::map<std::string, std::vector<std::string>> by_target;
  for (const auto& [from, to] : s.moves) by_target[to].push_back(quoted(from));
  for (const auto& [to, froms] : by_target)
    o << "      (" << join(froms, "|") << ") path_=" << quoted(to) << " ;;\n";
  o << "    esac\n  done\n"
    << "  case \"$path_|${words[CURRENT-1]}\" in\n";
  std::vector<std::string> files;
  for (const auto& [key, choices] : s.value_options) {
    if (choices.empty()) {
      files.push_back(quoted(key));
    } else {
      std::vector<std::string> q;
      for (const auto& c : choices) q.push_back(quoted(c));
      o << "    (" << quoted(key) << ") compadd -- " << join(q, " ") << "; return ;;\n";
    }
  }
  if (!files.empty()) o << "    (" << join(files, "|") << ") _files; return ;;\n";
  o << "  esac\n  local -a entries\n  case \"$path_\" in\n";
  for (const auto& c : commands) {
    std::vector<std::string> opts, subs;
    for (const auto& op : c.options)
      for (const auto& n : op.names) opts.push_back(described(n, op.description));
    for (const CommandDoc* child : c.children)
      for (const auto& n : child->names) subs.push_back(described(n, child->description));
    o << "    (" << quoted(c.path) << ")\n"
      << "      if [[ $PREFIX == -* ]]; then entries=(" << join(opts, " ") << "); _describe option entries\n"
      << "      else entries=(" << join(subs, " ") << "); "
      << (subs.empty() ? "_files" : "_describe command entries") << "; fi ;;\n";
  }
  o << "  esac\n}\n"
    << "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _" << program << " \"$@\"; else compdef _"
    << program << " " << program << "; fi\n";
  return o.str();
}

std::string man_page(const std::vector<CommandDoc>& commands, const std::string& version) {
  const CommandDoc& root = commands.front();
  const std::string program = root.names.front();
  std::string upper = program;
  for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
  std::ostringstream o;
  o << ".\\\" Generated by `" << program << " man` from the command line; edit the program, not this file.\n"
    << ".TH " << upper << " 1 \"\" \"" << program << " " << version << "\" \"User Commands\"\n"
    << ".SH NAME\n"
    << program << " \\- "
    << roff(root.description.substr(
           root.description.find(": ") == std::string::npos ? 0 : root.description.find(": ") + 2))
    << "\n"
    << ".SH SYNOPSIS\n"
    << ".B " << program << "\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n"
    << ".SH DESCRIPTION\n"
    << roff(root.description) << "\n"
    << ".PP\nEach command takes \\fB\\-\\-help\\fR. The full documentation is in the docs folder of the "
       "source "
       "tree (cli.md, api.md, telemetry.md, privacy.md).\n";
  auto options = [&](const CommandDoc& c) {
    for (const auto& op : c.options) {
      o << ".TP\n";
      std::vector<std::string> names;
      for (const auto& n : op.names) names.push_back("\\fB" + roff(n) + "\\fR");
      o << join(names, ", ");
      if (!op.value.empty())
        o << " \\fI" << roff(op.choices.empty() ? op.value : join(op.choices, "|")) << "\\fR";
      o << "\n"
        << roff(op.description.empty() ? "(no description)" : op.description)
        << (op.required ? " Required." : "") << "\n";
    }
  };
  o << ".SH OPTIONS\n";
  options(root);
  o << ".SH COMMANDS\n";
  for (size_t i = 1; i < commands.size(); ++i) {
    const CommandDoc& c = commands[i];
    const std::string sub = c.path.substr(program.size() + 1);
    o << ".SS \"" << roff(sub) << "\"\n";
    if (c.names.size() > 1)
      o << "Also: " << roff(join(std::vector<std::string>(c.names.begin() + 1, c.names.end()), ", "))
        << ".\n.br\n";
    o << roff(c.description.empty() ? "(no description)" : c.description) << "\n";
    if (!c.positionals.empty()) {
      std::vector<std::string> p;
      for (const auto& n : c.positionals) p.push_back("\\fI" + roff(n) + "\\fR");
      o << ".PP\nArguments: " << join(p, " ") << "\n";
    }
    options(c);
  }
  o << ".SH EXIT STATUS\n"
    << "0 ok, 1 internal error, 2 invalid argument, 3 not found, 4 invalid input, 5 unsupported, 6 model "
       "error, "
       "7 permission denied, 8 I/O error, 9 no face, 130 cancelled.\n"
    << ".SH ENVIRONMENT\n"
    << ".TP\n.B FACEWEAVE_MODELS_DIR\nFolder with the model files.\n"
    << ".TP\n.B FACEWEAVE_MANIFEST\nThe model manifest.\n"
    << ".TP\n.B FACEWEAVE_DATA_DIR\nFolder for telemetry, jobs and uploads (default "
       "~/.local/share/faceweave).\n"
    << ".TP\n.B FACEWEAVE_TELEMETRY\nTelemetry level: off, errors, usage or all.\n"
    << ".TP\n.B FACEWEAVE_TOKEN\nThe token of \\fBfaceweave serve\\fR.\n"
    << ".SH SEE ALSO\n"
    << "The REST API's OpenAPI document: \\fBGET /api/openapi.json\\fR on a running \\fBfaceweave "
       "serve\\fR.\n";
  return o.str();
}

}  // namespace faceweave::cli
