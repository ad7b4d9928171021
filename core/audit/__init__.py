"""The audit trail's writer (`trail`) and its two tables (`models`, app label `audits`)."""
