#include "shm/shm_messages.h"

namespace cerulean::shm {

void Encode(const RegisterRequest& m, rpc::WireWriter& w) {
  w.U64(m.region);
  w.U32(m.pid);
  w.U32(static_cast<uint32_t>(m.fd));
  w.U64(m.bytes);
  w.String(m.name);
}

Result<RegisterRequest> DecodeRegisterRequest(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  RegisterRequest m;
  ASSIGN_OR_RETURN(m.region, r.U64());
  ASSIGN_OR_RETURN(m.pid, r.U32());
  ASSIGN_OR_RETURN(uint32_t fd, r.U32());
  m.fd = static_cast<int32_t>(fd);
  ASSIGN_OR_RETURN(m.bytes, r.U64());
  ASSIGN_OR_RETURN(m.name, r.String(256));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const RegisterResponse& m, rpc::WireWriter& w) {
  w.U64(m.bytes);
  w.U32(m.pid);
  w.U32(static_cast<uint32_t>(m.fd));
  w.String(m.name);
}

Result<RegisterResponse> DecodeRegisterResponse(std::span<const std::byte> bytes) {
  RegisterResponse m;
  if (bytes.empty()) return m;  // a node that offers nothing
  rpc::WireReader r(bytes);
  ASSIGN_OR_RETURN(m.bytes, r.U64());
  ASSIGN_OR_RETURN(m.pid, r.U32());
  ASSIGN_OR_RETURN(uint32_t fd, r.U32());
  m.fd = static_cast<int32_t>(fd);
  ASSIGN_OR_RETURN(m.name, r.String(256));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const UnregisterRequest& m, rpc::WireWriter& w) { w.U64(m.region); }

Result<UnregisterRequest> DecodeUnregisterRequest(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  UnregisterRequest m;
  ASSIGN_OR_RETURN(m.region, r.U64());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

}  // namespace cerulean::shm
