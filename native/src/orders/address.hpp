// The normalized address and customer objects, from each shop's field names.
#pragma once

#include <nlohmann/json.hpp>

namespace stockrelay::orders::detail {

struct AddressKeys {
    const char* first_name;
    const char* last_name;
    const char* name;  // nullptr when the shop has no full-name field
    const char* company;
    const char* street;
    const char* street2;
    const char* city;
    const char* zip;
    const char* state_code;
    const char* country_code;
    const char* phone;
};

extern const AddressKeys kShopifyRestAddress;
extern const AddressKeys kShopifyGraphqlAddress;
extern const AddressKeys kWooAddress;
extern const AddressKeys kMedusaAddress;

// null when `a` is null/absent or has no field set at all.
nlohmann::json address(const nlohmann::json* a, const AddressKeys& k);

}  // namespace stockrelay::orders::detail
