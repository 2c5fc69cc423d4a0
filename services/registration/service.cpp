#include "services/registration/service.hpp"

#include <memory>
#include <mutex>

namespace ecd::registration {
namespace {

using Clock = std::chrono::steady_clock;

// Sends the availability now and after every change. Changes that arrive while a snapshot is
// being computed or written coalesce into one more snapshot, so a slow client never queues
// more than one. The shared state outlives the reactor for callbacks still queued on workers.
class WatchReactor final : public grpc::ServerWriteReactor<v1::WatchAvailabilityResponse> {
 public:
  WatchReactor(grpc::CallbackServerContext* ctx, const v1::WatchAvailabilityRequest* req,
               Registrations& registrations, CallHandler& calls, AvailabilityHub& hub)
      : state_(std::make_shared<State>(this, registrations, calls, hub, req->event())) {
    auto call = calls.Begin(ctx, "WatchAvailability");
    if (!call.ok()) {
      state_->call.request_id = "-";
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->FinishLocked(call.status());
      return;
    }
    state_->call = *call;
    auto state = state_;
    if (!calls.workers().TrySubmit([state] { Subscribe(state); })) {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->FinishLocked(Overloaded());
    }
  }

  void OnWriteDone(bool ok) override {
    bool again = false;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->writing = false;
      if (!ok) {
        state_->FinishLocked(Status(Code::kCancelled, "CANCELLED", "the client went away"));
      } else if (state_->pending_finish) {
        state_->FinishLocked(*state_->pending_finish);
      } else {
        again = state_->dirty;
      }
    }
    if (again) Kick(state_);
  }
  void OnCancel() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->FinishLocked(Status(Code::kCancelled, "CANCELLED", "cancelled by the client"));
  }
  void OnDone() override {
    uint64_t handle = 0;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->reactor = nullptr;
      handle = state_->handle;
    }
    if (handle != 0) state_->hub.Unsubscribe(handle);
    delete this;
  }

 private:
  struct State {
    State(WatchReactor* r, Registrations& regs, CallHandler& c, AvailabilityHub& h, std::string e)
        : reactor(r), registrations(regs), calls(c), hub(h), event(std::move(e)) {}
    // Under mu. Waits for an outstanding write before finishing.
    void FinishLocked(const Status& s) {
      if (finished || reactor == nullptr) return;
      if (writing) {
        if (!pending_finish) pending_finish = s;
        return;
      }
      finished = true;
      calls.Log("WatchAvailability", s, start, call.request_id, RoleName(call.role));
      reactor->Finish(calls.ToGrpc(s));
    }
    std::mutex mu;
    WatchReactor* reactor;
    Registrations& registrations;
    CallHandler& calls;
    AvailabilityHub& hub;
    std::string event;
    CallContext call;
    Clock::time_point start = Clock::now();
    uint64_t handle = 0;
    bool dirty = false, computing = false, writing = false, finished = false;
    std::optional<Status> pending_finish;
    v1::WatchAvailabilityResponse message;
  };

  static void Subscribe(const std::shared_ptr<State>& state) {
    auto id = state->calls.Guard(
        [&] { return state->registrations.VisibleEvent(state->call, state->event).status(); });
    if (!id.ok()) {
      std::lock_guard<std::mutex> lock(state->mu);
      state->FinishLocked(id);
      return;
    }
    std::weak_ptr<State> weak = state;
    const std::string event_id = state->event.substr(state->event.rfind('/') + 1);
    uint64_t handle = state->hub.Subscribe(
        event_id,
        [weak] {
          if (auto s = weak.lock()) Kick(s);
        },
        [weak] {
          if (auto s = weak.lock()) {
            std::lock_guard<std::mutex> lock(s->mu);
            s->FinishLocked(Status::Ok());
          }
        });
    {
      std::lock_guard<std::mutex> lock(state->mu);
      state->handle = handle;
      if (state->reactor == nullptr || state->finished) {
        state->hub.Unsubscribe(handle);  // the call ended while we subscribed
        return;
      }
    }
    Kick(state);
  }

  static void Kick(const std::shared_ptr<State>& state) {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->finished) return;
      state->dirty = true;
      if (state->computing || state->writing) return;
      state->computing = true;
      state->dirty = false;
    }
    bool queued = state->calls.workers().TrySubmit([state] {
      v1::GetAvailabilityRequest req;
      req.set_event(state->event);
      v1::GetAvailabilityResponse resp;
      Status s = state->calls.Guard(
          [&] { return state->registrations.GetAvailability(state->call, req, &resp); });
      {
        std::lock_guard<std::mutex> lock(state->mu);
        state->computing = false;
        if (state->finished || state->reactor == nullptr) return;
        if (!s.ok()) {
          state->FinishLocked(s);
          return;
        }
        if (state->pending_finish) return;
        state->message.set_event(resp.event());
        *state->message.mutable_countries() = resp.countries();
        state->writing = true;
        state->reactor->StartWrite(&state->message);
      }
    });
    if (!queued) {
      std::lock_guard<std::mutex> lock(state->mu);
      state->computing = false;
      state->FinishLocked(Overloaded());
    }
  }

  std::shared_ptr<State> state_;
};

