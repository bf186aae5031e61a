#include "faceweave/status.h"

namespace faceweave {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kInvalidInput:
      return "invalid_input";
    case StatusCode::kUnsupported:
      return "unsupported";
    case StatusCode::kModelError:
      return "model_error";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kIoError:
      return "io_error";
    case StatusCode::kNoFace:
      return "no_face";
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kInternal:
      return "internal";
  }
  return "internal";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(status_code_name(code_)) + ": " + message_;
}

}  // namespace faceweave
