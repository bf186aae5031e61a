#include "pipeline/video_swap.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "core/allocator.h"
#include "core/image_io.h"
#include "core/shrink.h"
#include "core/thread_pool.h"
#include "face/face_tracker.h"
#include "media/video_reader.h"
#include "media/video_writer.h"
#include "pipeline/provenance_marks.h"
#include "pipeline/swap_settings.h"

namespace faceweave::pipeline {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// Frames handed from the decode thread to the coordinator, bounded so memory does not grow with the video.
class FrameQueue {
 public:
  explicit FrameQueue(size_t capacity) : capacity_(capacity) {}
  // Blocks while full; false when the consumer stopped.
  bool push(media::VideoFrame frame) {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return q_.size() < capacity_ || stopped_; });
    if (stopped_) return false;
    q_.push_back(std::move(frame));
    cv_.notify_all();
    return true;
  }
  void close(std::string damage, Status error) {
    std::lock_guard lock(m_);
    closed_ = true;
    damage_ = std::move(damage);
    error_ = std::move(error);
    cv_.notify_all();
  }
  void stop() {
    std::lock_guard lock(m_);
    stopped_ = true;
    cv_.notify_all();
  }
  // Blocks until a frame or the end; nullopt at the end.
  std::optional<media::VideoFrame> pop() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return std::nullopt;
    auto f = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return f;
  }
  std::string damage() {
    std::lock_guard lock(m_);
    return damage_;
  }
  Status error() {
    std::lock_guard lock(m_);
    return error_;
  }

 private:
  size_t capacity_;
  std::deque<media::VideoFrame> q_;
  std::mutex m_;
  std::condition_variable cv_;
  bool closed_ = false, stopped_ = false;
  std::string damage_;
  Status error_;
};

struct Analysed {
  std::vector<Face> faces;
  core::StageTimings timings;
};

struct Processed {
  cv::Mat frame;
  int swapped = 0;
  core::StageTimings timings;
};

struct InFlight {
  media::VideoFrame frame;
  int64_t seq = 0;                         // position in the decoded sequence
  bool awaiting_previous = false;          // follows the previous frame's faces, not yet known
  std::future<Result<Analysed>> analysis;  // invalid while awaiting_previous
  bool tracked = false;
  std::future<Result<Processed>> processing;
  bool no_face = false;
};

cv::Mat rotate_upright(const cv::Mat& m, int rotation) {
  cv::Mat out;
  switch (rotation) {
    case 90:
      cv::rotate(m, out, cv::ROTATE_90_CLOCKWISE);
      return out;
    case 180:
      cv::rotate(m, out, cv::ROTATE_180);
      return out;
    case 270:
      cv::rotate(m, out, cv::ROTATE_90_COUNTERCLOCKWISE);
      return out;
    default:
      return m;
  }
}
cv::Mat rotate_back(const cv::Mat& m, int rotation) {
  return rotate_upright(m, (360 - rotation) % 360);
}

}  // namespace

namespace {}  // namespace

bool is_video_path(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".mp4" || ext == ".mov" || ext == ".mkv" || ext == ".webm" || ext == ".avi" || ext == ".m4v";
}

