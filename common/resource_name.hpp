#pragma once
// Resource names as every API of the platform spells them: "<collection>/<uuid>", lowercase.
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace ecd {

// The uuid of "<collection>/<uuid>"; INVALID_ARGUMENT naming `field` otherwise.
StatusOr<std::string> ParseResourceName(std::string_view name, std::string_view collection,
                                        std::string_view field);
// The id at the end of a name the platform made itself ("events/{id}" -> "{id}"; a name without
// '/' as it is). For names from callers, ParseResourceName checks them.
std::string IdOf(std::string_view name);

}  // namespace ecd
