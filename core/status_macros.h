// Early-return helpers for absl::Status / absl::StatusOr code.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CORDON_RETURN_IF_ERROR(expr)       \
  do {                                     \
    ::absl::Status _cordon_st = (expr);    \
    if (!_cordon_st.ok()) return _cordon_st; \
  } while (0)

#define CORDON_STATUS_CONCAT_INNER(a, b) a##b
#define CORDON_STATUS_CONCAT(a, b) CORDON_STATUS_CONCAT_INNER(a, b)
#define CORDON_ASSIGN_OR_RETURN_IMPL(lhs, tmp, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(*tmp)
// CORDON_ASSIGN_OR_RETURN(Type var, ExprReturningStatusOr);
#define CORDON_ASSIGN_OR_RETURN(lhs, expr) \
  CORDON_ASSIGN_OR_RETURN_IMPL(lhs, CORDON_STATUS_CONCAT(_cordon_so_, __LINE__), expr)
