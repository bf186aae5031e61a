// Status and Result<T>: how every faceweave function reports failure. Library code never throws across a
// module boundary; a Status turns into a CLI exit code or an HTTP status in exactly one place each.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace faceweave {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // a flag, option or value is wrong
  kNotFound,          // a file, model or id does not exist
  kInvalidInput,      // the input exists but its content is unusable (corrupt, empty, too small, too large)
  kUnsupported,       // a format, provider or feature this build cannot handle
  kModelError,        // a model is missing, fails verification or fails to load/run
  kPermissionDenied,  // a file or folder cannot be read or written
  kIoError,           // reading or writing failed for another reason
  kNoFace,            // a source has no face, or no target face was selected
  kCancelled,
  kInternal,
};

// Stable lower-case name ("invalid_input", ...), used in JSON, telemetry and error output.
const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_input: <message>"
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status not_found(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status invalid_input(std::string m) {
  return {StatusCode::kInvalidInput, std::move(m)};
}
inline Status unsupported(std::string m) {
  return {StatusCode::kUnsupported, std::move(m)};
}
inline Status model_error(std::string m) {
  return {StatusCode::kModelError, std::move(m)};
}
inline Status permission_denied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status io_error(std::string m) {
  return {StatusCode::kIoError, std::move(m)};
}
inline Status no_face(std::string m) {
  return {StatusCode::kNoFace, std::move(m)};
}
inline Status internal_error(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool is_ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace faceweave

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define FW_RETURN_IF_ERROR(expr)                \
  do {                                          \
    ::faceweave::Status fw_status_ = (expr);    \
    if (!fw_status_.is_ok()) return fw_status_; \
  } while (0)

#define FW_CONCAT_INNER(a, b) a##b
#define FW_CONCAT(a, b) FW_CONCAT_INNER(a, b)
// Declares `lhs` from a Result<T> expression or returns its Status.
#define FW_ASSIGN_OR_RETURN(lhs, expr) FW_ASSIGN_OR_RETURN_IMPL(FW_CONCAT(fw_result_, __LINE__), lhs, expr)
#define FW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.is_ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
