#pragma once
// spdlog set-up and the one line logged per call. JSON lines when ECD_LOG_FORMAT=json.
#include <chrono>
#include <string>
#include <string_view>

namespace ecd {

void InitLogging(const std::string& service, const std::string& format, const std::string& level);
// One line per call: method, status code, duration, request id (and the caller's role).
void LogCall(std::string_view method, std::string_view code, std::chrono::microseconds duration,
             std::string_view request_id, std::string_view role, std::string_view message);
std::string JsonEscape(std::string_view s);

}  // namespace ecd
