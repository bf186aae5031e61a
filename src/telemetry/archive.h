// Archives of events that left the database: zstd-compressed NDJSON, one telemetry_row_json line per event
// (the `export --format ndjson` format), so `zstd -dc FILE` gives back exactly what was stored.
#pragma once

#include <zstd.h>

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "faceweave/status.h"

namespace faceweave::telemetry {

// Writes a compressed file through a temporary name; finish() makes it appear complete or not at all.
class ZstdLineWriter {
 public:
  ZstdLineWriter() = default;
  ~ZstdLineWriter();  // an unfinished file is removed
  ZstdLineWriter(const ZstdLineWriter&) = delete;
  ZstdLineWriter& operator=(const ZstdLineWriter&) = delete;

  Status open(const std::string& path, int level = 3);
  Status add_line(std::string_view line);  // adds line + '\n'
  Status finish();                         // flushes, fsyncs and renames into place

 private:
  Status compress(std::string_view in, ZSTD_EndDirective mode);

  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
  ZSTD_CCtx* cctx_ = nullptr;
  std::string out_;
};

// Decompresses `path` and hands each line (without '\n') to `fn`.
Status read_zstd_lines(const std::string& path, const std::function<void(std::string_view)>& fn);

}  // namespace faceweave::telemetry
