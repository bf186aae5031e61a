// What sits under the public Telemetry facade when consent is on and storage works: the consent filter,
// the sampler, the current identity (user, session) with its 30-minute idle rotation, and the Recorder.
// emit() is the hot path every record_* method goes through.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "faceweave/telemetry.h"
#include "telemetry/event.h"
#include "telemetry/paths.h"
#include "telemetry/recorder.h"
#include "telemetry/run.h"
#include "telemetry/sampler.h"
#include "telemetry/session.h"

namespace faceweave::telemetry {

bool consent_allows(TelemetryConsent consent, Category category);

class Engine {
 public:
  Engine(TelemetryConsent consent, Sampler sampler, Paths paths, std::string user, std::string app_version,
         SessionState session, std::unique_ptr<Recorder> recorder);
  ~Engine();  // stops the recorder (which commits what is queued) and saves the session

  // Whether events of `kind` pass the consent level (before sampling).
  bool wants(EventKind kind) const { return allowed_[size_t(kind)]; }

  // Builds, validates, samples, stamps and queues one event. `fill` sets its properties on an EventBuilder.
  // Consent and sampling are checked first, so an event that will not be kept costs almost nothing.
  template <typename Fill>
  void emit(EventKind kind, Fill&& fill) {
    if (!allowed_[size_t(kind)]) return;
    const RunContext& run = current_run();
    if (!keep(run)) {
      sampled_out_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    EventBuilder b(kind);
    fill(b);
    add_run(b, run);
    if (!b.ok()) {
      note_rejected();
      return;
    }
    stamp_and_record(b.event(), run);
  }

  // Queues an event that was already built and validated, if consent and sampling keep it.
  // The thread's run id is added to it (when the event has a `run` property and none was given).
  void submit(EventBuilder& b) {
    if (!allowed_[size_t(b.event().kind)]) return;
    const RunContext& run = current_run();
    if (!keep(run)) {
      sampled_out_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    add_run(b, run);
    if (!b.ok()) {
      note_rejected();
      return;
    }
    stamp_and_record(b.event(), run);
  }

  // Queues an event of another user of this process (a browser client of the server), under that user's
  // pseudonym and a session of its own (a new one after 30 minutes idle, like the host's).
  void submit_for(Event& event, const std::string& pseudonym) {
    if (!allowed_[size_t(event.kind)]) return;
    if (!sampler_.keep_for(pseudonym)) {
      sampled_out_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    event.ts_ms = unix_ms();
    event.sample_rate = sampler_.rate();
    auto slot = client_identity(pseudonym, kWebPlatform, event.ts_ms);
    if (!slot) {
      note_rejected();
      return;
    }
    event.identity = *slot;
    recorder_->record(event);
  }

  void note_rejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }

  Recorder& recorder() { return *recorder_; }
  const Sampler& sampler() const { return sampler_; }
  std::string session() const;
  TelemetryStats stats() const;

 private:
  static void add_run(EventBuilder& b, const RunContext& run) {
    if (run.length == 0) return;
    int key = run_prop_index(b.event().kind);
    if (key < 0) return;
    for (size_t i = 0; i < b.event().prop_count; ++i)
      if (b.event().props[i].key == key) return;  // given explicitly
    b.set_text_at(key, run.view());
  }
  bool keep(const RunContext& run) const noexcept {
    return run.user ? sampler_.keep_run_of(run.position, *run.user) : sampler_.keep(run.position);
  }
  void stamp_and_record(Event& e, const RunContext& run) {
    e.ts_ms = unix_ms();
    e.sample_rate = sampler_.rate();
    if (run.user) {
      // Another user's run (a submitted job): that user's identity, in a session of its own.
      auto slot = client_identity(*run.user, *run.platform, e.ts_ms);
      if (!slot) {
        note_rejected();
        return;
      }
      e.identity = *slot;
    } else {
      e.identity = identity_for(e.ts_ms);
    }
    recorder_->record(e);
  }
  uint16_t identity_for(int64_t now_ms) noexcept {
    int64_t last = last_activity_ms_.load(std::memory_order_relaxed);
    if (now_ms - last >= kSessionIdleMs) return rotate_session(now_ms);
    // Written at most once a second, so threads recording together rarely share a dirty cache line.
    if (now_ms - last > 1000) last_activity_ms_.store(now_ms, std::memory_order_relaxed);
    return identity_.load(std::memory_order_relaxed);
  }
  uint16_t rotate_session(int64_t now_ms) noexcept;
  Result<uint16_t> client_identity(const std::string& pseudonym, const std::string& platform, int64_t now_ms);

  TelemetryConsent consent_;
  std::array<bool, kEventKindCount> allowed_{};
  Sampler sampler_;
  Paths paths_;
  std::string user_;
  std::string app_version_;

  mutable std::mutex session_mutex_;
  std::string session_id_;
  std::atomic<int64_t> last_activity_ms_;
  std::atomic<uint16_t> identity_{0};

  struct ClientSession {
    uint16_t slot = 0;
    int64_t last_ms = 0;
  };
  std::map<std::string, ClientSession> clients_;  // by platform and pseudonym; guarded by session_mutex_

  std::atomic<uint64_t> sampled_out_{0};
  std::atomic<uint64_t> rejected_{0};
  std::unique_ptr<Recorder> recorder_;
};

}  // namespace faceweave::telemetry