Result<VideoSwapReport> run_video_swap(const VideoSwapRequest& req, const face::FaceAnalyser& analyser,
                                       const infer::ModelRegistry& models) {
  const auto started = Clock::now();
  FW_RETURN_IF_ERROR(validate(req.options));
  FW_RETURN_IF_ERROR(validate_video(req.video));
  // The run's options from here on: a video's own blend when none is chosen ("auto").
  const SwapOptions options = for_video(req.options);
  FW_RETURN_IF_ERROR(check_output_path(req.output, req.target, OutputKind::kVideo));
  FW_ASSIGN_OR_RETURN(auto sel_opts, selector_options(options));
  FW_ASSIGN_OR_RETURN(auto selector, face::FaceSelector::create(sel_opts));
  FW_ASSIGN_OR_RETURN(auto reader, media::VideoReader::open(req.target));
  const media::VideoInfo info = reader->info();

  VideoSwapReport report;
  FW_ASSIGN_OR_RETURN(auto source, build_source_identity(req.sources, analyser, &report.timings));
  std::optional<Face> reference;
  const bool reference_mode = sel_opts.mode == face::SelectorMode::kReference;
  if (reference_mode && !options.reference_face_image.empty()) {
    FW_ASSIGN_OR_RETURN(cv::Mat ref_img, core::load_image(options.reference_face_image));
    FW_ASSIGN_OR_RETURN(auto ref_faces, analyser.analyse(ref_img, {true, false}, nullptr));
    if (ref_faces.empty())
      return no_face("reference face image " + options.reference_face_image +
                     " has no face; use a clear photo of the person to replace");
    reference = *std::max_element(ref_faces.begin(), ref_faces.end(),
                                  [](const Face& a, const Face& b) { return a.box.area() < b.box.area(); });
  }
  const face::Recognizer* recognizer = analyser.recognizer();
  if (reference_mode && !recognizer) return internal_error("reference selection needs the recognizer");

  ProcessorRegistry registry;
  register_builtin_processors(registry);
  FW_ASSIGN_OR_RETURN(auto names, chain_names(options, registry));
  std::vector<std::unique_ptr<Processor>> chain;
  ProcessorDeps deps{&options, &models, &source};
  for (const auto& n : names) {
    FW_ASSIGN_OR_RETURN(auto p, registry.create(n, deps));
    chain.push_back(std::move(p));
  }
  VideoMarks video_marks(new_run_payload());
  int out_scale = 1;
  if (std::find(names.begin(), names.end(), "frame_enhancer") != names.end()) {
    const std::string& m = options.frame_enhancer;
    out_scale = m.find("x4") != std::string::npos || m.find("X4") != std::string::npos ? 4 : 2;
  }

  // Geometry: processing happens upright and at the output scale; the writer gets the stored orientation.
  const bool sideways = info.rotation == 90 || info.rotation == 270;
  const int proc_w = std::max(2, int(std::lround(info.width * req.video.scale / 2)) * 2);
  const int proc_h = std::max(2, int(std::lround(info.height * req.video.scale / 2)) * 2);
  const int out_w = proc_w * out_scale, out_h = proc_h * out_scale;
  const double in_fps = info.frame_rate.value() > 0 ? info.frame_rate.value() : 25.0;

  const unsigned threads = req.video.threads > 0 ? unsigned(req.video.threads) : core::default_thread_count();
  // Frames between detector runs wait for the previous frame's faces: a deeper window keeps every worker
  // busy meanwhile.
  const int detect_interval = req.video.face_detector_interval;
  const size_t window = std::max<size_t>(4, threads * (detect_interval > 1 ? 4 : 3));
  FrameQueue queue(window);
  const int64_t trim_start = req.video.trim_frame_start, trim_end = req.video.trim_frame_end;
  core::StageTimings decode_timings;  // written by the decode thread only, read after it joins
  std::thread decoder([&] {
    media::VideoFrame f;
    Status error;
    while (true) {
      Result<bool> got = false;
      {
        core::ScopedStage stage(&decode_timings, "decode");
        got = reader->read(f);
      }
      if (!got.is_ok()) {
        error = got.status();
        break;
      }
      if (!*got) break;
      if (f.index < trim_start) continue;
      if (trim_end >= 0 && f.index >= trim_end) break;
      if (req.video.scale != 1.0) {
        const cv::Size size(sideways ? proc_h : proc_w, sideways ? proc_w : proc_h);
        if (req.video.scale < 1.0)
          core::shrink(f.bgr, f.bgr, size);
        else
          cv::resize(f.bgr, f.bgr, size, 0, 0, cv::INTER_CUBIC);
      }
      f.bgr = rotate_upright(f.bgr, info.rotation);
      if (!queue.push(f)) break;
    }
    queue.close(reader->damage(), error);
  });

  // Frames are processed in parallel; OpenCV's own worker threads on top of that only oversubscribe the
  // cores (and spin while waiting), so they are turned off for the run.
  struct OpenCvThreads {
    int previous = cv::getNumThreads();
    OpenCvThreads() { cv::setNumThreads(1); }
    ~OpenCvThreads() { cv::setNumThreads(previous); }
  } opencv_threads;
  core::tune_allocator();  // frames and per-face temporaries are reused from the heaps
  core::ThreadPool pool(threads);
  face::FaceTracker tracker(face::FaceTrackerOptions{.smooth = req.video.smooth_landmarks});
  std::unique_ptr<media::VideoWriter> writer;
  std::deque<InFlight> inflight;
  const face::AnalyseFlags flags{
      false, sel_opts.gender.has_value() || sel_opts.age_start > 0 || sel_opts.age_end < 100};
  int64_t frames_written = 0, frames_in = 0;
  double first_time = -1;
  int64_t out_tick = 0;
  std::optional<std::pair<cv::Mat, double>> held;  // fps resampling: the last frame and its time
  const bool resample = req.video.fps > 0;
  const media::Rational out_tb =
      resample ? media::Rational{1, int(std::lround(req.video.fps * 1000))} : info.time_base;
  Status failure;
  bool input_done = false;

  // Analysis: the detector on every detect_interval-th frame; the frames between follow the previous frame's
  // faces with the landmarker alone. A frame after one without faces runs the detector, and so does a frame
  // where a face could not be followed (too small, moved too far).
  int64_t last_tracked_seq = -1;
  std::vector<Face> last_faces;
  std::unordered_map<int, cv::Rect2f> mark_boxes;  // per face track: the box its watermark follows
  auto detect = [&](InFlight& item) {
    cv::Mat img = item.frame.bgr;
    item.analysis = pool.submit([&analyser, img, flags]() -> Result<Analysed> {
      Analysed a;
      FW_ASSIGN_OR_RETURN(a.faces, analyser.analyse(img, flags, &a.timings));
      return a;
    });
  };
  auto follow_previous = [&](InFlight& item) {
    item.awaiting_previous = false;
    if (last_faces.empty()) return detect(item);
    cv::Mat img = item.frame.bgr;
    item.analysis = pool.submit([&analyser, img, flags, previous = last_faces]() -> Result<Analysed> {
      Analysed a;
      FW_ASSIGN_OR_RETURN(a.faces, analyser.follow(img, previous, &a.timings));
      // A face that could not be followed is not skipped on this frame: the detector runs after all.
      if (a.faces.size() != previous.size()) {
        FW_ASSIGN_OR_RETURN(a.faces, analyser.analyse(img, flags, &a.timings));
      }
      return a;
    });
  };
  auto fail = [&](Status s) {
    if (failure.is_ok()) failure = std::move(s);
  };
  auto open_writer = [&](double start_s) -> Status {
    media::VideoWriterOptions o;
    o.path = req.output;
    o.encoder = req.video.encoder;
    o.preset = req.video.preset;
    o.quality = req.video.quality;
    o.width = sideways ? out_h : out_w;
    o.height = sideways ? out_w : out_h;
    o.time_base = out_tb;
    o.frame_rate = resample ? media::Rational{int(std::lround(req.video.fps * 1000)), 1000} : info.frame_rate;
    o.rotation = info.rotation;
    o.color_primaries = info.color_primaries, o.color_trc = info.color_trc;
    o.color_space = info.color_space, o.color_range = info.color_range;
    if (info.has_audio && req.video.audio_volume > 0) {
      o.audio_source = req.target;
      o.audio_stream = info.audio_stream;
      o.audio_volume = req.video.audio_volume;
      o.trim_start_s = start_s;
      o.trim_end_s = trim_end >= 0 ? double(trim_end) / in_fps : -1;
      report.audio = true;
    }
    if (options.provenance) o.tags = provenance::video_metadata_tags(provenance_info(names));
    FW_ASSIGN_OR_RETURN(writer, media::VideoWriter::create(o));
    return Status::ok();
  };
  auto emit = [&](const cv::Mat& upright, int64_t pts, double t) -> Status {
    cv::Mat stored = rotate_back(upright, info.rotation);
    if (!resample) return writer->write(stored, pts);
    // Constant output rate: this frame fills every output tick until the next frame's time.
    if (held) {
      while (double(out_tick) / req.video.fps < t - first_time - 1e-9) {
        FW_RETURN_IF_ERROR(writer->write(held->first, int64_t(std::lround(out_tick * 1000.0))));
        ++out_tick;
      }
    }
    held = {stored, t};
    return Status::ok();
  };

  while (failure.is_ok()) {
    if (req.cancel && req.cancel->load()) {
      fail(Status(StatusCode::kCancelled, "cancelled; the partial output was deleted"));
      break;
    }
    // Keep the window full.
    while (!input_done && inflight.size() < window) {
      auto f = queue.pop();
      if (!f) {
        input_done = true;
        break;
      }
      InFlight item;
      item.frame = std::move(*f);
      item.seq = frames_in++;
      if (detect_interval <= 1 || item.seq % detect_interval == 0)
        detect(item);
      else if (last_tracked_seq == item.seq - 1)
        follow_previous(item);
      else
        item.awaiting_previous = true;
      inflight.push_back(std::move(item));
    }
    if (inflight.empty()) break;
    // Track, in order, every frame whose analysis is done; then hand it to the processors.
    for (size_t at = 0; at < inflight.size(); ++at) {
      InFlight& item = inflight[at];
      if (item.tracked) continue;
      if (item.analysis.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
          &item != &inflight.front())
        break;
      auto analysed = item.analysis.get();
      if (!analysed) {
        fail(analysed.status());
        break;
      }
      report.timings.merge(analysed->timings);
      std::vector<Face> faces = std::move(analysed->faces);
      last_tracked_seq = item.seq;
      if (detect_interval > 1) last_faces = faces;  // only following reads them
      if (at + 1 < inflight.size() && inflight[at + 1].awaiting_previous) follow_previous(inflight[at + 1]);
      auto ids = tracker.update(faces, item.frame.time_s);
      std::vector<size_t> selected;
      if (reference_mode) {
        for (size_t i = 0; i < faces.size(); ++i) {
          face::Track& track = tracker.track(ids[i]);
          // Embed once per track; a track not (yet) recognised is checked again every 15 frames.
          if (!track.identity_checked || (!track.selected && track.age % 15 == 0)) {
            auto e = recognizer->embed(item.frame.bgr, faces[i].landmarks5);
            if (!e) {
              fail(e.status());
              break;
            }
            faces[i].embedding = *e;
            faces[i].normed_embedding = face::l2_normalise(*e);
            track.normed_embedding = faces[i].normed_embedding;
            track.identity_checked = true;
          }
          faces[i].normed_embedding = track.normed_embedding;
        }
        if (!reference) {
          auto picked = selector.pick_reference(faces);
          if (picked) reference = std::move(picked).value();
        }
        if (reference)
          for (size_t i = 0; i < faces.size(); ++i) {
            face::Track& track = tracker.track(ids[i]);
            if (!track.selected)
              track.selected = face_distance(faces[i], *reference) < sel_opts.reference_distance;
            if (track.selected && selector.select({faces[i]}, &faces[i]).size() == 1) selected.push_back(i);
          }
      } else {
        selected = selector.select(faces, nullptr);
      }
      item.tracked = true;
      item.no_face = selected.empty();
      if (item.no_face) continue;  // passes through unchanged
      std::vector<cv::Rect2f> marks;
      for (size_t i : selected) {
        cv::Rect2f& mark = mark_boxes[ids[i]];
        mark = steady_mark_box(mark, faces[i].box);
        marks.push_back(mark);
      }
      cv::Mat img = item.frame.bgr;
      const std::vector<std::unique_ptr<Processor>>* chain_ptr = &chain;
      const SwapOptions* run_options = &options;
      VideoMarks* marker = &video_marks;
      item.processing = pool.submit([img, faces = std::move(faces), selected, chain_ptr, run_options, marker,
                                     marks = std::move(marks)]() mutable -> Result<Processed> {
        Processed p;
        FrameContext ctx;
        ctx.frame = img;  // each decoded frame has its own buffer: processing happens in place
        ctx.faces = std::move(faces);
        ctx.selected = selected;
        ctx.timings = &p.timings;
        const cv::Size analysed = img.size();
        for (const auto& proc : *chain_ptr) FW_RETURN_IF_ERROR(proc->process(ctx));
        marker->mark(ctx, analysed, *run_options, marks);
        p.frame = std::move(ctx.frame);
        p.swapped = int(ctx.swaps.size());
        return p;
      });
    }
    if (!failure.is_ok()) break;
    // Write the head frame when it is ready.
    InFlight& head = inflight.front();
    if (!head.tracked) continue;
    cv::Mat out;
    if (head.no_face) {
      out = head.frame.bgr;
      if (out_scale != 1) cv::resize(head.frame.bgr, out, cv::Size(), out_scale, out_scale, cv::INTER_CUBIC);
      ++report.frames_without_face;
    } else {
      auto processed = head.processing.get();
      if (!processed) {
        fail(processed.status());
        break;
      }
      report.timings.merge(processed->timings);
      report.faces_swapped += processed->swapped;
      out = std::move(processed->frame);
    }
    if (!writer) {
      first_time = head.frame.time_s;
      Status s = open_writer(first_time);
      if (!s.is_ok()) {
        fail(s);
        break;
      }
    }
    {
      core::ScopedStage stage(&report.timings, "encode");
      Status s = emit(out, head.frame.pts, head.frame.time_s);
      if (!s.is_ok()) {
        fail(s);
        break;
      }
    }
    ++frames_written;
    inflight.pop_front();
    if (req.on_progress) {
      VideoProgress p;
      p.frames_done = frames_written;
      int64_t total = info.frame_count;
      if (trim_end >= 0) total = std::min<int64_t>(total > 0 ? total : trim_end, trim_end);
      p.frames_total = std::max<int64_t>(0, total - trim_start);
      const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
      p.fps = elapsed > 0 ? double(frames_written) / elapsed : 0;
      p.eta_s =
          p.fps > 0 && p.frames_total > frames_written ? double(p.frames_total - frames_written) / p.fps : 0;
      req.on_progress(p);
    }
  }

  queue.stop();
  decoder.join();
  report.timings.merge(decode_timings);
  // Drain whatever is still running before the pool and the frames go away.
  for (auto& item : inflight) {
    if (item.analysis.valid()) item.analysis.wait();
    if (item.processing.valid()) item.processing.wait();
  }
  if (failure.is_ok() && !queue.error().is_ok()) failure = queue.error();
  if (!failure.is_ok()) {
    if (writer) writer->abort();
    return failure;
  }
  if (frames_written == 0) {
    if (writer) writer->abort();
    return invalid_input(req.target + " has no frames in the requested range" +
                         (reader->damaged() ? " (" + reader->damage() + ")" : std::string()));
  }
  if (resample && held) {
    const double end = held->second - first_time + 1.0 / in_fps;
    while (double(out_tick) / req.video.fps < end - 1e-9) {
      FW_RETURN_IF_ERROR(writer->write(held->first, int64_t(std::lround(out_tick * 1000.0))));
      ++out_tick;
    }
  }
  FW_RETURN_IF_ERROR(writer->finish());
  report.frames = resample ? out_tick : frames_written;
  report.width = sideways ? out_h : out_w;
  report.height = sideways ? out_w : out_h;
  report.input_width = sideways ? info.height : info.width;
  report.input_height = sideways ? info.width : info.height;
  report.warning = queue.damage();
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report;
}

}  // namespace faceweave::pipeline
