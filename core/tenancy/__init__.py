"""Tenancy: one district's (county's) funding authority is a tenant, and nothing crosses between tenants.

- context: the tenant (and nothing else) a request or task works for, as a context variable;
- models: TenantModel, the base of every tenant table, whose manager fails closed without a tenant;
- db: the same wall in PostgreSQL (row-level security, composite tenant foreign keys, the app role);
- middleware and tasks: where the tenant is set, once per request and once per task.
"""
