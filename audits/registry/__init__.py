"""部门数据: importing the other departments' lists (registry snapshots) and their column mappings."""
