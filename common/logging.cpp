#include "common/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "common/text.hpp"
#include "common/trace.hpp"

namespace ecd {
namespace {
bool g_json = false;
// In JSON mode a call line's payload is already JSON fields; it starts with this marker.
constexpr char kFieldsMarker = '\x01';

// %* in the JSON pattern: a plain message becomes "msg":"<escaped>", a call line's fields are
// written as they are.
class JsonPayload final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string out;
    if (!text.empty() && text.front() == kFieldsMarker) {
      out = std::string(text.substr(1));
    } else {
      out = "\"msg\":\"" + JsonEscape(text) + "\"";
    }
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonPayload>();
  }
};
// %& : the current W3C trace (common/trace.hpp), when the thread works for one: " trace_id=…
// span_id=…" in text lines, ,"trace_id":"…","span_id":"…" in JSON lines.
class TraceIds final : public spdlog::custom_flag_formatter {
 public:
  explicit TraceIds(bool json) : json_(json) {}
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const TraceContext* t = CurrentTrace();
    if (t == nullptr) return;
    const std::string out =
        json_ ? ",\"trace_id\":\"" + t->trace_id + "\",\"span_id\":\"" + t->span_id + "\""
              : " trace_id=" + t->trace_id + " span_id=" + t->span_id;
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<TraceIds>(json_);
  }

 private:
  bool json_;
};
}  // namespace

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

void InitLogging(const std::string& service, const std::string& format, const std::string& level) {
  auto logger = spdlog::stderr_logger_mt(service);
  g_json = format == "json";
  if (g_json) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonPayload>('*').add_flag<TraceIds>('&', true).set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","service":"%n",%*%&})");
    logger->set_formatter(std::move(formatter));
  } else {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<TraceIds>('&', false).set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %n: %v%&");
    logger->set_formatter(std::move(formatter));
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void LogCall(std::string_view method, std::string_view code, std::chrono::microseconds duration,
             std::string_view request_id, std::string_view role, std::string_view message) {
  // Below the level, nothing is built (escaping the request id and the message costs a little on
  // every call).
  if (!spdlog::default_logger_raw()->should_log(spdlog::level::info)) return;
  double ms = static_cast<double>(duration.count()) / 1000.0;
  if (g_json) {
    spdlog::info(
        "{}\"msg\":\"call\",\"method\":\"{}\",\"code\":\"{}\",\"duration_ms\":{:.3f},"
        "\"request_id\":\"{}\",\"role\":\"{}\",\"error\":\"{}\"",
        kFieldsMarker, JsonEscape(method), code, ms, JsonEscape(request_id), role,
        JsonEscape(message));
  } else {
    // Input quoted in a message (and the request id) is escaped: it never starts a line.
    spdlog::info("call method={} code={} duration_ms={:.3f} request_id={} role={}{}{}", method,
                 code, ms, Escaped(request_id, 128), role,
                 message.empty() ? "" : " error=", Escaped(message, 500));
  }
}

}  // namespace ecd
