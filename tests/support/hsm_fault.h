#pragma once
// keyd in front of the PKCS#11 fault shim (pkcs11_fault_shim.cpp): its
// keyd.yaml names the shim as the module, its environment the trigger
// file; fail() and heal() switch the HSM's signing fault on and off.
// Only integration_tests defines ORBITNEST_PKCS11_FAULT_SHIM.
#include <unistd.h>

#include <string>

#include "tests/support/daemon_fixture.h"

namespace orbitnest::test {

class HsmFault final {
 public:
  explicit HsmFault(const Appliance& a) : m_appliance(a), m_trigger(a.dir.file("hsm.fault")) {}

  // The fixture's keyd.yaml with the shim as hsm.module.
  std::string keyd_yaml(const KeydOptions& o = {}) const {
    std::string yaml = m_appliance.keyd_yaml(o);
    const std::string real(kSoftHsmModule);
    yaml.replace(yaml.find(real), real.size(), ORBITNEST_PKCS11_FAULT_SHIM);
    return yaml;
  }
  std::unique_ptr<ChildProcess> start_keyd(const KeydOptions& o = {}) const {
    SpawnOptions opts;
    opts.env = {{"ORBITNEST_PKCS11_FAULT_FILE", m_trigger}, {"ORBITNEST_PKCS11_REAL_MODULE", kSoftHsmModule}};
    return m_appliance.start_keyd(opts, m_appliance.write_config("keyd.yaml", keyd_yaml(o)));
  }
  void fail() const { write_file(m_trigger, ""); }
  void heal() const { ::unlink(m_trigger.c_str()); }

 private:
  const Appliance& m_appliance;
  std::string m_trigger;
};

}  // namespace orbitnest::test
