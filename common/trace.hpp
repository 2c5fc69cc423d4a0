#pragma once
// W3C Trace Context: one trace id follows a request across services. A call brings a
// `traceparent` (or gets a new trace), runs with it as the thread's current trace (log lines
// carry its ids), and every call it makes to another service, and every outbox row it writes,
// passes it on.
#include <optional>
#include <string>
#include <string_view>

namespace ecd {

struct TraceContext {
  std::string trace_id;  // 32 lowercase hex digits, not all zero
  std::string span_id;   // 16 lowercase hex digits: this process's span
  bool sampled = true;
};

// "00-<trace id>-<parent span id>-<flags>" as the caller sent it; nullopt when malformed (then a
// new trace starts, as the specification asks).
std::optional<TraceContext> ParseTraceparent(std::string_view header);
// A child span of `parent` (same trace, new span id), or a new trace.
TraceContext ChildSpan(const std::optional<TraceContext>& parent);
// The header to send to a callee: this span as its parent.
std::string Traceparent(const TraceContext& trace);

// The trace the current thread works for (null when none).
const TraceContext* CurrentTrace();
// Its traceparent header value ("" when the thread works for no trace).
std::string CurrentTraceparent();

// Makes `trace` the thread's current trace for the scope.
class ScopedTrace {
 public:
  explicit ScopedTrace(TraceContext trace);
  ~ScopedTrace();
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;

 private:
  std::optional<TraceContext> previous_;
};

}  // namespace ecd
