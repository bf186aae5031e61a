// faceweave insights [view] [--from --to --version --platform] [--json|--csv]: the analytics views in the
// terminal (docs/analytics.md), `faceweave insights rebuild` and `faceweave insights platforms`.
#include <iostream>

#include "cli.h"
#include "cmd_share.h"
#include "faceweave/analytics.h"
#include "faceweave/fleet.h"

namespace faceweave::cli {
namespace {

struct InsightsArgs {
  std::string view = "usage";
  InsightsFilter filter;
  AbOptions ab;
  int weeks = 8;
  bool json = false, csv = false;
  EventQuery events;               // view "events"
  std::vector<std::string> props;  // --prop KEY=VALUE
  std::string database_url;        // the fleet's events instead of this node's
  std::vector<std::string> files;  // merge: share files
};

void print_table(const InsightsTable& t, const InsightsArgs& args) {
  if (args.json)
    std::cout << t.to_json().dump(2) << "\n";
  else if (args.csv)
    std::cout << t.to_csv();
  else
    std::cout << t.to_text();
}

}  // namespace

void add_insights_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<InsightsArgs>();
  std::string list;
  for (const auto& v : Analytics::views()) list += (list.empty() ? "" : ", ") + v;
  CLI::App* cmd = app.add_subcommand(
      "insights", "Usage analytics from the local telemetry database (views: " + list + ")");
  cmd->add_option("view", args->view, "Which view: " + list + " (default usage)");
  cmd->add_option("files", args->files, "merge: the share files of `faceweave telemetry share`");
  cmd->add_option("--from", args->filter.from, "First day, YYYY-MM-DD (UTC)");
  cmd->add_option("--to", args->filter.to, "Last day, YYYY-MM-DD (UTC)");
  cmd->add_option("--version", args->filter.version, "Only events of this app version");
  std::string platforms;
  for (const auto& p : Analytics::known_platforms()) platforms += (platforms.empty() ? "" : ", ") + p;
  cmd->add_option("--platform", args->filter.platform, "Only sessions of this platform: " + platforms);
  cmd->add_option("--media", args->filter.media, "latency: only stage times of image or video runs")
      ->check(CLI::IsMember({"image", "video"}));
  cmd->add_option(
         "--by", args->filter.by,
         "latency: group by the output resolution (resolution, the default) or the target's (input); "
         "ab: compare app versions (version, the default) or defaults profiles (profile)")
      ->check(CLI::IsMember({"resolution", "input", "version", "profile"}));
  cmd->add_option("--with", args->filter.with,
                  "latency: compare runs that set OPTION=VALUE (color_match=none) with the other runs");
  cmd->add_option("--k", args->filter.k,
                  "every view: show cells of fewer than k users as \"< k\" (k-anonymity)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--weeks", args->weeks, "retention: weeks after the first session (1..52)")
      ->capture_default_str();
  cmd->add_option("--metric", args->ab.metric,
                  "ab: the rate metric, or OPTION=VALUE (share of swap runs that set it, color_match=none)")
      ->capture_default_str();
  cmd->add_option("--a", args->ab.a,
                  "ab: version (profile with --by profile; (none): runs without one) of arm a (default: the "
                  "smaller of the two with the most runs)");
  cmd->add_option("--b", args->ab.b, "ab: version (or profile) of arm b");
  cmd->add_option("--alpha", args->ab.alpha, "ab: significance level")->capture_default_str();
  cmd->add_option("--power", args->ab.power, "ab: power of the sample-size calculator")
      ->capture_default_str();
  cmd->add_option("--mde", args->ab.mde,
                  "ab: minimum detectable difference (absolute; default 20% of a's rate)");
  cmd->add_option("--min-sample", args->ab.min_sample, "ab: fewest trials per arm for a verdict")
      ->capture_default_str();
  cmd->add_option("--expected-share", args->ab.expected_share_a, "ab: planned share of users in arm a")
      ->capture_default_str();
  cmd->add_option("--event", args->events.event, "events: only this event (command.run, error, ...)");
  cmd->add_option("--prop", args->props,
                  "events: only events whose property KEY has VALUE (KEY=VALUE, repeatable)");
  cmd->add_option("--limit", args->events.limit, "events: rows per page (1..1000)")->capture_default_str();
  cmd->add_option("--offset", args->events.offset, "events: rows to skip (newest first)")
      ->capture_default_str();
  auto* json_flag = cmd->add_flag("--json", args->json, "Print JSON");
  cmd->add_flag("--csv", args->csv, "Print CSV")->excludes(json_flag);
  add_database_url_option(cmd, args->database_url);
  cmd->callback([args, &global, &exit_code]() {
    std::string dir = resolve_data_dir(global.telemetry_options.data_dir);
    const std::string url = database_url_or_env(args->database_url);
    // The fleet's distinct users: PostgreSQL answers from its HyperLogLog sketches (docs/fleet.md).
    if (args->view == "users" && !url.empty()) {
      auto t = fleet_users(url, args->filter.from, args->filter.to);
      if (!t) return void(exit_code = report(t.status()));
      return print_table(*t, *args);
    }
    if (!url.empty()) {
      auto fleet = fleet_insights_dir(dir, url);  // every node's events (docs/fleet.md)
      if (!fleet) return void(exit_code = report(fleet.status()));
      dir = *fleet;
    }
    if (args->view == "merge")
      return void(exit_code = run_insights_merge(args->files, args->json, args->csv));
    if (!args->files.empty())
      return void(exit_code = report(invalid_argument("unexpected argument '" + args->files[0].substr(0, 40) +
                                                      "': only `insights merge` takes files")));
    if (args->view == "rebuild") {
      auto a = Analytics::open(dir);
      if (!a) {
        exit_code = report(a.status());
        return;
      }
      auto n = (*a)->rebuild();
      if (!n) {
        exit_code = report(n.status());
        return;
      }
      std::cout << "rebuilt the rollups from " << *n << " events\n";
      return;
    }
    if (args->view == "recommend") return void(exit_code = run_recommend(dir, args->filter.k, args->json));
    if (args->view == "platforms") {
      auto a = Analytics::open(dir);
      auto p = a ? (*a)->platforms() : Result<std::vector<std::string>>(a.status());
      if (!p) {
        exit_code = report(p.status());
        return;
      }
      for (const auto& name : *p) std::cout << name << "\n";
      return;
    }
    if (args->view == "events") {
      EventQuery q = args->events;
      q.from = args->filter.from;
      q.to = args->filter.to;
      for (const auto& p : args->props) {
        auto eq = p.find('=');
        if (eq == std::string::npos) {
          exit_code = report(invalid_argument("--prop needs KEY=VALUE, not '" + p.substr(0, 40) + "'"));
          return;
        }
        q.props.emplace_back(p.substr(0, eq), p.substr(eq + 1));
      }
      auto a = Analytics::open(dir);
      auto t = a ? (*a)->events(q) : Result<InsightsTable>(a.status());
      if (!t) {
        exit_code = report(t.status());
        return;
      }
      print_table(*t, *args);
      return;
    }
    // Check the view name and filter before touching the database.
    const auto& views = Analytics::views();
    if (std::find(views.begin(), views.end(), args->view) == views.end()) {
      std::string list;
      for (const auto& v : views) list += (list.empty() ? "" : ", ") + v;
      exit_code = report(invalid_argument("unknown view '" + args->view + "'; choose one of: " + list +
                                          ", events, recommend, merge, rebuild, platforms"));
      return;
    }
    auto a = Analytics::open(dir);
    if (!a) {
      exit_code = report(a.status());
      return;
    }
    auto t = (*a)->view(args->view, args->filter, args->ab, args->weeks);
    if (!t) {
      exit_code = report(t.status());
      return;
    }
    print_table(*t, *args);
  });
}

}  // namespace faceweave::cli
