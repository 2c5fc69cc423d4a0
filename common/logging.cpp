#include "common/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace ecd {
namespace {
bool g_json = false;
}

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
    // The message itself is a JSON fragment (see LogCall); plain messages are escaped by the
    // pattern's quotes only, so keep them free of quotes.
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","service":"%n",%v})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %n: %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void LogCall(std::string_view method, std::string_view code, std::chrono::microseconds duration,
             std::string_view request_id, std::string_view role, std::string_view message) {
  double ms = static_cast<double>(duration.count()) / 1000.0;
  if (g_json) {
    spdlog::info(
        R"("msg":"call","method":"{}","code":"{}","duration_ms":{:.3f},"request_id":"{}","role":"{}","error":"{}")",
        JsonEscape(method), code, ms, JsonEscape(request_id), role, JsonEscape(message));
  } else {
    spdlog::info("call method={} code={} duration_ms={:.3f} request_id={} role={}{}{}", method,
                 code, ms, request_id, role, message.empty() ? "" : " error=", message);
  }
}

}  // namespace ecd
