// Who leases outbox rows. A worker id names one process instance, unique even
// for containers that all run as pid 1 and across reboots:
//   <hostname>:<pid>:<start>.<boot>.<pidns>
// (process start time in clock ticks since boot, the kernel's boot id, the pid
// namespace inode). From such an id, a later daemon on the same host can tell
// for sure that the process that leased a row is gone, and take its rows back
// at once instead of waiting for the lease to run out.
#pragma once

#include <optional>
#include <string>

namespace stockrelay::sidecar {

struct Instance {
    std::string host;
    long pid = 0;
    unsigned long long start = 0;  // /proc/<pid>/stat field 22
    std::string boot;              // /proc/sys/kernel/random/boot_id (first 8 hex digits)
    std::string pidns;             // inode of /proc/<pid>/ns/pid

    std::string id() const;
    // nullopt for ids in another format (e.g. an operator's --worker-id).
    static std::optional<Instance> parse(const std::string& id);
};

// This process; nullopt when /proc does not tell (then ids fall back to host:pid).
std::optional<Instance> this_instance();

// The default --worker-id.
std::string default_worker_id();

// True only when `id` names a process instance on this host, in this pid
// namespace and boot, that no longer exists (its pid is free or now belongs
// to a process started at another time). Unknown formats, other hosts, other
// containers and this very process are never "gone".
bool instance_gone(const std::string& id);

}  // namespace stockrelay::sidecar
