// stockrelayd's exit codes (also listed in --help).
#pragma once

namespace stockrelay::sidecar {

enum ExitCode : int {
    exit_ok = 0,
    exit_check_failed = 1,   // `check`: at least one channel failed
    exit_usage = 2,          // bad command line or missing --dsn
    exit_database = 3,       // PostgreSQL unreachable or a query failed
    exit_schema = 4,         // the database's outbox contract version is not the one we understand
    exit_reconcile_failed = 5,  // `reconcile --wait`: the run failed (its reason is printed)
    exit_wait_timeout = 6,      // `reconcile --wait`: the run did not finish in time
    exit_internal = 70,      // a bug: unexpected exception
};

}  // namespace stockrelay::sidecar
