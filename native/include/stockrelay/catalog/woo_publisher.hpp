// The WooCommerce (REST v3) catalogue publisher, for make_publisher.
#pragma once

#include <memory>

#include "stockrelay/catalog/publisher.hpp"

namespace stockrelay::catalog {

// Borrows `channel` (a "woocommerce" channel): it must outlive the publisher.
std::unique_ptr<Publisher> make_woo_publisher(channels::Channel& channel, const channels::Config& config);

}  // namespace stockrelay::catalog
