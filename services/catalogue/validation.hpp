#pragma once
// Every rule a series, an event or a material must satisfy, checked before anything is written.
// Each failure is INVALID_ARGUMENT naming the field ("event.agenda[2].presentation_minutes").
#include <string>
#include <string_view>
#include <vector>

#include "common/resource_name.hpp"
#include "common/status.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"

namespace ecd::catalogue {

namespace v1 = ::ecd::catalogue::v1;

inline constexpr int64_t kMaxMaterialBytes = int64_t{20} << 20;
inline constexpr int kDefaultParticipantsPerCountry = 4;
inline constexpr int kDefaultCertificateThreshold = 75;
inline constexpr int kDefaultInfoKitLeadHours = 72;
inline constexpr int kMaxPresentationMinutes = 10;

// "events/{uuid}/materials/{uuid}" -> {event id, material id}.
StatusOr<std::pair<std::string, std::string>> ParseMaterialName(std::string_view name,
                                                                std::string_view field);
Status ValidateRequestId(std::string_view request_id);

Status ValidateSeries(const v1::Series& series);
// Fills the documented defaults of unset fields (participants 4, threshold 75, lead 72 h,
// automatic approval, not recorded).
void ApplyEventDefaults(v1::Event* event);
// The whole event, as it would be stored.
Status ValidateEvent(const v1::Event& event);
// The paths UpdateEvent accepts.
const std::vector<std::string>& UpdatablePaths();
// Copies the masked fields of `patch` into `target`; `paths` were checked by CheckMask against
// UpdatablePaths() (proto spelling).
Status ApplyUpdateMask(const v1::Event& patch, const std::vector<std::string>& paths,
                       v1::Event* target);
Status ValidateMaterial(const v1::Material& material, const std::string& content);

}  // namespace ecd::catalogue
