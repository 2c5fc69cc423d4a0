#pragma once
// A gRPC message allocator that puts a unary call's request and response on one protobuf Arena
// (with its first 8 KiB inside the holder): building an answer out of many strings and repeated
// fields costs one allocation instead of one per field, and freeing it one. For hot read paths:
//   service.SetMessageAllocatorFor_ListEvents(&list_events_messages_);
// Messages copied in from the heap are deep-copied onto the arena (moving them would copy too), so
// fill the response straight from the source.
#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

namespace ecd {

template <class Request, class Response>
class ArenaMessages final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder; }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options(block_)) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }
    void FreeRequest() override {}  // goes with the arena

   private:
    static google::protobuf::ArenaOptions Options(char* block) {
      google::protobuf::ArenaOptions o;
      o.initial_block = block;
      o.initial_block_size = sizeof(block_);
      return o;
    }
    alignas(16) char block_[8192];
    google::protobuf::Arena arena_;
  };
};

}  // namespace ecd
