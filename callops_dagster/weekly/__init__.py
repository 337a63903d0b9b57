"""The weekly report: its partitions, asset, job and schedule (pure logic: compliance/weekly.py)."""
