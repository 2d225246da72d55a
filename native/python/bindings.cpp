// The private extension behind the `stockrelay_native` package: the same
// core the sidecar runs, so what Odoo's buttons say is what the sidecar does.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include "stockrelay/channels/channel.hpp"
#include "stockrelay/log.hpp"
#include "stockrelay/orders.hpp"
#include "stockrelay/orders_api.hpp"
#include "stockrelay/schema.hpp"

namespace py = pybind11;
using namespace stockrelay;

namespace {

// Python exception classes, one per error code family (created in the module).
py::object g_errors[10];

[[noreturn]] void raise(const Error& e) {
    auto idx = static_cast<std::size_t>(e.code);
    py::object cls = g_errors[idx];
    py::object exc = cls(e.message);
    exc.attr("code") = std::string(to_string(e.code));
    exc.attr("http_status") = e.http_status;
    PyErr_SetObject(cls.ptr(), exc.ptr());
    throw py::error_already_set();
}

template <typename T>
T unwrap(Result<T> r) {
    if (!r) raise(r.error());
    return std::move(r).value();
}

nlohmann::json to_json(const py::handle& obj) {
    // Round-trip through Python's json module: exact and handles nesting.
    auto dumps = py::module_::import("json").attr("dumps");
    auto builtin_str = py::module_::import("builtins").attr("str");
    return nlohmann::json::parse(py::cast<std::string>(dumps(obj, py::arg("default") = builtin_str)));
}

py::object to_py(const nlohmann::json& j) {
    return py::module_::import("json").attr("loads")(j.dump());
}

// Forwards core log lines to Python's `logging` (logger "stockrelay"), so
// Odoo's log configuration applies.
class PythonSink final : public log::Sink {
public:
    void write(log::Level level, std::string_view message) override {
        py::gil_scoped_acquire gil;
        static const int levels[] = {10, 20, 30, 40};
        auto logger = py::module_::import("logging").attr("getLogger")("stockrelay");
        logger.attr("log")(levels[static_cast<int>(level)], std::string(message));
    }
    bool enabled(log::Level) const override { return true; }
};

py::dict record_dict(const channels::InventoryRecord& r) {
    py::dict d;
    d["remote_id"] = r.remote_id;
    d["parent_id"] = r.parent_id;
    d["sku"] = r.sku ? py::object(py::str(*r.sku)) : py::object(py::none());
    d["location_key"] = r.location_key;
    d["quantity"] = r.quantity ? py::object(py::int_(*r.quantity)) : py::object(py::none());
    d["tracked"] = r.tracked;
    d["problem"] = r.problem;
    return d;
}

class PyChannel {
public:
    explicit PyChannel(const py::dict& config) {
        config_ = unwrap(channels::Config::from_json(to_json(config)));
        channel_ = unwrap(channels::make_channel(config_));
    }
    std::string test_connection() {
        py::gil_scoped_release nogil;
        auto r = channel_->test_connection();
        py::gil_scoped_acquire gil;
        return unwrap(std::move(r));
    }
    py::list list_locations() {
        Result<std::vector<channels::Location>> r = [&] {
            py::gil_scoped_release nogil;
            return channel_->list_locations();
        }();
        py::list out;
        for (const auto& l : unwrap(std::move(r))) {
            py::dict d;
            d["id"] = l.id;
            d["name"] = l.name;
            d["active"] = l.active;
            out.append(d);
        }
        return out;
    }
    py::list lookup_sku(const std::string& sku) {
        Result<std::vector<channels::RemoteItem>> r = [&] {
            py::gil_scoped_release nogil;
            return channel_->lookup_sku(sku);
        }();
        py::list out;
        for (const auto& item : unwrap(std::move(r))) {
            py::dict d;
            d["sku"] = item.sku;
            d["title"] = item.title;
            d["remote_id"] = item.resolution.remote_id;
            d["parent_id"] = item.resolution.parent_id;
            d["extra"] = to_py(item.resolution.extra);
            d["tracked"] = item.tracked;
            d["levels"] = item.levels;
            out.append(d);
        }
        return out;
    }
    // Reads the shop's inventory without the daemon (reconcile tests, tools):
    // {records, report, cursor (the last one a page carried), error (None or
    // {code, message})}. With on_page(records, cursor) the records are handed
    // over page by page instead (return False to stop) and `records` stays empty.
    py::dict read_inventory(const std::vector<std::string>& location_keys, const py::object& cursor,
                            const py::object& on_page) {
        nlohmann::json start = cursor.is_none() ? nlohmann::json(nullptr) : to_json(cursor);
        py::list records;
        py::object last = py::none();
        channels::ReadReport report;
        auto sink = [&](const std::vector<channels::InventoryRecord>& page, const nlohmann::json& next) {
            py::gil_scoped_acquire gil;
            py::list batch;
            for (const auto& r : page) batch.append(record_dict(r));
            last = to_py(next);
            if (on_page.is_none()) {
                for (auto item : batch) records.append(item);
                return true;
            }
            return py::cast<bool>(on_page(batch, last));
        };
        std::optional<Error> err;
        {
            py::gil_scoped_release nogil;
            err = channel_->read_inventory(location_keys, start, sink, report);
        }
        py::dict out;
        out["records"] = records;
        out["cursor"] = last;
        out["report"] = py::dict(py::arg("method") = report.method, py::arg("api_calls") = report.api_calls,
                                 py::arg("cost_points") = report.cost_points, py::arg("items") = report.items,
                                 py::arg("throttled_ms") = report.throttled_for.count());
        out["error"] = err ? py::object(py::dict(py::arg("code") = std::string(to_string(err->code)),
                                                 py::arg("message") = err->message))
                           : py::object(py::none());
        return out;
    }
    // Orders in: creates the shop's order webhooks pointing at
    // `public_url` + "/webhooks/<database>/<channel id>" (or, without a
    // database, the single-database form "/webhooks/<channel id>"; a daemon
    // serving several databases answers only the first). Returns {"address", "webhooks":
    // [{topic, id, address}], "new_secret": str | None (WooCommerce: generated
    // because credentials had no webhook_secret; store it in the channel)}.
    py::dict register_webhooks(const std::string& public_url, const std::string& database) {
        std::string base = public_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        const std::string address =
            base + "/webhooks/" + (database.empty() ? "" : database + "/") + std::to_string(config_.id);
        Result<orders::Registration> r = [&] {
            py::gil_scoped_release nogil;
            return orders::register_webhooks(*channel_, config_, address);
        }();
        auto reg = unwrap(std::move(r));
        py::dict d;
        d["address"] = address;
        d["webhooks"] = webhook_list(reg.webhooks);
        d["new_secret"] = reg.new_secret ? py::object(py::str(*reg.new_secret)) : py::object(py::none());
        return d;
    }
    // Every order webhook the shop has (all addresses): [{topic, id, address}].
    py::list list_webhooks() {
        Result<std::vector<orders::Webhook>> r = [&] {
            py::gil_scoped_release nogil;
            return orders::list_webhooks(*channel_);
        }();
        return webhook_list(unwrap(std::move(r)));
    }
    std::string type() const { return std::string(channel_->type()); }
    std::size_t batch_size() const { return channel_->batch_size(); }
    std::size_t max_batch() const { return channel_->max_batch(); }

private:
    static py::list webhook_list(const std::vector<orders::Webhook>& hooks) {
        py::list out;
        for (const auto& w : hooks) {
            py::dict d;
            d["topic"] = w.topic;
            d["id"] = w.id;
            d["address"] = w.address;
            out.append(d);
        }
        return out;
    }

