"""Writes of the funding domain: the program catalogue, semesters, budgets, award lists."""
