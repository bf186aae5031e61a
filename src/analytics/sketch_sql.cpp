// The sketches of sketch.h as SQLite functions on the analytics connection, so the fold builds them inside
// its grouped upserts and the views union them in their GROUP BYs.
#include <sqlite3.h>

#include <memory>

#include "analytics/sketch.h"
#include "telemetry/database.h"

namespace faceweave::analytics {
namespace {

std::string_view blob_arg(sqlite3_value* v) {
  if (sqlite3_value_type(v) == SQLITE_NULL) return {};
  const void* p = sqlite3_value_blob(v);
  return {static_cast<const char*>(p), size_t(sqlite3_value_bytes(v))};
}

std::string_view text_arg(sqlite3_value* v) {
  const unsigned char* t = sqlite3_value_text(v);
  return t ? std::string_view(reinterpret_cast<const char*>(t), size_t(sqlite3_value_bytes(v)))
           : std::string_view();
}

void result_blob(sqlite3_context* ctx, const std::string& s) {
  sqlite3_result_blob(ctx, s.data(), int(s.size()), SQLITE_TRANSIENT);
}

// Aggregates keep a heap object behind a pointer in SQLite's (zeroed) aggregate context.
template <typename T>
T* state(sqlite3_context* ctx, bool create) {
  auto** slot = static_cast<T**>(sqlite3_aggregate_context(ctx, create ? int(sizeof(T*)) : 0));
  if (!slot) return nullptr;
  if (!*slot && create) *slot = new T();
  return *slot;
}

template <typename T>
std::unique_ptr<T> take(sqlite3_context* ctx) {
  auto** slot = static_cast<T**>(sqlite3_aggregate_context(ctx, 0));
  std::unique_ptr<T> out(slot ? *slot : nullptr);
  if (slot) *slot = nullptr;
  return out;
}

void hll_step(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  if (Hll* h = state<Hll>(ctx, true)) h->add(text_arg(argv[0]));
}
void hll_final(sqlite3_context* ctx) {
  auto h = take<Hll>(ctx);
  result_blob(ctx, h ? h->serialize() : Hll().serialize());
}
void hll_merge(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto a = Hll::parse(blob_arg(argv[0]));
  auto b = Hll::parse(blob_arg(argv[1]));
  if (!a || !b) return sqlite3_result_error(ctx, "malformed HyperLogLog sketch", -1);
  a->merge(*b);
  result_blob(ctx, a->serialize());
}

void uset_step(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  if (UserSet* s = state<UserSet>(ctx, true)) s->add(text_arg(argv[0]));
}
void uset_union_step(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (UserSet* s = state<UserSet>(ctx, true)) s->merge_bytes(blob_arg(argv[0]));
}
void uset_final(sqlite3_context* ctx) {
  auto s = take<UserSet>(ctx);
  result_blob(ctx, s ? s->serialize() : std::string());
}
void uset_merge(sqlite3_context* ctx, int, sqlite3_value** argv) {
  UserSet a = UserSet::parse(blob_arg(argv[0]));
  a.merge_bytes(blob_arg(argv[1]));
  result_blob(ctx, a.serialize());
}
void uset_count(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3_result_double(ctx, UserSet::parse(blob_arg(argv[0])).count());
}

}  // namespace

Status register_sketch_functions(telemetry::Database& db) {
  sqlite3* h = db.handle();
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  struct Fn {
    const char* name;
    int args;
    void (*scalar)(sqlite3_context*, int, sqlite3_value**);
    void (*step)(sqlite3_context*, int, sqlite3_value**);
    void (*final)(sqlite3_context*);
  };
  const Fn fns[] = {
      {"ax_hll", 1, nullptr, hll_step, hll_final},
      {"ax_hll_merge", 2, hll_merge, nullptr, nullptr},
      {"ax_uset", 1, nullptr, uset_step, uset_final},
      {"ax_uset_union", 1, nullptr, uset_union_step, uset_final},
      {"ax_uset_merge", 2, uset_merge, nullptr, nullptr},
      {"ax_uset_count", 1, uset_count, nullptr, nullptr},
  };
  for (const Fn& f : fns) {
    int rc =
        sqlite3_create_function_v2(h, f.name, f.args, flags, nullptr, f.scalar, f.step, f.final, nullptr);
    if (rc != SQLITE_OK) return db.error(rc, std::string("registering ") + f.name);
  }
  return Status::ok();
}

}  // namespace faceweave::analytics
