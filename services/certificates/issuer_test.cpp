#include "services/certificates/issuer.hpp"

#include <gtest/gtest.h>

namespace ecd::certificates {
namespace {

TEST(CertificateRoles, EveryMethodListedAndLeastPrivilege) {
  const auto* service =
      v1::Certificate::descriptor()->file()->FindServiceByName("CertificateService");
  ASSERT_NE(service, nullptr);
  auto roles = CertificateRoles();
  for (int i = 0; i < service->method_count(); ++i) {
    EXPECT_TRUE(roles.Knows(service->method(i)->name())) << service->method(i)->name();
    EXPECT_TRUE(roles.Allows(service->method(i)->name(), Role::kAdmin));
  }
  EXPECT_EQ(roles.rows().size(), static_cast<size_t>(service->method_count()));
  EXPECT_TRUE(roles.Allows("VerifyCertificate", Role::kIntegration));
  EXPECT_TRUE(roles.Allows("RequestCertificate", Role::kFrontend));
  EXPECT_FALSE(roles.Allows("RevokeCertificate", Role::kFrontend));
  EXPECT_FALSE(roles.Allows("ListCertificates", Role::kIntegration));
  EXPECT_FALSE(roles.Allows("RequestCertificate", Role::kIntegration));
}

}  // namespace
}  // namespace ecd::certificates
