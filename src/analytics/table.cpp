// InsightsTable renderings: JSON (for the server and --json), CSV and an aligned terminal table.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "faceweave/analytics.h"

namespace faceweave {
namespace {

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    char buf[64];
    double a = std::fabs(d);
    if (a != 0 && (a < 0.001 || a >= 1e9))
      std::snprintf(buf, sizeof buf, "%.3g", d);
    else if (a >= 1000)
      std::snprintf(buf, sizeof buf, "%.0f", d);
    else
      std::snprintf(buf, sizeof buf, "%.4g", d);
    return buf;
  }
  return v.dump();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

nlohmann::json InsightsTable::to_json() const {
  nlohmann::json j;
  j["view"] = view;
  j["title"] = title;
  j["columns"] = columns;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : rows) {
    nlohmann::json o = nlohmann::json::object();
    for (size_t i = 0; i < columns.size() && i < row.size(); ++i) o[columns[i]] = row[i];
    out.push_back(std::move(o));
  }
  j["rows"] = std::move(out);
  j["summary"] = summary;
  j["notes"] = notes;
  return j;
}

std::string InsightsTable::to_csv() const {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + csv_field(columns[i]);
  out += "\n";
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      const auto& v = row[i];
      out += (i ? "," : "") + csv_field(v.is_string() ? v.get<std::string>() : (v.is_null() ? "" : v.dump()));
    }
    out += "\n";
  }
  return out;
}

std::string InsightsTable::to_text() const {
  std::ostringstream out;
  if (!title.empty()) out << title << "\n\n";
  if (!rows.empty()) {
    std::vector<size_t> width(columns.size());
    std::vector<std::vector<std::string>> cells;
    for (size_t i = 0; i < columns.size(); ++i) width[i] = columns[i].size();
    for (const auto& row : rows) {
      std::vector<std::string> c;
      for (size_t i = 0; i < columns.size(); ++i) {
        c.push_back(i < row.size() ? cell(row[i]) : "");
        width[i] = std::max(width[i], c.back().size());
      }
      cells.push_back(std::move(c));
    }
    auto line = [&](const std::vector<std::string>& c) {
      for (size_t i = 0; i < c.size(); ++i) {
        out << (i ? "  " : "");
        bool left = i == 0 || (i < rows[0].size() && rows[0][i].is_string());
        std::string pad(width[i] - c[i].size(), ' ');
        out << (left ? c[i] + (i + 1 < c.size() ? pad : "") : pad + c[i]);
      }
      out << "\n";
    };
    line(columns);
    for (const auto& c : cells) line(c);
  }
  if (!summary.empty()) {
    out << "\n";
    for (auto it = summary.begin(); it != summary.end(); ++it)
      out << it.key() << ": " << (it->is_structured() ? it->dump() : cell(*it)) << "\n";
  }
  for (const auto& n : notes) out << "\nnote: " << n << "\n";
  return out.str();
}

}  // namespace faceweave
