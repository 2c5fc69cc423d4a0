#include "services/notifications/kit.hpp"

#include <gtest/gtest.h>

namespace ecd::notifications {
namespace {

KitMaterial Uploaded(const std::string& id, size_t size, bool fetched = true) {
  KitMaterial m;
  m.name = "events/5eed0000-0000-4000-8000-000000000011/materials/" + id;
  m.title = "Title " + id;
  m.filename = id + ".pdf";
  m.content_type = "application/pdf";
  m.size_bytes = static_cast<int64_t>(size);
  m.sha256 = "digest-" + id;
  if (fetched) m.content = std::make_shared<const std::string>(size, 'x');
  return m;
}

KitMaterial External(const std::string& id) {
  KitMaterial m;
  m.name = "events/5eed0000-0000-4000-8000-000000000011/materials/" + id;
  m.title = "Slides";
  m.external_uri = "https://www.eucyberdirect.eu/" + id;
  return m;
}

KitOptions Options(int64_t budget) {
  KitOptions o;
  o.attachment_budget = budget;
  o.url_template = "https://events.example.org/materials/{material}";
  return o;
}

TEST(PlanKit, AttachesInOrderWithinTheBudgetAndLinksTheRest) {
  // 600 KiB + 300 KiB fit in 1 MiB; 3 MiB does not; 100 KiB still fits after it.
  const auto plan =
      PlanKit({Uploaded("a", 600 << 10), Uploaded("big", 3 << 20), Uploaded("b", 300 << 10),
               External("slides"), Uploaded("c", 100 << 10)},
              Options(1 << 20));
  ASSERT_EQ(plan.files.size(), 3u);
  EXPECT_EQ(plan.files[0].filename, "a.pdf");
  EXPECT_EQ(plan.files[1].filename, "b.pdf");
  EXPECT_EQ(plan.files[2].filename, "c.pdf");
  EXPECT_EQ(plan.files[0].sha256, "digest-a");
  ASSERT_EQ(plan.attached.size(), 3u);
  ASSERT_EQ(plan.linked.size(), 2u);
  EXPECT_EQ(plan.linked[0].link, "https://events.example.org/materials/big");
  EXPECT_EQ(plan.linked[1].link, "https://www.eucyberdirect.eu/slides");
  ASSERT_EQ(plan.items.size(), 5u);
  EXPECT_TRUE(plan.items[0].attached);
  EXPECT_FALSE(plan.items[1].attached);
  EXPECT_EQ(plan.items[3].version, "https://www.eucyberdirect.eu/slides");
  EXPECT_EQ(plan.items[4].version, "digest-c");
}

TEST(PlanKit, ZeroBudgetOrBytesNotAtHandLinkEverything) {
  auto plan = PlanKit({Uploaded("a", 10)}, Options(0));
  EXPECT_TRUE(plan.files.empty());
  ASSERT_EQ(plan.linked.size(), 1u);
  plan = PlanKit({Uploaded("a", 10, /*fetched=*/false)}, Options(1 << 20));
  EXPECT_TRUE(plan.files.empty());
  EXPECT_EQ(plan.linked[0].link, "https://events.example.org/materials/a");
}

TEST(PlanKit, WithoutATemplateAnUploadedMaterialHasNoLink) {
  KitOptions o = Options(0);
  o.url_template.clear();
  const auto plan = PlanKit({Uploaded("a", 10), External("x")}, o);
  ASSERT_EQ(plan.linked.size(), 2u);
  EXPECT_EQ(plan.linked[0].link, "");
  EXPECT_EQ(plan.linked[1].link, "https://www.eucyberdirect.eu/x");
}

TEST(MaterialUrl, Placeholders) {
  KitMaterial m = Uploaded("9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", 1);
  m.filename = "Fiche d'été.pdf";
  EXPECT_EQ(MaterialUrl("https://e.org/{event}/m/{material}/{filename}", m),
            "https://e.org/5eed0000-0000-4000-8000-000000000011/m/"
            "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d/Fiche%20d%27%C3%A9t%C3%A9.pdf");
  EXPECT_EQ(MaterialUrl("https://e.org/{name}", m), "https://e.org/" + m.name);
  EXPECT_EQ(MaterialUrl("", m), "");
}

}  // namespace
}  // namespace ecd::notifications
