#include "services/certificates/eligibility.hpp"

#include <string>

#include "common/event_lifecycle.hpp"

namespace ecd::certificates {

namespace cat = ::ecd::catalogue::v1;
namespace reg = ::ecd::registration::v1;

int RequiredMinutes(const cat::Event& event) {
  const int64_t product =
      int64_t{event.duration_minutes()} * int64_t{event.certificate_threshold_percent()};
  return static_cast<int>((product + 99) / 100);
}

Status CheckEligibility(const cat::Event& event, const reg::Registration& registration,
                        int64_t now_micros) {
  const int required = RequiredMinutes(event);
  const int attended = registration.attended_minutes();
  auto not_eligible = [&](const std::string& why) {
    return EventRefusal(event, now_micros, "NOT_ELIGIBLE", why)
        .With("minutes_attended", std::to_string(attended))
        .With("minutes_required", std::to_string(required));
  };
  if (event.status() != cat::EVENT_STATUS_COMPLETED) {
    return not_eligible("certificates are issued once the event is completed");
  }
  if (registration.status() != reg::REGISTRATION_STATUS_CONFIRMED) {
    return not_eligible("only confirmed participants receive a certificate");
  }
  if (attended < required) {
    return not_eligible("attended " + std::to_string(attended) + " of the " +
                        std::to_string(required) + " minutes required");
  }
  return Status::Ok();
}

}  // namespace ecd::certificates
