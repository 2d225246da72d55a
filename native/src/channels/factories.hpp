// One factory per channel type; make_channel dispatches on Config::type.
#pragma once

#include "stockrelay/channels/channel.hpp"

namespace stockrelay::channels {

Result<std::unique_ptr<Channel>> make_shopify(const Config& config, std::unique_ptr<http::Client> client);
Result<std::unique_ptr<Channel>> make_woocommerce(const Config& config, std::unique_ptr<http::Client> client);
Result<std::unique_ptr<Channel>> make_medusa(const Config& config, std::unique_ptr<http::Client> client);

}  // namespace stockrelay::channels
