"""How dates and times are shown in English: day before month, as on the
public pages ("22 November 2026"), not Django's US default ("Nov. 22, 2026").
Only output formats are set; what forms accept is unchanged."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, g:i a"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
