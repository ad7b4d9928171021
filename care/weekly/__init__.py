"""每周按时填报: the schools' weekly return of dropouts and suspected dropouts, its deadline on the
working-day calendar, the district's view of who is late, and the monthly and half-year summaries.

A sub-package of `care` with the app's usual rooms (`deadline`, `selectors`, `services`, `summary`,
`views`); the models live in `care.models` (`WeeklyReturn`, and the deadline rule on `CareRules`).
"""
