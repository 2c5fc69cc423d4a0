#include "services/notifications/notifier.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "services/notifications/sender.hpp"

namespace ecd::notifications {
namespace {

namespace reg = ::ecd::registration::v1;

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
  EXPECT_EQ(MessageKindFor("updated", 1), "") << "a correction sends no mail";
  for (const char* own :
       {"verify_email", "already_registered", "participant_key", "expired", "handover_verify",
        "handover_requested", "handed_over", "handed_over_to_you", "handover_expired"}) {
    EXPECT_EQ(MessageKindFor(own, 1), own);
  }
  // Every message an outbox change asks for has its templates.
  const auto& kinds = Templates::Kinds();
  for (const char* outbox : {"registered",
                             "confirmed",
                             "pending_approval",
                             "promoted",
                             "approved",
                             "rejected",
                             "waitlisted",
                             "cancelled",
                             "attendance_recorded",
                             "erased",
                             "verify_email",
                             "already_registered",
                             "participant_key",
                             "expired",
                             "updated",
                             "handover_verify",
                             "handover_requested",
                             "handed_over",
                             "handed_over_to_you",
                             "handover_expired"}) {
    for (int status = 1; status <= 7; ++status) {
      const std::string kind = MessageKindFor(outbox, status);
      if (!kind.empty()) {
        EXPECT_NE(std::find(kinds.begin(), kinds.end(), kind), kinds.end()) << kind;
      }
    }
  }
}

TEST(MessageKinds, TheStoredCopyIsThePersonWhoHoldsTheSeat) {
  EXPECT_FALSE(KeepsParticipantCopy("handover_verify")) << "the colleague has not verified yet";
  EXPECT_FALSE(KeepsParticipantCopy("handed_over")) << "the registration as it was";
  for (const char* kind : {"registered", "confirmed", "updated", "handed_over_to_you",
                           "handover_requested", "handover_expired", "already_registered"}) {
    EXPECT_TRUE(KeepsParticipantCopy(kind)) << kind;
  }
}

TEST(MessageKinds, TheEnumNamesEveryKindAndNothingElse) {
  const auto& kinds = Templates::Kinds();
  const auto* e = v1::MessageKind_descriptor();
  ASSERT_EQ(e->value(0)->number(), 0);
  EXPECT_EQ(e->value_count(), static_cast<int>(kinds.size()) + 1);
  for (size_t i = 0; i < kinds.size(); ++i) {
    const v1::MessageKind value = KindValue(kinds[i]);
    EXPECT_NE(value, v1::MESSAGE_KIND_UNSPECIFIED) << kinds[i] << " has no MessageKind value";
    EXPECT_EQ(static_cast<size_t>(value), i + 1) << "the enum follows Templates::Kinds()";
    EXPECT_EQ(KindName(value), kinds[i]);
  }
  for (int i = 1; i < e->value_count(); ++i) {
    const auto kind = static_cast<v1::MessageKind>(e->value(i)->number());
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), KindName(kind)), kinds.end())
        << e->value(i)->name() << " has no templates";
  }
  EXPECT_EQ(KindName(v1::MESSAGE_KIND_UNSPECIFIED), "");
  EXPECT_EQ(KindName(static_cast<v1::MessageKind>(999)), "");
  for (const char* bad : {"", "unspecified", "CONFIRMED", "Confirmed", "confirmed ", "birthday",
                          "MESSAGE_KIND_CONFIRMED"}) {
    EXPECT_EQ(KindValue(bad), v1::MESSAGE_KIND_UNSPECIFIED) << bad;
  }
}

// Codes go with verification mails, keys with every other; links only with a template.
TEST(Links, TemplatesTakeTheIdAndTheSecretEncoded) {
  EXPECT_TRUE(CarriesCode("verify_email"));
  EXPECT_TRUE(CarriesCode("handover_verify"));
  EXPECT_FALSE(CarriesCode("confirmed"));
  EXPECT_FALSE(CarriesCode("handed_over_to_you"));
  EXPECT_EQ(VerifyUrl("https://e.org/v/{registration}?c={code}", "8f14e45f", "012345"),
            "https://e.org/v/8f14e45f?c=012345");
  EXPECT_EQ(ManageUrl("https://e.org/m?r={registration}&k={key}&again={key}", "8f14", "a+b/c=_-"),
            "https://e.org/m?r=8f14&k=a%2Bb%2Fc%3D_-&again=a%2Bb%2Fc%3D_-");
  EXPECT_EQ(ManageUrl("", "8f14", "key"), "");
  EXPECT_EQ(VerifyUrl("https://e.org/{registration}/{code}", "8f14", ""), "");
}

TEST(Invitations, HandOversCarryOneOnlyForAConfirmedSeat) {
  EXPECT_TRUE(CarriesInvitation("handed_over_to_you", reg::REGISTRATION_STATUS_CONFIRMED));
  EXPECT_FALSE(CarriesInvitation("handed_over_to_you", reg::REGISTRATION_STATUS_WAITLISTED));
  EXPECT_FALSE(CarriesInvitation("handed_over_to_you", reg::REGISTRATION_STATUS_PENDING_APPROVAL));
  EXPECT_TRUE(CarriesInvitation("handed_over", reg::REGISTRATION_STATUS_CONFIRMED));
  EXPECT_TRUE(CancelsInvitation("handed_over")) << "the former holder's calendar entry goes";
  EXPECT_FALSE(CarriesInvitation("handed_over", reg::REGISTRATION_STATUS_WAITLISTED));
  for (const char* kind : {"verify_email", "already_registered", "participant_key", "expired",
                           "handover_verify", "handover_requested", "handover_expired"}) {
    EXPECT_FALSE(CarriesInvitation(kind, reg::REGISTRATION_STATUS_CONFIRMED)) << kind;
  }
  EXPECT_TRUE(CarriesInvitation("confirmed", reg::REGISTRATION_STATUS_CONFIRMED));
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
