#include "telemetry/sqlite_sink.h"

#include <cmath>

#include "telemetry/paths.h"
#include "telemetry/session.h"

namespace faceweave::telemetry {
namespace {

std::string insert_sql(size_t rows) {
  std::string sql =
      "INSERT INTO events(id, ts, event, session, duration_ms, outcome, sample_rate, props) VALUES ";
  for (size_t i = 0; i < rows; ++i) sql += i ? ",(?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?)";
  return sql;
}

}  // namespace

Result<std::unique_ptr<SqliteSink>> SqliteSink::open(const std::string& path,
                                                     const DatabaseOptions& options) {
  std::unique_ptr<SqliteSink> sink(new SqliteSink());
  FW_ASSIGN_OR_RETURN(sink->db_, Database::open(path, options));
  Database& db = *sink->db_;
  // 1024 pages of 16 KB: a checkpoint per 16 MB of log keeps the log small without stalling the writer.
  sink->checkpointer_ = Checkpointer::start(path, options.busy_timeout_ms);
  if (sink->checkpointer_) sink->checkpointer_->attach(db.handle(), 1024);
  for (size_t i = 0; i < 3; ++i) {
    FW_ASSIGN_OR_RETURN(sink->insert_[i], db.prepare(insert_sql(kChunkRows[i]), true));
  }
  FW_ASSIGN_OR_RETURN(sink->begin_, db.prepare("BEGIN IMMEDIATE", true));
  FW_ASSIGN_OR_RETURN(sink->commit_, db.prepare("COMMIT", true));
  FW_ASSIGN_OR_RETURN(sink->rollback_, db.prepare("ROLLBACK", true));
  FW_ASSIGN_OR_RETURN(sink->last_id_,
                      db.prepare("SELECT max((SELECT value FROM meta WHERE key = 'last_event_id'), "
                                 "coalesce((SELECT max(id) FROM events), 0))",
                                 true));
  FW_ASSIGN_OR_RETURN(sink->save_last_id_,
                      db.prepare("UPDATE meta SET value = ? WHERE key = 'last_event_id'", true));
  FW_ASSIGN_OR_RETURN(
      sink->upsert_session_,
      db.prepare(
          "INSERT INTO sessions(session, user, app_version, started_ms, platform) VALUES (?, ?, ?, ?, ?) "
          "ON CONFLICT(session) DO NOTHING",
          true));
  FW_ASSIGN_OR_RETURN(sink->find_session_, db.prepare("SELECT id FROM sessions WHERE session = ?", true));
  return sink;
}

Result<IdRange> SqliteSink::write(std::span<const Event> events, std::span<const Identity> identities,
                                  std::vector<TelemetryEventRow>* rows) {
  IdRange ids;
  if (events.empty()) return ids;
  size_t rows_before = rows ? rows->size() : 0;
  Status s = write_in_transaction(events, identities, rows, &ids);
  if (!s.is_ok()) {
    sqlite3_reset(begin_.get());
    if (!sqlite3_get_autocommit(db_->handle())) {
      sqlite3_step(rollback_.get());
      sqlite3_reset(rollback_.get());
    }
    if (rows) rows->resize(rows_before);
    return s;
  }
  return ids;
}

Result<int64_t> SqliteSink::session_row(const Identity& identity, int64_t now_ms) {
  // Resolved once per batch and slot, inside the batch's transaction: if another process erased the
  // session meanwhile (telemetry forget), it is created again rather than left dangling.
  sqlite3_stmt* up = upsert_session_.get();
  sqlite3_reset(up);
  sqlite3_bind_text(up, 1, identity.session.data(), int(identity.session.size()), SQLITE_STATIC);
  sqlite3_bind_text(up, 2, identity.user.data(), int(identity.user.size()), SQLITE_STATIC);
  sqlite3_bind_text(up, 3, identity.app_version.data(), int(identity.app_version.size()), SQLITE_STATIC);
  sqlite3_bind_int64(up, 4, now_ms);
  const std::string& platform = is_coarse_platform(identity.platform) ? identity.platform : std::string();
  sqlite3_bind_text(up, 5, platform.data(), int(platform.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(up);
  sqlite3_reset(up);
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot store a telemetry session");
  sqlite3_stmt* find = find_session_.get();
  sqlite3_reset(find);
  sqlite3_bind_text(find, 1, identity.session.data(), int(identity.session.size()), SQLITE_STATIC);
  rc = sqlite3_step(find);
  int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(find, 0) : -1;
  sqlite3_reset(find);
  if (id < 0) return db_->error(rc == SQLITE_DONE ? SQLITE_INTERNAL : rc, "cannot find a telemetry session");
  return id;
}

Status SqliteSink::write_in_transaction(std::span<const Event> events, std::span<const Identity> identities,
                                        std::vector<TelemetryEventRow>* rows, IdRange* ids) {
  int rc = sqlite3_step(begin_.get());
  sqlite3_reset(begin_.get());
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot write telemetry events");

  rc = sqlite3_step(last_id_.get());
  int64_t next_id = rc == SQLITE_ROW ? sqlite3_column_int64(last_id_.get(), 0) + 1 : 0;
  sqlite3_reset(last_id_.get());
  if (rc != SQLITE_ROW) return db_->error(rc, "cannot read the last telemetry event id");
  ids->first = next_id;

  session_of_slot_.assign(identities.size(), -1);
  int64_t now = unix_ms();
  size_t pos = 0;
  while (pos < events.size()) {
    size_t remaining = events.size() - pos;
    size_t which = remaining >= kChunkRows[0] ? 0 : (remaining >= kChunkRows[1] ? 1 : 2);
    size_t n = kChunkRows[which];
    // Render every row's props first, so the buffer no longer moves while SQLite holds pointers into it.
    props_.clear();
    props_offsets_.clear();
    for (size_t r = 0; r < n; ++r) {
      props_offsets_.push_back(props_.size());
      append_props_json(events[pos + r], props_);
    }
    props_offsets_.push_back(props_.size());

    sqlite3_stmt* st = insert_[which].get();
    int p = 1;
    for (size_t r = 0; r < n; ++r) {
      const Event& e = events[pos + r];
      if (e.identity >= identities.size())
        return internal_error("telemetry: an event refers to an unknown identity slot");
      int64_t& session = session_of_slot_[e.identity];
      if (session < 0) {
        FW_ASSIGN_OR_RETURN(session, session_row(identities[e.identity], now));
      }
      // Only the first row of a statement names its id; SQLite gives the others the next rowid after the
      // previous row, which is the same number (this transaction holds the write lock) and avoids a seek.
      if (r == 0)
        sqlite3_bind_int64(st, p++, next_id + int64_t(pos));
      else
        sqlite3_bind_null(st, p++);
      sqlite3_bind_int64(st, p++, e.ts_ms);
      sqlite3_bind_int64(st, p++, db_->event_id(e.kind));
      sqlite3_bind_int64(st, p++, session);
      if (std::isnan(e.duration_ms))
        sqlite3_bind_null(st, p++);
      else
        sqlite3_bind_double(st, p++, e.duration_ms);
      sqlite3_bind_int64(st, p++, db_->outcome_id(e.outcome));
      sqlite3_bind_double(st, p++, e.sample_rate);
      const char* text = props_.data() + props_offsets_[r];
      sqlite3_bind_text(st, p++, text, int(props_offsets_[r + 1] - props_offsets_[r]), SQLITE_STATIC);
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return db_->error(rc, "cannot write telemetry events");

    if (rows) {
      for (size_t r = 0; r < n; ++r) {
        const Event& e = events[pos + r];
        const Identity& who = identities[e.identity];
        TelemetryEventRow row;
        row.id = next_id + int64_t(pos + r);
        row.ts_ms = e.ts_ms;
        row.event = std::string(event_spec(e.kind).name);
        row.user = who.user;
        row.session = who.session;
        row.app_version = who.app_version;
        row.props = props_.substr(props_offsets_[r], props_offsets_[r + 1] - props_offsets_[r]);
        if (!std::isnan(e.duration_ms)) row.duration_ms = e.duration_ms;
        row.outcome = status_code_name(e.outcome);
        row.sample_rate = e.sample_rate;
        rows->push_back(std::move(row));
      }
    }
    pos += n;
  }
  ids->last = next_id + int64_t(events.size()) - 1;

  sqlite3_bind_int64(save_last_id_.get(), 1, ids->last);
  rc = sqlite3_step(save_last_id_.get());
  sqlite3_reset(save_last_id_.get());
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot write telemetry events");
  rc = sqlite3_step(commit_.get());
  sqlite3_reset(commit_.get());
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot commit telemetry events");
  return Status::ok();
}

}  // namespace faceweave::telemetry
