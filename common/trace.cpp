#include "common/trace.hpp"

#include "common/crypto.hpp"

namespace ecd {
namespace {

thread_local std::optional<TraceContext> g_current;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

std::string RandomHex(size_t bytes) {
  std::string out = HexEncode(RandomBytes(bytes));
  return AllZero(out) ? RandomHex(bytes) : out;
}

}  // namespace

std::optional<TraceContext> ParseTraceparent(std::string_view h) {
  // version(2)-trace(32)-parent(16)-flags(2); version ff is invalid, later versions may append.
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  const std::string_view version = h.substr(0, 2), trace = h.substr(3, 32),
                         parent = h.substr(36, 16), flags = h.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace) || !IsLowerHex(parent) ||
      !IsLowerHex(flags) || AllZero(trace) || AllZero(parent)) {
    return std::nullopt;
  }
  if (version == "00" && h.size() != 55) return std::nullopt;
  TraceContext t;
  t.trace_id = std::string(trace);
  t.span_id = std::string(parent);
  t.sampled = (std::stoi(std::string(flags), nullptr, 16) & 1) != 0;
  return t;
}

TraceContext ChildSpan(const std::optional<TraceContext>& parent) {
  TraceContext t;
  t.trace_id = parent ? parent->trace_id : RandomHex(16);
  t.sampled = parent ? parent->sampled : true;
  t.span_id = RandomHex(8);
  return t;
}

std::string Traceparent(const TraceContext& t) {
  return "00-" + t.trace_id + "-" + t.span_id + (t.sampled ? "-01" : "-00");
}

const TraceContext* CurrentTrace() { return g_current ? &*g_current : nullptr; }

std::string CurrentTraceparent() { return g_current ? Traceparent(*g_current) : ""; }

ScopedTrace::ScopedTrace(TraceContext trace) : previous_(std::move(g_current)) {
  g_current = std::move(trace);
}

ScopedTrace::~ScopedTrace() { g_current = std::move(previous_); }

}  // namespace ecd
