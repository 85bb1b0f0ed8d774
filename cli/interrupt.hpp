#pragma once
// Ctrl-C for long-running commands: the first SIGINT/SIGTERM sets a flag the
// command polls, so it can abort its run and stop its children cleanly.

namespace kiln::cli {

void install_interrupt_handler();
bool interrupted();

}  // namespace kiln::cli
