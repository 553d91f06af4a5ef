"""The shared-field registry (issue 8): departments register the data items they share, the bundle's
administrator approves them and maps them into the merged form and its material waivers, and the
prefill flow sees the effect at its next request, without a restart (see docs/registry.md)."""
