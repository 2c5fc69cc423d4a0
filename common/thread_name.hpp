#pragma once
// Names the calling thread, so that `top -H`, `ps -L`, perf and gdb tell a service's threads
// apart (the kernel keeps 15 bytes of a name: longer names are cut).
#include <pthread.h>

#include <string>
#include <string_view>

namespace ecd {

inline void NameThisThread(std::string_view name) {
  const std::string cut(name.substr(0, 15));
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace ecd
