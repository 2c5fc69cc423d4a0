#include "services/notifications/notifier.hpp"

#include <gtest/gtest.h>

#include "services/notifications/sender.hpp"

namespace ecd::notifications {
namespace {

TEST(NotificationRoles, EveryMethodListedAndLeastPrivilege) {
  const auto* service = v1::Message::descriptor()->file()->FindServiceByName("NotificationService");
  ASSERT_NE(service, nullptr);
  auto roles = NotificationRoles();
  for (int i = 0; i < service->method_count(); ++i) {
    EXPECT_TRUE(roles.Knows(service->method(i)->name())) << service->method(i)->name();
    EXPECT_FALSE(roles.Allows(service->method(i)->name(), Role::kFrontend))
        << "frontends never talk to notifications";
  }
  EXPECT_EQ(roles.rows().size(), static_cast<size_t>(service->method_count()));
  EXPECT_TRUE(roles.Allows("DeliverEvents", Role::kService));
  EXPECT_TRUE(roles.Allows("SendCertificate", Role::kService));
  EXPECT_FALSE(roles.Allows("SendAnnouncement", Role::kService));
}

TEST(MessageKinds, OutboxChangesMapToMessages) {
  EXPECT_EQ(MessageKindFor("confirmed", 1), "confirmed");
  EXPECT_EQ(MessageKindFor("promoted", 1), "promoted");
  EXPECT_EQ(MessageKindFor("promoted", 2), "pending_approval") << "promotion awaiting approval";
  EXPECT_EQ(MessageKindFor("registered", 1), "") << "the status message follows";
  EXPECT_EQ(MessageKindFor("attendance_recorded", 1), "");
  EXPECT_EQ(MessageKindFor("erased", 4), "");
}

TEST(Backoff, DoublesFromTheBaseUpToTheMaximum) {
  using std::chrono::milliseconds;
  EXPECT_EQ(Backoff(1, milliseconds(30000), milliseconds(3600000)).count(), 30000);
  EXPECT_EQ(Backoff(2, milliseconds(30000), milliseconds(3600000)).count(), 60000);
  EXPECT_EQ(Backoff(5, milliseconds(30000), milliseconds(3600000)).count(), 480000);
  EXPECT_EQ(Backoff(8, milliseconds(30000), milliseconds(3600000)).count(), 3600000);
  EXPECT_EQ(Backoff(100, milliseconds(30000), milliseconds(3600000)).count(), 3600000);
}

}  // namespace
}  // namespace ecd::notifications
