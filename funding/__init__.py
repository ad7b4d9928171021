"""The funding domain: semesters, programs and standards, budgets, award lists (资助名单)."""
