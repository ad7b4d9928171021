"""认定名单迁移: bringing in the pupils a district identified before it used this product.

A district arrives with its current (or an earlier) year's identified list. Each row names a pupil on
the register (ID number, name, school and class), the tier, the hardship categories and the dates of
the steps. The import records each as a MIGRATED identification: an application in the identified
state (fired through the model's `migrate` transition), its steps as decision rows with the historical
dates and the migrated marker, and one audit event for the file (its SHA-256) and the person who
imported it. `columns` is the file's layout, `template` the workbook to fill in, `validate` the rows'
checks, `services` the import and its job, `report` the row report.
"""
