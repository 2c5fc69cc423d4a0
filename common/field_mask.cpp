#include "common/field_mask.hpp"

#include <algorithm>

#include "common/text.hpp"

namespace ecd {

std::string ProtoPath(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c >= 'A' && c <= 'Z') {
      if (!out.empty() && out.back() != '.') out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

StatusOr<std::vector<std::string>> CheckMask(const std::vector<std::string>& paths,
                                             const std::vector<std::string>& updatable,
                                             std::string_view strip_prefix) {
  if (paths.empty())
    return Status::InvalidArgument("update_mask", "must name the fields to change");
  if (paths.size() > 64) return Status::InvalidArgument("update_mask", "too many paths");
  std::vector<std::string> out, unknown;
  for (const auto& raw : paths) {
    std::string path = ProtoPath(raw);
    if (!strip_prefix.empty() && path.starts_with(strip_prefix)) {
      path = path.substr(strip_prefix.size());
    }
    if (std::find(updatable.begin(), updatable.end(), path) == updatable.end()) {
      unknown.push_back("'" + Escaped(raw, 64) + "'");
    } else if (std::find(out.begin(), out.end(), path) == out.end()) {
      out.push_back(path);
    }
  }
  if (!unknown.empty()) {
    std::string listed, bad;
    for (const auto& p : updatable)
      listed += (listed.empty() ? "" : ", ") + std::string(strip_prefix) + p;
    for (const auto& u : unknown) bad += (bad.empty() ? "" : ", ") + u;
    return Status::InvalidArgument(
        "update_mask", bad + " cannot be updated; these can (snake_case or camelCase): " + listed);
  }
  return out;
}

}  // namespace ecd
