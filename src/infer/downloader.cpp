#include "infer/downloader.h"

#include <curl/curl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "infer/sha256.h"

namespace faceweave::infer {
namespace fs = std::filesystem;
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Where the bytes of one try go: a file (appending after `offset`) or a string.
struct Sink {
  CURL* curl = nullptr;
  std::FILE* file = nullptr;
  std::string* text = nullptr;
  int64_t offset = 0;      // bytes already in the file when the try started
  int64_t written = 0;     // bytes written by this try
  bool checked = false;    // status code looked at (on the first body bytes)
  bool restarted = false;  // the server ignored Range: the file was emptied
  long status = 0;
  const DownloadOptions* options = nullptr;
  // Stall detection: curl's own low-speed check averages over several seconds, so a transfer that sent a
  // burst and then went silent would linger; this watches for the time since the last byte instead.
  int64_t last_now = -1;
  std::chrono::steady_clock::time_point last_byte = std::chrono::steady_clock::now();
  bool stalled = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* s = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (!s->checked) {
    s->checked = true;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status >= 400) return 0;  // an error page is never written into the model file
    if (s->file && s->offset > 0 && s->status == 200) {
      // Range ignored: the body is the whole file, so the earlier bytes must go.
      if (::ftruncate(::fileno(s->file), 0) != 0) return 0;
      std::fseek(s->file, 0, SEEK_SET);
      s->offset = 0;
      s->restarted = true;
    }
  }
  if (s->status >= 400) return 0;
  if (s->text) {
    if (s->text->size() + n > (1u << 20)) return 0;  // a `.hash` file is a few bytes, never a megabyte
    s->text->append(data, n);
  } else if (std::fwrite(data, 1, n, s->file) != n) {
    return 0;
  }
  s->written += int64_t(n);
  return n;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* s = static_cast<Sink*>(user);
  const auto clock = std::chrono::steady_clock::now();
  if (int64_t(now) != s->last_now) {
    s->last_now = int64_t(now);
    s->last_byte = clock;
  } else if (s->options && clock - s->last_byte > std::chrono::seconds(s->options->stall_timeout_s)) {
    s->stalled = true;
    return 1;  // abort this try; it is retried
  }
  if (s->options && s->options->progress)
    s->options->progress(s->offset + int64_t(now), total > 0 ? s->offset + int64_t(total) : 0);
  return 0;
}

struct TryOutcome {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string error;
};

TryOutcome perform(const std::string& url, Sink& sink, const DownloadOptions& options) {
  TryOutcome out;
  CURL* curl = curl_easy_init();
  if (!curl) {
    out.code = CURLE_FAILED_INIT;
    out.error = "libcurl could not start";
    return out;
  }
  char errbuf[CURL_ERROR_SIZE] = {0};
  sink.curl = curl;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);  // GitHub release assets redirect to a CDN
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "faceweave-model-downloader");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &sink);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  if (sink.offset > 0) curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, curl_off_t(sink.offset));
  out.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  out.error = errbuf[0] ? errbuf : curl_easy_strerror(out.code);
  if (sink.stalled)
    out.error = "no data arrived for " + std::to_string(options.stall_timeout_s) + " s (timed out)";
  curl_easy_cleanup(curl);
  return out;
}

// Failures worth another try: the network, timeouts, a cut connection, server errors, rate limits.
bool retryable(const TryOutcome& t) {
  if (t.status >= 500 || t.status == 429 || t.status == 408) return true;
  if (t.status >= 400) return false;
  switch (t.code) {
    case CURLE_OK:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_WRITE_ERROR:
      return false;
    default:
      return true;
  }
}

std::string describe(const TryOutcome& t) {
  if (t.status >= 400) return "the server answered HTTP " + std::to_string(t.status);
  return t.error;
}

void wait_before(int attempt, const DownloadOptions& options) {
  if (attempt <= 1 || options.backoff_ms <= 0) return;
  const int64_t ms = int64_t(options.backoff_ms) << std::min(attempt - 2, 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::string by_hand(const DownloadRequest& r) {
  const fs::path dest(r.destination);
  return "if this machine is offline, download " + r.url + " elsewhere, copy it into the folder " +
         dest.parent_path().string() + " as " + dest.filename().string() +
         ", then run `faceweave models verify`";
}

int64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : int64_t(n);
}

}  // namespace

Result<std::string> crc32_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot read " + path + " to check its CRC32");
  std::vector<char> buf(1 << 20);
  uLong crc = ::crc32(0L, Z_NULL, 0);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    const auto n = in.gcount();
    if (n > 0) crc = ::crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), uInt(n));
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", static_cast<unsigned long>(crc & 0xffffffffUL));
  return std::string(hex);
}

Result<std::string> fetch_text(const std::string& url, const DownloadOptions& options) {
  global_init();
  TryOutcome last;
  const int attempts = std::max(1, options.attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    wait_before(attempt, options);
    std::string text;
    DownloadOptions quiet = options;
    quiet.progress = nullptr;
    Sink sink;
    sink.text = &text;
    sink.options = &quiet;
    last = perform(url, sink, options);
    if (last.code == CURLE_OK && last.status < 400) return text;
    if (last.status == 404 || last.status == 410)
      return not_found(url + " does not exist (HTTP " + std::to_string(last.status) + ")");
    if (!retryable(last)) break;
  }
  return io_error("could not fetch " + url + " (" + describe(last) + ")");
}

