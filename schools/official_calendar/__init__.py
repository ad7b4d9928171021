"""The official calendar (法定节假日安排): the national holidays and adjusted working days (调休) of each
year, a global table the platform operator loads from the State Council's schedule.

- `files`: the CSV a year is loaded from (read and checked whole; written for the template).
- `library`: the years the chinesecalendar package knows, in that same CSV (the seed and the command).
- `services`: loading a year (all or nothing, audited) and the daily check for a year due and missing.
- `selectors`: the years and their days, for working-day arithmetic (`schools.workdays`) and the pages.
"""
