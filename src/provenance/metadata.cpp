#include "provenance/metadata.h"

#include <cstdio>
#include <mutex>
#include <sstream>

#include <exiv2/exiv2.hpp>

#include "core/image_io.h"

extern "C" {
#include <libavformat/avformat.h>
}

namespace faceweave::provenance {
namespace {

constexpr const char* kTagSourceType = "digital_source_type";
constexpr const char* kTagAgent = "software_agent";
constexpr const char* kTagProcessors = "processors";

void init_exiv2() {
  static std::once_flag once;
  std::call_once(once, [] {
    Exiv2::LogMsg::setLevel(Exiv2::LogMsg::mute);  // the library never prints
    Exiv2::XmpParser::initialize();
    Exiv2::XmpProperties::registerNs(kFaceweaveXmpNamespace, "faceweave");
  });
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

bool is_synthetic(const std::string& type) {
  return type.find("digitalsourcetype/compositeSynthetic") != std::string::npos ||
         type.find("digitalsourcetype/trainedAlgorithmicMedia") != std::string::npos ||
         type.find("digitalsourcetype/algorithmicMedia") != std::string::npos;
}

Result<MetadataReport> read_video(const std::string& path) {
  AVFormatContext* fmt = nullptr;
  if (avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) < 0)
    return invalid_input(path + " is neither an image with readable metadata nor a video container");
  MetadataReport r;
  auto get = [&](const char* key) -> std::string {
    const AVDictionaryEntry* e = av_dict_get(fmt->metadata, key, nullptr, 0);
    return e ? e->value : "";
  };
  r.digital_source_type = get(kTagSourceType);
  r.software_agent = get(kTagAgent);
  r.processors = split(get(kTagProcessors));
  avformat_close_input(&fmt);
  r.present = !r.digital_source_type.empty() || !r.software_agent.empty();
  r.synthetic = is_synthetic(r.digital_source_type);
  return r;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> video_metadata_tags(const ProvenanceInfo& info) {
  return {{kTagSourceType, kCompositeSynthetic},
          {kTagAgent, info.software_agent},
          {kTagProcessors, join(info.processors)},
          {"comment", "Synthetic: faces swapped by " + info.software_agent}};
}

static void set_fields(Exiv2::XmpData& xmp, const ProvenanceInfo& info) {
  xmp["Xmp.iptcExt.DigitalSourceType"] = kCompositeSynthetic;
  xmp["Xmp.xmp.CreatorTool"] = info.software_agent;
  xmp["Xmp.faceweave.Processors"] = join(info.processors);
}

Status add_image_metadata(std::vector<uint8_t>& encoded, const ProvenanceInfo& info) {
  init_exiv2();
  try {
    auto image = Exiv2::ImageFactory::open(encoded.data(), long(encoded.size()));
    if (!image.get() || image->imageType() == Exiv2::ImageType::bmp)
      return unsupported("this format has no metadata block; choose jpg, png or webp to keep the metadata");
    image->readMetadata();
    set_fields(image->xmpData(), info);
    image->writeMetadata();
    Exiv2::BasicIo& io = image->io();
    io.seek(0, Exiv2::BasicIo::beg);
    Exiv2::DataBuf buf = io.read(long(io.size()));
    encoded.assign(buf.pData_, buf.pData_ + buf.size_);
  } catch (const std::exception& e) {
    return io_error(std::string("could not add the provenance metadata (") + e.what() + ")");
  }
  return Status::ok();
}

Status write_image_metadata(const std::string& path, const ProvenanceInfo& info) {
  init_exiv2();
  try {
    auto image = Exiv2::ImageFactory::open(path);
    if (!image.get()) return io_error("cannot open " + path + " to add its provenance metadata");
    if (image->imageType() == Exiv2::ImageType::bmp)
      return unsupported(
          "BMP has no metadata block; choose jpg, png or webp to keep the provenance metadata");
    image->readMetadata();
    set_fields(image->xmpData(), info);
    image->writeMetadata();
  } catch (const std::exception& e) {
    return io_error("could not write the provenance metadata into " + path + " (" + e.what() +
                    "); check that the file is a complete jpg, png or webp");
  }
  return Status::ok();
}

Result<MetadataReport> read_metadata(const std::string& path) {
  std::string head(16, '\0');
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    head.resize(std::fread(head.data(), 1, head.size(), f));
    std::fclose(f);
  } else {
    return not_found("cannot open " + path + "; check the path and its permissions");
  }
  if (!core::sniff_image_format({reinterpret_cast<const uint8_t*>(head.data()), head.size()}))
    return read_video(path);
  init_exiv2();
  std::unique_ptr<Exiv2::Image> image;
  try {
    auto opened = Exiv2::ImageFactory::open(path);
    image.reset(opened.release());
  } catch (const std::exception&) {
    return read_video(path);  // exiv2 knows no video container faceweave writes
  }
  try {
    image->readMetadata();
  } catch (const std::exception& e) {
    return invalid_input("cannot read the metadata of " + path + " (" + e.what() + ")");
  }
  MetadataReport r;
  const Exiv2::XmpData& xmp = image->xmpData();
  auto get = [&](const char* key) -> std::string {
    auto it = xmp.findKey(Exiv2::XmpKey(key));
    return it == xmp.end() ? "" : it->toString();
  };
  r.digital_source_type = get("Xmp.iptcExt.DigitalSourceType");
  r.software_agent = get("Xmp.xmp.CreatorTool");
  r.processors = split(get("Xmp.faceweave.Processors"));
  r.present = !r.digital_source_type.empty();
  r.synthetic = is_synthetic(r.digital_source_type);
  return r;
}

}  // namespace faceweave::provenance
