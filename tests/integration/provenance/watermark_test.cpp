// The watermark on real photographs and video frames: found with its payload, invisible (PSNR >= 40 dB),
// robust to JPEG quality 70, 50% downscaling and 10% crops; a video's presence mark survives H.264 CRF 28
// where its payload does not; and never found where it was not put (the test data, 1000 synthetic unmarked
// images, unmarked clips).
#include <algorithm>
#include <array>
#include <filesystem>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "../analysis_support.h"
#include "pipeline/provenance_marks.h"
#include "provenance/watermark.h"

namespace faceweave::testing {
namespace {

using provenance::Payload;

// Every photo of the test data with a face the detector finds (their faces are 90 to 370 pixels wide).
const char* kImages[] = {"obama.jpg",           "biden.jpg",           "astronaut.png",
                         "two_people.jpg",      "meds-aa-S001-01.jpg", "meds-aa-S001-02.jpg",
                         "meds-aa-S029-01.jpg", "meds-af-S419-01.jpg"};

std::vector<cv::Rect2f> face_boxes(const cv::Mat& img) {
  auto faces = shared_engine().analyse(img);
  EXPECT_TRUE(faces.is_ok()) << faces.status().to_string();
  std::vector<cv::Rect2f> boxes;
  if (faces)
    for (const auto& f : *faces) boxes.push_back(f.box);
  return boxes;
}

struct Marked {
  cv::Mat original, image;
  int marked = 0;
};

Marked mark(const cv::Mat& original, const Payload& payload) {
  Marked m{original, original.clone(), 0};
  m.marked = provenance::embed_watermark_faces(m.image, face_boxes(original), payload);
  return m;
}
Marked mark(const std::string& file, const Payload& payload) {
  return mark(std::move(load_image(image(file))).value(), payload);
}

provenance::WatermarkDetection detect(const cv::Mat& img) {
  return provenance::detect_watermark(img, face_boxes(img));
}

cv::Mat jpeg(const cv::Mat& img, int quality) {
  std::vector<uchar> buf;
  cv::imencode(".jpg", img, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
  return cv::imdecode(buf, cv::IMREAD_COLOR);
}

void expect_found(const provenance::WatermarkDetection& d, const Payload& p, const std::string& what) {
  EXPECT_TRUE(d.found) << what << ": confidence " << d.confidence;
  if (d.found) {
    ASSERT_TRUE(d.payload.has_value());
    EXPECT_EQ(*d.payload, p) << what;
    EXPECT_GE(d.confidence, provenance::kDetectThreshold);
  }
}

class WatermarkOnPhotos : public ::testing::TestWithParam<const char*> {};

TEST_P(WatermarkOnPhotos, IsFoundWithItsPayloadAndKeepsPsnrAbove40) {
  const Payload p{provenance::kPayloadVersion, true, 0x1234ABCDu};
  Marked m = mark(GetParam(), p);
  ASSERT_GT(m.marked, 0) << "no face large enough to mark";
  EXPECT_GE(cv::PSNR(m.original, m.image), 40.0);
  // Also within the changed square alone, not only diluted by the untouched rest of the image.
  cv::Mat diff;
  cv::absdiff(m.original, m.image, diff);
  cv::Mat changed;
  cv::cvtColor(diff, changed, cv::COLOR_BGR2GRAY);
  const cv::Rect square = cv::boundingRect(changed > 0);
  EXPECT_GE(cv::PSNR(m.original(square), m.image(square)), 40.0) << square;
  expect_found(detect(m.image), p, "as marked");
  // A lossless round trip through a PNG file changes nothing.
  const TempDir dir;
  ASSERT_TRUE(save_image(dir.file("m.png"), m.image).is_ok());
  expect_found(detect(std::move(load_image(dir.file("m.png"))).value()), p, "png file");
}

TEST_P(WatermarkOnPhotos, SurvivesJpegQuality70) {
  const Payload p{provenance::kPayloadVersion, true, 0x0BADF00Du};
  expect_found(detect(jpeg(mark(GetParam(), p).image, 70)), p, "jpeg 70");
}

TEST_P(WatermarkOnPhotos, SurvivesDownscalingTo50Percent) {
  const Payload p{provenance::kPayloadVersion, true, 0xCAFEBABEu};
  cv::Mat half;
  cv::resize(mark(GetParam(), p).image, half, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
  expect_found(detect(half), p, "50%");
}

TEST_P(WatermarkOnPhotos, Survives10PercentCrops) {
  const Payload p{provenance::kPayloadVersion, true, 0x600DD00Du};
  const cv::Mat img = mark(GetParam(), p).image;
  const int w = img.cols, h = img.rows;
  // 10% off the left and the top; 5% off every side.
  for (const cv::Rect crop :
       {cv::Rect(w / 10, h / 10, w - w / 10, h - h / 10), cv::Rect(w / 20, h / 20, w - w / 10, h - h / 10)}) {
    std::ostringstream what;
    what << "crop " << crop;
    expect_found(detect(img(crop).clone()), p, what.str());
  }
}

TEST_P(WatermarkOnPhotos, IsNotFoundInTheUnmarkedPhoto) {
  const cv::Mat img = std::move(load_image(image(GetParam()))).value();
  cv::Mat half;
  cv::resize(img, half, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
  for (const cv::Mat& variant : {img, jpeg(img, 70), half}) {
    auto d = detect(variant);
    EXPECT_FALSE(d.found) << "confidence " << d.confidence << ", presence score " << d.presence_score;
    EXPECT_FALSE(d.payload.has_value());
    std::cout << "unmarked, presence score " << d.presence_score << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(TestData, WatermarkOnPhotos, ::testing::ValuesIn(kImages), [](const auto& info) {
  std::string n = info.param;
  std::replace_if(
      n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return n;
});

TEST(Watermark, OverlappingFacesAreMarkedOnceAndStillFound) {
  // bald_guys.jpg: a collage of many faces, whose squares overlap.
  const Payload p{provenance::kPayloadVersion, true, 77u};
  Marked m = mark("bald_guys.jpg", p);
  ASSERT_GT(m.marked, 0);
  EXPECT_LT(m.marked, int(face_boxes(m.original).size()));
  EXPECT_GE(cv::PSNR(m.original, m.image), 40.0);
  expect_found(detect(jpeg(m.image, 70)), p, "jpeg 70");
}

// The presence mark alone (no payload energy) is found, and says only "marked": found, no payload, a
// confidence on the payload's scale. Also through JPEG quality 50.
TEST(Watermark, PresenceMarkAloneIsFoundWithoutAPayload) {
  const Payload p{provenance::kPayloadVersion, true, 99u};
  for (const char* file : {"obama.jpg", "meds-aa-S001-01.jpg"}) {
    cv::Mat img = std::move(load_image(image(file))).value();
    const auto boxes = face_boxes(img);
    ASSERT_FALSE(boxes.empty()) << file;
    const auto stamp = provenance::make_watermark_stamp(img.size(), boxes[0], p, {0.0f, 12.0f});
    ASSERT_TRUE(stamp.has_value()) << file;
    ASSERT_TRUE(provenance::apply_watermark_stamp(img, *stamp));
    for (const auto& [what, variant] : {std::pair{"as marked", img}, std::pair{"jpeg 50", jpeg(img, 50)}}) {
      const auto d = detect(variant);
      EXPECT_TRUE(d.found) << file << ", " << what << ": presence score " << d.presence_score;
      EXPECT_TRUE(d.presence_found) << file << ", " << what;
      EXPECT_FALSE(d.payload.has_value()) << file << ", " << what;
      EXPECT_GE(d.confidence, provenance::kDetectThreshold) << file << ", " << what;
      std::cout << file << ", presence mark alone, " << what << ": score " << d.presence_score << "\n";
    }
  }
}

// The mark's detection depends on the payload (the run id decides which blocks carry which sign): 50 random
// run ids, spread over the photos, must every one be found after each of JPEG 70, 50% downscaling and a 10%
// crop, and after all three at once.
TEST(Watermark, EveryOneOf50RandomRunIdsSurvivesJpegDownscaleAndCrop) {
  std::vector<cv::Mat> photos;
  for (const char* f : kImages) photos.push_back(std::move(load_image(image(f))).value());
  std::mt19937 rng(std::random_device{}());
  double lowest = 1;
  for (int i = 0; i < 50; ++i) {
    const Payload p{provenance::kPayloadVersion, true, uint32_t(rng())};
    const std::string file = kImages[size_t(i) % std::size(kImages)];
    const cv::Mat img = mark(photos[size_t(i) % photos.size()], p).image;
    cv::Mat half;
    cv::resize(img, half, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    const int w = img.cols, h = img.rows;
    cv::Mat all;
    cv::resize(jpeg(img, 70), all, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    all = all(cv::Rect(all.cols / 10, all.rows / 10, all.cols - all.cols / 10, all.rows - all.rows / 10))
              .clone();
    const std::pair<const char*, cv::Mat> attacked[] = {
        {"jpeg 70", jpeg(img, 70)},
        {"50%", half},
        {"10% crop", img(cv::Rect(w / 10, h / 10, w - w / 10, h - h / 10)).clone()},
        {"jpeg 70 + 50% + 10% crop", all}};
    for (const auto& [what, variant] : attacked) {
      const auto d = detect(variant);
      std::ostringstream label;
      label << file << ", run id " << std::hex << p.run_id << ", " << what;
      expect_found(d, p, label.str());
      lowest = std::min(lowest, d.confidence);
    }
  }
  std::cout << "lowest confidence over 50 run ids and four attacks: " << lowest << "\n";
}

// Frames of a real video marked as faceweave marks a video (one stamp per steady mark box, the same pattern
// in every frame), encoded with H.264 by the ffmpeg command line, decoded again, and examined one frame at a
// time and as averages of 8 frames (what `inspect` does).
struct VideoSurvival {
  int frames_found = 0, windows_found = 0, frames = 0, windows = 0;
  int payloads_read = 0;     // frames and averages whose payload was read
  double best = 0;           // the highest confidence of any frame or average
  double best_presence = 0;  // the highest presence score of any frame or average
  double worst_psnr = 99;    // the marked frames against the unmarked, within the changed square
};
VideoSurvival video_survival(int crf, const Payload& p, bool marked = true) {
  const TempDir dir;
  constexpr int kFrames = 24;
  const std::string video = testdata("video/astronaut_synthetic_motion.mp4");
  const auto extract = run_command("ffmpeg -v error -i '" + video + "' -frames:v " + std::to_string(kFrames) +
                                   " '" + dir.file("in%02d.png") + "' 2>&1");
  EXPECT_EQ(extract.code, 0) << extract.out;
  pipeline::VideoMarks marks(p);
  cv::Rect2f mark_box;
  VideoSurvival r;
  SwapOptions options;
  for (int i = 1; i <= kFrames; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "in%02d.png", i);
    pipeline::FrameContext ctx;
    ctx.frame = std::move(load_image(dir.file(name))).value();
    const auto boxes = face_boxes(ctx.frame);
    EXPECT_FALSE(boxes.empty()) << name;
    if (boxes.empty()) return {};
    mark_box = pipeline::steady_mark_box(mark_box, boxes[0]);
    if (marked) {
      const cv::Mat original = ctx.frame.clone();
      EXPECT_EQ(marks.mark(ctx, ctx.frame.size(), options, {mark_box}), 1) << name;
      cv::Mat diff, changed;
      cv::absdiff(original, ctx.frame, diff);
      cv::cvtColor(diff, changed, cv::COLOR_BGR2GRAY);
      const cv::Rect square = cv::boundingRect(changed > 0);
      r.worst_psnr = std::min(r.worst_psnr, cv::PSNR(original(square), ctx.frame(square)));
    }
    std::snprintf(name, sizeof name, "wm%02d.png", i);
    EXPECT_TRUE(save_image(dir.file(name), ctx.frame).is_ok());
  }
  const auto encode = run_command(
      "ffmpeg -v error -framerate 25 -i '" + dir.file("wm%02d.png") + "' -c:v libx264 -crf " +
      std::to_string(crf) + " -preset medium -pix_fmt yuv420p '" + dir.file("out.mp4") +
      "' && ffmpeg -v error -i '" + dir.file("out.mp4") + "' '" + dir.file("out%02d.png") + "' 2>&1");
  EXPECT_EQ(encode.code, 0) << encode.out;
  cv::Mat sum, y;
  std::vector<cv::Rect2f> window_boxes;
  for (int i = 1; i <= kFrames; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "out%02d.png", i);
    const cv::Mat frame = std::move(load_image(dir.file(name))).value();
    const auto boxes = face_boxes(frame);
    const auto d = provenance::detect_watermark(frame, boxes);
    r.best = std::max(r.best, d.confidence);
    r.best_presence = std::max(r.best_presence, d.presence_score);
    ++r.frames;
    r.frames_found += d.found ? 1 : 0;
    if (d.payload) {
      ++r.payloads_read;
      EXPECT_EQ(*d.payload, p) << name;
    }
    if ((i - 1) % 8 == 0) {
      sum = cv::Mat::zeros(frame.size(), CV_32F);
      window_boxes = boxes;
    }
    cv::cvtColor(frame, y, cv::COLOR_BGR2GRAY);
    cv::accumulate(y, sum);
    if (i % 8 == 0) {
      const auto w = provenance::detect_watermark_luma(sum / 8, window_boxes);
      r.best = std::max(r.best, w.confidence);
      r.best_presence = std::max(r.best_presence, w.presence_score);
      ++r.windows;
      r.windows_found += w.found ? 1 : 0;
      if (w.payload) {
        ++r.payloads_read;
        EXPECT_EQ(*w.payload, p) << "frames " << i - 7 << "-" << i;
      }
    }
  }
  std::cout << (marked ? "" : "unmarked, ") << "CRF " << crf << ": found in " << r.frames_found << " of "
            << r.frames << " frames and " << r.windows_found << " of " << r.windows
            << " 8-frame averages, payload read in " << r.payloads_read << " (highest confidence " << r.best
            << ", highest presence score " << r.best_presence << ")";
  if (marked) std::cout << ", lowest PSNR in the square " << r.worst_psnr << " dB";
  std::cout << "\n";
  return r;
}

// What the video mark survives today: H.264 at CRF 18 (faceweave's default quality) on this clip, which zooms
// and pans in every frame (the worst case: the content moves under a stamp that stays put). `inspect` needs
// one frame; measured: 5 of 24 single frames, none of the 8-frame averages (the steady box moves every few
// frames here, so the averages mix stamps).
TEST(Watermark, VideoMarkSurvivesH264Crf18) {
  const auto r = video_survival(18, {provenance::kPayloadVersion, true, 0xFACEFEEDu});
  EXPECT_GE(r.payloads_read, 1);
  EXPECT_GE(r.worst_psnr, 40.0);
}

// H.264 CRF 28 (docs/provenance.md "Why H.264 CRF 28 removes the video mark"): at 480x360 the payload does
// not survive (the key frame keeps a per-symbol SNR of about 0.8, the decoder needs about 1.5), but the
// presence mark, all blocks of the square summed for one bit, does in the key frame: the marked clip must be
// found, and the same frames unmarked and encoded the same way must not be, with a presence score below the
// threshold.
TEST(Watermark, SurvivesH264Crf28) {
  const Payload p{provenance::kPayloadVersion, true, 0xFACEFEEDu};
  const auto r = video_survival(28, p);
  EXPECT_GE(r.frames_found + r.windows_found, 1);
  EXPECT_GE(r.best_presence, provenance::kPresenceThreshold);
  EXPECT_GE(r.worst_psnr, 40.0);
  const auto u = video_survival(28, p, false);
  EXPECT_EQ(u.frames_found + u.windows_found, 0);
  EXPECT_LT(u.best, provenance::kDetectThreshold);
  EXPECT_LT(u.best_presence, provenance::kPresenceThreshold);
}

// Synthetic unmarked content of many kinds: noise, smooth noise, gradients, stripes and checkerboards of
// random periods and angles, shapes.
cv::Mat synthetic_image(int i, int w, int h, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  cv::Mat img(h, w, CV_8UC3);
  switch (i % 5) {
    case 0:
      cv::randn(img, cv::Scalar::all(128), cv::Scalar::all(5 + 60 * u(rng)));
      break;
    case 1: {
      cv::randn(img, cv::Scalar::all(128), cv::Scalar::all(80));
      const double sigma = 1 + 8 * u(rng);
      cv::GaussianBlur(img, img, cv::Size(), sigma);
      break;
    }
    case 2:
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          img.at<cv::Vec3b>(y, x) =
              cv::Vec3b(uchar(x * 255 / w), uchar(y * 255 / h), uchar((x + y) * 127 / (w + h)));
      break;
    case 3: {
      const float period = 3 + 30 * u(rng), angle = 3.14159f * u(rng);
      const bool checker = u(rng) < 0.5f;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const float a = (x * std::cos(angle) + y * std::sin(angle)) / period;
          const float b = (-x * std::sin(angle) + y * std::cos(angle)) / period;
          const int v = checker ? ((int(std::floor(a)) + int(std::floor(b))) & 1) * 200 + 28
                                : int(128 + 100 * std::sin(6.2832f * a));
          img.at<cv::Vec3b>(y, x) = cv::Vec3b::all(uchar(v));
        }
      break;
    }
    default:
      img.setTo(cv::Scalar(u(rng) * 255, u(rng) * 255, u(rng) * 255));
      for (int s = 0; s < 30; ++s) {
        const cv::Scalar colour(u(rng) * 255, u(rng) * 255, u(rng) * 255);
        const cv::Point c(int(u(rng) * w), int(u(rng) * h));
        if (s % 2)
          cv::circle(img, c, 5 + int(u(rng) * 60), colour, -1);
        else
          cv::rectangle(img, c, c + cv::Point(int(u(rng) * 80), int(u(rng) * 80)), colour, -1);
      }
  }
  return img;
}

// 1000 synthetic unmarked images, each examined around a random "face" box: no detection at all.
TEST(Watermark, NoFalsePositivesOn1000SyntheticImages) {
  std::mt19937 rng(20260806);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  int detections = 0;
  double worst = 0;
  std::array<double, 5> worst_presence{};  // per kind of content
  for (int i = 0; i < 1000; ++i) {
    const int w = 128 + int(u(rng) * 160), h = 128 + int(u(rng) * 160);
    const cv::Mat img = synthetic_image(i, w, h, rng);
    const float side = 40 + u(rng) * float(std::min(w, h) - 60);
    const cv::Rect2f box(u(rng) * (w - side), u(rng) * (h - side), side, side * (0.9f + 0.4f * u(rng)));
    auto d = provenance::detect_watermark(img, {box});
    detections += d.found ? 1 : 0;
    worst = std::max(worst, d.confidence);
    worst_presence[i % 5] = std::max(worst_presence[i % 5], d.presence_score);
  }
  EXPECT_EQ(detections, 0);
  EXPECT_LT(worst, provenance::kDetectThreshold);
  std::cout << "highest confidence on unmarked synthetic images: " << worst
            << "; highest presence score (noise, smooth noise, gradients, stripes/checkerboards, shapes):";
  for (double w : worst_presence) {
    std::cout << " " << w;
    EXPECT_LT(w, provenance::kPresenceThreshold);
  }
  std::cout << "\n";
}

// 200 synthetic unmarked clips of 8 frames (the content panning a few pixels a frame, with fresh noise in
// every frame), examined as `inspect` examines a video: the average of the 8 frames around a random box.
TEST(Watermark, NoFalsePositivesOn200SyntheticClipAverages) {
  std::mt19937 rng(20261207);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  int detections = 0;
  double worst = 0, worst_presence = 0;
  for (int i = 0; i < 200; ++i) {
    const int w = 160 + int(u(rng) * 160), h = 160 + int(u(rng) * 160);
    const cv::Mat scene = synthetic_image(i, w + 40, h + 40, rng);
    const float vx = 5 * u(rng), vy = 5 * u(rng);
    cv::Mat sum = cv::Mat::zeros(h, w, CV_32F), y, noise(h, w, CV_32F);
    for (int f = 0; f < 8; ++f) {
      cv::cvtColor(scene(cv::Rect(int(f * vx), int(f * vy), w, h)), y, cv::COLOR_BGR2GRAY);
      cv::randn(noise, 0, 3);
      cv::accumulate(y, sum);
      sum += noise;
    }
    const float side = 60 + u(rng) * float(std::min(w, h) - 80);
    const cv::Rect2f box(u(rng) * (w - side), u(rng) * (h - side), side, side * (0.9f + 0.4f * u(rng)));
    auto d = provenance::detect_watermark_luma(sum / 8, {box});
    detections += d.found ? 1 : 0;
    worst = std::max(worst, d.confidence);
    worst_presence = std::max(worst_presence, d.presence_score);
  }
  EXPECT_EQ(detections, 0);
  EXPECT_LT(worst, provenance::kDetectThreshold);
  EXPECT_LT(worst_presence, provenance::kPresenceThreshold);
  std::cout << "highest confidence on unmarked synthetic clip averages: " << worst
            << ", highest presence score " << worst_presence << "\n";
}

}  // namespace
}  // namespace faceweave::testing
