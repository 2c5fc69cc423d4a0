#pragma once
// What every service's main() does before its own work: reads the command line (no argument to
// serve, or one of the service's modes like --migrate), loads the common configuration and the
// service's own, reports every bad variable at once, and sets up logging.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/auth.hpp"
#include "common/config.hpp"

namespace ecd {

struct Startup {
  std::string mode;  // "" to serve, else one of the modes the service accepts
  CommonConfig config;
  TokenRegistry tokens;
};

// `load` reads the service's own variables (not called in --migrate mode, which needs only the
// database). Returns the exit code when the process must stop (2 for a bad command line or
// configuration, with the reasons on stderr), nullopt to go on.
std::optional<int> Start(int argc, char** argv, const std::string& service,
                         const std::string& default_address, int64_t max_message_bytes,
                         const std::vector<std::string>& modes,
                         const std::function<void(Env&)>& load, Startup* out);

}  // namespace ecd
