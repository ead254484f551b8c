// asp_manager: the reference manager as a process; see asp/tools/manager_main.h and
// docs/tools.md.
#include "asp/tools/manager_main.h"

int main(int argc, char** argv) { return asp::tools::runManager(argc, argv); }
