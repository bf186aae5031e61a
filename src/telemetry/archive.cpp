#include "telemetry/archive.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace faceweave::telemetry {

ZstdLineWriter::~ZstdLineWriter() {
  if (cctx_) ZSTD_freeCCtx(cctx_);
  if (file_) {
    std::fclose(file_);
    std::remove(tmp_.c_str());
  }
}

Status ZstdLineWriter::open(const std::string& path, int level) {
  path_ = path;
  tmp_ = path + ".tmp";
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (!file_) return io_error("cannot write the telemetry archive " + tmp_ + ": " + std::strerror(errno));
  cctx_ = ZSTD_createCCtx();
  if (!cctx_) return internal_error("zstd could not create a compression context");
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  out_.resize(ZSTD_CStreamOutSize());
  return Status::ok();
}

Status ZstdLineWriter::compress(std::string_view in, ZSTD_EndDirective mode) {
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  for (;;) {
    ZSTD_outBuffer output{out_.data(), out_.size(), 0};
    size_t remaining = ZSTD_compressStream2(cctx_, &output, &input, mode);
    if (ZSTD_isError(remaining))
      return internal_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(remaining));
    if (output.pos && std::fwrite(out_.data(), 1, output.pos, file_) != output.pos)
      return io_error("cannot write the telemetry archive " + tmp_ + " (is the disk full?)");
    bool done = mode == ZSTD_e_end ? remaining == 0 : input.pos == input.size;
    if (done) return Status::ok();
  }
}

Status ZstdLineWriter::add_line(std::string_view line) {
  if (!file_) return internal_error("telemetry archive not open");
  FW_RETURN_IF_ERROR(compress(line, ZSTD_e_continue));
  return compress("\n", ZSTD_e_continue);
}

Status ZstdLineWriter::finish() {
  if (!file_) return internal_error("telemetry archive not open");
  FW_RETURN_IF_ERROR(compress({}, ZSTD_e_end));
  bool ok = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    std::remove(tmp_.c_str());
    return io_error("cannot finish the telemetry archive " + path_ + ": " + std::strerror(errno));
  }
  return Status::ok();
}

Status read_zstd_lines(const std::string& path, const std::function<void(std::string_view)>& fn) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return not_found("cannot read the telemetry archive " + path + ": " + std::strerror(errno));
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::vector<char> in(ZSTD_DStreamInSize()), out(ZSTD_DStreamOutSize());
  std::string pending;
  Status status;
  size_t last = 0;
  while (status.is_ok()) {
    size_t n = std::fread(in.data(), 1, in.size(), f);
    if (n == 0) break;
    ZSTD_inBuffer input{in.data(), n, 0};
    while (input.pos < input.size) {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      last = ZSTD_decompressStream(dctx, &output, &input);
      if (ZSTD_isError(last)) {
        status = invalid_input("the telemetry archive " + path + " is damaged: " + ZSTD_getErrorName(last));
        break;
      }
      pending.append(out.data(), output.pos);
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
        fn(std::string_view(pending).substr(start, nl - start));
      pending.erase(0, start);
    }
  }
  if (status.is_ok() && last != 0) status = invalid_input("the telemetry archive " + path + " is truncated");
  if (status.is_ok() && !pending.empty()) fn(pending);
  ZSTD_freeDCtx(dctx);
  std::fclose(f);
  return status;
}

}  // namespace faceweave::telemetry
