#pragma once
// authd's TLS server context: TLS 1.2+ (or 1.3 only), forward-secret AEAD
// suites, the configured certificate chain and key. Built at start and on
// every SIGHUP by the same function, so a reload applies start-up's checks
// of the key file too.
#include <boost/asio/ssl/context.hpp>

#include "config/authd_config.h"

namespace orbitnest::authd {

// Throws (std::exception) when a file is missing, unreadable, not PEM, or
// the key file fails config::tls_key_file_problem().
boost::asio::ssl::context make_tls_context(const config::AuthdTlsConfig& tls);

}  // namespace orbitnest::authd
