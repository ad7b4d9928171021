"""Safe spreadsheet intake: opening a file someone uploaded (a roster, a department's list, a bank's
return) without trusting it.

- `problems`: what can be wrong with a file (stable codes), the error that carries one, and the
  kernel's one set of messages for them (an intake whose users need other advice words its own);
- `workbook`: an .xlsx checked with constant memory before any parser sees it (size, magic number, zip
  directory, zip bombs, XML declarations, formulas, row count), then read with python-calamine;
- `text`: a CSV file's bytes as text (UTF-8 or GB18030) and its rows.
"""
