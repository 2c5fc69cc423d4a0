#include "common/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <mutex>

namespace ecd {
namespace {

struct State {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::mutex mu;
  std::map<std::string, prometheus::Family<prometheus::Counter>*, std::less<>> counters;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*, std::less<>> gauges;
  std::map<std::string, prometheus::Family<prometheus::Histogram>*, std::less<>> histograms;
  std::unique_ptr<prometheus::Exposer> exposer;
};

State& S() {
  static auto* state = new State();  // never destroyed: metrics may be touched while exiting
  return *state;
}

template <class Builder, class Map>
auto& FamilyOf(Map& families, std::string_view name, std::string_view help, Builder builder) {
  auto it = families.find(name);
  if (it == families.end()) {
    auto& family = builder.Name(std::string(name)).Help(std::string(help)).Register(*S().registry);
    it = families.emplace(std::string(name), &family).first;
  }
  return *it->second;
}

const std::vector<double> kSecondsBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,    2.5,   5,    10};

}  // namespace

void CounterHandle::Inc(double v) const {
  if (metric_ != nullptr) static_cast<prometheus::Counter*>(metric_)->Increment(v);
}
void GaugeHandle::Set(double v) const {
  if (metric_ != nullptr) static_cast<prometheus::Gauge*>(metric_)->Set(v);
}
void GaugeHandle::Inc(double v) const {
  if (metric_ != nullptr) static_cast<prometheus::Gauge*>(metric_)->Increment(v);
}
void GaugeHandle::Dec(double v) const {
  if (metric_ != nullptr) static_cast<prometheus::Gauge*>(metric_)->Decrement(v);
}
void HistogramHandle::Observe(double v) const {
  if (metric_ != nullptr) static_cast<prometheus::Histogram*>(metric_)->Observe(v);
}

CounterHandle Counter(std::string_view name, std::string_view help, const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(S().mu);
  CounterHandle h;
  h.metric_ = &FamilyOf(S().counters, name, help, prometheus::BuildCounter()).Add(labels);
  return h;
}

GaugeHandle Gauge(std::string_view name, std::string_view help, const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(S().mu);
  GaugeHandle h;
  h.metric_ = &FamilyOf(S().gauges, name, help, prometheus::BuildGauge()).Add(labels);
  return h;
}

HistogramHandle Histogram(std::string_view name, std::string_view help, const MetricLabels& labels,
                          const std::vector<double>& buckets) {
  std::lock_guard<std::mutex> lock(S().mu);
  HistogramHandle h;
  h.metric_ = &FamilyOf(S().histograms, name, help, prometheus::BuildHistogram())
                   .Add(labels, buckets.empty() ? kSecondsBuckets : buckets);
  return h;
}

StatusOr<int> ServeMetrics(const std::string& address) {
  if (address.empty() || address == "off") return 0;
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(address, 2);
    exposer->RegisterCollectable(S().registry);
    const auto ports = exposer->GetListeningPorts();
    const int port = ports.empty() ? 0 : ports.front();
    std::lock_guard<std::mutex> lock(S().mu);
    S().exposer = std::move(exposer);
    return port;
  } catch (const std::exception& e) {
    return Status::FailedPrecondition("METRICS_UNAVAILABLE",
                                      "cannot serve metrics on " + address + ": " + e.what());
  }
}

std::string MetricsText() {
  return prometheus::TextSerializer().Serialize(S().registry->Collect());
}

}  // namespace ecd
