#pragma once
// Update masks as people write them: a path in its proto spelling (registration_close_time) or
// its JSON spelling (registrationCloseTime) means the same field; an unknown or read-only path is
// refused naming it and listing the paths that can be updated (every bad path at once).
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace ecd {

// "registrationCloseTime" -> "registration_close_time" (segments separated by '.').
std::string ProtoPath(std::string_view path);

// `paths` in their proto spelling, each one of `updatable` (or INVALID_ARGUMENT naming
// update_mask); `strip_prefix` ("participant.") may be written or left out. Empty masks are
// refused.
StatusOr<std::vector<std::string>> CheckMask(const std::vector<std::string>& paths,
                                             const std::vector<std::string>& updatable,
                                             std::string_view strip_prefix = "");

}  // namespace ecd
