#include "infer/onnx_initializer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace faceweave::infer {
namespace {

// A bounds-checked reader over one length-delimited protobuf message.
class Wire {
 public:
  Wire(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  bool done() const { return p_ >= end_; }

  bool varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      const uint8_t b = *p_++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *out = v;
        return true;
      }
    }
    return false;
  }

  // Reads one field's key and, for length-delimited fields, its payload span; skips the others' values.
  // Returns false on malformed input.
  bool next(uint32_t* field, uint32_t* wire, const uint8_t** payload, size_t* length, uint64_t* scalar) {
    uint64_t key;
    if (!varint(&key)) return false;
    *field = uint32_t(key >> 3);
    *wire = uint32_t(key & 7);
    *payload = nullptr;
    *length = 0;
    switch (*wire) {
      case 0:
        return varint(scalar);
      case 1:
        if (end_ - p_ < 8) return false;
        *payload = p_;
        *length = 8;
        p_ += 8;
        return true;
      case 2: {
        uint64_t n;
        if (!varint(&n) || n > uint64_t(end_ - p_)) return false;
        *payload = p_;
        *length = size_t(n);
        p_ += n;
        return true;
      }
      case 5:
        if (end_ - p_ < 4) return false;
        *payload = p_;
        *length = 4;
        p_ += 4;
        return true;
      default:  // groups (3, 4) are not used by ONNX
        return false;
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

enum : uint64_t { kFloat = 1, kFloat16 = 10, kDouble = 11 };

Result<OnnxTensor> parse_tensor(const uint8_t* p, size_t n, const std::string& what) {
  OnnxTensor t;
  uint64_t type = 0;
  const uint8_t* raw = nullptr;
  size_t raw_len = 0;
  std::vector<float> float_data;
  std::vector<uint16_t> half_data;  // float16 values kept in int32_data
  bool external = false;
  Wire w(p, n);
  while (!w.done()) {
    uint32_t field, wire;
    const uint8_t* payload;
    size_t len;
    uint64_t scalar = 0;
    if (!w.next(&field, &wire, &payload, &len, &scalar))
      return invalid_input(what + " has a malformed initializer tensor");
    if (field == 1) {  // dims: packed or one varint per element
      if (wire == 0) {
        t.dims.push_back(int64_t(scalar));
      } else if (wire == 2) {
        Wire d(payload, len);
        uint64_t v;
        while (!d.done()) {
          if (!d.varint(&v)) return invalid_input(what + " has malformed tensor dims");
          t.dims.push_back(int64_t(v));
        }
      }
    } else if (field == 2 && wire == 0) {
      type = scalar;
    } else if (field == 4) {  // float_data: packed floats or one fixed32 each
      for (size_t i = 0; i + 4 <= len; i += 4) {
        float f;
        std::memcpy(&f, payload + i, 4);
        float_data.push_back(f);
      }
    } else if (field == 5) {  // int32_data (float16 bit patterns live here)
      if (wire == 0) {
        half_data.push_back(uint16_t(scalar));
      } else if (wire == 2) {
        Wire d(payload, len);
        uint64_t v;
        while (!d.done()) {
          if (!d.varint(&v)) return invalid_input(what + " has malformed int32_data");
          half_data.push_back(uint16_t(v));
        }
      }
    } else if (field == 8 && wire == 2) {
      t.name.assign(reinterpret_cast<const char*>(payload), len);
    } else if (field == 9 && wire == 2) {
      raw = payload;
      raw_len = len;
    } else if (field == 14 && wire == 0 && scalar == 1) {
      external = true;
    }
  }
  if (external)
    return unsupported(what + ": initializer '" + t.name +
                       "' is stored in an external data file; use a single-file ONNX export");
  int64_t count = 1;
  for (int64_t d : t.dims) {
    if (d < 0 || d > (int64_t(1) << 31))
      return invalid_input(what + " has an initializer with a bad dimension");
    count *= d;
  }
  const int rows = t.dims.size() >= 2 ? int(t.dims[0]) : 1;
  const int cols = rows > 0 ? int(count / std::max(rows, 1)) : 0;
  cv::Mat out(rows, cols, CV_32F);
  auto size_error = [&](size_t have) {
    return invalid_input(what + ": initializer '" + t.name + "' holds " + std::to_string(have) +
                         " values but its dims say " + std::to_string(count));
  };
  if (type == kFloat) {
    if (raw) {
      if (raw_len != size_t(count) * 4) return size_error(raw_len / 4);
      std::memcpy(out.ptr<float>(), raw, raw_len);  // ONNX raw_data is little-endian, as is this machine
    } else {
      if (float_data.size() != size_t(count)) return size_error(float_data.size());
      std::memcpy(out.ptr<float>(), float_data.data(), float_data.size() * 4);
    }
  } else if (type == kFloat16) {
    cv::Mat half(rows, cols, CV_16F);
    if (raw) {
      if (raw_len != size_t(count) * 2) return size_error(raw_len / 2);
      std::memcpy(half.data, raw, raw_len);
    } else {
      if (half_data.size() != size_t(count)) return size_error(half_data.size());
      std::memcpy(half.data, half_data.data(), half_data.size() * 2);
    }
    half.convertTo(out, CV_32F);
  } else if (type == kDouble) {
    if (!raw || raw_len != size_t(count) * 8) return size_error(raw ? raw_len / 8 : 0);
    cv::Mat dbl(rows, cols, CV_64F);
    std::memcpy(dbl.data, raw, raw_len);
    dbl.convertTo(out, CV_32F);
  } else {
    return unsupported(what + ": initializer '" + t.name + "' has ONNX data type " + std::to_string(type) +
                       ", not a float type");
  }
  t.values = out;
  return t;
}

}  // namespace

Result<OnnxTensor> read_last_initializer(const uint8_t* data, size_t size, const std::string& what) {
  Wire model(data, size);
  const uint8_t* graph = nullptr;
  size_t graph_len = 0;
  bool any_field = false;
  while (!model.done()) {
    uint32_t field, wire;
    const uint8_t* payload;
    size_t len;
    uint64_t scalar;
    if (!model.next(&field, &wire, &payload, &len, &scalar))
      return invalid_input(what + " is not a valid ONNX file (truncated or not protobuf)");
    any_field = true;
    if (field == 7 && wire == 2) {
      graph = payload;
      graph_len = len;
    }
  }
  if (!any_field || !graph) return invalid_input(what + " is not an ONNX model (it has no graph)");
  Wire g(graph, graph_len);
  const uint8_t* last = nullptr;
  size_t last_len = 0;
  while (!g.done()) {
    uint32_t field, wire;
    const uint8_t* payload;
    size_t len;
    uint64_t scalar;
    if (!g.next(&field, &wire, &payload, &len, &scalar))
      return invalid_input(what + " has a malformed graph (truncated?)");
    if (field == 5 && wire == 2) {
      last = payload;
      last_len = len;
    }
  }
  if (!last) return invalid_input(what + " has no initializers");
  return parse_tensor(last, last_len, what);
}

Result<OnnxTensor> read_last_initializer(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found("cannot open " + path + " to read its weights");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
    ::close(fd);
    return invalid_input(path + " is empty");
  }
  void* map = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return io_error("cannot map " + path + " into memory");
  auto result = read_last_initializer(static_cast<const uint8_t*>(map), size_t(st.st_size), path);
  ::munmap(map, size_t(st.st_size));
  return result;
}

}  // namespace faceweave::infer
