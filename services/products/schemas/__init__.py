"""The products service's API contract, one module per sub-domain."""
