#pragma once
// The rules of a registration request, checked before anything is read or written. Each failure
// is INVALID_ARGUMENT naming the field ("participant.email").
#include <string>
#include <string_view>

#include "common/catalogue_client.hpp"
#include "common/status.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"
#include "ecd/registration/v1/registration.pb.h"

namespace ecd::registration {

namespace v1 = ::ecd::registration::v1;

inline constexpr size_t kMaxReportBytes = 10u << 20;

// "events/{uuid}" -> uuid.
StatusOr<std::string> ParseEventName(std::string_view name, std::string_view field);
StatusOr<std::string> ParseRegistrationName(std::string_view name, std::string_view field);
// The request as stored and compared: names and texts in NFC, the email trimmed and lowercased,
// the time zone under its canonical name (Asia/Calcutta -> Asia/Kolkata).
v1::RegisterRequest NormaliseRegisterRequest(const v1::RegisterRequest& req);
// The rules, on a normalised request.
Status ValidateRegisterRequest(const v1::RegisterRequest& req);

// Whether `event` (as the catalogue answered) takes this registration at `now`: published, its
// registration window open, the participant's country invited. NOT_FOUND (EVENT_NOT_FOUND) or
// FAILED_PRECONDITION with the reason (EVENT_NOT_OPEN, REGISTRATION_NOT_OPEN_YET,
// REGISTRATION_CLOSED, COUNTRY_NOT_INVITED).
Status CheckRegistrationOpen(const StatusOr<EventPtr>& event, const v1::RegisterRequest& req,
                             int64_t now);

}  // namespace ecd::registration
