// Downloads one model file over HTTP(S) with libcurl, safely:
//  - it writes to `<destination>.part` and renames into place only after the checksum matched, so a
//    half-written or corrupt file never sits where a model is expected;
//  - an interrupted transfer resumes from the bytes already in `.part` (HTTP Range); a server that ignores
//    the Range header is detected (200 instead of 206) and the file restarts from zero;
//  - network failures, timeouts and 5xx answers are retried with exponential backoff; 4xx answers are not;
//  - a checksum mismatch deletes the partial file and says so.
// The checksum is the sha256 when known, else a CRC32 (what FaceFusion publishes in its `.hash` files).
// Thread contract: download_file() keeps no global state besides curl_global_init (done once).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "faceweave/status.h"
#include "infer/model_registry.h"

namespace faceweave::infer {

struct DownloadRequest {
  std::string name;         // for messages ("inswapper_128")
  std::string url;          // http:// or https://
  std::string destination;  // the final path; its folder is created when missing
  std::string sha256;       // expected lower-case hex; empty: use crc32
  std::string crc32;        // expected 8 hex digits; used when sha256 is empty
};

struct DownloadOptions {
  int attempts = 4;             // tries in all (1 = no retry)
  int backoff_ms = 1000;        // wait before the second try; doubles each time
  long connect_timeout_s = 20;  // a connection not made by then is a failed try
  long stall_timeout_s = 30;    // a transfer slower than 1 byte/s for this long is a failed try
  std::function<void(int64_t done, int64_t total)> progress;  // total 0 when unknown
};

struct DownloadResult {
  int64_t bytes = 0;     // the file's size
  int attempts = 0;      // tries it took
  bool resumed = false;  // some bytes came from an earlier, interrupted try
  std::string checksum;  // what was verified ("sha256:<hex>" or "crc32:<hex>")
};

Result<DownloadResult> download_file(const DownloadRequest& request, const DownloadOptions& options = {});

// Fetches a small text resource (a `.hash` file) into memory, with the same retry rules.
Result<std::string> fetch_text(const std::string& url, const DownloadOptions& options = {});

// CRC32 (zlib's polynomial) of a file, as 8 lower-case hex digits.
Result<std::string> crc32_file(const std::string& path);

// Downloads a manifest entry into the registry's models folder: the sha256 pinned in the manifest when it
// has one, else the CRC32 from the entry's published `.hash` file. Errors name the URL and say how to place
// the file by hand.
Result<DownloadResult> download_model(const ModelRegistry& registry, const ModelEntry& entry,
                                      const DownloadOptions& options = {});

}  // namespace faceweave::infer
