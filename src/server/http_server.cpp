// serve(): cpp-httplib on top of Api. Uploads are streamed to a staged file part by part (a 2 GB video is
// never held in memory); every other body is small and read whole. A body over its limit is read to its
// end and dropped, then answered 413 (refusing it unread would leave the client blocked writing); beyond
// the payload limit cpp-httplib itself answers 413. Static files come from the web UI's
// build folder. One process per data dir (a lock file says so).
#include <sys/file.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <httplib.h>

#include "core/allocator.h"
#include "core/install_paths.h"
#include "core/log.h"
#include "core/pixel_budget.h"
#include "core/private_files.h"
#include "faceweave/server.h"
#include "fleet/event_shipper.h"
#include "server/api.h"
#include "server/connection_guard.h"
#include "server/request_log.h"

#ifndef FACEWEAVE_WEB_DIR
#define FACEWEAVE_WEB_DIR ""
#endif
#ifndef FACEWEAVE_VERSION
#define FACEWEAVE_VERSION "0.0.0"
#endif

namespace faceweave {
namespace fs = std::filesystem;
using server::HttpRequest;
using server::HttpResponse;

namespace {

constexpr int64_t kSmallBodyLimit = 1 << 20;  // JSON bodies: options, events
constexpr int kMallocArenas = 4;  // docs/benchmarks.md, "Soak": 724 MB after 2 minutes with 16, 420 with 4

// On every response, pages and API alike (docs/security.md). The pages load only their own bundled
// scripts and styles (no inline script or style element; scripts set element.style, which CSP allows),
// show uploads and results as blob: URLs, and use a data: URL for the favicon.
const httplib::Headers& security_headers() {
  static const httplib::Headers kHeaders = {
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'"}};
  return kHeaders;
}

HttpResponse too_large(int64_t limit) {
  char mb[32];
  std::snprintf(mb, sizeof mb, "%.3g", double(limit) / (1 << 20));
  return server::Api::error(413, "too_large",
                            std::string("the request body is over the server's limit of ") + mb +
                                " MB; send less (GET /api/config shows the upload limits)");
}

// Holds an exclusive OS lock (flock) on the data dir itself for the life of the server: unlike a lock file,
// the folder cannot be deleted from under a running server while it holds jobs.db, and the kernel drops the
// lock when the process ends, however it ends.
class DataDirLock {
 public:
  ~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status acquire(const std::string& data_dir) {
    fd_ = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0)
      return io_error("cannot open the data dir " + data_dir + "; check it exists and is readable");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      return invalid_argument("another faceweave serve already uses the data dir " + data_dir +
                              "; stop it or give this one another --data-dir");
    return Status::ok();
  }

 private:
  int fd_ = -1;
};

// The data dir, its folders and its database files, made owner-only (also when an older version or another
// umask left them readable by others).
Status make_private_data_dir(const std::string& data_dir) {
  FW_RETURN_IF_ERROR(core::make_private_dir(data_dir));
  for (const char* dir : {"uploads", "results"})
    FW_RETURN_IF_ERROR(core::make_private_dir((fs::path(data_dir) / dir).string()));
  std::error_code ec;
  const fs::path telemetry = fs::path(data_dir) / "telemetry";
  if (fs::is_directory(telemetry, ec)) FW_RETURN_IF_ERROR(core::make_private_dir(telemetry.string()));
  for (const fs::path& db : {fs::path(data_dir) / "jobs.db", telemetry / "events.db"})
    for (const char* suffix : {"", "-wal", "-shm"})
      FW_RETURN_IF_ERROR(core::make_private_file(db.string() + suffix));
  return Status::ok();
}

void write_response(const HttpResponse& r, httplib::Response& res) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  if (r.stream) {
    // Server-sent events: chunked, each call of the stream gives the next chunk (or none, after a short
    // wait). The stream ends when it says so (shutdown) or when a write fails (the client went away;
    // keep-alive comments make sure a write happens every few seconds).
    res.set_chunked_content_provider(r.content_type, [next = r.stream](size_t, httplib::DataSink& sink) {
      if (!sink.is_writable()) return false;
      std::string chunk;
      if (!next(chunk)) {
        sink.done();
        return true;
      }
      return chunk.empty() || sink.write(chunk.data(), chunk.size());
    });
    return;
  }
  if (!r.file.empty()) {
    std::error_code ec;
    const auto size = fs::file_size(r.file, ec);
    if (ec) {
      res.status = 404;
      res.set_content(server::Api::error(404, "not_found", "the file is gone").body, "application/json");
      return;
    }
    auto stream = std::make_shared<std::ifstream>(r.file, std::ios::binary);
    res.set_content_provider(size, r.content_type,
                             [stream](size_t offset, size_t length, httplib::DataSink& sink) {
                               std::vector<char> buf(std::min<size_t>(length, 1 << 16));
                               stream->seekg(std::streamoff(offset));
                               stream->read(buf.data(), std::streamsize(buf.size()));
                               const auto got = stream->gcount();
                               if (got <= 0) return false;
                               sink.write(buf.data(), size_t(got));
                               return true;
                             });
    return;
  }
  res.set_content(r.body, r.content_type);
}

// Percent-encodes everything but the unreserved characters of RFC 3986.
std::string url_encode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

HttpRequest to_request(const httplib::Request& req) {
  HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [k, v] : req.params) r.query[k] = v;
  for (const auto& [k, v] : req.headers) {
    std::string name = k;
    for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = v;
  }
  r.remote_addr = req.remote_addr;
  return r;
}

}  // namespace