    channels::Config config_;
    std::unique_ptr<channels::Channel> channel_;
};

}  // namespace

PYBIND11_MODULE(_stockrelay_native, m) {
    m.doc() = "stockrelay core (private extension; import stockrelay_native instead)";

    auto base = py::exception<std::runtime_error>(m, "StockRelayError");
    const char* names[] = {"TransientError", "ThrottledError", "AuthError",  "ConfigError",    "NotFoundError",
                           "SkuNotFoundError", "DuplicateSkuError", "InvalidQuantityError", "RejectedError", "PermanentError"};
    for (std::size_t i = 0; i < 10; ++i) {
        g_errors[i] = py::reinterpret_borrow<py::object>(
            PyErr_NewException((std::string("stockrelay_native.") + names[i]).c_str(), base.ptr(), nullptr));
        m.attr(names[i]) = g_errors[i];
    }

    m.attr("SCHEMA_VERSION") = schema::kVersion;
    m.def("schema_sql", [] { return std::string(schema::sql()); }, "The outbox contract DDL (idempotent).");

    m.def(
        "validate_channel",
        [](const py::dict& config) {
            auto cfg = unwrap(channels::Config::from_json(to_json(config)));
            (void)unwrap(channels::make_channel(cfg));
        },
        py::arg("config"), "Raise ConfigError if the channel settings are unusable.");

    m.def("install_python_logging", [] { log::set_sink(std::make_shared<PythonSink>()); },
          "Route core log lines to Python's logging (logger 'stockrelay').");

    py::class_<PyChannel>(m, "Channel")
        .def(py::init<const py::dict&>(), py::arg("config"))
        .def_property_readonly("type", &PyChannel::type)
        .def_property_readonly("batch_size", &PyChannel::batch_size)
        .def_property_readonly("max_batch", &PyChannel::max_batch)
        .def("test_connection", &PyChannel::test_connection)
        .def("list_locations", &PyChannel::list_locations)
        .def("lookup_sku", &PyChannel::lookup_sku, py::arg("sku"))
        .def("read_inventory", &PyChannel::read_inventory, py::arg("location_keys") = std::vector<std::string>{},
             py::arg("cursor") = py::none(), py::arg("on_page") = py::none())
        .def("register_webhooks", &PyChannel::register_webhooks, py::arg("public_url"), py::arg("database") = "")
        .def("list_webhooks", &PyChannel::list_webhooks);
    // Orders in: a shop's order JSON -> {"event": {...}, "order": <normalized>} (RejectedError when malformed).
    m.def("normalize_order", [](const std::string& shop_type, const py::object& raw) {
        auto ev = unwrap(orders::normalize(shop_type, to_json(raw)));
        py::dict d;
        d["shop_order_id"] = ev.shop_order_id;
        d["name"] = ev.name;
        d["topic"] = ev.topic;
        d["event_key"] = ev.event_key;
        d["shop_updated_at"] = ev.shop_updated_at;
        d["order"] = to_py(ev.order);
        return d;
    }, py::arg("shop_type"), py::arg("raw"));
}
