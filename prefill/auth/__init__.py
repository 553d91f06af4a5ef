"""Access control: registered clients and their keys, roles and the authorization matrix, applicant
assertions from the identity platform, window-staff context and rate limits.

Routers reach it through :mod:`prefill.auth.policy` (``require``, ``PrincipalDep``, ``ApplicantDep``).
"""
