// Placeholder until the woocommerce channel lands: refuses clearly instead of pretending.
#include "channels/factories.hpp"

namespace stockrelay::channels {

Result<std::unique_ptr<Channel>> make_woocommerce(const Config&, std::unique_ptr<http::Client>) {
    return make_error(ErrorCode::config, "the woocommerce channel is not built into this stockrelay yet");
}

}  // namespace stockrelay::channels
