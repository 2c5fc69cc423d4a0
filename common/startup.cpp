#include "common/startup.hpp"

#include <absl/synchronization/mutex.h>

#include <algorithm>
#include <iostream>

#include "common/logging.hpp"

namespace ecd {

std::optional<int> Start(int argc, char** argv, const std::string& service,
                         const std::string& default_address, int64_t max_message_bytes,
                         const std::vector<std::string>& modes,
                         const std::function<void(Env&)>& load, Startup* out) {
  // Debian's Abseil keeps a lock-order graph on every absl::Mutex that gRPC takes (its debug
  // deadlock detector): about 4% of the catalogue's CPU under load, in GraphCycles. Off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (out->mode.empty() && std::find(modes.begin(), modes.end(), arg) != modes.end()) {
      out->mode = arg;
      continue;
    }
    std::string usage = "usage: " + service;
    for (const auto& m : modes) usage += " [" + m + "]";
    std::cerr << usage << "\nConfiguration comes from ECD_* environment variables (see README).\n";
    return 2;
  }
  Env env;
  try {
    out->config = CommonConfig::Load(env, default_address, max_message_bytes);
    if (out->mode != "--migrate" && load) load(env);
    auto tokens = TokenRegistry::Parse(out->config.tokens);
    if (tokens.ok()) {
      out->tokens = std::move(*tokens);
    } else {
      env.Fail("ECD_TOKENS", tokens.status().message());
    }
    env.Check();
  } catch (const ConfigError& e) {
    std::cerr << service << ": " << e.what() << "\n";
    return 2;
  }
  InitLogging(service, out->config.log_format, out->config.log_level);
  return std::nullopt;
}

}  // namespace ecd
