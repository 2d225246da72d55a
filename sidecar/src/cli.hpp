// The stockrelayd command line: parses, runs one subcommand, and turns every
// failure into a message and a distinct exit code (see exit_codes.hpp).
#pragma once

namespace stockrelay::sidecar {

int cli_main(int argc, char** argv);

}  // namespace stockrelay::sidecar
