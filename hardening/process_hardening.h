#pragma once
// Called first thing in each daemon's main(): a crash must not leave a core
// file with a PIN or key in it, and other processes of the same user must
// not be able to ptrace us or read /proc/self/mem.
namespace orbitnest::hardening {

// Throws std::runtime_error if a setting cannot be applied.
void harden_process();

}  // namespace orbitnest::hardening
