// The Python module `faceweave` (docs/python.md): the Engine over numpy arrays (H x W x 3, uint8, BGR like
// OpenCV). Images go in and out as arrays; a swap writes its inputs as lossless PNGs into a private
// temporary folder, because the engine reads sources and targets from files. Every engine call releases the
// GIL. Errors are faceweave.Error subclasses carrying the engine's code name and message. Telemetry is off
// unless the caller opts in with Engine(telemetry="usage"|"all"|"errors") (docs/telemetry.md).
//
// Defaults (docs/experiments.md): the defaults profile (Engine(defaults_profile=PATH), else
// FACEWEAVE_DEFAULTS) replaces the built-in defaults of the options a call leaves out, and with usage
// telemetry each running experiment of the data dir gives this user its arm's default, recorded as an
// experiment.exposure joined to the call's command.run by run id, as `faceweave swap` does.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "faceweave/engine.h"
#include "faceweave/experiments.h"
#include "faceweave/telemetry.h"
#include "server/options_json.h"
#include "server/run_defaults.h"

namespace py = pybind11;
namespace fs = std::filesystem;
using faceweave::Result;
using faceweave::Status;
using faceweave::StatusCode;

namespace {

std::map<StatusCode, py::object>& error_classes() {
  static auto* classes = new std::map<StatusCode, py::object>();
  return *classes;
}

[[noreturn]] void raise(const Status& s) {
  py::object cls = error_classes().at(s.code());
  py::object e = cls(s.message());
  e.attr("code") = faceweave::status_code_name(s.code());
  e.attr("message") = s.message();
  PyErr_SetObject(cls.ptr(), e.ptr());
  throw py::error_already_set();
}

template <typename T>
T value_or_raise(Result<T>&& r) {
  if (!r) raise(r.status());
  return std::move(r).value();
}

cv::Mat to_mat(const py::array& any, const char* what) {
  auto a = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(any);
  if (!a || a.dtype().kind() != 'u' || a.ndim() != 3 || a.shape(2) != 3 || a.shape(0) < 1 || a.shape(1) < 1 ||
      !py::isinstance<py::array_t<uint8_t>>(any))
    raise(faceweave::invalid_argument(
        std::string(what) +
        " must be a numpy array of shape (height, width, 3) and dtype uint8, in BGR "
        "order (as cv2.imread gives)"));
  cv::Mat view(int(a.shape(0)), int(a.shape(1)), CV_8UC3, const_cast<uint8_t*>(a.data()));
  return view.clone();
}

py::array_t<uint8_t> to_array(const cv::Mat& m) {
  cv::Mat bgr = m.isContinuous() ? m : m.clone();
  py::array_t<uint8_t> out({bgr.rows, bgr.cols, 3});
  std::memcpy(out.mutable_data(), bgr.data, size_t(bgr.rows) * bgr.cols * 3);
  return out;
}

nlohmann::json kwargs_json(const py::dict& kwargs) {
  py::object dumps = py::module_::import("json").attr("dumps");
  return nlohmann::json::parse(dumps(kwargs).cast<std::string>());
}

// Options as JSON (the keyword options over the resolved defaults) -> the same parsing and checks as the
// API and the CLI (options_json.h).
faceweave::server::JobOptions parse_options(const nlohmann::json& j) {
  faceweave::server::JobOptions options;
  faceweave::server::FieldError fe;
  if (!faceweave::server::parse_job_options(
          j, options, fe, [](const std::string& path) -> Result<std::string> { return path; }))
    raise(Status(fe.status.code(),
                 fe.field.empty() ? fe.status.message() : fe.field + ": " + fe.status.message()));
  return options;
}

// A folder of its own under the system's temporary folder, removed with the object.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("faceweave-py-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const cv::Mat& image) {
    const std::string p = (path / name).string();
    Status s = faceweave::save_image(p, image);
    if (!s.is_ok()) raise(s);
    return p;
  }
};

