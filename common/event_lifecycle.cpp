#include "common/event_lifecycle.hpp"

#include "common/time.hpp"

namespace ecd {

namespace cat = ::ecd::catalogue::v1;

Status EventRefusal(const cat::Event& event, int64_t now_micros, std::string reason,
                    std::string message) {
  Status st = Status::FailedPrecondition(std::move(reason), std::move(message));
  st.With("event", event.name())
      .With("event_status", cat::EventStatus_Name(event.status()))
      .With("start_time", FormatRfc3339(Micros(event.start_time())))
      .With("end_time", FormatRfc3339(Micros(event.end_time())))
      .With("now", FormatRfc3339(now_micros));
  return st;
}

Status RequireEnded(const cat::Event& event, int64_t now_micros) {
  if (now_micros >= Micros(event.end_time())) return Status::Ok();
  return EventRefusal(event, now_micros, "EVENT_NOT_ENDED",
                      "the event ends at " + FormatRfc3339(Micros(event.end_time())) +
                          ": it can be completed only after that");
}

Status RequireStarted(const cat::Event& event, int64_t now_micros, const std::string& what) {
  if (now_micros >= Micros(event.start_time())) return Status::Ok();
  return EventRefusal(
      event, now_micros, "EVENT_NOT_STARTED",
      what + " is refused before the event starts at " + FormatRfc3339(Micros(event.start_time())));
}

Status RequireActive(const cat::Event& event, int64_t now_micros, const std::string& what) {
  switch (event.status()) {
    case cat::EVENT_STATUS_PUBLISHED:
      return Status::Ok();
    case cat::EVENT_STATUS_COMPLETED:
    case cat::EVENT_STATUS_CANCELLED:
      return EventRefusal(
          event, now_micros, "EVENT_CLOSED",
          what + " is refused: the event is " +
              (event.status() == cat::EVENT_STATUS_COMPLETED ? "completed" : "cancelled"));
    default:
      return EventRefusal(event, now_micros, "EVENT_NOT_PUBLISHED",
                          what + " is refused: the event is not published");
  }
}

Status RequireHeld(const cat::Event& event, int64_t now_micros, const std::string& what) {
  switch (event.status()) {
    case cat::EVENT_STATUS_PUBLISHED:
    case cat::EVENT_STATUS_COMPLETED:
      return Status::Ok();
    case cat::EVENT_STATUS_CANCELLED:
      return EventRefusal(event, now_micros, "EVENT_CANCELLED",
                          what + " is refused: the event was cancelled");
    default:
      return EventRefusal(event, now_micros, "EVENT_NOT_PUBLISHED",
                          what + " is refused: the event is not published");
  }
}

}  // namespace ecd
