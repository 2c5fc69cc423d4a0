#pragma once
// Who receives a certificate: a confirmed participant of a completed event who attended at least
// the event's threshold of its duration (rounded up: "at least"). A refusal is
// FAILED_PRECONDITION NOT_ELIGIBLE, with the event's status and slot (like every lifecycle
// refusal) and the minutes attended and required.
#include <cstdint>

#include "common/status.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"
#include "ecd/registration/v1/registration.pb.h"

namespace ecd::certificates {

// The minutes a participant must have attended.
int RequiredMinutes(const catalogue::v1::Event& event);

Status CheckEligibility(const catalogue::v1::Event& event,
                        const registration::v1::Registration& registration, int64_t now_micros);

}  // namespace ecd::certificates
