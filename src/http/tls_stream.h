// TLS for the HTTP server (the gateways' optional HTTPS), by OpenSSL: a TlsContext holds the
// certificate chain and key; each accepted connection is wrapped in a TlsStream, a Stream whose
// bytes are encrypted through OpenSSL memory BIOs over the TCP stream, so the runtime's
// io_uring sockets carry the ciphertext. Server side, TLS 1.2 and 1.3. Single loop per stream.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "runtime/env.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace cerulean::http {

class TlsContext {
 public:
  // A certificate chain and a private key, both PEM files. InvalidArgument says which is wrong.
  static Result<std::shared_ptr<TlsContext>> Load(const std::string& certificate_file, const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  // The server side of a TLS connection over `stream`; the handshake happens on first use.
  std::unique_ptr<Stream> Accept(std::unique_ptr<Stream> stream) const;

 private:
  explicit TlsContext(SSL_CTX* context) : context_(context) {}
  SSL_CTX* context_;
};

}  // namespace cerulean::http
