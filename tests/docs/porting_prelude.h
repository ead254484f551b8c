// What the C++ snippets of docs/porting.md take from the module around them: the
// established header and the standard library.
#ifndef TESTS_DOCS_PORTING_PRELUDE_H_
#define TESTS_DOCS_PORTING_PRELUDE_H_

#include <chrono>
#include <exception>
#include <iostream>
#include <memory>
#include <string>

#include "agent_sync_protocol.hpp"

#endif  // TESTS_DOCS_PORTING_PRELUDE_H_
