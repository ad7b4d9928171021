"""1+1 结对帮扶 (issue 16, item 5), home visits by the paired teacher, and the watch list of pupils at
risk (item 4): services, selectors, forms and pages of their own beside dropout control's."""