// Streams an event's registrations, a page at a time from the database (on a worker), one
// message per registration as flow control allows.
class ExportReactor final : public grpc::ServerWriteReactor<v1::ExportRegistrationsResponse> {
 public:
  ExportReactor(grpc::CallbackServerContext* ctx, const v1::ExportRegistrationsRequest* req,
                Registrations& registrations, CallHandler& calls)
      : registrations_(registrations),
        calls_(calls),
        event_(req->event()),
        csv_(req->format() == v1::EXPORT_FORMAT_CSV) {
    auto call = calls_.Begin(ctx, "ExportRegistrations");
    if (!call.ok()) {
      Done(call.status());
      return;
    }
    call_ = *call;
    Fetch(true);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Done(Status(Code::kCancelled, "CANCELLED", "the client went away"));
      return;
    }
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Fetch(bool first) {
    bool queued = calls_.workers().TrySubmit([this, first] {
      Status s = calls_.Guard([&]() -> Status {
        if (first) {
          ECD_ASSIGN_OR_RETURN(auto id, registrations_.VisibleEvent(call_, event_));
          event_id_ = id;
        }
        ECD_ASSIGN_OR_RETURN(auto page,
                             registrations_.ExportPage(event_id_, cursor_, kExportPageSize));
        page_ = std::move(page);
        index_ = 0;
        last_page_ = static_cast<int>(page_.size()) < kExportPageSize;
        if (!page_.empty()) {
          const auto& last = page_.back();
          cursor_ =
              Cursor{last.create_time().seconds() * 1000000 + last.create_time().nanos() / 1000,
                     last.name().substr(last.name().rfind('/') + 1)};
        }
        return Status::Ok();
      });
      if (!s.ok()) {
        Done(s);
        return;
      }
      Next();
    });
    if (!queued) Done(Overloaded());
  }
  void Next() {
    if (csv_ && !header_sent_) {  // the BOM and the header row first
      header_sent_ = true;
      message_.Clear();
      message_.set_csv_chunk(Registrations::CsvHeader());
      StartWrite(&message_);
    } else if (index_ < page_.size()) {
      message_.Clear();
      if (csv_) {
        message_.set_csv_chunk(Registrations::CsvRowOf(page_[index_++]));
      } else {
        *message_.mutable_registration() = std::move(page_[index_++]);
      }
      StartWrite(&message_);
    } else if (last_page_) {
      Done(Status::Ok());
    } else {
      Fetch(false);
    }
  }
  void Done(const Status& s) {
    calls_.Log("ExportRegistrations", s, start_, call_.request_id, RoleName(call_.role));
    Finish(calls_.ToGrpc(s));
  }

  Registrations& registrations_;
  CallHandler& calls_;
  std::string event_;
  std::string event_id_;
  CallContext call_;
  Clock::time_point start_ = Clock::now();
  std::optional<Cursor> cursor_;
  std::vector<v1::Registration> page_;
  size_t index_ = 0;
  bool last_page_ = false;
  const bool csv_;
  bool header_sent_ = false;
  v1::ExportRegistrationsResponse message_;
};

}  // namespace

grpc::ServerWriteReactor<v1::WatchAvailabilityResponse>* RegistrationServiceImpl::WatchAvailability(
    grpc::CallbackServerContext* ctx, const v1::WatchAvailabilityRequest* req) {
  return new WatchReactor(ctx, req, registrations_, calls_, hub_);
}

grpc::ServerWriteReactor<v1::ExportRegistrationsResponse>*
RegistrationServiceImpl::ExportRegistrations(grpc::CallbackServerContext* ctx,
                                             const v1::ExportRegistrationsRequest* req) {
  return new ExportReactor(ctx, req, registrations_, calls_);
}

}  // namespace ecd::registration
