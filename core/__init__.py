"""The kernel floor: what every app stands on and no domain owns.

Tenancy (context, base model, row-level security, middleware, task base), the audit writer, encryption
and encrypted fields, safe spreadsheet intake, spreadsheet writers and COPY, raw-SQL helpers, the
work-item registry, the API base, money, and the authorisation hooks the permission module plugs into.
It imports no app of ours: an import-linter contract (`.importlinter`) fails CI if it ever does.
"""
