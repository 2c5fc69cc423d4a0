#pragma once
// Prometheus metrics (prometheus-cpp), one registry per process, served over HTTP on
// ECD_METRICS_ADDRESS (off the gRPC port). Names follow Prometheus conventions: base units,
// `_total` counters, `_seconds` histograms; labels take values from closed sets (methods, codes,
// states, countries), never emails or request ids. The handles are cheap to keep and to use from
// any thread; prometheus-cpp headers stay out of the rest of the code.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace ecd {

using MetricLabels = std::map<std::string, std::string>;

class CounterHandle {
 public:
  void Inc(double v = 1.0) const;

 private:
  friend CounterHandle Counter(std::string_view, std::string_view, const MetricLabels&);
  void* metric_ = nullptr;
};

class GaugeHandle {
 public:
  void Set(double v) const;
  void Inc(double v = 1.0) const;
  void Dec(double v = 1.0) const;

 private:
  friend GaugeHandle Gauge(std::string_view, std::string_view, const MetricLabels&);
  void* metric_ = nullptr;
};

class HistogramHandle {
 public:
  void Observe(double v) const;

 private:
  friend HistogramHandle Histogram(std::string_view, std::string_view, const MetricLabels&,
                                   const std::vector<double>&);
  void* metric_ = nullptr;
};

// The metric `name` with `labels` (created on first use; the same handle afterwards). A name
// keeps the help text and label names it was first created with.
CounterHandle Counter(std::string_view name, std::string_view help,
                      const MetricLabels& labels = {});
GaugeHandle Gauge(std::string_view name, std::string_view help, const MetricLabels& labels = {});
// Buckets in seconds by default (5 ms to 10 s).
HistogramHandle Histogram(std::string_view name, std::string_view help,
                          const MetricLabels& labels = {}, const std::vector<double>& buckets = {});

// Serves /metrics on `address` (host:port, port 0 for any free one; "" or "off": not at all) and
// returns the port it listens on (0 when off). FAILED_PRECONDITION when it cannot listen. Call
// once at start-up.
StatusOr<int> ServeMetrics(const std::string& address);
// The metrics as Prometheus text (tests).
std::string MetricsText();

}  // namespace ecd
