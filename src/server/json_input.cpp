#include "server/json_input.h"

namespace faceweave::server {
namespace {
using nlohmann::json;

constexpr const char* kTooDeep = " nests arrays and objects deeper than ";

// nlohmann's own DOM builder, with a depth count in front of it: returning false from start_object or
// start_array ends the parse there.
class DepthLimitedSax {
 public:
  DepthLimitedSax(json& root, int max_depth) : dom_(root, false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) { return dom_.number_float(v, s); }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool key(json::string_t& v) { return dom_.key(v); }
  bool start_object(std::size_t n) { return enter() && dom_.start_object(n); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return enter() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& e) {
    error_ = e.what();
    return dom_.parse_error(position, token, e);
  }

  bool too_deep() const { return too_deep_; }
  const std::string& error() const { return error_; }

 private:
  bool enter() {
    if (++depth_ <= max_depth_) return true;
    too_deep_ = true;
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
  std::string error_;
};

}  // namespace

Result<json> parse_json_input(std::string_view text, const std::string& what, int max_depth) {
  json root;
  DepthLimitedSax sax(root, max_depth);
  if (json::sax_parse(text, &sax)) return root;
  if (sax.too_deep())
    return invalid_argument(what + kTooDeep + std::to_string(max_depth) +
                            " levels; no faceweave request needs more than a few, send flatter JSON");
  // nlohmann's message says where and what ("syntax error while parsing value - unexpected end of input;
  // expected '[', '{', or a literal"); it quotes no more than the offending token.
  std::string detail = sax.error();
  if (const auto at = detail.find("] "); detail.rfind("[json.exception", 0) == 0 && at != std::string::npos)
    detail = detail.substr(at + 2);
  if (detail.size() > 160) detail = detail.substr(0, 160) + "...";
  return invalid_argument(what + " is not valid JSON (" + detail + ")");
}

bool json_too_deep(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument &&
         status.message().find(kTooDeep) != std::string::npos;
}

}  // namespace faceweave::server