py::dict face_dict(const faceweave::Face& f) {
  py::dict d;
  d["box"] = py::make_tuple(f.box.x, f.box.y, f.box.width, f.box.height);
  d["score"] = f.score;
  py::array_t<float> lm({68, 2}), lm5({5, 2});
  for (int i = 0; i < 68; ++i)
    lm.mutable_at(i, 0) = f.landmarks68[i].x, lm.mutable_at(i, 1) = f.landmarks68[i].y;
  for (int i = 0; i < 5; ++i)
    lm5.mutable_at(i, 0) = f.landmarks5[i].x, lm5.mutable_at(i, 1) = f.landmarks5[i].y;
  d["landmarks"] = f.has_landmarks ? py::object(lm) : py::none();
  d["landmarks5"] = f.has_landmarks ? py::object(lm5) : py::none();
  d["embedding"] = f.normed_embedding.empty()
                       ? py::object(py::none())
                       : py::object(py::array_t<float>(f.normed_embedding.size(), f.normed_embedding.data()));
  d["age"] = f.age ? py::object(py::float_(*f.age)) : py::none();
  d["gender"] = f.gender ? py::object(py::str(*f.gender == faceweave::Gender::kFemale ? "female" : "male"))
                         : py::object(py::none());
  d["pose"] = f.pose ? py::object(py::dict(py::arg("yaw") = f.pose->yaw, py::arg("pitch") = f.pose->pitch,
                                           py::arg("roll") = f.pose->roll))
                     : py::object(py::none());
  return d;
}

class PyEngine {
 public:
  PyEngine(const std::string& models_dir, const std::string& provider, const std::string& telemetry,
           const std::string& defaults_profile) {
    // The profile first: a bad file is refused before the models load.
    defaults_profile_ = value_or_raise(faceweave::resolve_defaults_profile(defaults_profile));
    faceweave::EngineOptions o;
    o.models_dir = models_dir;
    o.execution_provider = provider;
    {
      py::gil_scoped_release release;
      auto engine = faceweave::Engine::create(o);
      if (!engine) {
        py::gil_scoped_acquire acquire;
        raise(engine.status());
      }
      engine_ = std::move(engine).value();
    }
    // Telemetry only when the caller asks for it: the environment's FACEWEAVE_TELEMETRY is not consulted.
    if (telemetry != "off") {
      faceweave::TelemetryOptions t;
      t.consent = telemetry;
      t.app_version = FACEWEAVE_VERSION;
      if (defaults_profile_) t.defaults_profile = defaults_profile_->tag();
      data_dir_ = faceweave::resolve_data_dir(t.data_dir);
      telemetry_ = value_or_raise(faceweave::Telemetry::create(t));
    }
  }

  py::list analyse(const py::array& image) {
    const cv::Mat bgr = to_mat(image, "image");
    Result<std::vector<faceweave::Face>> faces = faceweave::invalid_argument("not run");
    const auto start = std::chrono::steady_clock::now();
    {
      py::gil_scoped_release release;
      faces = engine_->analyse(bgr);
    }
    record("analyse", faces ? StatusCode::kOk : faces.status().code(), start, 0);
    py::list out;
    for (const auto& f : value_or_raise(std::move(faces))) out.append(face_dict(f));
    return out;
  }

  py::array_t<uint8_t> swap(const py::object& sources, const py::array& target, const py::kwargs& kwargs) {
    // One run joins the call's exposures, command and stage times, and samples them together.
    faceweave::TelemetryRun run;
    const auto options = resolve(kwargs);
    ScratchDir dir;
    faceweave::SwapRequest request;
    int i = 0;
    for (const py::handle s : sources)
      request.sources.push_back(
          dir.write("source" + std::to_string(i++) + ".png", to_mat(py::array::ensure(s), "each source")));
    if (request.sources.empty()) raise(faceweave::invalid_argument("sources must hold at least one image"));
    request.target = dir.write("target.png", to_mat(target, "target"));
    request.options = options.swap;
    Result<faceweave::PreviewResult> result = faceweave::invalid_argument("not run");
    const auto start = std::chrono::steady_clock::now();
    {
      py::gil_scoped_release release;
      result = engine_->preview(request, 0);
    }
    record("swap", result ? StatusCode::kOk : result.status().code(), start, int(kwargs.size()),
           result ? &result->report : nullptr);
    return to_array(value_or_raise(std::move(result)).image);
  }

