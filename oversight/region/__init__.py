"""市/省: what a city's or province's oversight account reads (issue 17, item 5). See models.py."""
