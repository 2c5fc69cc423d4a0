#pragma once
// The rules of a registration request, checked before anything is read or written. Each failure
// is INVALID_ARGUMENT naming the field ("participant.email").
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "ecd/registration/v1/registration.pb.h"

namespace ecd::registration {

namespace v1 = ::ecd::registration::v1;

inline constexpr size_t kMaxReportBytes = 10u << 20;

bool IsPlausibleEmail(std::string_view email);
// IANA names like "Europe/Paris" that exist under `zoneinfo_dir`, and "UTC".
bool IsTimeZone(std::string_view name, const std::string& zoneinfo_dir);
// "events/{uuid}" -> uuid.
StatusOr<std::string> ParseEventName(std::string_view name, std::string_view field);
StatusOr<std::string> ParseRegistrationName(std::string_view name, std::string_view field);
Status ValidateRegisterRequest(const v1::RegisterRequest& req, const std::string& zoneinfo_dir);

}  // namespace ecd::registration
