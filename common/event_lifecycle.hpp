#pragma once
// Lifecycle rules about a catalogue event that every service applies the same way: an event is
// completed only after its end, attendance exists only once it has started, and nothing about
// participants changes once it is completed or cancelled. Each refusal is FAILED_PRECONDITION
// with the event's status and slot in its ErrorInfo.
#include <cstdint>
#include <string>

#include "common/status.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"

namespace ecd {

// FAILED_PRECONDITION `reason` with event_status, start_time, end_time and now (RFC 3339).
Status EventRefusal(const catalogue::v1::Event& event, int64_t now_micros, std::string reason,
                    std::string message);

// EVENT_NOT_ENDED before the event's end time.
Status RequireEnded(const catalogue::v1::Event& event, int64_t now_micros);
// EVENT_NOT_STARTED before its start time (`what` names what is refused).
Status RequireStarted(const catalogue::v1::Event& event, int64_t now_micros,
                      const std::string& what);
// EVENT_CLOSED once completed or cancelled; EVENT_NOT_PUBLISHED for a draft.
Status RequireActive(const catalogue::v1::Event& event, int64_t now_micros,
                     const std::string& what);
// EVENT_CANCELLED for a cancelled event; EVENT_NOT_PUBLISHED for a draft.
Status RequireHeld(const catalogue::v1::Event& event, int64_t now_micros, const std::string& what);

}  // namespace ecd
