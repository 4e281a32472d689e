// Robust kernels as iteratively-reweighted-least-squares weights of a residual in metres.
//
// Usage:
//   twin::RobustKernel k{twin::KernelType::Huber, 0.1};   // scale in metres
//   double w = k.weight(residual_m);                       // 1 for small residuals, less beyond scale
//   twin::KernelType t = twin::kernel_from_name("geman_mcclure");  // throws for unknown names
//
// Weights are rho'(e) / e, normalised so that w(0) = 1: none 1; huber min(1, s/|e|);
// cauchy 1 / (1 + (e/s)^2); tukey (1 - (e/s)^2)^2 inside s, 0 beyond; geman_mcclure
// (s^2 / (s^2 + e^2))^2.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

namespace twin {

enum class KernelType { None, Huber, Cauchy, Tukey, GemanMcClure };

inline KernelType kernel_from_name(const std::string& name) {
  if (name == "none") return KernelType::None;
  if (name == "huber") return KernelType::Huber;
  if (name == "cauchy") return KernelType::Cauchy;
  if (name == "tukey") return KernelType::Tukey;
  if (name == "geman_mcclure") return KernelType::GemanMcClure;
  throw std::invalid_argument("unknown robust kernel '" + name +
                              "'; use none, huber, cauchy, tukey or geman_mcclure");
}

struct RobustKernel {
  KernelType type = KernelType::None;
  double scale = 1.0;  // metres

  double weight(double e) const {
    const double a = std::abs(e);
    switch (type) {
      case KernelType::None: return 1.0;
      case KernelType::Huber: return a <= scale ? 1.0 : scale / a;
      case KernelType::Cauchy: { const double u = a / scale; return 1.0 / (1.0 + u * u); }
      case KernelType::Tukey: {
        if (a >= scale) return 0.0;
        const double u = a / scale, v = 1.0 - u * u;
        return v * v;
      }
      case KernelType::GemanMcClure: {
        const double s2 = scale * scale, f = s2 / (s2 + a * a);
        return f * f;
      }
    }
    return 1.0;
  }
};

}  // namespace twin
