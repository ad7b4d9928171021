"""家庭经济困难学生认定: nomination, the review chain, publicity and mid-year adjustment (services)."""
