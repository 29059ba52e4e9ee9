// The body of a GET: a range of one version of an object (its layout), read a buffer at a time
// and written to the response as it is read.
#pragma once

#include <cstdint>
#include <string_view>

#include "client/client_core.h"
#include "http/http_server.h"

namespace cerulean::gateway {

// Writes bytes [first, first + length) after the response's head has gone out. A failed read
// can only cut the response short (the client sees fewer bytes than Content-Length), which the
// connection then closes on; `what` names the request in the log.
Task<void> StreamObjectBody(client::ClientCore& objects, http::HttpExchange& exchange, const client::Layout& layout,
                            uint64_t first, uint64_t length, uint64_t buffer_bytes, std::string_view what);

}  // namespace cerulean::gateway
