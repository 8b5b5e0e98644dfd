// libFuzzer: the campus policy YAML parser (an administrator's file, applied
// over gRPC). Any input must give a policy or errors with lines, never a
// crash, a hang or undefined behaviour; an accepted policy must describe
// itself against the previous one without failing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policydoc/policy_document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  cordon::policydoc::ParseResult parsed = cordon::policydoc::ParsePolicyDocument(yaml);
  if (parsed.ok()) {
    (void)cordon::policydoc::DescribeChanges(*parsed.policy, *parsed.policy);
  } else {
    (void)parsed.ErrorText();
  }
  return 0;
}