Status serve(const ServeOptions& options, Telemetry* telemetry, const std::atomic<bool>* stop) {
  // Request threads share a few malloc arenas instead of one each (core/allocator.h: RSS stays bounded).
  core::cap_allocator_arenas(kMallocArenas);
  if (!server::is_loopback(options.host) && options.token.empty())
    return invalid_argument(
        "binding " + options.host +
        " makes the server reachable from other machines: give --token (or FACEWEAVE_TOKEN), or "
        "--token-file (or FACEWEAVE_TOKEN_FILE) naming a file that holds it, such as a mounted secret, so "
        "every API call must carry it");
  if (options.port < 0 || options.port > 65535) return invalid_argument("--port must be between 0 and 65535");
  for (const auto& name : options.allowed_hosts)
    if (!server::valid_host_name(name))
      return invalid_argument("--allowed-host '" + name +
                              "' is not a host name; give a bare name or address, without scheme or port "
                              "(e.g. --allowed-host faceweave.lan)");
  if (options.max_concurrent_jobs < (options.database_url.empty() ? 1 : 0) ||
      options.max_concurrent_jobs > 64)
    return invalid_argument(options.database_url.empty()
                                ? "--max-concurrent-jobs must be between 1 and 64"
                                : "--max-concurrent-jobs must be between 0 (workers run the jobs) and 64");
  if (options.max_image_pixels < 1 || options.decode_budget_pixels < 1)
    return invalid_argument("--max-image-megapixels and --decode-budget-megapixels must be above 0");
  core::PixelBudget::global().set_capacity(options.decode_budget_pixels);
  if (!(options.drain_seconds >= 0) || options.drain_seconds > 3600)
    return invalid_argument("--drain-seconds must be between 0 and 3600");
  if (!(options.upload_retention_hours > 0))
    return invalid_argument("--upload-retention-hours must be above 0");
  const std::string data_dir = resolve_data_dir(options.data_dir);
  // Uploads, results and databases hold people's faces: everything the server creates is owner-only
  // (umask 077), and the folders it keeps them in are made 0700 whatever mode they had (docs/security.md).
  core::restrict_umask();
  // Past a file size limit (RLIMIT_FSIZE) a write fails with EFBIG instead of the signal ending the server.
  std::signal(SIGXFSZ, SIG_IGN);
  FW_RETURN_IF_ERROR(make_private_data_dir(data_dir));
  DataDirLock lock;
  FW_RETURN_IF_ERROR(lock.acquire(data_dir));

  FW_ASSIGN_OR_RETURN(auto engine, Engine::create(options.engine));
  // A fleet keeps its queue on PostgreSQL and its media in a folder every node mounts (docs/fleet.md).
  const std::string media_dir = options.media_dir.empty() ? data_dir : options.media_dir;
  if (media_dir != data_dir) FW_RETURN_IF_ERROR(core::make_private_dir(media_dir));
  FW_ASSIGN_OR_RETURN(auto jobs, server::open_job_store({data_dir, options.database_url, "",
                                                         options.lease_seconds, options.max_attempts}));
  FW_ASSIGN_OR_RETURN(int requeued, jobs->requeue_interrupted());
  if (requeued > 0) core::log_info(std::to_string(requeued) + " interrupted job(s) queued again");
  server::UploadStore uploads((fs::path(media_dir) / "uploads").string(),
                              {options.max_image_bytes, options.max_video_bytes, options.max_image_pixels},
                              options.upload_retention_hours);
  uploads.sweep();
  server::JobRunner runner(*jobs, *engine, uploads, telemetry, options.max_concurrent_jobs);
  // A fleet node ships its telemetry to the shared database (fleet/event_shipper.h).
  std::unique_ptr<fleet::BackgroundShipper> shipper;
  if (!options.database_url.empty())
    shipper = std::make_unique<fleet::BackgroundShipper>(
        fleet::ShipOptions{(fs::path(data_dir) / "telemetry" / "events.db").string(), options.database_url,
                           "", 5000, true, 3, options.fleet_retention_days},
        5000);
  server::ApiOptions api_options;
  api_options.token = options.token;
  api_options.results_dir = (fs::path(media_dir) / "results").string();
  api_options.version = FACEWEAVE_VERSION;
  api_options.events_rate = options.events_per_second;
  api_options.events_burst = options.events_per_second * 2;
  api_options.data_dir = data_dir;
  api_options.defaults_profile = options.defaults_profile;
  api_options.database_url = options.database_url;
  server::Api api(api_options, *engine, *jobs, runner, uploads, telemetry);
  runner.on_change = [&api](const std::string& id) { api.insights().job_changed(id); };

  server::GuardedHttpServer http;  // header timeout and connections per address (connection_guard.h)
  const std::string web_dir =
      options.web_dir.empty() ? core::build_or_installed(FACEWEAVE_WEB_DIR, "web") : options.web_dir;
  std::error_code ec;
  if (!web_dir.empty() && fs::exists(fs::path(web_dir) / "index.html", ec)) {
    http.set_mount_point("/", web_dir);
  } else {
    core::log_warning("the web UI is not built (" + web_dir + "); serving the API only");
  }
  const int64_t payload_limit = uploads.max_bytes() + (4 << 20);
  http.set_payload_max_length(size_t(payload_limit));
  http.set_default_headers(security_headers());
  // Headers and body go out in separate writes: with Nagle's algorithm on, each response waited for the
  // client's delayed ACK (about 40 ms), which capped a keep-alive connection at ~25 requests a second.
  http.set_tcp_nodelay(true);
  // Keep-alive connections hold a worker each; long uploads and previews too. Enough workers that a few
  // slow requests never starve /healthz or the browser's event beacons.
  http.new_task_queue = [] { return new httplib::ThreadPool(32); };
  http.set_keep_alive_max_count(1000);
  http.set_read_timeout(std::chrono::seconds(30));
  auto plain = [&](const httplib::Request& req, httplib::Response& res) {
    HttpRequest r = to_request(req);
    r.body = req.body;
    write_response(api.handle(r), res);
    // One Range (the guard drops more): a cut answer is 206, not 200 (cpp-httplib says so only when the
    // handler leaves the status unset), and an error is never cut (the Request is cpp-httplib's, not const).
    if (!req.ranges.empty()) {
      if (res.status == 200)
        res.status = 206;
      else
        const_cast<httplib::Request&>(req).ranges.clear();
    }
  };
  auto with_body = [&](const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader& reader) {
    HttpRequest r = to_request(req);
    if (req.path == "/api/uploads" && req.is_multipart_form_data() && api.admits(r)) {
      auto staged = uploads.stage();
      if (!staged) return write_response(server::Api::error(500, "io_error", staged.status().message()), res);
      std::ofstream out;
      bool in_file = false, have_file = false, write_failed = false;
      const bool read = reader(
          [&](const httplib::MultipartFormData& part) {
            in_file = part.name == "file" && !have_file;
            if (in_file) {
              have_file = true;
              staged->client_name = part.filename;
              out.open(staged->path, std::ios::binary);
            }
            return true;
          },
          [&](const char* data, size_t length) {
            if (!in_file) return true;
            staged->bytes += int64_t(length);
            // Past the limit the rest is read and dropped, so the client gets its 413 instead of a reset.
            if (staged->bytes > uploads.max_bytes()) {
              staged->truncated = true;
              return true;
            }
            // After a failed write (a full disk) the rest is read and dropped, so the client gets its 507.
            if (write_failed) return true;
            out.write(data, std::streamsize(length));
            write_failed = !out;
            return true;
          });
      out.close();
      write_failed = write_failed || (have_file && !out);
      if (write_failed) {  // a full disk (or a file size limit): say so, not "truncated JPEG"
        uploads.discard(*staged);
        return write_response(
            server::Api::error(507, "insufficient_storage",
                               "the server could not store the upload: its disk is full. Free space in the "
                               "server's data dir, or try again later"),
            res);
      }
      if (!read && res.status == 413) {  // over the payload limit: cpp-httplib skipped the body unread
        uploads.discard(*staged);
        return write_response(too_large(payload_limit), res);
      }
      if (!have_file) {
        uploads.discard(*staged);
      } else {
        r.upload = *staged;
      }
      return write_response(api.handle(r), res);
    }
    if (req.is_multipart_form_data()) {
      // Multipart anywhere else (or refused): drained, then answered by the API (400, 401, 403, 404...).
      const bool read = reader([](const httplib::MultipartFormData&) { return true; },
                               [](const char*, size_t) { return true; });
      if (!read && res.status == 413) return write_response(too_large(payload_limit), res);
      return write_response(api.handle(r), res);
    }
    std::string body;
    bool too_big = false;
    const bool read = reader([&](const char* data, size_t length) {
      if (too_big || int64_t(body.size() + length) > kSmallBodyLimit) {
        too_big = true;  // read and dropped, so the client gets its 413
        return true;
      }
      body.append(data, length);
      return true;
    });
    // Over the payload limit cpp-httplib skips the body and says 413 in res.status; that is still a body
    // too big, not a bad one.
    if (too_big || (!read && res.status == 413)) return write_response(too_large(kSmallBodyLimit), res);
    if (!read)
      return write_response(
          server::Api::error(400, "invalid_argument", "the request body could not be read; send it again"),
          res);
    r.body = std::move(body);
    write_response(api.handle(r), res);
  };
  // The dashboard is insights/index.html in the web folder; its bare path redirects there, keeping the
  // query (the dashboard's filters, a token).
  http.Get("/insights", [](const httplib::Request& req, httplib::Response& res) {
    std::string query;
    for (const auto& [k, v] : req.params)
      query += (query.empty() ? "?" : "&") + url_encode(k) + "=" + url_encode(v);
    res.set_redirect("/insights/" + query);
  });
  http.Get(".*", plain);
  http.Delete(".*", plain);
  http.Post(".*", with_body);
  http.Put(".*", with_body);
  http.Patch(".*", with_body);
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    write_response(server::Api::error(500, "internal", "unexpected error: " + what + "; please report it"),
                   res);
  });

  int port = options.port;
  if (port == 0) {
    port = http.bind_to_any_port(options.host);
    if (port <= 0) return io_error("cannot listen on " + options.host + " (no free port)");
  } else if (!http.bind_to_port(options.host, port)) {
    return io_error("cannot listen on " + options.host + ":" + std::to_string(port) +
                    " (in use, or not an address of this machine); pick another --port or --host");
  }
  api.set_guard(server::RequestGuard({options.host, port, options.allowed_hosts, !options.token.empty()}));
  // Static pages never reach Api::handle: the Host check runs before cpp-httplib serves a file. Requests
  // with a body are checked by Api::handle once the body is drained, so the client reads its answer.
  http.set_pre_routing_handler([&api](const httplib::Request& req, httplib::Response& res) {
    // A decoded path with a control character (index.html%00.svg) names no file: the C string ends early
    // and the extension after it would pick the content type.
    if (std::any_of(req.path.begin(), req.path.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
      write_response(server::Api::error(400, "invalid_argument", "the path holds a control character"), res);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method != "GET" && req.method != "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    auto refused = api.refusal(to_request(req));
    if (!refused) return httplib::Server::HandlerResponse::Unhandled;
    write_response(*refused, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  if (options.on_request)
    http.set_logger([&options](const httplib::Request& req, const httplib::Response& res) {
      if (server::worth_logging(req.method, req.path, res.status))
        options.on_request(server::request_log_line(req.method, req.path, res.status));
    });
  runner.start();
  std::thread listener([&] { http.listen_after_bind(); });
  const std::string host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  if (options.on_listening) options.on_listening("http://" + host + ":" + std::to_string(port) + "/");
  auto last_sweep = std::chrono::steady_clock::now();
  while (!(stop && stop->load())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (std::chrono::steady_clock::now() - last_sweep > std::chrono::hours(1)) {
      uploads.sweep();
      last_sweep = std::chrono::steady_clock::now();
    }
  }
  // Draining: /readyz says 503 (orchestrators stop sending traffic) and new jobs are refused, while running
  // jobs get drain_seconds to finish; clients can still poll them and download results meanwhile.
  api.set_draining(true);
  if (options.drain_seconds > 0) {
    if (auto counts = jobs->counts(); counts && counts->second > 0) {
      char wait[32];
      std::snprintf(wait, sizeof wait, "%g", options.drain_seconds);
      core::log_info("stopping: no new jobs; waiting up to " + std::string(wait) + " s for " +
                     std::to_string(counts->second) + " running job(s) to finish");
    }
    const int left = runner.drain(int(options.drain_seconds * 1000));
    if (left > 0)
      core::log_info(std::to_string(left) + " running job(s) did not finish within --drain-seconds; " +
                     "they are queued again for the next start");
  }
  api.insights().stop();  // live streams end, so the workers they hold can finish
  http.stop();
  listener.join();
  runner.stop();
  return Status::ok();
}

}  // namespace faceweave
