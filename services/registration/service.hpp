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

  // Register's work ends on the thread that commits its group (Repository::RegisterAsync).
  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx,
                                     const v1::RegisterRequest* req,
                                     v1::RegisterResponse* resp) override {
    return calls_.UnaryAsync(ctx, "Register",
                             [this, req, resp](const CallContext& c, const Reply& reply) {
                               registrations_.Register(c, *req, resp, reply);
                             });
  }
  ECD_UNARY_METHOD(VerifyRegistration, registrations_)
  ECD_UNARY_METHOD(GetRegistration, registrations_)
  ECD_UNARY_METHOD(UpdateRegistration, registrations_)
  ECD_UNARY_METHOD(ResendParticipantKey, registrations_)
  ECD_UNARY_METHOD(ListRegistrations, registrations_)
  ECD_UNARY_METHOD(CancelRegistration, registrations_)
  ECD_UNARY_METHOD(ApproveRegistration, registrations_)
  ECD_UNARY_METHOD(RejectRegistration, registrations_)
  ECD_UNARY_METHOD(BatchApproveRegistrations, registrations_)
  ECD_UNARY_METHOD(BatchRejectRegistrations, registrations_)
  ECD_UNARY_METHOD(SetCountrySeats, registrations_)
  ECD_UNARY_METHOD(GetEventReport, registrations_)
  ECD_UNARY_METHOD(GetSeriesReport, registrations_)
  ECD_UNARY_METHOD(GetAvailability, registrations_)
  ECD_UNARY_METHOD(ImportAttendance, registrations_)
  ECD_UNARY_METHOD(ErasePersonalData, registrations_)
  ECD_UNARY_METHOD(ListErasures, registrations_)

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
