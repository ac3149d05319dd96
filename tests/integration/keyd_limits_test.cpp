// Placeholder: filled in by the change that owns it.
#include <gtest/gtest.h>
