// Synthetic-media metadata: what an output says about itself in its file's metadata.
// Images (JPEG, PNG, WebP) get XMP through exiv2: Iptc4xmpExt:DigitalSourceType = compositeSynthetic,
// xmp:CreatorTool = "faceweave <version>", and faceweave:Processors (the processors that ran). Nothing else:
// never a path, a file name, a user or a time. BMP has no metadata block and stays unmarked here.
// Reading also understands video containers (the same keys as container tags, read through libav).
// Thread-safe: exiv2 is initialised once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "faceweave/status.h"

namespace faceweave::provenance {

inline constexpr const char* kCompositeSynthetic =
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic";
inline constexpr const char* kFaceweaveXmpNamespace = "https://faceweave.dev/ns/provenance/1.0/";

struct ProvenanceInfo {
  std::string software_agent;           // "faceweave 0.1.0"
  std::vector<std::string> processors;  // e.g. face_swapper, face_enhancer
};

// The container tags a video output carries (keys as ffprobe shows them).
std::vector<std::pair<std::string, std::string>> video_metadata_tags(const ProvenanceInfo& info);

// Adds the metadata to an encoded image in memory (JPEG, PNG, WebP). kUnsupported for BMP.
Status add_image_metadata(std::vector<uint8_t>& encoded, const ProvenanceInfo& info);

// Adds the metadata to an image file in place. kUnsupported for a format without XMP (BMP).
Status write_image_metadata(const std::string& path, const ProvenanceInfo& info);

struct MetadataReport {
  bool present = false;    // any faceweave or IPTC provenance field was found
  bool synthetic = false;  // the digital source type says synthetic (composite or trained-algorithmic)
  std::string digital_source_type;
  std::string software_agent;
  std::vector<std::string> processors;
};

// Reads the metadata of an image (exiv2) or a video (container tags).
Result<MetadataReport> read_metadata(const std::string& path);

}  // namespace faceweave::provenance