Result<DownloadResult> download_file(const DownloadRequest& r, const DownloadOptions& options) {
  global_init();
  if (r.sha256.empty() && r.crc32.empty())
    return invalid_argument("download of " + r.name + " has no checksum to verify against; refusing it");
  const std::string part = r.destination + ".part";
  std::error_code ec;
  const fs::path dir = fs::path(r.destination).parent_path();
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec)
    return permission_denied("cannot create the models folder " + dir.string() + " (" + ec.message() +
                             "); create it or set FACEWEAVE_MODELS_DIR to a writable folder");

  DownloadResult result;
  TryOutcome last;
  bool done = false;
  const int attempts = std::max(1, options.attempts);
  for (int attempt = 1; attempt <= attempts && !done; ++attempt) {
    wait_before(attempt, options);
    result.attempts = attempt;
    std::FILE* f = std::fopen(part.c_str(), "ab");
    if (!f)
      return permission_denied("cannot write " + part +
                               "; make the models folder writable or set FACEWEAVE_MODELS_DIR");
    Sink sink;
    sink.file = f;
    sink.offset = file_size_or_zero(part);
    sink.options = &options;
    if (sink.offset > 0) result.resumed = true;
    last = perform(r.url, sink, options);
    const bool flushed = std::fclose(f) == 0;
    if (sink.restarted) result.resumed = false;
    if (last.code == CURLE_OK && last.status < 400 && flushed) {
      done = true;
      break;
    }
    if (last.status == 416) {
      // Nothing left to send past our offset: the part is complete (or longer than the file); the
      // checksum decides which.
      done = true;
      break;
    }
    if (last.status == 404 || last.status == 410) {
      fs::remove(part, ec);
      return not_found("model " + r.name + " is not at " + r.url + " (HTTP " + std::to_string(last.status) +
                       "); the manifest's URL may be out of date: " + by_hand(r));
    }
    if (!retryable(last)) break;
  }
  if (!done) {
    // The partial file is kept for the next `faceweave models download` to resume, unless it is empty.
    if (file_size_or_zero(part) == 0) fs::remove(part, ec);
    return io_error("could not download model " + r.name + " from " + r.url + " after " +
                    std::to_string(result.attempts) + " attempt(s) (" + describe(last) + "); " + by_hand(r));
  }

  std::string actual;
  std::string expected;
  std::string kind;
  if (!r.sha256.empty()) {
    kind = "sha256";
    expected = r.sha256;
    FW_ASSIGN_OR_RETURN(actual, sha256_file(part));
  } else {
    kind = "crc32";
    expected = r.crc32;
    for (auto& c : expected) c = char(std::tolower(static_cast<unsigned char>(c)));
    FW_ASSIGN_OR_RETURN(actual, crc32_file(part));
  }
  if (actual != expected) {
    fs::remove(part, ec);
    return model_error(
        "the download of model " + r.name + " from " + r.url + " failed verification: expected " + kind +
        " " + expected + ", got " + actual +
        "; the downloaded file was deleted. Run the command again; if it fails the same way, the "
        "file at that URL has changed and the manifest needs updating");
  }
  fs::rename(part, r.destination, ec);
  if (ec) return io_error("could not move " + part + " to " + r.destination + " (" + ec.message() + ")");
  result.bytes = file_size_or_zero(r.destination);
  result.checksum = kind + ":" + actual;
  return result;
}

Result<DownloadResult> download_model(const ModelRegistry& registry, const ModelEntry& entry,
                                      const DownloadOptions& options) {
  if (!entry.unsupported.empty())
    return unsupported("model " + entry.name +
                       " is unsupported on this build, so it is not downloaded: " + entry.unsupported);
  if (entry.url.empty())
    return invalid_argument("model " + entry.name + " has no download URL (it comes from " + entry.source +
                            "); install it with " + fix_command_for(entry));
  DownloadRequest r;
  r.name = entry.name;
  r.url = entry.url;
  r.destination = registry.expected_path(entry);
  r.sha256 = entry.sha256;
  r.crc32 = entry.crc32;
  if (r.sha256.empty() && r.crc32.empty()) {
    if (entry.crc32_url.empty())
      return model_error("model " + entry.name +
                         " has neither a sha256 nor a published CRC32 to check a download "
                         "against; place the file by hand and check it yourself");
    auto text = fetch_text(entry.crc32_url, options);
    if (!text)
      return Status(text.status().code(), "could not fetch the checksum of model " + entry.name + ": " +
                                              text.status().message() + "; " + by_hand(r));
    std::string hex;
    for (char c : *text)
      if (std::isxdigit(static_cast<unsigned char>(c))) hex += c;
    if (hex.size() != 8)
      return model_error("the checksum file " + entry.crc32_url + " does not hold a CRC32 (8 hex digits)");
    r.crc32 = hex;
  }
  return download_file(r, options);
}

}  // namespace faceweave::infer
