#pragma once
// The thin gRPC adapter of NotificationService.
#include "common/server.hpp"
#include "ecd/notifications/v1/notifications.grpc.pb.h"
#include "services/notifications/notifier.hpp"

namespace ecd::notifications {

inline constexpr char kServiceName[] = "ecd.notifications.v1.NotificationService";

class NotificationServiceImpl final : public v1::NotificationService::CallbackService {
 public:
  NotificationServiceImpl(Notifier& notifier, CallHandler& calls)
      : notifier_(notifier), calls_(calls) {}

  ECD_UNARY_METHOD(DeliverEvents, notifier_)
  ECD_UNARY_METHOD(ListMessages, notifier_)
  ECD_UNARY_METHOD(GetMessage, notifier_)
  ECD_UNARY_METHOD(ResendMessage, notifier_)
  ECD_UNARY_METHOD(PreviewMessage, notifier_)
  ECD_UNARY_METHOD(SendAnnouncement, notifier_)
  ECD_UNARY_METHOD(SendCertificate, notifier_)

 private:
  Notifier& notifier_;
  CallHandler& calls_;
};

}  // namespace ecd::notifications
