#include "server/uploads.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/pixel_budget.h"
#include "core/private_files.h"
#include "face/face_selector.h"
#include "server/ids.h"
#include "server/json_input.h"

namespace faceweave::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kTooLarge = "too large: ";

Status write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.close();
  if (!out) return io_error("cannot write " + path.filename().string() + "; check the data dir has space");
  return core::make_private_file(path.string());
}

std::string human_bytes(int64_t n) {
  if (n >= (1 << 30) && n % (1 << 30) == 0) return std::to_string(n >> 30) + " GB";
  if (n >= (1 << 20)) return std::to_string(n >> 20) + " MB";
  return std::to_string(n >> 10) + " KB";
}

}  // namespace

std::string upload_display_name(const std::string& name) {
  std::string base = fs::path(name).filename().string();
  std::string out;
  for (char c : base)
    if (c >= 32 && c < 127) out += c;
  return out.substr(0, 80);
}

bool is_upload_id(const std::string& s) {
  return is_id(s, 'u');
}

json faces_json(const std::vector<Face>& faces) {
  json out = json::array();
  for (size_t i = 0; i < faces.size(); ++i) {
    const Face& f = faces[i];
    json j{
        {"index", i},
        {"box",
         {std::lround(f.box.x), std::lround(f.box.y), std::lround(f.box.width), std::lround(f.box.height)}},
        {"score", std::round(f.score * 1000) / 1000}};
    if (f.age) j["age"] = std::lround(*f.age);
    if (f.gender) j["gender"] = *f.gender == Gender::kFemale ? "female" : "male";
    out.push_back(j);
  }
  return out;
}

std::vector<Face> faces_from_json(const json& faces) {
  std::vector<Face> out;
  for (const auto& f : faces) {
    Face face;
    face.box = cv::Rect2f(f["box"][0].get<float>(), f["box"][1].get<float>(), f["box"][2].get<float>(),
                          f["box"][3].get<float>());
    face.score = f["score"].get<float>();
    out.push_back(face);
  }
  return out;
}

UploadStore::UploadStore(std::string root, UploadLimits limits, double retention_hours)
    : root_(std::move(root)), limits_(limits), retention_hours_(retention_hours) {}

bool UploadStore::too_large(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument && s.message().rfind(kTooLarge, 0) == 0;
}

Result<StagedUpload> UploadStore::stage() {
  StagedUpload staged;
  staged.id = new_id('u');
  const fs::path dir = fs::path(root_) / staged.id;
  // Owner-only whatever the umask: uploads are people's photos (core/private_files.h).
  if (Status s = core::make_private_dir(root_); !s.is_ok())
    return io_error("cannot create the uploads folder; check the data dir is writable");
  if (Status s = core::make_private_dir(dir.string()); !s.is_ok())
    return io_error("cannot create a folder for the upload; check the data dir is writable");
  staged.path = (dir / "media.upload").string();
  return staged;
}

void UploadStore::discard(const StagedUpload& staged) {
  if (!is_upload_id(staged.id)) return;
  std::error_code ec;
  fs::remove_all(fs::path(root_) / staged.id, ec);
}

Result<Upload> UploadStore::add(const std::string& bytes, const std::string& client_name,
                                const Engine& engine) {
  FW_ASSIGN_OR_RETURN(StagedUpload staged, stage());
  staged.client_name = client_name;
  staged.bytes = int64_t(bytes.size());
  if (Status s = write_file(staged.path, bytes); !s.is_ok()) {
    discard(staged);
    return s;
  }
  return commit(staged, engine);
}

Result<MediaInfo> UploadStore::check(const StagedUpload& staged, cv::Mat* first_frame) const {
  if (staged.truncated || staged.bytes > max_bytes())
    return invalid_argument(kTooLarge + std::string("the upload is over ") + human_bytes(max_bytes()) +
                            " (the limit for videos; images may have " + human_bytes(limits_.image_bytes) +
                            ")");
  if (staged.bytes == 0) return invalid_input("the upload is empty; choose an image or a video file");
  auto info = probe_media(staged.path, first_frame, limits_.image_pixels);
  if (!info) {
    // The message names the client's file, never the server's path.
    std::string why = info.status().message();
    for (size_t at; (at = why.find(staged.path)) != std::string::npos;)
      why.replace(at, staged.path.size(), "it");
    return invalid_input("the upload is not an image or video faceweave can decode: " + why);
  }
  if (info->kind == "image" && staged.bytes > limits_.image_bytes)
    return invalid_argument(kTooLarge + std::to_string(staged.bytes) + " bytes; the limit for images is " +
                            human_bytes(limits_.image_bytes));
  return info;
}

