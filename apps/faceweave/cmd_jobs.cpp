// faceweave jobs submit|list|show|cancel: the job queue that `faceweave serve` runs (docs/api.md).
#include <glob.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli.h"
#include "faceweave/server.h"
#include "swap_flags.h"

namespace faceweave::cli {
namespace {

struct JobsArgs {
  JobSubmitRequest submit;
  std::vector<std::string> source_patterns, target_patterns;
  std::string status;
  int limit = 50;
  std::string id;
  bool json = false;
  JobQueueLocation queue;
  bool wait = false;
  std::vector<float> padding;  // --face-mask-padding as given
};

// A pattern with glob characters expands to its matches (sorted); anything else stays as it is, so a
// missing file gets the usual clear error later.
Result<std::vector<std::string>> expand(const std::vector<std::string>& patterns, const char* what) {
  std::vector<std::string> out;
  for (const auto& p : patterns) {
    if (p.find_first_of("*?[") == std::string::npos) {
      out.push_back(p);
      continue;
    }
    glob_t g{};
    const int rc = ::glob(p.c_str(), 0, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
      ::globfree(&g);
      return not_found(std::string(what) + " pattern " + p + " matches no file");
    }
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    ::globfree(&g);
  }
  return out;
}

void print_table(const std::vector<JobView>& jobs) {
  std::printf("%-26s %-9s %-5s %6s  %-20s %s\n", "ID", "STATUS", "KIND", "DONE", "CREATED", "OUTPUT / ERROR");
  for (const auto& j : jobs)
    std::printf("%-26s %-9s %-5s %5.0f%%  %-20s %s\n", j.id.c_str(), j.status.c_str(), j.kind.c_str(),
                j.progress * 100, j.created_at.c_str(), (j.error.empty() ? j.output : j.error).c_str());
}

// Waits until every job has ended (a running `faceweave serve` on the same data dir runs them), printing a
// line as each one ends. Returns 0 when all are done, else 1.
int wait_for(const JobQueueLocation& queue, const std::vector<JobView>& queued, bool json) {
  std::vector<std::string> open;
  for (const auto& j : queued) open.push_back(j.id);
  int failed = 0;
  if (!json)
    std::fprintf(stderr,
                 "waiting for %zu job(s); `faceweave serve --data-dir` on this data dir runs them (Ctrl-C "
                 "stops waiting, the jobs stay queued)\n",
                 open.size());
  while (!open.empty()) {
    for (auto it = open.begin(); it != open.end();) {
      auto job = show_job(queue, *it);
      if (!job) return report(job.status());
      const bool ended = job->status == "done" || job->status == "failed" || job->status == "cancelled";
      if (!ended) {
        ++it;
        continue;
      }
      if (json)
        std::cout << job->json << "\n" << std::flush;
      else if (job->status == "done")
        std::printf("%s done: %s\n", job->id.c_str(), job->output.c_str());
      else
        std::printf("%s %s%s%s\n", job->id.c_str(), job->status.c_str(), job->error.empty() ? "" : ": ",
                    job->error.c_str());
      std::fflush(stdout);
      if (job->status != "done") ++failed;
      it = open.erase(it);
    }
    if (!open.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return failed ? 1 : 0;
}

void print(const std::vector<JobView>& jobs, bool json) {
  if (!json) return print_table(jobs);
  std::cout << "[";
  for (size_t i = 0; i < jobs.size(); ++i) std::cout << (i ? ",\n " : "") << jobs[i].json;
  std::cout << "]\n";
}

}  // namespace

void add_jobs_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  static JobsArgs args;
  auto* jobs = app.add_subcommand("jobs", "Queue, list, show and cancel jobs that `faceweave serve` runs");
  jobs->require_subcommand(1);
  jobs->fallthrough();  // `jobs list --database-url ...` as well as `jobs --database-url ... list`
  add_database_url_option(jobs, args.queue.database_url);
  jobs->add_option("--media-dir", args.queue.media_dir,
                   "The fleet's shared folder: submitted jobs write their results under it");
  // The queue, once the flags (global ones included) are parsed.
  auto queue = [&global] {
    JobQueueLocation q = args.queue;
    q.data_dir = global.telemetry_options.data_dir;
    q.database_url = database_url_or_env(q.database_url);
    return q;
  };

  auto* submit = jobs->add_subcommand("submit", "Queue a swap of every source x target (globs allowed)");
  submit->add_option("-s,--source", args.source_patterns, "Source photo(s) or glob(s)")->required();
  submit->add_option("-t,--target", args.target_patterns, "Target image(s)/video(s) or glob(s)")->required();
  submit->add_flag("--combine", args.submit.combine, "All sources form one identity (one job per target)");
  submit->add_option("--output-dir", args.submit.output_dir,
                     "Where outputs go (default: <data dir>/results)");
  submit->add_option("--output-format", args.submit.output_format, "jpg png webp bmp | mp4 mov mkv webm avi");
  submit->add_option(
      "--options", args.submit.options_json,
      "Swap options as JSON, keyed like the API: '{\"blend\": \"affine\", \"identity_strength\": 0.7}' "
      "(a flag below given too wins)");
  add_swap_flags(submit, args.submit.options, args.submit.video, args.padding);
  submit->add_flag("--json", args.json, "Print the queued jobs as JSON");
  submit->add_flag("--wait", args.wait,
                   "Wait until the jobs have ended (a line each; exit 1 when one failed or was cancelled)");
  submit->callback([&, queue, submit] {
    // The defaults profile and the running experiments' arms, as `faceweave swap` applies them; the
    // options the user gave by flag stay theirs, even at the built-in default.
    args.submit.defaults_profile = global.defaults_profile ? &*global.defaults_profile : nullptr;
    args.submit.telemetry = global.telemetry.get();
    args.submit.given.clear();
    for (const auto& [option, values] : experiment_options()) {
      std::string flag = "--" + option;
      std::replace(flag.begin(), flag.end(), '_', '-');
      const CLI::Option* opt = submit->get_option_no_throw(flag);
      if (opt && opt->count() > 0) args.submit.given.push_back(option);
    }
    auto sources = expand(args.source_patterns, "source");
    if (!sources) return void(exit_code = report(sources.status()));
    auto targets = expand(args.target_patterns, "target");
    if (!targets) return void(exit_code = report(targets.status()));
    args.submit.sources = *sources;
    args.submit.targets = *targets;
    if (!args.padding.empty()) expand_padding(args.padding, args.submit.options.face_mask_padding);
    auto queued = submit_jobs(queue(), args.submit);
    if (!queued) return void(exit_code = report(queued.status()));
    print(*queued, args.json);
    if (!args.json)
      std::printf("queued %zu job(s); %s\n", queued->size(),
                  queue().database_url.empty() ? "a running `faceweave serve` on this data dir runs them"
                                               : "the fleet's workers run them");
    std::fflush(stdout);
    if (args.wait) exit_code = wait_for(queue(), *queued, args.json);
  });

  auto* list = jobs->add_subcommand("list", "List jobs, newest first");
  list->add_option("--status", args.status, "queued | running | done | failed | cancelled")
      ->check(CLI::IsMember({"queued", "running", "done", "failed", "cancelled"}));
  list->add_option("--limit", args.limit, "How many")->capture_default_str()->check(CLI::Range(1, 10000));
  list->add_flag("--json", args.json, "Print JSON");
  list->callback([&, queue] {
    auto all = list_jobs(queue(), args.status, args.limit);
    if (!all) return void(exit_code = report(all.status()));
    print(*all, args.json);
  });

  auto* show = jobs->add_subcommand("show", "Show one job (JSON, as GET /api/jobs/ID)");
  show->add_option("id", args.id, "Job id")->required();
  show->callback([&, queue] {
    auto job = show_job(queue(), args.id);
    if (!job) return void(exit_code = report(job.status()));
    std::cout << job->json << "\n";
  });

  auto* cancel = jobs->add_subcommand("cancel", "Cancel a queued or running job");
  cancel->add_option("id", args.id, "Job id")->required();
  cancel->callback([&, queue] {
    auto job = cancel_job(queue(), args.id);
    if (!job) return void(exit_code = report(job.status()));
    std::printf(
        "%s %s\n", job->id.c_str(),
        job->status == "running" ? "will stop within a frame (cancel requested)" : job->status.c_str());
  });
}

}  // namespace faceweave::cli
