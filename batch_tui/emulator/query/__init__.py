"""OData as the service reads it: `$filter`, `$select`, `$expand`, and paging."""
