#pragma once
// The thin gRPC adapter of RegistrationService: unary methods through CallHandler, and the two
// server streams (WatchAvailability, ExportRegistrations) as write reactors whose database work
// runs on the worker pool.
#include "common/server.hpp"
#include "ecd/registration/v1/registration.grpc.pb.h"
#include "services/registration/availability_hub.hpp"
#include "services/registration/registration.hpp"

namespace ecd::registration {

inline constexpr char kServiceName[] = "ecd.registration.v1.RegistrationService";
inline constexpr int kExportPageSize = 200;

class RegistrationServiceImpl final : public v1::RegistrationService::CallbackService {
 public:
  RegistrationServiceImpl(Registrations& registrations, CallHandler& calls, AvailabilityHub& hub)
      : registrations_(registrations), calls_(calls), hub_(hub) {}

#define ECD_UNARY(Method)                                                                      \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,                           \
                                   const v1::Method##Request* req, v1::Method##Response* resp) \
      override {                                                                               \
    return calls_.Unary(ctx, #Method, [this, req, resp](const CallContext& c) {                \
      return registrations_.Method(c, *req, resp);                                             \
    });                                                                                        \
  }
  ECD_UNARY(Register)
  ECD_UNARY(GetRegistration)
  ECD_UNARY(ListRegistrations)
  ECD_UNARY(CancelRegistration)
  ECD_UNARY(ApproveRegistration)
  ECD_UNARY(RejectRegistration)
  ECD_UNARY(GetAvailability)
  ECD_UNARY(ImportAttendance)
  ECD_UNARY(ErasePersonalData)
#undef ECD_UNARY

  grpc::ServerWriteReactor<v1::WatchAvailabilityResponse>* WatchAvailability(
      grpc::CallbackServerContext* ctx, const v1::WatchAvailabilityRequest* req) override;
  grpc::ServerWriteReactor<v1::ExportRegistrationsResponse>* ExportRegistrations(
      grpc::CallbackServerContext* ctx, const v1::ExportRegistrationsRequest* req) override;

 private:
  Registrations& registrations_;
  CallHandler& calls_;
  AvailabilityHub& hub_;
};

}  // namespace ecd::registration
