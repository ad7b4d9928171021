"""Dates as the offices write them (2026年12月7日), for every `{{ date }}` and `|date` on a page in Chinese."""

DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATE_FORMAT = "Y年n月j日"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "n月j日"
YEAR_MONTH_FORMAT = "Y年n月"
# Forms read ISO (the date inputs send it) and the offices' own writing.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y年%m月%d日", "%Y/%m/%d"]
FIRST_DAY_OF_WEEK = 1
