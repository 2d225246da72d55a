// Placeholder until the shopify channel lands: refuses clearly instead of pretending.
#include "channels/factories.hpp"

namespace stockrelay::channels {

Result<std::unique_ptr<Channel>> make_shopify(const Config&, std::unique_ptr<http::Client>) {
    return make_error(ErrorCode::config, "the shopify channel is not built into this stockrelay yet");
}

}  // namespace stockrelay::channels
