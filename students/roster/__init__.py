"""学籍名册导入: the roster import (template, safe reading, row validation, set-based upsert, report)."""