Result<Upload> UploadStore::commit(const StagedUpload& staged, const Engine& engine) {
  const std::string& id = staged.id;
  const fs::path dir = fs::path(root_) / id;
  auto fail = [&](Status s) -> Result<Upload> {
    discard(staged);
    return s;
  };
  cv::Mat first_frame;  // decoded by the check; analysed below
  auto info = check(staged, &first_frame);
  if (!info) return fail(info.status());
  const fs::path media = dir / ("media." + info->format);
  std::error_code ec;
  fs::rename(staged.path, media, ec);
  if (ec) return fail(io_error("cannot store the upload (" + ec.message() + ")"));
  if (Status s = core::make_private_file(media.string()); !s.is_ok())
    return fail(io_error("cannot make the upload private; check who owns the data dir"));
  json meta{{"id", id},
            {"kind", info->kind},
            {"format", info->format},
            {"name", upload_display_name(staged.client_name)},
            {"bytes", staged.bytes},
            {"width", info->width},
            {"height", info->height},
            {"created_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count()}};
  if (info->kind == "video") {
    meta["frames"] = info->frames;
    meta["fps"] = std::round(info->fps * 1000) / 1000;
    meta["duration_s"] = std::round(info->duration_s * 1000) / 1000;
    meta["has_audio"] = info->has_audio;
  }
  // The decoded frame and the analysis' copies of it count against the process's decode budget.
  const core::PixelBudget::Lease lease =
      core::PixelBudget::global().acquire(int64_t(first_frame.cols) * first_frame.rows);
  auto faces = engine.analyse(first_frame);
  if (!faces) return fail(faces.status());
  meta["faces"] = faces_json(*faces);
  if (Status s = write_file(dir / "meta.json", meta.dump()); !s.is_ok()) return fail(s);
  return Upload{id, media.string(), meta};
}

Result<Upload> UploadStore::get(const std::string& id) const {
  if (!is_upload_id(id))
    return not_found("no upload " + id.substr(0, 40) + " (ids look like u_ and 24 hex digits)");
  const fs::path dir = fs::path(root_) / id;
  std::ifstream in(dir / "meta.json");
  if (!in)
    return not_found("no upload " + id + "; it may have expired (uploads are kept " +
                     std::to_string(int(retention_hours_)) + " hours)");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto meta = parse_json_input(text, "upload " + id);
  if (!meta || !meta->is_object()) return not_found("upload " + id + " is damaged; upload the file again");
  return Upload{id, (dir / ("media." + meta->value("format", ""))).string(), std::move(meta).value()};
}

Result<std::string> UploadStore::face_crop(const Upload& upload, size_t n, int64_t frame,
                                           const Engine& engine) const {
  FW_ASSIGN_OR_RETURN(cv::Mat image, load_frame(upload.path, frame));
  std::vector<Face> faces;
  if (frame == 0) {
    faces = faces_from_json(upload.meta["faces"]);  // found at upload time, in the description's order
  } else {
    FW_ASSIGN_OR_RETURN(faces, engine.analyse(image));
  }
  if (n >= faces.size())
    return not_found("face " + std::to_string(n) + " does not exist (" + std::to_string(faces.size()) +
                     " found)");
  const cv::Rect2f b = faces[n].box;
  const float m = 0.3f * std::max(b.width, b.height);
  cv::Rect r(cv::Point(int(b.x - m), int(b.y - m)), cv::Point(int(b.br().x + m), int(b.br().y + m)));
  r &= cv::Rect(0, 0, image.cols, image.rows);
  if (r.empty()) return not_found("face " + std::to_string(n) + " lies outside the image");
  cv::Mat crop = image(r);
  const double scale = std::min(1.0, 160.0 / std::max(r.width, r.height));
  if (scale < 1) cv::resize(crop, crop, cv::Size(), scale, scale, cv::INTER_AREA);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", crop, jpeg, {cv::IMWRITE_JPEG_QUALITY, 88});
  return std::string(jpeg.begin(), jpeg.end());
}

int UploadStore::sweep() {
  std::lock_guard lock(mutex_);
  int removed = 0;
  std::error_code ec;
  if (!fs::exists(root_, ec)) return 0;
  const auto cutoff = fs::file_time_type::clock::now() -
                      std::chrono::duration_cast<fs::file_time_type::duration>(
                          std::chrono::duration<double, std::ratio<3600>>(retention_hours_));
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    if (!entry.is_directory() || !is_upload_id(entry.path().filename().string())) continue;
    auto t = fs::last_write_time(entry.path(), ec);
    if (ec || t > cutoff) continue;
    fs::remove_all(entry.path(), ec);
    if (!ec) ++removed;
  }
  return removed;
}

}  // namespace faceweave::server
