// Reads weights straight out of an ONNX file. OpenCV's DNN importer folds initializers into its layers and
// never exposes them, but inswapper keeps its embedding map (a 512x512 matrix the source identity is
// multiplied by) as the graph's last initializer, outside any node that uses it. Rather than pull in
// protobuf and a copy of onnx.proto for one tensor, this walks the protobuf wire format (varints and
// length-delimited fields; ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto dims = 1,
// data_type = 2, float_data = 4, int32_data = 5, name = 8, raw_data = 9, data_location = 14) over a
// read-only memory map, so a 500 MB model costs no copy. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "faceweave/status.h"

namespace faceweave::infer {

struct OnnxTensor {
  std::string name;
  std::vector<int64_t> dims;
  // CV_32F whatever the stored type (float, float16 or double): rows = dims[0], cols = the product of the
  // other dims (a 1-D tensor is one row).
  cv::Mat values;
};

// The last initializer of the file's main graph (what `onnx.load(path).graph.initializer[-1]` returns).
// Errors say what is wrong with the file (not ONNX, truncated, no initializers, external data, a type that
// is not a float type).
Result<OnnxTensor> read_last_initializer(const std::string& path);

// The same, over bytes already in memory (tests, and models loaded from a buffer).
Result<OnnxTensor> read_last_initializer(const uint8_t* data, size_t size, const std::string& what);

}  // namespace faceweave::infer
