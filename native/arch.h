#pragma once
#if defined(__x86_64__)
#include "arch/x86_64.h"
#else
#error "vview: this architecture is not supported yet (x86-64 only; see native/arch/)"
#endif
