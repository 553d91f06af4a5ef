"""Registry errors with stable codes. Details name codes and rules, never a personal value."""

from __future__ import annotations

from prefill.errors import ConflictError, NotFoundError, ServiceError, ValidationFailedError

__all__ = [
    "CodesetMismatchError",
    "DepartmentRoleRequiredError",
    "DuplicateCodeError",
    "FieldNotFoundError",
    "InvalidResponsePathError",
    "InvalidTransitionError",
    "MappingExistsError",
    "MergedFieldProvidedError",
    "NotOwnerError",
    "RuleNotFoundError",
    "SourceOfOtherDepartmentError",
    "TypeMismatchError",
    "UnknownCertificateTypeError",
    "UnknownCodesetError",
    "UnknownFieldError",
    "UnknownMaterialError",
    "UnknownMergedFieldError",
    "UnknownOriginalFormError",
    "UnknownSourceError",
    "VersionConflictError",
    "VersionRequiredError",
    "WaiverNotApplicableError",
]


class FieldNotFoundError(NotFoundError):
    code, title = "field_not_found", "Registry field not found"


class UnknownFieldError(ValidationFailedError):
    code, title = "unknown_field", "Unknown registry field"


class RuleNotFoundError(NotFoundError):
    code, title = "rule_not_found", "Registry rule not found"


class DuplicateCodeError(ConflictError):
    code, title = "duplicate_code", "Field code already in use"


class VersionConflictError(ConflictError):
    code, title = "version_conflict", "The field changed since it was read"


class InvalidTransitionError(ConflictError):
    code, title = "invalid_transition", "Not allowed in the field's current state"


class MappingExistsError(ConflictError):
    code, title = "mapping_exists", "The merged-form field is already mapped"


class MergedFieldProvidedError(ConflictError):
    code, title = "merged_field_provided", "The merged-form field already has a source"


class VersionRequiredError(ServiceError):
    status, code, title = 428, "version_required", "If-Match or version required"


class NotOwnerError(ServiceError):
    status, code, title = 403, "not_owner", "Field belongs to another department"


class SourceOfOtherDepartmentError(ServiceError):
    status, code, title = 403, "source_of_other_department", "Source belongs to another department"


class DepartmentRoleRequiredError(ServiceError):
    status, code, title = 403, "department_role_required", "Only a department client registers fields"


class UnknownSourceError(ValidationFailedError):
    code, title = "unknown_source", "Unknown source"


class InvalidResponsePathError(ValidationFailedError):
    code, title = "invalid_response_path", "Invalid response path"


class UnknownCodesetError(ValidationFailedError):
    code, title = "unknown_codeset", "Unknown code set"


class CodesetMismatchError(ValidationFailedError):
    code, title = "codeset_mismatch", "Code sets do not match and no translation exists"


class TypeMismatchError(ValidationFailedError):
    code, title = "type_mismatch", "Field types do not match"


class UnknownMergedFieldError(ValidationFailedError):
    code, title = "unknown_merged_field", "Unknown merged-form field"


class UnknownOriginalFormError(ValidationFailedError):
    code, title = "unknown_original_form", "Unknown original form"


class UnknownMaterialError(ValidationFailedError):
    code, title = "unknown_material", "Unknown material"


class UnknownCertificateTypeError(ValidationFailedError):
    code, title = "unknown_certificate_type", "Unknown certificate type"


class WaiverNotApplicableError(ValidationFailedError):
    code, title = "waiver_not_applicable", "The waiver cannot apply to this material"
