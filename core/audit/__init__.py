"""The audit trail's writer (`trail`, the one entry point; its parts: `actors`, `chain`, `append`) and
its two tables (`models`, app label `audits`)."""