  py::dict swap_video(const std::vector<std::string>& sources, const std::string& target,
                      const std::string& output, const std::function<void(int64_t, int64_t)>& progress,
                      const py::kwargs& kwargs) {
    faceweave::TelemetryRun run;
    const auto options = resolve(kwargs);
    faceweave::SwapRequest request;
    request.sources = sources;
    request.target = target;
    request.output = output;
    request.options = options.swap;
    request.video = options.video;
    std::atomic<bool> cancel{false};
    request.cancel = &cancel;
    std::optional<py::error_already_set> callback_error;
    if (progress) {
      request.on_progress = [&](const faceweave::VideoProgressInfo& p) {
        py::gil_scoped_acquire acquire;
        if (callback_error) return;
        try {
          progress(p.frames_done, p.frames_total);
        } catch (py::error_already_set& e) {
          callback_error = std::move(e);  // the callback raised: stop the run, re-raise its exception
          cancel = true;
        }
      };
    }
    Result<faceweave::SwapReport> report = faceweave::invalid_argument("not run");
    const auto start = std::chrono::steady_clock::now();
    {
      py::gil_scoped_release release;
      report = engine_->swap(request);
    }
    record("swap", report ? StatusCode::kOk : report.status().code(), start, int(kwargs.size()),
           report ? &*report : nullptr);
    if (callback_error) throw std::move(*callback_error);
    const auto r = value_or_raise(std::move(report));
    py::dict d;
    d["faces_swapped"] = r.faces_swapped;
    d["frames"] = r.frames;
    d["frames_without_face"] = r.frames_without_face;
    d["audio"] = r.audio;
    d["seconds"] = r.seconds;
    d["output_width"] = r.output_width;
    d["output_height"] = r.output_height;
    return d;
  }

  std::string provider() const { return engine_->provider().used; }

 private:
  // The call's options: the profile's and the experiments' defaults for the options it leaves out, then
  // its own; the exposures are recorded in the caller's run.
  faceweave::server::JobOptions resolve(const py::dict& kwargs) {
    const nlohmann::json given = kwargs_json(kwargs);
    const auto defaults =
        faceweave::server::run_defaults(defaults_profile_, data_dir_, telemetry_.get(), given, "");
    auto options = parse_options(faceweave::server::merged_options(defaults.defaults, given));
    if (telemetry_) faceweave::record_exposures(*telemetry_, defaults.exposures);
    return options;
  }

  void record(const char* command, StatusCode outcome, std::chrono::steady_clock::time_point start,
              int changed, const faceweave::SwapReport* report = nullptr) {
    if (!telemetry_) return;
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    telemetry_->record_command(command, outcome, ms, 0, changed, "python", engine_->provider().used);
    if (report)
      telemetry_->record_stages(report->stage_ms, report->output_width, report->output_height,
                                report->video ? int(report->frames) : 1, report->video ? "video" : "image",
                                report->input_width, report->input_height);
  }

  std::unique_ptr<faceweave::Engine> engine_;
  std::unique_ptr<faceweave::Telemetry> telemetry_;
  std::optional<faceweave::DefaultsProfile> defaults_profile_;
  std::string data_dir_;
};

}  // namespace

PYBIND11_MODULE(_faceweave, m) {
  m.doc() = "faceweave: face swapping for images and videos (docs/python.md)";
  m.attr("__version__") = FACEWEAVE_VERSION;
  py::object base =
      py::reinterpret_steal<py::object>(PyErr_NewException("faceweave.Error", PyExc_Exception, nullptr));
  m.attr("Error") = base;
  const std::pair<StatusCode, const char*> kClasses[] = {
      {StatusCode::kInvalidArgument, "InvalidArgumentError"},
      {StatusCode::kNotFound, "NotFoundError"},
      {StatusCode::kInvalidInput, "InvalidInputError"},
      {StatusCode::kUnsupported, "UnsupportedError"},
      {StatusCode::kModelError, "ModelError"},
      {StatusCode::kPermissionDenied, "PermissionDeniedError"},
      {StatusCode::kIoError, "IoError"},
      {StatusCode::kNoFace, "NoFaceError"},
      {StatusCode::kCancelled, "CancelledError"},
      {StatusCode::kInternal, "InternalError"}};
  for (const auto& [code, name] : kClasses) {
    py::object cls = py::reinterpret_steal<py::object>(
        PyErr_NewException((std::string("faceweave.") + name).c_str(), base.ptr(), nullptr));
    m.attr(name) = cls;
    error_classes()[code] = cls;
  }
  error_classes()[StatusCode::kOk] = m.attr("InternalError");

  py::class_<PyEngine>(m, "Engine")
      .def(py::init<const std::string&, const std::string&, const std::string&, const std::string&>(),
           py::arg("models_dir") = "", py::arg("provider") = "cpu", py::arg("telemetry") = "off",
           py::arg("defaults_profile") = "")
      .def("analyse", &PyEngine::analyse, py::arg("image"))
      .def("swap", &PyEngine::swap, py::arg("sources"), py::arg("target"))
      .def("swap_video", &PyEngine::swap_video, py::arg("source_paths"), py::arg("target_path"),
           py::arg("output_path"), py::arg("progress") = nullptr)
      .def_property_readonly("provider", &PyEngine::provider);
}
